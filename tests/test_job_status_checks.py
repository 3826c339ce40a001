"""Reading LinkedIn's view of every job: a read-back refused for a moment, the scheduled
status check, and what LinkedIn changed without telling us. On a dev server."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from client.jobs import JobsClient
from client.webhooks import WebhooksClient
from domain.job_postings import JobPosting
from domain.job_workflow import JOB_STATUS_CHECKS_WORKFLOW_TYPE, JobStatus, OperationOutcome
from linkedin import LinkedInClient
from settings import Settings
from tests.cli_support import run_cli
from tests.jobs_support import job_fields, onboard_for_jobs
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS_TEXT, eventually
from tests.test_webhooks import Inbox, inbox, webhooks

pytestmark = pytest.mark.usefixtures("worker")
__all__ = ["inbox", "webhooks"]  # fixtures


def posting(external_id: str) -> dict[str, Any]:
    return JobPosting.model_validate(job_fields(external_id)).to_wire()


@pytest.fixture
async def jobs(
    temporal_env: WorkflowEnvironment, settings: Settings, linkedin: LinkedInClient, cid: str
) -> JobsClient:
    await onboard_for_jobs(linkedin, settings, temporal_env.client, cid)
    return JobsClient(temporal_env.client, task_queue=settings.task_queue, webhooks=True)


async def status_reads(sandbox: SandboxControl) -> int:
    return sum("jobPostingStatus" in entry["path"] for entry in await sandbox.requests())


async def test_a_403_on_the_read_back_is_tried_again_and_the_job_is_listed(
    jobs: JobsClient, sandbox: SandboxControl, cid: str
) -> None:
    """Broken before: one 403 parked a CREATE LinkedIn had listed, with no URL, for good."""
    await sandbox.fault("jobPostingStatus", failNext=1, status=403)
    created = await jobs.create(cid, posting("job-1"), wait=True)
    assert created.outcome == OperationOutcome.SUCCEEDED
    state = await jobs.state(cid, "job-1")
    assert state.status == JobStatus.LISTED and state.job_posting_url


async def test_a_read_back_refused_for_longer_settles_itself_without_an_operator(
    jobs: JobsClient, sandbox: SandboxControl, cid: str
) -> None:
    await sandbox.fault("jobPostingStatus", failNext=6, status=403)
    created = await jobs.create(cid, posting("job-1"), wait=True)
    assert created.outcome == OperationOutcome.SUCCEEDED and "read again" in (created.note or "")
    closing = await jobs.close(cid, "job-1")  # nothing parked: a close is not queued behind
    assert closing.outcome != OperationOutcome.NEEDS_ATTENTION
    state = await eventually(
        lambda: jobs.state(cid, "job-1"), lambda s: s.status == JobStatus.CLOSED, within=30
    )
    assert state.job_id is not None


async def test_the_status_check_finds_what_linkedin_changed_and_tells_the_ats(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    jobs: JobsClient,
    sandbox: SandboxControl,
    inbox: tuple[Inbox, str],
    webhooks: WebhooksClient,
    cid: str,
) -> None:
    received, url = inbox
    received.secret = (await webhooks.register(url, cid)).secret
    for job in ("job-a", "job-b", "job-c"):
        await jobs.create(cid, posting(job), wait=True)
    await jobs.close(cid, "job-c", wait=True)
    # LinkedIn takes job-a down and changes job-b's apply status, telling nobody.
    await sandbox.change_at_linkedin(cid, "job-a", listingStatus="NOT_LISTED", reason="Spam")
    await sandbox.change_at_linkedin(cid, "job-b", linkedInApplyStatus="ENABLED")
    await sandbox.clear_requests()

    told = await temporal_env.client.execute_workflow(
        JOB_STATUS_CHECKS_WORKFLOW_TYPE,
        timedelta(minutes=1),
        id=f"checks-{cid}",
        task_queue=settings.task_queue,
        result_type=int,
    )
    assert told >= 2  # every live job of every customer on this task queue

    a = await eventually(
        lambda: jobs.state(cid, "job-a"), lambda s: s.status == JobStatus.UNLISTED_BY_LINKEDIN
    )
    assert a.linked_in_status_message and "Spam" in a.linked_in_status_message
    b = await eventually(
        lambda: jobs.state(cid, "job-b"), lambda s: s.linked_in_apply_status == "ENABLED"
    )
    assert b.status == JobStatus.LISTED
    assert await status_reads(sandbox) <= 2  # the reads share jobPostingStatus calls

    changes = await eventually(
        lambda: _now([e for e, _ in received.events if e["type"] == "job.linkedin_changed"]),
        lambda found: len(found) == 2,
        within=30,
    )
    by_job = {e["data"]["externalJobPostingId"]: e["data"]["linkedIn"] for e in changes}
    assert by_job["job-a"]["old"]["listingStatus"] == "LISTED"
    assert by_job["job-a"]["new"]["listingStatus"] == "NOT_LISTED"
    assert by_job["job-b"]["old"]["linkedInApplyStatus"] == "NOT_ENABLED"
    assert by_job["job-b"]["new"]["linkedInApplyStatus"] == "ENABLED"

    shown = await asyncio.to_thread(run_cli, "job", "show", cid, "job-a", env=cli_env(temporal_env))
    assert shown.returncode == 0, shown.stderr
    first_lines = " ".join(shown.stdout.split())
    assert "UNLISTED_BY_LINKEDIN · LinkedIn (read" in first_lines
    assert "listing NOT_LISTED" in first_lines and "LinkedIn says: Spam" in first_lines


def cli_env(temporal_env: WorkflowEnvironment) -> dict[str, str]:
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "LINKEDIN_ATS_PAYLOAD_KEYS": TEST_KEYS_TEXT,
        "COLUMNS": "200",  # rich fits tables to the terminal: whole ids, for the asserts
    }


async def _now(value: Any) -> Any:
    return value
