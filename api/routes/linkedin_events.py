"""What LinkedIn sent us, for the ATS: events listed with what became of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LinkedInEvents
from client.linkedin_events import MAX_LISTED, LinkedInEventSummary
from domain.linkedin_events import EventOutcome

router = APIRouter(tags=["linkedin"])


@router.get("/v1/linkedin-events")
async def list_linkedin_events(
    client: LinkedInEvents,
    outcome: EventOutcome | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = 100,
) -> list[LinkedInEventSummary]:
    """The latest events LinkedIn sent, newest first; `outcome=UNMATCHED` lists those
    naming a customer or job we do not hold."""
    return await client.list_events(outcome, limit)
