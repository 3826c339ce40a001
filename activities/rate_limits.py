"""Per-application LinkedIn call budgets, shared by every activity of one worker.

LinkedIn throttles each application per UTC day and endpoint (linkedin-api.md: task reads
300,000, status reads 1,000,000) and answers 429 beyond; a 429's Retry-After holds for the
application and endpoint, not for the one call that met it. A call the budget holds back is
refused before it is sent, as a 429 would be (`CallHeldBack`), so a caller knows LinkedIn
never saw it and backs off for the `retry_after` it carries.

The day's counts are the worker's own unless a `DailyCounter` is given: with PostgreSQL
(activities.postgres_quotas) every worker counts in one place, and N workers spend one
quota, not N.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from linkedin.errors import TransientLinkedInError

JOB_SUBMISSIONS = "simpleJobPostings"
TASK_READS = "simpleJobPostingTasks"
STATUS_READS = "jobPostingStatus"


class CallHeldBack(TransientLinkedInError):
    """Not sent: the application's budget or a 429's Retry-After says wait first."""

    def __init__(self, message: str, *, status: int | None = 429, **kw: Any) -> None:
        super().__init__(message, status=status, **kw)


@dataclass(frozen=True)
class RateLimits:
    """How many calls each application may make; None is unlimited."""

    per_day: Mapping[str, int | None] = field(default_factory=dict)
    """Calls per UTC day, by endpoint."""
    per_second: float | None = None
    """Calls per second over all endpoints, with a burst of one second's worth."""
    max_wait_seconds: float = 2.0
    """The longest a call waits here for its per-second turn; beyond, it is held back."""
    records_per_minute: Mapping[str, int | None] = field(default_factory=dict)
    """Records (jobs) per application in any 60 seconds, by endpoint: LinkedIn's premium
    job posting allows 2,000 a minute."""
    records_max_wait_seconds: float = 20.0
    """The longest a call waits here for room in its minute; beyond, it is held back."""


class BudgetObserver(Protocol):
    """Told what is left of a day's budget after each call, and of calls held back."""

    def budget_left(self, client_id: str, endpoint: str, left: int) -> None: ...

    def held_back(self, endpoint: str, reason: str) -> None: ...


class DailyCounter(Protocol):
    """Where an application's calls of a UTC day are counted, for every worker."""

    async def take(self, client_id: str, endpoint: str, day: date, limit: int) -> int | None:
        """Count one call if fewer than `limit` were counted that day: the calls counted
        before it, or None when the day's quota is used up."""
        ...

    async def aclose(self) -> None: ...


@dataclass
class _Bucket:
    tokens: float
    updated: float


class CallBudget:
    """Counts and paces one worker's LinkedIn calls per application (client_id)."""

    def __init__(
        self,
        limits: RateLimits,
        *,
        observer: BudgetObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        counter: DailyCounter | None = None,
    ) -> None:
        self._limits = limits
        self._counter = counter
        self._observer = observer
        self._clock = clock
        self._now = now
        self._used: dict[tuple[str, str], tuple[datetime, int]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._blocked_until: dict[tuple[str, str], float] = {}
        self._records: dict[tuple[str, str], list[tuple[float, int]]] = {}

    async def acquire(self, client_id: str, endpoint: str, records: int = 1) -> None:
        """Wait for this call's turn and count it (and its `records`, the jobs it carries),
        or raise CallHeldBack unsent."""
        lane = (client_id, endpoint)
        blocked = self._blocked_until.get(lane, 0.0) - self._clock()
        if blocked > 0:
            self._hold(endpoint, "retry_after")
            raise CallHeldBack(
                f"LinkedIn asked this application to wait {blocked:.1f}s more before calling "
                f"{endpoint} again (429 Retry-After)",
                retry_after=blocked,
                endpoint=endpoint,
            )
        await self._room(lane, records)
        await self._pace(client_id, endpoint)
        limit = self._limits.per_day.get(endpoint)
        day, used = self._today(lane)  # no await from here on: the count stays exact
        if limit is not None and self._counter is not None:  # counted with other workers
            counted = await self._counter.take(client_id, endpoint, day.date(), limit)
            used = limit if counted is None else counted
            self._used[lane] = (day, used)
        if limit is not None and used >= limit:
            self._hold(endpoint, "daily_budget")
            midnight = day + timedelta(days=1)
            raise CallHeldBack(
                f"this application's {limit} {endpoint} calls for {day:%Y-%m-%d} (UTC) are "
                "used up; the budget renews at midnight UTC",
                retry_after=(midnight - self._now()).total_seconds(),
                endpoint=endpoint,
            )
        self._used[lane] = (day, used + 1)
        if limit is not None and self._observer is not None:
            self._observer.budget_left(client_id, endpoint, limit - used - 1)

    async def aclose(self) -> None:
        if self._counter is not None:
            await self._counter.aclose()

    def throttled(self, client_id: str, endpoint: str, retry_after: float) -> None:
        """LinkedIn answered 429 with Retry-After: no call of this lane before it passes."""
        until = self._clock() + retry_after
        lane = (client_id, endpoint)
        self._blocked_until[lane] = max(self._blocked_until.get(lane, 0.0), until)

    def left(self, client_id: str, endpoint: str) -> int | None:
        """What is left of today's budget for this endpoint; None when unlimited."""
        limit = self._limits.per_day.get(endpoint)
        return None if limit is None else limit - self._today((client_id, endpoint))[1]

    def _today(self, lane: tuple[str, str]) -> tuple[datetime, int]:
        today = self._now().replace(hour=0, minute=0, second=0, microsecond=0)
        day, used = self._used.get(lane, (today, 0))
        return (today, 0) if day != today else (day, used)

    async def _pace(self, client_id: str, endpoint: str) -> None:
        """A token bucket per application: wait for a token, or hold the call back."""
        rate = self._limits.per_second
        if rate is None:
            return
        now = self._clock()
        bucket = self._buckets.setdefault(client_id, _Bucket(tokens=max(rate, 1.0), updated=now))
        bucket.tokens = min(max(rate, 1.0), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        wait = (1.0 - bucket.tokens) / rate if bucket.tokens < 1.0 else 0.0
        if wait > self._limits.max_wait_seconds:
            self._hold(endpoint, "per_second")
            raise CallHeldBack(
                f"this application's {rate:g} calls/s to LinkedIn are taken for the next "
                f"{wait:.1f}s",
                retry_after=wait,
                endpoint=endpoint,
            )
        bucket.tokens -= 1.0  # reserved now; the wait below lets it refill
        if wait > 0:
            await asyncio.sleep(wait)

    async def _room(self, lane: tuple[str, str], records: int) -> None:
        """A sliding minute per application and endpoint: the call's records are reserved
        at the first moment they fit (so concurrent calls never overbook it), and the call
        waits for that moment, or is held back when it is too far off."""
        limit = self._limits.records_per_minute.get(lane[1])
        if limit is None:
            return
        now = self._clock()
        log = self._records.setdefault(lane, [])
        while log and log[0][0] <= now - 60:
            log.pop(0)
        at = now
        excess = sum(n for _, n in log) + records - limit
        if excess > 0:
            for sent_at, count in log:  # oldest first: when enough have left the minute
                excess -= count
                if excess <= 0:
                    at = sent_at + 60
                    break
            else:
                at = now + 60  # more records than a minute holds: never in one call
        wait = at - now
        if wait > self._limits.records_max_wait_seconds:
            self._hold(lane[1], "records_per_minute")
            raise CallHeldBack(
                f"this application's {limit} {lane[1]} records a minute are taken for the "
                f"next {wait:.0f}s (LinkedIn's limit)",
                retry_after=wait,
                endpoint=lane[1],
            )
        bisect.insort(log, (at, records))
        if wait > 0:
            await asyncio.sleep(wait)

    def _hold(self, endpoint: str, reason: str) -> None:
        if self._observer is not None:
            self._observer.held_back(endpoint, reason)
