"""CustomerIntegrationWorkflow: one customer's integration of one type, for as long as it lives.

A thin shell: the rules are `domain.integration_lifecycle`'s. Signals, updates and activity
results become events there, and `decide` says what to run next. The run loop provisions,
then passes over pending work holding the lock, waits, and verifies the ENABLED contexts
every `verify_interval`. Updates take the app and the lock by their deadline (`_deadline`)
and answer within it whatever the loop is doing. Where this shell publishes, waits and
calls patched() is what its recorded histories replay: keep it (docs/integrations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import integration_lifecycle as rules
    from domain.integration_workflow import (
        INTEGRATION_WORKFLOW_TYPE,
        STATUS_PUSHED,
        SYNC_APPLICATION,
        ApplicationSync,
        ContextStatus,
        EnableRequest,
        HiringContractRequest,
        HiringContractState,
        HiringContractStatus,
        IntegrationInput,
        IntegrationState,
        RoundKind,
        SyncApplicationRequest,
        SyncedApplication,
        WidgetSave,
    )
    from domain.integrations import OnboardingStatus
    from workflows.failures import (
        ApplicationSyncFailed,
        HiringContractRefused,
        failure_message,
        failure_type,
    )
    from workflows.ordering import updates_after_results
    from workflows.policies import (
        HEARTBEAT_TIMEOUT,
        INTERACTIVE_DEADLINE,
        LINKEDIN_CALL,
        LINKEDIN_CALL_TIMEOUT,
        call_time_left,
        wait_time_left,
    )
    from workflows.search_attributes import CUSTOMER_ID, INTEGRATION_STATUS, INTEGRATION_TYPE
    from workflows.webhooks import EventOutbox


PUBLISH_BEFORE_NOTIFYING_JOBS = "publish-before-notifying-jobs"
"""Patch: workflows started before it replay without the extra publish (and its upsert)."""
UPDATES_WITHIN_DEADLINE = "updates-within-deadline"
"""Patch: an update waits for the lock or the app only until its deadline (a timer)."""
PROVISIONING_CONTINUES_AS_NEW = "provisioning-continues-as-new"
"""Patch: provisioning about to wait for a person or a relook continues as new when due;
before it, an app we did not create was looked up hourly in one unbounded history."""


class _NotInTime(Exception):
    """An update could not get the app or the lock by its deadline; the message says why."""


@workflow.defn(name=INTEGRATION_WORKFLOW_TYPE)
class CustomerIntegrationWorkflow:
    @workflow.init
    def __init__(self, input: IntegrationInput) -> None:
        updates_after_results()  # its updates replay after the results they came with
        self._input = input
        self._state = rules.initial_state(input)
        self._lock = asyncio.Lock()
        """Held by whoever calls LinkedIn for a round: the run loop, or one update."""
        self._published_status: ContextStatus | None = None
        self._outbox = EventOutbox()
        self._pushed = False
        """A status push came since the run loop last woke."""

    # -- run loop -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: IntegrationInput) -> IntegrationState:
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(input.customer_id),
                INTEGRATION_TYPE.value_set(str(input.integration_type)),
            ]
        )
        self._publish()
        while self._state.client_id is None:
            command = rules.decide(self._state, workflow.now())
            if (
                isinstance(command, rules.WaitUntil)
                and command.woken
                and self._should_continue_as_new()
                and workflow.patched(PROVISIONING_CONTINUES_AS_NEW)
            ):
                break  # the next run waits on where this one stopped
            await self._provision(command)
        while not self._should_continue_as_new():
            async with self._lock:
                await self._round(RoundKind.BACKGROUND)
            self._publish()
            wait = rules.decide(self._state, workflow.now())
            assert isinstance(wait, rules.WaitUntil), wait
            try:
                await workflow.wait_condition(
                    lambda: (
                        rules.has_work(self._state)
                        or self._should_continue_as_new()
                        or self._pushed
                    ),
                    timeout=_until(wait.until),
                )
                self._pushed = False  # the next wait is for the verify the push brought forward
            except TimeoutError:
                self._evolve(rules.TimerFired(workflow.now()))
                async with self._lock:
                    await self._round(RoundKind.VERIFY)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        workflow.continue_as_new(self._input.model_copy(update={"state": self._state}))

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.max_history_length
        )

    async def _provision(self, command: rules.Command) -> None:
        """One step towards the customer's app (`rules.decide` says which)."""
        if isinstance(command, rules.Park):
            self._evolve(rules.Parked(command.problem, command.relook_at, workflow.now()))
            self._publish()
        elif isinstance(command, rules.WaitUntil) and not command.woken:
            assert command.until is not None
            await workflow.sleep(command.until - workflow.now())
            self._evolve(rules.TimerFired(workflow.now()))
        elif isinstance(command, rules.WaitUntil):
            try:
                await workflow.wait_condition(
                    lambda: self._state.provisioning.problem is None, timeout=_until(command.until)
                )
            except TimeoutError:
                self._evolve(rules.TimerFired(workflow.now()))
        else:
            assert isinstance(command, rules.LookUpApp | rules.RetireOrphan), command
            await self._call(command, None)

    async def _round(self, kind: RoundKind, until: datetime | None = None, **of: Any) -> None:
        """With the lock held: what `rules.decide` says, one call at a time, until Done."""
        self._evolve(rules.RoundBegun(kind, workflow.now(), until, **of))
        try:
            while not isinstance(command := rules.decide(self._state, workflow.now()), rules.Done):
                assert not isinstance(command, rules.Park | rules.WaitUntil), command
                await self._call(command, until)
        finally:
            self._evolve(rules.RoundEnded(workflow.now()))

    async def _call(self, command: rules.Activity, until: datetime | None) -> None:
        """A command's activity, its answer or failure recorded as the event it is."""
        self._evolve(rules.Asked(command, workflow.now()))
        call = rules.call_for(self._input, command)
        if isinstance(command, rules.RetireOrphan):
            workflow.logger.warning(
                "application %s lost its secret before it was stored: retired, replaced by %s",
                command.application_key,
                command.replaced_by,
            )
        try:
            result = await _run_activity(call, until)
        except ActivityError as error:
            message = failure_message(error)
            event = rules.failed(
                command, failure_type(error), message, until is not None, workflow.now()
            )
            if event is None:  # best effort: left as is
                workflow.logger.warning("%s failed: %s", call.activity, error)
        else:
            event = rules.answered(self._input, command, result, workflow.now())
        if event is not None:
            self._evolve(event)
        if (  # what the UI shows at once: the app found or lost, the periodic verify's drift
            isinstance(event, rules.ProvisioningFailed)
            or (isinstance(event, rules.AppLookedUp) and event.found.client_id is not None)
            or (isinstance(event, rules.Verified) and not event.call.after_enable)
        ):
            self._publish()
        elif (
            isinstance(event, rules.Verified)
            and all(event.statuses.get(c) == OnboardingStatus.ENABLED for c in event.call.contexts)
            and workflow.patched(PUBLISH_BEFORE_NOTIFYING_JOBS)
        ):
            self._publish()  # so the UI shows ENABLED while job workflows are woken

    # -- signals --------------------------------------------------------------------------

    @workflow.signal
    def widget_saved(self, save: WidgetSave) -> None:
        """The widget's callback fired: each value is one context the customer saved.

        At most MAX_CONTEXTS values a callback and contexts an integration; more are rejected.
        """
        self._evolve(rules.WidgetSaved(save.values, workflow.now()))
        self._publish()

    @workflow.signal(name=STATUS_PUSHED)
    def status_pushed(self) -> None:
        """LinkedIn pushed an INTEGRATION_STATUS_CHANGE: verify soon (`rules.verify_at`)."""
        self._evolve(rules.StatusPushed(workflow.now()))
        self._pushed = True

    @workflow.signal
    def retry(self) -> None:
        """An operator fixed what NEEDS_ATTENTION named: try again."""
        self._evolve(rules.OperatorRetried(workflow.now()))
        self._publish()

    # -- updates --------------------------------------------------------------------------

    @workflow.update
    async def enable(self, request: EnableRequest) -> IntegrationState:
        """Enable and verify now; answers the state once LinkedIn has answered.

        What it could not do by its deadline stays queued for the run loop, and the
        answer's waiting_for says why.
        """
        until = workflow.now() + INTERACTIVE_DEADLINE
        self._evolve(rules.EnableRequested(request.integration_context, workflow.now()))
        targets = rules.enable_targets(self._state, request.integration_context)
        try:
            async with self._deadline(until, "the enable"):
                await self._round(RoundKind.ENABLE, until, contexts=tuple(targets))
        except _NotInTime as late:
            self._evolve(rules.NotInTime(str(late), workflow.now(), contexts=tuple(targets)))
            self._publish()
            meanwhile = f"{late}; meanwhile: {self._state.waiting_for}"
            return self._state.model_copy(update={"waiting_for": meanwhile})
        self._publish()
        return self._state

    @enable.validator
    def _validate_enable(self, request: EnableRequest) -> None:
        rules.check_enable(self._state, request.integration_context)

    @workflow.update
    async def setup_hiring_contract(self, request: HiringContractRequest) -> HiringContractState:
        """Activate the customer's app for a P4P contract (seed 002), once.

        Answers the contract once LinkedIn set it up; asking again answers the same record
        without a call. Not set up by the deadline, it stays PENDING for the run loop; a
        refusal fails the update with LinkedIn's message (HiringContractRefused).
        """
        until = workflow.now() + INTERACTIVE_DEADLINE
        key = str(request.partner_contract_id)
        self._evolve(rules.ContractRequested(request.partner_contract_id, workflow.now()))
        record = self._state.hiring_contracts[key]
        try:
            async with self._deadline(until, "the setup"):
                await self._round(RoundKind.SETUP, until, contract=key)
        except _NotInTime as late:
            self._evolve(rules.NotInTime(str(late), workflow.now(), contract=key))
            self._publish()
            return record
        self._publish()
        if record.status == HiringContractStatus.NEEDS_ATTENTION:
            raise HiringContractRefused(
                f"LinkedIn refused P4P contract {request.partner_contract_id}: {record.last_error}"
            )
        return record

    @workflow.update
    async def sync_application(self) -> ApplicationSync:
        """Bring the customer's app in line with our settings (widget domains, callbacks)."""
        until = workflow.now() + INTERACTIVE_DEADLINE
        try:
            async with self._deadline(until, "the app sync", queued=False):
                request = SyncApplicationRequest(customer_id=self._input.customer_id)
                call = rules.Call(SYNC_APPLICATION, request, SyncedApplication)
                result: SyncedApplication = await _run_activity(call, until)
        except _NotInTime as late:
            raise ApplicationSyncFailed(str(late)) from None
        except ActivityError as error:
            raise ApplicationSyncFailed(
                f"could not update the customer's LinkedIn app: {failure_message(error)}"
            ) from None
        self._evolve(rules.ApplicationSynced(result.changed, workflow.now()))
        self._publish()
        assert self._state.application_sync is not None
        return self._state.application_sync

    @workflow.query
    def state(self) -> IntegrationState:
        return self._state

    # -- the lock and the deadline --------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _deadline(
        self, until: datetime, what: str, queued: bool = True
    ) -> AsyncIterator[None]:
        """The customer's app and the lock, both by `until`, held for the body.

        The run loop may hold the lock for hours retrying LinkedIn: an update that gets
        neither in time raises _NotInTime, whose message (`rules.not_in_time`) each update
        answers with. A failed provisioning fails the update at once.
        """
        if not await self._provisioned(until) or not await self._locked_within(until):
            busy = rules.busy(self._state)
            raise _NotInTime(rules.not_in_time(what, busy, INTERACTIVE_DEADLINE, queued))
        try:
            yield
        finally:
            self._lock.release()

    async def _provisioned(self, until: datetime) -> bool:
        """Wait (until the deadline) for the customer's app; raise, for the caller, on failure."""
        state = self._state

        def settled() -> bool:
            return state.client_id is not None or state.provisioning.problem is not None

        if not settled() and not workflow.patched(UPDATES_WITHIN_DEADLINE):
            await workflow.wait_condition(settled)
        elif not settled():
            try:
                await workflow.wait_condition(settled, timeout=wait_time_left(until))
            except TimeoutError:
                return False
        if state.client_id is None:
            raise ApplicationError(f"the customer is not provisioned: {state.provisioning.problem}")
        return True

    async def _locked_within(self, until: datetime) -> bool:
        """Take the lock before the deadline, or not at all (the run loop may hold it for hours)."""
        if not self._lock.locked() or not workflow.patched(UPDATES_WITHIN_DEADLINE):
            await self._lock.acquire()
            return True
        try:
            await asyncio.wait_for(self._lock.acquire(), wait_time_left(until).total_seconds())
        except TimeoutError:
            return False
        return True

    # -- what operators see ---------------------------------------------------------------

    def _evolve(self, event: rules.Event) -> None:
        """Record the event; each context's move goes to webhooks and the log."""
        for moved in rules.evolve(self._state, event):
            if self._input.webhooks:
                self._outbox.add([rules.webhook_event(self._state, moved)])
            workflow.logger.info(
                "integration %s %s: %s", moved.integration_context, moved.status, moved.reason
            )

    def _publish(self) -> None:
        """Keep the headline status, its search attribute and the UI's one line current."""
        state = self._state
        state.status = rules.status(state)
        state.waiting_for = rules.waiting_for(state, workflow.now())
        if state.status != self._published_status:
            workflow.upsert_search_attributes([INTEGRATION_STATUS.value_set(str(state.status))])
            self._published_status = state.status
        workflow.set_current_details(rules.summary(state))


async def _run_activity(call: rules.Call, until: datetime | None) -> Any:
    """One of onboarding's activities, every one with a LinkedIn call's deadline, heartbeat
    and retries, all within what `until` leaves (the background's hours when None)."""
    if until is None and call.brief:
        until = workflow.now() + INTERACTIVE_DEADLINE
    return await workflow.execute_activity(
        call.activity,
        call.request,
        result_type=call.result_type,
        start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        schedule_to_close_timeout=call_time_left(until),
        retry_policy=LINKEDIN_CALL,
    )


def _until(moment: datetime | None) -> timedelta | None:
    """A wait's timeout: until `moment` (decide only asks for future ones), or none."""
    return None if moment is None else moment - workflow.now()
