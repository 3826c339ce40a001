"""The customer integration's pure rules: every edge in milliseconds, no Temporal, no HTTP.

`Integration` drives `domain.integration_lifecycle` the way the workflow does (decide, run,
evolve), against `FakeLinkedIn`, which answers as LinkedIn would: an enable makes a saved
context ENABLED, a context nobody saved has no record, faults are queued per call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import integration_lifecycle as rules
from domain.errors import FailureType
from domain.integration_workflow import (
    KEPT_TRANSITIONS,
    MAX_APP_ATTEMPTS,
    MAX_CONTEXTS,
    STATUS_RANK,
    ContextStatus,
    HiringContractStatus,
    IntegrationInput,
    IntegrationState,
    ProvisionedCustomer,
    RoundKind,
    SetUpHiringContract,
    VerifiedIntegrations,
    application_foreign_id,
)
from domain.integrations import IntegrationType, OnboardingStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CID = "cust-1"
A = "urn:li:contract:555"
B = "urn:li:contract:777"
C = "urn:li:contract:999"
DEADLINE = timedelta(seconds=90)
ENABLED = OnboardingStatus.ENABLED
REQUESTED = OnboardingStatus.REQUESTED

NO_ANSWER = "no answer"
"""A fault: the activity gave up without LinkedIn's answer (a timeout)."""
Fault = FailureType | str


def value(context: str, integration_type: str = "PREMIUM_JOB_POSTING") -> dict[str, object]:
    return {
        "tenantType": "JOBS",
        "onboardingStatus": "REQUESTED",
        "integrationType": integration_type,
        "integrationContext": context,
    }


@dataclass
class FakeLinkedIn:
    """What LinkedIn holds per context, and the answers its next calls get instead of its
    own: a FailureType or NO_ANSWER fails the call, anything else is its result."""

    records: dict[str, OnboardingStatus] = field(default_factory=dict)
    script: list[object] = field(default_factory=list)

    def answer(self, command: rules.Activity) -> object:
        """The activity's result, or the Fault it failed with."""
        if self.script:
            return self.script.pop(0)
        match command:
            case rules.Enable(integration_context=name):
                if name not in self.records:
                    return FailureType.NOT_FOUND
                if self.records[name] == ENABLED:
                    return FailureType.ALREADY_ENABLED
                self.records[name] = ENABLED
                return None
            case rules.Verify(contexts=names):
                return VerifiedIntegrations(statuses={n: self.records.get(n) for n in names})
            case rules.SetUpContract(partner_contract_id=n):
                return SetUpHiringContract(application_key="app", contract=f"urn:li:contract:{n}")
            case _:
                return None


class Integration:
    """A state driven through events the way CustomerIntegrationWorkflow drives it."""

    def __init__(self, integration_type: IntegrationType = IntegrationType.PREMIUM_JOB_POSTING):
        self.input = IntegrationInput(
            customer_id=CID, customer_name="Globex", integration_type=integration_type
        )
        self.state: IntegrationState = rules.initial_state(self.input)
        self.now = T0
        self.linkedin = FakeLinkedIn()
        self.moves: list[rules.Moved] = []

    def evolve(self, event: rules.Event) -> None:
        self.moves += rules.evolve(self.state, event)

    def decide(self) -> rules.Command:
        return rules.decide(self.state, self.now)

    def provisioned(self) -> Integration:
        self.evolve(rules.AppLookedUp(ProvisionedCustomer(client_id="c", application_key="k"), T0))
        return self

    def save(self, *contexts: str, at_linkedin: bool = True) -> None:
        """The customer saves the widget: LinkedIn has the context REQUESTED, we get the values."""
        for name in contexts:
            if at_linkedin:
                self.linkedin.records[name] = REQUESTED
        self.evolve(rules.WidgetSaved([value(c) for c in contexts], self.now))

    def run(self, command: rules.Activity, until: datetime | None = None) -> None:
        self.evolve(rules.Asked(command, self.now))
        result = self.linkedin.answer(command)
        if isinstance(result, FailureType | str):
            failure = result if isinstance(result, FailureType) else None
            event = rules.failed(command, failure, f"{result}", until is not None, self.now)
        else:
            event = rules.answered(self.input, command, result, self.now)
        if event is not None:
            self.evolve(event)

    def round(
        self,
        kind: RoundKind = RoundKind.BACKGROUND,
        *script: object,
        until: datetime | None = None,
        contexts: tuple[str, ...] = (),
        contract: str | None = None,
    ) -> list[rules.Command]:
        """One round with the lock held, as `_round` runs it; answers the commands run."""
        self.linkedin.script = list(script)
        self.evolve(rules.RoundBegun(kind, self.now, until, contexts, contract))
        ran: list[rules.Command] = []
        for _ in range(4 * MAX_CONTEXTS):
            command = self.decide()
            if isinstance(command, rules.Done):
                break
            assert not isinstance(command, rules.Park | rules.WaitUntil | rules.LookUpApp)
            assert not isinstance(command, rules.RetireOrphan)
            ran.append(command)
            self.run(command, until)
        else:
            raise AssertionError(f"the round did not end: {ran[-5:]}")
        self.evolve(rules.RoundEnded(self.now))
        return ran

    def enable(self, context: str | None = None, *faults: Fault) -> list[rules.Command]:
        """The `enable` update, given the lock in time."""
        self.evolve(rules.EnableRequested(context, self.now))
        targets = tuple(rules.enable_targets(self.state, context))
        until = self.now + DEADLINE
        return self.round(RoundKind.ENABLE, *faults, until=until, contexts=targets)

    def setup(self, partner_contract_id: int, *faults: Fault) -> list[rules.Command]:
        self.evolve(rules.ContractRequested(partner_contract_id, self.now))
        until = self.now + DEADLINE
        return self.round(RoundKind.SETUP, *faults, until=until, contract=str(partner_contract_id))

    def verify(self, *faults: Fault) -> list[rules.Command]:
        """Time passes to the periodic verify, which runs."""
        wait = self.decide()
        assert isinstance(wait, rules.WaitUntil) and wait.until is not None, wait
        self.now = wait.until
        return self.round(RoundKind.VERIFY, *faults)

    def status_of(self, context: str) -> ContextStatus:
        return self.state.contexts[context].status

    def statuses(self, context: str) -> list[str]:
        return [t.status for t in self.state.contexts[context].transitions]

    def headline(self) -> tuple[ContextStatus, str]:
        return rules.status(self.state), rules.waiting_for(self.state, self.now)


def enabled(*contexts: str) -> Integration:
    i = Integration().provisioned()
    i.save(*contexts)
    i.round()
    return i


# -- the table: NOT_CONNECTED → REQUESTED → ENABLED → drift → NEEDS_ATTENTION ---------------


def test_not_connected_until_the_customer_saves_the_widget() -> None:
    i = Integration()
    assert i.headline() == (
        ContextStatus.NOT_CONNECTED,
        "creating the customer's LinkedIn application",
    )
    i.provisioned()
    assert i.headline() == (ContextStatus.NOT_CONNECTED, "the customer to save the LinkedIn widget")
    assert i.decide() == rules.WaitUntil(None)  # nothing ENABLED: no verify timer
    assert i.round() == []


def test_a_save_is_requested_then_enabled_verified_and_jobs_woken() -> None:
    i = Integration().provisioned()
    i.save(A)
    assert i.headline() == (ContextStatus.REQUESTED, f"LinkedIn to enable {A}")
    assert rules.has_work(i.state)
    assert i.round() == [
        rules.Enable(A),
        rules.Verify((A,), after_enable=True),
        rules.NotifyJobs(A),
    ]
    assert i.statuses(A) == ["REQUESTED", "ENABLED"]
    context = i.state.contexts[A]
    assert context.integration_name == "Acme ATS-Globex LinkedIn Premium Job Posting Integration"
    assert not context.enable_pending and not rules.has_work(i.state)
    assert i.state.last_verified_at == T0
    status, waiting = i.headline()
    assert status == ContextStatus.ENABLED
    assert waiting == "the next verify at 2026-01-02 00:00 UTC (1 enabled)"
    assert [(m.integration_context, m.status, m.count) for m in i.moves] == [
        (A, ContextStatus.REQUESTED, 1),
        (A, ContextStatus.ENABLED, 2),
    ]


def test_only_job_posting_integrations_wake_parked_jobs() -> None:
    i = Integration(IntegrationType.CSA_API).provisioned()
    i.linkedin.records[A] = REQUESTED
    i.evolve(rules.WidgetSaved([{**value(A, "CSA_API"), "tenantType": "RECRUITER"}], i.now))
    assert i.round() == [rules.Enable(A), rules.Verify((A,), after_enable=True)]
    assert i.status_of(A) == ContextStatus.ENABLED


@pytest.mark.parametrize(
    ("fault", "interactive", "status", "pending", "error"),
    [
        (FailureType.FORBIDDEN, False, ContextStatus.NEEDS_ATTENTION, False, "LinkedInForbidden"),
        (FailureType.AUTH, True, ContextStatus.NEEDS_ATTENTION, False, "LinkedInAuth"),
        (FailureType.TRANSIENT, True, ContextStatus.NEEDS_ATTENTION, False, "Transient"),
        (NO_ANSWER, False, ContextStatus.NEEDS_ATTENTION, False, "no answer"),
        (NO_ANSWER, True, ContextStatus.REQUESTED, True, "LinkedIn did not answer in time"),
        (FailureType.NOT_FOUND, False, ContextStatus.REQUESTED, False, "LinkedInNotFound"),
    ],
)
def test_what_linkedin_answers_an_enable_makes_the_context(
    fault: Fault, interactive: bool, status: ContextStatus, pending: bool, error: str
) -> None:
    i = Integration().provisioned()
    i.save(A)
    ran = i.enable(A, fault) if interactive else i.round(RoundKind.BACKGROUND, fault)
    assert ran == [rules.Enable(A)]  # no verify after a failed enable
    context = i.state.contexts[A]
    assert (context.status, context.enable_pending) == (status, pending)
    assert error in (context.last_error or "")
    assert context.customer_has_not_saved == (fault == FailureType.NOT_FOUND)
    if status == ContextStatus.NEEDS_ATTENTION:
        assert i.headline() == (
            ContextStatus.NEEDS_ATTENTION,
            f"an operator: {A} needs attention ({context.last_error}); signal retry once fixed",
        )


def test_already_enabled_is_verified_and_counts_as_enabled() -> None:
    i = enabled(A)
    ran = i.enable(A)
    assert ran == [rules.Enable(A), rules.Verify((A,), after_enable=True)]  # not newly: no notify
    assert i.statuses(A) == ["REQUESTED", "ENABLED"]


def test_a_verify_that_does_not_read_enabled_needs_a_person() -> None:
    i = Integration().provisioned()
    i.save(A)
    i.round(RoundKind.BACKGROUND, None, VerifiedIntegrations(statuses={A: REQUESTED}))
    assert i.status_of(A) == ContextStatus.NEEDS_ATTENTION
    assert i.state.contexts[A].last_error == "LinkedIn reports REQUESTED right after enabling"


def test_a_save_before_linkedin_has_it_waits_for_the_customer() -> None:
    i = Integration().provisioned()
    i.save(A, at_linkedin=False)
    i.round()
    assert i.state.contexts[A].customer_has_not_saved
    assert i.headline() == (ContextStatus.REQUESTED, f"the customer to save the widget for {A}")
    assert not rules.has_work(i.state)  # LinkedIn's next callback brings it back
    i.save(A)
    i.round()
    assert i.statuses(A) == ["REQUESTED", "ENABLED"]
    assert not i.state.contexts[A].customer_has_not_saved


def test_a_re_save_goes_back_to_requested_and_is_enabled_again() -> None:
    i = enabled(A)
    i.linkedin.records[A] = REQUESTED  # a new poster: LinkedIn puts it back to REQUESTED
    i.save(A)
    assert i.round() == [
        rules.Enable(A),
        rules.Verify((A,), after_enable=True),
        rules.NotifyJobs(A),
    ]
    assert i.statuses(A) == ["REQUESTED", "ENABLED", "REQUESTED", "ENABLED"]


def test_drift_found_by_the_periodic_verify_is_enabled_again() -> None:
    i = enabled(A, B)
    i.linkedin.records[A] = REQUESTED  # the poster was removed at LinkedIn: no callback
    assert i.decide() == rules.WaitUntil(T0 + timedelta(hours=24))
    assert i.verify() == [rules.Verify((A, B), after_enable=False)]
    assert i.statuses(A)[-1] == "REQUESTED" and i.status_of(B) == ContextStatus.ENABLED
    assert i.state.contexts[A].transitions[-1].reason == (
        "drift: LinkedIn reports REQUESTED; enabling again"
    )
    assert i.state.last_verified_at == T0 + timedelta(hours=24)
    assert rules.has_work(i.state)
    i.round()
    assert i.statuses(A) == ["REQUESTED", "ENABLED", "REQUESTED", "ENABLED"]


def test_a_periodic_verify_that_fails_changes_only_what_linkedin_refused() -> None:
    i = enabled(A)
    i.verify(NO_ANSWER)
    assert i.status_of(A) == ContextStatus.NEEDS_ATTENTION  # six hours without an answer
    j = enabled(A)
    j.verify(FailureType.NOT_FOUND)
    assert j.status_of(A) == ContextStatus.REQUESTED and j.state.contexts[A].customer_has_not_saved


def test_needs_attention_until_an_operator_retries() -> None:
    i = enabled(A)
    i.save(B)
    i.round(RoundKind.BACKGROUND, FailureType.FORBIDDEN)
    assert i.headline()[0] == ContextStatus.NEEDS_ATTENTION
    assert not rules.has_work(i.state)  # parked: the run loop leaves it alone
    assert i.round() == []
    i.evolve(rules.OperatorRetried(i.now))
    assert i.status_of(B) == ContextStatus.REQUESTED and rules.has_work(i.state)
    i.round()
    assert i.statuses(B) == ["REQUESTED", "NEEDS_ATTENTION", "REQUESTED", "ENABLED"]
    assert i.headline()[0] == ContextStatus.ENABLED


def test_the_enable_update_enables_a_context_that_needs_attention_too() -> None:
    i = Integration().provisioned()
    i.save(A)
    i.round(RoundKind.BACKGROUND, FailureType.FORBIDDEN)
    assert i.enable()[0] == rules.Enable(A)
    assert i.status_of(A) == ContextStatus.ENABLED


def test_the_headline_is_the_least_advanced_context() -> None:
    i = enabled(A)
    i.save(B, at_linkedin=False)
    i.round()
    assert i.headline()[0] == ContextStatus.REQUESTED
    i.save(C)
    i.round(RoundKind.BACKGROUND, FailureType.PERMANENT)
    assert i.headline()[0] == ContextStatus.NEEDS_ATTENTION


# -- rounds: what the holder of the lock works through --------------------------------------


def test_a_context_saved_while_the_run_loop_works_waits_for_its_next_round() -> None:
    i = Integration().provisioned()
    i.save(A)
    i.evolve(rules.RoundBegun(RoundKind.BACKGROUND, i.now))
    assert i.decide() == rules.Enable(A)
    i.run(rules.Enable(A))
    i.save(B)  # arrives while A's enable is in flight
    i.run(i.decide())  # type: ignore[arg-type]  # A's verify
    i.run(i.decide())  # type: ignore[arg-type]  # A's jobs
    assert i.decide() == rules.Done()  # B was not saved when the round began
    i.evolve(rules.RoundEnded(i.now))
    assert rules.has_work(i.state) and i.round()[0] == rules.Enable(B)


def test_a_context_that_needs_attention_waits_for_a_retry_even_if_an_update_queued_it() -> None:
    i = Integration().provisioned()
    i.save(A)
    i.round(RoundKind.BACKGROUND, FailureType.FORBIDDEN)
    i.evolve(rules.EnableRequested(None, i.now))
    i.evolve(rules.NotInTime("late", i.now, contexts=(A,)))  # every context not ENABLED
    assert i.state.contexts[A].enable_pending and not rules.has_work(i.state)
    assert i.round() == []


def test_a_context_passed_over_is_not_enabled_while_the_round_sets_up_contracts() -> None:
    i = enabled(A)
    i.evolve(rules.ContractRequested(1, i.now))
    i.evolve(rules.RoundBegun(RoundKind.BACKGROUND, i.now))
    assert i.decide() == rules.SetUpContract(1)  # A is ENABLED: passed over
    i.evolve(rules.Asked(rules.SetUpContract(1), i.now))
    i.linkedin.records[A] = REQUESTED
    i.save(A)  # re-saved while the contract is set up
    i.evolve(rules.ContractAnswered(1, "urn:li:contract:1", i.now))
    assert i.decide() == rules.Done()
    i.evolve(rules.RoundEnded(i.now))
    assert i.round()[0] == rules.Enable(A)


def test_contracts_pending_when_the_contexts_are_done_are_set_up_in_the_round() -> None:
    i = Integration().provisioned()
    i.save(A)
    i.evolve(rules.RoundBegun(RoundKind.BACKGROUND, i.now))
    i.run(rules.Enable(A))
    i.evolve(rules.ContractRequested(1, i.now))  # an update asked while A was enabled
    assert [i.decide() for _ in range(1)] == [rules.Verify((A,), after_enable=True)]
    i.run(i.decide())  # type: ignore[arg-type]
    i.run(i.decide())  # type: ignore[arg-type]
    assert i.decide() == rules.SetUpContract(1)
    i.run(rules.SetUpContract(1))
    i.evolve(rules.ContractRequested(2, i.now))  # after the round listed its contracts
    assert i.decide() == rules.Done()
    assert i.state.hiring_contracts["1"].contract == "urn:li:contract:1"


def test_a_late_update_queues_its_work_and_says_what_the_loop_is_busy_with() -> None:
    i = Integration().provisioned()
    i.save(A)
    i.evolve(rules.RoundBegun(RoundKind.BACKGROUND, i.now))
    i.evolve(rules.Asked(rules.Enable(A), i.now))
    busy = rules.busy(i.state)
    assert busy == f"enabling {A} at LinkedIn"
    reason = rules.not_in_time("the enable", busy, DEADLINE)
    assert reason == (
        f"the enable is queued: not answered within 90 s because the workflow is enabling {A} "
        "at LinkedIn, retried in the background"
    )
    i.evolve(rules.NotInTime(reason, i.now, contexts=(A,)))
    assert i.state.contexts[A].enable_pending  # the loop enables it again
    i.evolve(rules.ContractRequested(7, i.now))
    i.evolve(rules.NotInTime("late", i.now, contract="7"))
    assert i.state.hiring_contracts["7"].last_error == "late"
    assert rules.not_in_time("the app sync", None, DEADLINE, queued=False) == (
        "the app sync was not made: not answered within 90 s because the workflow is creating "
        "the customer's LinkedIn application; ask again later"
    )


def test_what_the_run_loop_is_busy_with() -> None:
    i = Integration().provisioned()
    assert rules.busy(i.state) is None
    i.evolve(rules.RoundBegun(RoundKind.VERIFY, i.now))
    assert rules.busy(i.state) == "verifying the enabled integrations at LinkedIn"
    i.evolve(rules.RoundEnded(i.now))
    i.evolve(rules.ContractRequested(3, i.now))
    i.evolve(rules.RoundBegun(RoundKind.BACKGROUND, i.now))
    i.evolve(rules.Asked(rules.SetUpContract(3), i.now))
    assert rules.busy(i.state) == "setting up P4P contract 3"
    i.evolve(rules.RoundEnded(i.now))
    i.evolve(rules.RoundBegun(RoundKind.ENABLE, i.now, until=i.now + DEADLINE))
    assert rules.busy(i.state) is None  # an update's own work is not the loop's


def test_the_periodic_verify_is_due_an_interval_after_the_last_and_never_sooner_than_1s() -> None:
    i = enabled(A)
    assert rules.verify_at(i.state, i.now) == T0 + timedelta(hours=24)
    late = T0 + timedelta(days=3)
    assert rules.verify_at(i.state, late) == late + timedelta(seconds=1)


def test_a_status_push_brings_the_verify_forward_and_drift_is_enabled_again() -> None:
    i = enabled(A)
    i.now = T0 + timedelta(hours=2)
    i.linkedin.records[A] = REQUESTED  # changed at LinkedIn, which pushed a status change
    i.evolve(rules.StatusPushed(i.now))
    assert i.decide() == rules.WaitUntil(i.now + timedelta(seconds=1))
    assert i.verify() == [rules.Verify((A,), after_enable=False)]
    assert i.statuses(A)[-1] == "REQUESTED" and rules.has_work(i.state)
    assert i.state.verify_pushed_at is None
    i.round()
    assert i.status_of(A) == ContextStatus.ENABLED
    assert i.decide() == rules.WaitUntil(i.state.last_verified_at + timedelta(hours=24))


def test_a_flood_of_status_pushes_costs_one_verify_a_minute() -> None:
    i = enabled(A)
    for seconds in range(0, 40, 10):
        i.evolve(rules.StatusPushed(T0 + timedelta(seconds=seconds)))
    first = T0 + timedelta(seconds=1)
    assert i.decide() == rules.WaitUntil(first)  # the first at once (a second's clamp)
    i.verify()
    for seconds in range(5, 50, 10):
        i.evolve(rules.StatusPushed(first + timedelta(seconds=seconds)))
    assert i.decide() == rules.WaitUntil(first + rules.PUSHED_VERIFY_GAP)
    i.verify()
    assert i.decide() == rules.WaitUntil(i.now + timedelta(hours=24))  # all read: none due


def test_a_status_push_before_anything_is_enabled_waits_for_the_first_verify() -> None:
    i = Integration().provisioned()
    i.evolve(rules.StatusPushed(i.now))
    assert i.decide() == rules.WaitUntil(None)
    i.save(A)
    i.round()
    assert i.state.verify_pushed_at == T0  # an enable's own verify is not the periodic one
    assert i.decide() == rules.WaitUntil(T0 + timedelta(seconds=1))


# -- P4P hiring contracts -------------------------------------------------------------------


def test_a_contract_is_set_up_once() -> None:
    i = Integration().provisioned()
    assert i.setup(67890) == [rules.SetUpContract(67890)]
    record = i.state.hiring_contracts["67890"]
    assert (record.status, record.contract) == (
        HiringContractStatus.SET_UP,
        "urn:li:contract:67890",
    )
    assert i.setup(67890) == []  # asked again: the record answers, no call
    assert rules.summary(i.state.model_copy(update={"status": rules.status(i.state)})).endswith(
        "; P4P contracts set up: urn:li:contract:67890"
    )


def test_a_refused_contract_needs_attention_until_retried() -> None:
    i = Integration().provisioned()
    i.setup(4242, FailureType.CONFLICT)
    record = i.state.hiring_contracts["4242"]
    assert record.status == HiringContractStatus.NEEDS_ATTENTION
    assert i.headline() == (
        ContextStatus.NEEDS_ATTENTION,
        "an operator: P4P contract 4242 needs attention (LinkedInConflictError); "
        "signal retry once fixed",
    )
    i.evolve(rules.OperatorRetried(i.now))
    assert record.status == HiringContractStatus.PENDING and rules.has_work(i.state)
    assert i.headline()[1] == "LinkedIn to set up P4P contract 4242"
    assert i.round() == [rules.SetUpContract(4242)]
    assert record.status == HiringContractStatus.SET_UP
    assert i.headline()[0] == ContextStatus.NOT_CONNECTED


def test_a_contract_linkedin_does_not_answer_in_time_stays_pending_for_the_loop() -> None:
    i = Integration().provisioned()
    i.setup(5, NO_ANSWER)
    record = i.state.hiring_contracts["5"]
    assert record.status == HiringContractStatus.PENDING
    assert (record.last_error or "").startswith("LinkedIn did not answer in time")
    i.round(RoundKind.BACKGROUND, NO_ANSWER)  # six hours in the background: a person
    assert record.status == HiringContractStatus.NEEDS_ATTENTION


# -- provisioning ---------------------------------------------------------------------------

NONE = ProvisionedCustomer(client_id=None, application_key=None)
OURS = ProvisionedCustomer(client_id="client-1", application_key="app-1")


def unstored(key: str = "app-0") -> ProvisionedCustomer:
    return ProvisionedCustomer(client_id=None, application_key=None, unstored_key=key)


def provision(i: Integration, *answers: ProvisionedCustomer | str) -> list[rules.Command]:
    """Run provisioning's commands until a wait for a person (or the answers run out),
    answering looks in order (a string: the look failed with it)."""
    ran: list[rules.Command] = []
    queue = list(answers)
    while i.state.client_id is None:
        command = i.decide()
        if isinstance(command, rules.LookUpApp) and not queue:
            return ran
        ran.append(command)
        if isinstance(command, rules.LookUpApp):
            i.evolve(rules.Asked(command, i.now))
            answer = queue.pop(0)
            if isinstance(answer, str):
                i.evolve(rules.ProvisioningFailed(answer, i.now))
            else:
                i.evolve(rules.AppLookedUp(answer, i.now))
        elif isinstance(command, rules.RetireOrphan):  # only an app we recorded creating
            assert i.state.creating_app == application_foreign_id(CID, i.state.app_attempt)
            i.evolve(rules.Asked(command, i.now))
        elif isinstance(command, rules.Park):
            i.evolve(rules.Parked(command.problem, command.relook_at, i.now))
        elif isinstance(command, rules.WaitUntil) and not command.woken:
            assert command.until is not None
            i.now = command.until
            i.evolve(rules.TimerFired(i.now))
        else:
            return ran
    return ran


def test_an_app_is_looked_for_then_created_once_recorded() -> None:
    i = Integration()
    assert provision(i, NONE, OURS) == [
        rules.LookUpApp(CID),
        rules.LookUpApp(CID, create=True),
    ]
    assert i.state.client_id == "client-1" and i.state.creating_app is None


def test_an_app_found_without_its_secret_gets_the_grace_to_be_stored() -> None:
    i = Integration()
    ran = provision(i, unstored(), unstored(), unstored(), OURS)
    waits = [(c.until - T0).total_seconds() for c in ran if isinstance(c, rules.WaitUntil)]
    assert waits == [1, 3, 7]  # 1 s, 2 s more, 4 s more: whoever created it stored it
    assert i.state.client_id == "client-1"


def test_an_orphan_of_ours_is_retired_and_replaced_under_the_next_id() -> None:
    i = Integration()
    i.state.provision_grace = timedelta(seconds=3)
    ran = provision(i, NONE, unstored(), unstored(), unstored(), NONE, OURS)
    assert ran[1] == rules.LookUpApp(CID, create=True)
    assert rules.RetireOrphan("app-0", f"{CID}#2") in ran
    assert ran[-2:] == [rules.LookUpApp(f"{CID}#2"), rules.LookUpApp(f"{CID}#2", create=True)]
    assert i.state.app_attempt == 2


def test_an_app_we_did_not_create_is_parked_and_looked_at_again_with_backoff() -> None:
    i = Integration()
    i.state.provision_grace = timedelta(minutes=10)
    delays = []
    for _ in range(5):
        ran = provision(i, *[unstored()] * 20)
        park = next(c for c in ran if isinstance(c, rules.Park))
        assert "we did not create it" in park.problem
        assert park.relook_at is not None
        delays.append(park.relook_at - i.now)
        assert i.headline()[0] == ContextStatus.NEEDS_ATTENTION
        assert i.decide() == rules.WaitUntil(park.relook_at)
        i.now = park.relook_at  # the relook comes: no person needed to look again
    assert [d.total_seconds() / 60 for d in delays] == [20, 40, 60, 60, 60]
    assert i.state.provisioning.relooks == 5 and i.state.app_attempt == 1


def test_the_relook_timer_makes_the_look_due_whatever_the_clock_rounded_to() -> None:
    i = Integration()
    park = provision(i, *[unstored()] * 20)[-2]
    assert isinstance(park, rules.Park) and park.relook_at is not None
    i.now = park.relook_at - timedelta(microseconds=1)  # the timer's float, rounded down
    i.evolve(rules.TimerFired(i.now))
    assert i.decide() == rules.LookUpApp(CID)


def test_a_retry_looks_again_at_once() -> None:
    i = Integration()
    provision(i, *[unstored()] * 20)
    i.evolve(rules.OperatorRetried(i.now))
    assert i.decide() == rules.LookUpApp(CID)
    assert provision(i, OURS) == [rules.LookUpApp(CID)]
    assert i.state.provisioning.relooks == 0 and i.state.last_error is None


def test_a_failed_look_waits_for_a_retry() -> None:
    i = Integration()
    assert provision(i, "LinkedIn said no")[-1] == rules.WaitUntil(None)
    assert i.headline() == (
        ContextStatus.NEEDS_ATTENTION,
        "provisioning failed (LinkedIn said no); signal retry once fixed",
    )
    i.evolve(rules.OperatorRetried(i.now))
    assert provision(i, OURS) == [rules.LookUpApp(CID)]


def test_after_too_many_lost_secrets_a_person_is_asked() -> None:
    i = Integration()
    i.state.app_attempt = MAX_APP_ATTEMPTS
    i.state.creating_app = f"{CID}#{MAX_APP_ATTEMPTS}"
    ran = provision(i, *[unstored()] * 20)
    park = ran[-2]
    assert isinstance(park, rules.Park) and park.relook_at is None
    assert f"{MAX_APP_ATTEMPTS} LinkedIn apps" in park.problem


@settings(max_examples=200, deadline=None)
@given(
    answers=st.lists(st.sampled_from(["none", "unstored", "ours", "fails"]), max_size=40),
    grace=st.sampled_from([timedelta(seconds=1), timedelta(minutes=3)]),
)
def test_provisioning_never_retires_an_app_it_did_not_record_creating(
    answers: list[str], grace: timedelta
) -> None:
    """`provision` checks each retirement; a person (or the relook's time) answers parks."""
    i = Integration()
    i.state.provision_grace = grace
    by_name = {"none": NONE, "unstored": unstored(), "ours": OURS, "fails": "refused"}
    queue = [by_name[a] for a in answers]
    while queue and i.state.client_id is None:
        looks = len([c for c in provision(i, queue.pop(0)) if isinstance(c, rules.LookUpApp)])
        assert looks <= 1
        waiting = i.decide()
        if isinstance(waiting, rules.WaitUntil) and waiting.woken:
            i.evolve(rules.OperatorRetried(i.now))
        assert i.state.app_attempt <= MAX_APP_ATTEMPTS
        assert i.state.provisioning.waited <= grace
        assert rules.status(i.state) == (
            ContextStatus.NEEDS_ATTENTION
            if i.state.provisioning.problem is not None
            else ContextStatus.NOT_CONNECTED
        )


# -- widget callbacks -----------------------------------------------------------------------


def test_callbacks_past_the_limits_and_of_another_type_are_rejected_and_counted() -> None:
    i = Integration().provisioned()
    i.evolve(rules.WidgetSaved([value(f"urn:li:contract:{n}") for n in range(150)], i.now))
    assert len(i.state.contexts) == MAX_CONTEXTS
    assert i.state.rejected_callbacks[0].reason == (
        f"50 values beyond the {MAX_CONTEXTS} a widget callback may hold"
    )
    i.evolve(rules.WidgetSaved([value("urn:li:contract:1000")], i.now))
    assert i.state.rejected_callbacks[-1].reason == (
        f"the integration has {MAX_CONTEXTS} contexts already"
    )
    j = Integration().provisioned()
    j.evolve(
        rules.WidgetSaved(
            [value("urn:li:organization:1", "APPLY_WITH_LINKEDIN"), {"junk": 1}], j.now
        )
    )
    reasons = [r.reason for r in j.state.rejected_callbacks]
    assert reasons[0] == (
        "integrationType APPLY_WITH_LINKEDIN does not belong to this workflow (PREMIUM_JOB_POSTING)"
    )
    assert j.state.contexts == {} and j.state.last_error.startswith("widget callback rejected")
    with pytest.raises(ValueError, match="the integration has 100 contexts already"):
        rules.check_enable(i.state, "urn:li:contract:1001")
    with pytest.raises(ValueError, match="urn:li:contract:<id>"):
        rules.check_enable(i.state, "urn:li:organization:1")


# -- random messages, answers and operator actions: the rules' invariants hold --------------

CONTEXTS = [A, B, C]
FAULTS: list[Fault] = [
    FailureType.FORBIDDEN,
    FailureType.AUTH,
    FailureType.TRANSIENT,
    FailureType.NOT_FOUND,
    NO_ANSWER,
]
faults = st.lists(st.sampled_from(FAULTS), max_size=4)


def is_enabled(machine: IntegrationMachine) -> bool:
    return any(c.status == ContextStatus.ENABLED for c in machine.state.contexts.values())


class IntegrationMachine(RuleBasedStateMachine):
    """Widget saves, LinkedIn's answers and faults, the run loop's rounds, the periodic
    verify, updates in and out of time, and operators' retries, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.i = Integration().provisioned()
        self.seen: dict[str, int] = {}

    @property
    def state(self) -> IntegrationState:
        return self.i.state

    @rule(contexts=st.lists(st.sampled_from(CONTEXTS), min_size=1, max_size=3), saved=st.booleans())
    def customer_saves(self, contexts: list[str], saved: bool) -> None:
        self.i.save(*contexts, at_linkedin=saved)

    @rule(context=st.sampled_from(CONTEXTS))
    def linkedin_drops_the_poster(self, context: str) -> None:
        if context in self.i.linkedin.records:
            self.i.linkedin.records[context] = REQUESTED

    @rule(faults=faults)
    def run_loop_round(self, faults: list[Fault]) -> None:
        pending = [
            n
            for n, c in self.state.contexts.items()
            if c.enable_pending and c.status != ContextStatus.NEEDS_ATTENTION
        ]
        parked = [
            n for n, c in self.state.contexts.items() if c.status == ContextStatus.NEEDS_ATTENTION
        ]
        ran = self.i.round(RoundKind.BACKGROUND, *faults)
        enabled = [c.integration_context for c in ran if isinstance(c, rules.Enable)]
        assert not set(enabled) & set(parked)  # those wait for a person
        if not faults:  # LinkedIn answered everything: each pending context got its answer
            for name in pending:
                context = self.state.contexts[name]
                if name in self.i.linkedin.records:
                    assert context.status == ContextStatus.ENABLED, context
                    assert self.i.linkedin.records[name] == ENABLED
                else:
                    assert context.customer_has_not_saved, context

    @precondition(is_enabled)
    @rule(faults=faults)
    def periodic_verify(self, faults: list[Fault]) -> None:
        self.i.verify(*faults)

    @rule(context=st.none() | st.sampled_from(CONTEXTS), faults=faults, in_time=st.booleans())
    def enable_update(self, context: str | None, faults: list[Fault], in_time: bool) -> None:
        if in_time:
            self.i.enable(context, *faults)
            return
        self.i.evolve(rules.EnableRequested(context, self.i.now))
        targets = tuple(rules.enable_targets(self.state, context))
        self.i.evolve(rules.NotInTime("late", self.i.now, contexts=targets))
        assert all(self.state.contexts[n].enable_pending for n in targets)

    @rule(contract=st.integers(1, 3), faults=faults, in_time=st.booleans())
    def setup_update(self, contract: int, faults: list[Fault], in_time: bool) -> None:
        if in_time:
            self.i.setup(contract, *faults)
            return
        self.i.evolve(rules.ContractRequested(contract, self.i.now))
        self.i.evolve(rules.NotInTime("late", self.i.now, contract=str(contract)))

    @rule()
    def operator_retries(self) -> None:
        self.i.evolve(rules.OperatorRetried(self.i.now))
        assert rules.status(self.state) != ContextStatus.NEEDS_ATTENTION

    @rule()
    def linkedin_pushes_a_status_change(self) -> None:
        self.i.evolve(rules.StatusPushed(self.i.now))
        if is_enabled(self):  # the verify comes within a minute, never past the periodic one
            wait = rules.decide(self.state, self.i.now)
            assert isinstance(wait, rules.WaitUntil) and wait.until is not None
            assert wait.until <= self.i.now + rules.PUSHED_VERIFY_GAP

    @rule(hours=st.integers(1, 48))
    def time_passes(self, hours: int) -> None:
        self.i.now += timedelta(hours=hours)

    @invariant()
    def the_headline_is_the_least_advanced(self) -> None:
        headline = rules.status(self.state)
        parked = any(
            r.status == HiringContractStatus.NEEDS_ATTENTION
            for r in self.state.hiring_contracts.values()
        )
        ranks = [STATUS_RANK[c.status] for c in self.state.contexts.values()]
        if parked:
            assert headline == ContextStatus.NEEDS_ATTENTION
        elif ranks:
            assert STATUS_RANK[headline] == min(ranks)
        assert rules.waiting_for(self.state, self.i.now)

    @invariant()
    def at_rest_it_waits_for_work_or_the_verify(self) -> None:
        assert self.state.round is None
        wait = rules.decide(self.state, self.i.now)
        assert isinstance(wait, rules.WaitUntil)
        assert (wait.until is None) == (not is_enabled(self))

    @invariant()
    def transitions_are_moves_and_bounded(self) -> None:
        for name, context in self.state.contexts.items():
            total = len(context.transitions) + context.earlier_transitions
            moves = [m for m in self.i.moves if m.integration_context == name]
            assert total == len(moves) and (not moves or moves[-1].count == total)
            assert len(context.transitions) <= KEPT_TRANSITIONS
            statuses = [t.status for t in context.transitions]
            assert all(a != b for a, b in itertools.pairwise(statuses))
            if context.status == ContextStatus.ENABLED:
                assert context.integration_name
            if context.status == ContextStatus.NEEDS_ATTENTION:
                assert context.last_error

    @invariant()
    def contracts_say_what_they_wait_for(self) -> None:
        for record in self.state.hiring_contracts.values():
            if record.status == HiringContractStatus.SET_UP:
                assert record.contract == f"urn:li:contract:{record.partner_contract_id}"
            if record.status == HiringContractStatus.NEEDS_ATTENTION:
                assert record.last_error

    @invariant()
    def the_state_survives_continue_as_new(self) -> None:
        dumped = self.state.model_dump_json()
        assert IntegrationState.model_validate_json(dumped).model_dump_json() == dumped


TestIntegrationMachine = IntegrationMachine.TestCase
TestIntegrationMachine.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
