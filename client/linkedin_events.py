"""LinkedInEventsClient: hand an event LinkedIn sent to Temporal, and list what became of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.documents import Document
from domain.linkedin_events import (
    ASKED_AGAIN,
    DEFAULT_DEDUPE_SECONDS,
    LINKEDIN_EVENT_WORKFLOW_TYPE,
    AskedAgain,
    EventOutcome,
    EventType,
    ReceivedEvent,
    SignatureForm,
    event_digest,
    linkedin_event_workflow_id,
)
from domain.visibility import first, where
from workflows.search_attributes import CUSTOMER_ID, LINKEDIN_EVENT_OUTCOME, LINKEDIN_EVENT_TYPE

MAX_LISTED = 1000


class AcceptedEvent(Document):
    event_id: str
    duplicate: bool
    """LinkedIn sent these bytes before: nothing new was started."""


class LinkedInEventSummary(Document):
    event_id: str
    type: str | None = None
    outcome: str | None = None
    customer_id: str | None = None
    received_at: datetime | None = None
    running: bool = False


class LinkedInEventsClient:
    def __init__(
        self, temporal: Client, task_queue: str, dedupe_seconds: int = DEFAULT_DEDUPE_SECONDS
    ) -> None:
        self._temporal = temporal
        self._task_queue = task_queue
        self._dedupe_seconds = dedupe_seconds

    async def accept(
        self, body: bytes, form: SignatureForm, customer_id: str | None = None
    ) -> AcceptedEvent:
        """Durable once this returns: a LinkedInEventWorkflow named by the body's digest.
        The same bytes again start nothing while it is open (the dedupe window; a resync's
        are handed to it, which may route them again); after it, they are a new event."""
        digest = event_digest(body)
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        content = (
            parsed
            if isinstance(parsed, dict)
            else {"unparsed": body[:2000].decode("utf-8", "replace")}
        )
        received = ReceivedEvent(
            digest=digest,
            received_at=datetime.now(UTC),
            body=content,
            customer_id=customer_id,
            signature_form=form,
            dedupe_seconds=self._dedupe_seconds,
        )
        kind = content.get("type")
        attributes = [
            SearchAttributePair(LINKEDIN_EVENT_TYPE, str(kind)[:100] if kind else "UNKNOWN"),
            SearchAttributePair(LINKEDIN_EVENT_OUTCOME, str(EventOutcome.RECEIVED)),
        ]
        if customer_id:
            attributes.append(SearchAttributePair(CUSTOMER_ID, customer_id))
        for _ in range(2):  # a second time only if it closed between start and signal
            try:
                await self._temporal.start_workflow(
                    LINKEDIN_EVENT_WORKFLOW_TYPE,
                    received,
                    id=linkedin_event_workflow_id(digest),
                    task_queue=self._task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    search_attributes=TypedSearchAttributes(attributes),
                )
            except WorkflowAlreadyStartedError:  # open: these bytes came within the window
                if kind != EventType.RESYNC_JOBS:
                    return AcceptedEvent(event_id=digest, duplicate=True)
                handle = self._temporal.get_workflow_handle(linkedin_event_workflow_id(digest))
                try:  # maybe LinkedIn asking again: the workflow decides
                    await handle.signal(ASKED_AGAIN, AskedAgain(at=received.received_at))
                except RPCError as error:
                    if error.status != RPCStatusCode.NOT_FOUND:
                        raise
                    continue
                return AcceptedEvent(event_id=digest, duplicate=True)
            return AcceptedEvent(event_id=digest, duplicate=False)
        return AcceptedEvent(event_id=digest, duplicate=True)

    async def list_events(
        self, outcome: EventOutcome | None = None, limit: int = 100
    ) -> list[LinkedInEventSummary]:
        """The latest events, newest first, filtered by outcome."""
        listing = where(
            WorkflowType=LINKEDIN_EVENT_WORKFLOW_TYPE,
            LinkedInEventOutcome=str(outcome) if outcome else None,
        )
        found = []
        async for execution in self._temporal.list_workflows(
            listing.query, limit=min(limit, MAX_LISTED)
        ):
            attributes = execution.search_attributes
            found.append(
                LinkedInEventSummary(
                    event_id=execution.id.rsplit("/", 1)[-1],
                    type=first(attributes.get("LinkedInEventType")),
                    outcome=first(attributes.get("LinkedInEventOutcome")),
                    customer_id=first(attributes.get("CustomerId")),
                    received_at=execution.start_time,
                    running=execution.status == WorkflowExecutionStatus.RUNNING,
                )
            )
        return found
