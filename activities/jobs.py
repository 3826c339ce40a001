"""Activities of the job workflow: run one operation at LinkedIn exactly once; notify jobs.

`run_job_operation` is one activity per operation: submit the element, wait for its task
with heartbeats, read the job back. LinkedIn has no idempotency keys, so a run that may
follow an earlier one that reached LinkedIn (a lost answer, a worker killed mid-call)
first follows the task ids it knows and reads jobPostingStatus, and sends again only when
LinkedIn's state shows the operation was not applied (`domain.job_lifecycle.already_applied`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.batching import LinkedInBatcher
from activities.credentials import CredentialStore, customer_credentials
from activities.errors import application_error
from activities.logs import activity_log
from domain.errors import FailureType
from domain.job_lifecycle import already_applied
from domain.job_postings import JobPostingStatus, ListingStatus, TaskState, TaskStatus
from domain.job_workflow import (
    ALREADY_CLOSED_FRAGMENT,
    CHECK_JOB_STATUSES,
    DUPLICATE_CREATE_FRAGMENT,
    JOB_WORKFLOW_TYPE,
    NOTIFY_JOBS,
    READ_JOB_STATUS,
    RUN_JOB_OPERATION,
    WAKE_AT_ATTRIBUTE,
    WAKE_DUE_JOBS,
    CheckJobStatuses,
    JobOperationResult,
    JobSignal,
    JobStatus,
    JobStatusRead,
    NotifyJobsRequest,
    OperationKind,
    ReadJobStatus,
    RunJobOperation,
    WakeDueJobs,
)
from domain.provisioning import AppCredentials
from domain.visibility import Listing, where
from linkedin.client import BatchResult
from linkedin.errors import LinkedInError, LinkedInForbiddenError, TransientLinkedInError

log = structlog.get_logger("jobs")

T = TypeVar("T")

FORBIDDEN_READ_ATTEMPTS = 4
"""A read LinkedIn refuses with 403 is tried this often before the refusal is believed:
LinkedIn answers 403 for moments (a token or contract still propagating), and one such
answer must not leave an operation LinkedIn has done looking undone."""

LIVE_JOBS = "JobStatus NOT IN ('FAILED', 'CLOSED', 'DISCARDED')"

RECONCILE_LONGEST_GAP = 60.0
"""The longest gap between two reads of a job whose submit may have reached LinkedIn."""


def reconcile_gaps(poll_seconds: float, settle_seconds: float) -> list[float]:
    """The gaps between the reads that look for a lost submit's effect: doubling from the
    poll interval up to a minute, the last one ending at the settle time. Most tasks finish
    within seconds, so the first reads come soon; a slow one costs a read a minute."""
    gaps: list[float] = []
    gap, total = poll_seconds, 0.0
    while poll_seconds > 0 and total + gap <= settle_seconds:
        gaps.append(gap)
        total += gap
        gap = min(gap * 2, RECONCILE_LONGEST_GAP)
    if settle_seconds - total > 0 and gaps:
        gaps.append(settle_seconds - total)
    return gaps


"""Jobs LinkedIn may hold: the status-check sweep reads these."""


@dataclass(frozen=True)
class JobTiming:
    """How often and how long run_job_operation waits; shorter in tests."""

    task_poll_seconds: float = 3.0
    """Between two reads of a task still IN_PROGRESS."""
    settle_seconds: float = 300.0
    """After an answer was lost, how long LinkedIn may take to show the operation's effect
    (most tasks finish within 5 minutes) before it is sent again."""
    credentials_wait_seconds: float = 600.0
    """How long a job sent while its customer is being provisioned waits for credentials."""


@dataclass
class _Progress:
    """What this operation's runs have done, kept in heartbeat details across attempts."""

    task_ids: list[str]
    uncertain: bool = False
    """A submit may have reached LinkedIn without its answer reaching us."""

    def beat(self) -> None:
        activity.heartbeat({"task_ids": self.task_ids})

    async def during(self, call: Awaitable[T]) -> T:
        """Await a LinkedIn call, beating meanwhile: a slow answer is not a dead worker."""

        async def keep_beating() -> None:
            while True:
                await asyncio.sleep(5.0)
                self.beat()

        beating = asyncio.create_task(keep_beating())
        try:
            return await call
        finally:
            beating.cancel()


class _Outcome(Exception):
    """Ends the run with LinkedIn's outcome (a refusal, our configuration)."""

    def __init__(self, result: JobOperationResult) -> None:
        super().__init__(result.message)
        self.result = result


class JobActivities:
    """Holds the worker's LinkedIn batcher, the credential store and a Temporal client."""

    def __init__(
        self,
        linkedin: LinkedInBatcher,
        store: CredentialStore,
        temporal: Client,
        timing: JobTiming | None = None,
    ) -> None:
        self._linkedin = linkedin
        self._store = store
        self._temporal = temporal
        self._timing = timing or JobTiming()

    @activity.defn(name=RUN_JOB_OPERATION)
    async def run_job_operation(self, request: RunJobOperation) -> JobOperationResult:
        """Submit, await the task, read back; LinkedIn's every outcome is returned, typed.

        Transient faults are retried here, where it is known whether a submit may have
        reached LinkedIn; a new attempt (after a worker crash) resumes from the heartbeat
        and treats an unrecorded submit as possibly received.
        """
        progress = _resume(request)
        try:
            creds = await self._credentials(request.customer_id, progress)
            return await self._run(creds, request, progress)
        except _Outcome as outcome:
            return outcome.result.model_copy(
                update={
                    "task_ids": progress.task_ids,
                    "uncertain": progress.uncertain or bool(progress.task_ids),
                }
            )

    async def _run(
        self, creds: AppCredentials, request: RunJobOperation, progress: _Progress
    ) -> JobOperationResult:
        log = activity_log(
            request.customer_id,
            job_id=request.posting.external_job_posting_id,
            operation=str(request.kind),
        )
        if progress.task_ids:  # an earlier run submitted: follow its task first
            task = await self._finished_task(creds, progress, progress.task_ids[-1])
            if task is not None:
                return await self._after_task(creds, request, progress, task)
            progress.uncertain = True  # LinkedIn forgot the task: its state decides
        failures = 0
        while True:
            if progress.uncertain:
                reconciled = await self._reconcile(creds, request, progress)
                if reconciled is not None:
                    log.info("job.reconciled", note=reconciled.note)
                    return reconciled
            try:
                (submission,) = await progress.during(
                    self._linkedin.submit_jobs(creds, [request.posting])
                )
            except TransientLinkedInError as error:
                # A 429 was refused before processing, a request with no connection never
                # left; anything else may have been applied.
                progress.uncertain = not (error.status == 429 or error.never_sent)
                failures += 1
                log.warning("job.submit_unanswered", error=str(error), failures=failures)
                await self._pause(progress, failures, error)
                continue
            except LinkedInError as error:
                return await self._refused(creds, request, progress, error)
            break
        if submission.error is not None:
            if isinstance(submission.error, TransientLinkedInError):
                raise application_error(submission.error)
            return await self._refused(creds, request, progress, submission.error)
        assert submission.task_id is not None
        progress.task_ids.append(submission.task_id)
        progress.uncertain = False
        progress.beat()
        log.info("job.submitted", task_id=submission.task_id)
        task = await self._finished_task(creds, progress, submission.task_id)
        if task is None:
            raise _Outcome(
                _failed(FailureType.TASK_FAILED, f"LinkedIn forgot task {submission.task_id}")
            )
        return await self._after_task(creds, request, progress, task)

    async def _credentials(self, customer_id: str, progress: _Progress) -> AppCredentials:
        """The customer's credentials, waiting while onboarding may still be storing them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timing.credentials_wait_seconds
        while True:
            try:
                return await customer_credentials(self._store, customer_id)
            except ApplicationError as error:
                missing = error.type == FailureType.CREDENTIALS_MISSING
                if not missing or loop.time() >= deadline:
                    raise _Outcome(_failed(_failure_type(error.type), error.message)) from None
            progress.beat()
            await asyncio.sleep(self._timing.task_poll_seconds)

    async def _read(self, progress: _Progress, call: Callable[[], Awaitable[T]]) -> T:
        """A LinkedIn read, retried here on transient faults and a few 403s; a refusal
        ends the run."""
        failures = forbidden = 0
        while True:
            progress.beat()
            try:
                return await progress.during(call())
            except TransientLinkedInError as error:
                failures += 1
                await self._pause(progress, failures, error)
            except LinkedInForbiddenError as error:
                forbidden += 1
                if forbidden >= FORBIDDEN_READ_ATTEMPTS:
                    raise _Outcome(_failed(error.failure_type, str(error))) from None
                await self._pause(progress, forbidden, TransientLinkedInError(error.message))
            except LinkedInError as error:
                raise _Outcome(_failed(error.failure_type, str(error))) from None

    async def _pause(
        self, progress: _Progress, failures: int, error: TransientLinkedInError
    ) -> None:
        """Exponential backoff (LinkedIn's Retry-After when it gives one), heartbeating."""
        delay = error.retry_after
        if delay is None:
            delay = min(self._timing.task_poll_seconds * 2 ** min(failures, 10), 60.0)
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        while (left := until - loop.time()) > 0:
            progress.beat()
            await asyncio.sleep(min(left, 5.0))

    async def _finished_task(
        self, creds: AppCredentials, progress: _Progress, task_id: str
    ) -> TaskStatus | None:
        """The task once final (None when LinkedIn no longer knows it), polled meanwhile."""
        while True:
            answer = await self._read(progress, lambda: self._linkedin.get_tasks(creds, [task_id]))
            if task_id in answer.errors:
                return None
            task = answer.results.get(task_id)
            if task is not None and task.status.is_final:
                _record_wait()
                return task
            await asyncio.sleep(self._timing.task_poll_seconds)

    async def _after_task(
        self,
        creds: AppCredentials,
        request: RunJobOperation,
        progress: _Progress,
        task: TaskStatus,
    ) -> JobOperationResult:
        if task.status != TaskState.FAILED:
            try:
                status, unread = await self._status(creds, request, progress), None
            except _Outcome as refused:  # LinkedIn did it: the job reads its status later
                status, unread = None, refused.result.message
            return JobOperationResult(
                succeeded=True,
                task_ids=progress.task_ids,
                task_status=str(task.status),
                status=status,
                status_unread=unread,
            )
        message = task.error_message or f"task {task.id} FAILED"
        if _is_repeat(request.kind, message):
            return await self._repeat(creds, request, progress, message)
        return _failed(FailureType.TASK_FAILED, message, task_status="FAILED")

    async def _refused(
        self,
        creds: AppCredentials,
        request: RunJobOperation,
        progress: _Progress,
        error: LinkedInError,
    ) -> JobOperationResult:
        if _is_repeat(request.kind, error.message):
            return await self._repeat(creds, request, progress, str(error))
        return _failed(error.failure_type, str(error))

    async def _repeat(
        self, creds: AppCredentials, request: RunJobOperation, progress: _Progress, message: str
    ) -> JobOperationResult:
        """LinkedIn says it has done this already (a CREATE or CLOSE sent again): check."""
        status = await self._status(creds, request, progress)
        closed = request.kind == OperationKind.CLOSE and (
            status is None or status.listing_status != ListingStatus.LISTED
        )
        if closed or already_applied(request.kind, request.before, status):
            return JobOperationResult(
                succeeded=True,
                task_ids=progress.task_ids,
                status=status,
                note=f"LinkedIn had done it already ({message.strip()}); "
                "reconciled through jobPostingStatus",
            )
        return _failed(FailureType.TASK_FAILED, message)

    async def _reconcile(
        self, creds: AppCredentials, request: RunJobOperation, progress: _Progress
    ) -> JobOperationResult | None:
        """After a submit that may have reached LinkedIn: its result, or None to send again.

        LinkedIn processes tasks asynchronously, so an operation sent just before may not
        show yet: its effect is looked for until the settle time has passed. An UPDATE
        shows nothing in jobPostingStatus; the same whole job is sent again.
        """
        gaps = reconcile_gaps(self._timing.task_poll_seconds, self._timing.settle_seconds)
        status = await self._status(creds, request, progress)
        while True:
            if already_applied(request.kind, request.before, status):
                return JobOperationResult(
                    succeeded=True,
                    task_ids=progress.task_ids,
                    status=status,
                    note="an earlier attempt's answer was lost; LinkedIn had applied it "
                    "(reconciled through jobPostingStatus)",
                )
            if request.kind == OperationKind.UPDATE or not gaps:
                return None
            gap = gaps.pop(0)
            # Any status call of the application in the second half of the gap reads this
            # job too: jobs reconciling together share their reads.
            status = await self._status(creds, request, progress, within=(gap / 2, gap))

    async def _status(
        self,
        creds: AppCredentials,
        request: RunJobOperation,
        progress: _Progress,
        within: tuple[float, float] | None = None,
    ) -> JobPostingStatus | None:
        """The job's jobPostingStatus: now, or `within` (earliest, latest) seconds, read by
        whichever status call of the application goes out then."""
        external_id = request.posting.external_job_posting_id

        def read() -> Awaitable[BatchResult[JobPostingStatus]]:
            if within is None:
                return self._linkedin.get_job_statuses(creds, [external_id])
            earliest, latest = within
            return self._linkedin.watch_job_statuses(
                creds, [external_id], earliest=earliest, latest=latest
            )

        answer = await self._read(progress, read)
        error = answer.errors.get(external_id)
        if error is not None and error.status != 404:
            raise _Outcome(_failed(error.failure_type, str(error)))
        return answer.results.get(external_id)

    @activity.defn(name=READ_JOB_STATUS)
    async def read_job_status(self, request: ReadJobStatus) -> JobStatusRead:
        """jobPostingStatus of one job, batched with other jobs' reads; LinkedIn's refusal
        is returned (after FORBIDDEN_READ_ATTEMPTS for a 403), a transient fault retried."""
        external_id = request.external_job_posting_id
        try:
            creds = await customer_credentials(self._store, request.customer_id)
            answer = await self._linkedin.get_job_statuses(creds, [external_id])
            error = answer.errors.get(external_id)
            if error is not None and error.status != 404:
                raise error
        except TransientLinkedInError as error:
            raise application_error(error) from None
        except LinkedInForbiddenError as error:
            if activity.info().attempt < FORBIDDEN_READ_ATTEMPTS:
                raise application_error(TransientLinkedInError(error.message)) from None
            return JobStatusRead(error=str(error))
        except LinkedInError as error:
            return JobStatusRead(error=str(error))
        except ApplicationError as error:  # no credentials: not retried, said
            return JobStatusRead(error=error.message)
        return JobStatusRead(status=answer.results.get(external_id))

    @activity.defn(name=CHECK_JOB_STATUSES)
    async def check_job_statuses(self, request: CheckJobStatuses) -> int:
        """Signal `check_status` to every job LinkedIn may hold: each reads its status,
        and the batcher puts up to 100 of those reads in one jobPostingStatus call."""
        fields: dict[str, str] = {"CustomerId": request.customer_id} if request.customer_id else {}
        listing = where(WorkflowType=JOB_WORKFLOW_TYPE, ExecutionStatus="Running", **fields)
        checked = await signal_each(self._temporal, listing, JobSignal.CHECK_STATUS, also=LIVE_JOBS)
        log.info("jobs.status_checks", workflows=checked, customer_id=request.customer_id)
        return checked

    @activity.defn(name=NOTIFY_JOBS)
    async def notify_jobs_of_enabled_contract(self, request: NotifyJobsRequest) -> int:
        """Signal the customer's parked job workflows that a contract is enabled again."""
        listing = where(
            WorkflowType=JOB_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            CustomerId=request.customer_id,
            JobStatus=JobStatus.NEEDS_ATTENTION,
        )
        notified = 0
        try:
            notified = await signal_each(
                self._temporal, listing, JobSignal.INTEGRATION_ENABLED, request.contract
            )
        except RPCError as error:
            if error.status != RPCStatusCode.UNIMPLEMENTED:
                raise
            activity_log(request.customer_id).warning(
                "jobs.not_notified", reason="this Temporal server cannot list workflows"
            )
        activity_log(request.customer_id).info(
            "jobs.notified", contract=request.contract, workflows=notified
        )
        return notified

    @activity.defn(name=WAKE_DUE_JOBS)
    async def wake_due_jobs(self, request: WakeDueJobs) -> int:
        """Signal `wake` to every running job workflow whose JobWakeAt has passed."""
        due_by = request.due_by.astimezone(UTC).isoformat().replace("+00:00", "Z")
        listing = where(WorkflowType=JOB_WORKFLOW_TYPE, ExecutionStatus="Running")
        due = f'{WAKE_AT_ATTRIBUTE} <= "{due_by}"'
        woken = await signal_each(self._temporal, listing, JobSignal.WAKE, also=due)
        log.info("jobs.woken", workflows=woken, due_by=due_by)
        return woken


async def signal_each(
    temporal: Client, listing: Listing, signal: str, *args: Any, also: str | None = None
) -> int:
    """Signal every workflow the listing (`AND also`) finds, in its latest run (one that
    continued as new since it was listed still gets it); one that ended since is passed
    over. Heartbeats as it goes: a listing may be long."""
    query = f"{listing.query} AND {also}" if also else listing.query
    signalled = 0
    async for execution in temporal.list_workflows(query):
        if not listing.admits(execution.search_attributes):
            continue
        handle = temporal.get_workflow_handle(execution.id)  # its latest run
        try:
            await handle.signal(signal, *args)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            continue
        signalled += 1
        activity.heartbeat(signalled)
    return signalled


def _resume(request: RunJobOperation) -> _Progress:
    """Progress from the last heartbeat of an earlier attempt, and the workflow's record."""
    details: Any = activity.info().heartbeat_details
    recorded = details[0] if details and isinstance(details[0], dict) else {}
    task_ids = list(request.known_task_ids)
    task_ids += [t for t in recorded.get("task_ids", []) if t not in task_ids]
    # A new attempt follows a run that died: whatever it sent may have reached LinkedIn.
    uncertain = request.may_have_reached_linkedin or activity.info().attempt > 1
    return _Progress(task_ids=task_ids, uncertain=uncertain)


def _is_repeat(kind: OperationKind, message: str) -> bool:
    return (kind == OperationKind.CREATE and DUPLICATE_CREATE_FRAGMENT in message) or (
        kind == OperationKind.CLOSE and ALREADY_CLOSED_FRAGMENT in message
    )


def _failed(
    failure: FailureType, message: str, task_status: str | None = None
) -> JobOperationResult:
    return JobOperationResult(
        succeeded=False, task_status=task_status, failure=failure, message=message
    )


def _failure_type(name: str | None) -> FailureType:
    try:
        return FailureType(name or FailureType.PERMANENT)
    except ValueError:
        return FailureType.PERMANENT


def _record_wait() -> None:
    waited = datetime.now(UTC) - activity.info().current_attempt_scheduled_time
    activity.metric_meter().create_histogram_float(
        "linkedin_task_wait", "Time from submission until LinkedIn finished a job task", "s"
    ).record(waited.total_seconds())
