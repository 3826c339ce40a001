"""JobPostingWorkflow: one job at LinkedIn, from CREATE to CLOSE or expiry.

Operations arrive as Temporal updates, are validated before they enter history, and are
processed one at a time in arrival order: submit to simpleJobPostings, wait for the
task, read jobPostingStatus, record the new state. An upgrade keeps LinkedIn's jobId and
URL; a downgrade gets new ones, which are read back and recorded beside the old.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import FailureType
    from domain.jobs import JobPosting, ListingType, OperationType
    from domain.postings import (
        AWAIT_TASK,
        DUPLICATE_CREATE_FRAGMENT,
        FETCH_JOB_STATUS,
        JOB_WORKFLOW_TYPE,
        SUBMIT_JOB,
        AwaitOperation,
        AwaitTaskRequest,
        CloseJob,
        CreateJob,
        DowngradeJob,
        FetchedJobStatus,
        FetchJobStatusRequest,
        FinishedTask,
        JobInput,
        JobState,
        JobStatus,
        Operation,
        OperationKind,
        OperationOutcome,
        RenewJob,
        ReplacedListing,
        SubmitJobRequest,
        SubmittedJob,
        UpdateJob,
        UpgradeJob,
    )
    from domain.validation import ValidationError, first_problem
    from workflows.failures import failure_message, failure_type
    from workflows.policies import (
        BACKGROUND_DEADLINE,
        LINKEDIN_CALL,
        LINKEDIN_CALL_TIMEOUT,
        TASK_LIFETIME,
        TASK_POLL,
    )
    from workflows.search_attributes import (
        CUSTOMER_ID,
        EXTERNAL_JOB_POSTING_ID,
        JOB_LISTING_TYPE,
        JOB_STATUS,
    )

_PARKED = OperationOutcome.NEEDS_ATTENTION


class _OperationFailed(Exception):
    """The operation ended without success; its record already says why."""


@workflow.defn(name=JOB_WORKFLOW_TYPE)
class JobPostingWorkflow:
    @workflow.init
    def __init__(self, input: JobInput) -> None:
        self._input = input
        self._state = input.state or JobState(
            customer_id=input.customer_id,
            external_job_posting_id=input.external_job_posting_id,
            auto_renew=input.auto_renew,
        )
        self._published: tuple[str, str] | None = None
        self._expired = self._state.status == JobStatus.EXPIRED

    # -- run loop -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: JobInput) -> JobState:
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(input.customer_id),
                EXTERNAL_JOB_POSTING_ID.value_set(input.external_job_posting_id),
            ]
        )
        self._publish()
        while self._state.status != JobStatus.CLOSED:
            operation = self._next_operation()
            if operation is not None:
                await self._process(operation)
                self._publish()
                continue
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._input.model_copy(update={"state": self._state}))
            try:
                await workflow.wait_condition(
                    lambda: self._next_operation() is not None or self._should_continue_as_new(),
                    timeout=self._until_next_timer(),
                )
            except TimeoutError:
                self._on_timer()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _next_operation(self) -> Operation | None:
        """The oldest unfinished operation, unless it is parked waiting for LinkedIn access."""
        pending = [op for op in self._state.operations if not op.outcome.is_final]
        if not pending or pending[0].outcome == _PARKED:
            return None
        return pending[0]

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.max_history_length
        )

    def _renew_at(self) -> datetime | None:
        state, policy = self._state, self._state.auto_renew
        if policy is None or state.expire_at is None or state.budget is None:
            return None
        if state.renewals >= policy.max_renewals:
            return None
        return state.expire_at - timedelta(days=policy.days_before)

    def _until_next_timer(self) -> timedelta | None:
        if self._state.expire_at is None or self._expired:
            return None
        due = min(t for t in (self._renew_at(), self._state.expire_at) if t is not None)
        return max(due - workflow.now(), timedelta(seconds=1))

    def _on_timer(self) -> None:
        now = workflow.now()
        renew_at = self._renew_at()
        expire_at = self._state.expire_at
        if renew_at is not None and now >= renew_at and (expire_at is None or now < expire_at):
            assert self._state.auto_renew is not None
            self._state.renewals += 1
            budget = self._state.auto_renew.budget or self._state.budget
            posting = self._build(OperationKind.RENEW, RenewJob(budget=budget))
            self._enqueue(OperationKind.RENEW, posting, note="auto-renew before expiry")
        elif expire_at is not None and now >= expire_at:
            self._expired = True
            self._state.listing_status = "NOT_LISTED"
        self._publish()

    # -- updates --------------------------------------------------------------------------

    @workflow.update
    async def create(self, request: CreateJob) -> Operation:
        """Post the job. The same create again answers the first one's operation."""
        existing = self._same_create(request.job)
        operation = existing or self._enqueue(OperationKind.CREATE, self._build_create(request))
        return await self._answer(operation, request.wait)

    @create.validator
    def _validate_create(self, request: CreateJob) -> None:
        self._build_create(request)
        if self._same_create(request.job) is None and self._state.has(OperationKind.CREATE):
            raise ApplicationError(
                "the job already exists at LinkedIn: send update, upgrade, downgrade, renew "
                "or close",
                type="InvalidOperation",
                non_retryable=True,
            )

    @workflow.update
    async def update(self, request: UpdateJob) -> Operation:
        """Change the job's content; its listing type stays."""
        posting = self._build(OperationKind.UPDATE, request)
        return await self._answer(self._enqueue(OperationKind.UPDATE, posting), request.wait)

    @update.validator
    def _validate_update(self, request: UpdateJob) -> None:
        self._build(OperationKind.UPDATE, request)

    @workflow.update
    async def upgrade(self, request: UpgradeJob) -> Operation:
        """BASIC → PREMIUM (P4P with a budget): LinkedIn keeps the jobId and URL."""
        posting = self._build(OperationKind.UPGRADE, request)
        return await self._answer(self._enqueue(OperationKind.UPGRADE, posting), request.wait)

    @upgrade.validator
    def _validate_upgrade(self, request: UpgradeJob) -> None:
        self._build(OperationKind.UPGRADE, request)

    @workflow.update
    async def downgrade(self, request: DowngradeJob) -> Operation:
        """PREMIUM → BASIC: LinkedIn issues a new jobId and URL, read back afterwards."""
        posting = self._build(OperationKind.DOWNGRADE, request)
        return await self._answer(self._enqueue(OperationKind.DOWNGRADE, posting), request.wait)

    @downgrade.validator
    def _validate_downgrade(self, request: DowngradeJob) -> None:
        self._build(OperationKind.DOWNGRADE, request)

    @workflow.update
    async def renew(self, request: RenewJob) -> Operation:
        """RENEW: a P4P job takes the new budget and runs 30 days from now."""
        posting = self._build(OperationKind.RENEW, request)
        return await self._answer(self._enqueue(OperationKind.RENEW, posting), request.wait)

    @renew.validator
    def _validate_renew(self, request: RenewJob) -> None:
        self._build(OperationKind.RENEW, request)

    @workflow.update
    async def close(self, request: CloseJob) -> Operation:
        """CLOSE; the workflow completes once LinkedIn closed the job."""
        posting = self._build(OperationKind.CLOSE, request)
        return await self._answer(self._enqueue(OperationKind.CLOSE, posting), request.wait)

    @close.validator
    def _validate_close(self, request: CloseJob) -> None:
        self._build(OperationKind.CLOSE, request)

    @workflow.update
    async def await_operation(self, request: AwaitOperation) -> Operation:
        """Wait until an operation is finished (or parked) and answer it."""
        return await self._answer(self._operation(request.operation_id), wait=True)

    @await_operation.validator
    def _validate_await(self, request: AwaitOperation) -> None:
        self._operation(request.operation_id)

    # -- signals and query ----------------------------------------------------------------

    @workflow.signal
    def integration_enabled(self, contract: str) -> None:
        """The customer's integration for this contract is ENABLED again: resume."""
        self._release(lambda op: op.posting.contract == contract, f"{contract} enabled again")

    @workflow.signal
    def retry(self) -> None:
        """An operator asks to try parked operations again."""
        self._release(lambda op: True, "an operator asked to retry")

    @workflow.query
    def state(self) -> JobState:
        return self._state

    def _release(self, which: Any, note: str) -> None:
        for op in self._state.operations:
            if op.outcome == _PARKED and which(op):
                op.outcome = OperationOutcome.QUEUED
                op.note = note
        self._publish()

    # -- building operations --------------------------------------------------------------

    def _build_create(self, request: CreateJob) -> JobPosting:
        job = request.job
        if job.external_job_posting_id != self._input.external_job_posting_id:
            raise _invalid(
                f"externalJobPostingId: must be {self._input.external_job_posting_id!r}, "
                f"the job this workflow manages, got {job.external_job_posting_id!r}"
            )
        return self._validated(job.to_wire())

    def _build(self, kind: OperationKind, request: Any) -> JobPosting:
        """The posting LinkedIn needs for an operation on the current job, checked now."""
        state = self._state
        current = state.posting
        if not self._state.has(OperationKind.CREATE) or current is None:
            raise _invalid(f"{kind}: the job has not been created yet")
        if self._state.has(OperationKind.CLOSE):
            raise _invalid(f"{kind}: the job is closed or being closed")
        listing = current.effective_listing_type
        base = current.to_wire()
        if kind == OperationKind.CLOSE:
            return self._validated(
                {
                    "externalJobPostingId": current.external_job_posting_id,
                    "jobPostingOperationType": OperationType.CLOSE,
                }
            )
        if kind == OperationKind.UPDATE:
            job = request.job
            if job.external_job_posting_id != current.external_job_posting_id:
                raise _invalid("job.externalJobPostingId: must not change")
            if job.effective_listing_type != listing:
                raise _invalid(
                    f"job.listingType: is {listing}; use upgrade or downgrade to change it"
                )
            return self._validated({**job.to_wire(), "jobPostingOperationType": "UPDATE"})
        if kind == OperationKind.UPGRADE:
            if listing != ListingType.BASIC:
                raise _invalid(f"upgrade: the job is {listing} already")
            fields = {
                **base,
                "jobPostingOperationType": "UPDATE",
                "listingType": "PREMIUM",
                "contract": request.contract,
            }
            if request.budget is not None:
                fields["budget"] = request.budget.to_wire()
            if request.expire_at is not None:
                fields["expireAt"] = request.expire_at
            return self._validated(fields)
        if kind == OperationKind.DOWNGRADE:
            if listing != ListingType.PREMIUM:
                raise _invalid(f"downgrade: the job is {listing} already")
            contract = request.contract or current.contract
            if contract is None:
                raise _invalid("contract: required to downgrade (seed 003)")
            fields = {
                **base,
                "jobPostingOperationType": "UPDATE",
                "listingType": "BASIC",
                "contract": contract,
            }
            fields.pop("budget", None)
            fields.pop("expireAt", None)
            return self._validated(fields)
        if kind == OperationKind.RENEW:
            fields = {**base, "jobPostingOperationType": "RENEW"}
            fields.pop("expireAt", None)
            if request.budget is not None:
                if current.budget is None:
                    raise _invalid("budget: only P4P jobs (those with a budget) take one on RENEW")
                fields["budget"] = request.budget.to_wire()
            return self._validated(fields)
        raise _invalid(f"unknown operation {kind}")

    def _validated(self, fields: dict[str, Any]) -> JobPosting:
        try:
            return JobPosting.model_validate(
                fields, context={"now_ms": int(workflow.now().timestamp() * 1000)}
            )
        except ValidationError as error:
            raise _invalid(first_problem(error)) from None

    def _same_create(self, job: JobPosting) -> Operation | None:
        return next(
            (
                op
                for op in self._state.operations
                if op.kind == OperationKind.CREATE
                and op.outcome != OperationOutcome.FAILED
                and op.posting.to_wire() == job.to_wire()
            ),
            None,
        )

    def _enqueue(
        self, kind: OperationKind, posting: JobPosting, note: str | None = None
    ) -> Operation:
        if kind == OperationKind.CREATE and self._state.posting is None:
            self._state.posting = posting  # later operations build on it while it is queued
        if kind == OperationKind.CLOSE:  # no point waiting to promote a job being closed
            for parked in self._state.operations:
                if parked.outcome == _PARKED:
                    self._finish(
                        parked, OperationOutcome.FAILED, "abandoned: the job is being closed"
                    )
        operation = Operation(
            id=str(workflow.uuid4()),
            kind=kind,
            requested_at=workflow.now(),
            posting=posting,
            note=note,
        )
        self._state.operations.append(operation)
        self._publish()
        return operation

    def _operation(self, operation_id: str) -> Operation:
        for op in self._state.operations:
            if op.id == operation_id:
                return op
        raise _invalid(f"operation_id: no operation {operation_id!r} on this job")

    async def _answer(self, operation: Operation, wait: bool) -> Operation:
        """Answer once LinkedIn accepted it (task id), or once it is finished when waiting."""
        if wait:
            await workflow.wait_condition(
                lambda: operation.outcome.is_final or operation.outcome == _PARKED
            )
        else:
            await workflow.wait_condition(
                lambda: (
                    operation.task_id is not None
                    or operation.outcome.is_final
                    or operation.outcome == _PARKED
                )
            )
        return operation

    # -- processing -----------------------------------------------------------------------

    async def _process(self, op: Operation) -> None:
        op.job_id_before = self._state.job_id
        try:
            await self._submit(op)
            task = await self._await_task(op)
            if task.task.status == "FAILED":
                await self._reconcile_failed_task(op, task.task.error_message or "task FAILED")
            else:
                await self._read_back(op)
                self._finish(op, OperationOutcome.SUCCEEDED)
        except _OperationFailed:
            return

    async def _submit(self, op: Operation) -> None:
        try:
            submitted: SubmittedJob = await workflow.execute_activity(
                SUBMIT_JOB,
                SubmitJobRequest(customer_id=self._input.customer_id, posting=op.posting),
                result_type=SubmittedJob,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=BACKGROUND_DEADLINE,
                retry_policy=LINKEDIN_CALL,
            )
        except ActivityError as error:
            failure, message = failure_type(error), failure_message(error)
            if failure == FailureType.FORBIDDEN and op.posting.contract is not None:
                op.outcome = _PARKED
                op.error = message
                self._state.last_error = message
                self._publish()
                raise _OperationFailed from None
            if failure == FailureType.CONFLICT and op.kind == OperationKind.CLOSE:
                await self._reconcile_close(op, message)
                raise _OperationFailed from None
            self._fail(op, message)
        op.task_id = submitted.task_id
        op.outcome = OperationOutcome.SUBMITTED
        self._publish()

    async def _await_task(self, op: Operation) -> FinishedTask:
        assert op.task_id is not None
        try:
            task: FinishedTask = await workflow.execute_activity(
                AWAIT_TASK,
                AwaitTaskRequest(customer_id=self._input.customer_id, task_id=op.task_id),
                result_type=FinishedTask,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=TASK_LIFETIME,
                retry_policy=TASK_POLL,
            )
        except ActivityError as error:
            self._fail(op, f"task {op.task_id} did not finish: {failure_message(error)}")
        op.task_status = str(task.task.status)
        return task

    async def _fetch_status(self) -> FetchedJobStatus:
        try:
            result: FetchedJobStatus = await workflow.execute_activity(
                FETCH_JOB_STATUS,
                FetchJobStatusRequest(
                    customer_id=self._input.customer_id,
                    external_job_posting_id=self._input.external_job_posting_id,
                ),
                result_type=FetchedJobStatus,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=BACKGROUND_DEADLINE,
                retry_policy=LINKEDIN_CALL,
            )
        except ActivityError as error:
            raise ApplicationError(f"jobPostingStatus: {failure_message(error)}") from None
        return result

    async def _reconcile_failed_task(self, op: Operation, message: str) -> None:
        """A duplicate CREATE after a lost answer is a success if LinkedIn has the job."""
        if op.kind == OperationKind.CREATE and DUPLICATE_CREATE_FRAGMENT in message:
            status = (await self._fetch_status()).status
            if status is not None and status.listing_status is not None:
                op.note = (
                    "LinkedIn already had this job (an earlier attempt's answer was "
                    "lost); reconciled through jobPostingStatus"
                )
                await self._read_back(op, status)
                self._finish(op, OperationOutcome.SUCCEEDED)
                return
        self._fail(op, message)

    async def _reconcile_close(self, op: Operation, message: str) -> None:
        """CLOSE of a job LinkedIn already closed (e.g. a retry after a lost answer)."""
        status = (await self._fetch_status()).status
        if status is None or status.listing_status != "LISTED":
            op.note = f"LinkedIn had closed it already ({message})"
            self._apply(op, status)
            self._finish(op, OperationOutcome.SUCCEEDED)
        else:
            self._fail(op, message)

    async def _read_back(self, op: Operation, status: Any = None) -> None:
        status = status or (await self._fetch_status()).status
        self._apply(op, status)

    def _apply(self, op: Operation, status: Any) -> None:
        """Record LinkedIn's view after a successful operation."""
        state = self._state
        before_id, before_url = state.job_id, state.job_posting_url
        if op.kind != OperationKind.CLOSE:
            state.posting = op.posting
            state.listing_type = op.posting.effective_listing_type
            state.contract = op.posting.contract
            state.budget = op.posting.budget
        if status is not None:
            state.job_id = status.job_id or state.job_id
            state.job_posting_url = status.job_posting_url or state.job_posting_url
            state.listing_status = status.listing_status
            state.promotion_status = status.promotion_status
            state.linked_in_apply_status = status.linked_in_apply_status
            info = status.job_posting_info
            if info is not None and info.expire_at is not None:
                state.expire_at = _from_ms(info.expire_at)
            if info is not None and info.listed_at is not None:
                state.listed_at = _from_ms(info.listed_at)
        if op.kind in (OperationKind.UPGRADE, OperationKind.RENEW, OperationKind.CREATE):
            self._expired = False
        if (
            op.kind == OperationKind.UPGRADE
            and before_id is not None
            and ((state.job_id, state.job_posting_url) != (before_id, before_url))
        ):
            state.discrepancies.append(
                f"upgrade changed the listing: jobId {before_id} → {state.job_id}, "
                f"URL {before_url} → {state.job_posting_url} (LinkedIn should keep both)"
            )
        if op.kind == OperationKind.DOWNGRADE:
            state.replaced_listings.append(
                ReplacedListing(
                    job_id=before_id, job_posting_url=before_url, replaced_at=workflow.now()
                )
            )
            if state.job_id == before_id:
                state.discrepancies.append(
                    f"downgrade kept jobId {before_id}; LinkedIn should have issued a new one"
                )
        if op.kind == OperationKind.CLOSE:
            state.listing_status = "NOT_LISTED"
        op.job_id_after = state.job_id
        op.job_posting_url_after = state.job_posting_url

    def _finish(self, op: Operation, outcome: OperationOutcome, error: str | None = None) -> None:
        op.outcome = outcome
        op.finished_at = workflow.now()
        if error is not None:
            op.error = error
        self._state.last_error = error if outcome == OperationOutcome.FAILED else None
        workflow.logger.info("job %s %s: %s", self._input.external_job_posting_id, op.kind, outcome)

    def _fail(self, op: Operation, message: str) -> NoReturn:
        self._finish(op, OperationOutcome.FAILED, message)
        self._publish()
        raise _OperationFailed

    # -- status ---------------------------------------------------------------------------

    def _status(self) -> JobStatus:
        state = self._state
        operations = state.operations
        if any(
            op.kind == OperationKind.CLOSE and op.outcome == OperationOutcome.SUCCEEDED
            for op in operations
        ):
            return JobStatus.CLOSED
        if any(op.outcome == _PARKED for op in operations):
            return JobStatus.NEEDS_ATTENTION
        created = any(
            op.kind == OperationKind.CREATE and op.outcome == OperationOutcome.SUCCEEDED
            for op in operations
        )
        if not created:
            creates = [op for op in operations if op.kind == OperationKind.CREATE]
            failed = bool(creates) and creates[-1].outcome == OperationOutcome.FAILED
            return JobStatus.FAILED if failed else JobStatus.PENDING
        if self._expired:
            return JobStatus.EXPIRED
        return JobStatus.LISTED if state.listing_status == "LISTED" else JobStatus.PENDING

    def _publish(self) -> None:
        state = self._state
        state.status = self._status()
        state.waiting_for = self._waiting_for()
        listing = str(state.listing_type or ListingType.BASIC)
        if (str(state.status), listing) != self._published:
            workflow.upsert_search_attributes(
                [JOB_STATUS.value_set(str(state.status)), JOB_LISTING_TYPE.value_set(listing)]
            )
            self._published = (str(state.status), listing)
        workflow.set_current_details(f"{state.status}: {state.waiting_for}")

    def _waiting_for(self) -> str:
        state = self._state
        pending = [op for op in state.operations if not op.outcome.is_final]
        if pending:
            op = pending[0]
            if op.outcome == _PARKED:
                return (
                    f"the contract's integration to be enabled ({op.kind} parked: "
                    f"{op.error}); signal retry to try again"
                )
            if op.task_id:
                return f"LinkedIn to finish {op.kind} task {op.task_id}"
            return f"LinkedIn to accept {op.kind}"
        if state.status == JobStatus.CLOSED:
            return "nothing: the job is closed"
        if state.status == JobStatus.FAILED:
            return f"a corrected create (LinkedIn said: {state.last_error})"
        if state.status == JobStatus.EXPIRED:
            return "a renew or close (the job expired)"
        if state.expire_at is not None:
            renew_at = self._renew_at()
            if renew_at is not None:
                return f"auto-renew at {renew_at:%Y-%m-%d %H:%M} UTC"
            return f"the next operation, or expiry at {state.expire_at:%Y-%m-%d %H:%M} UTC"
        return "the next operation"


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidOperation", non_retryable=True)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
