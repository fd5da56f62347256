"""Schema of ``profiles.yaml``: ``<stack>: {...}``, one execution profile per software stack."""
from ...ops import FUSIONS, QUANT_KERNELS, TRANSFORMER_KERNELS
from ..facts import DataSize, block, choice, entries, flag, integer, items, names, register, required, text

KERNELS = block(**{piece: required(choice(*options)) for piece, options in TRANSFORMER_KERNELS.items()},
                **dict.fromkeys(QUANT_KERNELS, required(integer(ge=0))), source=required(text))
PROFILE = block(name=required(text), aliases=names, launch=required(choice("eager", "graph")),
                host_dispatch=required(flag), host_ahead=required(flag), language_models_only=flag,
                fuses=required(items(choice(*FUSIONS))),
                kernels=required(KERNELS),
                precisions=required(block(kv_cache=required(text), activations=required(text))),
                runtime=required(block(bytes=required(DataSize), source=required(text))), source=required(text))

register("profiles", entries(PROFILE), entry_depth=1)
