"""The customer integration's rules: a pure decider, fed events, answering the next command.

`evolve(state, event)` records what happened: a widget save, an operator's retry, what a look
for the customer's app found (or that it failed), LinkedIn's answer to an enable, a verify or
a P4P setup, a call that failed (with its failure type, and whether an update's deadline
bounded it), a timer, the lock taken or given back. `decide(state, now)` says what to do
next: look up or create the app, retire an orphan, park for a person, enable, verify, wake
parked jobs, set up a hiring contract, wait until, or nothing more (`Done`) for the lock's
holder. Both are plain functions over `IntegrationState`, no I/O, no Temporal, no clock but
the one passed in, so every row of NOT_CONNECTED → REQUESTED → ENABLED → drift →
NEEDS_ATTENTION is a case here, tested in milliseconds. `CustomerIntegrationWorkflow` is
the shell: it holds the lock and the deadlines, runs the commands and publishes `status`.

`evolve` updates the state in place (the workflow holds the only copy) and returns the
contexts' moves it made, in order, which the shell hands to webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.errors import FailureType
from domain.integration_workflow import (
    ENABLE_INTEGRATION,
    INTEGRATION_LABEL,
    MAX_APP_ATTEMPTS,
    MAX_CONTEXTS,
    PROVISION_CUSTOMER,
    RETIRE_APPLICATION,
    SETUP_HIRING_CONTRACT,
    STATUS_RANK,
    VERIFY_INTEGRATIONS,
    ApplicationSync,
    AppStep,
    ContextState,
    ContextStatus,
    EnableIntegrationRequest,
    HiringContractState,
    HiringContractStatus,
    IntegrationInput,
    IntegrationState,
    ProvisionedCustomer,
    Provisioning,
    ProvisionRequest,
    RejectedCallback,
    RetireApplicationRequest,
    Round,
    RoundKind,
    SetUpHiringContract,
    SetupHiringContractRequest,
    Transition,
    VerifiedIntegrations,
    VerifyIntegrationsRequest,
    application_foreign_id,
)
from domain.integrations import (
    MAX_CONTEXT_LENGTH,
    IntegrationKey,
    IntegrationType,
    OnboardingStatus,
    WidgetCallback,
)
from domain.job_workflow import NOTIFY_JOBS, NotifyJobsRequest
from domain.validation import ValidationError, first_problem
from domain.webhooks import WebhookEvent, integration_event

RELOOK_LIMIT = timedelta(hours=1)
"""The longest wait between looks at an app we did not create."""
VERIFY_AT_THE_EARLIEST = timedelta(seconds=1)
PUSHED_VERIFY_GAP = timedelta(minutes=1)
"""The least time between two verifies LinkedIn's status pushes bring forward: a flood of
pushes costs one read a minute."""
"""A periodic verify overdue when the workflow goes idle still waits this long."""

# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WidgetSaved:
    """The widget's callback: each value one context the customer saved, checked here."""

    values: list[dict[str, object]]
    at: datetime


@dataclass(frozen=True)
class OperatorRetried:
    at: datetime


@dataclass(frozen=True)
class Asked:
    """A command is about to run: what must be on record before its call leaves."""

    command: Command
    at: datetime


@dataclass(frozen=True)
class AppLookedUp:
    """A look (or a create) answered: the app with its secret, one without, or none."""

    found: ProvisionedCustomer
    at: datetime


@dataclass(frozen=True)
class ProvisioningFailed:
    message: str
    at: datetime


@dataclass(frozen=True)
class Parked:
    """Provisioning waits for a person (`Park`), and for `relook_at` when set."""

    problem: str
    relook_at: datetime | None
    at: datetime


@dataclass(frozen=True)
class TimerFired:
    """A `WaitUntil` reached its time."""

    at: datetime


@dataclass(frozen=True)
class StatusPushed:
    """LinkedIn pushed an INTEGRATION_STATUS_CHANGE: what it changed is read, not trusted."""

    at: datetime


@dataclass(frozen=True)
class EnableRequested:
    """The `enable` update arrived; a context it names is known from then on."""

    integration_context: str | None
    at: datetime


@dataclass(frozen=True)
class ContractRequested:
    """The `setup_hiring_contract` update arrived: the contract is on record, PENDING."""

    partner_contract_id: int
    at: datetime


@dataclass(frozen=True)
class NotInTime:
    """An update could not get the app or the lock by its deadline: what it asked for waits
    for the run loop (`reason` says why, on a contract)."""

    reason: str
    at: datetime
    contexts: tuple[str, ...] = ()
    contract: str | None = None


@dataclass(frozen=True)
class RoundBegun:
    """The lock is taken for `kind`'s work."""

    kind: RoundKind
    at: datetime
    until: datetime | None = None
    contexts: tuple[str, ...] = ()
    contract: str | None = None


@dataclass(frozen=True)
class RoundEnded:
    at: datetime


@dataclass(frozen=True)
class EnableAnswered:
    integration_context: str
    at: datetime


@dataclass(frozen=True)
class Verified:
    call: Verify
    statuses: dict[str, OnboardingStatus | None]
    integration_name: str
    """The name our enable calls give LinkedIn, recorded on a context enabled with it."""
    at: datetime


@dataclass(frozen=True)
class ContractAnswered:
    partner_contract_id: int
    contract: str
    at: datetime


@dataclass(frozen=True)
class CallFailed:
    """An activity gave up: LinkedIn's refusal (`failure`), or None when no answer came."""

    call: Enable | Verify | SetUpContract
    failure: FailureType | None
    message: str
    interactive: bool
    """An update's deadline bounded the call: no answer by then is "not yet"."""
    at: datetime


@dataclass(frozen=True)
class ApplicationSynced:
    changed: list[str]
    at: datetime


Event = (
    WidgetSaved
    | OperatorRetried
    | Asked
    | AppLookedUp
    | ProvisioningFailed
    | Parked
    | TimerFired
    | StatusPushed
    | EnableRequested
    | ContractRequested
    | NotInTime
    | RoundBegun
    | RoundEnded
    | EnableAnswered
    | Verified
    | ContractAnswered
    | CallFailed
    | ApplicationSynced
)


# -- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookUpApp:
    """provision_customer: look (our store, then LinkedIn), or with `create` create it."""

    foreign_id: str
    create: bool = False


@dataclass(frozen=True)
class RetireOrphan:
    """An app whose secret a crash lost: retire it; `replaced_by` takes its place."""

    application_key: str
    replaced_by: str


@dataclass(frozen=True)
class Park:
    """Provisioning needs a person; needs no I/O: the shell records it (`Parked`) at once."""

    problem: str
    relook_at: datetime | None


@dataclass(frozen=True)
class WaitUntil:
    """Wait until `until` (None: for a message only), then decide again.

    While provisioning, a retry ends it sooner unless `woken` is False (the grace for an
    app's secret, a plain sleep). At rest, `until` is the periodic verify's time and pending
    work ends it sooner (`has_work`)."""

    until: datetime | None
    woken: bool = True


@dataclass(frozen=True)
class Enable:
    integration_context: str


@dataclass(frozen=True)
class Verify:
    contexts: tuple[str, ...]
    after_enable: bool
    """Right after enabling (ENABLED or a problem) rather than the periodic check (drift)."""


@dataclass(frozen=True)
class NotifyJobs:
    """Wake the customer's job workflows parked on this contract (best effort)."""

    contract: str


@dataclass(frozen=True)
class SetUpContract:
    """provisionedHiringContracts?action=setup for one P4P contract."""

    partner_contract_id: int


@dataclass(frozen=True)
class Done:
    """The lock's holder has nothing left to do in its round."""


Command = (
    LookUpApp
    | RetireOrphan
    | Park
    | WaitUntil
    | Enable
    | Verify
    | NotifyJobs
    | SetUpContract
    | Done
)


@dataclass(frozen=True)
class Moved:
    """A context's status change, as evolve recorded it (webhooks and logs carry it)."""

    integration_context: str
    status: ContextStatus
    reason: str
    count: int
    """Transitions of the context so far, this one included."""
    at: datetime


Activity = LookUpApp | RetireOrphan | Enable | Verify | NotifyJobs | SetUpContract
"""The commands that call an activity."""


# -- the state and its names ----------------------------------------------------------------


def initial_state(input: IntegrationInput) -> IntegrationState:
    """The run's state: carried over continue-as-new, the input's timings copied in."""
    state = input.state or IntegrationState(
        customer_id=input.customer_id,
        customer_name=input.customer_name,
        integration_type=input.integration_type,
    )
    return state.model_copy(
        update={"verify_interval": input.verify_interval, "provision_grace": input.provision_grace}
    )


def integration_name(input: IntegrationInput) -> str:
    """The customer-facing name our enable calls give LinkedIn."""
    return input.integration_name_template.format(
        ats=input.ats_name,
        customer=input.customer_name,
        integration=INTEGRATION_LABEL[input.integration_type],
    )


def enable_targets(state: IntegrationState, integration_context: str | None) -> list[str]:
    """What an `enable` update enables: the context it names, else every one not ENABLED."""
    if integration_context is not None:
        return [integration_context]
    return [name for name, c in state.contexts.items() if c.status != ContextStatus.ENABLED]


def check_enable(state: IntegrationState, integration_context: str | None) -> None:
    """Raise ValueError naming the rule an `enable` update's context breaks, before it is
    accepted into history."""
    if integration_context is None:
        return
    if len(integration_context) > MAX_CONTEXT_LENGTH:
        raise ValueError(
            f"integration_context: at most {MAX_CONTEXT_LENGTH} characters, "
            f"got {len(integration_context)}"
        )
    IntegrationKey.for_type(integration_context, state.integration_type)
    if at_context_limit(state, integration_context):
        raise ValueError(
            f"integration_context: the integration has {MAX_CONTEXTS} contexts already"
        )


def webhook_event(state: IntegrationState, moved: Moved) -> WebhookEvent:
    """integration.changed for one move of one context."""
    return integration_event(
        state.customer_id,
        str(state.integration_type),
        moved.integration_context,
        str(moved.status),
        moved.reason,
        moved.count,
        moved.at,
    )


def at_context_limit(state: IntegrationState, integration_context: str) -> bool:
    """A new context would take the integration past MAX_CONTEXTS."""
    contexts = state.contexts
    return integration_context not in contexts and len(contexts) >= MAX_CONTEXTS


# -- the activities commands call, and their answers as events -------------------------------


@dataclass(frozen=True)
class Call:
    """The activity a command runs: its name, request and result type."""

    activity: str
    request: BaseModel
    result_type: type[BaseModel] | None = None
    brief: bool = False
    """Bounded like an update's call even in the background (waking jobs takes seconds)."""


def call_for(input: IntegrationInput, command: Activity) -> Call:
    """The activity request a command sends, as the job decider's `activity_request` does."""
    customer = input.customer_id
    match command:
        case LookUpApp():
            request: BaseModel = ProvisionRequest(
                customer_id=customer,
                customer_name=input.customer_name,
                ats_name=input.ats_name,
                unique_foreign_id=command.foreign_id,
                create=command.create,
            )
            return Call(PROVISION_CUSTOMER, request, ProvisionedCustomer)
        case RetireOrphan():
            request = RetireApplicationRequest(
                customer_id=customer,
                customer_name=input.customer_name,
                ats_name=input.ats_name,
                application_key=command.application_key,
                replaced_by=command.replaced_by,
            )
            return Call(RETIRE_APPLICATION, request)
        case Enable():
            key = IntegrationKey.for_type(command.integration_context, input.integration_type)
            name = integration_name(input)
            request = EnableIntegrationRequest(customer_id=customer, key=key, integration_name=name)
            return Call(ENABLE_INTEGRATION, request)
        case Verify():
            keys = [IntegrationKey.for_type(c, input.integration_type) for c in command.contexts]
            request = VerifyIntegrationsRequest(customer_id=customer, keys=keys)
            return Call(VERIFY_INTEGRATIONS, request, VerifiedIntegrations)
        case NotifyJobs():
            request = NotifyJobsRequest(customer_id=customer, contract=command.contract)
            return Call(NOTIFY_JOBS, request, brief=True)
        case SetUpContract():
            request = SetupHiringContractRequest(
                customer_id=customer, partner_contract_id=command.partner_contract_id
            )
            return Call(SETUP_HIRING_CONTRACT, request, SetUpHiringContract)


def answered(
    input: IntegrationInput, command: Activity, result: object, at: datetime
) -> Event | None:
    """The event a command's activity answer is; None for those that change nothing."""
    match command:
        case LookUpApp():
            assert isinstance(result, ProvisionedCustomer)
            return AppLookedUp(result, at)
        case Enable():
            return EnableAnswered(command.integration_context, at)
        case Verify():
            assert isinstance(result, VerifiedIntegrations)
            return Verified(command, result.statuses, integration_name(input), at)
        case SetUpContract():
            assert isinstance(result, SetUpHiringContract)
            return ContractAnswered(command.partner_contract_id, result.contract, at)
        case _:
            return None


def failed(
    command: Activity, failure: FailureType | None, message: str, interactive: bool, at: datetime
) -> Event | None:
    """The event a command's failed activity is; None when it is best effort (retiring an
    orphan nobody holds a secret for, waking parked jobs), for the log only."""
    match command:
        case LookUpApp():
            return ProvisioningFailed(message, at)
        case Enable() | Verify() | SetUpContract():
            return CallFailed(command, failure, message, interactive, at)
        case _:
            return None


# -- evolve ---------------------------------------------------------------------------------


def evolve(state: IntegrationState, event: Event) -> list[Moved]:
    """Record `event` in `state` (in place); answer the moves it made, in order."""
    moves: list[Moved] = []
    match event:
        case WidgetSaved():
            _widget_saved(state, event, moves)
        case OperatorRetried():
            _retried(state, event.at, moves)
        case Asked():
            _asked(state, event.command, event.at)
        case AppLookedUp():
            _looked_up(state, event.found)
        case ProvisioningFailed():
            state.provisioning = Provisioning(
                problem=event.message, relooks=state.provisioning.relooks
            )
            state.last_error = event.message
        case Parked():
            relooks = state.provisioning.relooks + (1 if event.relook_at is not None else 0)
            state.provisioning = Provisioning(
                problem=event.problem, relook_at=event.relook_at, relooks=relooks
            )
            state.last_error = event.problem
        case TimerFired():
            _timer_fired(state, event.at)
        case StatusPushed():
            state.verify_pushed_at = state.verify_pushed_at or event.at
        case EnableRequested():
            if event.integration_context is not None:
                _context(state, event.integration_context)
        case ContractRequested():
            key = str(event.partner_contract_id)
            if key not in state.hiring_contracts:
                state.hiring_contracts[key] = HiringContractState(
                    partner_contract_id=event.partner_contract_id, requested_at=event.at
                )
        case NotInTime():
            for name in event.contexts:
                state.contexts[name].enable_pending = True
            late = state.hiring_contracts.get(event.contract or "")
            if late is not None and late.status == HiringContractStatus.PENDING:
                late.last_error = event.reason
        case RoundBegun():
            state.round = _begun(state, event)
        case RoundEnded():
            state.round = None
        case EnableAnswered():
            _round(state).verify = [event.integration_context]
        case Verified():
            _verified(state, event, moves)
        case ContractAnswered():
            record = state.hiring_contracts[str(event.partner_contract_id)]
            record.status = HiringContractStatus.SET_UP
            record.contract = event.contract
            record.set_up_at = event.at
            record.last_error = None
        case CallFailed():
            _failed(state, event, moves)
        case ApplicationSynced():
            state.application_sync = ApplicationSync(at=event.at, changed=event.changed)
    return moves


def _retried(state: IntegrationState, at: datetime, moves: list[Moved]) -> None:
    """An operator fixed what NEEDS_ATTENTION named: everything parked goes again."""
    state.provisioning.problem = None
    state.provisioning.relook_at = None
    for context in state.contexts.values():
        if context.status == ContextStatus.NEEDS_ATTENTION:
            context.enable_pending = True
            _move(context, ContextStatus.REQUESTED, "an operator asked to retry", at, moves)
    for record in state.hiring_contracts.values():
        if record.status == HiringContractStatus.NEEDS_ATTENTION:
            record.status = HiringContractStatus.PENDING


def _widget_saved(state: IntegrationState, event: WidgetSaved, moves: list[Moved]) -> None:
    """Each value is one context; more than MAX_CONTEXTS values or contexts are rejected."""
    extra = len(event.values) - MAX_CONTEXTS
    if extra > 0:
        _reject(
            state,
            {"values": len(event.values)},
            f"{extra} values beyond the {MAX_CONTEXTS} a widget callback may hold",
            event.at,
        )
    for values in event.values[:MAX_CONTEXTS]:
        try:
            key = WidgetCallback.model_validate(values).key
        except ValidationError as error:
            _reject(state, values, first_problem(error), event.at)
            continue
        if key.integration_type != state.integration_type:
            _reject(
                state,
                values,
                f"integrationType {key.integration_type} does not belong to this "
                f"workflow ({state.integration_type})",
                event.at,
            )
            continue
        if at_context_limit(state, key.integration_context):
            _reject(state, values, f"the integration has {MAX_CONTEXTS} contexts already", event.at)
            continue
        context = _context(state, key.integration_context)
        context.customer_has_not_saved = False
        context.enable_pending = True
        _move(context, ContextStatus.REQUESTED, "the customer saved the widget", event.at, moves)


def _timer_fired(state: IntegrationState, at: datetime) -> None:
    """The wait `decide` asked for reached its time: the grace for a secret is spent, or
    the relook is due (as of the timer, whatever a clock's rounding says)."""
    search = state.provisioning
    if state.client_id is not None:
        return
    if search.problem is not None and search.relook_at is not None:
        search.relook_at = min(search.relook_at, at)
    elif search.next == AppStep.WAIT_FOR_SECRET:
        search.waited += grace_wait(search.waited, state.provision_grace)
        search.next = AppStep.LOOK_AGAIN


def _asked(state: IntegrationState, command: Command, at: datetime) -> None:
    search = state.provisioning
    match command:
        case LookUpApp():
            search.problem = None
            search.relook_at = None
            if command.create:
                state.creating_app = command.foreign_id
        case RetireOrphan():
            state.app_attempt += 1
            state.creating_app = None
            state.provisioning = Provisioning(relooks=search.relooks)
        case Enable():
            r = _round(state)
            r.contexts = r.contexts[r.contexts.index(command.integration_context) + 1 :]
            r.current = command.integration_context
            state.contexts[command.integration_context].enable_pending = False
        case Verify():
            _round(state).verify = None
            state.last_verified_at = at
            if not command.after_enable and state.verify_pushed_at is not None:
                state.verify_pushed_at = None
                state.push_verified_at = at
        case NotifyJobs():
            _round(state).notify = None
        case SetUpContract():
            r = _round(state)
            key = str(command.partner_contract_id)
            if r.contracts is None:  # the contexts are done: these are the round's contracts
                r.contracts = _pending_contracts(state)
            r.contexts = []
            r.contracts = [k for k in r.contracts if k != key]
            r.current = key


def _looked_up(state: IntegrationState, found: ProvisionedCustomer) -> None:
    search = state.provisioning
    if found.client_id is not None:
        state.client_id = found.client_id
        state.application_key = found.application_key
        state.creating_app = None
        state.last_error = None
        state.provisioning = Provisioning()
    elif found.unstored_key is not None:
        search.next = AppStep.WAIT_FOR_SECRET
        search.unstored_key = found.unstored_key
    elif search.next == AppStep.LOOK:
        search.next = AppStep.CREATE
    else:  # none after a create or while waiting for a secret: start the step again
        state.provisioning = Provisioning(relooks=search.relooks)


def _begun(state: IntegrationState, event: RoundBegun) -> Round:
    match event.kind:
        case RoundKind.BACKGROUND:
            return Round(kind=event.kind, contexts=list(state.contexts))
        case RoundKind.VERIFY:
            enabled = [n for n, c in state.contexts.items() if c.status == ContextStatus.ENABLED]
            return Round(kind=event.kind, verify=enabled)
        case RoundKind.ENABLE:
            return Round(kind=event.kind, until=event.until, contexts=list(event.contexts))
        case RoundKind.SETUP:
            contracts = [event.contract] if event.contract is not None else []
            return Round(kind=event.kind, until=event.until, contracts=contracts)


def _verified(state: IntegrationState, event: Verified, moves: list[Moved]) -> None:
    if not event.call.after_enable:  # the periodic check: what LinkedIn no longer has
        for name in event.call.contexts:
            reported = event.statuses.get(name)
            if reported != OnboardingStatus.ENABLED:
                context = state.contexts[name]
                context.enable_pending = True
                _move(
                    context,
                    ContextStatus.REQUESTED,
                    f"drift: LinkedIn reports {reported or 'no record'}; enabling again",
                    event.at,
                    moves,
                )
        return
    for name in event.call.contexts:
        context = state.contexts[name]
        reported = event.statuses.get(name)
        if reported != OnboardingStatus.ENABLED:
            message = f"LinkedIn reports {reported or 'no record'} right after enabling"
            _problem(state, context, message, event.at, moves)
            continue
        context.integration_name = context.integration_name or event.integration_name
        context.last_error = None
        newly_enabled = context.status != ContextStatus.ENABLED
        _move(context, ContextStatus.ENABLED, "enabled and verified at LinkedIn", event.at, moves)
        if newly_enabled and state.integration_type == IntegrationType.PREMIUM_JOB_POSTING:
            _round(state).notify = name


def _failed(state: IntegrationState, event: CallFailed, moves: list[Moved]) -> None:
    """LinkedIn's refusal, by kind: no record means the customer has not saved the widget;
    no answer within an update's deadline is left to the run loop; the rest needs a person."""
    call, failure, message = event.call, event.failure, event.message
    if isinstance(call, SetUpContract):
        record = state.hiring_contracts[str(call.partner_contract_id)]
        if failure is None and event.interactive:
            record.last_error = f"LinkedIn did not answer in time: {message}"
        else:
            record.status = HiringContractStatus.NEEDS_ATTENTION
            record.last_error = message
            state.last_error = message
        return
    if isinstance(call, Enable) and failure == FailureType.ALREADY_ENABLED:
        _round(state).verify = [call.integration_context]  # probably ENABLED: see what it says
        return
    names = call.contexts if isinstance(call, Verify) else (call.integration_context,)
    for name in names:
        context = state.contexts[name]
        if failure == FailureType.NOT_FOUND:
            context.customer_has_not_saved = True
            context.last_error = message
            _move(
                context,
                ContextStatus.REQUESTED,
                "LinkedIn has no record: the customer has not saved the widget",
                event.at,
                moves,
            )
        elif failure is None and event.interactive:
            context.enable_pending = True  # the run loop keeps trying
            context.last_error = f"LinkedIn did not answer in time: {message}"
        else:
            _problem(state, context, message, event.at, moves)


def _context(state: IntegrationState, integration_context: str) -> ContextState:
    contexts = state.contexts
    if integration_context not in contexts:
        contexts[integration_context] = ContextState(integration_context=integration_context)
    return contexts[integration_context]


def _move(
    context: ContextState, status: ContextStatus, reason: str, at: datetime, moves: list[Moved]
) -> None:
    if context.status == status and context.transitions:
        return
    context.status = status
    context.record(Transition(status=status, at=at, reason=reason))
    count = len(context.transitions) + context.earlier_transitions
    moves.append(Moved(context.integration_context, status, reason, count, at))


def _problem(
    state: IntegrationState, context: ContextState, message: str, at: datetime, moves: list[Moved]
) -> None:
    context.last_error = message
    state.last_error = message
    _move(context, ContextStatus.NEEDS_ATTENTION, message, at, moves)


def _reject(state: IntegrationState, values: object, reason: str, at: datetime) -> None:
    rejected = RejectedCallback.of(at, values, reason)
    state.reject(rejected)
    state.last_error = f"widget callback rejected: {rejected.reason}"


def _round(state: IntegrationState) -> Round:
    assert state.round is not None, "no round is under way"
    return state.round


def _pending_contracts(state: IntegrationState) -> list[str]:
    return [
        key
        for key, record in state.hiring_contracts.items()
        if record.status == HiringContractStatus.PENDING
    ]


# -- decide ---------------------------------------------------------------------------------


def decide(state: IntegrationState, now: datetime) -> Command:
    """What the workflow does next: provision, work through the lock holder's round, or wait."""
    if state.client_id is None:
        return _provisioning(state, now)
    if state.round is not None:
        return _next_in_round(state, state.round)
    return WaitUntil(verify_at(state, now))


def _provisioning(state: IntegrationState, now: datetime) -> Command:
    """One step towards the customer's app at a time, each crash-safe.

    Look; if LinkedIn has none, record that we create it, then create it. An app found with
    no stored secret gets `provision_grace` for whoever created it to store it; then, if it
    was ours (recorded) it is an orphan, retired and replaced under the next uniqueForeignId.
    One we never asked for (a lost or another credential store) needs a person, and is
    looked at again on retry and on a backoff up to hourly.
    """
    search = state.provisioning
    foreign_id = application_foreign_id(state.customer_id, state.app_attempt)
    if search.problem is not None:
        if search.relook_at is None or now < search.relook_at:
            return WaitUntil(search.relook_at)
        return LookUpApp(foreign_id)
    if search.next == AppStep.CREATE:
        return LookUpApp(foreign_id, create=True)
    if search.next != AppStep.WAIT_FOR_SECRET or search.unstored_key is None:
        return LookUpApp(foreign_id)
    if search.waited < state.provision_grace:  # whoever created it may be storing it now
        return WaitUntil(now + grace_wait(search.waited, state.provision_grace), woken=False)
    if state.creating_app != foreign_id:
        relooks = search.relooks + 1
        delay = min(state.provision_grace * (1 << min(relooks, 10)), RELOOK_LIMIT)
        return Park(
            f"customer {state.customer_id} has application {search.unstored_key} at "
            f"LinkedIn (uniqueForeignId {foreign_id!r}) but its secret is not in the "
            "credential store, and we did not create it: restore the store or point the "
            "worker at the right one; looked at again on retry and every hour",
            now + delay,
        )
    if state.app_attempt >= MAX_APP_ATTEMPTS:
        return Park(
            f"{MAX_APP_ATTEMPTS} LinkedIn apps of customer {state.customer_id} lost "
            "their secret before it was stored: check the credential store, then signal retry",
            None,
        )
    return RetireOrphan(
        search.unstored_key, application_foreign_id(state.customer_id, state.app_attempt + 1)
    )


def grace_wait(waited: timedelta, grace: timedelta) -> timedelta:
    """The next wait for an unstored app's secret: 1 s, 2 s, 4 s… until `grace` is spent."""
    return min(waited + timedelta(seconds=1), grace - waited)


def _next_in_round(state: IntegrationState, r: Round) -> Command:
    if r.verify is not None:
        return Verify(tuple(r.verify), after_enable=r.kind != RoundKind.VERIFY)
    if r.notify is not None:
        return NotifyJobs(r.notify)
    for name in r.contexts:
        if r.kind == RoundKind.ENABLE or _waits_for_enable(state.contexts[name]):
            return Enable(name)
    if r.kind == RoundKind.BACKGROUND:
        keys = r.contracts if r.contracts is not None else _pending_contracts(state)
        if keys:
            return SetUpContract(int(keys[0]))
    if r.kind == RoundKind.SETUP:
        for key in r.contracts or []:
            if state.hiring_contracts[key].status != HiringContractStatus.SET_UP:
                return SetUpContract(int(key))
    return Done()


def _waits_for_enable(context: ContextState) -> bool:
    return context.enable_pending and context.status != ContextStatus.NEEDS_ATTENTION


def has_work(state: IntegrationState) -> bool:
    """Something waits for the run loop: a context to enable, a contract to set up."""
    return bool(_pending_contracts(state)) or any(
        _waits_for_enable(c) for c in state.contexts.values()
    )


def verify_at(state: IntegrationState, now: datetime) -> datetime | None:
    """When the periodic verify is due (sooner after a status push); None while no context
    is ENABLED."""
    if not any(c.status == ContextStatus.ENABLED for c in state.contexts.values()):
        return None
    due = (state.last_verified_at or now) + state.verify_interval
    if state.verify_pushed_at is not None:  # LinkedIn said something changed: read it soon
        last = state.push_verified_at
        due = min(due, max(state.verify_pushed_at, last + PUSHED_VERIFY_GAP if last else now))
    return max(due, now + VERIFY_AT_THE_EARLIEST)


# -- what operators see ---------------------------------------------------------------------


def status(state: IntegrationState) -> ContextStatus:
    """The headline: NEEDS_ATTENTION when anything waits for a person, else the least
    advanced context."""
    if state.provisioning.problem is not None or any(
        r.status == HiringContractStatus.NEEDS_ATTENTION for r in state.hiring_contracts.values()
    ):
        return ContextStatus.NEEDS_ATTENTION
    if state.contexts:
        return min((c.status for c in state.contexts.values()), key=lambda s: STATUS_RANK[s])
    return ContextStatus.NOT_CONNECTED


def waiting_for(state: IntegrationState, now: datetime) -> str:
    """What the workflow waits for, in one line, the first thing that holds it up first."""
    problem = state.provisioning.problem
    if problem is not None:
        return f"provisioning failed ({problem}); signal retry once fixed"
    if state.client_id is None:
        return "creating the customer's LinkedIn application"
    for record in state.hiring_contracts.values():
        if record.status == HiringContractStatus.NEEDS_ATTENTION:
            return (
                f"an operator: P4P contract {record.partner_contract_id} needs attention "
                f"({record.last_error}); signal retry once fixed"
            )
        if record.status == HiringContractStatus.PENDING:
            return f"LinkedIn to set up P4P contract {record.partner_contract_id}"
    contexts = list(state.contexts.values())
    if not contexts:
        return "the customer to save the LinkedIn widget"
    for context in contexts:
        if context.status == ContextStatus.NEEDS_ATTENTION:
            return (
                f"an operator: {context.integration_context} needs attention "
                f"({context.last_error}); signal retry once fixed"
            )
    for context in contexts:
        if context.enable_pending:
            return f"LinkedIn to enable {context.integration_context}"
        if context.status == ContextStatus.REQUESTED:
            return f"the customer to save the widget for {context.integration_context}"
    due = verify_at(state, now) or (state.last_verified_at or now) + state.verify_interval
    return f"the next verify at {due:%Y-%m-%d %H:%M} UTC ({len(contexts)} enabled)"


def summary(state: IntegrationState) -> str:
    """One line for the Temporal UI: status, what it waits for, the P4P contracts set up."""
    set_up = [r.contract for r in state.hiring_contracts.values() if r.contract]
    p4p = f"; P4P contracts set up: {', '.join(str(c) for c in set_up)}" if set_up else ""
    return f"{state.status}: {state.waiting_for}{p4p}"


def busy(state: IntegrationState) -> str | None:
    """What the run loop does with the lock, as a late update's answer says it."""
    r = state.round
    if r is None or r.until is not None:
        return None
    if r.kind == RoundKind.VERIFY:
        return "verifying the enabled integrations at LinkedIn"
    if r.current is None:
        return None
    if r.contracts is not None:
        return f"setting up P4P contract {r.current}"
    return f"enabling {r.current} at LinkedIn"


def not_in_time(what: str, busy: str | None, deadline: timedelta, queued: bool = True) -> str:
    """Why an update answers before LinkedIn did: the workflow is busy elsewhere."""
    doing = busy or "creating the customer's LinkedIn application"
    if queued:
        return (
            f"{what} is queued: not answered within {deadline.seconds} s because the workflow "
            f"is {doing}, retried in the background"
        )
    return (
        f"{what} was not made: not answered within {deadline.seconds} s because the workflow "
        f"is {doing}; ask again later"
    )
