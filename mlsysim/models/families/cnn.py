"""Convolutional and other vision networks generated layer by layer (``models.vision``).

Each generated layer becomes one operator with its real shape: convolutions as implicit GEMMs
(depthwise ones on the vector units), linears as GEMMs, ViT attention as prefill-style
attention, pools, norms, activations and adds as memory-bound kernels. A stack that fuses
convolution epilogues folds the norms, activations and adds into the convolution before them.
"""
from __future__ import annotations

from functools import lru_cache

from ...ops import ATTN_PREFILL, CONV, DWCONV, OpBuilder
from .base import Family


class CNNFamily(Family):
    name = "cnn"
    group = "vision"
    sample = "image"

    def forward(self, ops: OpBuilder, m, phase, B, S, p, *, past, stack, logits_all) -> None:
        a, w = p.a, p.w
        fused_epilogues = "conv_epilogue" in stack.fuses
        for layer in m.layer_list():
            kind = layer.kind
            if kind == "conv":
                hw_out = layer.h_out * layer.w_out
                depthwise = layer.groups > 1 and layer.groups == layer.cin
                K = layer.cin // layer.groups * layer.k * (layer.kw or layer.k)
                nbytes = B * (layer.cin * layer.h_in * layer.w_in + layer.cout * hw_out) * a + layer.params * w
                ops.add(layer.name, "conv", DWCONV if depthwise else CONV, 2.0 * B * layer.macs, nbytes,
                        B * hw_out, layer.cout // layer.groups, K, layer.groups)
            elif kind == "linear":
                ops.gemm(layer.name, B * max(layer.tokens, 1), layer.cout, layer.cin, w)
            elif kind == "attention":
                S_, H, d = layer.tokens, layer.heads, layer.head_dim
                ops.add(layer.name, "attention", ATTN_PREFILL, 4.0 * B * H * S_ * S_ * d, 4 * B * S_ * H * d * a,
                        S_, S_, d, B * H)
            elif kind == "pool":
                ops.memory(layer.name, "pool", B * (layer.elements * 2 + layer.cin * layer.h_in * layer.w_in) * a)
            elif not fused_epilogues:    # norm / act / residual add: own kernels, or folded into the conv epilogue
                reads = 2 if kind == "add" else 1
                ops.memory(layer.name, kind, B * layer.elements * (reads + 1) * a, flops=B * layer.elements)

    def weight_bytes(self, m, p) -> float:
        return m.parameter_count() * p.w

    def activation_bytes(self, m, phase, B, S, p, recompute: bool):
        total, widest = _output_elements(m)
        if phase == "train":
            return B * total * p.a * 2.0               # outputs and pre-activations kept for backward
        return B * 2 * widest * p.a                    # input and output of the widest layer


@lru_cache(maxsize=256)
def _output_elements(m) -> tuple[int, int]:
    """(sum, max) over layers of the elements each layer outputs per image."""
    sizes = [layer.cout * layer.h_out * layer.w_out if layer.kind == "conv" else layer.elements
             for layer in m.layer_list()]
    return sum(sizes), max(sizes)
