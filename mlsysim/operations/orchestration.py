"""Shared-cluster scheduling (wall 16): how long jobs wait for a cluster.

Jobs of ``gpus_per_job`` GPUs on a cluster of ``cluster_gpus`` queue like requests on
``cluster_gpus // gpus_per_job`` servers; the M/M/c figures come from ``TailLatencyModel`` (Erlang C).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..run import positive, whole
from ..serving.queueing import TailLatencyModel
from ..solver import Result, Solver, verdict
from ..units import format_number, quantity

_DAY, _HOUR = 86400.0, 3600.0


@dataclass(frozen=True)
class OrchestrationResult(Result):
    """Scheduler queueing of jobs on a shared cluster (times in SI seconds)."""

    servers: int
    arrival_rate_per_s: float
    mean_job_s: float
    utilization: float            # busy job slots / slots
    gpu_utilization: float        # busy GPUs / all GPUs (slots times job size may leave GPUs stranded)
    stranded_gpus: int
    wait_probability: float
    mean_wait_s: float
    p95_wait_s: float
    p99_wait_s: float
    mean_queue_length: float

    @property
    def is_stable(self): return verdict(self.utilization < 1.0)
    @property
    def cluster_utilization(self): return self.gpu_utilization
    @property
    def avg_wait_time_days(self): return self.mean_wait_s / _DAY
    @property
    def mean_wait_hours(self): return self.mean_wait_s / _HOUR
    @property
    def avg_queue_length(self): return self.mean_queue_length
    @property
    def mean_wait(self): return quantity(self.mean_wait_s, "h")

    def summary(self) -> str:
        return (f"{self.servers} job slots at {self.utilization:.0%}: P(wait) {self.wait_probability:.2f}, "
                f"mean wait {format_number(self.mean_wait_s / _HOUR)} h, "
                f"P95 {format_number(self.p95_wait_s / _HOUR)} h, "
                f"{format_number(self.mean_queue_length)} jobs queued")


class OrchestrationModel(Solver):
    """How long jobs wait for a shared GPU cluster (M/M/c through Erlang C) — wall 16 (multi-tenancy)."""

    walls = (16,)

    def solve(self, arrival_rate_jobs_per_day=None, mean_job_hours=None, cluster_gpus=None, gpus_per_job=1, *,
              job_cv=1.0, fleet=None, avg_job_duration_days=None) -> OrchestrationResult:
        """Queueing of Poisson job arrivals, each holding ``gpus_per_job`` GPUs for ``mean_job_hours``.

        A cluster of ``cluster_gpus`` (default: the ``fleet``'s accelerators) runs
        ``cluster_gpus // gpus_per_job`` jobs at once, first come first served, jobs of one size.
        ``job_cv`` is the coefficient of variation of job length (1: exponential). 0.1.0's
        ``avg_job_duration_days`` is accepted in place of ``mean_job_hours``.
        """
        lam_day = positive("arrival_rate_jobs_per_day", arrival_rate_jobs_per_day)
        if mean_job_hours is None and avg_job_duration_days is not None:
            mean_job_hours = positive("avg_job_duration_days", avg_job_duration_days) * 24.0
        hours = positive("mean_job_hours", mean_job_hours)
        if cluster_gpus is None and fleet is not None:
            cluster_gpus = int(getattr(fleet, "total_accelerators", 0) or 0)
        gpus = whole("cluster_gpus", cluster_gpus)
        per_job = whole("gpus_per_job", gpus_per_job)
        if per_job > gpus:
            raise InputError(f"a job of {per_job} GPUs cannot run on a cluster of {gpus}")
        slots = gpus // per_job
        lam, s = lam_day / _DAY, hours * _HOUR
        rho = lam * s / slots
        if rho >= 1.0:
            raise InputError(f"{lam_day:g} jobs/day of {hours:g} h on {per_job} GPUs each saturate the cluster's "
                             f"{slots} job slots ({gpus} GPUs; utilization {rho:.2f}); add GPUs, shorten jobs or "
                             f"admit fewer than {slots / hours * 24.0:.3g} jobs/day")
        q = TailLatencyModel().solve(arrival_rate=lam, service_time=s, servers=slots, service_cv=job_cv)
        notes = [f"{slots} job slots = {gpus} GPUs // {per_job} GPUs per job; jobs of one size, first come first "
                 "served, no preemption or backfill",
                 "Poisson arrivals; M/M/c waiting (Erlang C) from TailLatencyModel"
                 + ("" if job_cv == 1.0 else f", Allen-Cunneen-corrected for job-length CV {job_cv:g}")]
        stranded = gpus - slots * per_job
        if stranded:
            notes.append(f"{stranded} GPUs can never run a {per_job}-GPU job")
        return OrchestrationResult(
            servers=slots, arrival_rate_per_s=lam, mean_job_s=s, utilization=rho,
            gpu_utilization=lam * s * per_job / gpus, stranded_gpus=stranded, wait_probability=q.wait_probability,
            mean_wait_s=q.mean_wait_s, p95_wait_s=q.p95_wait_s, p99_wait_s=q.p99_wait_s,
            mean_queue_length=lam * q.mean_wait_s, assumptions=tuple(notes),
            binding=f"job slots {rho:.0%} busy" + (f"; {stranded} GPUs stranded by job size" if stranded else ""))


__all__ = ["OrchestrationModel", "OrchestrationResult"]
