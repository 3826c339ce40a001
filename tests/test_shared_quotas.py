"""LinkedIn's daily quotas are per application, not per worker: with PostgreSQL configured
every worker's budget counts its calls in one table, so two workers never spend more than
one quota (issue 22)."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from activities.postgres_quotas import PostgresCallCounter
from activities.rate_limits import (
    JOB_SUBMISSIONS,
    STATUS_READS,
    CallBudget,
    CallHeldBack,
    RateLimits,
)
from settings import Settings
from workers.worker import call_counter

LIMITS = RateLimits(per_day={STATUS_READS: 3, JOB_SUBMISSIONS: 2})


async def test_two_workers_spend_one_daily_quota_between_them(postgres_url: str) -> None:
    counters = [PostgresCallCounter(SecretStr(postgres_url)) for _ in range(2)]
    first, second = (CallBudget(LIMITS, counter=c) for c in counters)
    try:
        await first.acquire("app-1", STATUS_READS)
        await second.acquire("app-1", STATUS_READS)
        await first.acquire("app-1", STATUS_READS)
        with pytest.raises(CallHeldBack) as held:
            await second.acquire("app-1", STATUS_READS)
        assert "renews at midnight UTC" in str(held.value)
        assert 0 < (held.value.retry_after or 0) <= 24 * 3600
        await second.acquire("app-2", STATUS_READS)  # another application's quota is its own
        await second.acquire("app-1", JOB_SUBMISSIONS)  # and so is another endpoint's
        assert second.left("app-1", STATUS_READS) == 0
    finally:
        for counter in counters:
            await counter.aclose()


async def test_workers_calling_at_once_never_overspend(postgres_url: str) -> None:
    counters = [PostgresCallCounter(SecretStr(postgres_url)) for _ in range(2)]
    budgets = [CallBudget(LIMITS, counter=c) for c in counters]
    try:
        tries = [budgets[n % 2].acquire("app-1", JOB_SUBMISSIONS) for n in range(10)]
        answers = await asyncio.gather(*tries, return_exceptions=True)
        assert sum(a is None for a in answers) == 2
        assert all(isinstance(a, CallHeldBack) for a in answers if a is not None), answers
    finally:
        for counter in counters:
            await counter.aclose()


def test_the_quota_is_shared_when_postgresql_is_configured(postgres_url: str) -> None:
    assert call_counter(Settings()) is None
    shared = call_counter(Settings(credential_store_url=SecretStr(postgres_url)))
    assert isinstance(shared, PostgresCallCounter)
