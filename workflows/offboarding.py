"""CustomerOffboardingWorkflow: take a customer off LinkedIn, durably and once.

Rounds close the customer's open jobs (each job's own CLOSE, sent by an activity with one
update id per offboarding, so a round run again answers instead of closing twice; the
worker's batcher gathers them 100 a LinkedIn call) until none is open; then the child app is
retired, the integration workflows end, and what we keep about the customer is erased.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.offboarding import (
        CLOSE_OPEN_JOBS,
        END_INTEGRATIONS,
        ERASE_CUSTOMER,
        MAX_ROUNDS,
        OFFBOARDING_STATE_QUERY,
        OFFBOARDING_WORKFLOW_TYPE,
        RETIRE_CUSTOMER_APP,
        ClosedJobs,
        CloseOpenJobs,
        CustomerRef,
        ErasureReport,
        OffboardingInput,
        OffboardingState,
        OffboardingStatus,
        RetireCustomerApp,
    )
    from domain.webhooks import WebhookEvent, WebhookEventType
    from workflows.policies import HEARTBEAT_TIMEOUT, LINKEDIN_CALL, LINKEDIN_CALL_TIMEOUT
    from workflows.webhooks import EventOutbox

STEP = RetryPolicy(maximum_interval=timedelta(minutes=1))
ROUND_TIMEOUT = timedelta(minutes=10)
BETWEEN_ROUNDS = timedelta(seconds=5)
"""A round that left jobs open (their CLOSE still on its way) is followed by another."""


@workflow.defn(name=OFFBOARDING_WORKFLOW_TYPE)
class CustomerOffboardingWorkflow:
    @workflow.init
    def __init__(self, input: OffboardingInput) -> None:
        self._state = input.state or OffboardingState(
            customer_id=input.customer_id, started_at=workflow.now()
        )
        self._outbox = EventOutbox()

    def _announce(self, input: OffboardingInput, kind: WebhookEventType) -> None:
        """customer.offboarding / customer.offboarded: counts only, no personal data."""
        if not input.webhooks:
            return
        state = self._state
        data = state.model_dump(mode="json", by_alias=True, exclude={"customer_id"})
        self._outbox.add(
            [
                WebhookEvent(
                    id=f"{workflow.info().first_execution_run_id}:{kind}",
                    type=kind,
                    customer_id=input.customer_id,
                    created_at=workflow.now(),
                    data=data,
                )
            ]
        )

    @workflow.query(name=OFFBOARDING_STATE_QUERY)
    def state(self) -> OffboardingState:
        return self._state

    @workflow.run
    async def run(self, input: OffboardingInput) -> OffboardingState:
        state = self._state
        customer = CustomerRef(customer_id=input.customer_id)
        rounds = 0
        while state.status == OffboardingStatus.CLOSING_JOBS:
            workflow.set_current_details(
                f"closing jobs at LinkedIn: {state.jobs_closed} of {state.jobs_total}"
            )
            closed: ClosedJobs = await workflow.execute_activity(
                CLOSE_OPEN_JOBS,
                CloseOpenJobs(
                    customer_id=input.customer_id,
                    update_id=f"offboarding:{workflow.info().workflow_id}:"
                    f"{workflow.info().first_execution_run_id}",
                ),
                result_type=ClosedJobs,
                start_to_close_timeout=ROUND_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=STEP,
            )
            if rounds == 0 and state.jobs_total == 0:
                state.jobs_total = closed.open_before
                if input.state is None:
                    self._announce(input, WebhookEventType.CUSTOMER_OFFBOARDING)
            state.jobs_closed += closed.ended
            state.jobs_open = closed.open_left
            state.jobs_total = max(state.jobs_total, state.jobs_closed + state.jobs_open)
            if closed.open_left == 0:
                state.status = OffboardingStatus.RETIRING_APP
                break
            rounds += 1
            if rounds >= MAX_ROUNDS or workflow.info().is_continue_as_new_suggested():
                await self._outbox.drained()
                workflow.continue_as_new(
                    OffboardingInput(
                        customer_id=input.customer_id,
                        ats_name=input.ats_name,
                        erase=input.erase,
                        webhooks=input.webhooks,
                        state=state,
                    )
                )
            if closed.ended == 0:
                await workflow.sleep(BETWEEN_ROUNDS)
        if state.status == OffboardingStatus.RETIRING_APP:
            workflow.set_current_details("retiring the customer's LinkedIn app")
            state.app_retired = await workflow.execute_activity(
                RETIRE_CUSTOMER_APP,
                RetireCustomerApp(customer_id=input.customer_id, ats_name=input.ats_name),
                result_type=bool,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                retry_policy=LINKEDIN_CALL,
            )
            state.status = OffboardingStatus.ENDING_INTEGRATIONS
        if state.status == OffboardingStatus.ENDING_INTEGRATIONS:
            workflow.set_current_details("ending the customer's integration workflows")
            state.integrations_ended = await workflow.execute_activity(
                END_INTEGRATIONS,
                customer,
                result_type=int,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=STEP,
            )
            state.status = (
                OffboardingStatus.ERASING if input.erase else OffboardingStatus.OFFBOARDED
            )
        if state.status == OffboardingStatus.ERASING:
            workflow.set_current_details("erasing what we keep about the customer")
            state.erasure = await workflow.execute_activity(
                ERASE_CUSTOMER,
                customer,
                result_type=ErasureReport,
                start_to_close_timeout=ROUND_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=STEP,
            )
            state.status = OffboardingStatus.OFFBOARDED
        state.finished_at = state.finished_at or workflow.now()
        self._announce(input, WebhookEventType.CUSTOMER_OFFBOARDED)
        await self._outbox.drained()
        workflow.set_current_details("offboarded")
        return state
