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
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import FailureType
    from domain.integrations import (
        IntegrationKey,
        IntegrationType,
        OnboardingStatus,
        WidgetCallback,
    )
    from domain.onboarding import (
        ENABLE_INTEGRATION,
        INTEGRATION_LABEL,
        PROVISION_CUSTOMER,
        SETUP_HIRING_CONTRACT,
        STATUS_RANK,
        SYNC_APPLICATION,
        VERIFY_INTEGRATIONS,
        WORKFLOW_TYPE,
        ApplicationSync,
        ContextState,
        ContextStatus,
        EnableIntegrationRequest,
        EnableRequest,
        HiringContractRequest,
        HiringContractState,
        HiringContractStatus,
        IntegrationState,
        OnboardingInput,
        ProvisionedCustomer,
        ProvisionRequest,
        RejectedCallback,
        SetUpHiringContract,
        SetupHiringContractRequest,
        SyncApplicationRequest,
        SyncedApplication,
        Transition,
        VerifiedIntegrations,
        VerifyIntegrationsRequest,
        WidgetSave,
    )
    from domain.postings import NOTIFY_JOBS, NotifyJobsRequest
    from domain.validation import ValidationError, first_problem
    from workflows.failures import failure_message, failure_type
    from workflows.policies import (
        BACKGROUND_DEADLINE,
        INTERACTIVE_DEADLINE,
        LINKEDIN_CALL,
        LINKEDIN_CALL_TIMEOUT,
    )
    from workflows.search_attributes import CUSTOMER_ID, INTEGRATION_STATUS, INTEGRATION_TYPE


PUBLISH_BEFORE_NOTIFYING_JOBS = "publish-before-notifying-jobs"
"""Patch: workflows started before it replay without the extra publish (and its upsert)."""


class _ContextProblem(Exception):
    """An activity failure, already recorded on its context."""


@workflow.defn(name=WORKFLOW_TYPE)
class CustomerIntegrationWorkflow:
    @workflow.init
    def __init__(self, input: OnboardingInput) -> None:
        self._input = input
        self._state = input.state or IntegrationState(
            customer_id=input.customer_id,
            customer_name=input.customer_name,
            integration_type=input.integration_type,
        )
        self._lock = asyncio.Lock()
        self._provision_problem: str | None = None
        self._published_status: ContextStatus | None = None

    # -- run loop -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: OnboardingInput) -> IntegrationState:
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
                        await self._enable(context, BACKGROUND_DEADLINE)
                for record in self._pending_hiring_contracts():
                    await self._setup_hiring_contract(record, BACKGROUND_DEADLINE)
            self._publish()
            try:
                await workflow.wait_condition(
                    lambda: self._has_pending() or self._should_continue_as_new(),
                    timeout=self._until_next_verify(),
                )
            except TimeoutError:
                async with self._lock:
                    await self._verify_enabled()
        await workflow.wait_condition(workflow.all_handlers_finished)
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
        """The widget's callback fired: each value is one context the customer saved."""
        for values in save.values:
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

    async def _provisioned(self) -> None:
        """Wait until the customer has an app; raise, for the caller, if that failed."""
        await workflow.wait_condition(
            lambda: self._state.client_id is not None or self._provision_problem is not None
        )
        if self._state.client_id is None:
            raise ApplicationError(f"the customer is not provisioned: {self._provision_problem}")

    @workflow.update
    async def enable(self, request: EnableRequest) -> IntegrationState:
        """Enable and verify now; answers the state once LinkedIn has answered."""
        await self._provisioned()
        async with self._lock:
            if request.integration_context is not None:
                targets = [self._context(request.integration_context)]
            else:
                targets = [
                    c for c in self._state.contexts.values() if c.status != ContextStatus.ENABLED
                ]
            for context in targets:
                await self._enable(context, INTERACTIVE_DEADLINE)
        self._publish()
        return self.state()

    @enable.validator
    def _validate_enable(self, request: EnableRequest) -> None:
        if request.integration_context is not None:
            IntegrationKey.for_type(request.integration_context, self._input.integration_type)

    @workflow.update
    async def setup_hiring_contract(self, request: HiringContractRequest) -> HiringContractState:
        """Activate the customer's app for a P4P contract (seed 002), once.

        Answers the contract once LinkedIn set it up; asking again answers the same
        record without a call. If LinkedIn does not answer in time it stays PENDING and
        the run loop keeps trying; a refusal is raised with LinkedIn's message.
        """
        await self._provisioned()
        async with self._lock:
            key = str(request.partner_contract_id)
            record = self._state.hiring_contracts.get(key)
            if record is None:
                record = HiringContractState(
                    partner_contract_id=request.partner_contract_id, requested_at=workflow.now()
                )
                self._state.hiring_contracts[key] = record
            if record.status != HiringContractStatus.SET_UP:
                await self._setup_hiring_contract(record, INTERACTIVE_DEADLINE)
        self._publish()
        if record.status == HiringContractStatus.NEEDS_ATTENTION:
            raise ApplicationError(
                f"LinkedIn refused P4P contract {request.partner_contract_id}: {record.last_error}",
                type="HiringContractRefused",
            )
        return record

    @workflow.update
    async def sync_application(self) -> ApplicationSync:
        """Bring the customer's app in line with our settings (widget domains, callbacks)."""
        await self._provisioned()
        async with self._lock:
            try:
                result: SyncedApplication = await workflow.execute_activity(
                    SYNC_APPLICATION,
                    SyncApplicationRequest(customer_id=self._input.customer_id),
                    result_type=SyncedApplication,
                    start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                    schedule_to_close_timeout=INTERACTIVE_DEADLINE,
                    retry_policy=LINKEDIN_CALL,
                )
            except ActivityError as error:
                raise ApplicationError(
                    f"could not update the customer's LinkedIn app: {failure_message(error)}",
                    type="ApplicationSyncFailed",
                ) from None
            self._state.application_sync = ApplicationSync(
                at=workflow.now(), changed=result.changed
            )
        self._publish()
        return self._state.application_sync

    @workflow.query
    def state(self) -> IntegrationState:
        return self._state

    # -- steps ----------------------------------------------------------------------------

    async def _provision(self) -> None:
        try:
            result: ProvisionedCustomer = await workflow.execute_activity(
                PROVISION_CUSTOMER,
                ProvisionRequest(
                    customer_id=self._input.customer_id,
                    customer_name=self._input.customer_name,
                    ats_name=self._input.ats_name,
                ),
                result_type=ProvisionedCustomer,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=BACKGROUND_DEADLINE,
                retry_policy=LINKEDIN_CALL,
            )
        except ActivityError as error:
            self._provision_problem = failure_message(error)
            self._state.last_error = self._provision_problem
            self._publish()
            await workflow.wait_condition(lambda: self._provision_problem is None)
            return
        self._state.client_id = result.client_id
        self._state.application_key = result.application_key
        self._state.last_error = None
        self._publish()

    async def _enable(self, context: ContextState, deadline: timedelta) -> None:
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
                deadline,
                tolerate=(FailureType.ALREADY_ENABLED,),
            )
            statuses = await self._verify([context], deadline)
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
                await self._notify_jobs(context.integration_context)
        else:
            self._problem(
                context,
                f"LinkedIn reports {linkedin_status or 'no record'} right after enabling",
            )

    async def _setup_hiring_contract(
        self, record: HiringContractState, deadline: timedelta
    ) -> None:
        """provisionedHiringContracts?action=setup; the outcome is recorded on the record."""
        try:
            result: SetUpHiringContract = await workflow.execute_activity(
                SETUP_HIRING_CONTRACT,
                SetupHiringContractRequest(
                    customer_id=self._input.customer_id,
                    partner_contract_id=record.partner_contract_id,
                ),
                result_type=SetUpHiringContract,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=deadline,
                retry_policy=LINKEDIN_CALL,
            )
        except ActivityError as error:
            message = failure_message(error)
            if failure_type(error) is None and deadline == INTERACTIVE_DEADLINE:
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

    async def _notify_jobs(self, contract: str) -> None:
        """Wake the customer's job workflows parked on this contract (best effort)."""
        try:
            await workflow.execute_activity(
                NOTIFY_JOBS,
                NotifyJobsRequest(customer_id=self._input.customer_id, contract=contract),
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=INTERACTIVE_DEADLINE,
                retry_policy=LINKEDIN_CALL,
            )
        except ActivityError as error:
            workflow.logger.warning("could not notify jobs of %s: %s", contract, error)

    async def _verify_enabled(self) -> None:
        """The periodic check: an ENABLED context that LinkedIn no longer reports ENABLED."""
        enabled = [c for c in self._state.contexts.values() if c.status == ContextStatus.ENABLED]
        try:
            statuses = await self._verify(enabled, BACKGROUND_DEADLINE)
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
        self, contexts: list[ContextState], deadline: timedelta
    ) -> VerifiedIntegrations:
        self._state.last_verified_at = workflow.now()
        keys = [
            IntegrationKey.for_type(c.integration_context, self._input.integration_type)
            for c in contexts
        ]
        request = VerifyIntegrationsRequest(customer_id=self._input.customer_id, keys=keys)
        result = await self._call(VERIFY_INTEGRATIONS, request, contexts, deadline)
        assert isinstance(result, VerifiedIntegrations)
        return result

    async def _call(
        self,
        activity: str,
        request: EnableIntegrationRequest | VerifyIntegrationsRequest,
        contexts: ContextState | list[ContextState],
        deadline: timedelta,
        tolerate: tuple[FailureType, ...] = (),
    ) -> VerifiedIntegrations | None:
        """Run an activity; record LinkedIn's refusal on the contexts and raise _ContextProblem."""
        targets = contexts if isinstance(contexts, list) else [contexts]
        try:
            result: VerifiedIntegrations | None = await workflow.execute_activity(
                activity,
                request,
                result_type=VerifiedIntegrations if activity == VERIFY_INTEGRATIONS else None,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=deadline,
                retry_policy=LINKEDIN_CALL,
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
                elif failure is None and deadline == INTERACTIVE_DEADLINE:
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
        context.transitions.append(Transition(status=status, at=workflow.now(), reason=reason))
        workflow.logger.info("integration %s %s: %s", context.integration_context, status, reason)

    def _problem(self, context: ContextState, message: str) -> None:
        context.last_error = message
        self._state.last_error = message
        self._move(context, ContextStatus.NEEDS_ATTENTION, message)

    def _reject(self, values: dict[str, object], reason: str) -> None:
        self._state.rejected_callbacks.append(
            RejectedCallback(at=workflow.now(), values=values, reason=reason)
        )
        self._state.last_error = f"widget callback rejected: {reason}"

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


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
