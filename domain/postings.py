"""The job workflow's input, state, operations, and the activities it calls."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from domain.jobs import (
    Budget,
    JobPosting,
    JobPostingStatus,
    ListingType,
    TaskStatus,
)
from domain.urns import ContractUrn

JOB_WORKFLOW_TYPE = "JobPostingWorkflow"

SUBMIT_JOB = "submit_job"
AWAIT_TASK = "await_task"
FETCH_JOB_STATUS = "fetch_job_status"
NOTIFY_JOBS = "notify_jobs_of_enabled_contract"

DUPLICATE_CREATE_FRAGMENT = "same partnerIdentifier already exists"
"""How LinkedIn's failed task says a CREATE met a job it already has."""


def job_workflow_id(customer_id: str, external_job_posting_id: str) -> str:
    """`job/{customer}/{externalJobPostingId}`: one workflow per job, typed by operators."""
    return f"job/{customer_id}/{external_job_posting_id}"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    """Created at LinkedIn but not listed yet, or the first operation is under way."""
    LISTED = "LISTED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    EXPIRED = "EXPIRED"
    CLOSED = "CLOSED"
    FAILED = "FAILED"
    """The CREATE failed at LinkedIn; a corrected create may follow."""


class OperationKind(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"
    RENEW = "RENEW"
    CLOSE = "CLOSE"


class OperationOutcome(StrEnum):
    QUEUED = "QUEUED"
    SUBMITTED = "SUBMITTED"
    """LinkedIn accepted it; its task is being processed."""
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    """Parked until the contract's integration is enabled again (or an operator retries)."""

    @property
    def is_final(self) -> bool:
        return self in (OperationOutcome.SUCCEEDED, OperationOutcome.FAILED)


class Operation(BaseModel):
    """One operation on the job, as the state query and the updates report it."""

    id: str
    kind: OperationKind
    requested_at: datetime
    outcome: OperationOutcome = OperationOutcome.QUEUED
    task_id: str | None = None
    task_status: str | None = None
    error: str | None = None
    note: str | None = None
    job_id_before: str | None = None
    job_id_after: str | None = None
    job_posting_url_after: str | None = None
    finished_at: datetime | None = None
    posting: JobPosting
    """What was (or will be) sent to LinkedIn for this operation."""


class ReplacedListing(BaseModel):
    """A LinkedIn job id and URL a downgrade retired."""

    job_id: str | None
    job_posting_url: str | None
    replaced_at: datetime


class AutoRenew(BaseModel):
    """Renew a P4P job this many days before it expires, at most `max_renewals` times."""

    days_before: int = Field(default=3, ge=1, le=29)
    budget: Budget | None = None
    """The budget of each renewal; the job's current budget when left out."""
    max_renewals: int = Field(default=12, ge=1)


class JobState(BaseModel):
    """What the `state` query answers."""

    customer_id: str
    external_job_posting_id: str
    status: JobStatus = JobStatus.PENDING
    listing_type: ListingType | None = None
    contract: str | None = None
    budget: Budget | None = None
    job_id: str | None = None
    job_posting_url: str | None = None
    listing_status: str | None = None
    promotion_status: str | None = None
    linked_in_apply_status: str | None = None
    expire_at: datetime | None = None
    listed_at: datetime | None = None
    posting: JobPosting | None = None
    """The job as LinkedIn last accepted it."""
    operations: list[Operation] = Field(default_factory=list)
    replaced_listings: list[ReplacedListing] = Field(default_factory=list)
    discrepancies: list[str] = Field(default_factory=list)
    auto_renew: AutoRenew | None = None
    renewals: int = 0
    last_error: str | None = None
    waiting_for: str = ""

    def has(self, kind: OperationKind) -> bool:
        """An operation of this kind succeeded or is on its way (queued, sent or parked)."""
        return any(
            op.kind == kind and op.outcome != OperationOutcome.FAILED for op in self.operations
        )


class JobInput(BaseModel):
    """The one input of JobPostingWorkflow; `state` carries over continue-as-new."""

    customer_id: str = Field(min_length=1, max_length=100)
    external_job_posting_id: str = Field(min_length=1, max_length=75)
    auto_renew: AutoRenew | None = None
    max_history_length: int = 10_000
    state: JobState | None = None


# -- update requests ------------------------------------------------------------------------


class _Request(BaseModel):
    wait: bool = False
    """Answer when LinkedIn finished the operation, not when it accepted it."""


class CreateJob(_Request):
    job: JobPosting

    @model_validator(mode="after")
    def _is_create(self) -> CreateJob:
        if self.job.job_posting_operation_type != "CREATE":
            raise ValueError("job.jobPostingOperationType: must be CREATE for create")
        return self


class UpdateJob(_Request):
    job: JobPosting
    """The whole job with its changes; its listing type stays as it is."""


class UpgradeJob(_Request):
    contract: ContractUrn
    budget: Budget | None = None
    """A P4P upgrade's total budget; leave out for a premium-slot upgrade."""
    expire_at: int | None = Field(default=None, ge=0)
    """Up to 90 days after the upgrade (seed 003)."""


class DowngradeJob(_Request):
    contract: ContractUrn | None = None
    """The premium contract; the job's current one when left out."""


class RenewJob(_Request):
    budget: Budget | None = None
    """The new P4P total budget; the current one when left out."""


class CloseJob(_Request):
    pass


class AwaitOperation(BaseModel):
    operation_id: str


# -- activities -----------------------------------------------------------------------------


class SubmitJobRequest(BaseModel):
    customer_id: str
    posting: JobPosting


class SubmittedJob(BaseModel):
    task_id: str


class AwaitTaskRequest(BaseModel):
    customer_id: str
    task_id: str


class FetchJobStatusRequest(BaseModel):
    customer_id: str
    external_job_posting_id: str


class FetchedJobStatus(BaseModel):
    status: JobPostingStatus | None
    """None when LinkedIn has no job with that id."""


class FinishedTask(BaseModel):
    task: TaskStatus


class NotifyJobsRequest(BaseModel):
    customer_id: str
    contract: str
