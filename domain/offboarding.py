"""Offboarding a customer: every open job closed at LinkedIn, its app retired, its
integrations ended, and what we keep about it erased — one durable workflow per customer.

While it runs, our clients refuse any new operation for the customer (409 naming the
state); once it finished, the customer may be onboarded again under the same id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from pydantic import BaseModel, Field

from domain.documents import Document

OFFBOARDING_WORKFLOW_TYPE = "CustomerOffboardingWorkflow"
OFFBOARDING_STATE_QUERY = "state"

CLOSE_OPEN_JOBS = "close_open_jobs"
RETIRE_CUSTOMER_APP = "retire_customer_app"
END_INTEGRATIONS = "end_integrations"
ERASE_CUSTOMER = "erase_customer"

JOBS_A_ROUND = 200
"""Open jobs one round of the offboarding closes at most (each round is one activity)."""
CLOSE_CONCURRENCY = 50
"""CLOSEs in flight at once: the worker's batcher sends LinkedIn up to 100 a call."""
MAX_ROUNDS = 500
"""Rounds before the workflow continues as new (its history stays short)."""


def offboarding_workflow_id(customer_id: str) -> str:
    """`offboarding/{customer}`: one per customer, so DELETE twice is the same workflow."""
    return f"offboarding/{quote(customer_id, safe='')}"


class OffboardingStatus(StrEnum):
    CLOSING_JOBS = "CLOSING_JOBS"
    RETIRING_APP = "RETIRING_APP"
    ENDING_INTEGRATIONS = "ENDING_INTEGRATIONS"
    ERASING = "ERASING"
    OFFBOARDED = "OFFBOARDED"


class ErasureReport(Document):
    """What was erased, counted: never the values themselves."""

    credentials: bool = Field(
        default=False, description="The child app's secret left the credential store."
    )
    access_tokens: int = Field(default=0, description="Its access tokens deleted.")
    job_workflows: int = Field(
        default=0, description="Ended job workflow runs deleted (their postings, poster data)."
    )
    integration_workflows: int = Field(
        default=0, description="Ended integration workflow runs deleted (poster emails)."
    )
    other_workflows: int = Field(
        default=0, description="P4P report reads and other runs of the customer deleted."
    )
    kept: list[str] = Field(
        default_factory=list, description="What remains, and until when (retention)."
    )


class OffboardingInput(BaseModel):
    customer_id: str
    ats_name: str = "Acme ATS"
    erase: bool = True
    webhooks: bool = False
    """Hand customer.offboarding / customer.offboarded to webhook delivery."""
    state: OffboardingState | None = None
    """Carried over when the workflow continues as new."""


class OffboardingState(Document):
    customer_id: str
    status: OffboardingStatus = OffboardingStatus.CLOSING_JOBS
    jobs_total: int = 0
    """Job workflows that were open when the offboarding started (or found since)."""
    jobs_closed: int = 0
    jobs_open: int = 0
    """Still open at the last look: a CLOSE LinkedIn refused waits for an operator."""
    app_retired: bool = False
    integrations_ended: int = 0
    erasure: ErasureReport | None = None
    started_at: datetime
    finished_at: datetime | None = None


OffboardingInput.model_rebuild()


class CloseOpenJobs(BaseModel):
    customer_id: str
    update_id: str
    """Every CLOSE of one offboarding carries it: sent again, it is answered, not redone."""
    limit: int = JOBS_A_ROUND


class ClosedJobs(BaseModel):
    open_before: int
    """Open jobs of the customer listed before the round."""
    listed: int
    """Open jobs found this round (at most `limit`)."""
    ended: int
    """Of those, how many have ended (closed or discarded) by the round's end."""
    open_left: int
    """Open jobs of the customer still listed after the round."""


class RetireCustomerApp(BaseModel):
    customer_id: str
    ats_name: str


class CustomerRef(BaseModel):
    customer_id: str
