"""The job lifecycle's rules: a pure decider, fed events, answering the next command.

`evolve(state, event)` records what happened (an operation requested, started or refused
at its start, answered by LinkedIn or left unanswered, access granted, a wake-up, an
auto-renewal queued, an expiry, an operator's retry or cancel); `decide(state, now)` says
what to do next (start an operation or fail one that cannot be built, queue the auto-renew
or expire the job a wake-up is due for, wait, complete). Both are plain functions over
`JobState`: no I/O, no Temporal, no clock but the one passed in, so every edge (a lost
answer, a refused RENEW, a parked operation, a closed job) is one case here, tested in
milliseconds. `JobPostingWorkflow` is the shell that runs them.

`evolve` updates the state in place and returns it: the workflow holds the only copy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from domain.errors import FailureType
from domain.job_postings import (
    Budget,
    JobPosting,
    JobPostingStatus,
    ListingStatus,
    ListingType,
    OperationType,
    PromotionStatus,
)
from domain.job_workflow import (
    FINAL_JOB_STATUSES,
    AutoRenew,
    JobOperationResult,
    JobState,
    JobStatus,
    JobStatusRead,
    ListingSnapshot,
    Operation,
    OperationKind,
    OperationOutcome,
    OperationParams,
    ReplacedListing,
    RunJobOperation,
)
from domain.validation import first_problem

MAX_UNFINISHED = 20
"""Operations queued, running or parked at once; more are refused until these finish."""
KEEP_FINISHED = 10
"""Finished operations kept in full; older ones are only counted."""
KEEP_HISTORY = 10
"""Replaced listings and discrepancies kept."""

_QUEUED = OperationOutcome.QUEUED
_RUNNING = OperationOutcome.RUNNING
_PARKED = OperationOutcome.NEEDS_ATTENTION
_SUCCEEDED = OperationOutcome.SUCCEEDED
_FAILED = OperationOutcome.FAILED
_CANCELLED = OperationOutcome.CANCELLED

FAILING: frozenset[FailureType] = frozenset(
    {
        FailureType.VALIDATION,
        FailureType.NOT_FOUND,
        FailureType.CONFLICT,
        FailureType.PERMANENT,
        FailureType.TASK_FAILED,
        FailureType.ALREADY_ENABLED,
    }
)
"""LinkedIn refused the operation itself: sending it again cannot help. Other failures
(access, payment, credentials, configuration, no answer) park it for a retry."""


class RefusalReason(StrEnum):
    INVALID = "InvalidOperation"
    """The request does not fit the job or LinkedIn's rules (HTTP 422)."""
    CONFLICT = "OperationConflict"
    """The job's state does not allow it now: closed, exists already, queue full (409)."""


class OperationRefused(ValueError):
    """A request refused before anything is queued: its message names the field and rule."""

    def __init__(self, message: str, reason: RefusalReason = RefusalReason.INVALID) -> None:
        super().__init__(message)
        self.reason = reason


# -- events and commands --------------------------------------------------------------------


@dataclass(frozen=True)
class OperationRequested:
    operation_id: str
    kind: OperationKind
    params: OperationParams
    at: datetime
    note: str | None = None


@dataclass(frozen=True)
class OperationStarted:
    operation_id: str
    posting: JobPosting
    """The whole element LinkedIn receives, built by `decide` (StartOperation)."""
    at: datetime


@dataclass(frozen=True)
class StartRefused:
    """The operation cannot be built on the job as it is now (`FailOperation`)."""

    operation_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class OperationAnswered:
    """The activity came back with LinkedIn's outcome, success or refusal."""

    operation_id: str
    result: JobOperationResult
    at: datetime


@dataclass(frozen=True)
class OperationUnanswered:
    """The activity gave up without an outcome: LinkedIn may or may not have it."""

    operation_id: str
    message: str
    at: datetime


@dataclass(frozen=True)
class AccessGranted:
    contract: str
    at: datetime


@dataclass(frozen=True)
class OperatorRetried:
    operation_id: str | None
    at: datetime


@dataclass(frozen=True)
class OperatorCancelled:
    operation_id: str | None
    at: datetime


@dataclass(frozen=True)
class TimerFired:
    """A wake-up (the sweep's signal, or an old run's own timer): `decide` says what is due."""

    at: datetime


@dataclass(frozen=True)
class AutoRenewQueued:
    """The auto-renewal a wake-up was due for is queued (`RenewBeforeExpiry`)."""

    operation_id: str
    budget: Budget | None
    at: datetime


@dataclass(frozen=True)
class Expired:
    """The expiry a wake-up was due for passed (`Expire`)."""

    at: datetime


@dataclass(frozen=True)
class StatusCheckRequested:
    """Read LinkedIn's status once no operation runs: the sweep, or LinkedIn's webhook said
    it changed the job (an event with no timestamp: what is current is read, not trusted)."""

    at: datetime


@dataclass(frozen=True)
class StatusRead:
    """jobPostingStatus as LinkedIn answered it at `at`, while no operation ran."""

    read: JobStatusRead
    at: datetime


@dataclass(frozen=True)
class ResyncAsked:
    """LinkedIn asked for the job again (RESYNC_JOBS request `request_id`).

    `own_resend` (runs since the workflow's RESYNC_OWN_RESEND patch): the request gets its
    own UPDATE, built from the job as it stands when it goes out. Before, a queued UPDATE
    stood in for it, and the request went unanswered when that UPDATE parked.
    """

    request_id: str
    at: datetime
    own_resend: bool = False


Event = (
    OperationRequested
    | OperationStarted
    | StartRefused
    | AutoRenewQueued
    | Expired
    | OperationAnswered
    | OperationUnanswered
    | AccessGranted
    | OperatorRetried
    | OperatorCancelled
    | TimerFired
    | StatusCheckRequested
    | StatusRead
    | ResyncAsked
)


@dataclass(frozen=True)
class StartOperation:
    operation_id: str
    posting: JobPosting
    """Built now, from the job as LinkedIn last accepted it."""


@dataclass(frozen=True)
class FailOperation:
    """The operation whose turn it is cannot be built on the job as it is: it fails, unsent."""

    operation_id: str
    reason: str


@dataclass(frozen=True)
class RenewBeforeExpiry:
    """A wake-up came when auto-renew was due: queue the renewal."""

    operation_id: str
    budget: Budget | None


@dataclass(frozen=True)
class Expire:
    """A wake-up came once the job's expireAt passed."""


@dataclass(frozen=True)
class Wait:
    until: datetime | None
    """The next timer (auto-renew or expiry); None waits for the next request."""


@dataclass(frozen=True)
class ReadStatus:
    """Read the job's jobPostingStatus and feed it back as StatusRead."""


@dataclass(frozen=True)
class Complete:
    """The job is closed or discarded and nothing is left to do."""


Command = StartOperation | FailOperation | RenewBeforeExpiry | Expire | ReadStatus | Wait | Complete

KEEP_RESYNCS = 10
"""Resync requests remembered, so LinkedIn's redelivery of one resends nothing."""
RESYNC_PREFIX = "resync-"
"""The operation id of a resend LinkedIn asked for: `resync-<request>`."""


# -- requests -------------------------------------------------------------------------------


def new_state(
    customer_id: str, external_job_posting_id: str, auto_renew: AutoRenew | None = None
) -> JobState:
    return JobState(
        customer_id=customer_id,
        external_job_posting_id=external_job_posting_id,
        auto_renew=auto_renew,
    )


def digest(kind: OperationKind, params: OperationParams) -> str:
    """The same request again has the same digest (CREATE and UPDATE compare the job only)."""
    data: dict[str, Any] = params.model_dump(mode="json", by_alias=True, exclude_none=True)
    if params.job is not None:
        data["job"] = {
            k: v for k, v in params.job.to_wire().items() if k != "jobPostingOperationType"
        }
    content = "CONTENT" if kind in (OperationKind.CREATE, OperationKind.UPDATE) else str(kind)
    text = json.dumps([content, data], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def put_kind(state: JobState) -> OperationKind:
    """What a PUT of the whole job means now: CREATE until LinkedIn has the job, then UPDATE."""
    return OperationKind.UPDATE if state.has(OperationKind.CREATE) else OperationKind.CREATE


def check_request(
    state: JobState,
    kind: OperationKind,
    params: OperationParams,
    request_id: str,
    now: datetime,
) -> Operation | None:
    """The operation that already answers this request, or None for a new one.

    Raises `OperationRefused` when the request cannot be queued; nothing is changed.
    """
    known = state.operation(request_id)
    if known is not None:
        return known
    same = _same_request(state, kind, params)
    if same is not None:
        return same
    if kind == OperationKind.CLOSE:
        closing = _latest(state, OperationKind.CLOSE)
        if closing is not None and closing.outcome not in (_FAILED, _CANCELLED):
            return closing
    if state.status in FINAL_JOB_STATUSES:
        raise OperationRefused(
            f"{kind}: the job is {state.status}; no operation can follow",
            RefusalReason.CONFLICT,
        )
    if kind == OperationKind.DISCARD:
        _check_discard(state)
        return None
    unfinished = [op for op in state.operations if not op.outcome.is_final]
    if len(unfinished) >= MAX_UNFINISHED:
        raise OperationRefused(
            f"{kind}: {MAX_UNFINISHED} operations are unfinished already; wait for them, "
            "or retry or cancel the parked ones",
            RefusalReason.CONFLICT,
        )
    if kind == OperationKind.CREATE and state.has(OperationKind.CREATE):
        raise OperationRefused(
            "the job already exists at LinkedIn: send update (PUT), upgrade, downgrade, "
            "renew or close",
            RefusalReason.CONFLICT,
        )
    if state.has(OperationKind.CLOSE):
        raise OperationRefused(
            f"{kind}: the job is being closed; no operation can follow",
            RefusalReason.CONFLICT,
        )
    build_posting(projected_posting(state, now), kind, params, now)
    return None


def _same_request(
    state: JobState, kind: OperationKind, params: OperationParams
) -> Operation | None:
    """A live CREATE or UPDATE of the very same job answers a repeated PUT or create."""
    if kind not in (OperationKind.CREATE, OperationKind.UPDATE):
        return None
    content = [
        op
        for op in state.operations
        if op.kind in (OperationKind.CREATE, OperationKind.UPDATE)
        and op.outcome not in (_FAILED, _CANCELLED)
    ]
    if content and content[-1].digest == digest(kind, params):
        return content[-1]
    return None


def _latest(state: JobState, kind: OperationKind) -> Operation | None:
    return next((op for op in reversed(state.operations) if op.kind == kind), None)


def _check_discard(state: JobState) -> None:
    if state.posting is not None:
        raise OperationRefused(
            "discard: LinkedIn has the job; close it instead", RefusalReason.CONFLICT
        )
    if any(op.may_have_reached_linkedin and not op.outcome.is_final for op in state.operations):
        raise OperationRefused(
            "discard: an operation may have reached LinkedIn unanswered; retry it first",
            RefusalReason.CONFLICT,
        )
    if any(op.outcome == _RUNNING for op in state.operations):
        raise OperationRefused(
            "discard: an operation is at LinkedIn right now; discard once it has finished",
            RefusalReason.CONFLICT,
        )


def projected_posting(state: JobState, now: datetime) -> JobPosting | None:
    """The job as it will be once every queued, running or parked operation succeeded."""
    posting = state.posting
    for op in state.operations:
        if op.outcome.is_final or op.params is None:
            continue
        try:
            posting = build_posting(posting, op.kind, op.params, now)
        except OperationRefused:
            continue
    return posting


CLOSE_LEAVES_OUT = ("budget", "expireAt")
"""What a CLOSE does not send again (docs/jobs.md, "What a CLOSE carries"): LinkedIn's
close-jobs page and PJP Postman collection close a premium job with its contract and
neither; a budget is spent by CREATE, upgrade and RENEW only (seed 002), and a stale
expireAt is "Invalid Expiration Date" (LinkedIn's SDK: at least 24 hours ahead)."""


def build_posting(
    base: JobPosting | None, kind: OperationKind, params: OperationParams, now: datetime
) -> JobPosting:
    """The whole element LinkedIn needs for an operation on `base`, checked by its rules.

    Every element carries the whole job, CLOSE included: LinkedIn closes a job when it is
    posted again with jobPostingOperationType CLOSE. A CLOSE leaves out what only opens or
    prolongs a listing (CLOSE_LEAVES_OUT); it keeps listingType and contract.
    """
    if kind == OperationKind.CREATE:
        if params.job is None:
            raise OperationRefused("job: required to create")
        return _validated({**params.job.to_wire(), "jobPostingOperationType": "CREATE"}, now)
    if base is None:
        raise OperationRefused(f"{kind}: the job has not been created yet", RefusalReason.CONFLICT)
    listing = base.effective_listing_type
    fields = base.to_wire()
    if kind == OperationKind.UPDATE:
        return _validated(_update_fields(base, params), now)
    if kind == OperationKind.UPGRADE:
        if listing != ListingType.BASIC:
            raise OperationRefused(f"upgrade: the job is {listing} already", RefusalReason.CONFLICT)
        if params.contract is None:
            raise OperationRefused("contract: required to upgrade (seed 003)")
        fields.update(jobPostingOperationType="UPDATE", listingType="PREMIUM")
        fields["contract"] = params.contract
        if params.budget is not None:
            fields["budget"] = params.budget.to_wire()
        if params.expire_at is not None:
            fields["expireAt"] = params.expire_at
        return _validated(fields, now)
    if kind == OperationKind.DOWNGRADE:
        if listing != ListingType.PREMIUM:
            raise OperationRefused(
                f"downgrade: the job is {listing} already", RefusalReason.CONFLICT
            )
        contract = params.contract or base.contract
        if contract is None:
            raise OperationRefused("contract: required to downgrade (seed 003)")
        fields.update(jobPostingOperationType="UPDATE", listingType="BASIC", contract=contract)
        fields.pop("budget", None)
        fields.pop("expireAt", None)
        return _validated(fields, now)
    if kind == OperationKind.RENEW:
        fields["jobPostingOperationType"] = "RENEW"
        fields.pop("expireAt", None)
        if params.budget is not None:
            if base.budget is None:
                raise OperationRefused(
                    "budget: only P4P jobs (those with a budget) take one on RENEW"
                )
            fields["budget"] = params.budget.to_wire()
        return _validated(fields, now)
    if kind == OperationKind.CLOSE:
        kept = {name: value for name, value in fields.items() if name not in CLOSE_LEAVES_OUT}
        return _validated({**kept, "jobPostingOperationType": "CLOSE"}, now)
    raise OperationRefused(f"{kind}: nothing is sent to LinkedIn for it")


def _update_fields(base: JobPosting, params: OperationParams) -> dict[str, Any]:
    """UPDATE takes the whole job; left out, its listing fields stay as they are."""
    job = params.job
    if job is None:
        raise OperationRefused("job: required to update")
    if job.external_job_posting_id != base.external_job_posting_id:
        raise OperationRefused("job.externalJobPostingId: must not change")
    listing = base.effective_listing_type
    fields = {**job.to_wire(), "jobPostingOperationType": "UPDATE"}
    if job.listing_type is None:
        for name in ("listingType", "contract", "budget"):
            if name in (current := base.to_wire()) and name not in fields:
                fields[name] = current[name]
    elif job.effective_listing_type != listing:
        raise OperationRefused(
            f"job.listingType: is {listing}; use upgrade or downgrade to change it"
        )
    return fields


def _validated(fields: dict[str, Any], now: datetime) -> JobPosting:
    try:
        return JobPosting.model_validate(fields, context={"now_ms": _ms(now)})
    except ValidationError as error:
        raise OperationRefused(first_problem(error)) from None


# -- evolve ---------------------------------------------------------------------------------


def evolve(state: JobState, event: Event) -> JobState:
    """Record `event` in `state` (in place) and return it, status and summary refreshed."""
    state.woken_at = event.at if isinstance(event, TimerFired) else None
    match event:
        case OperationRequested():
            _requested(state, event)
        case OperationStarted():
            op = _find(state, event.operation_id)
            op.posting = event.posting
            op.outcome = _RUNNING
            op.attempts += 1
            op.job_id_before = state.job_id
        case StartRefused():
            op = _find(state, event.operation_id)
            _finish(state, op, _FAILED, event.at, event.reason)
            _after_creation_ended(state, op, event.at)
        case AutoRenewQueued():
            state.renewals += 1
            state.auto_renewed_expiry = state.expire_at
            renewal = OperationRequested(
                operation_id=event.operation_id,
                kind=OperationKind.RENEW,
                params=OperationParams(budget=event.budget),
                at=event.at,
                note="auto-renew before expiry",
            )
            _requested(state, renewal)
        case Expired():
            state.expired = True
            state.listing_status = ListingStatus.NOT_LISTED
        case OperationAnswered():
            _answered(state, _find(state, event.operation_id), event.result, event.at)
        case OperationUnanswered():
            op = _find(state, event.operation_id)
            op.may_have_reached_linkedin = True
            _park(state, op, f"LinkedIn did not answer: {event.message}")
        case AccessGranted():
            for op in _parked(state, None):
                if _contract_of(op) == event.contract:
                    _requeue(op, f"{event.contract} enabled again")
        case OperatorRetried():
            for op in _parked(state, event.operation_id):
                _requeue(op, "an operator asked to retry")
        case OperatorCancelled():
            for op in state.operations:
                if op.outcome in (_QUEUED, _PARKED) and event.operation_id in (None, op.id):
                    if event.operation_id is None and op.outcome == _QUEUED:
                        continue  # cancelling "all" means every parked one
                    if op.may_have_reached_linkedin:
                        continue  # LinkedIn may have applied it: only a retry can tell
                    _finish(state, op, _CANCELLED, event.at, "cancelled by an operator")
                    _after_creation_ended(state, op, event.at)
        case TimerFired():
            pass  # recorded in woken_at: decide says what it is due for
        case StatusCheckRequested():
            if state.posting is not None and state.status not in FINAL_JOB_STATUSES:
                state.status_read_wanted = True
        case StatusRead():
            _status_read(state, event.read, event.at)
        case ResyncAsked():
            _resync(state, event.request_id, event.at, event.own_resend)
    _trim(state)
    _refresh(state, event.at)
    return state


def _find(state: JobState, operation_id: str) -> Operation:
    op = state.operation(operation_id)
    if op is None:
        raise KeyError(f"no operation {operation_id!r} on this job")
    return op


def _requested(state: JobState, event: OperationRequested) -> None:
    if state.operation(event.operation_id) is not None:
        return
    op = Operation(
        id=event.operation_id,
        kind=event.kind,
        requested_at=event.at,
        digest=digest(event.kind, event.params),
        params=event.params,
        note=event.note,
    )
    state.operations.append(op)
    if event.kind == OperationKind.DISCARD:
        for other in state.operations:
            if other.outcome in (_QUEUED, _PARKED) and other is not op:
                _finish(state, other, _CANCELLED, event.at, "abandoned: the job was discarded")
        _finish(state, op, _SUCCEEDED, event.at)
    if event.kind == OperationKind.CLOSE:  # no point waiting to change a job being closed
        for parked in state.operations:  # unless LinkedIn may have it: only a retry can tell
            if parked.outcome == _PARKED and not parked.may_have_reached_linkedin:
                _finish(state, parked, _CANCELLED, event.at, "abandoned: the job is being closed")


def activity_request(state: JobState, op: Operation) -> RunJobOperation:
    """The run_job_operation request for a started operation."""
    assert op.posting is not None, "the operation has not been started"
    return RunJobOperation(
        customer_id=state.customer_id,
        kind=op.kind,
        posting=op.posting,
        before=ListingSnapshot(
            job_id=state.job_id,
            listing_status=state.listing_status,
            promotion_status=state.promotion_status,
            expire_at_ms=_ms(state.expire_at) if state.expire_at else None,
        ),
        known_task_ids=op.task_ids,
        may_have_reached_linkedin=op.may_have_reached_linkedin,
    )


def _answered(state: JobState, op: Operation, result: JobOperationResult, at: datetime) -> None:
    for task_id in result.task_ids:
        if task_id not in op.task_ids:
            op.task_ids.append(task_id)
    op.task_status = result.task_status or op.task_status
    if result.uncertain:
        op.may_have_reached_linkedin = True
    if result.note:
        op.note = result.note
    if result.succeeded:
        _succeeded(state, op, result.status, at)
        if result.status_unread is not None and op.kind != OperationKind.CLOSE:
            state.status_read_wanted = True
            op.note = f"LinkedIn's status was not read back ({result.status_unread}): read again"
        return
    message = result.message or "LinkedIn refused the operation"
    if result.failure in FAILING:
        _finish(state, op, _FAILED, at, message)
        _after_creation_ended(state, op, at)
    else:
        _park(state, op, message)


def _succeeded(
    state: JobState, op: Operation, status: JobPostingStatus | None, at: datetime
) -> None:
    before_id, before_url = state.job_id, state.job_posting_url
    posting = op.posting
    if posting is not None and op.kind != OperationKind.CLOSE:
        state.posting = posting.model_copy(
            update={"job_posting_operation_type": OperationType.UPDATE}
        )
        state.listing_type = posting.effective_listing_type
        state.contract = posting.contract
        state.budget = posting.budget
    if status is not None:
        _apply_status(state, status)
    if op.kind in (OperationKind.CREATE, OperationKind.UPGRADE, OperationKind.RENEW):
        state.expired = False
    kept = (state.job_id, state.job_posting_url) == (before_id, before_url)
    if op.kind == OperationKind.UPGRADE and before_id is not None and not kept:
        _note_discrepancy(
            state,
            f"upgrade changed the listing: jobId {before_id} → {state.job_id}, "
            f"URL {before_url} → {state.job_posting_url} (LinkedIn should keep both)",
        )
    if op.kind == OperationKind.DOWNGRADE:
        state.replaced_listings.append(
            ReplacedListing(job_id=before_id, job_posting_url=before_url, replaced_at=at)
        )
        if state.job_id == before_id:
            _note_discrepancy(
                state, f"downgrade kept jobId {before_id}; LinkedIn should have issued a new one"
            )
    if op.kind == OperationKind.CLOSE:
        state.listing_status = ListingStatus.NOT_LISTED
        for other in state.operations:
            if other.outcome in (_QUEUED, _PARKED):
                _finish(state, other, _CANCELLED, at, "abandoned: the job is closed")
    op.job_id_after = state.job_id
    op.job_posting_url_after = state.job_posting_url
    _finish(state, op, _SUCCEEDED, at)


def _apply_status(state: JobState, status: JobPostingStatus) -> None:
    state.job_id = status.job_id or state.job_id
    state.job_posting_url = status.job_posting_url or state.job_posting_url
    state.listing_status = status.listing_status
    state.promotion_status = status.promotion_status
    state.linked_in_apply_status = status.linked_in_apply_status
    if status.listing_status == ListingStatus.LISTED:
        state.unlisted_by_linkedin = False
    info = status.job_posting_info
    if info is not None and info.expire_at is not None:
        state.expire_at = _from_ms(info.expire_at)
    if info is not None and info.listed_at is not None:
        state.listed_at = _from_ms(info.listed_at)


def _status_read(state: JobState, read: JobStatusRead, at: datetime) -> None:
    """Record what LinkedIn shows now; a listing it took down is told from our own close."""
    state.status_read_wanted = False
    state.status_read_at = at
    status = read.status
    if read.error is not None:
        return  # refused: the next check reads again
    if status is None:
        if state.listing_status == ListingStatus.LISTED:
            _note_discrepancy(state, f"LinkedIn no longer knows the job (read {at:%Y-%m-%d %H:%M})")
        return
    _apply_status(state, status)
    detail = status.listing_status_detail
    state.linked_in_status_message = detail.status_message if detail else None
    apply_detail = status.linked_in_apply_status_detail
    state.linked_in_apply_status_message = apply_detail.status_message if apply_detail else None
    if status.listing_status != ListingStatus.NOT_LISTED or state.has(OperationKind.CLOSE):
        return
    if state.expire_at is not None and at >= state.expire_at:
        state.expired = True
    else:
        state.unlisted_by_linkedin = True


def _resync(state: JobState, request_id: str, at: datetime, own_resend: bool) -> None:
    """Resend the job as LinkedIn last accepted it, once per request, if it is still open."""
    if request_id in state.resyncs:
        return
    state.resyncs.append(request_id)
    del state.resyncs[:-KEEP_RESYNCS]
    live = state.posting is not None and state.status not in FINAL_JOB_STATUSES
    if not live or state.has(OperationKind.CLOSE):
        return
    if not own_resend and any(
        op.kind == OperationKind.UPDATE and op.outcome == _QUEUED for op in state.operations
    ):
        return  # runs before RESYNC_OWN_RESEND: a queued UPDATE stood in for the request
    _requested(
        state,
        OperationRequested(
            operation_id=RESYNC_PREFIX + request_id,
            kind=OperationKind.UPDATE,
            # Without a job, the resend is built from the job as it stands when it goes out.
            params=OperationParams(job=None if own_resend else state.posting),
            at=at,
            note="LinkedIn asked for the job again (resync)",
        ),
    )


def _note_discrepancy(state: JobState, text: str) -> None:
    state.discrepancies.append(text)


def _park(state: JobState, op: Operation, message: str) -> None:
    op.outcome = _PARKED
    op.error = message
    state.last_error = message


def _requeue(op: Operation, note: str) -> None:
    op.outcome = _QUEUED
    op.note = note


def _parked(state: JobState, operation_id: str | None) -> list[Operation]:
    return [
        op for op in state.operations if op.outcome == _PARKED and operation_id in (None, op.id)
    ]


def _contract_of(op: Operation) -> str | None:
    if op.posting is not None:
        return op.posting.contract
    return op.params.contract if op.params is not None else None


def _finish(
    state: JobState,
    op: Operation,
    outcome: OperationOutcome,
    at: datetime,
    error: str | None = None,
) -> None:
    op.outcome = outcome
    op.finished_at = at
    op.params = None
    op.posting = None
    if error is not None:
        op.error = error
    state.last_error = error if outcome == _FAILED else None


def _after_creation_ended(state: JobState, op: Operation, at: datetime) -> None:
    """A CREATE that ended without the job: what was queued behind it cannot run."""
    if op.kind != OperationKind.CREATE or state.has(OperationKind.CREATE):
        return
    for other in state.operations:
        if other.outcome in (_QUEUED, _PARKED):
            _finish(state, other, _CANCELLED, at, "abandoned: the job was not created")


def renew_due_at(state: JobState) -> datetime | None:
    """When auto-renew renews this expiry; None when it will not (once per expiry)."""
    policy = state.auto_renew
    if policy is None or state.expire_at is None or state.budget is None:
        return None
    if state.renewals >= policy.max_renewals or state.auto_renewed_expiry == state.expire_at:
        return None
    if state.status in FINAL_JOB_STATUSES or state.has(OperationKind.CLOSE):
        return None
    return state.expire_at - timedelta(days=policy.days_before)


def next_timer(state: JobState) -> datetime | None:
    if state.expire_at is None or state.expired or state.status in FINAL_JOB_STATUSES:
        return None
    renew_at = renew_due_at(state)
    return min(renew_at, state.expire_at) if renew_at is not None else state.expire_at


def _trim(state: JobState) -> None:
    finished = [op for op in state.operations if op.outcome.is_final]
    for op in finished[: max(0, len(finished) - KEEP_FINISHED)]:
        state.operations.remove(op)
        key = str(op.outcome)
        state.earlier_operations[key] = state.earlier_operations.get(key, 0) + 1
    del state.replaced_listings[:-KEEP_HISTORY]
    del state.discrepancies[:-KEEP_HISTORY]


# -- decide ---------------------------------------------------------------------------------


def decide(state: JobState, now: datetime) -> Command:
    """What the workflow does next: what a wake-up is due for first (the shell asks right
    after it), then the next operation in arrival order, built on the job as it is now."""
    if state.woken_at is not None:
        due = _due_at(state, state.woken_at)
        if due is not None:
            return due
    unfinished = [op for op in state.operations if not op.outcome.is_final]
    if state.status in FINAL_JOB_STATUSES and not unfinished:
        return Complete()
    if unfinished and unfinished[0].outcome in (_QUEUED, _RUNNING):
        return _start(state, unfinished[0], now)
    for op in unfinished:  # LinkedIn wants the job within 30 minutes: no operator waits
        if op.outcome == _QUEUED and op.id.startswith(RESYNC_PREFIX):
            return _start(state, op, now)
    if state.status_read_wanted:
        return ReadStatus()
    return Wait(until=next_timer(state))


def _start(state: JobState, op: Operation, now: datetime) -> StartOperation | FailOperation:
    """The operation, built on the job as it is now, or failed when it cannot be."""
    params = op.params or OperationParams()
    if op.id.startswith(RESYNC_PREFIX) and params.job is None:
        params = OperationParams(job=state.posting)  # a resend: the job as it stands
    try:
        return StartOperation(op.id, build_posting(state.posting, op.kind, params, now))
    except OperationRefused as refusal:
        return FailOperation(op.id, str(refusal))


def _due_at(state: JobState, at: datetime) -> RenewBeforeExpiry | Expire | None:
    """Auto-renew once per expiry before it, or expiry once it passed; else nothing."""
    renew_at = renew_due_at(state)
    expire_at = state.expire_at
    if renew_at is not None and at >= renew_at and (expire_at is None or at < expire_at):
        assert state.auto_renew is not None
        budget = state.auto_renew.budget or state.budget
        return RenewBeforeExpiry(f"auto-renew-{state.renewals + 1}-{_ms(at)}", budget)
    if expire_at is not None and at >= expire_at and not state.expired:
        return Expire()
    return None


def is_answered(op: Operation | None, wait: bool) -> bool:
    """An update answers at once, or with `wait` once the operation is final or parked."""
    return op is None or not wait or op.outcome.is_final or op.outcome == _PARKED


def waits_for_an_operator(state: JobState, op: Operation) -> bool:
    """A queued operation behind a parked one moves only when an operator retries or
    cancels: a caller waiting for its outcome is answered now, not when the operator acts."""
    if op.outcome != _QUEUED:
        return False
    for earlier in state.operations:
        if earlier.id == op.id:
            return False
        if earlier.outcome == _PARKED:
            return True
    return False


# -- status ---------------------------------------------------------------------------------


def _refresh(state: JobState, now: datetime) -> None:
    state.status = _status(state)
    state.waiting_for = _waiting_for(state, now)


def _status(state: JobState) -> JobStatus:
    operations = state.operations
    if state.status in FINAL_JOB_STATUSES:
        return state.status
    if any(op.kind == OperationKind.CLOSE and op.outcome == _SUCCEEDED for op in operations):
        return JobStatus.CLOSED
    if any(op.kind == OperationKind.DISCARD and op.outcome == _SUCCEEDED for op in operations):
        return JobStatus.DISCARDED
    if any(op.outcome == _PARKED for op in operations):
        return JobStatus.NEEDS_ATTENTION
    if state.posting is None:
        creates = [op for op in operations if op.kind == OperationKind.CREATE]
        ended = bool(creates) and creates[-1].outcome in (_FAILED, _CANCELLED)
        return JobStatus.FAILED if ended else JobStatus.PENDING
    if state.expired:
        return JobStatus.EXPIRED
    if state.unlisted_by_linkedin:
        return JobStatus.UNLISTED_BY_LINKEDIN
    return JobStatus.LISTED if state.listing_status == ListingStatus.LISTED else JobStatus.PENDING


def _waiting_for(state: JobState, now: datetime) -> str:
    pending = [op for op in state.operations if not op.outcome.is_final]
    if pending:
        op = pending[0]
        if op.outcome == _PARKED:
            return (
                f"{op.kind} parked ({op.error}); it resumes when access is granted, or "
                f"signal retry or cancel with operation {op.id}"
            )
        if op.outcome == _RUNNING:
            return f"LinkedIn to finish {op.kind}" + (f" task {op.task_id}" if op.task_id else "")
        return f"{op.kind} to start"
    if state.status == JobStatus.CLOSED:
        return "nothing: the job is closed"
    if state.status == JobStatus.DISCARDED:
        return "nothing: the job was discarded"
    if state.status == JobStatus.FAILED:
        return f"a corrected job (PUT) or a discard (LinkedIn said: {state.last_error})"
    if state.status == JobStatus.EXPIRED:
        return "a renew or close (the job expired)"
    if state.status == JobStatus.UNLISTED_BY_LINKEDIN:
        said = f" (LinkedIn said: {state.linked_in_status_message})" * bool(
            state.linked_in_status_message
        )
        return f"a PUT to send it again, or a close: LinkedIn took it down{said}"
    if state.expire_at is not None:
        renew_at = renew_due_at(state)
        if renew_at is not None:
            return f"auto-renew at {max(renew_at, now):%Y-%m-%d %H:%M} UTC"
        return f"the next operation, or expiry at {state.expire_at:%Y-%m-%d %H:%M} UTC"
    return "the next operation"


def summary(state: JobState) -> str:
    """One line for the Temporal UI."""
    return f"{state.status}: {state.waiting_for}"


# -- reconciliation -------------------------------------------------------------------------


def already_applied(
    kind: OperationKind, before: ListingSnapshot, status: JobPostingStatus | None
) -> bool:
    """Whether LinkedIn's state shows the operation done (an earlier answer was lost).

    Read before sending an operation again. jobPostingStatus does not show a job's content,
    so an UPDATE is never seen as applied: sending the same whole job again is harmless.
    LinkedIn changes promotionStatus on its own too, so a promotion alone proves neither an
    upgrade nor a downgrade: what only the operation does is looked for (seed 003: an
    upgrade resets the job's expiry, a downgrade gives it a new jobId).
    """
    if status is None:
        return False
    listing, promotion = status.listing_status, status.promotion_status
    expire_at = status.job_posting_info.expire_at if status.job_posting_info else None
    match kind:
        case OperationKind.CREATE:
            return True
        case OperationKind.CLOSE:
            closed = ListingStatus.NOT_LISTED
            return listing == closed and before.listing_status != closed
        case OperationKind.UPGRADE:
            promoted = PromotionStatus.PROMOTED
            if promotion != promoted:
                return False
            if expire_at is not None and before.expire_at_ms is not None:
                return expire_at != before.expire_at_ms
            return before.promotion_status != promoted
        case OperationKind.DOWNGRADE:
            if before.job_id is not None:
                return status.job_id not in (None, before.job_id)
            return promotion == "NOT_PROMOTED" and before.promotion_status == "PROMOTED"
        case OperationKind.RENEW:  # 30 days from now: earlier than a premium expireAt may be
            return (
                expire_at is not None
                and before.expire_at_ms is not None
                and expire_at != before.expire_at_ms
            )
        case _:
            return False


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
