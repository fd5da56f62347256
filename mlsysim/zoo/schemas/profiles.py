"""Schema of ``profiles.yaml``: ``<stack>: {...}``, one execution profile per software stack."""
from ...ops import FUSIONS, QUANT_KERNELS, TRANSFORMER_KERNELS
from ..facts import (
    Bandwidth,
    DataSize,
    Time,
    block,
    choice,
    entries,
    flag,
    integer,
    items,
    names,
    number,
    register,
    required,
    text,
)

KERNELS = block(**{piece: required(choice(*options)) for piece, options in TRANSFORMER_KERNELS.items()},
                **dict.fromkeys(QUANT_KERNELS, required(integer(ge=0))), source=required(text))
#: a first-order profile's constants (mlsysim.execution.FirstOrder says what each one means)
FIRST_ORDER = block(efficiency=required(number(gt=0, le=1)), dispatch_s=required(entries(Time)),
                    default_dispatch_s=required(Time), layer_overhead_s=required(Time),
                    training_passes=required(integer(ge=1)), activation_traffic=required(number(ge=0)),
                    training_flops=required(number(gt=0)), recompute_training_flops=required(number(gt=0)),
                    training_state=required(number(gt=0)), lora_training_state=required(number(gt=0)),
                    cnn_flops_per_mac=required(number(gt=0)), offload_bandwidth=required(Bandwidth),
                    hfu_ratio=required(number(ge=1)), idle_power_fraction=required(number(ge=0, le=1)),
                    site=block(utilization=required(number(ge=0, le=1)), kwh_price_usd=required(number(ge=0)),
                               amortization_years=required(number(gt=0)), maintenance_per_year=required(number(ge=0)),
                               unit_cost_usd=required(number(ge=0)),
                               grids=required(entries(block(pue=required(number(ge=1)),
                                                            carbon_g_kwh=required(number(ge=0)),
                                                            wue_l_kwh=required(number(ge=0))))),
                               source=required(text)),
                    source=required(text))
PROFILE = block(name=required(text), aliases=names, launch=required(choice("eager", "graph")),
                host_dispatch=required(flag), host_ahead=required(flag), language_models_only=flag,
                fuses=required(items(choice(*FUSIONS))),
                kernels=required(KERNELS),
                precisions=required(block(kv_cache=required(text), activations=required(text))),
                runtime=required(block(bytes=required(DataSize), source=required(text))), first_order=FIRST_ORDER,
                source=required(text))

register("profiles", entries(PROFILE), entry_depth=1)
