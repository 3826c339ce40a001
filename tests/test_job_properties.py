"""The job lifecycle's rules, as the job lifecycle property test found them broken."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import job_lifecycle as rules
from domain.job_postings import JobPosting, JobPostingStatus
from domain.job_workflow import (
    JobOperationResult,
    JobState,
    ListingSnapshot,
    OperationKind,
    OperationParams,
)
from tests.jobs_support import job_fields

DAY_MS = 24 * 3600 * 1000


def _ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def _listed_after_updates(updates: int) -> JobState:
    """A job LinkedIn has, after `updates` more operations than the state keeps in full."""
    now = datetime.now(UTC)
    state = rules.new_state("cust-1", "job-1")
    for n in range(updates + 1):
        kind = OperationKind.UPDATE if n else OperationKind.CREATE
        fields = job_fields("job-1", title=f"v{n}", job_posting_operation_type=kind)
        params = OperationParams(job=JobPosting.model_validate(fields))
        rules.evolve(state, rules.OperationRequested(f"op-{n}", kind, params, now))
        rules.evolve(state, rules.OperationStarted(f"op-{n}", now))
        result = JobOperationResult(
            succeeded=True,
            status=JobPostingStatus.model_validate(
                {"externalJobPostingId": "job-1", "listingStatus": "LISTED"}
            ),
        )
        rules.evolve(state, rules.OperationAnswered(f"op-{n}", result, now))
    return state


def test_a_put_after_many_operations_is_still_an_update() -> None:
    """Found by the machine: once the CREATE was trimmed from the state, a PUT became a
    CREATE, which LinkedIn refuses for a job it has (or fails as a duplicate)."""
    state = _listed_after_updates(rules.KEEP_FINISHED)
    assert all(op.kind != OperationKind.CREATE for op in state.operations)
    assert rules.put_kind(state) == OperationKind.UPDATE
    with pytest.raises(rules.OperationRefused, match="already exists"):
        rules.check_request(
            state,
            OperationKind.CREATE,
            OperationParams(),
            "again",
            state.operations[-1].requested_at,
        )


def test_a_job_linkedin_has_cannot_be_discarded_after_many_operations() -> None:
    """Found with the above: a discard ended the workflow of a job still listed at LinkedIn."""
    state = _listed_after_updates(rules.KEEP_FINISHED)
    with pytest.raises(rules.OperationRefused, match="close it instead"):
        rules.check_request(state, OperationKind.DISCARD, OperationParams(), "d", datetime.now(UTC))


def test_a_renew_that_brought_a_premium_expiry_forward_was_applied() -> None:
    """Found by the machine: RENEW resets a job to 30 days from now (seed 002), which is
    earlier than a premium job's expireAt of up to 90 days. Read after a lost answer, that
    expiry was taken for "not renewed", and the RENEW was sent again, and again."""
    now = datetime.now(UTC)
    before = ListingSnapshot(
        job_id="1",
        listing_status="LISTED",
        promotion_status="PROMOTED",
        expire_at_ms=_ms(now) + 80 * DAY_MS,
    )
    renewed = JobPostingStatus.model_validate(
        {
            "externalJobPostingId": "job-1",
            "listingStatus": "LISTED",
            "promotionStatus": "PROMOTED",
            "jobPostingInfo": {"expireAt": _ms(now) + 30 * DAY_MS},
        }
    )
    assert rules.already_applied(OperationKind.RENEW, before, renewed)
