"""Workload families: each knows its operators per phase, its memory, its KV cache and its shards.

A workload record names its family (``workload.family``); adding a family is one module here
with one class, plus its zoo entries.
"""
from .base import Family, Shard, TrainingState
from .cnn import CNNFamily
from .decoder import DecoderFamily
from .diffusion import DiffusionFamily
from .encoder import EncoderFamily
from .mla import MLAFamily, MLAMoEFamily
from .moe import MoEFamily
from .ssm import SSMFamily

GENERIC, DECODER, ENCODER, MOE, MLA, MLA_MOE, CNN, SSM, DIFFUSION = (
    Family(), DecoderFamily(), EncoderFamily(), MoEFamily(), MLAFamily(), MLAMoEFamily(), CNNFamily(), SSMFamily(),
    DiffusionFamily())

__all__ = ["Family", "Shard", "TrainingState", "lower", "GENERIC", "DECODER", "ENCODER", "MOE", "MLA", "MLA_MOE",
           "CNN", "SSM", "DIFFUSION"]


def lower(workload, phase: str, batch, seq_len, precisions, **options):
    """The operator table of ``workload`` in ``phase`` (its family's lowering; see ``Family.lower``)."""
    return workload.family.lower(workload, phase, batch, seq_len, precisions, **options)
