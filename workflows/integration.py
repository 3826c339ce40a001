"""CustomerIntegrationWorkflow: one customer's integration of one type, for as long as it lives.

NOT_CONNECTED → REQUESTED (widget saved) → ENABLED (our enable call, then a verify that
reads ENABLED) → REQUESTED again whenever the customer re-saves the widget with another
or no default job poster → ENABLED again. LinkedIn's refusals that need a person park a
context in NEEDS_ATTENTION until an operator sends `retry`.

The job-posting (PJP) workflow also records the customer's P4P hiring contracts
(`setup_hiring_contract`), and any of a customer's workflows brings the customer's app in
line with our settings on `sync_application`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import FailureType
    from domain.integration_workflow import (
        ENABLE_INTEGRATION,
        INTEGRATION_LABEL,
        INTEGRATION_WORKFLOW_TYPE,
        MAX_APP_ATTEMPTS,
        MAX_CONTEXTS,
        PROVISION_CUSTOMER,
        RETIRE_APPLICATION,
        SETUP_HIRING_CONTRACT,
        STATUS_RANK,
        SYNC_APPLICATION,
        VERIFY_INTEGRATIONS,
        ApplicationSync,
        ContextState,
        ContextStatus,
        EnableIntegrationRequest,
        EnableRequest,
        HiringContractRequest,
        HiringContractState,
        HiringContractStatus,
        IntegrationInput,
        IntegrationState,
        ProvisionedCustomer,
        ProvisionRequest,
        RejectedCallback,
        RetireApplicationRequest,
        SetUpHiringContract,
        SetupHiringContractRequest,
        SyncApplicationRequest,
        SyncedApplication,
        Transition,
        VerifiedIntegrations,
        VerifyIntegrationsRequest,
        WidgetSave,
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
    from domain.webhooks import integration_event
    from workflows.failures import (
        ApplicationSyncFailed,
        HiringContractRefused,
        failure_message,
        failure_type,
    )
    from workflows.policies import (
        BACKGROUND_DEADLINE,
        HEARTBEAT_TIMEOUT,
        INTERACTIVE_DEADLINE,
        LINKEDIN_CALL,
        LINKEDIN_CALL_TIMEOUT,
    )
    from workflows.search_attributes import CUSTOMER_ID, INTEGRATION_STATUS, INTEGRATION_TYPE
    from workflows.webhooks import EventOutbox


PUBLISH_BEFORE_NOTIFYING_JOBS = "publish-before-notifying-jobs"
"""Patch: workflows started before it replay without the extra publish (and its upsert)."""
UPDATES_WITHIN_DEADLINE = "updates-within-deadline"
"""Patch: an update waits for the lock or the app only until its deadline (a timer)."""

MIN_CALL_TIME = timedelta(seconds=5)
"""The least time an update gives one call; its waits end three of these before its deadline."""
RELOOK_LIMIT = timedelta(hours=1)
"""The longest wait between looks at an app found without its secret."""


class _ContextProblem(Exception):
    """An activity failure, already recorded on its context."""


@workflow.defn(name=INTEGRATION_WORKFLOW_TYPE)
class CustomerIntegrationWorkflow:
    @workflow.init
    def __init__(self, input: IntegrationInput) -> None:
        self._input = input
        self._state = input.state or IntegrationState(
            customer_id=input.customer_id,
            customer_name=input.customer_name,
            integration_type=input.integration_type,
        )
        self._lock = asyncio.Lock()
        self._busy: str | None = None
        """What the run loop does while it holds the lock (an update's answer says so)."""
        self._provision_problem: str | None = None
        self._published_status: ContextStatus | None = None
        self._relooks = 0
        self._outbox = EventOutbox()

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
            await self._provision()
        while not self._should_continue_as_new():
            async with self._lock:
                for context in list(self._state.contexts.values()):
                    if context.enable_pending and context.status != ContextStatus.NEEDS_ATTENTION:
                        self._busy = f"enabling {context.integration_context} at LinkedIn"
                        await self._enable(context, None)
                for record in self._pending_hiring_contracts():
                    self._busy = f"setting up P4P contract {record.partner_contract_id}"
                    await self._setup_hiring_contract(record, None)
                self._busy = None
            self._publish()
            try:
                await workflow.wait_condition(
                    lambda: self._has_pending() or self._should_continue_as_new(),
                    timeout=self._until_next_verify(),
                )
            except TimeoutError:
                async with self._lock:
                    self._busy = "verifying the enabled integrations at LinkedIn"
                    await self._verify_enabled()
                    self._busy = None
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        workflow.continue_as_new(self._input.model_copy(update={"state": self._state}))

    def _has_pending(self) -> bool:
        return bool(self._pending_hiring_contracts()) or any(
            c.enable_pending and c.status != ContextStatus.NEEDS_ATTENTION
            for c in self._state.contexts.values()
        )

    def _pending_hiring_contracts(self) -> list[HiringContractState]:
        return [
            r
            for r in self._state.hiring_contracts.values()
            if r.status == HiringContractStatus.PENDING
        ]

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.max_history_length
        )

    def _until_next_verify(self) -> timedelta | None:
        if not any(c.status == ContextStatus.ENABLED for c in self._state.contexts.values()):
            return None
        last = self._state.last_verified_at or workflow.now()
        due = last + self._input.verify_interval
        return max(due - workflow.now(), timedelta(seconds=1))

    # -- handlers -------------------------------------------------------------------------

    @workflow.signal
    def widget_saved(self, save: WidgetSave) -> None:
        """The widget's callback fired: each value is one context the customer saved.

        At most MAX_CONTEXTS values a callback and contexts an integration; more are rejected.
        """
        extra = len(save.values) - MAX_CONTEXTS
        if extra > 0:
            self._reject(
                {"values": len(save.values)},
                f"{extra} values beyond the {MAX_CONTEXTS} a widget callback may hold",
            )
        for values in save.values[:MAX_CONTEXTS]:
            try:
                callback = WidgetCallback.model_validate(values)
                key = callback.key
            except ValidationError as error:
                self._reject(values, first_problem(error))
                continue
            if key.integration_type != self._input.integration_type:
                self._reject(
                    values,
                    f"integrationType {key.integration_type} does not belong to this "
                    f"workflow ({self._input.integration_type})",
                )
                continue
            if self._at_context_limit(key.integration_context):
                self._reject(values, f"the integration has {MAX_CONTEXTS} contexts already")
                continue
            context = self._context(key.integration_context)
            context.customer_has_not_saved = False
            context.enable_pending = True
            self._move(context, ContextStatus.REQUESTED, "the customer saved the widget")
        self._publish()

    @workflow.signal
    def retry(self) -> None:
        """An operator fixed what NEEDS_ATTENTION named: try again."""
        self._provision_problem = None
        for context in self._state.contexts.values():
            if context.status == ContextStatus.NEEDS_ATTENTION:
                context.enable_pending = True
                self._move(context, ContextStatus.REQUESTED, "an operator asked to retry")
        for record in self._state.hiring_contracts.values():
            if record.status == HiringContractStatus.NEEDS_ATTENTION:
                record.status = HiringContractStatus.PENDING
        self._publish()

    async def _within(self, until: datetime, condition: Callable[[], bool]) -> bool:
        """Wait for the condition until the update's deadline; False if it did not come."""
        if condition():
            return True
        if not workflow.patched(UPDATES_WITHIN_DEADLINE):
            await workflow.wait_condition(condition)
            return True
        try:
            await workflow.wait_condition(condition, timeout=_wait_left(until))
        except TimeoutError:
            return False
        return True

    async def _provisioned(self, until: datetime) -> bool:
        """Wait (until the deadline) for the customer's app; raise, for the caller, on failure."""
        if not await self._within(
            until,
            lambda: self._state.client_id is not None or self._provision_problem is not None,
        ):
            return False
        if self._state.client_id is None:
            raise ApplicationError(f"the customer is not provisioned: {self._provision_problem}")
        return True

    async def _locked_within(self, until: datetime) -> bool:
        """Take the lock before the deadline, or not at all (the run loop may hold it for hours)."""
        if not self._lock.locked() or not workflow.patched(UPDATES_WITHIN_DEADLINE):
            await self._lock.acquire()
            return True
        try:
            await asyncio.wait_for(self._lock.acquire(), _wait_left(until).total_seconds())
        except TimeoutError:
            return False
        return True

    def _not_in_time(self, what: str) -> str:
        """Why an update answers before LinkedIn did: the workflow is busy elsewhere."""
        busy = self._busy or "creating the customer's LinkedIn application"
        return (
            f"{what} is queued: not answered within {INTERACTIVE_DEADLINE.seconds} s because "
            f"the workflow is {busy}, retried in the background"
        )

    @workflow.update
    async def enable(self, request: EnableRequest) -> IntegrationState:
        """Enable and verify now; answers the state once LinkedIn has answered.

        It answers within INTERACTIVE_DEADLINE whatever the run loop is doing: what it could
        not do by then stays queued for the loop, and the answer's waiting_for says why.
        """
        until = workflow.now() + INTERACTIVE_DEADLINE
        if request.integration_context is not None:
            targets = [self._context(request.integration_context)]
        else:
            targets = [
                c for c in self._state.contexts.values() if c.status != ContextStatus.ENABLED
            ]
        if not await self._provisioned(until) or not await self._locked_within(until):
            for context in targets:
                context.enable_pending = True
            self._publish()
            return self._answer(self._not_in_time("the enable"))
        try:
            for context in targets:
                await self._enable(context, until)
        finally:
            self._lock.release()
        self._publish()
        return self.state()

    @enable.validator
    def _validate_enable(self, request: EnableRequest) -> None:
        context = request.integration_context
        if context is not None:
            if len(context) > MAX_CONTEXT_LENGTH:
                raise ValueError(
                    f"integration_context: at most {MAX_CONTEXT_LENGTH} characters, "
                    f"got {len(context)}"
                )
            IntegrationKey.for_type(context, self._input.integration_type)
            if self._at_context_limit(context):
                raise ValueError(
                    f"integration_context: the integration has {MAX_CONTEXTS} contexts already"
                )

    def _answer(self, reason: str) -> IntegrationState:
        return self._state.model_copy(
            update={"waiting_for": f"{reason}; meanwhile: {self._state.waiting_for}"}
        )

    @workflow.update
    async def setup_hiring_contract(self, request: HiringContractRequest) -> HiringContractState:
        """Activate the customer's app for a P4P contract (seed 002), once.

        Answers the contract once LinkedIn set it up; asking again answers the same
        record without a call. If LinkedIn does not answer in time it stays PENDING and
        the run loop keeps trying; a refusal is raised with LinkedIn's message.
        """
        until = workflow.now() + INTERACTIVE_DEADLINE
        key = str(request.partner_contract_id)
        record = self._state.hiring_contracts.get(key)
        if record is None:
            record = HiringContractState(
                partner_contract_id=request.partner_contract_id, requested_at=workflow.now()
            )
            self._state.hiring_contracts[key] = record
        if not await self._provisioned(until) or not await self._locked_within(until):
            if record.status == HiringContractStatus.PENDING:
                record.last_error = self._not_in_time("the setup")
            self._publish()
            return record
        try:
            if record.status != HiringContractStatus.SET_UP:
                await self._setup_hiring_contract(record, until)
        finally:
            self._lock.release()
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
        if not await self._provisioned(until) or not await self._locked_within(until):
            raise ApplicationSyncFailed(self._not_in_time("the app sync") + ": ask again later")
        try:
            result: SyncedApplication = await _run_activity(
                SYNC_APPLICATION,
                SyncApplicationRequest(customer_id=self._input.customer_id),
                until=until,
                result_type=SyncedApplication,
            )
        except ActivityError as error:
            raise ApplicationSyncFailed(
                f"could not update the customer's LinkedIn app: {failure_message(error)}"
            ) from None
        finally:
            self._lock.release()
        self._state.application_sync = ApplicationSync(at=workflow.now(), changed=result.changed)
        self._publish()
        return self._state.application_sync

    @workflow.query
    def state(self) -> IntegrationState:
        return self._state

    # -- steps ----------------------------------------------------------------------------

    async def _provision(self) -> None:
        """One step towards the customer's app, each crash-safe; the run loop repeats it.

        Look (our store, then LinkedIn under the current uniqueForeignId); if LinkedIn has
        none, record that we create it, then create it and store its secret. An app found
        without a stored secret gets `provision_grace` for whoever created it to store it;
        if it was ours (recorded) it is an orphan: the next uniqueForeignId is recorded, the
        orphan retired, and the replacement created on the next step. One we never asked
        for (a lost or other credential store) needs a person, and is looked at again.
        """
        state = self._state
        foreign_id = application_foreign_id(self._input.customer_id, state.app_attempt)
        found = await self._find_or_create(foreign_id, create=False)
        if found is not None and found.client_id is None and found.unstored_key is None:
            state.creating_app = foreign_id
            found = await self._find_or_create(foreign_id, create=True)
        waited, delay = timedelta(0), timedelta(seconds=1)
        while found is not None and found.client_id is None and found.unstored_key is not None:
            if waited >= self._input.provision_grace:
                break
            delay = min(delay, self._input.provision_grace - waited)
            await workflow.sleep(delay)  # whoever created it may be storing it right now
            waited, delay = waited + delay, delay * 2
            found = await self._find_or_create(foreign_id, create=False)
        if found is None or found.client_id is not None or found.unstored_key is None:
            return
        if state.creating_app != foreign_id:
            self._relooks += 1
            self._provision_problem = (
                f"customer {self._input.customer_id} has application {found.unstored_key} at "
                f"LinkedIn (uniqueForeignId {foreign_id!r}) but its secret is not in the "
                "credential store, and we did not create it: restore the store or point the "
                "worker at the right one; looked at again on retry and every hour"
            )
            self._state.last_error = self._provision_problem
            self._publish()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._provision_problem is None, timeout=self._relook_delay()
                )
            self._provision_problem = None
            return
        if state.app_attempt >= MAX_APP_ATTEMPTS:
            self._provision_problem = (
                f"{MAX_APP_ATTEMPTS} LinkedIn apps of customer {self._input.customer_id} lost "
                "their secret before it was stored: check the credential store, then signal retry"
            )
            self._state.last_error = self._provision_problem
            self._publish()
            await workflow.wait_condition(lambda: self._provision_problem is None)
            return
        state.app_attempt += 1
        state.creating_app = None
        replacement = application_foreign_id(self._input.customer_id, state.app_attempt)
        workflow.logger.warning(
            "application %s lost its secret before it was stored: retired, replaced by %s",
            found.unstored_key,
            replacement,
        )
        try:
            await _run_activity(
                RETIRE_APPLICATION,
                RetireApplicationRequest(
                    customer_id=self._input.customer_id,
                    customer_name=self._input.customer_name,
                    ats_name=self._input.ats_name,
                    application_key=found.unstored_key,
                    replaced_by=replacement,
                ),
                until=None,
            )
        except ActivityError as error:  # nobody holds its secret: harmless if left as is
            workflow.logger.warning("could not retire %s: %s", found.unstored_key, error)

    def _relook_delay(self) -> timedelta:
        return min(self._input.provision_grace * (1 << min(self._relooks, 10)), RELOOK_LIMIT)

    async def _find_or_create(self, foreign_id: str, *, create: bool) -> ProvisionedCustomer | None:
        """The provisioning activity; None when it failed (recorded, and retried on `retry`)."""
        try:
            result: ProvisionedCustomer = await _run_activity(
                PROVISION_CUSTOMER,
                ProvisionRequest(
                    customer_id=self._input.customer_id,
                    customer_name=self._input.customer_name,
                    ats_name=self._input.ats_name,
                    unique_foreign_id=foreign_id,
                    create=create,
                ),
                until=None,
                result_type=ProvisionedCustomer,
            )
        except ActivityError as error:
            self._provision_problem = failure_message(error)
            self._state.last_error = self._provision_problem
            self._publish()
            await workflow.wait_condition(lambda: self._provision_problem is None)
            return None
        if result.client_id is not None:
            self._relooks = 0
            self._state.client_id = result.client_id
            self._state.application_key = result.application_key
            self._state.creating_app = None
            self._state.last_error = None
            self._publish()
        return result

    async def _enable(self, context: ContextState, until: datetime | None) -> None:
        """Enable one context, then verify; every outcome is recorded on the context."""
        context.enable_pending = False
        key = IntegrationKey.for_type(context.integration_context, self._input.integration_type)
        name = self._integration_name()
        try:
            await self._call(
                ENABLE_INTEGRATION,
                EnableIntegrationRequest(
                    customer_id=self._input.customer_id, key=key, integration_name=name
                ),
                context,
                until,
                tolerate=(FailureType.ALREADY_ENABLED,),
            )
            statuses = await self._verify([context], until)
        except _ContextProblem:
            return
        linkedin_status = statuses.statuses.get(context.integration_context)
        if linkedin_status == OnboardingStatus.ENABLED:
            context.integration_name = context.integration_name or name
            context.last_error = None
            newly_enabled = context.status != ContextStatus.ENABLED
            self._move(context, ContextStatus.ENABLED, "enabled and verified at LinkedIn")
            if workflow.patched(PUBLISH_BEFORE_NOTIFYING_JOBS):
                self._publish()  # so the UI shows ENABLED while job workflows are woken
            if newly_enabled and key.integration_type == IntegrationType.PREMIUM_JOB_POSTING:
                await self._notify_jobs(context.integration_context, until)
        else:
            self._problem(
                context,
                f"LinkedIn reports {linkedin_status or 'no record'} right after enabling",
            )

    async def _setup_hiring_contract(
        self, record: HiringContractState, until: datetime | None
    ) -> None:
        """provisionedHiringContracts?action=setup; the outcome is recorded on the record."""
        try:
            result: SetUpHiringContract = await _run_activity(
                SETUP_HIRING_CONTRACT,
                SetupHiringContractRequest(
                    customer_id=self._input.customer_id,
                    partner_contract_id=record.partner_contract_id,
                ),
                until=until,
                result_type=SetUpHiringContract,
            )
        except ActivityError as error:
            message = failure_message(error)
            if failure_type(error) is None and until is not None:
                record.last_error = f"LinkedIn did not answer in time: {message}"
            else:
                record.status = HiringContractStatus.NEEDS_ATTENTION
                record.last_error = message
                self._state.last_error = message
            return
        record.status = HiringContractStatus.SET_UP
        record.contract = result.contract
        record.set_up_at = workflow.now()
        record.last_error = None
        workflow.logger.info(
            "P4P contract %s set up: %s", record.partner_contract_id, result.contract
        )

    async def _notify_jobs(self, contract: str, until: datetime | None) -> None:
        """Wake the customer's job workflows parked on this contract (best effort)."""
        try:
            await _run_activity(
                NOTIFY_JOBS,
                NotifyJobsRequest(customer_id=self._input.customer_id, contract=contract),
                until=until or workflow.now() + INTERACTIVE_DEADLINE,
            )
        except ActivityError as error:
            workflow.logger.warning("could not notify jobs of %s: %s", contract, error)

    async def _verify_enabled(self) -> None:
        """The periodic check: an ENABLED context that LinkedIn no longer reports ENABLED."""
        enabled = [c for c in self._state.contexts.values() if c.status == ContextStatus.ENABLED]
        try:
            statuses = await self._verify(enabled, None)
        except _ContextProblem:
            return
        for context in enabled:
            reported = statuses.statuses.get(context.integration_context)
            if reported != OnboardingStatus.ENABLED:
                context.enable_pending = True
                self._move(
                    context,
                    ContextStatus.REQUESTED,
                    f"drift: LinkedIn reports {reported or 'no record'}; enabling again",
                )
        self._publish()

    async def _verify(
        self, contexts: list[ContextState], until: datetime | None
    ) -> VerifiedIntegrations:
        self._state.last_verified_at = workflow.now()
        keys = [
            IntegrationKey.for_type(c.integration_context, self._input.integration_type)
            for c in contexts
        ]
        request = VerifyIntegrationsRequest(customer_id=self._input.customer_id, keys=keys)
        result = await self._call(VERIFY_INTEGRATIONS, request, contexts, until)
        assert isinstance(result, VerifiedIntegrations)
        return result

    async def _call(
        self,
        activity: str,
        request: EnableIntegrationRequest | VerifyIntegrationsRequest,
        contexts: ContextState | list[ContextState],
        until: datetime | None,
        tolerate: tuple[FailureType, ...] = (),
    ) -> VerifiedIntegrations | None:
        """Run an activity; record LinkedIn's refusal on the contexts and raise _ContextProblem."""
        targets = contexts if isinstance(contexts, list) else [contexts]
        try:
            result: VerifiedIntegrations | None = await _run_activity(
                activity,
                request,
                until=until,
                result_type=VerifiedIntegrations if activity == VERIFY_INTEGRATIONS else None,
            )
            return result
        except ActivityError as error:
            failure = failure_type(error)
            if failure in tolerate:
                return None
            message = failure_message(error)
            for context in targets:
                if failure == FailureType.NOT_FOUND:
                    context.customer_has_not_saved = True
                    context.last_error = message
                    self._move(
                        context,
                        ContextStatus.REQUESTED,
                        "LinkedIn has no record: the customer has not saved the widget",
                    )
                elif failure is None and until is not None:
                    context.enable_pending = True  # the run loop keeps trying
                    context.last_error = f"LinkedIn did not answer in time: {message}"
                else:
                    self._problem(context, message)
            raise _ContextProblem from None

    # -- state ----------------------------------------------------------------------------

    def _context(self, integration_context: str) -> ContextState:
        contexts = self._state.contexts
        if integration_context not in contexts:
            contexts[integration_context] = ContextState(integration_context=integration_context)
        return contexts[integration_context]

    def _integration_name(self) -> str:
        return self._input.integration_name_template.format(
            ats=self._input.ats_name,
            customer=self._input.customer_name,
            integration=INTEGRATION_LABEL[self._input.integration_type],
        )

    def _move(self, context: ContextState, status: ContextStatus, reason: str) -> None:
        if context.status == status and context.transitions:
            return
        context.status = status
        context.record(Transition(status=status, at=workflow.now(), reason=reason))
        if self._input.webhooks:
            count = len(context.transitions) + context.earlier_transitions
            self._outbox.add(
                [
                    integration_event(
                        self._input.customer_id,
                        str(self._input.integration_type),
                        context.integration_context,
                        str(status),
                        reason,
                        count,
                        workflow.now(),
                    )
                ]
            )
        workflow.logger.info("integration %s %s: %s", context.integration_context, status, reason)

    def _problem(self, context: ContextState, message: str) -> None:
        context.last_error = message
        self._state.last_error = message
        self._move(context, ContextStatus.NEEDS_ATTENTION, message)

    def _at_context_limit(self, integration_context: str) -> bool:
        """A new context would take the integration past MAX_CONTEXTS."""
        contexts = self._state.contexts
        return integration_context not in contexts and len(contexts) >= MAX_CONTEXTS

    def _reject(self, values: object, reason: str) -> None:
        rejected = RejectedCallback.of(workflow.now(), values, reason)
        self._state.reject(rejected)
        self._state.last_error = f"widget callback rejected: {rejected.reason}"

    def _publish(self) -> None:
        """Keep the headline status, its search attribute and the UI's one line current."""
        state = self._state
        if self._provision_problem is not None or any(
            r.status == HiringContractStatus.NEEDS_ATTENTION
            for r in state.hiring_contracts.values()
        ):
            state.status = ContextStatus.NEEDS_ATTENTION
        elif state.contexts:
            state.status = min(
                (c.status for c in state.contexts.values()), key=lambda s: STATUS_RANK[s]
            )
        else:
            state.status = ContextStatus.NOT_CONNECTED
        state.waiting_for = self._waiting_for()
        if state.status != self._published_status:
            workflow.upsert_search_attributes([INTEGRATION_STATUS.value_set(str(state.status))])
            self._published_status = state.status
        set_up = [r.contract for r in state.hiring_contracts.values() if r.contract]
        p4p = f"; P4P contracts set up: {', '.join(str(c) for c in set_up)}" if set_up else ""
        workflow.set_current_details(f"{state.status}: {state.waiting_for}{p4p}")

    def _waiting_for(self) -> str:
        if self._provision_problem is not None:
            return f"provisioning failed ({self._provision_problem}); signal retry once fixed"
        if self._state.client_id is None:
            return "creating the customer's LinkedIn application"
        for record in self._state.hiring_contracts.values():
            if record.status == HiringContractStatus.NEEDS_ATTENTION:
                return (
                    f"an operator: P4P contract {record.partner_contract_id} needs attention "
                    f"({record.last_error}); signal retry once fixed"
                )
            if record.status == HiringContractStatus.PENDING:
                return f"LinkedIn to set up P4P contract {record.partner_contract_id}"
        contexts = list(self._state.contexts.values())
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
        due = (self._state.last_verified_at or workflow.now()) + self._input.verify_interval
        return f"the next verify at {_iso(due)} ({len(contexts)} enabled)"


async def _run_activity(
    activity: str, request: object, *, until: datetime | None, result_type: type | None = None
) -> Any:
    """One of onboarding's activities, every one with a LinkedIn call's deadline, heartbeat
    and retries, all within what `until` leaves (the background's hours when None)."""
    return await workflow.execute_activity(
        activity,
        request,
        result_type=result_type,
        start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        schedule_to_close_timeout=_left(until),
        retry_policy=LINKEDIN_CALL,
    )


def _left(until: datetime | None) -> timedelta:
    """An activity's schedule-to-close: what an update has left, or the background's hours."""
    if until is None:
        return BACKGROUND_DEADLINE
    return max(until - workflow.now(), MIN_CALL_TIME)


def _wait_left(until: datetime) -> timedelta:
    """How long an update may wait for the lock or the app: room is left for its calls."""
    return max(until - 3 * MIN_CALL_TIME - workflow.now(), timedelta(seconds=1))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
