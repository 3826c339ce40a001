"""CallBudget: daily budgets per application and endpoint, per-second pace, Retry-After,
and the budget left on the worker's Prometheus endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from activities.rate_limits import (
    JOB_SUBMISSIONS,
    STATUS_READS,
    TASK_READS,
    CallBudget,
    CallHeldBack,
    RateLimits,
)
from cli.up import free_port
from settings import Settings
from workers.metrics import LinkedInMetrics, prometheus_runtime


class Clocks:
    """A monotonic clock and a UTC wall clock that tests move by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0
        self.wall = datetime(2026, 3, 1, 23, 59, 0, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        self.wall += timedelta(seconds=seconds)


class Seen:
    def __init__(self) -> None:
        self.left: list[tuple[str, str, int]] = []
        self.held: list[tuple[str, str]] = []

    def budget_left(self, client_id: str, endpoint: str, left: int) -> None:
        self.left.append((client_id, endpoint, left))

    def held_back(self, endpoint: str, reason: str) -> None:
        self.held.append((endpoint, reason))


def budget(limits: RateLimits, clocks: Clocks, seen: Seen | None = None) -> CallBudget:
    return CallBudget(limits, observer=seen, clock=lambda: clocks.seconds, now=lambda: clocks.wall)


async def test_a_days_budget_is_per_application_and_endpoint_and_renews_at_midnight() -> None:
    clocks, seen = Clocks(), Seen()
    calls = budget(RateLimits(per_day={TASK_READS: 2, STATUS_READS: 5}), clocks, seen)
    await calls.acquire("app-a", TASK_READS)
    await calls.acquire("app-a", TASK_READS)
    with pytest.raises(CallHeldBack) as held:
        await calls.acquire("app-a", TASK_READS)
    assert held.value.status == 429 and held.value.retry_after == 60.0  # 23:59 → midnight
    await calls.acquire("app-b", TASK_READS)  # another application has its own
    await calls.acquire("app-a", STATUS_READS)  # another endpoint too
    await calls.acquire("app-a", JOB_SUBMISSIONS)  # no limit set: unlimited
    assert calls.left("app-a", JOB_SUBMISSIONS) is None
    assert seen.left == [
        ("app-a", TASK_READS, 1),
        ("app-a", TASK_READS, 0),
        ("app-b", TASK_READS, 1),
        ("app-a", STATUS_READS, 4),
    ]
    assert seen.held == [(TASK_READS, "daily_budget")]
    clocks.advance(61)  # a new UTC day
    assert calls.left("app-a", TASK_READS) == 2
    await calls.acquire("app-a", TASK_READS)


async def test_the_per_second_pace_holds_back_what_would_wait_too_long() -> None:
    clocks, seen = Clocks(), Seen()
    calls = budget(RateLimits(per_second=2, max_wait_seconds=0), clocks, seen)
    await calls.acquire("app", TASK_READS)
    await calls.acquire("app", STATUS_READS)  # a burst of one second's worth
    with pytest.raises(CallHeldBack) as held:
        await calls.acquire("app", JOB_SUBMISSIONS)  # shared by all endpoints
    assert held.value.retry_after == pytest.approx(0.5)
    await calls.acquire("other-app", TASK_READS)
    clocks.advance(0.5)
    await calls.acquire("app", TASK_READS)
    assert seen.held == [(JOB_SUBMISSIONS, "per_second")]


async def test_a_short_wait_for_the_pace_is_taken_not_refused() -> None:
    clocks = Clocks()
    calls = budget(RateLimits(per_second=1000, max_wait_seconds=1), clocks)
    for _ in range(1001):  # the last one waits a millisecond for its token
        await calls.acquire("app", TASK_READS)


async def test_a_retry_after_holds_one_endpoint_of_one_application() -> None:
    clocks, seen = Clocks(), Seen()
    calls = budget(RateLimits(), clocks, seen)
    calls.throttled("app", STATUS_READS, 30)
    with pytest.raises(CallHeldBack) as held:
        await calls.acquire("app", STATUS_READS)
    assert held.value.retry_after == 30
    await calls.acquire("app", TASK_READS)
    await calls.acquire("other-app", STATUS_READS)
    clocks.advance(30)
    await calls.acquire("app", STATUS_READS)
    assert seen.held == [(STATUS_READS, "retry_after")]


async def test_the_settings_give_linkedins_daily_numbers() -> None:
    settings = Settings()
    assert settings.linkedin_daily_task_reads == 300_000
    assert settings.linkedin_daily_status_reads == 1_000_000
    assert settings.linkedin_daily_job_submissions is None  # LinkedIn publishes none


async def test_the_worker_metrics_show_the_budget_left() -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = prometheus_runtime(address)  # serves while referenced
    metrics = LinkedInMetrics(runtime.metric_meter)
    calls = CallBudget(RateLimits(per_day={TASK_READS: 300_000}), observer=metrics)
    await calls.acquire("app-7", TASK_READS)
    metrics.batch(TASK_READS, 40)
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://{address}/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith("linkedin_daily_budget_left{"))
    assert 'client_id="app-7"' in line and 'endpoint="simpleJobPostingTasks"' in line
    assert line.endswith(" 299999")
    assert "linkedin_batch_size" in text


async def test_no_minute_carries_more_job_records_than_linkedins_limit() -> None:
    """Premium job posting: 2,000 records a minute, counted in any 60 seconds."""
    clocks, seen = Clocks(), Seen()
    limits = RateLimits(records_per_minute={JOB_SUBMISSIONS: 2000}, records_max_wait_seconds=5)
    calls = budget(limits, clocks, seen)
    for _ in range(20):
        await calls.acquire("app-a", JOB_SUBMISSIONS, records=100)
        clocks.advance(1)
    with pytest.raises(CallHeldBack) as held:  # 2,000 in the last 20 s already
        await calls.acquire("app-a", JOB_SUBMISSIONS, records=100)
    assert held.value.retry_after == pytest.approx(40.0)
    assert seen.held[-1] == (JOB_SUBMISSIONS, "records_per_minute")
    await calls.acquire("app-b", JOB_SUBMISSIONS, records=100)  # its own minute
    clocks.advance(38)  # the first call leaves the window in 2 s: a short wait, then sent
    await calls.acquire("app-a", JOB_SUBMISSIONS, records=100)
    await calls.acquire("app-a", TASK_READS)  # reads carry no records limit
