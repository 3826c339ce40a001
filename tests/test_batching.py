"""LinkedInBatcher against the sandbox over loopback: one call for many callers, each
caller its own answer or error, LinkedIn's batch rules kept."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import pytest

from activities.batching import BatchTiming, LinkedInBatcher
from activities.rate_limits import STATUS_READS, CallBudget, CallHeldBack, RateLimits
from domain.job_postings import OperationType
from linkedin import LinkedInClient, LinkedInValidationError, TransientLinkedInError
from linkedin.client import MAX_QUERY_BYTES
from tests.conftest import Customer
from tests.jobs_support import raw_job, valid_job
from tests.sandbox_control import JOB_POSTINGS, JOB_STATUSES, JOB_TASKS, SandboxControl

HOUR = 3600.0


@pytest.fixture
def batcher(linkedin: LinkedInClient) -> LinkedInBatcher:
    return LinkedInBatcher(linkedin, timing=BatchTiming(gather_seconds=0.05, budget_seconds=0.05))


async def calls(sandbox: SandboxControl, path: str) -> list[dict[str, object]]:
    return await sandbox.requests(path)


async def test_concurrent_callers_share_one_call_per_endpoint(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    creds = customer.creds
    ids = [f"job-{n}" for n in range(40)]
    submitted = await asyncio.gather(*(batcher.submit_jobs(creds, [valid_job(i)]) for i in ids))
    assert [s.external_job_posting_id for (s,) in submitted] == ids
    task_ids = [s.task_id for (s,) in submitted]
    assert all(task_ids) and len(set(task_ids)) == len(ids)

    tasks = await asyncio.gather(*(batcher.get_tasks(creds, [t]) for t in task_ids if t))
    statuses = await asyncio.gather(*(batcher.get_job_statuses(creds, [i]) for i in ids))

    for task_id, answer in zip(task_ids, tasks, strict=True):
        assert list(answer.results) == [task_id] and not answer.errors
    for external_id, answer in zip(ids, statuses, strict=True):
        assert list(answer.results) == [external_id]
        assert answer.results[external_id].external_job_posting_id == external_id
    assert len(await calls(sandbox, JOB_POSTINGS)) == 1
    assert len(await calls(sandbox, JOB_TASKS)) == 1
    assert len(await calls(sandbox, JOB_STATUSES)) == 1


async def test_a_refused_element_fails_only_its_own_caller(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    jobs = [valid_job("good-1"), raw_job("bad", title=None), valid_job("good-2")]
    answers = await asyncio.gather(*(batcher.submit_jobs(customer.creds, [j]) for j in jobs))
    (first,), (refused,), (last,) = answers
    assert first.task_id and last.task_id and first.error is None and last.error is None
    assert isinstance(refused.error, LinkedInValidationError)
    assert refused.error.status == 422 and "/title" in refused.error.message
    assert len(await calls(sandbox, JOB_POSTINGS)) == 1


async def test_an_id_linkedin_does_not_know_is_an_error_for_its_caller_alone(
    batcher: LinkedInBatcher, customer: Customer
) -> None:
    (created,) = await batcher.submit_jobs(customer.creds, [valid_job("known")])
    assert created.task_id
    known, unknown = await asyncio.gather(
        batcher.get_job_statuses(customer.creds, ["known"]),
        batcher.get_job_statuses(customer.creds, ["never-posted"]),
    )
    assert list(known.results) == ["known"] and not known.errors
    assert not unknown.results and unknown.errors["never-posted"].status == 404


async def test_two_operations_on_one_job_never_share_a_call(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    create = valid_job("same")
    update = valid_job("same", job_posting_operation_type=OperationType.UPDATE, title="Lead")
    others = [valid_job(f"other-{n}") for n in range(5)]
    answers = await asyncio.gather(
        *(batcher.submit_jobs(customer.creds, [j]) for j in [create, *others, update])
    )
    assert all(s.task_id and s.error is None for (s,) in answers)
    bodies = [r["body"] for r in await calls(sandbox, JOB_POSTINGS)]
    assert len(bodies) == 2
    sent = [[e["externalJobPostingId"] for e in b["elements"]] for b in bodies]  # type: ignore[index]
    assert sent[0] == ["same", *(j.external_job_posting_id for j in others)]
    assert sent[1] == ["same"]  # after the CREATE was answered, in the order asked
    assert bodies[1]["elements"][0]["jobPostingOperationType"] == "UPDATE"  # type: ignore[index]


async def test_more_than_a_hundred_jobs_go_in_calls_of_a_hundred(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    jobs = [valid_job(f"bulk-{n}") for n in range(230)]
    answers = await asyncio.gather(*(batcher.submit_jobs(customer.creds, [j]) for j in jobs))
    assert all(s.task_id for (s,) in answers)
    sizes = [len(r["body"]["elements"]) for r in await calls(sandbox, JOB_POSTINGS)]  # type: ignore[index]
    assert sorted(sizes, reverse=True) == [100, 100, 30]


async def test_reads_stay_under_linkedins_query_limit(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    ids = [f"{'x' * 150}-{n}" for n in range(60)]  # about 9 KB of ids in all
    answers = await asyncio.gather(*(batcher.get_job_statuses(customer.creds, [i]) for i in ids))
    for external_id, answer in zip(ids, answers, strict=True):
        assert list(answer.errors) == [external_id]  # each caller its own 404, no other's
    queries = [r["query"] for r in await calls(sandbox, JOB_STATUSES)]
    assert len(queries) >= 3
    assert all(len(q) <= MAX_QUERY_BYTES for q in queries)  # type: ignore[arg-type]
    asked = [i for q in queries for i in parse_qs(str(q))["ids"]]
    assert sorted(asked) == sorted(ids)


async def test_one_caller_asking_many_ids_is_split_into_calls(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    ids = [f"{'y' * 150}-{n}" for n in range(60)]
    answer = await batcher.get_job_statuses(customer.creds, ids)
    assert sorted(answer.errors) == sorted(ids)
    queries = [str(r["query"]) for r in await calls(sandbox, JOB_STATUSES)]
    assert len(queries) >= 3 and all(len(q) <= MAX_QUERY_BYTES for q in queries)


async def test_a_whole_call_failure_reaches_every_caller_as_its_own_error(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.fault("simpleJobPostings", failNext=1, status=503)
    jobs = [valid_job(f"j-{n}") for n in range(3)]
    answers = await asyncio.gather(
        *(batcher.submit_jobs(customer.creds, [j]) for j in jobs), return_exceptions=True
    )
    assert all(isinstance(a, TransientLinkedInError) and a.status == 503 for a in answers)
    assert len({id(a) for a in answers}) == 3  # not one shared exception object
    assert len(await calls(sandbox, JOB_POSTINGS)) == 1
    again = await asyncio.gather(*(batcher.submit_jobs(customer.creds, [j]) for j in jobs))
    assert all(s.task_id for (s,) in again)


async def test_a_429s_retry_after_holds_the_endpoint_for_every_caller(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    batcher = LinkedInBatcher(linkedin, timing=BatchTiming(gather_seconds=0.0))
    await sandbox.fault("jobPostingStatus", failNext=1, status=429, retryAfter=120)
    with pytest.raises(TransientLinkedInError) as first:
        await batcher.get_job_statuses(customer.creds, ["a"])
    assert first.value.status == 429 and first.value.retry_after == 120
    with pytest.raises(CallHeldBack) as held:
        await batcher.get_job_statuses(customer.creds, ["b"])
    assert held.value.status == 429 and 100 < (held.value.retry_after or 0) <= 120
    assert len(await calls(sandbox, JOB_STATUSES)) == 1  # the second never left
    (submitted,) = await batcher.submit_jobs(customer.creds, [valid_job("c")])
    assert submitted.task_id  # another endpoint of the application is not held


async def test_the_daily_budget_counts_calls_not_callers(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    budget = CallBudget(RateLimits(per_day={STATUS_READS: 2}))
    batcher = LinkedInBatcher(linkedin, budget, BatchTiming(gather_seconds=0.05))
    creds = customer.creds
    await asyncio.gather(*(batcher.get_job_statuses(creds, [f"j{n}"]) for n in range(30)))
    assert budget.left(creds.client_id, STATUS_READS) == 1
    await batcher.get_job_statuses(creds, ["one-more"])
    with pytest.raises(CallHeldBack) as held:
        await batcher.get_job_statuses(creds, ["over"])
    assert "renews at midnight UTC" in str(held.value)
    assert 0 < (held.value.retry_after or 0) <= 24 * HOUR
    assert len(await calls(sandbox, JOB_STATUSES)) == 2


async def test_a_lone_caller_is_not_held_for_the_batch_window(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    """A bound, not a speed measure (bench/ measures the latency): with hour-long
    windows, a caller alone, calling again and again, is still answered."""
    timing = BatchTiming(gather_seconds=0.0, budget_seconds=HOUR, read_budget_seconds=HOUR)
    batcher = LinkedInBatcher(linkedin, timing=timing)
    for n in range(5):
        call = batcher.get_job_statuses(customer.creds, [f"lone-{n}"])
        answer = await asyncio.wait_for(call, 30)
        assert list(answer.errors) == [f"lone-{n}"]
        (submitted,) = await asyncio.wait_for(
            batcher.submit_jobs(customer.creds, [valid_job(f"lone-{n}")]), 30
        )
        assert submitted.task_id


def busy_lane_timing(**waits: float) -> BatchTiming:
    """Once two asks met, the lane stays busy for the whole test."""
    return BatchTiming(gather_seconds=0.0, busy_seconds=HOUR, **waits)


async def make_busy(batcher: LinkedInBatcher, customer: Customer) -> None:
    jobs = [valid_job(f"pair-{n}") for n in range(2)]
    await asyncio.gather(*(batcher.submit_jobs(customer.creds, [j]) for j in jobs))


async def submitted_sizes(sandbox: SandboxControl) -> list[int]:
    return [len(r["body"]["elements"]) for r in await calls(sandbox, JOB_POSTINGS)]  # type: ignore[index]


async def test_a_burst_on_a_busy_lane_goes_once_asks_stop_not_at_the_budget(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    """A bound, not a speed measure: with an hour-long cap the burst is still answered."""
    batcher = LinkedInBatcher(linkedin, timing=busy_lane_timing(budget_seconds=HOUR))
    await make_busy(batcher, customer)
    jobs = [valid_job(f"burst-{n}") for n in range(40)]
    burst = asyncio.gather(*(batcher.submit_jobs(customer.creds, [j]) for j in jobs))
    answers = await asyncio.wait_for(burst, 30)
    assert all(s.task_id for (s,) in answers)
    assert await submitted_sizes(sandbox) == [2, 40]


async def test_a_stream_that_never_pauses_goes_out_at_the_budget(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    """With endless patience, only the budget of the first ask sends the stream."""
    batcher = LinkedInBatcher(linkedin, timing=busy_lane_timing(patience=HOUR, budget_seconds=0.1))
    await make_busy(batcher, customer)

    async def one(n: int) -> str | None:
        await asyncio.sleep(0.01 * n)
        (submitted,) = await batcher.submit_jobs(customer.creds, [valid_job(f"stream-{n}")])
        return submitted.task_id

    task_ids = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(30))), 30)
    assert all(task_ids) and len(set(task_ids)) == 30
    sizes = await submitted_sizes(sandbox)
    assert sizes[0] == 2 and sum(sizes[1:]) == 30


async def test_a_call_that_goes_alone_ends_the_busy_spell(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    """A bound, not a speed measure: after a burst, once a call went out alone (here a
    full one), a lone caller is answered though a busy lane's waits are an hour long."""
    timing = BatchTiming(
        gather_seconds=0.0,
        busy_seconds=HOUR,
        read_budget_seconds=HOUR,
        patience=HOUR,
    )
    batcher = LinkedInBatcher(linkedin, timing=timing)
    pair = (batcher.get_job_statuses(customer.creds, [f"pair-{n}"]) for n in range(2))
    await asyncio.wait_for(asyncio.gather(*pair), 30)  # they met: the lane is busy
    full = [f"full-{n}" for n in range(100)]
    await asyncio.wait_for(batcher.get_job_statuses(customer.creds, full), 30)
    lone = await asyncio.wait_for(batcher.get_job_statuses(customer.creds, ["lone"]), 30)
    assert list(lone.errors) == ["lone"]


async def test_a_full_call_goes_at_once_whatever_the_waits(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    timing = BatchTiming(gather_seconds=HOUR, budget_seconds=HOUR, patience=HOUR)
    batcher = LinkedInBatcher(linkedin, timing=timing)
    jobs = [valid_job(f"full-{n}") for n in range(100)]
    full = asyncio.gather(*(batcher.submit_jobs(customer.creds, [j]) for j in jobs))
    answers = await asyncio.wait_for(full, 30)
    assert all(s.task_id for (s,) in answers)
    assert await submitted_sizes(sandbox) == [100]


async def test_a_caller_that_gives_up_leaves_the_others_their_answers(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    gone = asyncio.ensure_future(batcher.submit_jobs(customer.creds, [valid_job("gone")]))
    stays = asyncio.ensure_future(batcher.submit_jobs(customer.creds, [valid_job("stays")]))
    await asyncio.sleep(0)
    gone.cancel()
    ((submitted,),) = await asyncio.gather(stays)
    assert submitted.task_id and gone.cancelled()
    (body,) = [r["body"] for r in await calls(sandbox, JOB_POSTINGS)]
    assert [e["externalJobPostingId"] for e in body["elements"]] == ["stays"]  # type: ignore[index]


async def test_waiting_status_reads_ride_along_with_the_next_call_of_their_application(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    """Jobs reconciling a lost answer each want a fresh status within their backoff: one
    status call of the application, whoever sends it, serves every one of them."""
    creds = customer.creds
    waiting = [
        asyncio.ensure_future(
            batcher.watch_job_statuses(creds, [f"waits-{n}"], earliest=0.0, latest=HOUR)
        )
        for n in range(10)
    ]
    await asyncio.sleep(0.1)  # each is waiting, none has sent anything
    assert not await calls(sandbox, JOB_STATUSES)
    other = await asyncio.wait_for(batcher.get_job_statuses(creds, ["other"]), 30)
    answers = await asyncio.wait_for(asyncio.gather(*waiting), 30)
    assert list(other.errors) == ["other"]
    assert [list(a.errors) for a in answers] == [[f"waits-{n}"] for n in range(10)]
    assert len(await calls(sandbox, JOB_STATUSES)) == 1


async def test_a_waiting_read_no_call_serves_goes_by_itself_at_its_latest(
    batcher: LinkedInBatcher, sandbox: SandboxControl, customer: Customer
) -> None:
    creds = customer.creds
    reads = (
        batcher.watch_job_statuses(creds, [f"alone-{n}"], earliest=0.0, latest=0.2)
        for n in range(3)
    )
    answers = await asyncio.wait_for(asyncio.gather(*reads), 30)
    assert [list(a.errors) for a in answers] == [[f"alone-{n}"] for n in range(3)]
    assert len(await calls(sandbox, JOB_STATUSES)) == 1
