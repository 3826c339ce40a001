"""A batch of jobs for one customer: each checked up front, each its own workflow.

`check_batch` is pure (the clock is passed in): it says of every job whether it may go,
and why not, naming the job's place in the batch and each field it breaks, so an import
of a thousand jobs is corrected in one round rather than a thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, ValidationError
from pydantic.alias_generators import to_camel

from domain.documents import Document
from domain.job_postings import JobPosting
from domain.job_workflow import MAX_UPDATE_ID_LENGTH, Operation
from domain.validation import rule

MAX_BATCH_JOBS = 1000
"""Jobs in one batch at most: its answer (one entry per job) stays a few hundred KB."""

BATCH_KEY_PREFIX = "batch:"
"""Each job's update id is the batch's key behind this: a PUT's own key never matches it."""

MAX_BATCH_KEY_LENGTH = MAX_UPDATE_ID_LENGTH - len(BATCH_KEY_PREFIX)

MAX_ERRORS_PER_JOB = 20
"""Field errors kept per invalid job: a job breaking more is still refused, by its first."""


class JobError(Document):
    path: str = Field(description="The field, e.g. description or budget.….amount.")
    message: str = Field(description="The rule the value broke.")


class BatchEntry(Document):
    """What became of one job of the batch, at its place in the batch."""

    index: int
    external_job_posting_id: str | None = None
    operation: Operation | None = Field(
        default=None, description="Its PUT's operation, when it was started."
    )
    errors: list[JobError] = Field(
        default_factory=list, description="Why it is invalid: nothing was started for it."
    )
    refused: str | None = Field(
        default=None, description="Valid, but its workflow refused it (a closed job, say)."
    )
    refusal_reason: str | None = None


class BatchAnswer(Document):
    batch_id: str = Field(description="The Idempotency-Key, or one made up: send it again.")
    started: int = Field(description="Jobs whose operation was started (or answered again).")
    invalid: int
    refused: int
    jobs: list[BatchEntry] = Field(description="One entry per job, in the batch's order.")


def batch_update_id(batch_id: str) -> str:
    """The update id every job of the batch is sent with: the same batch again is
    answered by each job's first operation, and nothing is applied twice."""
    return f"{BATCH_KEY_PREFIX}{batch_id}"


def check_batch(
    jobs: Sequence[Any], now_ms: int
) -> tuple[list[tuple[int, JobPosting]], list[BatchEntry]]:
    """The valid jobs (with their index) and an entry for each invalid one.

    A job is the PUT body (LinkedIn's field names) with its externalJobPostingId, which
    must be unique in the batch; its jobPostingOperationType is ignored (PUT decides)."""
    valid: list[tuple[int, JobPosting]] = []
    invalid: list[BatchEntry] = []
    first_at: dict[str, int] = {}
    for index, raw in enumerate(jobs):
        if not isinstance(raw, dict):
            invalid.append(
                BatchEntry(index=index, errors=[JobError(path="", message="must be an object")])
            )
            continue
        external_id = raw.get("externalJobPostingId", raw.get("external_job_posting_id"))
        named = external_id if isinstance(external_id, str) else None
        errors: list[JobError] = []
        try:
            posting = JobPosting.model_validate(
                {**raw, "jobPostingOperationType": "CREATE"}, context={"now_ms": now_ms}
            )
        except ValidationError as error:
            errors += [
                JobError(
                    path=".".join(to_camel(p) if isinstance(p, str) else str(p) for p in e["loc"]),
                    message=rule(e),
                )
                for e in error.errors()
            ]
            posting = None
        if named is not None and named in first_at and not errors:
            errors.append(
                JobError(
                    path="externalJobPostingId",
                    message=f"appears twice in the batch (first at {first_at[named]})",
                )
            )
        if errors or posting is None:
            invalid.append(
                BatchEntry(
                    index=index,
                    external_job_posting_id=named,
                    errors=_unique(errors)[:MAX_ERRORS_PER_JOB],
                )
            )
            continue
        first_at[posting.external_job_posting_id] = index
        valid.append((index, posting))
    return valid, invalid


def _unique(errors: list[JobError]) -> list[JobError]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for error in errors:
        if (error.path, error.message) not in seen:
            seen.add((error.path, error.message))
            kept.append(error)
    return kept
