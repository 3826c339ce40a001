"""The job workflow across time, worker restarts and code changes (replay)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from client.codec import PayloadKeys
from client.connection import data_converter
from client.jobs import JobsClient
from domain.job_postings import JobPosting
from domain.job_workflow import AutoRenew, JobSignal, JobStatus, job_workflow_id
from domain.linkedin_events import (
    LINKEDIN_EVENT_WORKFLOW_TYPE,
    ReceivedEvent,
    SignatureForm,
    event_digest,
    linkedin_event_workflow_id,
)
from linkedin import LinkedInClient
from settings import Settings
from tests.jobs_support import job_fields, onboard_for_jobs
from tests.sandbox_control import JOB_POSTINGS, SandboxControl
from tests.temporal_support import (
    CONVERTER,
    HISTORIES,
    eventually,
    record_history,
)
from workers.replay import replay
from workers.worker import running_worker

P4P = {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}}
DAY = timedelta(days=1)


async def p4p_customer(
    linkedin: LinkedInClient, settings: Settings, temporal: Client, cid: str
) -> str:
    customer = await onboard_for_jobs(linkedin, settings, temporal, cid)
    return (await linkedin.setup_hiring_contract(customer.creds, 67890)).contract


def p4p_job(contract: str) -> dict[str, Any]:
    fields = job_fields("job-1", listing_type="PREMIUM", contract=contract, budget=P4P)
    return JobPosting.model_validate(fields).to_wire()


async def wake(env: WorkflowEnvironment, cid: str) -> None:
    """What the wake-up sweep sends a job once its JobWakeAt has passed. This server lists
    no workflows by query, nor reads datetime search attributes back: `test_job_workflow`
    checks JobWakeAt and runs the sweep itself, on the dev server."""
    await env.client.get_workflow_handle(job_workflow_id(cid, "job-1")).signal(JobSignal.WAKE)


async def test_a_p4p_job_expires_when_woken_after_30_days(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: LinkedInClient,
    cid: str,
) -> None:
    contract = await p4p_customer(linkedin, settings, time_skipping_env.client, cid)
    jobs = JobsClient(time_skipping_env.client, task_queue=settings.task_queue)
    async with running_worker(time_skipping_env.client, settings):
        await jobs.create(cid, p4p_job(contract), wait=True)
        state = await jobs.state(cid, "job-1")
        assert state.status == "LISTED" and state.expire_at - state.listed_at == 30 * DAY
        await time_skipping_env.sleep(29 * DAY)
        await wake(time_skipping_env, cid)  # early (a listing not yet current): nothing is due
        assert (await jobs.state(cid, "job-1")).status == "LISTED"
        await time_skipping_env.sleep(2 * DAY)
        await wake(time_skipping_env, cid)
        expired = await eventually(
            lambda: jobs.state(cid, "job-1"), lambda s: s.status == JobStatus.EXPIRED
        )
    assert "renew or close" in expired.waiting_for
    handle = time_skipping_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    await record_history(handle, "job_p4p_expired_when_woken")


async def test_every_job_a_resync_names_is_back_at_linkedin_within_its_30_minutes(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: LinkedInClient,
    cid: str,
) -> None:
    """LinkedIn waits 30 minutes for a resync's jobs (linkedin-inbound.md §4). On a server
    that skips time, a resend that waits on a long timer, backoff or queue shows up as late
    at once: 101 jobs, two batches."""
    env = time_skipping_env
    customer = await onboard_for_jobs(linkedin, settings, env.client, cid)
    jobs = JobsClient(env.client, task_queue=settings.task_queue)
    ids = [f"job-{n}" for n in range(101)]
    async with running_worker(env.client, settings):
        created = await asyncio.gather(
            *(jobs.create(cid, JobPosting.model_validate(job_fields(i)).to_wire()) for i in ids)
        )
        for external_id, operation in zip(ids, created, strict=True):
            finished = await jobs.await_operation(cid, external_id, operation.id)
            assert finished.outcome == "SUCCEEDED"
        body = {
            "type": "RESYNC_JOBS",
            "developerApplicationUrn": customer.app.key,
            "syncAllOpenJobs": False,
            "externalJobPostingIds": ids,
        }
        raw = json.dumps(body).encode()
        received = ReceivedEvent(
            digest=event_digest(raw),
            received_at=datetime.now(UTC),
            body=body,
            signature_form=SignatureForm.HMAC_OF_PREFIXED_BODY,
        )  # started as the intake starts it, not through it: the test server stops
        # skipping time once a workflow has started a child (temporalio/sdk-java#1618, #2392)
        handle = await env.client.start_workflow(
            LINKEDIN_EVENT_WORKFLOW_TYPE,
            received,
            id=linkedin_event_workflow_id(received.digest),
            task_queue=settings.task_queue,
        )
        asked = (await handle.describe()).start_time
        routed = await eventually(lambda: handle.query("routed"), lambda r: r is not None)
        assert routed["delivered"] == len(ids)
        try:
            await env.sleep(timedelta(minutes=31))  # LinkedIn's half hour, skipped
        except RPCError as error:  # the clock cannot pass a resend that is still running
            raise AssertionError(f"LinkedIn's half hour could not pass: {error}") from None
        late: dict[str, object] = {}
        for external_id in ids:
            state = await jobs.state(cid, external_id)
            (resend,) = [op for op in state.operations if op.id.startswith("resync-")]
            if resend.outcome != "SUCCEEDED" or resend.finished_at is None:
                late[external_id] = resend.outcome
            elif resend.finished_at - asked > timedelta(minutes=30):
                late[external_id] = resend.finished_at - asked
    assert late == {}
    updates = [
        e for e in await sandbox.job_submissions() if e["jobPostingOperationType"] == "UPDATE"
    ]
    assert sorted(e["externalJobPostingId"] for e in updates) == sorted(ids)


async def test_renew_moves_the_wake_time(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: LinkedInClient,
    cid: str,
) -> None:
    contract = await p4p_customer(linkedin, settings, time_skipping_env.client, cid)
    jobs = JobsClient(time_skipping_env.client, task_queue=settings.task_queue)
    async with running_worker(time_skipping_env.client, settings):
        await jobs.create(cid, p4p_job(contract), wait=True)
        first = (await jobs.state(cid, "job-1")).expire_at
        await sandbox.advance(20 * 86400)  # LinkedIn's clock moves with Temporal's
        await time_skipping_env.sleep(20 * DAY)
        await jobs.renew(cid, "job-1", wait=True)
        renewed = (await jobs.state(cid, "job-1")).expire_at
        assert renewed - first == pytest.approx(20 * DAY, abs=timedelta(hours=1))
        await time_skipping_env.sleep(15 * DAY)  # past the first expiry, before the new one
        await wake(time_skipping_env, cid)
        assert (await jobs.state(cid, "job-1")).status == "LISTED"
        await time_skipping_env.sleep(16 * DAY)
        await wake(time_skipping_env, cid)
        await eventually(lambda: jobs.state(cid, "job-1"), lambda s: s.status == JobStatus.EXPIRED)
    handle = time_skipping_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    await record_history(handle, "job_renewed_woken_early_then_expired")


async def test_auto_renew_renews_before_expiry(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: LinkedInClient,
    cid: str,
) -> None:
    contract = await p4p_customer(linkedin, settings, time_skipping_env.client, cid)
    jobs = JobsClient(time_skipping_env.client, task_queue=settings.task_queue)
    async with running_worker(time_skipping_env.client, settings):
        await jobs.create(
            cid, p4p_job(contract), wait=True, auto_renew=AutoRenew(days_before=3, max_renewals=1)
        )
        first = (await jobs.state(cid, "job-1")).expire_at
        await sandbox.advance(27 * 86400)
        await time_skipping_env.sleep(27 * DAY + timedelta(hours=1))
        await wake(time_skipping_env, cid)
        state = await eventually(
            lambda: jobs.state(cid, "job-1"),
            lambda s: len(s.operations) == 2 and s.operations[1].outcome == "SUCCEEDED",
        )
    assert (
        state.operations[1].kind == "RENEW"
        and state.operations[1].note == "auto-renew before expiry"
    )
    assert state.expire_at - first == pytest.approx(27 * DAY, abs=timedelta(hours=2))
    assert state.renewals == 1 and "expiry at" in state.waiting_for  # no second renewal
    handle = time_skipping_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    await record_history(handle, "job_auto_renewed_when_woken")


async def test_worker_restart_while_waiting_for_the_task(
    temporal_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: LinkedInClient,
    cid: str,
) -> None:
    await onboard_for_jobs(linkedin, settings, temporal_env.client, cid)
    await sandbox.settings(taskDelaySeconds=4)
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    job = JobPosting.model_validate(job_fields("job-1")).to_wire()
    async with running_worker(temporal_env.client, settings):
        accepted = await jobs.create(cid, job)
        await eventually(lambda: sandbox.requests(JOB_POSTINGS), lambda r: len(r) == 1)
        await asyncio.sleep(0.5)  # the worker stops while LinkedIn works on the task
    async with running_worker(temporal_env.client, settings):
        finished = await jobs.await_operation(cid, "job-1", accepted.id)
    (task,) = (await sandbox.state())["tasks"]
    assert finished.outcome == "SUCCEEDED" and finished.task_id == task["urn"]
    assert len(await sandbox.requests(JOB_POSTINGS)) == 1
    handle = temporal_env.client.get_workflow_handle(job_workflow_id(cid, "job-1"))
    await record_history(handle, "job_created_across_a_worker_restart")


RECORDED = [
    pytest.param(json.loads(p.read_text()), id=p.stem) for p in sorted(HISTORIES.glob("*.json"))
]


@pytest.mark.parametrize("recorded", RECORDED)
async def test_recorded_histories_replay_with_todays_code(recorded: dict[str, Any]) -> None:
    """A code change that breaks determinism for running workflows fails here.

    A history may carry the throw-away payload key it was recorded under (`payload_keys`);
    the rest use the tests' fixed key."""
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    keys = recorded.get("payload_keys")
    converter = data_converter(PayloadKeys.parse(keys, "history")) if keys else CONVERTER
    tally = await replay([history], converter)
    assert tally.failed == {}
    assert tally.total == 1


async def test_a_task_that_showed_an_update_after_its_result_replays_once_split() -> None:
    """The chaos run's three histories (docs/jobs.md, "Replay safety"): their first
    execution ran the run loop on an activity's result before the update that came in the
    same task; replay delivers both at once. They replay once the runner learns to split
    that task, as a worker does on the task's retry; histories from before the patch that
    never split a task replay at once."""
    recorded = [
        json.loads(p.read_text()) for p in sorted(HISTORIES.glob("job_update_after_result_*.json"))
    ]
    assert len(recorded) == 3
    histories = [WorkflowHistory.from_json(r["workflow_id"], r["history"]) for r in recorded]
    tally = await replay(
        histories, data_converter(PayloadKeys.parse(recorded[0]["payload_keys"], "h"))
    )
    assert (tally.replayed, len(tally.healed), tally.failed) == (0, 3, {})
