"""JobPostingWorkflow: one job at LinkedIn, from CREATE to CLOSE, expiry or discard.

A thin shell around `domain.job_lifecycle`: updates, signals, timers and activity results
become events; `decide` says what to run next. Operations run one at a time in arrival
order, each as one `run_job_operation` activity. No activity failure fails the workflow:
an operation LinkedIn did not answer is parked with the reason, for a retry or a cancel.
Updates answer at once, or with `wait` once the operation finished or parked, within a
bounded time.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import job_lifecycle as rules
    from domain.job_postings import ListingType
    from domain.job_workflow import (
        JOB_WORKFLOW_TYPE,
        READ_JOB_STATUS,
        RUN_JOB_OPERATION,
        STATE_QUERY,
        AwaitOperation,
        CloseJob,
        CreateJob,
        DowngradeJob,
        JobInput,
        JobOperationResult,
        JobRequest,
        JobSignal,
        JobState,
        JobStatusRead,
        JobUpdate,
        Operation,
        OperationKind,
        OperationOutcome,
        OperationParams,
        OperatorRequest,
        ReadJobStatus,
        RenewJob,
        ResyncJob,
        StopWaiting,
        UpdateJob,
        UpgradeJob,
    )
    from domain.webhooks import (
        job_events,
        linkedin_changed_event,
        linkedin_view,
        offsite_event,
        outcomes,
    )
    from workflows.failures import failure_message
    from workflows.ordering import updates_after_results
    from workflows.policies import (
        BACKGROUND_DEADLINE,
        HEARTBEAT_TIMEOUT,
        JOB_OPERATION,
        LINKEDIN_CALL,
        LINKEDIN_CALL_TIMEOUT,
        STATUS_READ_DEADLINE,
    )
    from workflows.search_attributes import JOB_LISTING_TYPE, JOB_STATUS, JOB_WAKE_AT
    from workflows.webhooks import EventOutbox


OFFSITE_WATCHED = "offsite-watched"
"""Runs since this patch raise job.needs_attention when LinkedIn turns an Apply Connect job
off-site; only jobs with onsiteApplyConfiguration (new with it) reach the branch."""

RESYNC_OWN_RESEND = "resync-own-resend"
"""Runs since this patch give each resync request its own UPDATE, built when it goes out;
runs before let a queued UPDATE stand in for it (`rules.ResyncAsked.own_resend`)."""

WOKEN_BY_SWEEP = "woken-by-sweep"
"""Runs started before this patch time their own expiry and auto-renew; runs since publish
JobWakeAt and are woken by the sweep (`workflows/job_wakeups.py`)."""


@workflow.defn(name=JOB_WORKFLOW_TYPE)
class JobPostingWorkflow:
    @workflow.init
    def __init__(self, input: JobInput) -> None:
        updates_after_results()
        self._input = input
        self._state = input.state or rules.new_state(
            input.customer_id, input.external_job_posting_id, input.auto_renew
        )
        attributes = workflow.info().typed_search_attributes
        self._published: tuple[str | None, str | None, datetime | None] = (
            attributes.get(JOB_STATUS),
            attributes.get(JOB_LISTING_TYPE),
            attributes.get(JOB_WAKE_AT),
        )
        self._events = 0
        self._outbox = EventOutbox()
        self._waiting: set[str] = set()
        """Updates waiting for an outcome, by update id; `stop_waiting` answers them."""
        self._stopped: set[str] = set()

    # -- run loop -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: JobInput) -> JobState:
        self._publish()
        while True:
            command = rules.decide(self._state, workflow.now())
            if isinstance(command, rules.Complete):
                break
            if isinstance(command, rules.StartOperation):
                await self._run_operation(command)
                continue
            if isinstance(command, rules.FailOperation):  # nothing is sent
                now = workflow.now()
                self._evolve(rules.StartRefused(command.operation_id, command.reason, now))
                continue
            if isinstance(command, rules.ReadStatus):
                await self._read_status()
                continue
            if not isinstance(command, rules.Wait):  # due at a wake-up: done there
                self._due(command)
                continue
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._outbox.drained()
                workflow.continue_as_new(self._input.model_copy(update={"state": self._state}))
            if not await self._next_event(command.until):
                self._wake()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._state

    async def _next_event(self, until: datetime | None) -> bool:
        """Wait for an update, signal or continue-as-new; False when `until` came first.

        Only runs started before WOKEN_BY_SWEEP time `until` with a timer of their own (a
        billed action each time they wait); later runs publish it as JobWakeAt, and the
        sweep's `wake` signal arrives as an event once it has passed.
        """
        seen = self._events
        timeout = None
        if until is not None and not workflow.patched(WOKEN_BY_SWEEP):
            timeout = max(until - workflow.now(), timedelta(seconds=1))
        try:
            await workflow.wait_condition(
                lambda: self._events != seen or self._should_continue_as_new(), timeout=timeout
            )
        except TimeoutError:
            return False
        return True

    def _wake(self) -> None:
        """A wake-up, and at once what it is due for (an auto-renewal or the expiry)."""
        self._evolve(rules.TimerFired(at=workflow.now()))
        command = rules.decide(self._state, workflow.now())
        if isinstance(command, rules.RenewBeforeExpiry | rules.Expire):
            self._due(command)

    def _due(self, command: rules.RenewBeforeExpiry | rules.Expire) -> None:
        now = workflow.now()
        if isinstance(command, rules.RenewBeforeExpiry):
            self._evolve(rules.AutoRenewQueued(command.operation_id, command.budget, now))
        else:
            self._evolve(rules.Expired(now))

    async def _run_operation(self, command: rules.StartOperation) -> None:
        operation_id = command.operation_id
        self._evolve(rules.OperationStarted(operation_id, command.posting, workflow.now()))
        op = self._state.operation(operation_id)
        assert op is not None and op.outcome == OperationOutcome.RUNNING
        try:
            result = await workflow.execute_activity(
                RUN_JOB_OPERATION,
                rules.activity_request(self._state, op),
                result_type=JobOperationResult,
                start_to_close_timeout=BACKGROUND_DEADLINE,
                schedule_to_close_timeout=BACKGROUND_DEADLINE,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=JOB_OPERATION,
                summary=f"{op.kind} {self._input.external_job_posting_id}",
            )
        except ActivityError as error:
            self._evolve(
                rules.OperationUnanswered(operation_id, failure_message(error), workflow.now())
            )
            return
        self._evolve(rules.OperationAnswered(operation_id, result, workflow.now()))
        workflow.logger.info(
            "job %s %s: %s", self._input.external_job_posting_id, op.kind, op.outcome
        )

    async def _read_status(self) -> None:
        """Read jobPostingStatus; a read that keeps failing waits for the next check."""
        request = ReadJobStatus(
            customer_id=self._input.customer_id,
            external_job_posting_id=self._input.external_job_posting_id,
        )
        try:
            read = await workflow.execute_activity(
                READ_JOB_STATUS,
                request,
                result_type=JobStatusRead,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=STATUS_READ_DEADLINE,
                retry_policy=LINKEDIN_CALL,
                summary=f"status {self._input.external_job_posting_id}",
            )
        except ActivityError as error:
            read = JobStatusRead(error=failure_message(error))
        self._evolve(rules.StatusRead(read, workflow.now()))

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.max_history_length
        )

    def _evolve(self, event: rules.Event) -> None:
        before, was_expired = outcomes(self._state), self._state.expired
        seen_at_linkedin = linkedin_view(self._state)
        rules.evolve(self._state, event)
        if self._input.webhooks:
            events = job_events(before, was_expired, self._state, workflow.now())
            if isinstance(event, rules.StatusRead):  # LinkedIn changed it on its side
                changed = linkedin_changed_event(seen_at_linkedin, self._state, workflow.now())
                events += [changed] if changed else []
                offsite = offsite_event(seen_at_linkedin, self._state, workflow.now())
                if offsite is not None and workflow.patched(OFFSITE_WATCHED):
                    events.append(offsite)
            self._outbox.add(events)
        self._events += 1
        self._publish()

    # -- updates --------------------------------------------------------------------------

    @workflow.update(name=JobUpdate.CREATE)
    async def create(self, request: CreateJob) -> Operation:
        """Post the job. The same create again answers the first one's operation."""
        return await self._operation(
            OperationKind.CREATE, OperationParams(job=request.job), request
        )

    @create.validator
    def _validate_create(self, request: CreateJob) -> None:
        self._check(OperationKind.CREATE, OperationParams(job=request.job))

    @workflow.update(name=JobUpdate.PUT)
    async def put(self, request: UpdateJob) -> Operation:
        """The whole job: CREATE until LinkedIn has it, UPDATE after; the same job is a no-op."""
        kind = rules.put_kind(self._state)
        return await self._operation(kind, OperationParams(job=request.job), request)

    @put.validator
    def _validate_put(self, request: UpdateJob) -> None:
        self._check(rules.put_kind(self._state), OperationParams(job=request.job))

    @workflow.update(name=JobUpdate.UPDATE)
    async def update(self, request: UpdateJob) -> Operation:
        """Change the job's content; its listing type stays."""
        return await self._operation(
            OperationKind.UPDATE, OperationParams(job=request.job), request
        )

    @update.validator
    def _validate_update(self, request: UpdateJob) -> None:
        self._check(OperationKind.UPDATE, OperationParams(job=request.job))

    @workflow.update(name=JobUpdate.UPGRADE)
    async def upgrade(self, request: UpgradeJob) -> Operation:
        """BASIC → PREMIUM (P4P with a budget): LinkedIn keeps the jobId and URL."""
        return await self._operation(OperationKind.UPGRADE, _upgrade(request), request)

    @upgrade.validator
    def _validate_upgrade(self, request: UpgradeJob) -> None:
        self._check(OperationKind.UPGRADE, _upgrade(request))

    @workflow.update(name=JobUpdate.DOWNGRADE)
    async def downgrade(self, request: DowngradeJob) -> Operation:
        """PREMIUM → BASIC: LinkedIn issues a new jobId and URL, read back afterwards."""
        params = OperationParams(contract=request.contract)
        return await self._operation(OperationKind.DOWNGRADE, params, request)

    @downgrade.validator
    def _validate_downgrade(self, request: DowngradeJob) -> None:
        self._check(OperationKind.DOWNGRADE, OperationParams(contract=request.contract))

    @workflow.update(name=JobUpdate.RENEW)
    async def renew(self, request: RenewJob) -> Operation:
        """RENEW: a P4P job takes the new budget and runs 30 days from now."""
        params = OperationParams(budget=request.budget)
        return await self._operation(OperationKind.RENEW, params, request)

    @renew.validator
    def _validate_renew(self, request: RenewJob) -> None:
        self._check(OperationKind.RENEW, OperationParams(budget=request.budget))

    @workflow.update(name=JobUpdate.CLOSE)
    async def close(self, request: CloseJob) -> Operation:
        """CLOSE; the workflow completes once LinkedIn closed the job. A second close
        answers the first."""
        return await self._operation(OperationKind.CLOSE, OperationParams(), request)

    @close.validator
    def _validate_close(self, request: CloseJob) -> None:
        self._check(OperationKind.CLOSE, OperationParams())

    @workflow.update(name=JobUpdate.DISCARD)
    async def discard(self, request: CloseJob) -> Operation:
        """Give up a job LinkedIn never listed (its CREATE failed or is parked)."""
        return await self._operation(OperationKind.DISCARD, OperationParams(), request)

    @discard.validator
    def _validate_discard(self, request: CloseJob) -> None:
        self._check(OperationKind.DISCARD, OperationParams())

    @workflow.update(name=JobUpdate.AWAIT)
    async def await_operation(self, request: AwaitOperation) -> Operation:
        """The operation once finished or parked, or as it stands after `wait_seconds`."""
        return await self._answer(request.operation_id, wait=True, seconds=request.wait_seconds)

    @await_operation.validator
    def _validate_await(self, request: AwaitOperation) -> None:
        if self._state.operation(request.operation_id) is None:
            raise _refused(
                rules.OperationRefused(
                    f"operation_id: no recent operation {request.operation_id!r} on this job"
                )
            )

    def _check(self, kind: OperationKind, params: OperationParams) -> None:
        try:
            rules.check_request(self._state, kind, params, self._request_id(), workflow.now())
        except rules.OperationRefused as refusal:
            raise _refused(refusal) from None

    async def _operation(
        self, kind: OperationKind, params: OperationParams, request: JobRequest
    ) -> Operation:
        request_id = self._request_id()
        try:
            known = rules.check_request(self._state, kind, params, request_id, workflow.now())
        except rules.OperationRefused as refusal:
            raise _refused(refusal) from None
        if known is None:
            self._evolve(rules.OperationRequested(request_id, kind, params, workflow.now()))
        operation_id = known.id if known is not None else request_id
        return await self._answer(operation_id, request.wait, request.wait_seconds)

    async def _answer(self, operation_id: str, wait: bool, seconds: int | None) -> Operation:
        """The operation once answered (see `rules.is_answered`). The caller times its own
        wait (`seconds` None) and sends `stop_waiting` when it gives up, or the workflow
        times it, for callers that cannot."""
        last = self._state.operation(operation_id)

        def answered() -> bool:
            nonlocal last
            last = self._state.operation(operation_id) or last
            return rules.is_answered(last, wait)

        if seconds is not None:
            with suppress(TimeoutError):  # then answer the operation as it stands
                await workflow.wait_condition(answered, timeout=timedelta(seconds=seconds))
        elif not answered():
            update_id = self._request_id()
            self._waiting.add(update_id)
            try:
                await workflow.wait_condition(
                    lambda: (
                        answered()
                        or update_id in self._stopped
                        or (last is not None and rules.waits_for_an_operator(self._state, last))
                    )
                )
            finally:
                self._waiting.discard(update_id)
                self._stopped.discard(update_id)
        assert last is not None
        return last.model_copy(update={"params": None, "posting": None})

    @staticmethod
    def _request_id() -> str:
        """The update's id: an API client's Idempotency-Key, or Temporal's own."""
        return workflow.current_update_info().id  # type: ignore[union-attr]

    # -- signals and query ----------------------------------------------------------------

    @workflow.signal(name=JobSignal.INTEGRATION_ENABLED)
    def integration_enabled(self, contract: str) -> None:
        """The customer's integration for this contract is ENABLED again: resume."""
        self._evolve(rules.AccessGranted(contract, workflow.now()))

    @workflow.signal(name=JobSignal.RETRY)
    def retry(self, request: OperatorRequest | None = None) -> None:
        """An operator asks to try a parked operation (every one when none is named) again."""
        operation_id = request.operation_id if request else None
        self._evolve(rules.OperatorRetried(operation_id, workflow.now()))

    @workflow.signal(name=JobSignal.CANCEL)
    def cancel(self, request: OperatorRequest | None = None) -> None:
        """An operator gives up a parked or queued operation (every parked one by default)."""
        operation_id = request.operation_id if request else None
        self._evolve(rules.OperatorCancelled(operation_id, workflow.now()))

    @workflow.signal(name=JobSignal.WAKE)
    def wake(self) -> None:
        """The sweep saw JobWakeAt pass: auto-renew or expire, whichever is due."""
        self._wake()

    @workflow.signal(name=JobSignal.STOP_WAITING)
    def stop_waiting(self, request: StopWaiting) -> None:
        """A caller gave up waiting for update `update_id`: answer it as its operation stands."""
        if request.update_id in self._waiting:
            self._stopped.add(request.update_id)

    @workflow.signal(name=JobSignal.CHECK_STATUS)
    def check_status(self) -> None:
        """Read LinkedIn's status of the job once no operation runs (the sweep, or LinkedIn
        said it changed the job)."""
        self._evolve(rules.StatusCheckRequested(workflow.now()))

    @workflow.signal(name=JobSignal.RESYNC)
    def resync(self, request: ResyncJob) -> None:
        """LinkedIn asked for the job again: resend it as UPDATE, once per request."""
        own_resend = workflow.patched(RESYNC_OWN_RESEND)
        self._evolve(rules.ResyncAsked(request.request_id, workflow.now(), own_resend))

    @workflow.query(name=STATE_QUERY)
    def state(self) -> JobState:
        return self._state

    # -- what operators see ---------------------------------------------------------------

    def _publish(self) -> None:
        state = self._state
        listing = str(state.listing_type or ListingType.BASIC)
        woken_by_sweep = workflow.patched(WOKEN_BY_SWEEP)
        wake_at = rules.next_timer(state) if woken_by_sweep else None
        published = (str(state.status), listing, wake_at)
        if published != self._published:
            pairs: list[SearchAttributeUpdate[Any]] = [
                JOB_STATUS.value_set(str(state.status)),
                JOB_LISTING_TYPE.value_set(listing),
            ]
            if woken_by_sweep:
                pairs.append(
                    JOB_WAKE_AT.value_set(wake_at) if wake_at else JOB_WAKE_AT.value_unset()
                )
            workflow.upsert_search_attributes(pairs)
            self._published = published
        workflow.set_current_details(rules.summary(state))


def _upgrade(request: UpgradeJob) -> OperationParams:
    return OperationParams(
        contract=request.contract, budget=request.budget, expire_at=request.expire_at
    )


def _refused(refusal: rules.OperationRefused) -> ApplicationError:
    return ApplicationError(str(refusal), type=str(refusal.reason), non_retryable=True)
