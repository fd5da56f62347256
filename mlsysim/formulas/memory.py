"""Memory footprints: KV cache (contiguous and paged), activations, weights and checkpoints.

SI cores (``*_si``: bytes, floats or NumPy arrays) for the solvers; unit-checked public formulas
that return pint Quantities in bytes. Counts are plain numbers; bytes per element are data sizes.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._check import link, number, result, si

#: recompute strategies of Korthikanti et al. (2023), "Reducing Activation Recomputation in Large
#: Transformer Models", Table 2 (tensor parallelism t, no sequence parallelism)
ACTIVATION_STRATEGIES = ("none", "selective", "full")
#: checkpointed bytes per parameter, mixed-precision Adam: 2 (16-bit weights) + 4 (fp32 master) + 4 + 4 (moments)
ADAM_CHECKPOINT_BYTES = 14.0


# --- SI cores ----------------------------------------------------------------------------------------
def kv_cache_si(layers, kv_heads, head_dim, seq_len, batch, bytes_per_elem):
    """Size = 2 · L · H_kv · d_head · S · B · bytes (K and V for every layer, head and token)."""
    return 2 * layers * kv_heads * head_dim * seq_len * batch * bytes_per_elem


def paged_tokens_si(seq_len, page_size):
    """Tokens a paged allocator reserves: ⌈S / page⌉ · page (Kwon et al. 2023, PagedAttention)."""
    return np.ceil(seq_len / page_size) * page_size


def paged_kv_cache_si(layers, kv_heads, head_dim, seq_len, batch, bytes_per_elem, page_size=16):
    """Size = 2 · L · H_kv · d_head · ⌈S/page⌉·page · B · bytes."""
    return kv_cache_si(layers, kv_heads, head_dim, paged_tokens_si(seq_len, page_size), batch, bytes_per_elem)


def page_fragmentation_si(seq_len, page_size):
    """Fraction of the reserved pages left empty: (⌈S/page⌉·page − S) / (⌈S/page⌉·page)."""
    padded = paged_tokens_si(seq_len, page_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(padded > 0, (padded - seq_len) / np.where(padded > 0, padded, 1.0), 0.0)


def activation_memory_si(layers, seq_len, batch, hidden, heads=None, strategy="selective", precision_bytes=1.0,
                         tensor_parallel=1):
    """Bytes = L · s·b·h · c, with c (mixed-precision byte widths included) from Korthikanti et al. (2023),
    Table 2: no recompute 10 + 24/t + 5·a·s/(h·t); selective recompute 10 + 24/t; full recompute 2.
    The 5·a·s/(h·t) attention term needs the head count a; without it it is left out."""
    if strategy not in ACTIVATION_STRATEGIES:
        raise InputError(f"strategy must be one of {', '.join(ACTIVATION_STRATEGIES)}, got {strategy!r}")
    if strategy == "full":
        c = 2.0
    else:
        c = 10.0 + 24.0 / tensor_parallel
        if strategy == "none" and heads is not None:
            c = c + 5.0 * heads * seq_len / (hidden * tensor_parallel)
    return layers * seq_len * batch * hidden * c * precision_bytes


def weights_si(params, bytes_per_param):
    """Size = N · bytes per parameter."""
    return params * bytes_per_param


def checkpoint_size_si(params, bytes_per_param=ADAM_CHECKPOINT_BYTES):
    """Size = N · bytes per parameter (14 for mixed-precision Adam; gradients are not saved)."""
    return params * bytes_per_param


# --- unit-checked public formulas ------------------------------------------------------------------
def _shape(layers, kv_heads, head_dim, seq_len, batch_size):
    return (number(layers, "layers", minimum=0), number(kv_heads, "kv_heads", minimum=0),
            number(head_dim, "head_dim", minimum=0), number(seq_len, "seq_len", minimum=0),
            number(batch_size, "batch_size", minimum=0))


@link(kv_cache_si)
def kv_cache_size(layers, kv_heads, head_dim, seq_len, batch_size=1, bytes_per_elem="2 B"):
    """KV cache of autoregressive decoding: 2 · L · H_kv · d_head · S · B · bytes (Pope et al. 2023, §2)."""
    return result(kv_cache_si(*_shape(layers, kv_heads, head_dim, seq_len, batch_size),
                              si(bytes_per_elem, "data size", "bytes_per_elem")), "data size")


@link(paged_kv_cache_si)
def paged_kv_cache_size(layers, kv_heads, head_dim, seq_len, batch_size=1, bytes_per_elem="2 B", page_size=16):
    """KV cache in ``page_size``-token blocks: 2 · L · H_kv · d_head · ⌈S/page⌉·page · B · bytes
    (Kwon et al. 2023, "Efficient Memory Management for LLM Serving with PagedAttention")."""
    return result(paged_kv_cache_si(*_shape(layers, kv_heads, head_dim, seq_len, batch_size),
                                    si(bytes_per_elem, "data size", "bytes_per_elem"),
                                    number(page_size, "page_size", minimum=1)), "data size")


@link(page_fragmentation_si)
def page_fragmentation(seq_len, page_size=16):
    """Internal fragmentation of the last page: (⌈S/page⌉·page − S) / (⌈S/page⌉·page) (Kwon et al. 2023)."""
    frag = page_fragmentation_si(number(seq_len, "seq_len", minimum=0), number(page_size, "page_size", minimum=1))
    return frag if np.ndim(frag) else float(frag)


@link(activation_memory_si)
def activation_memory(layers, seq_len, batch_size, hidden_dim, heads=None, strategy="selective",
                      precision_bytes=1.0, tensor_parallel=1):
    """Training activations kept for the backward pass: L · s·b·h · c bytes with c = 10 + 24/t (+ 5·a·s/(h·t)
    without any recompute) or 2 with full recompute (Korthikanti et al. 2023, Table 2; t = 1: 34 and 2).
    ``precision_bytes`` multiplies (the coefficients already hold mixed-precision byte widths)."""
    return result(activation_memory_si(
        number(layers, "layers", minimum=0), number(seq_len, "seq_len", minimum=0),
        number(batch_size, "batch_size", minimum=0), number(hidden_dim, "hidden_dim", minimum=1),
        None if heads is None else number(heads, "heads", minimum=1), strategy,
        number(precision_bytes, "precision_bytes", minimum=0),
        number(tensor_parallel, "tensor_parallel", minimum=1)), "data size")


@link(weights_si)
def weights_size(params, bytes_per_param):
    """Model weights: N · bytes per parameter."""
    return result(weights_si(number(params, "params", minimum=0),
                             si(bytes_per_param, "data size", "bytes_per_param")), "data size")


@link(checkpoint_size_si)
def checkpoint_size(params, bytes_per_param="14 B"):
    """Training checkpoint: N · bytes per parameter; 14 B for mixed-precision Adam (2 weights + 4 master +
    4 + 4 moments; gradients are remade, not saved) (Rajbhandari et al. 2020, ZeRO §3)."""
    return result(checkpoint_size_si(number(params, "params", minimum=0),
                                     si(bytes_per_param, "data size", "bytes_per_param")), "data size")


__all__ = ["ACTIVATION_STRATEGIES", "ADAM_CHECKPOINT_BYTES", "activation_memory", "activation_memory_si",
           "checkpoint_size", "checkpoint_size_si", "kv_cache_si", "kv_cache_size", "page_fragmentation",
           "page_fragmentation_si", "paged_kv_cache_si", "paged_kv_cache_size", "paged_tokens_si", "weights_si",
           "weights_size"]
