"""Schema of ``calibration.yaml``: the timing model's constants, every one required (no code default
stands in for a missing one)."""
from ...ops import KIND_NAMES, PREC_NAMES
from ..facts import block, number, positive, register, required

CONSTANT = number(ge=0)
PER_PRECISION = block(**{p: required(CONSTANT) for p in PREC_NAMES})
PER_KIND = block(**{k: required(CONSTANT) for k in KIND_NAMES})

SCHEMA = block(
    compute=required(block(
        max_fraction=required(PER_PRECISION), k_half=required(PER_PRECISION),
        k_half_unit_flops=required(PER_PRECISION),
        **{k: required(positive) for k in ("tile_m", "tile_n", "conv_fraction", "misaligned_fraction", "split_k_min",
                                           "attn_fraction", "attn_backward_fraction", "attn_tile_q",
                                           "decode_tile_rows", "vector_fraction", "fused_fraction")},
        **{k: required(CONSTANT) for k in ("min_tile", "conv_k_half", "attn_kv_half")})),
    memory=required(block(fraction=required(PER_KIND), unit_bytes_per_cycle=required(PER_KIND),
                          ramp_latency_s=required(CONSTANT))),
    launch=required(block(per_kernel_s=required(block(eager=required(CONSTANT), graph=required(CONSTANT))),
                          kernels=required(PER_KIND), eager_dispatch_s=required(PER_KIND))),
    measurement=required(block(**{k: required(CONSTANT) for k in ("event_latency_s", "boost_time_ratio",
                                                                  "boost_tau_s", "l2_retained_fraction")})),
)

register("calibration", SCHEMA, entry_depth=1)
