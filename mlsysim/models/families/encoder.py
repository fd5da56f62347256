"""Encoder transformers (BERT, ...): bidirectional attention over the whole sequence, no LM head.

The layer is the decoder's; only the attention sees every position (the full square, not
the causal half), nothing is cached, the embeddings add token-type (segment) embeddings and a
LayerNorm, the default step is one forward pass over a 128-token sequence, and no logits are
produced.
"""
from __future__ import annotations

from ...ops import OpBuilder
from .decoder import DecoderFamily, embeddings


class EncoderFamily(DecoderFamily):
    name = "encoder"
    decoder = False
    default_seq_len = 128

    def default_phase(self, w, training: bool) -> str:
        return "train" if training else "forward"

    def embed(self, ops: OpBuilder, m, T, p, kernels, training: bool) -> None:
        """Token, position (when learned) and token-type lookups, summed and LayerNorm-ed
        (transformers BertEmbeddings.forward)."""
        embeddings(ops, T, m.hidden_dim, p, 3 if m.positions == "learned" else 2, kernels, True, training)

    def head(self, ops: OpBuilder, m, T, B, p, logits_all) -> None:
        """An encoder ends at its last layer's hidden states."""
