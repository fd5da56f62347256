"""Queueing, continuous batching, serving capacity and the batching optimizer: known answers,
the physics they must respect, and the errors a user sees."""
import math

import numpy as np
import pytest

from mlsysim.errors import InputError
from mlsysim.optimize.batching import BatchingOptimizer
from mlsysim.serving import capacity as cap_module
from mlsysim.serving.batching import (
    ContinuousBatchingModel,
    capped_exponential_scale,
    expected_pages,
)
from mlsysim.serving.capacity import ServingCapacityModel
from mlsysim.serving.queueing import (
    TailLatencyModel,
    erlang_b,
    erlang_c,
    response_tail,
)
from mlsysim.units import SIValue

tail = TailLatencyModel().solve
batching = ContinuousBatchingModel().solve
LLAMA_8K = dict(model="Llama3_8B", hardware="H100", max_seq_len=8192, mean_request_tokens=2048)


# --- Erlang C and the M/M/c percentiles ------------------------------------------------------------
def test_erlang_c_two_servers():
    """c=2, λ=1, μ=1 (a=1, ρ=1/2): a²/2!/(1-ρ) = 1 against 1 + a = 2, so P(wait) = 1/(2+1) = 1/3."""
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)
    assert tail(1.0, 1.0, 2).wait_probability == pytest.approx(1 / 3)


def test_erlang_c_three_servers_and_one():
    """c=3, a=2: a³/3!/(1-2/3) = 4 against 1 + 2 + 2 = 5, so P(wait) = 4/9; one server waits with P = ρ."""
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9)
    np.testing.assert_allclose(erlang_c(np.array([0.1, 0.5, 0.9]), 1), [0.1, 0.5, 0.9])


def test_erlang_b_recursion_matches_the_log_space_sum_for_thousands_of_servers():
    """B = (a^c/c!) / Σ_{k≤c} a^k/k!, summed in log space with lgamma: no overflow at c = 2000."""
    def log_space(a, c):
        logs = np.array([k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)])
        top = logs.max()
        return math.exp(logs[-1] - top - math.log(np.exp(logs - top).sum()))

    for a, c in [(1900.0, 2000), (1500.0, 2000), (30.0, 40), (0.5, 3)]:
        assert erlang_b(a, c) == pytest.approx(log_space(a, c), rel=1e-9)
    loads = np.array([1500.0, 1900.0, 1990.0])
    assert np.all(np.isfinite(erlang_c(loads, 2000))) and np.all(np.diff(erlang_c(loads, 2000)) > 0)
    np.testing.assert_allclose(erlang_b(1900.0, np.array([1950, 2000])), [erlang_b(1900.0, 1950),
                                                                         erlang_b(1900.0, 2000)])


def test_mm1_response_time_is_exponential():
    """M/M/1 sojourn time is Exp(μ - λ): λ = 8/s, s = 0.1 s gives P50 = ln 2/2 s, P99 = ln 100/2 s."""
    r = tail(8.0, 0.1, 1)
    assert r.utilization == pytest.approx(0.8) and r.is_stable
    assert r.p50_response_s == pytest.approx(math.log(2) / 2.0, rel=1e-9)
    assert r.p99_response_s == pytest.approx(math.log(100) / 2.0, rel=1e-9)
    assert r.mean_wait_s == pytest.approx(0.8 / 2.0)                     # ρ / (μ - λ)
    assert r.p99_wait_s == pytest.approx(math.log(0.8 / 0.01) / 2.0)     # P(W > t) = ρ e^-(μ-λ)t
    assert isinstance(r.p99_latency, SIValue) and r.p99_latency.magnitude == pytest.approx(1000 * r.p99_response_s)


def test_deterministic_service_adds_its_time_to_the_wait():
    r = tail(3.0, 1.0, 4, 0.0)
    assert r.p99_response_s == pytest.approx(r.p99_wait_s + 1.0)
    assert r.p50_response_s == pytest.approx(r.p50_wait_s + 1.0)


@pytest.mark.parametrize("cv", [0.5, 1.0, 2.0])
def test_response_quantiles_are_true_quantiles(cv):
    lam = np.linspace(0.5, 7.5, 200)
    r = tail(lam, 1.0, 8, cv)
    rate = (8 - lam) / ((1 + cv * cv) / 2)
    for q, t in [(0.5, r.p50_response_s), (0.95, r.p95_response_s), (0.99, r.p99_response_s)]:
        np.testing.assert_allclose(response_tail(t, r.wait_probability, rate, 1.0, cv), 1 - q, rtol=1e-9)


def test_slo_violation_probability_at_the_p99_is_one_percent():
    r = tail(30.0, 0.1, 4, slo=tail(30.0, 0.1, 4).p99_response_s)
    assert r.slo_violation_probability == pytest.approx(0.01, rel=1e-6)
    assert r.slo_headroom_ratio == pytest.approx(1.0) and r.meets_slo


# --- queueing physics --------------------------------------------------------------------------------
def test_more_replicas_never_raise_p99():
    r = tail(20.0, 0.25, np.arange(6, 40))
    assert np.all(np.diff(r.p99_response_s) <= 1e-12) and np.all(np.diff(r.p99_wait_s) <= 1e-12)


def test_higher_utilization_never_lowers_the_wait():
    lam = np.linspace(0.0, 31.9, 500)
    r = tail(lam, 0.25, 8)
    for name in ("wait_probability", "mean_wait_s", "p50_wait_s", "p95_wait_s", "p99_wait_s",
                 "p50_response_s", "p99_response_s"):
        assert np.all(np.diff(getattr(r, name)) >= -1e-12), name


def test_steady_service_waits_less_than_exponential_and_bursty_more():
    kw = dict(arrival_rate=np.linspace(1, 30, 50), service_time=0.25, servers=8)
    d, m, h = (tail(**kw, service_cv=cv) for cv in (0.0, 1.0, 2.0))
    assert np.all(d.mean_wait_s < m.mean_wait_s) and np.all(m.mean_wait_s < h.mean_wait_s)
    assert np.all(d.p99_wait_s <= m.p99_wait_s) and np.all(d.p99_response_s < m.p99_response_s)
    bursty = tail(**kw, arrival_cv=2.0)
    assert np.all(bursty.mean_wait_s > m.mean_wait_s)


def test_unstable_queue_is_one_sentence():
    with pytest.raises(InputError, match=r"arrival rate 12/s saturates 4 servers \(utilization 1.50\); "
                                         r"add servers \(at least 7\) or lower the rate"):
        tail(12.0, 0.5, 4)
    with pytest.raises(InputError, match=r"at 2 of 3 points"):
        tail(np.array([1.0, 9.0, 12.0]), 0.5, 4)
    r = tail(12.0, 0.5, 4, allow_unstable=True)
    assert not r.is_stable and r.p99_response_s == math.inf and r.wait_probability == 1.0
    assert not r.meets_slo


def test_0_1_0_names_and_units():
    old = tail(arrival_rate_qps=50, service_latency_ms=100, num_replicas=8, service_time_cv=0.5)
    new = tail("50 /s", "100 ms", 8, 0.5)
    assert old.p99_response_s == new.p99_response_s and old.queue_utilization == pytest.approx(0.625)
    assert old.to_dict()["p99_response_s"] == new.p99_response_s


@pytest.mark.parametrize("kw, words", [
    ({"arrival_rate": -1.0}, "negative"),
    ({"servers": 0}, "servers"),
    ({"servers": 2.5}, "whole number"),
    ({"service_cv": -1.0}, "coefficient of variation"),
    ({"service_time": 0.0}, "positive"),
    ({"service_time": "3 GB"}, "time"),
    ({"arrival_rate": np.array([1.0, np.nan])}, "finite"),
])
def test_bad_queue_input(kw, words):
    args = {"arrival_rate": 1.0, "service_time": 0.5, "servers": 2} | kw
    with pytest.raises(InputError, match=words):
        tail(**args)


def test_a_million_point_qps_sweep():
    qps = np.linspace(0.0, 31.0, 1_000_000)
    r = tail(qps, 0.25, 8)
    assert r.p99_response_s.shape == (1_000_000,) and r.utilization.shape == (1_000_000,)
    assert np.all(np.isfinite(r.p99_response_s)) and r.p99_response_s[0] == pytest.approx(0.25 * math.log(100))


# --- request lengths and pages --------------------------------------------------------------------------
def test_capped_exponential_keeps_the_mean():
    """μ(1 - e^(-max/μ)) = mean; with the cap far away μ -> mean; at mean = max every request is full."""
    mu = capped_exponential_scale(2048, 8192)
    assert mu * -math.expm1(-8192 / mu) == pytest.approx(2048, rel=1e-10)
    assert capped_exponential_scale(100, 1e9) == pytest.approx(100, rel=1e-9)
    assert capped_exponential_scale(8192, 8192) == math.inf


def test_expected_pages_hand_computed():
    """Fixed 2048 tokens in 16-token pages: 128 pages, 2049: 129; uncapped exponential: 1/(1 - e^(-p/μ))."""
    assert expected_pages(2048, 8192, 16, "fixed") == 128
    assert expected_pages(2049, 8192, 16, "fixed") == 129
    assert expected_pages(100, 1e7, 16, "exponential") == pytest.approx(1 / -math.expm1(-16 / 100), rel=1e-9)
    assert expected_pages(4096, 8192, 8192, "uniform") == 1


# --- continuous batching -------------------------------------------------------------------------------
def test_llama3_8b_paged_vs_static_on_h100():
    """Static reserves 8,192 tokens x 131,072 B = 1.07 GB per sequence out of 0.9 x 80 GiB less the weights and
    the process's own 1,343 MiB (CUDA context and PyTorch's kernels, which vLLM also leaves out of its KV cache)."""
    r = batching(**LLAMA_8K, max_batch_size=1024)
    assert r.kv_bytes_per_token == 131_072
    budget = 0.9 * 80 * 2**30 - r.weights_bytes - 1343 * 2**20
    assert r.static_max_sequences == math.floor(budget / (131_072 * 8192 + r.activation_bytes_per_seq))
    assert r.static_max_active_requests == r.static_max_sequences
    assert r.max_active_requests >= 3.9 * r.static_max_active_requests
    assert r.static_internal_fragmentation == pytest.approx(0.75)
    assert 0 < r.paged_internal_fragmentation < 0.01
    assert r.speedup_vs_static > 1.3 and r.feasible
    assert r.throughput_tokens_per_s == pytest.approx(r.max_active_requests / r.itl_s)


def test_paged_never_admits_fewer_sequences_than_static():
    for page in (1, 16, 64, 256, 2048):
        for dist in ("exponential", "uniform", "fixed"):
            for mean in (100, 2048, 8192):
                r = batching(**LLAMA_8K | {"mean_request_tokens": mean}, page_size=page,
                             request_length_distribution=dist, max_batch_size=4096)
                assert r.paged_max_sequences >= r.static_max_sequences, (page, dist, mean)


def test_fragmentation_falls_with_smaller_pages():
    frag = [batching(**LLAMA_8K, page_size=p, max_batch_size=4096) for p in (2048, 256, 64, 16, 1)]
    f = [r.paged_internal_fragmentation for r in frag]
    assert all(a > b for a, b in zip(f, f[1:])) and f[-1] == pytest.approx(0.0, abs=1e-3)
    assert all(a.paged_max_sequences <= b.paged_max_sequences for a, b in zip(frag, frag[1:]))


def test_full_length_requests_make_the_allocators_equal():
    r = batching("Llama3_8B", "H100", max_seq_len=4096, request_length_distribution="fixed")
    assert r.paged_max_sequences == r.static_max_sequences and r.speedup_vs_static == pytest.approx(1.0)


def test_a_batch_cap_binds_both():
    r = batching(**LLAMA_8K, max_batch_size=16)
    assert r.max_active_requests == r.static_max_active_requests == 16
    assert r.speedup_vs_static == pytest.approx(1.0) and "batch cap" in r.binding


def test_sliding_window_layers_stop_growing():
    """Mistral 7B's 4,096-token window: a static 8K reservation costs what 4K tokens do."""
    r = batching("Mistral_7B", "H100", max_seq_len=8192, mean_request_tokens=2048)
    assert r.static_bytes_per_seq - r.activation_bytes_per_seq == pytest.approx(4096 * r.kv_bytes_per_token)


def test_weights_that_do_not_fit_leave_no_batch():
    r = batching("Llama3_70B", "H100", max_seq_len=4096)
    assert not r.feasible and r.max_active_requests == 0 and r.binding.startswith("memory")
    assert batching("Llama3_70B", "H100", max_seq_len=4096, tp=4).feasible


def test_batching_0_1_0_call():
    r = batching("Llama3_8B", "H100", seq_len=2048, max_batch_size=32)
    assert r.max_seq_len == 2048 and r.max_active_requests == 32 and r.memory_fragmentation_pct == 0.0
    assert r.throughput_tokens_per_sec == r.throughput_tokens_per_s and r.itl.magnitude == pytest.approx(1e3 * r.itl_s)
    assert r.paged_kv_cache_size == pytest.approx(32 * 2048 * 131_072)


@pytest.mark.parametrize("kw, words", [
    ({"mean_request_tokens": 9000}, "cannot exceed"),
    ({"max_seq_len": 1_000_000, "mean_request_tokens": 100}, "context window"),
    ({"request_length_distribution": "zipf"}, "request_length_distribution"),
    ({"page_size": 0}, "page_size"),
    ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
])
def test_bad_batching_input(kw, words):
    with pytest.raises(InputError, match=words):
        batching(**LLAMA_8K | kw)


# --- replicas for a load ------------------------------------------------------------------------------
CAPACITY = dict(model="Llama3_8B", hardware="H100", target_p99_latency="2 s", prompt_len=1024, output_len=128)


def test_replicas_for_50_qps_at_p99_2s():
    r = ServingCapacityModel().solve(qps=50, service_cv=0.0, **CAPACITY)
    assert r.feasible and r.estimated_p99_latency_s <= 2.0
    assert r.qps_capacity >= 50 and r.required_replicas >= math.ceil(50 / r.per_replica_qps_capacity)
    assert 1 <= r.active_batch_size < r.max_batch_size
    fewer = ServingCapacityModel().solve(qps=50, service_cv=0.0, max_replicas=r.required_replicas - 1, **CAPACITY)
    assert not fewer.feasible                                 # the fewest replicas that meet the target
    assert r.bottleneck in ("capacity", "tail latency")


def test_replicas_rise_with_qps():
    reps = [ServingCapacityModel().solve(qps=q, service_cv=0.0, **CAPACITY).required_replicas
            for q in (1, 10, 50, 100, 200)]
    assert reps == sorted(reps) and reps[0] == 1 and reps[-1] > reps[1]


def test_variable_requests_miss_a_tight_tail_on_any_number_of_replicas():
    """Exponential service of mean ~0.78 s has a P99 of 4.6 x 0.78 s: no queue can fix that."""
    r = ServingCapacityModel().solve(qps=50, service_cv=1.0, **CAPACITY)
    assert not r.feasible and r.bottleneck == "tail latency" and "variability" in r.binding


@pytest.mark.parametrize("kw, bottleneck", [
    ({"model": "Llama3_70B"}, "memory"),
    ({"target_p99_latency": "100 ms"}, "base latency"),
    ({"qps": 500, "max_replicas": 4}, "capacity"),
])
def test_capacity_bottlenecks(kw, bottleneck):
    args = CAPACITY | {"qps": 50, "service_cv": 0.0} | kw
    r = ServingCapacityModel().solve(**args)
    assert not r.feasible and r.bottleneck == bottleneck


def test_capacity_0_1_0_names():
    r = ServingCapacityModel().solve("Llama3_8B", "H100", qps=20, target_p99_latency_ms=3000, seq_len=1024,
                                     output_tokens=128, service_time_cv=0.0)
    assert r.feasible and r.target_p99_latency.magnitude == pytest.approx(3000)


# --- the batch size to run at ---------------------------------------------------------------------------
OPT = dict(model="Llama3_8B", hardware="H100", sla_latency="2 s", arrival_rate=50, num_replicas=3, prompt_len=1024,
           output_len=128, service_cv=0.0)


def test_optimizer_picks_the_most_throughput_inside_the_sla(monkeypatch):
    calls = []
    real = cap_module.serve

    def counted(run, *a, **k):
        calls.append(run.batch_size)
        return real(run, *a, **k)

    monkeypatch.setattr(cap_module, "serve", counted)
    r = BatchingOptimizer().solve(**OPT)
    assert len(calls) <= 3                                    # one vectorized sweep, not a loop over batches
    assert r.is_feasible and r.p99_latency_s <= 2.0 and r.batch_sizes.shape == (256,)
    i = r.best_batch_size - 1
    assert r.meets_sla[i] and not r.meets_sla[i + 1:].any()
    assert r.max_throughput_tokens_per_s == r.throughput_tokens_per_s[i] == r.objective_value
    assert r.best_config == {"max_batch_size": r.best_batch_size}


def test_a_looser_sla_never_picks_a_smaller_batch():
    best = [BatchingOptimizer().solve(**OPT | {"sla_latency": f"{s} s"}).best_batch_size for s in (1.8, 2, 3, 5)]
    assert best == sorted(best)


def test_optimizer_0_1_0_names():
    r = BatchingOptimizer().solve("Llama3_8B", "H100", seq_len=512, sla_latency_ms=2000, arrival_rate_qps=10,
                                  max_search_batch=64, service_cv=0.0)
    assert r.total_searched == 64 and r.is_feasible and r.p99_latency.magnitude <= 2000


def test_a_first_token_under_load_waits_for_the_scheduler():
    """Under continuous batching a new request's first token waits for the iteration under way, the
    prefills queued ahead of it, and the iteration that runs its prefill beside the others' decode step:
    on an idle replica it is the prefill alone, and it grows with the load past 1.5 iterations plus it."""
    from mlsysim.run import Run
    from mlsysim.serving.serving import ServingOptions

    run = Run.build("Llama3_8B", "H100", purpose="serving", prompt_len=512, output_len=256)
    rep = cap_module.Replica(run, 256, ServingOptions())
    assert rep.first_token(1.0, 0.0) == pytest.approx(rep.prefill)
    rates = [0.2, 2.0, 8.0]
    busy = [rep.busy_slots(r) for r in rates]
    ttft = [float(rep.first_token(max(b, 1.0), r)) for b, r in zip(busy, rates)]
    assert ttft == sorted(ttft) and ttft[0] > rep.prefill
    b, r = busy[-1], rates[-1]
    assert b > 2 and ttft[-1] >= 1.5 * float(rep.itl(b)) + rep.prefill
    # the slot is held for the first token, then one iteration per further token
    assert float(rep.service(b, r)) == pytest.approx(ttft[-1] + 255 * float(rep.iteration(b, r)))
    # at the saturation rate the slots are all busy (Little's law)
    sat = rep.saturation_rate(rep.slots)
    assert sat * float(rep.service(rep.slots, sat)) == pytest.approx(rep.slots, rel=1e-6)
    result = ServingCapacityModel().solve("Llama3_8B", "H100", qps=8.0, target_p99_latency="30 s", prompt_len=512,
                                          output_len=256, service_cv=0.3)
    assert result.ttft_s > result.prefill_s and result.itl_s >= float(rep.itl(1.0))


def test_a_benchmark_at_fixed_concurrency_is_a_closed_loop():
    """n clients that each send a request when the last completes: one client sees the unloaded figures
    (its own prefill, a batch-1 decode step); more clients share the replica, so its ITL and TTFT grow,
    and Little's law holds over the users."""
    from mlsysim.run import Run
    from mlsysim.serving.serving import ServingModel, ServingOptions

    run = Run.build("Llama3_8B", "H100", purpose="serving", prompt_len=1024, output_len=256)
    rep = cap_module.Replica(run, 256, ServingOptions())
    alone = ServingModel().solve(run.at(seq_len=None))
    rate, ttft, itl = rep.closed_loop(1)
    assert ttft == pytest.approx(rep.prefill) and itl == pytest.approx(float(rep.itl(1.0)))
    assert rep.prefill == pytest.approx(float(alone.ttft_s))
    figures = [rep.closed_loop(n) for n in (1, 8, 32)]
    assert [f[2] for f in figures] == sorted(f[2] for f in figures)
    assert [f[1] for f in figures] == sorted(f[1] for f in figures)
    rate, ttft, itl = figures[-1]
    assert rate * float(rep.service(32.0, rate * 31 / 32)) == pytest.approx(32, rel=1e-6)
    with pytest.raises(InputError, match="slots"):
        rep.closed_loop(rep.slots + 1)
