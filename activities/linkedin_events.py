"""Routing what LinkedIn sent: which customer its app is, which workflows it names.

A job-status event makes the job read its status (the event has no timestamp, so what is
current is read, not the event trusted); a resync request makes each named open job
resend itself; an integration status push makes the customer's integrations verify. A job
we do not hold, or one that has ended, is reported, never dropped."""

from __future__ import annotations

import asyncio

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.credentials import CredentialStore
from activities.jobs import LIVE_JOBS, signal_each
from domain.integration_workflow import INTEGRATION_WORKFLOW_TYPE, STATUS_PUSHED
from domain.job_workflow import JOB_WORKFLOW_TYPE, JobSignal, ResyncJob, job_workflow_id
from domain.linkedin_events import (
    MAX_FOLLOW_UP_CHARS,
    MAX_REPORTED,
    ROUTE_LINKEDIN_EVENT,
    EventOutcome,
    IntegrationStatusChanged,
    JobRouting,
    JobStatusChanged,
    ReceivedEvent,
    ResyncRequested,
    RoutedEvent,
    UnreadableEvent,
    integration_request_read,
    parse_event,
    resync_request_id,
)
from domain.visibility import first, where
from linkedin import LinkedInClient
from linkedin.errors import LinkedInError

log = structlog.get_logger("linkedin_events")

MAX_REQUEST_ID_CHARS = 200
"""A push's request id we send back in a query; a longer one is not LinkedIn's."""
SIGNALS_AT_ONCE = 50
"""Signals a resync sends concurrently: 5,000 jobs in seconds, without a storm."""


class LinkedInEventActivities:
    def __init__(self, store: CredentialStore, temporal: Client, linkedin: LinkedInClient) -> None:
        self._store = store
        self._temporal = temporal
        self._linkedin = linkedin

    @activity.defn(name=ROUTE_LINKEDIN_EVENT)
    async def route_linkedin_event(self, received: ReceivedEvent) -> RoutedEvent:
        try:
            event = parse_event(received.body)
        except UnreadableEvent as error:
            return RoutedEvent(outcome=EventOutcome.UNREADABLE, reason=str(error))
        kind = str(event.type)
        if isinstance(event, IntegrationStatusChanged):
            return await self._push_to_integrations(received.customer_id, kind, event.request_id)
        stored = await self._store.find_application(event.developer_application_urn)
        if stored is None:
            return RoutedEvent(
                outcome=EventOutcome.UNMATCHED,
                type=kind,
                reason=f"no customer has application {event.developer_application_urn}",
            )
        customer_id = stored.customer_id
        if received.customer_id not in (None, customer_id):
            return RoutedEvent(
                outcome=EventOutcome.UNMATCHED,
                type=kind,
                customer_id=received.customer_id,
                reason="it names another customer's application",
            )
        if isinstance(event, JobStatusChanged):
            jobs = [event.external_job_posting_id]
            routed = await self._signal_jobs(customer_id, jobs, JobSignal.CHECK_STATUS, None)
        else:
            jobs = await self._resync_targets(customer_id, event)
            request = ResyncJob(request_id=resync_request_id(received))
            routed = await self._signal_jobs(customer_id, jobs, JobSignal.RESYNC, request)
        delivered = sum(job.delivered for job in routed)
        undelivered = len(routed) - delivered
        outcome = EventOutcome.ROUTED if undelivered == 0 else EventOutcome.UNMATCHED
        log.info(
            "linkedin.event_routed",
            customer_id=customer_id,
            type=kind,
            delivered=delivered,
            undelivered=undelivered,
        )
        return RoutedEvent(
            outcome=outcome,
            type=kind,
            customer_id=customer_id,
            reason=None if undelivered == 0 else f"{undelivered} job(s) not open here",
            jobs=routed[:MAX_REPORTED],
            delivered=delivered,
            undelivered=undelivered,
        )

    async def _push_to_integrations(
        self, customer_id: str | None, kind: str, request_id: str | None
    ) -> RoutedEvent:
        """An integration status push makes each of the customer's integrations verify soon:
        what changed is read from LinkedIn, not taken from the push (its fields are not
        documented). The push's request is followed up as §5 says, and what LinkedIn
        answered is kept with the event; the verify decides, whatever that answer is."""
        if customer_id is None:
            return RoutedEvent(
                outcome=EventOutcome.KEPT,
                type=kind,
                reason="an integration status push names no customer here: LinkedIn sends "
                "it to the customer's own callback path",
            )
        listing = where(
            WorkflowType=INTEGRATION_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            CustomerId=customer_id,
        )
        follow_up = await self._follow_up(customer_id, request_id)
        delivered = await signal_each(self._temporal, listing, STATUS_PUSHED)
        log.info("linkedin.event_routed", customer_id=customer_id, type=kind, delivered=delivered)
        return RoutedEvent(
            outcome=EventOutcome.ROUTED if delivered else EventOutcome.UNMATCHED,
            type=kind,
            customer_id=customer_id,
            reason=None if delivered else "no integration of this customer runs here",
            delivered=delivered,
            follow_up=follow_up,
        )

    async def _follow_up(self, customer_id: str, request_id: str | None) -> str:
        """`atsIntegrations?q=request&requestId=` with the customer's token, read in a line.
        Never fails the routing: the verify it starts reads LinkedIn anyway."""
        if not request_id or len(request_id) > MAX_REQUEST_ID_CHARS:
            return "not asked: the push names no request id we can send back"
        stored = await self._store.get(customer_id)
        if stored is None:
            return "not asked: no credentials for this customer here"
        try:
            answer = await self._linkedin.integration_request(stored.credentials, request_id)
        except LinkedInError as error:
            return f"not read: {error}"[:MAX_FOLLOW_UP_CHARS]
        return integration_request_read(answer)

    async def _resync_targets(self, customer_id: str, event: ResyncRequested) -> list[str]:
        if not event.sync_all_open_jobs:
            return list(dict.fromkeys(event.external_job_posting_ids))
        listing = where(
            WorkflowType=JOB_WORKFLOW_TYPE, ExecutionStatus="Running", CustomerId=customer_id
        )
        jobs = []
        async for execution in self._temporal.list_workflows(f"{listing.query} AND {LIVE_JOBS}"):
            attributes = execution.search_attributes
            if not listing.admits(attributes):
                continue
            job = first(attributes.get("ExternalJobPostingId"))
            if job:
                jobs.append(str(job))
                activity.heartbeat(len(jobs))
        return jobs

    async def _signal_jobs(
        self, customer_id: str, jobs: list[str], signal: JobSignal, arg: ResyncJob | None
    ) -> list[JobRouting]:
        gate = asyncio.Semaphore(SIGNALS_AT_ONCE)
        done = 0

        async def one(job: str) -> JobRouting:
            nonlocal done
            async with gate:
                handle = self._temporal.get_workflow_handle(job_workflow_id(customer_id, job))
                try:
                    await (handle.signal(signal, arg) if arg else handle.signal(signal))
                    routing = JobRouting(external_job_posting_id=job, delivered=True)
                except RPCError as error:
                    if error.status != RPCStatusCode.NOT_FOUND:
                        raise
                    routing = JobRouting(
                        external_job_posting_id=job,
                        delivered=False,
                        reason=await self._why_not_open(customer_id, job),
                    )
                done += 1
                activity.heartbeat(done)
                return routing

        return list(await asyncio.gather(*(one(job) for job in jobs)))

    async def _why_not_open(self, customer_id: str, job: str) -> str:
        handle = self._temporal.get_workflow_handle(job_workflow_id(customer_id, job))
        try:
            described = await handle.describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return "no such job here"
        if described.status == WorkflowExecutionStatus.COMPLETED:
            return "the job is closed here"
        return f"the job's workflow is {described.status.name if described.status else 'gone'}"
