"""JobPostingWorkflow on the real Temporal dev server, against the sandbox."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from client.errors import Refused
from client.integrations import IntegrationsClient
from client.jobs import JobPage, JobsClient, JobSummary
from domain.job_workflow import (
    JOB_STATUS_CHECKS_WORKFLOW_TYPE,
    JOB_WAKEUPS_WORKFLOW_TYPE,
    JobState,
    JobStatus,
    job_workflow_id,
)
from linkedin import LinkedInClient
from settings import Settings
from tests.jobs_support import job_fields, now_ms, onboard_for_jobs, onboard_with_contract
from tests.sandbox_control import JOB_POSTINGS, SandboxControl
from tests.temporal_support import eventually, record_history
from workers.setup import (
    ensure_job_status_checks,
    ensure_job_wakeups,
    job_status_checks_schedule_id,
    job_wakeups_schedule_id,
)
from workflows.search_attributes import JOB_WAKE_AT

CONTRACT = "urn:li:contract:555"
P4P = {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}}
DAY = timedelta(days=1)
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def jobs(temporal_env: WorkflowEnvironment, settings: Settings) -> JobsClient:
    return JobsClient(temporal_env.client, task_queue=settings.task_queue)


Onboard = Callable[..., Awaitable[Any]]


@pytest.fixture
def onboarded(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> Onboard:
    """Provision a customer as the integration workflow would, optionally enabling PJP."""

    async def onboard(cid: str, enable: bool = True) -> Any:
        if enable:
            return await onboard_with_contract(
                linkedin, sandbox, settings, temporal_env.client, cid, CONTRACT
            )
        return await onboard_for_jobs(linkedin, settings, temporal_env.client, cid)

    return onboard


def wire(external_id: str = "job-1", **overrides: Any) -> dict[str, Any]:
    """A job as the ATS sends it: LinkedIn's field names."""
    from domain.job_postings import JobPosting

    return JobPosting.model_validate(job_fields(external_id, **overrides)).to_wire()


async def state_when(
    jobs: JobsClient, cid: str, check: Callable[[JobState], bool], external_id: str = "job-1"
) -> JobState:
    return await eventually(lambda: jobs.state(cid, external_id), check)


async def test_create_answers_with_the_task_and_lists_the_job(
    jobs: JobsClient, onboarded: Onboard, cid: str
) -> None:
    await onboarded(cid, enable=False)
    operation = await jobs.create(cid, wire())
    assert operation.kind == "CREATE" and operation.outcome == "QUEUED"  # answered at once
    state = await state_when(jobs, cid, lambda s: s.status == JobStatus.LISTED)
    assert (state.operations[0].task_id or "").startswith("urn:li:simpleJobPostingTask:")
    assert (
        state.job_id
        and state.job_posting_url == f"https://www.linkedin.com/jobs/view/{state.job_id}"
    )
    assert (state.listing_type, state.listing_status, state.promotion_status) == (
        "BASIC",
        "LISTED",
        "NOT_PROMOTED",
    )
    assert state.expire_at is not None and state.listed_at is not None
    assert state.expire_at - state.listed_at == 180 * DAY
    assert state.operations[0].outcome == "SUCCEEDED"
    assert state.operations[0].task_status == "SUCCEEDED"


async def test_create_is_idempotent(
    jobs: JobsClient, onboarded: Onboard, cid: str, sandbox: SandboxControl
) -> None:
    await onboarded(cid, enable=False)
    job = wire()
    first = await jobs.create(cid, job, wait=True)
    again = await jobs.create(cid, job, wait=True)  # a retry sends the same body
    assert again.id == first.id
    posts = await sandbox.requests(JOB_POSTINGS)
    assert len(posts) == 1
    with pytest.raises(Refused) as info:
        await jobs.create(cid, wire(title="Another title"))
    assert "already exists at LinkedIn" in info.value.message


async def test_the_lifecycle_create_upgrade_renew_downgrade_close(
    jobs: JobsClient, onboarded: Onboard, cid: str, temporal_env: WorkflowEnvironment
) -> None:
    await onboarded(cid)
    await jobs.create(cid, wire(), wait=True)
    basic = await jobs.state(cid, "job-1")

    upgrade = await jobs.upgrade(cid, "job-1", CONTRACT, wait=True)
    assert upgrade.outcome == "SUCCEEDED"
    upgraded = await jobs.state(cid, "job-1")
    assert (upgraded.job_id, upgraded.job_posting_url) == (basic.job_id, basic.job_posting_url)
    assert (upgraded.listing_type, upgraded.promotion_status) == ("PREMIUM", "PROMOTED")
    assert upgraded.expire_at - upgraded.listed_at == 30 * DAY
    assert upgraded.discrepancies == []

    renew = await jobs.renew(cid, "job-1", wait=True)
    assert renew.outcome == "SUCCEEDED"

    downgrade = await jobs.downgrade(cid, "job-1", wait=True)
    downgraded = await jobs.state(cid, "job-1")
    assert downgrade.job_id_before == basic.job_id
    assert downgraded.job_id != basic.job_id
    assert downgraded.job_posting_url == f"https://www.linkedin.com/jobs/view/{downgraded.job_id}"
    assert downgraded.job_posting_url != basic.job_posting_url
    assert [(r.job_id, r.job_posting_url) for r in downgraded.replaced_listings] == [
        (basic.job_id, basic.job_posting_url)
    ]
    assert (
        downgraded.listing_type == "BASIC"
        and downgraded.expire_at - downgraded.listed_at != 30 * DAY
    )

    closing = await jobs.close(cid, "job-1", wait=True)
    assert closing.outcome == "SUCCEEDED"
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    final = JobState.model_validate(await handle.result())
    assert final.status == "CLOSED" and final.listing_status == "NOT_LISTED"
    assert [op.kind for op in final.operations] == [
        "CREATE",
        "UPGRADE",
        "RENEW",
        "DOWNGRADE",
        "CLOSE",
    ]
    await record_history(handle, "job_create_upgrade_renew_downgrade_close")


async def timers_started(temporal_env: WorkflowEnvironment, cid: str) -> int:
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    return len(
        [
            event
            async for event in handle.fetch_history_events()
            if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        ]
    )


async def wake_at(temporal_env: WorkflowEnvironment, cid: str) -> datetime | None:
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    return (await handle.describe()).typed_search_attributes.get(JOB_WAKE_AT)


async def test_a_lifecycle_starts_no_timer_and_publishes_its_wake_time(
    jobs: JobsClient, onboarded: Onboard, cid: str, temporal_env: WorkflowEnvironment
) -> None:
    """Timers are billed actions: callers time their own waits, and the job's next timed
    event rides on its status upserts as JobWakeAt, for the wake-up sweep."""
    await onboarded(cid)
    operations = [await jobs.create(cid, wire(), wait=True)]
    basic = await jobs.state(cid, "job-1")
    assert await wake_at(temporal_env, cid) == basic.expire_at  # 180 days
    operations.append(await jobs.update(cid, wire(title="Staff Engineer"), wait=True))
    operations.append(await jobs.upgrade(cid, "job-1", CONTRACT, wait=True))
    premium = await jobs.state(cid, "job-1")
    assert await wake_at(temporal_env, cid) == premium.expire_at  # 30 days
    operations.append(await jobs.downgrade(cid, "job-1", wait=True))
    operations.append(await jobs.close(cid, "job-1", wait=True))
    assert [op.outcome for op in operations] == ["SUCCEEDED"] * 5
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    await handle.result()
    assert await timers_started(temporal_env, cid) == 0
    assert await wake_at(temporal_env, cid) is None
    await record_history(handle, "job_lifecycle_woken_by_sweep")


async def sweep(temporal_env: WorkflowEnvironment, settings: Settings) -> int:
    """One run of what the wake-up schedule runs."""
    woken: int = await temporal_env.client.execute_workflow(
        JOB_WAKEUPS_WORKFLOW_TYPE,
        timedelta(minutes=1),
        id=f"job-wakeups-test/{uuid.uuid4()}",
        task_queue=settings.task_queue,
        result_type=int,
    )
    return woken


async def test_the_sweep_wakes_the_jobs_due_and_leaves_the_others(
    jobs: JobsClient,
    onboarded: Onboard,
    cid: str,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    await onboarded(cid)
    expire_at = now_ms() + 3000
    await jobs.create(cid, wire("soon", expire_at=expire_at), wait=True)
    await jobs.create(cid, wire("later"), wait=True)
    await asyncio.sleep(max(0.0, expire_at / 1000 - time.time()) + 0.2)
    await eventually(lambda: sweep(temporal_env, settings), lambda woken: woken >= 1)
    expired = await state_when(jobs, cid, lambda s: s.status == JobStatus.EXPIRED, "soon")
    assert "renew or close" in expired.waiting_for
    assert (await jobs.state(cid, "later")).status == JobStatus.LISTED


@pytest.mark.parametrize(
    "ensure, schedule_id, workflow_type",
    [
        (ensure_job_wakeups, job_wakeups_schedule_id, JOB_WAKEUPS_WORKFLOW_TYPE),
        (ensure_job_status_checks, job_status_checks_schedule_id, JOB_STATUS_CHECKS_WORKFLOW_TYPE),
    ],
)
async def test_setup_keeps_one_schedule_per_sweep_and_task_queue(
    temporal_env: WorkflowEnvironment,
    ensure: Callable[[Client, str, timedelta], Awaitable[None]],
    schedule_id: Callable[[str], str],
    workflow_type: str,
) -> None:
    task_queue = f"sweeps-{uuid.uuid4().hex[:8]}"
    client = temporal_env.client
    await ensure(client, task_queue, timedelta(minutes=15))
    await ensure(client, task_queue, timedelta(minutes=5))  # changed: updated
    handle = client.get_schedule_handle(schedule_id(task_queue))
    try:
        schedule = (await handle.describe()).schedule
        assert [i.every for i in schedule.spec.intervals] == [timedelta(minutes=5)]
        action = schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == (workflow_type, task_queue)
    finally:
        await handle.delete()


async def test_a_caller_waits_as_long_as_it_asked_and_leaves_no_update_behind(
    jobs: JobsClient,
    onboarded: Onboard,
    cid: str,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
) -> None:
    await onboarded(cid)
    await sandbox.settings(taskDelaySeconds=4)
    running = await jobs.create(cid, wire(), wait=True, wait_seconds=1)
    assert running.outcome == "RUNNING"
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    kinds = [event.event_type async for event in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED in kinds  # not in flight
    assert await timers_started(temporal_env, cid) == 0
    done = await jobs.await_operation(cid, "job-1", running.id)
    assert done.outcome == "SUCCEEDED"


async def test_p4p_upgrade_and_renew_with_a_new_budget(
    jobs: JobsClient,
    onboarded: Onboard,
    cid: str,
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
) -> None:
    customer = await onboarded(cid, enable=False)
    contract = (await linkedin.setup_hiring_contract(customer.creds, 67890)).contract
    await jobs.create(cid, wire(), wait=True)
    await jobs.upgrade(cid, "job-1", contract, budget=P4P, wait=True)
    upgraded = await jobs.state(cid, "job-1")
    assert upgraded.budget is not None and upgraded.expire_at - upgraded.listed_at == 30 * DAY
    await sandbox.advance(10 * 86400)
    new_budget = {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "300.00"}}
    await jobs.renew(cid, "job-1", new_budget, wait=True)
    renewed = await jobs.state(cid, "job-1")
    assert renewed.budget.pay_for_performance_total_budget.amount == "300.00"
    assert renewed.expire_at - upgraded.expire_at == pytest.approx(
        10 * DAY, abs=timedelta(seconds=5)
    )
    sent = (await sandbox.requests(JOB_POSTINGS))[-1]["body"]["elements"][0]
    assert (sent["jobPostingOperationType"], sent["budget"]) == ("RENEW", new_budget)


async def test_a_failed_task_fails_the_operation_not_the_workflow(
    jobs: JobsClient, onboarded: Onboard, cid: str, sandbox: SandboxControl
) -> None:
    await onboarded(cid, enable=False)
    await sandbox.fail_next_tasks("Job posting failed: the description contains disallowed HTML")
    failed = await jobs.create(cid, wire(), wait=True)
    assert failed.outcome == "FAILED" and "disallowed HTML" in failed.error
    state = await jobs.state(cid, "job-1")
    assert state.status == "FAILED" and "disallowed HTML" in state.waiting_for
    corrected = await jobs.create(cid, wire(description="A clean description. " * 6), wait=True)
    assert corrected.outcome == "SUCCEEDED"
    await sandbox.fail_next_tasks("Job posting failed: location could not be resolved")
    update = await jobs.update(cid, wire(location="Nowhere"), wait=True)
    assert update.outcome == "FAILED"
    assert (await jobs.state(cid, "job-1")).status == "LISTED"
    fixed = await jobs.update(cid, wire(location="Oakland, CA"), wait=True)
    assert fixed.outcome == "SUCCEEDED"
    assert (await jobs.state(cid, "job-1")).posting.location == "Oakland, CA"


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (
            {
                "listingType": "PREMIUM",
                "contract": CONTRACT,
                "budget": {
                    "payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "1.000"}
                },
            },
            "at most two decimal places",
        ),
        (
            {
                "listingType": "PREMIUM",
                "contract": CONTRACT,
                "budget": {
                    "payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "10001.00"}
                },
            },
            "less than 10,000 USD",
        ),
        (
            {"listingType": "PREMIUM", "partnerJobCampaignId": "c1", "contract": CONTRACT},
            "contract: must be left out for RAA",
        ),
        (
            {"listingType": "PREMIUM", "partnerJobCampaignId": "c1", "budget": P4P},
            "budget: must be left out for RAA",
        ),
        (
            {"listingType": "BASIC", "partnerJobCampaignId": "c1"},
            "listingType: must be PREMIUM for RAA",
        ),
        ({"description": "short"}, "at least 100 characters"),
    ],
)
async def test_bad_jobs_are_refused_before_anything_is_sent(
    jobs: JobsClient, cid: str, sandbox: SandboxControl, overrides: dict[str, Any], fragment: str
) -> None:
    job = wire()
    job.update(overrides)
    with pytest.raises(ValidationError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        await jobs.create(cid, job)
    assert await sandbox.requests() == []


async def test_workflow_validators_refuse_what_does_not_fit_the_job(
    jobs: JobsClient, onboarded: Onboard, cid: str, sandbox: SandboxControl
) -> None:
    await onboarded(cid)
    await jobs.create(cid, wire(), wait=True)
    posts_before = len(await sandbox.requests(JOB_POSTINGS))
    cases = [
        (jobs.downgrade(cid, "job-1"), "downgrade: the job is BASIC already"),
        (
            jobs.update(cid, wire(listingType="PREMIUM", contract=CONTRACT)),
            "use upgrade or downgrade",
        ),
        (jobs.renew(cid, "job-1", P4P), "only P4P jobs"),
        (jobs.upgrade(cid, "job-1", CONTRACT, expire_at=1), "expireAt: must be after listedAt"),
    ]
    for call, fragment in cases:
        with pytest.raises(Refused) as info:
            await call
        assert fragment in info.value.message, info.value.message
    assert len(await sandbox.requests(JOB_POSTINGS)) == posts_before
    state = await jobs.state(cid, "job-1")
    assert len(state.operations) == 1  # nothing entered history


async def test_duplicate_create_after_a_dropped_answer_is_reconciled(
    jobs: JobsClient, onboarded: Onboard, cid: str, sandbox: SandboxControl
) -> None:
    await onboarded(cid, enable=False)
    await sandbox.fault("simpleJobPostings", dropNext=1)
    operation = await jobs.create(cid, wire(), wait=True)
    assert operation.outcome == "SUCCEEDED"
    assert "answer was lost; LinkedIn had applied it" in (operation.note or "")
    state = await jobs.state(cid, "job-1")
    assert state.status == "LISTED" and state.job_id
    tasks = (await sandbox.state())["tasks"]
    assert [t["status"] for t in tasks] == ["SUCCEEDED"]  # read back, never sent twice
    assert len(await sandbox.requests(JOB_POSTINGS)) == 1
    assert len([j for j in (await sandbox.state())["jobs"]]) == 1


async def test_close_of_a_job_closed_behind_our_back(
    jobs: JobsClient,
    onboarded: Onboard,
    cid: str,
    sandbox: SandboxControl,
    linkedin: LinkedInClient,
) -> None:
    customer = await onboarded(cid, enable=False)
    await jobs.create(cid, wire(), wait=True)
    from domain.job_postings import JobPosting

    close = JobPosting.model_validate({**wire(), "jobPostingOperationType": "CLOSE"})
    await linkedin.submit_jobs(customer.creds, [close])  # someone else closed it
    operation = await jobs.close(cid, "job-1", wait=True)
    assert operation.outcome == "SUCCEEDED" and "had done it already" in (operation.note or "")


async def test_premium_on_a_contract_not_enabled_is_parked_until_enabled(
    jobs: JobsClient,
    cid: str,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    onboarding = IntegrationsClient(temporal_env.client, task_queue=settings.task_queue)
    await onboarding.start_onboarding(cid, "Globex")
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
    other = "urn:li:contract:777"
    parked = await jobs.create(cid, wire(listingType="PREMIUM", contract=other), wait=True)
    assert parked.outcome == "NEEDS_ATTENTION"
    assert f"Caller is not authorized to access the jobs for contract: {other}" in parked.error
    state = await state_when(jobs, cid, lambda s: s.status == JobStatus.NEEDS_ATTENTION)
    assert "signal retry" in state.waiting_for
    await eventually(
        lambda: _items(jobs.list_jobs(customer_id=cid, status=JobStatus.NEEDS_ATTENTION)),
        lambda found: len(found) == 1,
    )
    # The customer saves the widget for that contract: the integration workflow enables it
    # and wakes this job, which resumes on its own.
    saved = await sandbox.widget_save(
        customerId=cid, integrationContext=other, jobPosterEmail="boss@globex.com"
    )
    await onboarding.widget_saved(cid, saved.json())
    state = await state_when(jobs, cid, lambda s: s.status == JobStatus.LISTED, "job-1")
    assert state.listing_type == "PREMIUM"
    assert state.operations[0].note == f"{other} enabled again"


async def test_list_jobs_by_status(jobs: JobsClient, onboarded: Onboard, cid: str) -> None:
    await onboarded(cid, enable=False)
    await jobs.create(cid, wire("a"), wait=True)
    await jobs.create(cid, wire("b"), wait=True)
    await jobs.close(cid, "b", wait=True)
    listed = await eventually(
        lambda: _items(jobs.list_jobs(customer_id=cid, status=JobStatus.LISTED)),
        lambda found: len(found) == 1,
    )
    assert listed[0].external_job_posting_id == "a" and listed[0].listing_type == "BASIC"
    closed = await eventually(
        lambda: _items(jobs.list_jobs(customer_id=cid, status=JobStatus.CLOSED)),
        lambda found: len(found) == 1,
    )
    assert closed[0].workflow_id == job_workflow_id(cid, "b")
    first = await jobs.list_jobs(customer_id=cid, page_size=1)
    assert len(first.items) == 1 and first.next_cursor
    second = await jobs.list_jobs(customer_id=cid, page_size=1, cursor=first.next_cursor)
    assert {j.external_job_posting_id for j in first.items + second.items} == {"a", "b"}


async def test_put_creates_then_updates(jobs: JobsClient, onboarded: Onboard, cid: str) -> None:
    await onboarded(cid, enable=False)
    created = await jobs.put(cid, wire(), wait=True)
    updated = await jobs.put(cid, wire(title="Senior Software Engineer"), wait=True)
    assert (created.kind, updated.kind) == ("CREATE", "UPDATE")
    assert (await jobs.state(cid, "job-1")).posting.title == "Senior Software Engineer"


async def test_an_raa_job_is_created_through_its_campaign(
    jobs: JobsClient,
    onboarded: Onboard,
    cid: str,
    sandbox: SandboxControl,
    linkedin: LinkedInClient,
) -> None:
    customer = await onboarded(cid, enable=False)
    await linkedin.setup_hiring_contract(customer.creds, 67890)
    await sandbox.campaign("spring-campaign", clientId=customer.creds.client_id)
    created = await jobs.create(
        cid, wire(listingType="PREMIUM", partnerJobCampaignId="spring-campaign"), wait=True
    )
    assert created.outcome == "SUCCEEDED", created.error
    state = await jobs.state(cid, "job-1")
    assert (state.status, state.listing_type, state.contract) == ("LISTED", "PREMIUM", None)
    sent = (await sandbox.requests(JOB_POSTINGS))[-1]["body"]["elements"][0]
    assert "contract" not in sent and "budget" not in sent
    with pytest.raises(Refused) as info:
        await jobs.renew(cid, "job-1")
    assert "RENEW is not supported for RAA jobs" in info.value.message


async def _items(page: Awaitable[JobPage]) -> list[JobSummary]:
    return (await page).items
