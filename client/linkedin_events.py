"""LinkedInEventsClient: hand an event LinkedIn sent to Temporal, and list what became of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from client.intake import LinkedInIntake
from domain.documents import Document
from domain.linkedin_events import (
    DEFAULT_DEDUPE_SECONDS,
    LINKEDIN_EVENT_WORKFLOW_TYPE,
    EventOutcome,
    ReceivedEvent,
    SignatureForm,
    event_digest,
)
from domain.visibility import first, where

MAX_LISTED = 1000


class AcceptedEvent(Document):
    event_id: str
    """The digest of the bytes: a redelivery has the same, and starts nothing new."""


class LinkedInEventSummary(Document):
    event_id: str
    type: str | None = None
    outcome: str | None = None
    customer_id: str | None = None
    received_at: datetime | None = None
    running: bool = False


class LinkedInEventsClient:
    def __init__(
        self,
        temporal: Client,
        task_queue: str,
        dedupe_seconds: int = DEFAULT_DEDUPE_SECONDS,
        intake: LinkedInIntake | None = None,
    ) -> None:
        self._temporal = temporal
        self._dedupe_seconds = dedupe_seconds
        self._intake = intake or LinkedInIntake(temporal, task_queue)

    async def accept(
        self, body: bytes, form: SignatureForm, customer_id: str | None = None
    ) -> AcceptedEvent:
        """Durable once this returns, in the intake workflow that starts its
        LinkedInEventWorkflow, named by the body's digest. The same bytes again start nothing
        while that one is open (the dedupe window; a resync's are handed to it, which may
        route them again); after it, they are a new event."""
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
        await self._intake.hand_over(received)
        return AcceptedEvent(event_id=digest)

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
