"""A customer as the ATS sees it: its integrations, its LinkedIn app, its jobs' counts.

A customer is no workflow of its own: it is what its integration workflows (one per type)
and its job workflows say together. The rules here are pure: its headline status, when it
last changed, and which of its integrations stands for it in a listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from domain.documents import Document
from domain.integration_workflow import STATUS_RANK, ContextStatus, IntegrationState
from domain.integrations import IntegrationType
from domain.job_workflow import JobStatus
from domain.offboarding import OffboardingState, OffboardingStatus


class CustomerStatus(StrEnum):
    """The customer's headline: its least advanced integration's status."""

    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    NOT_CONNECTED = "NOT_CONNECTED"
    REQUESTED = "REQUESTED"
    ENABLED = "ENABLED"
    OFFBOARDING = "OFFBOARDING"
    """Its offboarding runs: no new operation is taken (409)."""
    OFFBOARDED = "OFFBOARDED"
    """Off LinkedIn and erased; it may be onboarded again under the same id."""


class CustomerIntegration(Document):
    integration_type: IntegrationType
    status: ContextStatus
    workflow_id: str


class CustomerApp(Document):
    """The customer's child app at LinkedIn (its secret stays in the credential store)."""

    client_id: str


class JobCounts(Document):
    total: int = 0
    by_status: dict[JobStatus, int] = Field(
        default_factory=dict, description="Only the statuses some job is in."
    )


class CustomerSummary(Document):
    """A customer as the list shows it, from search attributes only."""

    customer_id: str
    status: CustomerStatus
    integrations: list[CustomerIntegration]
    created_at: datetime | None = None


class Customer(CustomerSummary):
    """One customer, read from its integration workflows and its jobs' search attributes."""

    customer_name: str | None = None
    app: CustomerApp | None = None
    jobs: JobCounts = Field(default_factory=JobCounts)
    updated_at: datetime | None = None
    offboarding: OffboardingState | None = Field(
        default=None, description="Its last offboarding: jobs closed of total, what was erased."
    )


class CustomerPage(Document):
    items: list[CustomerSummary]
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; None on the last one. A page may hold fewer
    customers than asked for (even none) and still have a next one."""


def headline(statuses: Iterable[ContextStatus | None]) -> CustomerStatus:
    """The least advanced status of any integration; one never yet run is NOT_CONNECTED."""
    known = [s or ContextStatus.NOT_CONNECTED for s in statuses]
    if not known:
        return CustomerStatus.NOT_CONNECTED
    return CustomerStatus(min(known, key=lambda s: STATUS_RANK[s]))


def representative(integrations: Sequence[CustomerIntegration]) -> CustomerIntegration:
    """The integration a listing shows the customer at: the first by workflow id, so a
    customer with several integrations is listed once, wherever its others fall."""
    return min(integrations, key=lambda i: i.workflow_id)


def last_change(states: Iterable[IntegrationState], created: datetime | None) -> datetime | None:
    """When anything recorded about the customer last changed: a context's transition, a
    rejected callback, a hiring contract, an app sync; its creation when nothing did."""
    moments = [created] if created else []
    for state in states:
        moments += [t.at for c in state.contexts.values() for t in c.transitions]
        moments += [r.at for r in state.rejected_callbacks]
        for contract in state.hiring_contracts.values():
            moments += [m for m in (contract.requested_at, contract.set_up_at) if m]
        if state.application_sync:
            moments.append(state.application_sync.at)
    return max(moments, default=None)


def with_offboarding(customer: Customer, offboarding: OffboardingState | None) -> Customer:
    """The customer as its last offboarding leaves it: OFFBOARDING while it runs,
    OFFBOARDED once done unless the customer was onboarded again since."""
    if offboarding is None:
        return customer
    if offboarding.status != OffboardingStatus.OFFBOARDED:
        status = CustomerStatus.OFFBOARDING
    elif customer.integrations:
        status = customer.status  # onboarded again
    else:
        status = CustomerStatus.OFFBOARDED
    return customer.model_copy(update={"status": status, "offboarding": offboarding})
