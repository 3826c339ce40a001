"""Webhooks: signatures, the job's events, and signed deliveries to a real endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.webhooks import SharedRegistryReads
from cli.webhooks import receiver
from client.jobs import JobsClient
from client.webhooks import Delivery, DeliveryPage, WebhooksClient
from domain.job_postings import JobPosting
from domain.webhooks import WebhookEndpoint, endpoint_secret, sign, verify
from linkedin import LinkedInClient
from settings import Settings
from tests.jobs_support import job_fields, onboard_for_jobs
from tests.sandbox_control import SandboxControl, ServerThread
from tests.temporal_support import eventually, record_history

NOW = 1_700_000_000


def test_a_signature_verifies_and_a_tampered_or_stale_one_does_not() -> None:
    secret = endpoint_secret(b"signing-key", "we_1")
    assert secret.startswith("whsec_") and secret == endpoint_secret(b"signing-key", "we_1")
    assert secret != endpoint_secret(b"signing-key", "we_2")
    header = sign(secret, NOW, b'{"a":1}')
    assert verify(secret, header, b'{"a":1}', NOW + 10)
    assert not verify(secret, header, b'{"a":2}', NOW + 10)
    assert not verify(secret, header, b'{"a":1}', NOW + 3600)
    assert not verify("whsec_other", header, b'{"a":1}', NOW)
    assert not verify(secret, "garbage", b'{"a":1}', NOW)


class Inbox:
    def __init__(self) -> None:
        self.events: list[tuple[dict[str, Any], bool]] = []
        self.secret = ""

    def __call__(self, event: dict[str, Any], valid: bool) -> None:
        self.events.append((event, valid))


@pytest.fixture
def webhooks(temporal_env: WorkflowEnvironment, settings: Settings) -> WebhooksClient:
    return WebhooksClient(
        temporal_env.client, task_queue=settings.task_queue, signing_key=settings.webhook_key()
    )


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    received = Inbox()
    server = ServerThread(receiver(lambda: received.secret, received), health="/healthz").start()
    yield received, server.url + "/"
    server.stop()


@pytest.mark.usefixtures("worker")
async def test_job_outcomes_reach_the_ats_signed_once_each(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    linkedin: LinkedInClient,
    sandbox: SandboxControl,
    inbox: tuple[Inbox, str],
    webhooks: WebhooksClient,
    cid: str,
) -> None:
    received, url = inbox
    endpoint = await webhooks.register(url, cid)
    assert (await webhooks.register(url, cid)).id == endpoint.id
    received.secret = endpoint.secret
    await onboard_for_jobs(linkedin, settings, temporal_env.client, cid)
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue, webhooks=True)
    job = JobPosting.model_validate(job_fields("job-1")).to_wire()
    await jobs.create(cid, job, wait=True)
    await sandbox.fail_next_tasks("Company apply URL is not reachable")
    await jobs.update(cid, {**job, "title": "Staff Engineer"}, wait=True)
    await jobs.close(cid, "job-1", wait=True)
    await eventually(lambda: _async(received.events), lambda e: len(e) == 3, within=30)
    types = [event["type"] for event, _ in received.events]
    assert types == ["job.listed", "job.operation_failed", "job.closed"]
    assert all(valid for _, valid in received.events)
    listed = received.events[0][0]
    assert listed["customerId"] == cid and listed["data"]["jobPostingUrl"]
    assert "not reachable" in received.events[1][0]["data"]["operation"]["error"]
    assert len({event["id"] for event, _ in received.events}) == 3
    deliveries = await eventually(
        lambda: _items(webhooks.deliveries(cid)),
        lambda d: len(d) == 3 and all(x.status == "COMPLETED" for x in d),
    )
    assert {d.event_id for d in deliveries} == {event["id"] for event, _ in received.events}
    assert await webhooks.remove(endpoint.id)


async def _async(value: Any) -> Any:
    return value


@pytest.mark.usefixtures("worker")
async def test_integration_changes_reach_the_ats(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sandbox: SandboxControl,
    inbox: tuple[Inbox, str],
    webhooks: WebhooksClient,
    cid: str,
) -> None:
    from client.integrations import IntegrationsClient

    received, url = inbox
    received.secret = (await webhooks.register(url, cid)).secret
    onboarding = IntegrationsClient(
        temporal_env.client, task_queue=settings.task_queue, webhooks=True
    )
    await onboarding.start_onboarding(cid, "Globex")
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
    saved = await sandbox.widget_save(
        customerId=cid, integrationContext="urn:li:contract:555", jobPosterEmail="a@b.co"
    )
    await onboarding.widget_saved(cid, saved.json())
    await eventually(lambda: _async(received.events), lambda e: len(e) == 2, within=30)
    statuses = [event["data"]["status"] for event, valid in received.events if valid]
    assert statuses == ["REQUESTED", "ENABLED"]
    assert {event["type"] for event, _ in received.events} == {"integration.changed"}
    handle = temporal_env.client.get_workflow_handle(f"integration/{cid}/PREMIUM_JOB_POSTING")
    await record_history(handle, "integration_changes_with_webhooks")


async def _items(page: Awaitable[DeliveryPage]) -> list[Delivery]:
    return (await page).items


@pytest.mark.usefixtures("worker")
async def test_no_delivery_workflow_starts_when_no_endpoint_wants_the_event(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    linkedin: LinkedInClient,
    webhooks: WebhooksClient,
    cid: str,
) -> None:
    """Issue 22: 1,045 delivery workflows ran for nobody in one chaos run."""
    other = await webhooks.register("https://elsewhere.example.com/hooks", f"{cid}-other")
    await onboard_for_jobs(linkedin, settings, temporal_env.client, cid)
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue, webhooks=True)
    await jobs.create(cid, JobPosting.model_validate(job_fields("job-1")).to_wire(), wait=True)
    await jobs.close(cid, "job-1", wait=True)
    query = f'WorkflowType = "WebhookDeliveryWorkflow" AND CustomerId = "{cid}"'
    assert (await temporal_env.client.count_workflows(query)).count == 0
    assert await webhooks.remove(other.id)


# -- "is this event wanted?": reads of the registry shared by a burst ---------------------


class Registry:
    """A registry whose reads are counted and held until released."""

    def __init__(self, endpoints: list[WebhookEndpoint]) -> None:
        self.endpoints = endpoints
        self.reads = 0
        self.reading = asyncio.Event()
        self.gate = asyncio.Event()

    async def read(self) -> list[WebhookEndpoint]:
        self.reads += 1
        seen = list(self.endpoints)
        self.reading.set()
        await self.gate.wait()
        return seen


ACME = WebhookEndpoint(id="e-1", url="https://ats.example.com/hooks", customer_id="acme")


async def test_a_burst_asking_whether_it_is_wanted_shares_one_read() -> None:
    registry = Registry([ACME])
    shared = SharedRegistryReads(registry.read)
    burst = [asyncio.ensure_future(shared.targets("acme")) for _ in range(100)]
    await asyncio.sleep(0)
    registry.gate.set()
    assert all(found == [ACME] for found in await asyncio.gather(*burst))
    assert await shared.targets("acme") == [ACME]  # kept: a stale "wanted" costs nothing
    assert registry.reads == 1


async def test_nobody_wants_it_only_by_a_read_begun_after_the_question() -> None:
    registry = Registry([])
    shared = SharedRegistryReads(registry.read)
    early = asyncio.ensure_future(shared.targets("acme"))
    await registry.reading.wait()
    registry.endpoints = [ACME]  # registered while that read runs
    late = asyncio.ensure_future(shared.targets("acme"))
    await asyncio.sleep(0)
    registry.gate.set()
    assert await early == []
    assert await late == [ACME]
    assert registry.reads == 2
    registry.endpoints = []
    stale = SharedRegistryReads(registry.read, fresh_seconds=0)
    assert await stale.targets("acme") == []  # nothing kept past its freshness
