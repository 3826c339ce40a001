"""The job workflow never applies an operation twice, never fails, never hangs.

Each test reproduces one way the first version broke (issue: job lifecycle exactly once),
on the dev server against the sandbox over loopback.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.jobs import FORBIDDEN_READ_ATTEMPTS
from client.errors import Refused
from client.integrations import IntegrationsClient
from client.jobs import JobsClient, UnknownCustomer
from domain.job_postings import JobPosting
from domain.job_workflow import (
    JOB_WORKFLOW_TYPE,
    RUN_JOB_OPERATION,
    CreateJob,
    JobInput,
    JobOperationResult,
    JobSignal,
    JobState,
    JobStatus,
    JobUpdate,
    Operation,
    ResyncJob,
    RunJobOperation,
    job_workflow_id,
)
from linkedin import LinkedInClient
from settings import Settings
from tests.jobs_support import job_fields, onboard_for_jobs, onboard_with_contract
from tests.sandbox_control import JOB_POSTINGS, SandboxControl
from tests.temporal_support import eventually, record_history
from workflows.job import JobPostingWorkflow

CONTRACT = "urn:li:contract:555"
NOT_AUTHORISED = "urn:li:contract:999"
pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def jobs(temporal_env: WorkflowEnvironment, settings: Settings) -> JobsClient:
    return JobsClient(temporal_env.client, task_queue=settings.task_queue)


@pytest.fixture
async def customer(
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> str:
    """An onboarded customer with premium contract 555 enabled."""
    await onboard_with_contract(linkedin, sandbox, settings, temporal_env.client, cid, CONTRACT)
    return cid


def wire(external_id: str = "job-1", **overrides: Any) -> dict[str, Any]:
    return JobPosting.model_validate(job_fields(external_id, **overrides)).to_wire()


async def sent(sandbox: SandboxControl, operation: str, listing: str | None = None) -> int:
    """How many simpleJobPostings elements of this operation reached the sandbox."""
    count = 0
    for entry in await sandbox.requests(JOB_POSTINGS):
        for element in (entry.get("body") or {}).get("elements", []):
            if element.get("jobPostingOperationType") == operation and (
                listing is None or element.get("listingType") == listing
            ):
                count += 1
    return count


async def test_every_write_reaches_linkedin_once_though_its_answer_is_lost(
    jobs: JobsClient, customer: str, sandbox: SandboxControl
) -> None:
    steps = [
        ("CREATE", None, lambda: jobs.create(customer, wire(), wait=True)),
        ("UPDATE", "PREMIUM", lambda: jobs.upgrade(customer, "job-1", CONTRACT, wait=True)),
        ("RENEW", None, lambda: jobs.renew(customer, "job-1", wait=True)),
        ("UPDATE", "BASIC", lambda: jobs.downgrade(customer, "job-1", wait=True)),
        ("CLOSE", None, lambda: jobs.close(customer, "job-1", wait=True)),
    ]
    for operation, listing, call in steps:
        await sandbox.fault("simpleJobPostings", dropNext=1)
        done = await call()
        assert done.outcome == "SUCCEEDED", (operation, done.error)
        assert "answer was lost" in (done.note or ""), operation
        assert await sent(sandbox, operation, listing) == 1, operation
    state = await jobs.state(customer, "job-1")
    assert state.status == JobStatus.CLOSED and len(state.replaced_listings) == 1


def _promoted(state: JobState) -> bool:
    return state.promotion_status == "PROMOTED"


@pytest.mark.parametrize("told", [True, False], ids=["told", "not told"])
@pytest.mark.parametrize(
    ("fault", "note"),
    [
        ({"dropNext": 1}, "answer was lost"),  # LinkedIn upgraded it; the answer was lost
        ({"failNext": 1, "status": 503}, None),  # the upgrade never got through
    ],
    ids=["applied, answer lost", "not applied"],
)
async def test_an_upgrade_is_not_told_by_a_promotion_linkedin_made_itself(
    jobs: JobsClient,
    customer: str,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    fault: dict[str, Any],
    note: str | None,
    told: bool,
) -> None:
    """LinkedIn promotes the job on its own while an upgrade's answer is uncertain: the
    soak sent such an upgrade twice, a chaos run took one as done that LinkedIn never did."""
    await jobs.create(customer, wire(), wait=True)
    await sandbox.change_at_linkedin(customer, "job-1", promotionStatus="PROMOTED")
    if told:  # LinkedIn's webhook routes as a check_status signal: the job reads it
        handle = temporal_env.client.get_workflow_handle(job_workflow_id(customer, "job-1"))
        await handle.signal(JobSignal.CHECK_STATUS)
        await eventually(lambda: jobs.state(customer, "job-1"), _promoted)
    await sandbox.fault("simpleJobPostings", **fault)
    done = await jobs.upgrade(customer, "job-1", CONTRACT, wait=True)
    assert done.outcome == "SUCCEEDED", done.error
    assert (note is None) or note in (done.note or "")
    linkedin = await sandbox.state()
    upgrades = [t for t in linkedin["tasks"] if t["operation"] == "UPDATE"]
    assert [t["status"] for t in upgrades] == ["SUCCEEDED"]  # a 503 made no task
    (job,) = [j for j in linkedin["jobs"] if j["external_id"] == "job-1"]
    assert job["listing_type"] == "PREMIUM"


async def test_a_status_read_linkedin_refuses_after_the_task_parks_nothing_and_is_read_again(
    jobs: JobsClient, customer: str, sandbox: SandboxControl, temporal_env: WorkflowEnvironment
) -> None:
    """Once it parked the CREATE LinkedIn had done, until an operator retried (issue 18):
    the task SUCCEEDED, so the operation did; the job reads LinkedIn again until it can."""
    await sandbox.fault(
        "jobPostingStatus",
        failNext=FORBIDDEN_READ_ATTEMPTS,
        status=403,
        message="Not enough permissions",
    )
    created = await jobs.create(customer, wire(), wait=True)
    assert created.outcome == "SUCCEEDED" and "Not enough permissions" in (created.note or "")
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(customer, "job-1"))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    state = await eventually(
        lambda: jobs.state(customer, "job-1"), lambda s: s.status == "LISTED", within=60
    )
    assert state.job_posting_url and state.status_read_at
    assert await sent(sandbox, "CREATE") == 1


async def test_a_parked_operation_blocks_no_caller_and_can_be_cancelled(
    jobs: JobsClient, customer: str, sandbox: SandboxControl
) -> None:
    await jobs.create(customer, wire(), wait=True)
    parked = await jobs.upgrade(customer, "job-1", NOT_AUTHORISED, wait=True)
    assert parked.outcome == "NEEDS_ATTENTION"
    queued = await asyncio.wait_for(jobs.update(customer, wire(title="Staff Engineer")), 5)
    assert queued.outcome == "QUEUED"
    waited = await asyncio.wait_for(
        jobs.renew(customer, "job-1", wait=True), 40
    )  # answers as it stands after its wait, never hangs
    assert waited.outcome == "QUEUED"
    await jobs.retry(customer, "job-1", parked.id)  # still not authorised: parks again
    again = await jobs.await_operation(customer, "job-1", parked.id)
    assert again.outcome == "NEEDS_ATTENTION"
    await jobs.cancel(customer, "job-1", parked.id)
    done = await jobs.await_operation(customer, "job-1", queued.id)
    assert done.outcome == "SUCCEEDED"
    state = await jobs.state(customer, "job-1")
    assert [op.outcome for op in state.operations][:2] == ["SUCCEEDED", "CANCELLED"]
    with pytest.raises(ValidationError, match=r"urn:li:contract:<digits>"):
        await jobs.upgrade(customer, "job-1", "urn:li:contract:abc")


async def test_a_resync_goes_out_past_an_update_queued_behind_a_parked_operation(
    jobs: JobsClient, customer: str, sandbox: SandboxControl, temporal_env: WorkflowEnvironment
) -> None:
    """The soak's finding: an UPDATE queued behind a parked upgrade stood in for LinkedIn's
    resync and never ran, so LinkedIn's half hour passed unanswered. The resend goes out
    with the job as LinkedIn last accepted it; the queued UPDATE still waits its turn."""
    await jobs.create(customer, wire(), wait=True)
    parked = await jobs.upgrade(customer, "job-1", NOT_AUTHORISED, wait=True)
    assert parked.outcome == "NEEDS_ATTENTION"
    queued = await jobs.update(customer, wire(title="Queued behind"))
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(customer, "job-1"))
    await handle.signal(JobSignal.RESYNC, ResyncJob(request_id="rs-1"))
    await eventually(lambda: jobs.state(customer, "job-1"), lambda s: s.resyncs == ["rs-1"])
    await record_history(handle, "job_resync_behind_a_queued_update")
    resend = await jobs.await_operation(customer, "job-1", "resync-rs-1")
    assert resend.outcome == "SUCCEEDED"
    updates = [e for e in await sandbox.job_submissions() if e.get("listingType") != "PREMIUM"]
    assert [(e["jobPostingOperationType"], e["title"]) for e in updates] == [
        ("CREATE", wire()["title"]),
        ("UPDATE", wire()["title"]),
    ]
    state = await jobs.state(customer, "job-1")
    assert state.operation(queued.id).outcome == "QUEUED"  # type: ignore[union-attr]
    # The first history was recorded before RESYNC_OWN_RESEND, this one with it.
    await record_history(handle, "job_resync_sent_past_a_parked_operation")


async def test_continue_as_new_with_a_parked_and_a_queued_operation(
    jobs: JobsClient,
    customer: str,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    client = temporal_env.client
    workflow_id = job_workflow_id(customer, "job-1")
    await client.start_workflow(
        JOB_WORKFLOW_TYPE,
        JobInput(customer_id=customer, external_job_posting_id="job-1", max_history_length=40),
        id=workflow_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    await jobs.create(customer, wire(), wait=True)
    parked = await jobs.upgrade(customer, "job-1", NOT_AUTHORISED, wait=True)
    queued = await jobs.update(customer, wire(title="Queued behind"))
    handle = client.get_workflow_handle(workflow_id)
    first_run = (await handle.describe()).run_id
    for _ in range(12):  # grow the history past max_history_length
        await jobs.retry(customer, "job-1", parked.id)
    await eventually(handle.describe, lambda d: d.run_id != first_run, within=30)
    state = await eventually(
        lambda: jobs.state(customer, "job-1"),
        lambda s: s.operation(parked.id).outcome == "NEEDS_ATTENTION",  # type: ignore[union-attr]
    )
    assert state.operation(queued.id).outcome == "QUEUED"  # type: ignore[union-attr]
    await jobs.cancel(customer, "job-1", parked.id)
    assert (await jobs.await_operation(customer, "job-1", queued.id)).outcome == "SUCCEEDED"


async def test_closed_and_failed_jobs_answer_for_themselves(
    jobs: JobsClient, customer: str, sandbox: SandboxControl, cid: str
) -> None:
    await jobs.create(customer, wire(), wait=True)
    closed = await jobs.close(customer, "job-1", wait=True)
    assert (await jobs.close(customer, "job-1")).id == closed.id  # a second close: the first
    for call in (
        jobs.upgrade(customer, "job-1", CONTRACT),
        jobs.renew(customer, "job-1"),
        jobs.put(customer, wire()),
    ):
        with pytest.raises(Refused, match="the job is CLOSED") as info:
            await call
        assert info.value.reason == "OperationConflict"

    await sandbox.fail_next_tasks("Company apply URL is not reachable")
    failed = await jobs.create(customer, wire("job-2"), wait=True)
    assert failed.outcome == "FAILED" and "not reachable" in (failed.error or "")
    corrected = await jobs.put(customer, wire("job-2", title="Corrected"), wait=True)
    assert corrected.kind == "CREATE" and corrected.outcome == "SUCCEEDED"

    await sandbox.fail_next_tasks("Company apply URL is not reachable")
    await jobs.create(customer, wire("job-3"), wait=True)
    discarded = await jobs.discard(customer, "job-3")
    assert discarded.outcome == "SUCCEEDED"
    assert (await jobs.state(customer, "job-3")).status == JobStatus.DISCARDED

    with pytest.raises(UnknownCustomer, match="has not been onboarded"):
        await jobs.create(f"{cid}-never", wire())


async def test_a_job_sent_while_onboarding_runs_waits_for_the_credentials(
    jobs: JobsClient, temporal_env: WorkflowEnvironment, settings: Settings, cid: str
) -> None:
    onboarding = IntegrationsClient(temporal_env.client, task_queue=settings.task_queue)
    await onboarding.start_onboarding(cid, "Globex")
    done = await jobs.create(cid, wire(), wait=True)
    assert done.outcome == "SUCCEEDED", done.error


async def test_an_idempotency_key_applies_a_request_once(
    jobs: JobsClient, customer: str, sandbox: SandboxControl
) -> None:
    await jobs.create(customer, wire(), wait=True)
    first = await jobs.upgrade(customer, "job-1", CONTRACT, wait=True, idempotency_key="k-1")
    again = await jobs.upgrade(customer, "job-1", CONTRACT, wait=True, idempotency_key="k-1")
    assert again.id == first.id == "k-1" and again.outcome == "SUCCEEDED"
    assert await sent(sandbox, "UPDATE", "PREMIUM") == 1
    body = wire(title="Same")
    put = await jobs.put(customer, body, wait=True)
    same = await jobs.put(customer, body, wait=True)
    assert same.id == put.id  # the same body again sends nothing
    assert await sent(sandbox, "UPDATE") == 2


async def test_ids_are_encoded_so_no_two_jobs_share_a_workflow(
    jobs: JobsClient,
    linkedin: LinkedInClient,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    a, b = f"{cid}/x", cid
    for customer_id in (a, b):
        await onboard_for_jobs(linkedin, settings, temporal_env.client, customer_id)
    await jobs.create(a, wire("job1"), wait=True)
    await jobs.create(b, wire("x/job1"), wait=True)
    await jobs.close(a, "job1", wait=True)
    assert (await jobs.state(b, "x/job1")).status == JobStatus.LISTED
    assert (await jobs.state(a, "job1")).status == JobStatus.CLOSED


@activity.defn(name=RUN_JOB_OPERATION)
async def broken_operation(request: RunJobOperation) -> JobOperationResult:
    raise ApplicationError("the credential key is wrong", type="Boom", non_retryable=True)


async def test_an_activity_that_only_fails_parks_its_operation_never_the_workflow(
    temporal_env: WorkflowEnvironment,
) -> None:
    """samples-python's mocked-activity shape: the real workflow, an activity that breaks."""
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        temporal_env.client,
        task_queue=queue,
        workflows=[JobPostingWorkflow],
        activities=[broken_operation],
    ):
        handle = await temporal_env.client.start_workflow(
            JOB_WORKFLOW_TYPE,
            JobInput(customer_id="c", external_job_posting_id="j"),
            id=f"job/c-{uuid.uuid4().hex}/j",
            task_queue=queue,
        )
        job = JobPosting.model_validate(job_fields("j"))
        parked = await handle.execute_update(
            JobUpdate.CREATE, CreateJob(job=job, wait=True), result_type=Operation
        )
        assert parked.outcome == "NEEDS_ATTENTION" and "credential key" in (parked.error or "")
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
