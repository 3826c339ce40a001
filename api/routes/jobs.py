"""Jobs: PUT a job, upgrade, downgrade, renew, close, discard, retry, cancel, read.

Every write takes an `Idempotency-Key` header: the same key again answers the first
request's operation. Writes answer 202 with the operation as it stands; with
`?wait=true`, once it finished (200), failed (422) or parked (202), within a bounded time.

Answers stay small whatever a job's history: a job shows its posting once and its latest
operations as a short summary each; `…/operations` pages through every operation the job
keeps, and `…/operations/{operationId}` shows one in full (with what it was asked to send).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from api import errors, paths
from api.deps import CustomerId, ExternalJobPostingId, Jobs
from client.jobs import DEFAULT_WAIT_SECONDS, BatchInvalid, JobPage
from domain.documents import Document
from domain.job_batches import MAX_BATCH_JOBS, MAX_BATCH_KEY_LENGTH, BatchAnswer, BatchEntry
from domain.job_postings import (
    ApplyStatus,
    Budget,
    JobPosting,
    ListingStatus,
    ListingType,
    OperationType,
    PromotionStatus,
)
from domain.job_workflow import (
    MAX_UPDATE_ID_LENGTH,
    MAX_WAIT_SECONDS,
    AutoRenew,
    JobStatus,
    OperationKind,
    OperationOutcome,
    ReplacedListing,
)
from domain.job_workflow import JobState as StoredJobState
from domain.job_workflow import Operation as StoredOperation

router = APIRouter(tags=["jobs"])
JOB = "/v1/customers/{customer_id}/jobs/{external_job_posting_id}"

SHOWN_OPERATIONS = 10
"""A job's answer summarises its latest operations; `…/operations` pages through all."""
NOTE_CHARS = 200
"""A summary's note and error are cut to this: the operation in full has them whole."""


# -- what the API answers of a job -----------------------------------------------------------


class OperationParamsView(Document):
    """What the caller asked for; the posting itself is built when the operation runs."""

    job: JobPosting | None = None
    contract: str | None = None
    budget: Budget | None = None
    expire_at: int | None = None


class OperationSummary(Document):
    """One operation in a few hundred bytes: what, when, how it ended, LinkedIn's task."""

    id: str
    kind: OperationKind
    requested_at: datetime
    outcome: OperationOutcome
    finished_at: datetime | None = None
    task_id: str | None = None
    """The latest task LinkedIn gave it."""
    task_status: str | None = None
    attempts: int = 0
    may_have_reached_linkedin: bool = False
    note: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, op: StoredOperation) -> OperationSummary:
        return cls(
            id=op.id,
            kind=op.kind,
            requested_at=op.requested_at,
            outcome=op.outcome,
            finished_at=op.finished_at,
            task_id=op.task_id,
            task_status=op.task_status,
            attempts=op.attempts,
            may_have_reached_linkedin=op.may_have_reached_linkedin,
            note=_cut(op.note),
            error=_cut(op.error),
        )


class Operation(Document):
    """One operation in full. The posting it sends is shown once: as `params.job` when it
    was asked for whole (PUT), else as `posting` while it runs."""

    id: str
    kind: OperationKind
    requested_at: datetime
    outcome: OperationOutcome = OperationOutcome.QUEUED
    digest: str = ""
    note: str | None = None
    error: str | None = None
    task_ids: list[str] = Field(default_factory=list)
    task_status: str | None = None
    attempts: int = 0
    may_have_reached_linkedin: bool = False
    job_id_before: str | None = None
    job_id_after: str | None = None
    job_posting_url_after: str | None = None
    finished_at: datetime | None = None
    params: OperationParamsView | None = None
    posting: JobPosting | None = None

    @classmethod
    def of(cls, op: StoredOperation) -> Operation:
        fields = {name: getattr(op, name) for name in StoredOperation.model_fields}
        params = op.params
        fields["params"] = None
        if params is not None:
            fields["params"] = OperationParamsView(
                job=params.job,
                contract=params.contract,
                budget=params.budget,
                expire_at=params.expire_at,
            )
            if params.job is not None:
                fields["posting"] = None
        return cls(**fields)


class JobState(Document):
    """A job as LinkedIn and this service hold it, with its latest operations."""

    customer_id: str
    external_job_posting_id: str
    status: JobStatus
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
    operations: list[OperationSummary] = Field(default_factory=list)
    """The latest operations (at most 10), oldest first."""
    operation_count: int = 0
    """Operations the job keeps (unfinished ones and the latest finished): `…/operations`
    lists them all."""
    earlier_operations: dict[str, int] = Field(default_factory=dict)
    """Older finished operations, counted by outcome."""
    replaced_listings: list[ReplacedListing] = Field(default_factory=list)
    discrepancies: list[str] = Field(default_factory=list)
    auto_renew: AutoRenew | None = None
    renewals: int = 0
    auto_renewed_expiry: datetime | None = None
    last_error: str | None = None
    waiting_for: str = ""
    linked_in_status_message: str | None = None
    unlisted_by_linkedin: bool = False
    status_read_wanted: bool = False
    status_read_at: datetime | None = None
    resyncs: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, state: StoredJobState) -> JobState:
        shown = {name for name in cls.model_fields if name in StoredJobState.model_fields}
        fields: dict[str, Any] = {name: getattr(state, name) for name in shown}
        fields["operations"] = [
            OperationSummary.of(op) for op in state.operations[-SHOWN_OPERATIONS:]
        ]
        fields["operation_count"] = len(state.operations)
        return cls(**fields)


class OperationPage(Document):
    items: list[OperationSummary]
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; None on the last one."""


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= NOTE_CHARS:
        return text
    return text[: NOTE_CHARS - 1] + "…"


def _cursor(op: StoredOperation) -> str:
    mark = json.dumps([op.requested_at.isoformat(), op.id]).encode()
    return base64.urlsafe_b64encode(mark).decode()


def _after(cursor: str) -> tuple[datetime, str]:
    try:
        at, op_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(op_id)
    except (ValueError, TypeError, binascii.Error):
        raise HTTPException(422, "cursor: not one this API gave") from None


class JobBody(JobPosting):
    """The whole job in LinkedIn's field names, as simpleJobPostings takes it."""

    external_job_posting_id: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=75, description="Defaults to the path's."
    )
    job_posting_operation_type: OperationType = Field(
        default=OperationType.CREATE, description="Ignored: PUT creates or updates."
    )


class UpgradeBody(Document):
    contract: str = Field(description="urn:li:contract:<digits> of the premium contract.")
    budget: Budget | None = Field(default=None, description="P4P total budget, for P4P.")
    expire_at: int | None = Field(default=None, description="Epoch ms, up to 90 days out.")


class DowngradeBody(Document):
    contract: str | None = Field(default=None, description="Defaults to the job's contract.")


class RenewBody(Document):
    budget: Budget | None = Field(default=None, description="New P4P total budget.")


Wait = Annotated[
    bool,
    Query(description="Answer with the operation's outcome (within waitSeconds) instead."),
]
WaitSeconds = Annotated[
    int, Query(alias="waitSeconds", ge=1, le=MAX_WAIT_SECONDS, description="With wait.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_UPDATE_ID_LENGTH,
        description="The same key again answers the first request's operation.",
    ),
]
OperationId = Annotated[
    str | None, Query(alias="operationId", description="Every parked one when left out.")
]


class Answering(TypedDict):
    """How a write answers, as JobsClient's keywords: at once, or with `wait` once LinkedIn
    finished (within `wait_seconds`); the same idempotency key answers the first request."""

    wait: bool
    wait_seconds: int
    idempotency_key: str | None


async def _answering(
    wait: Wait = False,
    wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
    idempotency_key: IdempotencyKey = None,
) -> Answering:
    return Answering(wait=wait, wait_seconds=wait_seconds, idempotency_key=idempotency_key)


How = Annotated[Answering, Depends(_answering)]

WRITE: dict[str, Any] = {
    "status_code": 202,
    "response_model": Operation,
    "responses": {
        200: {"model": Operation, "description": "With wait=true: the operation succeeded."},
        202: {"description": "The operation as it stands: queued, on its way, or parked."},
        422: {
            "model": errors.Problem | Operation,
            "description": "Invalid (a problem naming each field), or with wait=true LinkedIn "
            "refused it (the operation, its error filled in).",
        },
        **errors.problems(404, 409),
    },
}
"""How every job write is documented; each answers through `_answer`."""


def _answer(operation: StoredOperation, waited: bool) -> JSONResponse:
    """200 finished, 422 LinkedIn refused it (with wait), 202 on its way or parked."""
    code = 202
    if waited and operation.outcome == OperationOutcome.SUCCEEDED:
        code = 200
    elif waited and operation.outcome == OperationOutcome.FAILED:
        code = 422
    view = Operation.of(operation)
    return JSONResponse(view.model_dump(mode="json", by_alias=True), status_code=code)


@router.put(JOB, **WRITE)
async def put_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    job: JobBody,
    client: Jobs,
    how: How,
) -> JSONResponse:
    """The whole job: created at LinkedIn, or updated when it exists; the same job
    again changes nothing."""
    onsite = job.onsite_apply_configuration
    if onsite is not None and onsite.job_application_webhook_url is not None:
        raise HTTPException(
            422,
            "onsiteApplyConfiguration.jobApplicationWebhookUrl: set by linkedin-ats to its "
            "intake URL for this customer; leave it out",
        )
    body = {**job.to_wire(), "jobPostingOperationType": "CREATE"}
    body.setdefault("externalJobPostingId", external_job_posting_id)
    if body["externalJobPostingId"] != external_job_posting_id:
        raise HTTPException(422, "externalJobPostingId: must match the path")
    operation = await client.put(customer_id, body, **how)
    return _answer(operation, how["wait"])


class JobBatch(Document):
    jobs: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH_JOBS,
        description="Each a PUT's body with its externalJobPostingId, unique in the batch.",
        json_schema_extra={"items": {"$ref": "#/components/schemas/JobBody"}},
    )


BatchKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_BATCH_KEY_LENGTH,
        description="The same key again answers the first batch; nothing is started twice.",
    ),
]


class ImportedJob(BatchEntry):
    """One job of a batch, its operation summarised: a batch's answer stays bounded."""

    operation: OperationSummary | None = None  # type: ignore[assignment]


class ImportAnswer(BatchAnswer):
    jobs: list[ImportedJob]  # type: ignore[assignment]

    @classmethod
    def of(cls, answer: BatchAnswer) -> ImportAnswer:
        jobs = [
            ImportedJob(
                **entry.model_dump(exclude={"operation"}),
                operation=OperationSummary.of(entry.operation) if entry.operation else None,
            )
            for entry in answer.jobs
        ]
        return cls(**answer.model_dump(exclude={"jobs"}), jobs=jobs)


@router.post(
    "/v1/customers/{customer_id}/jobs/batch",
    status_code=202,
    response_model=ImportAnswer,
    responses={
        422: {
            "model": errors.Problem,
            "description": "A job is invalid (and partial is not set): `errors` names each "
            "invalid job and field (`body.jobs.<index>.<field>`); nothing was started.",
        },
        **errors.problems(404),
    },
)
async def import_jobs(
    customer_id: CustomerId,
    batch: JobBatch,
    client: Jobs,
    partial: Annotated[
        bool, Query(description="Start the valid jobs even when some are invalid.")
    ] = False,
    idempotency_key: BatchKey = None,
) -> Any:
    """PUT up to 1,000 jobs at once, each its own workflow, started a few at a time;
    the answer has one entry per job, in the batch's order (its operation, or why not)."""
    try:
        answer = await client.put_many(
            customer_id, batch.jobs, idempotency_key=idempotency_key, partial=partial
        )
        return ImportAnswer.of(answer)
    except BatchInvalid as invalid:
        listed = [
            {
                "path": ".".join(p for p in ("body.jobs", str(e.index), f.path) if p),
                "message": f.message,
            }
            for e in invalid.invalid
            for f in e.errors
        ]
        return errors.problem(422, invalid.message, kind="invalid-request", errors=listed)


@router.post(f"{JOB}/upgrade", **WRITE)
async def upgrade_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    body: UpgradeBody,
    client: Jobs,
    how: How,
) -> JSONResponse:
    """BASIC → PREMIUM (P4P with a budget); LinkedIn keeps the jobId and URL."""
    operation = await client.upgrade(
        customer_id,
        external_job_posting_id,
        body.contract,
        budget=body.budget,
        expire_at=body.expire_at,
        **how,
    )
    return _answer(operation, how["wait"])


@router.post(f"{JOB}/downgrade", **WRITE)
async def downgrade_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    how: How,
    body: DowngradeBody | None = None,
) -> JSONResponse:
    """PREMIUM → BASIC; the new jobId and URL are read back and shown in the state."""
    contract = body.contract if body else None
    operation = await client.downgrade(customer_id, external_job_posting_id, contract, **how)
    return _answer(operation, how["wait"])


@router.post(f"{JOB}/renew", **WRITE)
async def renew_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    how: How,
    body: RenewBody | None = None,
) -> JSONResponse:
    """RENEW: a P4P job takes the new budget and runs 30 days from now."""
    budget = body.budget if body else None
    operation = await client.renew(customer_id, external_job_posting_id, budget, **how)
    return _answer(operation, how["wait"])


@router.post(f"{JOB}/close", **WRITE)
async def close_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    how: How,
) -> JSONResponse:
    """CLOSE; the job's workflow completes once LinkedIn closed it. A second close
    answers the first."""
    operation = await client.close(customer_id, external_job_posting_id, **how)
    return _answer(operation, how["wait"])


@router.delete(JOB, status_code=200, responses=errors.problems(404, 409))
async def discard_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    idempotency_key: IdempotencyKey = None,
) -> Operation:
    """Discard a job LinkedIn never listed (its CREATE failed or is parked); a job
    LinkedIn has is closed instead (409)."""
    operation = await client.discard(
        customer_id, external_job_posting_id, idempotency_key=idempotency_key
    )
    return Operation.of(operation)


@router.post(f"{JOB}/retry", status_code=202, responses=errors.problems(404, 409))
async def retry_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    operation_id: OperationId = None,
) -> None:
    """Try a parked operation (every parked one when none is named) again."""
    await client.retry(customer_id, external_job_posting_id, operation_id)


@router.post(f"{JOB}/cancel", status_code=202, responses=errors.problems(404, 409))
async def cancel_job(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    operation_id: OperationId = None,
) -> None:
    """Give up a parked or queued operation (every parked one when none is named)."""
    await client.cancel(customer_id, external_job_posting_id, operation_id)


@router.get(JOB, responses=errors.problems(404))
async def get_job(
    customer_id: CustomerId, external_job_posting_id: ExternalJobPostingId, client: Jobs
) -> JobState:
    """jobId, jobPostingUrl, listing/promotion/apply status, expiry, the posting, and the
    latest operations in short (`…/operations` lists them all)."""
    return JobState.of(await client.state(customer_id, external_job_posting_id))


@router.get(f"{JOB}/operations", responses=errors.problems(404))
async def list_operations(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    client: Jobs,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> OperationPage:
    """Every operation the job keeps, oldest first, in short, a page at a time: pass
    `nextCursor` as `cursor` for the next."""
    state = await client.state(customer_id, external_job_posting_id)
    ordered = sorted(state.operations, key=lambda op: (op.requested_at, op.id))
    if cursor is not None:
        after = _after(cursor)
        ordered = [op for op in ordered if (op.requested_at, op.id) > after]
    page = ordered[:page_size]
    more = len(ordered) > page_size
    return OperationPage(
        items=[OperationSummary.of(op) for op in page],
        next_cursor=_cursor(page[-1]) if more else None,
    )


@router.get(f"{JOB}/operations/{{operation_id}}", responses=errors.problems(404))
async def get_operation(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    operation_id: str,
    client: Jobs,
    wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
) -> Operation:
    """The operation in full (what it was asked to send, while it is unfinished), once
    finished or parked, or as it stands after waitSeconds."""
    operation_id = paths.segment(operation_id)
    operation = await client.await_operation(
        customer_id, external_job_posting_id, operation_id, wait_seconds=wait_seconds
    )
    if operation.params is None and not operation.outcome.is_final:
        state = await client.state(customer_id, external_job_posting_id)
        operation = state.operation(operation_id) or operation  # an update's answer is short
    return Operation.of(operation)


@router.get("/v1/customers/{customer_id}/jobs")
async def list_jobs(
    customer_id: CustomerId,
    client: Jobs,
    status: JobStatus | None = None,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> JobPage:
    """The customer's jobs, filtered by status (PENDING, LISTED, … CLOSED), a page at a
    time: pass `nextCursor` as `cursor` for the next."""
    return await client.list_jobs(
        customer_id=customer_id, status=status, page_size=page_size, cursor=cursor
    )
