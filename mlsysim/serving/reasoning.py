"""Test-time compute: what chain-of-thought steps and best-of-N sampling cost per query.

A reasoning query is one prefill of its prompt followed by ``K x tokens_per_step`` generated
tokens per sample. Each generated token attends to everything before it, so the inter-token
latency rises as the context grows; the decode time is the sum of the serving model's ITL over
every context the generation passes through (one ``ServingModel`` call over an array of
contexts), not one ITL times a token count. Best-of-N draws N samples from one prompt: the
prompt is prefilled once and its KV cache shared (prefix caching), and the N samples decode
together as a batch of N sequences. Energy is the engine's energy for each step; dollars are
the device's cost of ownership per second from ``EconomicsModel`` (or a cloud rate per
device-hour) over the seconds a query holds it; carbon and water follow from the grid.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.device import resident
from ..engine.engine import solve_step
from ..errors import InputError, OOMError
from ..models.families.base import LM_CONTEXT
from ..operations.economics import EconomicsModel
from ..operations.sustainability import KWH_J, resolve_site
from ..run import Layout, Run, check_sizes
from ..solver import Result, Solver, only_run, real
from ..units import SIValue, format_number, format_si, quantity
from .serving import serve

#: decode steps summed one by one; longer generations are sampled at this many contexts
EXACT_STEPS = 4096
SAMPLED_CONTEXTS = 2049


@dataclass(frozen=True)
class InferenceScalingResult(Result):
    """Per-query figures in SI (seconds, joules, dollars, kg); arrays when ``reasoning_steps`` is one.

    A query is one prompt answered with ``best_of_n`` samples of ``reasoning_steps x
    tokens_per_step`` tokens each; ``batch_size`` queries share the device(s) at once.
    """

    model_name: str
    hardware_name: str
    reasoning_steps: object
    tokens_per_step: float
    best_of_n: int
    batch_size: float
    prompt_len: float
    tp: int
    pp: int
    ttft_s: float
    decode_s: object
    latency_s: object
    itl_first_s: float
    itl_last_s: object
    tokens_per_sample: object
    tokens_generated: object
    prefill_energy_j: float
    decode_energy_j: object
    energy_per_query_j: object
    device_seconds_per_query: object
    usd_per_query: object
    owned_usd_per_query: object
    cloud_usd_per_query: object
    cost_basis: str
    carbon_per_query_kg: object
    water_per_query_liters: object
    kv_cache_bytes: object
    memory_bytes: object
    memory_capacity_bytes: float
    feasible: object
    decode_bound: str
    #: the serving model's result for the decode batch, over the contexts the generation passes
    serving_detail: object = field(default=None, repr=False, compare=False)

    # -- rates -----------------------------------------------------------------------------------
    @property
    def itl_s(self):
        """Mean inter-token latency over the generation."""
        steps = np.maximum(np.asarray(self.tokens_per_sample, dtype=float) - 1.0, 1.0)
        return real(self.decode_s / steps)

    @property
    def tokens_per_s(self):
        """Generated tokens per second of the device group (all queries, all samples)."""
        return self.tokens_generated * self.batch_size / self.latency_s

    @property
    def usd_per_million_tokens(self):
        return None if self.usd_per_query is None else self.usd_per_query / self.tokens_generated * 1e6

    # -- per 1,000 queries -------------------------------------------------------------------------
    @property
    def usd_per_1k_queries(self):
        return None if self.usd_per_query is None else 1e3 * self.usd_per_query

    @property
    def energy_per_1k_queries_kwh(self):
        """Device energy of 1,000 queries, in kWh (before the facility's PUE)."""
        return 1e3 * self.energy_per_query_j / KWH_J

    @property
    def carbon_per_1k_queries_kg(self):
        return None if self.carbon_per_query_kg is None else 1e3 * self.carbon_per_query_kg

    @property
    def water_per_1k_queries_liters(self):
        return None if self.water_per_query_liters is None else 1e3 * self.water_per_query_liters

    # -- 0.1.0 names, with units ---------------------------------------------------------------------
    @property
    def total_reasoning_time(self): return quantity(self.latency_s, "s")
    @property
    def ttft(self): return SIValue(self.ttft_s, "ms")
    @property
    def itl(self): return quantity(self.itl_s, "ms")
    @property
    def time_per_step(self): return quantity(self.decode_s / self.reasoning_steps, "s")
    @property
    def energy_per_query(self): return quantity(self.energy_per_query_j, "J")

    def summary(self) -> str:
        lat, tok = float(np.max(self.latency_s)), float(np.max(self.tokens_generated))
        cost = "" if self.usd_per_query is None else \
            f", ${format_number(1e3 * float(np.max(self.usd_per_query)))} per 1,000 queries ({self.cost_basis})"
        return (f"{tok:,.0f} tokens in {format_si(lat, 's')} (TTFT {format_si(self.ttft_s, 's')}), "
                f"{format_si(float(np.max(self.energy_per_query_j)), 'J')} per query{cost}")




class InferenceScalingModel(Solver):
    """The latency, energy and dollars of reasoning at inference time (wall 12)."""

    walls = (12,)
    needs = ("model", "hardware")

    def solve(self, model, hardware=None, reasoning_steps=8, context_length=LM_CONTEXT, precision="fp16",
              efficiency=None, *, tokens_per_step=50, best_of_n=1, batch_size=1, grid=None, datacenter=None,
              region=None, tp=1, pp=None, stack=None, weight_precision=None, kv_precision=None,
              activation_precision=None, cloud_rate_usd_hr=None, kwh_price=None, life_years=None,
              raise_errors=False) -> InferenceScalingResult:
        """Cost of answering a ``context_length``-token prompt with ``reasoning_steps`` steps of thought.

        ``model`` may be a :class:`~mlsysim.run.Run` (its ``prompt_len`` is the prompt, its batch the
        concurrent queries). ``reasoning_steps`` may be an array (a sweep over the depth of thought).
        Dollars are the device's cost of ownership (purchase written off over ``life_years`` plus
        maintenance and electricity) at full occupancy, or ``cloud_rate_usd_hr`` per device-hour when given
        (or when the device has no price but the pricing zoo lists a rate); ``owned_usd_per_query`` and
        ``cloud_usd_per_query`` report both where known. Carbon and water need a ``grid`` (or
        ``datacenter`` / ``region``).
        """
        if isinstance(model, Run):
            only_run(InferenceScalingModel.solve, locals())
            run = model
        else:
            run = Run.build(model, hardware, purpose="serving", prompt_len=_scalar("context_length", context_length),
                            batch_size=_scalar("batch_size", batch_size), precision=precision,
                            weight_precision=weight_precision, activation_precision=activation_precision,
                            kv_precision=kv_precision, stack=stack, efficiency=efficiency, tp=tp, pp=pp)
        run.refuse("InferenceScalingModel", "fleet", "ep", "past_len", "seq_len", "output_len")
        if run.site is not None and grid is None and datacenter is None and region is None:
            region = run.site.region                     # carbon and water where the run says it runs
        model, hw = run.workload, run.hardware
        if not model.family.decoder:
            raise InputError(f"{model.name} is not a decoder language model; reasoning needs one")
        K = check_sizes("reasoning_steps", reasoning_steps)
        per_step = _scalar("tokens_per_step", tokens_per_step)
        n = _scalar("best_of_n", best_of_n)
        if n != int(n):
            raise InputError(f"best_of_n must be a whole number of samples, got {best_of_n!r}")
        n = int(n)
        B = _scalar("batch_size", run.batch_size)
        P = _scalar("context_length", run.prompt_len if run.prompt_len is not None else run.context)
        T = K * per_step                                  # tokens each sample generates
        longest = P + float(np.max(T))
        if model.context_length and longest > model.context_length:
            raise InputError(f"{float(np.max(K)):g} steps x {per_step:g} tokens after a {P:g}-token prompt need "
                             f"{longest:g} tokens, beyond {model.name}'s context window of "
                             f"{model.context_length} tokens")

        # decode: the N samples of each query as one batch, at every context the generation passes
        J = float(np.max(T)) - 1.0                        # decode steps after the token the prefill emits
        exact = J <= EXACT_STEPS
        knots = np.arange(1.0, max(J, 1.0) + 1.0) if exact else np.linspace(1.0, J, SAMPLED_CONTEXTS)
        dec = serve(run.at(seq_len=P + knots, batch_size=B * n, prompt_len=P))
        run = run.at(layout=Layout(tp=run.layout.tp, pp=dec.pp))
        pre = dec if n == 1 else serve(run.at(prompt_len=P, batch_size=B))
        ttft = float(pre.ttft_s)
        steps = T - 1.0
        itl = np.asarray(dec.itl_s, dtype=float)
        decode_s = _running_sum(knots, itl, steps, exact)
        decode_j = _running_sum(knots, np.asarray(dec.energy_per_token_j, dtype=float) * B * n, steps, exact)

        # prefill energy: the engine's prefill step on the same shard, at its power, for the TTFT
        view = model.family.shard(model, int(dec.tp), dec.pp, 1).view
        prof = solve_step(run.at(workload=view, hardware=resident(hw), layout=Layout(), prompt_len=None,
                                 phase="prefill", batch_size=B, seq_len=P))
        devices = int(dec.tp) * dec.pp
        pp = dec.pp
        prefill_j = float(prof.energy_j) / float(prof.latency_s) * devices * ttft if prof.latency_s else 0.0

        # memory: the prompt's KV once per query, each sample's own tokens on top
        unshared = np.interp(np.maximum(steps, 1.0), knots, np.broadcast_to(dec.kv_cache_bytes, knots.shape))
        if n > 1:
            ctx = P + np.maximum(steps, 1.0)
            full = model.kv_cache_bytes(ctx, B * n)
            unshared = unshared * (model.kv_cache_bytes(P, B) + full - model.kv_cache_bytes(P, B * n)) / full
        acts = float(np.max(dec.activation_bytes))
        memory = dec.weights_bytes + unshared + acts
        capacity = dec.memory_capacity_bytes
        feasible = memory <= capacity
        if raise_errors and not np.all(feasible):
            need = float(np.max(memory))
            raise OOMError(f"{model.name} with {n} samples of {float(np.max(T)):g} tokens needs "
                           f"{format_si(need, 'B')} per device but {hw.name} has {format_si(capacity, 'B')}",
                           required_bytes=need, available_bytes=capacity)

        latency = ttft + decode_s
        energy = (prefill_j + decode_j) / B
        device_s = devices * latency / B
        notes = [f"one prefill of the {P:g}-token prompt per query; {n} sample(s) of {_fmt(T)} tokens decode as a "
                 f"batch of {B * n:g} sequences" + (" sharing the prompt's KV cache (prefix caching)" if n > 1
                                                    else ""),
                 "decode time: the serving ITL summed over every context from the prompt to the last token"
                 + ("" if exact else f" (sampled at {SAMPLED_CONTEXTS} contexts)"),
                 "energy: the engine's prefill and decode steps on the device(s); host, network and idle time "
                 "between queries not counted",
                 f"{devices} device(s) held for the whole answer by {B:g} concurrent quer{'y' if B == 1 else 'ies'}",
                 *dec.assumptions]
        if n > 1:
            notes.append("each sample's attention still reads the shared prompt (no cascade-attention saving); "
                         "selecting the best sample (vote or verifier) is not counted")

        cost = _costs(hw, energy, device_s, grid, datacenter, region, cloud_rate_usd_hr, kwh_price, life_years,
                      notes)
        bound = dec.decode_bound if isinstance(dec.decode_bound, str) else str(np.asarray(dec.decode_bound)[-1])
        if not np.all(feasible):
            binding = (f"memory: {format_si(float(np.max(memory)), 'B')} of weights and KV cache exceed "
                       f"{format_si(capacity, 'B')} per device")
        else:
            share = float(np.max(decode_s / latency))
            binding = (f"decode {bound.lower()}-bound: generating takes {share:.0%} of the answer; ITL "
                       f"{format_si(float(itl[0]), 's')} at {P + 1:,.0f} tokens of context, "
                       f"{format_si(float(itl[-1]), 's')} at {P + knots[-1]:,.0f}")
        return InferenceScalingResult(
            model_name=model.name, hardware_name=hw.name, reasoning_steps=K, tokens_per_step=per_step, best_of_n=n,
            batch_size=B, prompt_len=P, tp=int(dec.tp), pp=pp, ttft_s=ttft, decode_s=real(decode_s),
            latency_s=real(latency), itl_first_s=float(itl[0]),
            itl_last_s=real(np.interp(np.maximum(steps, 1.0), knots, itl)), tokens_per_sample=real(T),
            tokens_generated=real(n * T), prefill_energy_j=prefill_j / B, decode_energy_j=real(decode_j / B),
            energy_per_query_j=real(energy), device_seconds_per_query=real(device_s), **cost,
            kv_cache_bytes=real(unshared), memory_bytes=real(memory), memory_capacity_bytes=capacity,
            feasible=bool(feasible) if np.ndim(feasible) == 0 else np.asarray(feasible), decode_bound=bound,
            serving_detail=dec, assumptions=tuple(notes), binding=binding)


def _scalar(name, value) -> float:
    x = check_sizes(name, value)
    if np.ndim(x):
        raise InputError(f"{name} takes one value; sweep reasoning_steps, or call once per {name}")
    return float(x)


def _fmt(x) -> str:
    return f"{float(x):g}" if np.ndim(x) == 0 else f"{float(np.min(x)):g}-{float(np.max(x)):g}"


def _running_sum(knots, f, upto, exact):
    """Sum of f(j) for j = 1 ... ``upto``, from f at ``knots``.

    Exact when the knots are every whole step (a cumulative sum, read by interpolation so a
    fractional ``upto`` is linear between steps); otherwise the trapezoid integral from 1 to
    ``upto`` plus half of each end (Euler-Maclaurin), exact for an f linear in the step.
    """
    upto = np.asarray(upto, dtype=float)
    if exact:
        return real(np.interp(upto, np.r_[0.0, knots], np.r_[0.0, np.cumsum(f)]))
    integral = np.r_[0.0, np.cumsum((f[1:] + f[:-1]) / 2.0 * np.diff(knots))]
    total = np.interp(upto, knots, integral) + (f[0] + np.interp(upto, knots, f)) / 2.0
    return real(np.where(upto >= 1.0, total, upto * f[0]))


def _costs(hw, energy_j, device_s, grid, datacenter, region, cloud_rate, kwh_price, life_years, notes) -> dict:
    """Dollars, carbon and water per query from its device energy and device-seconds."""
    out = dict(usd_per_query=None, owned_usd_per_query=None, cloud_usd_per_query=None, cost_basis="none",
               carbon_per_query_kg=None, water_per_query_liters=None)
    if not hw.tdp:
        notes.append(f"{hw.name} has no published power figure: no energy cost, carbon or water")
        if cloud_rate is not None:
            out.update(usd_per_query=real(float(cloud_rate) * device_s / 3600.0), cost_basis="cloud")
            out["cloud_usd_per_query"] = out["usd_per_query"]
        return out
    econ = EconomicsModel().solve(hw, 1.0, grid=grid, datacenter=datacenter, region=region,
                                  cloud_rate_usd_hr=cloud_rate, kwh_price=kwh_price, life_years=life_years)
    facility_kwh = energy_j * econ.pue / KWH_J
    owning_per_s = (econ.capex_usd + econ.maintenance_usd) / econ.duration_s
    owned = owning_per_s * device_s + facility_kwh * econ.kwh_price_usd
    cloud = None if econ.cloud_rate_usd_hr is None else econ.cloud_rate_usd_hr * device_s / 3600.0
    out.update(owned_usd_per_query=real(owned), cloud_usd_per_query=None if cloud is None else real(cloud))
    if cloud is not None and (cloud_rate is not None or not hw.unit_cost):
        out.update(usd_per_query=out["cloud_usd_per_query"], cost_basis="cloud")
        notes.append(f"dollars: ${econ.cloud_rate_usd_hr:g} per {hw.name}-hour for the seconds a query holds it"
                     + ("" if cloud_rate is not None else " (pricing zoo)"))
    else:
        out.update(usd_per_query=out["owned_usd_per_query"], cost_basis="owned")
        notes.append(f"dollars: owning {hw.name} (${format_number(owning_per_s * 3600)} per device-hour of write-off "
                     "and "
                     f"maintenance over {econ.life_years:g} years, at full occupancy) plus electricity at "
                     f"${econ.kwh_price_usd:g}/kWh x PUE {econ.pue:g} in {econ.region_name}"
                     + ("" if hw.unit_cost else f"; {hw.name} has no price in the zoo, so electricity only"))
    if any(x is not None for x in (grid, datacenter, region)):
        site = resolve_site(datacenter, grid, region)
        out["carbon_per_query_kg"] = real(facility_kwh * site.grid.carbon_intensity_kg_kwh)
        out["water_per_query_liters"] = real(site.wue * energy_j / KWH_J + (site.grid.grid_water_l_kwh or 0.0)
                                           * facility_kwh)
        notes.append(f"carbon: {site.grid.carbon_intensity_g_kwh:g} gCO2e/kWh x PUE {site.pue:g} ({site.region_name})")
    return out


__all__ = ["InferenceScalingModel", "InferenceScalingResult"]
