"""The question asked backwards about money: which device in the zoo serves a model at a request rate within a
latency target for the least purchase price, and how many of it.

Each candidate (a device with a list price, at each tensor-parallel degree the model splits into) is sized by
ServingCapacityModel: the fewest replicas whose P99 request latency meets the target. Its cost is replicas x
tp x the device's list price (zoo ``price_usd``, with its source). Devices the zoo has no price for are left
out and counted, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..run import resolve_hardware, resolve_model, whole
from ..serving.capacity import ServingCapacityModel, latency_target
from ..solver import Result, Solver
from ..units import format_number, format_si, parse

#: tensor-parallel degrees tried per device (replicas of tp devices over a scale-up link)
TP_DEGREES = (1, 2, 4, 8)


@dataclass(frozen=True)
class Candidate:
    hardware_key: str
    hardware_name: str
    tp: int
    replicas: int
    devices: int
    price_usd: float
    cost_usd: float
    p99_latency_s: float
    price_source: str


@dataclass(frozen=True)
class CheapestResult(Result):
    """The cheapest deployment that meets the target, and every one that does, cheapest first."""

    model_name: str
    qps: float
    target_p99_latency_s: float
    best: Candidate | None
    candidates: tuple[Candidate, ...]
    #: (device, why) of each device that could not meet the target at any tensor-parallel degree tried
    rejected: tuple[tuple[str, str], ...]
    unpriced: tuple[str, ...]

    def summary(self) -> str:
        if self.best is None:
            return f"no priced device in the zoo serves {self.model_name} at {format_number(self.qps)} QPS within " \
                   f"a P99 of {format_si(self.target_p99_latency_s, 's')}"
        b = self.best
        return (f"{b.replicas} x {b.tp} {b.hardware_name} (${b.cost_usd:,.0f}) serve {self.model_name} at "
                f"{format_number(self.qps)} QPS, P99 {format_si(b.p99_latency_s, 's')} within "
                f"{format_si(self.target_p99_latency_s, 's')}")


class CheapestHardwareModel(Solver):
    """The least purchase price of devices that serve a load within a P99 latency target."""

    needs = ("model", "qps", "target_p99_latency")

    def solve(self, model, qps=None, target_p99_latency=None, prompt_len=None, output_len=None, precision="fp16", *,
              hardware=None, stack=None, max_replicas=1024, service_cv=None, top=10, progress=None) -> CheapestResult:
        """Every zoo device with a list price (or those in ``hardware``, a list of names) at tp 1, 2, 4, 8:
        the fewest replicas meeting ``target_p99_latency`` at ``qps`` requests/s of ``prompt_len`` prompt and
        ``output_len`` generated tokens; the ``top`` cheapest (device, tp) deployments are kept."""
        m = resolve_model(model)
        if qps is None:
            raise InputError("qps is required (the request rate to serve, requests per second)")
        lam = parse(qps, "1/s", "qps", positive=True)
        target = latency_target(target_p99_latency, None, "target_p99_latency")
        keep = whole("top", top)
        devices = _devices(hardware)
        unpriced = tuple(key for key, hw in devices if not hw.unit_cost)
        found, rejected = [], []
        for done, (key, hw) in enumerate(devices, 1):
            if progress is not None:
                progress(done, len(devices))
            if not hw.unit_cost:
                continue
            reasons = []
            for tp in TP_DEGREES:
                if m.heads % tp:
                    continue
                try:
                    r = ServingCapacityModel().solve(m, hw, qps=lam, target_p99_latency=target,
                                                     prompt_len=prompt_len, output_len=output_len,
                                                     precision=precision, tp=tp, stack=stack,
                                                     max_replicas=max_replicas, service_cv=service_cv)
                except InputError as exc:        # a precision the device lacks, a split the model cannot take
                    reasons.append(str(exc))
                    break
                if not r.feasible:
                    reasons.append(f"tp={tp}: {r.binding}")
                    continue
                price = float(hw.unit_cost)
                found.append(Candidate(key, hw.name, tp, r.required_replicas, r.required_replicas * tp, price,
                                       r.required_replicas * tp * price, float(r.estimated_p99_latency_s),
                                       hw.metadata.sources.get("price_usd", hw.metadata.source)))
            if not any(c.hardware_key == key for c in found):
                rejected.append((key, reasons[-1] if reasons else "no tensor-parallel degree divides the heads"))
        found.sort(key=lambda c: (c.cost_usd, c.devices))
        best = found[0] if found else None
        return CheapestResult(
            model_name=m.name, qps=lam, target_p99_latency_s=target, best=best, candidates=tuple(found[:keep]),
            rejected=tuple(rejected), unpriced=unpriced,
            binding=(f"{best.hardware_name}: {best.replicas} replica(s) of tp={best.tp} at ${best.price_usd:,.0f} "
                     f"each device" if best else "no priced device meets the target"),
            assumptions=("cost = replicas x tp x the device's list price (zoo price_usd): purchase, not power or "
                         "hosting", "every device at tensor-parallel degrees 1, 2, 4 and 8 (those dividing the "
                         "heads); a faster replica may need fewer devices in all",
                         "replicas sized by ServingCapacityModel (continuous batching, M/G/c queue, P99)",
                         f"{len(unpriced)} device(s) without a list price in the zoo left out"))


def _devices(hardware) -> list:
    if hardware is None:
        from ..hardware.registry import Hardware
        return [(key, hw) for key, hw in Hardware.items()]
    if isinstance(hardware, str):
        hardware = [hardware]
    return [(name if isinstance(name, str) else name.name, resolve_hardware(name)) for name in hardware]

