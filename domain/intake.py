"""What LinkedIn hands us, made durable in one workflow start for all that came together.

Each event and application is its own workflow (its id dedupes redeliveries), but starting
one per POST costs one server round trip each, serialised on the server: a burst of 100
waits for 100 starts (on a 2-vCPU dev server, 0.6 s at p99 with nothing else running). So
the API starts one LinkedInIntakeWorkflow for everything that arrived while its previous
start was on the wire (group commit), answers LinkedIn once that one start is durable, and
the intake workflow starts each event's or application's own workflow as a child (parent
close policy ABANDON), where its id still refuses a redelivery."""

from __future__ import annotations

from pydantic import BaseModel

from domain.applications import ReceivedApplication
from domain.linkedin_events import ReceivedEvent

LINKEDIN_INTAKE_WORKFLOW_TYPE = "LinkedInIntakeWorkflow"
MAX_INTAKE_ITEMS = 100
"""Events and applications one intake start carries at most."""
MAX_INTAKE_BYTES = 1024 * 1024
"""Serialised bytes of the items one intake start carries at most (one larger item goes
alone): its input and its children's stay well under Temporal's 2 MB payload limit, with
room for the encoding."""


class IntakeBatch(BaseModel):
    """The LinkedInIntakeWorkflow's input: what came in one group commit, in arrival order
    within each kind."""

    customer_id: str | None = None
    """Whose applications these are (a batch carries one customer's); None for events."""
    events: list[ReceivedEvent] = []
    applications: list[ReceivedApplication] = []


class IntakeOutcome(BaseModel):
    """How many of the batch started a workflow, and how many met one already open (a
    redelivery, or a resync asked again)."""

    started: int = 0
    already_there: int = 0


def intake_workflow_id(batch_id: str) -> str:
    return f"linkedin-intake/{batch_id}"
