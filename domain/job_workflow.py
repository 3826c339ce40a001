"""The job workflow's contract: its input, state, operations, messages and activity models.

Names of updates, signals, the query and activities are defined here once and used by
reference by the client, the activities and the workflow.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from pydantic import BaseModel, Field, model_validator

from domain.documents import Document
from domain.errors import FailureType
from domain.job_postings import (
    ApplyStatus,
    Budget,
    JobPosting,
    JobPostingStatus,
    ListingStatus,
    ListingType,
    PromotionStatus,
)
from domain.urns import ContractUrn

JOB_WORKFLOW_TYPE = "JobPostingWorkflow"

RUN_JOB_OPERATION = "run_job_operation"
NOTIFY_JOBS = "notify_jobs_of_enabled_contract"

JOB_WAKEUPS_WORKFLOW_TYPE = "JobWakeupsWorkflow"
WAKE_DUE_JOBS = "wake_due_jobs"
WAKE_AT_ATTRIBUTE = "JobWakeAt"
"""A job workflow's next timed event (auto-renew or expiry), for the wake-up sweep."""

READ_JOB_STATUS = "read_job_status"
JOB_STATUS_CHECKS_WORKFLOW_TYPE = "JobStatusChecksWorkflow"
CHECK_JOB_STATUSES = "check_job_statuses"
RESYNC_JOBS = "resync_jobs"

STATE_QUERY = "state"


class JobUpdate(StrEnum):
    """The job workflow's updates: one per operation, and await."""

    CREATE = "create"
    PUT = "put"
    """The whole job: CREATE until LinkedIn has it, UPDATE after (HTTP PUT)."""
    UPDATE = "update"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    RENEW = "renew"
    CLOSE = "close"
    DISCARD = "discard"
    AWAIT = "await_operation"


class JobSignal(StrEnum):
    INTEGRATION_ENABLED = "integration_enabled"
    """A contract's integration is ENABLED again: operations parked on it resume."""
    RETRY = "retry"
    """An operator asks to try a parked operation (or all of them) again."""
    CANCEL = "cancel"
    """An operator gives up on a parked or queued operation (or all of them)."""
    WAKE = "wake"
    """Its JobWakeAt has passed (the wake-up sweep): auto-renew or expire when due."""
    STOP_WAITING = "stop_waiting"
    """A caller stopped waiting for an update (its `wait_seconds` passed): answer it now."""
    CHECK_STATUS = "check_status"
    """Read LinkedIn's status of the job: the status-check sweep, or LinkedIn said it
    changed the job (its webhook carries no timestamp, so the job reads what is current)."""
    RESYNC = "resync"
    """LinkedIn asked for the job again (RESYNC_JOBS): resend it as UPDATE, once per request."""


DUPLICATE_CREATE_FRAGMENT = "same partnerIdentifier already exists"
"""How LinkedIn's failed task says a CREATE met a job it already has."""

ALREADY_CLOSED_FRAGMENT = "already closed"
"""How LinkedIn says a CLOSE met a job that is closed already."""


def job_workflow_id(customer_id: str, external_job_posting_id: str) -> str:
    """`job/{customer}/{externalJobPostingId}`, each part percent-encoded.

    Encoding keeps the mapping one-to-one: customer `a/b` with job `c` and customer `a`
    with job `b/c` get different ids. Plain ids (letters, digits, `-_.~`) read as typed.
    """
    return f"job/{quote(customer_id, safe='')}/{quote(external_job_posting_id, safe='')}"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    """Created at LinkedIn but not listed yet, or the first operation is under way."""
    LISTED = "LISTED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    """An operation is parked: waiting for access, or for an operator to retry or cancel."""
    EXPIRED = "EXPIRED"
    CLOSED = "CLOSED"
    FAILED = "FAILED"
    """The CREATE failed at LinkedIn; a corrected create (PUT) may follow, or a discard."""
    DISCARDED = "DISCARDED"
    """Never posted at LinkedIn, and given up: the workflow has ended."""
    UNLISTED_BY_LINKEDIN = "UNLISTED_BY_LINKEDIN"
    """LinkedIn took the job down on its side (member reports, a policy): not our CLOSE.
    The job stays open here: a PUT sends it again, a CLOSE ends it."""


FINAL_JOB_STATUSES = frozenset({JobStatus.CLOSED, JobStatus.DISCARDED})


class OperationKind(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"
    RENEW = "RENEW"
    CLOSE = "CLOSE"
    DISCARD = "DISCARD"
    """Give up a job LinkedIn never listed (its CREATE failed); nothing is sent."""


class OperationOutcome(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    """Being sent to LinkedIn, or LinkedIn is processing its task."""
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    """Parked: waiting for the contract's integration, or for an operator."""
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (
            OperationOutcome.SUCCEEDED,
            OperationOutcome.FAILED,
            OperationOutcome.CANCELLED,
        )


class OperationParams(BaseModel):
    """What the caller asked for; the posting itself is built when the operation runs."""

    job: JobPosting | None = None
    """CREATE and UPDATE: the whole job."""
    contract: ContractUrn | None = None
    budget: Budget | None = None
    expire_at: int | None = None


class Operation(Document):
    """One operation on the job, as the updates and the state query report it."""

    id: str
    kind: OperationKind
    requested_at: datetime
    outcome: OperationOutcome = OperationOutcome.QUEUED
    digest: str = ""
    """A digest of the request: the same request again answers this operation."""
    note: str | None = None
    error: str | None = None
    task_ids: list[str] = Field(default_factory=list)
    """Every simpleJobPostingTask submitted for this operation, in order."""
    task_status: str | None = None
    attempts: int = 0
    """How many times the operation was started (a retry after parking starts it again)."""
    may_have_reached_linkedin: bool = False
    """An earlier start ended without an answer: LinkedIn's state is read before sending."""
    job_id_before: str | None = None
    job_id_after: str | None = None
    job_posting_url_after: str | None = None
    finished_at: datetime | None = None
    params: OperationParams | None = None
    """Kept while the operation is unfinished; dropped after, to bound the state."""
    posting: JobPosting | None = None
    """What is being sent to LinkedIn while the operation runs; dropped after."""

    @property
    def task_id(self) -> str | None:
        """The latest task LinkedIn gave this operation."""
        return self.task_ids[-1] if self.task_ids else None


class ReplacedListing(Document):
    """A LinkedIn job id and URL a downgrade retired."""

    job_id: str | None
    job_posting_url: str | None
    replaced_at: datetime


class AutoRenew(Document):
    """Renew a P4P job this many days before it expires, at most `max_renewals` times."""

    days_before: int = Field(default=3, ge=1, le=29)
    budget: Budget | None = None
    """The budget of each renewal; the job's current budget when left out."""
    max_renewals: int = Field(default=12, ge=1, le=120)


class JobState(Document):
    """What the `state` query answers; it is also what continue-as-new carries."""

    customer_id: str
    external_job_posting_id: str
    status: JobStatus = JobStatus.PENDING
    listing_type: ListingType | None = None
    contract: str | None = None
    budget: Budget | None = None
    job_id: str | None = None
    job_posting_url: str | None = None
    listing_status: ListingStatus | None = None
    promotion_status: PromotionStatus | None = None
    linked_in_apply_status: ApplyStatus | None = None
    expire_at: datetime | None = None
    listed_at: datetime | None = None
    expired: bool = False
    posting: JobPosting | None = None
    """The job as LinkedIn last accepted it."""
    operations: list[Operation] = Field(default_factory=list)
    """Unfinished operations and the most recent finished ones."""
    earlier_operations: dict[str, int] = Field(default_factory=dict)
    """Older finished operations, counted by outcome."""
    replaced_listings: list[ReplacedListing] = Field(default_factory=list)
    discrepancies: list[str] = Field(default_factory=list)
    auto_renew: AutoRenew | None = None
    renewals: int = 0
    auto_renewed_expiry: datetime | None = None
    """The expiry the last auto-renew was for: one auto-renew per expiry, never a loop."""
    woken_at: datetime | None = None
    """The last wake-up (`TimerFired`), until the next event: decide says what it is due for."""
    last_error: str | None = None
    waiting_for: str = ""
    linked_in_status_message: str | None = None
    """LinkedIn's own words on the listing (`listingStatusDetail.statusMessage`)."""
    linked_in_apply_status_message: str | None = None
    """linkedInApplyStatusDetail.statusMessage: why LinkedIn does not take applications."""
    unlisted_by_linkedin: bool = False
    status_read_wanted: bool = False
    """LinkedIn's status is to be read once no operation runs (a check, a LinkedIn change,
    or an operation whose read-back failed)."""
    status_read_at: datetime | None = None
    """When LinkedIn's status was last read."""
    resyncs: list[str] = Field(default_factory=list)
    """The latest resync requests answered, so a request is resent once."""

    def has(self, kind: OperationKind) -> bool:
        """An operation of this kind succeeded or is on its way (queued, sent or parked).

        A CREATE is known by the posting LinkedIn accepted too: the state keeps only recent
        operations, and the job outlives its CREATE's record.
        """
        if kind == OperationKind.CREATE and self.posting is not None:
            return True
        return any(
            op.kind == kind
            and op.outcome not in (OperationOutcome.FAILED, OperationOutcome.CANCELLED)
            for op in self.operations
        )

    def operation(self, operation_id: str) -> Operation | None:
        return next((op for op in self.operations if op.id == operation_id), None)


class JobInput(BaseModel):
    """The one input of JobPostingWorkflow; `state` carries over continue-as-new."""

    customer_id: str = Field(min_length=1, max_length=100)
    external_job_posting_id: str = Field(min_length=1, max_length=75)
    auto_renew: AutoRenew | None = None
    webhooks: bool = False
    """Hand each operation's outcome to webhook delivery."""
    max_history_length: int = 10_000
    state: JobState | None = None


# -- update requests ------------------------------------------------------------------------

MAX_WAIT_SECONDS = 60

MAX_UPDATE_ID_LENGTH = 200
"""An update id: Temporal's own, or an API caller's Idempotency-Key."""


class JobRequest(Document):
    """What every operation request shares: how the update answers."""

    wait: bool = False
    """Answer when LinkedIn finished the operation (or it parked), not when it was queued."""
    wait_seconds: int | None = Field(default=None, ge=1, le=MAX_WAIT_SECONDS)
    """With wait: answer the operation as it stands after this long, timed in the workflow
    (one timer, a billed action, per update), for callers that cannot time themselves,
    such as `temporal workflow update`. Left out, the update waits for the outcome and the
    caller times its own wait, then sends `stop_waiting` (JobsClient does)."""


class CreateJob(JobRequest):
    job: JobPosting

    @model_validator(mode="after")
    def _is_create(self) -> CreateJob:
        if self.job.job_posting_operation_type != "CREATE":
            raise ValueError("job.jobPostingOperationType: must be CREATE for create")
        return self


class UpdateJob(JobRequest):
    job: JobPosting
    """The whole job with its changes; its listing type stays as it is."""


class UpgradeJob(JobRequest):
    contract: ContractUrn
    budget: Budget | None = None
    """A P4P upgrade's total budget; leave out for a premium-slot upgrade."""
    expire_at: int | None = Field(default=None, ge=0)
    """Up to 90 days after the upgrade (seed 003)."""


class DowngradeJob(JobRequest):
    contract: ContractUrn | None = None
    """The premium contract; the job's current one when left out."""


class RenewJob(JobRequest):
    budget: Budget | None = None
    """The new P4P total budget; the current one when left out."""


class CloseJob(JobRequest):
    pass


class AwaitOperation(Document):
    operation_id: str
    wait_seconds: int | None = Field(default=None, ge=1, le=MAX_WAIT_SECONDS)
    """As JobRequest.wait_seconds."""


class StopWaiting(Document):
    """Answer the update `update_id` with its operation as it stands."""

    update_id: str = Field(max_length=MAX_UPDATE_ID_LENGTH)


class OperatorRequest(Document):
    """Retry or cancel: one operation, or every parked one when `operation_id` is left out."""

    operation_id: str | None = None


# -- the activity ---------------------------------------------------------------------------


class ListingSnapshot(BaseModel):
    """LinkedIn's view of the job before an operation: what its effect is measured against."""

    job_id: str | None = None
    listing_status: ListingStatus | None = None
    promotion_status: PromotionStatus | None = None
    expire_at_ms: int | None = None


class RunJobOperation(BaseModel):
    """Send one operation to LinkedIn, wait for its task, read the job back."""

    customer_id: str
    kind: OperationKind
    posting: JobPosting
    before: ListingSnapshot
    known_task_ids: list[str] = Field(default_factory=list)
    may_have_reached_linkedin: bool = False
    """An earlier run ended without an answer: read LinkedIn's state before sending."""


class JobOperationResult(BaseModel):
    """How the operation ended at LinkedIn: the activity returns every LinkedIn outcome."""

    succeeded: bool
    task_ids: list[str] = Field(default_factory=list)
    """Tasks this run submitted or followed."""
    task_status: str | None = None
    status: JobPostingStatus | None = None
    """jobPostingStatus read after the operation (None when LinkedIn has no such job)."""
    failure: FailureType | None = None
    """Why it did not succeed: LinkedIn's refusal, a failed task, or our configuration."""
    message: str | None = None
    note: str | None = None
    """How the outcome was found, e.g. reconciled after a lost answer."""
    uncertain: bool = False
    """The run ended without learning what LinkedIn made of it (a submit unanswered, or a
    task submitted whose outcome was not read): only a retry, reading LinkedIn, can tell."""
    status_unread: str | None = None
    """The task succeeded but jobPostingStatus could not be read back (why): the job reads
    it again later instead of parking an operation LinkedIn has done."""


class WakeDueJobs(BaseModel):
    due_by: datetime
    """Wake every running job workflow whose JobWakeAt is at or before this."""


class NotifyJobsRequest(BaseModel):
    customer_id: str
    contract: str


class ReadJobStatus(BaseModel):
    customer_id: str
    external_job_posting_id: str


class JobStatusRead(BaseModel):
    """jobPostingStatus of one job; `status` None when LinkedIn has no such job."""

    status: JobPostingStatus | None = None
    error: str | None = None
    """LinkedIn refused the read (why): the next check tries again."""


class ResyncJob(BaseModel):
    """The `resync` signal: which LinkedIn request asks for the job again."""

    request_id: str = Field(min_length=1, max_length=200)


class CheckJobStatuses(BaseModel):
    """Signal `check_status` to every live job workflow (the status-check sweep)."""

    customer_id: str | None = None
    """Only this customer's jobs; every customer's when left out."""


class ResyncJobs(BaseModel):
    """Resend a customer's jobs for one LinkedIn resync request."""

    customer_id: str
    request_id: str
    external_job_posting_ids: list[str] = Field(default_factory=list)
    all_open_jobs: bool = False
