"""Diffusion models known by the FLOPs of one denoising step: a generation runs every step, each
reading the weights again."""
from __future__ import annotations

from .base import Family


class DiffusionFamily(Family):
    name = "diffusion"

    def weight_reads(self, w) -> float:
        return float(w.denoising_steps)
