"""Compute-optimal scaling (wall 11): Chinchilla parameters and tokens for a training budget."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError, UnitError
from ..formulas.training import TRAIN_FLOPS_PER_PARAM_TOKEN
from ..run import positive, resolve_hardware
from ..solver import Result, Solver
from ..units import format_si, parse

#: compute-optimal tokens per parameter (Hoffmann et al. 2022, Chinchilla: 70B parameters, 1.4T tokens)
CHINCHILLA_TOKENS_PER_PARAM = 20.0
#: sustained MFU assumed when the budget is given as accelerator time
REFERENCE_MFU = 0.40


@dataclass(frozen=True)
class ScalingResult(Result):
    """Compute-optimal model size and data for a training budget."""

    compute_budget_flops: float
    optimal_parameters: float
    optimal_tokens: float
    tokens_per_parameter: float

    def summary(self) -> str:
        return (f"C = {self.compute_budget_flops:.3g} FLOP: {self.optimal_parameters / 1e9:,.1f} B parameters on "
                f"{self.optimal_tokens / 1e12:,.2f} T tokens ({self.tokens_per_parameter:.0f} tokens/parameter)")


class ScalingModel(Solver):
    """Chinchilla compute-optimal parameters and tokens (C = 6 N D, D/N = 20) — wall 11."""

    walls = (11,)

    def solve(self, compute_budget=None, target_model_size=None, *, compute_budget_flops=None, hardware=None,
              mfu=REFERENCE_MFU, tokens_per_parameter=CHINCHILLA_TOKENS_PER_PARAM) -> ScalingResult:
        """Split ``compute_budget`` (FLOP, or accelerator time on ``hardware``, default H100, at ``mfu``)
        into parameters N and tokens D. With ``target_model_size`` N is fixed and D = C / 6N."""
        budget = compute_budget if compute_budget is not None else compute_budget_flops
        if budget is None:
            raise InputError("compute_budget is required (FLOP, e.g. 5.88e23, or accelerator time, e.g. '1000 days')")
        notes = ["C = 6 N D (Kaplan et al. 2020); compute-optimal D/N = 20 (Hoffmann et al. 2022, Chinchilla)"]
        try:
            c = parse(budget, "FLOP", "compute_budget", positive=True)
        except UnitError:
            t = parse(budget, "s", "compute_budget", positive=True)
            hw = resolve_hardware(hardware or "H100")
            u = positive("mfu", mfu)
            if u > 1:
                raise InputError(f"mfu must be in (0, 1], got {mfu!r}") from None
            c = t * hw.peak_at("bf16") * u
            notes.append(f"budget {format_si(t, 's')} of {hw.name} at {u:.0%} MFU (bf16 dense peak)")
        k = positive("tokens_per_parameter", tokens_per_parameter)
        if target_model_size is not None:
            n = parse(target_model_size, "", "target_model_size", positive=True)
            d = c / (TRAIN_FLOPS_PER_PARAM_TOKEN * n)
            notes.append("model size given: tokens = C / 6N")
        else:
            n = math.sqrt(c / (TRAIN_FLOPS_PER_PARAM_TOKEN * k))
            d = k * n
        return ScalingResult(compute_budget_flops=c, optimal_parameters=n, optimal_tokens=d,
                             tokens_per_parameter=d / n, assumptions=tuple(notes),
                             binding="compute budget" + (" at the given model size" if target_model_size else ""))


__all__ = ["ScalingModel", "ScalingResult"]
