"""The job lifecycle's pure rules: every edge in milliseconds, no Temporal, no HTTP."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import job_lifecycle as rules
from domain.errors import FailureType
from domain.job_postings import Budget, JobPosting, JobPostingStatus
from domain.job_workflow import (
    AutoRenew,
    JobOperationResult,
    JobState,
    JobStatus,
    ListingSnapshot,
    OperationKind,
    OperationOutcome,
    OperationParams,
    job_workflow_id,
)
from tests.jobs_support import job_fields

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONTRACT = "urn:li:contract:555"
BUDGET = Budget.model_validate(
    {"payForPerformanceTotalBudget": {"currencyCode": "USD", "amount": "275.00"}}
)


def job(**overrides: Any) -> JobPosting:
    fields = job_fields("job-1", listed_at=int(T0.timestamp() * 1000) - 60_000, **overrides)
    return JobPosting.model_validate(fields)


def status(**fields: Any) -> JobPostingStatus:
    base: dict[str, Any] = {
        "externalJobPostingId": "job-1",
        "jobPostingUrl": "https://www.linkedin.com/jobs/view/100",
        "listingStatus": "LISTED",
        "promotionStatus": "NOT_PROMOTED",
        "jobPostingInfo": {"expireAt": _ms(T0 + timedelta(days=180)), "listedAt": _ms(T0)},
    }
    base.update(fields)
    return JobPostingStatus.model_validate(base)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


class Job:
    """A state driven through events the way the workflow drives it."""

    def __init__(self, auto_renew: AutoRenew | None = None) -> None:
        self.state: JobState = rules.new_state("cust-1", "job-1", auto_renew)
        self.now = T0
        self.counter = 0

    def request(self, kind: OperationKind, request_id: str | None = None, **params: Any) -> str:
        self.counter += 1
        request_id = request_id or f"r{self.counter}"
        p = OperationParams(**params)
        known = rules.check_request(self.state, kind, p, request_id, self.now)
        if known is not None:
            return known.id
        rules.evolve(self.state, rules.OperationRequested(request_id, kind, p, self.now))
        return request_id

    def start(self) -> str:
        command = rules.decide(self.state, self.now)
        if isinstance(command, rules.FailOperation):
            rules.evolve(
                self.state, rules.StartRefused(command.operation_id, command.reason, self.now)
            )
            return command.operation_id
        assert isinstance(command, rules.StartOperation), command
        started = rules.OperationStarted(command.operation_id, command.posting, self.now)
        rules.evolve(self.state, started)
        return command.operation_id

    def wake(self) -> rules.Command:
        """The sweep's wake-up as the workflow takes it: recorded, then what is due done."""
        rules.evolve(self.state, rules.TimerFired(self.now))
        command = rules.decide(self.state, self.now)
        if isinstance(command, rules.RenewBeforeExpiry):
            queued = rules.AutoRenewQueued(command.operation_id, command.budget, self.now)
            rules.evolve(self.state, queued)
        elif isinstance(command, rules.Expire):
            rules.evolve(self.state, rules.Expired(self.now))
        return command

    def answer(self, result: JobOperationResult) -> None:
        operation_id = self.start()
        rules.evolve(self.state, rules.OperationAnswered(operation_id, result, self.now))

    def succeed(self, **status_fields: Any) -> None:
        self.answer(JobOperationResult(succeeded=True, status=status(**status_fields)))

    def op(self, operation_id: str) -> Any:
        found = self.state.operation(operation_id)
        assert found is not None
        return found


def listed(**params: Any) -> Job:
    j = Job(**params)
    j.request(OperationKind.CREATE, job=job())
    j.succeed()
    return j


# -- building what LinkedIn receives --------------------------------------------------------


def test_close_carries_the_whole_job() -> None:
    j = listed()
    op = j.request(OperationKind.CLOSE)
    j.start()
    sent = j.op(op).posting.to_wire()
    assert sent["jobPostingOperationType"] == "CLOSE"
    for field in ("title", "description", "companyApplyUrl", "listedAt", "location"):
        assert field in sent


def test_an_update_keeps_the_listing_fields_it_leaves_out() -> None:
    j = listed()
    j.request(OperationKind.UPGRADE, contract=CONTRACT)
    j.succeed(promotionStatus="PROMOTED")
    op = j.request(OperationKind.UPDATE, job=job(title="Staff Engineer"))
    j.start()
    sent = j.op(op).posting
    assert (sent.listing_type, sent.contract, sent.title) == ("PREMIUM", CONTRACT, "Staff Engineer")


def test_a_contract_urn_must_be_digits() -> None:
    j = listed()
    with pytest.raises(ValueError, match=r"urn:li:contract:<digits>"):
        j.request(OperationKind.UPGRADE, contract="urn:li:contract:abc")


# -- exactly once: what LinkedIn's state says of an operation whose answer was lost ---------

BEFORE = ListingSnapshot(
    job_id="100",
    listing_status="LISTED",
    promotion_status="NOT_PROMOTED",
    expire_at_ms=_ms(T0 + timedelta(days=30)),
)


@pytest.mark.parametrize(
    ("kind", "seen", "applied"),
    [
        (OperationKind.CREATE, None, False),
        (OperationKind.CREATE, {}, True),
        (OperationKind.CLOSE, {"listingStatus": "NOT_LISTED"}, True),
        (OperationKind.CLOSE, {}, False),
        (OperationKind.UPGRADE, {"promotionStatus": "PROMOTED"}, True),
        (OperationKind.UPGRADE, {}, False),
        (OperationKind.DOWNGRADE, {"jobPostingUrl": "https://www.linkedin.com/jobs/view/7"}, True),
        (OperationKind.DOWNGRADE, {}, False),
        (
            OperationKind.RENEW,
            {"jobPostingInfo": {"expireAt": _ms(T0 + timedelta(days=40))}},
            True,
        ),
        (
            OperationKind.RENEW,
            {"jobPostingInfo": {"expireAt": _ms(T0 + timedelta(days=30))}},
            False,
        ),
        (OperationKind.UPDATE, {}, False),
    ],
)
def test_already_applied_reads_each_operations_effect(
    kind: OperationKind, seen: dict[str, Any] | None, applied: bool
) -> None:
    seen_status = None if seen is None else status(**seen)
    assert rules.already_applied(kind, BEFORE, seen_status) is applied


PROMOTED_BEFORE = BEFORE.model_copy(update={"promotion_status": "PROMOTED"})
SAME_EXPIRY = {"jobPostingInfo": {"expireAt": BEFORE.expire_at_ms}}
PROMOTED = {"promotionStatus": "PROMOTED"}


@pytest.mark.parametrize(
    ("kind", "before", "seen", "applied"),
    [
        # LinkedIn promoted the job itself: an upgrade would have reset its expiry (seed 003)
        (OperationKind.UPGRADE, BEFORE, {**PROMOTED, **SAME_EXPIRY}, False),
        # LinkedIn promoted it before: the upgrade shows in the expiry it reset
        (OperationKind.UPGRADE, PROMOTED_BEFORE, PROMOTED, True),
        (OperationKind.UPGRADE, PROMOTED_BEFORE, {**PROMOTED, **SAME_EXPIRY}, False),
        # LinkedIn stopped promoting it: a downgrade would have given it a new jobId (seed 003)
        (OperationKind.DOWNGRADE, PROMOTED_BEFORE, {"promotionStatus": "NOT_PROMOTED"}, False),
    ],
)
def test_a_change_linkedin_makes_itself_is_not_taken_for_an_operations_effect(
    kind: OperationKind, before: ListingSnapshot, seen: dict[str, Any], applied: bool
) -> None:
    """The chaos run and the soak met both: LinkedIn changed promotionStatus on its own
    while an upgrade's answer was lost; the upgrade was taken as done (and never was), or
    never seen and sent again."""
    assert rules.already_applied(kind, before, status(**seen)) is applied


# -- never fails, never hangs ---------------------------------------------------------------


def test_an_unanswered_operation_parks_and_the_workflow_goes_on() -> None:
    j = listed()
    op = j.request(OperationKind.RENEW)
    j.start()
    rules.evolve(j.state, rules.OperationUnanswered(op, "jobPostingStatus: 503", j.now))
    parked = j.op(op)
    assert parked.outcome == OperationOutcome.NEEDS_ATTENTION
    assert parked.may_have_reached_linkedin and "503" in (parked.error or "")
    assert j.state.status == JobStatus.NEEDS_ATTENTION
    assert "retry or cancel" in j.state.waiting_for
    rules.evolve(j.state, rules.OperatorRetried(op, j.now))
    j.start()
    request = rules.activity_request(j.state, j.op(op))
    assert request.may_have_reached_linkedin  # LinkedIn's state is read before sending


def test_a_parked_operation_answers_later_requests_at_once_and_can_be_cancelled() -> None:
    j = listed()
    upgrade = j.request(OperationKind.UPGRADE, contract=CONTRACT)
    j.answer(
        JobOperationResult(
            succeeded=False, failure=FailureType.FORBIDDEN, message="Caller is not authorized"
        )
    )
    assert j.op(upgrade).outcome == OperationOutcome.NEEDS_ATTENTION
    update = j.request(OperationKind.UPDATE, job=job(title="New title"))
    assert rules.is_answered(j.op(update), wait=False)
    assert isinstance(rules.decide(j.state, j.now), rules.Wait)  # queued behind the parked one
    assert rules.waits_for_an_operator(j.state, j.op(update))
    assert not rules.waits_for_an_operator(j.state, j.op(upgrade))
    rules.evolve(j.state, rules.OperatorCancelled(upgrade, j.now))
    assert j.op(upgrade).outcome == OperationOutcome.CANCELLED
    command = rules.decide(j.state, j.now)
    assert isinstance(command, rules.StartOperation) and command.operation_id == update
    assert not rules.waits_for_an_operator(j.state, j.op(update))


def test_access_granted_resumes_operations_parked_on_that_contract() -> None:
    j = listed()
    upgrade = j.request(OperationKind.UPGRADE, contract=CONTRACT)
    j.answer(JobOperationResult(succeeded=False, failure=FailureType.FORBIDDEN, message="no"))
    rules.evolve(j.state, rules.AccessGranted("urn:li:contract:9", j.now))
    assert j.op(upgrade).outcome == OperationOutcome.NEEDS_ATTENTION
    rules.evolve(j.state, rules.AccessGranted(CONTRACT, j.now))
    assert j.op(upgrade).outcome == OperationOutcome.QUEUED


def test_a_refusal_fails_only_its_operation() -> None:
    j = listed()
    op = j.request(OperationKind.RENEW)
    j.answer(JobOperationResult(succeeded=False, failure=FailureType.TASK_FAILED, message="no"))
    assert j.op(op).outcome == OperationOutcome.FAILED
    assert j.state.status == JobStatus.LISTED


# -- auto-renew runs once per expiry --------------------------------------------------------


def test_a_refused_auto_renew_is_not_repeated() -> None:
    j = Job(auto_renew=AutoRenew(days_before=3, max_renewals=12))
    j.request(
        OperationKind.CREATE, job=job(listing_type="PREMIUM", contract=CONTRACT, budget=BUDGET)
    )
    expiry = T0 + timedelta(days=30)
    j.succeed(jobPostingInfo={"expireAt": _ms(expiry), "listedAt": _ms(T0)})
    due = rules.next_timer(j.state)
    assert due == expiry - timedelta(days=3)
    j.now = due
    assert isinstance(j.wake(), rules.RenewBeforeExpiry)
    j.answer(JobOperationResult(succeeded=False, failure=FailureType.TASK_FAILED, message="no"))
    assert j.state.renewals == 1
    assert rules.next_timer(j.state) == expiry  # not another renew a second later
    j.now = expiry
    assert j.wake() == rules.Expire()
    assert j.state.status == JobStatus.EXPIRED and j.state.renewals == 1


def test_a_wake_up_is_only_recorded_and_decide_says_what_is_due() -> None:
    j = Job(auto_renew=AutoRenew(days_before=3, max_renewals=12))
    j.request(
        OperationKind.CREATE, job=job(listing_type="PREMIUM", contract=CONTRACT, budget=BUDGET)
    )
    expiry = T0 + timedelta(days=30)
    j.succeed(jobPostingInfo={"expireAt": _ms(expiry), "listedAt": _ms(T0)})
    j.now = expiry - timedelta(days=3)
    rules.evolve(j.state, rules.TimerFired(j.now))
    assert (j.state.renewals, len(j.state.operations)) == (0, 1)  # evolve decided nothing
    command = rules.decide(j.state, j.now)
    assert command == rules.RenewBeforeExpiry(f"auto-renew-1-{_ms(j.now)}", BUDGET)
    rules.evolve(j.state, rules.AutoRenewQueued(command.operation_id, command.budget, j.now))
    renewal = j.state.operations[-1]
    assert (renewal.kind, renewal.note) == (OperationKind.RENEW, "auto-renew before expiry")
    assert j.state.renewals == 1 and j.state.woken_at is None
    j.now = T0 + timedelta(days=1)  # an early wake-up: nothing is due, nothing is done
    rules.evolve(j.state, rules.OperatorRetried(None, j.now))
    rules.evolve(j.state, rules.TimerFired(j.now))
    assert isinstance(rules.decide(j.state, j.now), rules.StartOperation)  # the renewal


def test_an_operation_that_cannot_be_built_when_its_turn_comes_fails_by_decision() -> None:
    """Queued on the job as it would be (PREMIUM), it starts on the job as it is (BASIC)."""
    j = listed()
    j.request(OperationKind.UPGRADE, contract=CONTRACT)
    downgrade = j.request(OperationKind.DOWNGRADE, contract=CONTRACT)
    j.answer(JobOperationResult(succeeded=False, failure=FailureType.TASK_FAILED, message="no"))
    command = rules.decide(j.state, j.now)
    assert command == rules.FailOperation(downgrade, "downgrade: the job is BASIC already")
    assert j.op(downgrade).outcome == OperationOutcome.QUEUED  # deciding changed nothing
    rules.evolve(j.state, rules.StartRefused(downgrade, command.reason, j.now))
    assert j.op(downgrade).outcome == OperationOutcome.FAILED
    assert j.op(downgrade).error == "downgrade: the job is BASIC already"


# -- bounded state --------------------------------------------------------------------------


def test_state_stays_small_after_500_operations_with_long_descriptions() -> None:
    j = listed()
    for n in range(500):
        j.request(OperationKind.UPDATE, job=job(description=f"{n} " + "x" * 24_990))
        j.succeed()
    size = len(j.state.model_dump_json())
    assert size < 256_000, size
    assert sum(j.state.earlier_operations.values()) + len(j.state.operations) == 501


def test_unfinished_operations_are_bounded() -> None:
    j = listed()
    j.request(OperationKind.UPGRADE, contract=CONTRACT)
    j.answer(JobOperationResult(succeeded=False, failure=FailureType.FORBIDDEN, message="no"))
    for n in range(rules.MAX_UNFINISHED - 1):
        j.request(OperationKind.UPDATE, job=job(title=f"t{n}"))
    with pytest.raises(rules.OperationRefused, match="unfinished already") as info:
        j.request(OperationKind.UPDATE, job=job(title="one too many"))
    assert info.value.reason == rules.RefusalReason.CONFLICT


# -- closed, failed, idempotent -------------------------------------------------------------


def test_a_closed_job_refuses_everything_but_answers_a_second_close() -> None:
    j = listed()
    close = j.request(OperationKind.CLOSE)
    j.succeed(listingStatus="NOT_LISTED")
    assert j.state.status == JobStatus.CLOSED
    assert isinstance(rules.decide(j.state, j.now), rules.Complete)
    assert j.request(OperationKind.CLOSE) == close
    with pytest.raises(rules.OperationRefused, match="the job is CLOSED") as info:
        j.request(OperationKind.RENEW)
    assert info.value.reason == rules.RefusalReason.CONFLICT


def test_a_failed_create_is_corrected_by_a_new_create_or_discarded() -> None:
    j = Job()
    j.request(OperationKind.CREATE, job=job())
    j.answer(JobOperationResult(succeeded=False, failure=FailureType.VALIDATION, message="bad"))
    assert j.state.status == JobStatus.FAILED
    assert rules.put_kind(j.state) == OperationKind.CREATE
    j.request(OperationKind.CREATE, job=job(title="Corrected"))
    j.succeed()
    assert j.state.status == JobStatus.LISTED

    k = Job()
    k.request(OperationKind.CREATE, job=job())
    k.answer(JobOperationResult(succeeded=False, failure=FailureType.VALIDATION, message="bad"))
    k.request(OperationKind.DISCARD)
    assert k.state.status == JobStatus.DISCARDED
    assert isinstance(rules.decide(k.state, k.now), rules.Complete)


def test_a_job_linkedin_has_cannot_be_discarded() -> None:
    j = listed()
    with pytest.raises(rules.OperationRefused, match="close it instead"):
        j.request(OperationKind.DISCARD)


def test_the_same_request_id_or_the_same_job_answers_the_first_operation() -> None:
    j = listed()
    first = j.request(OperationKind.UPGRADE, "key-1", contract=CONTRACT)
    assert j.request(OperationKind.UPGRADE, "key-1", contract=CONTRACT) == first
    update = j.request(OperationKind.UPDATE, job=job(title="B"))
    assert j.request(OperationKind.UPDATE, job=job(title="B")) == update
    assert len(j.state.operations) == 3


def test_workflow_ids_never_collide() -> None:
    assert job_workflow_id("t5a/x", "job1") != job_workflow_id("t5a", "x/job1")
    assert job_workflow_id("acme", "req-1") == "job/acme/req-1"


# -- random event sequences: the rules' invariants hold -------------------------------------


def has_an_operation_to_start(machine: JobMachine) -> bool:
    command = rules.decide(machine.state, machine.job.now)
    return isinstance(command, rules.StartOperation | rules.FailOperation)


class JobMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.job = Job(auto_renew=AutoRenew(days_before=3, max_renewals=3))

    @property
    def state(self) -> JobState:
        return self.job.state

    @rule(
        kind=st.sampled_from(list(OperationKind)),
        title=st.sampled_from(["A", "B"]),
        budget=st.booleans(),
    )
    def request(self, kind: OperationKind, title: str, budget: bool) -> None:
        params: dict[str, Any] = {}
        if kind in (OperationKind.CREATE, OperationKind.UPDATE):
            params["job"] = job(title=title)
        if kind == OperationKind.UPGRADE:
            params["contract"] = CONTRACT
            params["budget"] = BUDGET if budget else None
        with suppress(rules.OperationRefused):
            self.job.request(kind, **params)

    @precondition(has_an_operation_to_start)
    @rule(
        outcome=st.sampled_from(["ok", "refused", "forbidden", "unanswered"]),
        promoted=st.booleans(),
    )
    def run(self, outcome: str, promoted: bool) -> None:
        operation_id = self.job.start()
        op = self.state.operation(operation_id)
        if op is None or op.outcome != OperationOutcome.RUNNING:
            return
        now = self.job.now
        if outcome == "unanswered":
            rules.evolve(self.state, rules.OperationUnanswered(operation_id, "timeout", now))
            return
        result = JobOperationResult(
            succeeded=outcome == "ok",
            status=status(
                promotionStatus="PROMOTED" if promoted else "NOT_PROMOTED",
                listingStatus="NOT_LISTED" if op.kind == OperationKind.CLOSE else "LISTED",
            ),
            failure=FailureType.FORBIDDEN if outcome == "forbidden" else FailureType.TASK_FAILED,
            message=None if outcome == "ok" else outcome,
        )
        rules.evolve(self.state, rules.OperationAnswered(operation_id, result, now))

    @rule(cancel=st.booleans())
    def operator(self, cancel: bool) -> None:
        event = rules.OperatorCancelled if cancel else rules.OperatorRetried
        rules.evolve(self.state, event(None, self.job.now))

    @rule(days=st.integers(min_value=1, max_value=200))
    def time_passes(self, days: int) -> None:
        self.job.now += timedelta(days=days)
        self.job.wake()

    @invariant()
    def bounded(self) -> None:
        unfinished = [op for op in self.state.operations if not op.outcome.is_final]
        assert len(unfinished) <= rules.MAX_UNFINISHED
        assert len(self.state.operations) <= rules.MAX_UNFINISHED + rules.KEEP_FINISHED
        assert all(op.params is None for op in self.state.operations if op.outcome.is_final)

    @invariant()
    def decided(self) -> None:
        command = rules.decide(self.state, self.job.now)
        parked = any(op.outcome == OperationOutcome.NEEDS_ATTENTION for op in self.state.operations)
        if parked and self.state.status not in (JobStatus.CLOSED, JobStatus.DISCARDED):
            assert self.state.status == JobStatus.NEEDS_ATTENTION
        if isinstance(command, rules.Complete):
            assert self.state.status in (JobStatus.CLOSED, JobStatus.DISCARDED)
        timer = rules.next_timer(self.state)
        assert timer is None or self.state.expire_at is not None


TestJobMachine = JobMachine.TestCase
TestJobMachine.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
