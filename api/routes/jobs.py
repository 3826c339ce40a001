"""Jobs: PUT a job, upgrade, downgrade, renew, close, discard, retry, cancel, read.

Every write takes an `Idempotency-Key` header: the same key again answers the first
request's operation. Writes answer 202 with the operation as it stands; with
`?wait=true`, once it finished (200), failed (422) or parked (202), within a bounded time.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from api import errors, paths
from api.deps import CustomerId, ExternalJobPostingId, Jobs
from client.jobs import DEFAULT_WAIT_SECONDS, BatchInvalid, JobPage
from domain.documents import Document
from domain.job_batches import MAX_BATCH_JOBS, MAX_BATCH_KEY_LENGTH, BatchAnswer
from domain.job_postings import Budget, JobPosting, OperationType
from domain.job_workflow import (
    MAX_UPDATE_ID_LENGTH,
    MAX_WAIT_SECONDS,
    JobState,
    JobStatus,
    Operation,
    OperationOutcome,
)

router = APIRouter(tags=["jobs"])
JOB = "/v1/customers/{customer_id}/jobs/{external_job_posting_id}"


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


def _answering(
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


def _answer(operation: Operation, waited: bool) -> JSONResponse:
    """200 finished, 422 LinkedIn refused it (with wait), 202 on its way or parked."""
    code = 202
    if waited and operation.outcome == OperationOutcome.SUCCEEDED:
        code = 200
    elif waited and operation.outcome == OperationOutcome.FAILED:
        code = 422
    return JSONResponse(operation.model_dump(mode="json", by_alias=True), status_code=code)


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


@router.post(
    "/v1/customers/{customer_id}/jobs/batch",
    status_code=202,
    response_model=BatchAnswer,
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
        return await client.put_many(
            customer_id, batch.jobs, idempotency_key=idempotency_key, partial=partial
        )
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
    return await client.discard(
        customer_id, external_job_posting_id, idempotency_key=idempotency_key
    )


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
    """jobId, jobPostingUrl, listing/promotion/apply status, expiry, recent operations."""
    return await client.state(customer_id, external_job_posting_id)


@router.get(f"{JOB}/operations/{{operation_id}}", responses=errors.problems(404))
async def get_operation(
    customer_id: CustomerId,
    external_job_posting_id: ExternalJobPostingId,
    operation_id: str,
    client: Jobs,
    wait_seconds: WaitSeconds = DEFAULT_WAIT_SECONDS,
) -> Operation:
    """The operation once finished or parked, or as it stands after waitSeconds."""
    return await client.await_operation(
        customer_id,
        external_job_posting_id,
        paths.segment(operation_id),
        wait_seconds=wait_seconds,
    )


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
