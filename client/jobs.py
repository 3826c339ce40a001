"""JobsClient: what an ATS back end calls to post and manage a customer's jobs.

Every operation may carry an idempotency key: it becomes the Temporal update id, and the
workflow answers a repeated key with the first request's operation, so a client retrying
after a timeout never applies an operation twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Refused
from client.offboarding import Offboarding, offboarding_status, refuse_if_offboarding
from client.pages import page
from client.reads import query
from domain.apply_questions import intake_url
from domain.documents import Document
from domain.integration_workflow import integration_workflow_id
from domain.integrations import IntegrationType
from domain.job_batches import (
    MAX_BATCH_JOBS,
    MAX_BATCH_KEY_LENGTH,
    BatchAnswer,
    BatchEntry,
    batch_update_id,
    check_batch,
)
from domain.job_lifecycle import RefusalReason
from domain.job_postings import Budget, JobPosting
from domain.job_workflow import (
    JOB_WORKFLOW_TYPE,
    MAX_WAIT_SECONDS,
    STATE_QUERY,
    AutoRenew,
    AwaitOperation,
    CloseJob,
    CreateJob,
    DowngradeJob,
    JobInput,
    JobSignal,
    JobState,
    JobStatus,
    JobUpdate,
    Operation,
    OperationKind,
    OperatorRequest,
    RenewJob,
    StopWaiting,
    UpdateJob,
    UpgradeJob,
    job_workflow_id,
)
from domain.visibility import first, where
from workflows.search_attributes import (
    CUSTOMER_ID,
    EXTERNAL_JOB_POSTING_ID,
    JOB_LISTING_TYPE,
    JOB_STATUS,
)


class JobSummary(Document):
    workflow_id: str
    customer_id: str
    external_job_posting_id: str
    status: JobStatus | None
    listing_type: str | None


class StuckJob(Document):
    """A running job whose workflow task keeps failing (docs/operations.md)."""

    workflow_id: str
    attempt: int
    """The workflow task's attempt: each failure retries it, and until one succeeds the job
    can be neither read nor moved."""
    scheduled_at: datetime | None


class UnknownCustomer(Refused):
    def __init__(self, customer_id: str) -> None:
        super().__init__(
            f"customer {customer_id!r} has not been onboarded: start its onboarding first",
            "NotFound",
        )


class UnknownJob(Refused):
    def __init__(self, customer_id: str, external_id: str) -> None:
        super().__init__(f"customer {customer_id!r} has no job {external_id!r}", "NotFound")


class JobPage(Document):
    items: list[JobSummary]
    next_cursor: str | None = None
    """Pass as `cursor` for the next page; None on the last one."""


def validated_job(job: JobPosting | dict[str, Any]) -> JobPosting:
    """A job checked against LinkedIn's rules now, before anything is sent anywhere."""
    data = job.to_wire() if isinstance(job, JobPosting) else job
    return JobPosting.model_validate(data, context={"now_ms": int(time.time() * 1000)})


DEFAULT_WAIT_SECONDS = 30
"""How long a call with wait waits for LinkedIn's outcome before answering as it stands."""


@dataclass(frozen=True)
class Waiting:
    """How one call answers: its update id (an idempotency key, or a new id), and whether
    and how long it waits for the outcome."""

    key: str | None = None
    wait: bool = False
    seconds: int = DEFAULT_WAIT_SECONDS
    update_id: str = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.seconds <= MAX_WAIT_SECONDS:
            raise ValueError(f"wait_seconds: must be 1 to {MAX_WAIT_SECONDS}")
        object.__setattr__(self, "update_id", self.key or str(uuid.uuid4()))


class BatchInvalid(Refused):
    """Some jobs of a batch are invalid, and it was not partial: nothing was started."""

    def __init__(self, invalid: list[BatchEntry], total: int) -> None:
        super().__init__(
            f"{len(invalid)} of the batch's {total} jobs are invalid: nothing was started "
            "(partial=true starts the valid ones)",
            str(RefusalReason.INVALID),
        )
        self.invalid = invalid


DEFAULT_IMPORT_CONCURRENCY = 16

UNAVAILABLE = "Unavailable"
"""A batch entry's refusal reason when Temporal did not take the job: send it again."""


class JobsSettings(Protocol):
    task_queue: str
    webhooks: bool
    job_import_concurrency: int

    @property
    def intake_base_url(self) -> str: ...


class JobsClient:
    """Creates JobPostingWorkflows and sends them operations."""

    def __init__(
        self,
        temporal: Client,
        *,
        task_queue: str,
        webhooks: bool = False,
        intake_base_url: str = "http://127.0.0.1:8080",
        import_concurrency: int = DEFAULT_IMPORT_CONCURRENCY,
    ) -> None:
        self._temporal = temporal
        self._task_queue = task_queue
        self._webhooks = webhooks
        self._intake_base_url = intake_base_url
        self._import_concurrency = import_concurrency
        self._known_customers: set[str] = set()

    @classmethod
    def from_settings(cls, temporal: Client, settings: JobsSettings) -> JobsClient:
        return cls(
            temporal,
            task_queue=settings.task_queue,
            webhooks=settings.webhooks,
            intake_base_url=settings.intake_base_url,
            import_concurrency=settings.job_import_concurrency,
        )

    def _validated(self, customer_id: str, job: JobPosting | dict[str, Any]) -> JobPosting:
        """The job checked, its Apply Connect webhook URL set to our intake."""
        return validated_job(self._with_intake(customer_id, job))

    def _with_intake(self, customer_id: str, job: JobPosting | dict[str, Any]) -> dict[str, Any]:
        """The job's wire form, its Apply Connect webhook URL set to our intake for the
        customer (the ATS never chooses where LinkedIn sends applications)."""
        data = job.to_wire() if isinstance(job, JobPosting) else dict(job)
        onsite = data.get("onsiteApplyConfiguration")
        if isinstance(onsite, dict):
            data["onsiteApplyConfiguration"] = {
                **onsite,
                "jobApplicationWebhookUrl": intake_url(self._intake_base_url, customer_id),
            }
        return data

    def _handle(self, customer_id: str, external_id: str) -> WorkflowHandle[Any, Any]:
        return self._temporal.get_workflow_handle(job_workflow_id(customer_id, external_id))

    async def _require_customer(self, customer_id: str) -> None:
        """Refuse a job for a customer never onboarded (or offboarded, or being offboarded:
        409), before any workflow starts."""
        offboarded = await offboarding_status(self._temporal, customer_id)
        if offboarded == WorkflowExecutionStatus.RUNNING:
            raise Offboarding(customer_id)
        if offboarded is not None:
            self._known_customers.discard(customer_id)  # known again once onboarded again
        if customer_id in self._known_customers:
            return
        for integration_type in IntegrationType:
            handle = self._temporal.get_workflow_handle(
                integration_workflow_id(customer_id, integration_type)
            )
            try:
                description = await handle.describe()
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    continue
                raise
            if description.status == WorkflowExecutionStatus.TERMINATED:
                continue  # ended by an offboarding
            self._known_customers.add(customer_id)
            return
        raise UnknownCustomer(customer_id)

    async def create(
        self,
        customer_id: str,
        job: JobPosting | dict[str, Any],
        *,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        auto_renew: AutoRenew | None = None,
        idempotency_key: str | None = None,
    ) -> Operation:
        """Post a job: starts its workflow if needed (update-with-start); idempotent."""
        posting = self._validated(customer_id, job)
        request = CreateJob(job=posting, wait=wait)
        return await self._with_start(
            customer_id,
            posting,
            JobUpdate.CREATE,
            request,
            auto_renew,
            Waiting(idempotency_key, wait, wait_seconds),
        )

    async def put(
        self,
        customer_id: str,
        job: JobPosting | dict[str, Any],
        *,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        idempotency_key: str | None = None,
    ) -> Operation:
        """The whole job: created, or updated when it exists; the same job again is a no-op.

        The workflow decides create or update, so two racing PUTs cannot both create.
        """
        posting = self._validated(customer_id, job)
        request = UpdateJob(job=posting, wait=wait)
        return await self._with_start(
            customer_id,
            posting,
            JobUpdate.PUT,
            request,
            None,
            Waiting(idempotency_key, wait, wait_seconds),
        )

    async def put_many(
        self,
        customer_id: str,
        jobs: Sequence[JobPosting | dict[str, Any]],
        *,
        idempotency_key: str | None = None,
        partial: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> BatchAnswer:
        """PUT each job of a batch (at most MAX_BATCH_JOBS), each its own workflow.

        Every job is checked first: with one invalid and not `partial`, BatchInvalid names
        each and nothing starts. Then at most `import_concurrency` starts are in flight at
        once; LinkedIn sees them gathered 100 a call by the worker's batcher. Each job's
        update id is the batch's key, so the same key again answers each job's first
        operation and applies nothing twice: after a failure, send the batch again with
        the answer's (or your) key. `on_progress` hears how many jobs are done so far.
        """
        if len(jobs) > MAX_BATCH_JOBS:
            raise Refused(
                f"jobs: at most {MAX_BATCH_JOBS} a batch (got {len(jobs)})",
                str(RefusalReason.INVALID),
            )
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_BATCH_KEY_LENGTH:
            raise Refused(
                f"Idempotency-Key: 1 to {MAX_BATCH_KEY_LENGTH} characters",
                str(RefusalReason.INVALID),
            )
        raw = [
            self._with_intake(customer_id, job) if isinstance(job, JobPosting | dict) else job
            for job in jobs
        ]  # anything else is named invalid by check_batch
        valid, invalid = check_batch(raw, int(time.time() * 1000))
        if invalid and not partial:
            raise BatchInvalid(invalid, len(jobs))
        batch_id = idempotency_key or str(uuid.uuid4())
        await self._require_customer(customer_id)
        turns = asyncio.Semaphore(self._import_concurrency)
        done = len(invalid)
        if on_progress and done:
            on_progress(done)

        async def one(index: int, posting: JobPosting) -> BatchEntry:
            nonlocal done
            entry = BatchEntry(index=index, external_job_posting_id=posting.external_job_posting_id)
            async with turns:
                try:
                    entry.operation = await self._with_start(
                        customer_id,
                        posting,
                        JobUpdate.PUT,
                        UpdateJob(job=posting),
                        None,
                        Waiting(batch_update_id(batch_id)),
                    )
                except Refused as refused:
                    entry.refused, entry.refusal_reason = refused.message, refused.reason
                except RPCError as error:  # Temporal overloaded or away: this job only
                    entry.refused = (
                        f"Temporal did not take it ({error.status.name}): send the batch "
                        "again with the same Idempotency-Key"
                    )
                    entry.refusal_reason = UNAVAILABLE
            done += 1
            if on_progress:
                on_progress(done)
            return entry

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(index, posting)) for index, posting in valid]
        entries = sorted([*invalid, *(task.result() for task in tasks)], key=lambda e: e.index)
        return BatchAnswer(
            batch_id=batch_id,
            started=sum(1 for e in entries if e.operation is not None),
            invalid=len(invalid),
            refused=sum(1 for e in entries if e.refused is not None),
            jobs=entries,
        )

    async def _with_start(
        self,
        customer_id: str,
        posting: JobPosting,
        update: JobUpdate,
        request: BaseModel,
        auto_renew: AutoRenew | None,
        waiting: Waiting,
    ) -> Operation:
        await self._require_customer(customer_id)
        external_id = posting.external_job_posting_id
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            JOB_WORKFLOW_TYPE,
            JobInput(
                customer_id=customer_id,
                external_job_posting_id=external_id,
                auto_renew=auto_renew,
                webhooks=self._webhooks,
            ),
            id=job_workflow_id(customer_id, external_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_ID, customer_id),
                    SearchAttributePair(EXTERNAL_JOB_POSTING_ID, external_id),
                    SearchAttributePair(JOB_STATUS, str(JobStatus.PENDING)),
                    SearchAttributePair(JOB_LISTING_TYPE, str(posting.effective_listing_type)),
                ]
            ),
            static_summary=f"{customer_id}: job {external_id} ({posting.title}) on LinkedIn",
        )
        try:
            handle: WorkflowUpdateHandle[
                Operation
            ] = await self._temporal.start_update_with_start_workflow(
                update,
                request,
                start_workflow_operation=start,
                id=waiting.update_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=Operation,
            )
            return await self._outcome(customer_id, external_id, handle, waiting)
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from None
        except WorkflowAlreadyStartedError:  # its workflow ended: closed or discarded
            return await self._on_ended(customer_id, external_id, update, waiting.key)

    async def _send(
        self,
        customer_id: str,
        external_id: str,
        update: JobUpdate,
        request: BaseModel,
        waiting: Waiting,
    ) -> Operation:
        if update != JobUpdate.AWAIT:
            await refuse_if_offboarding(self._temporal, customer_id)
        try:
            handle: WorkflowUpdateHandle[Operation] = await self._handle(
                customer_id, external_id
            ).start_update(
                update,
                request,
                id=waiting.update_id,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                result_type=Operation,
            )
            return await self._outcome(customer_id, external_id, handle, waiting)
        except WorkflowUpdateFailedError as error:
            raise _refusal(error) from None
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return await self._on_ended(customer_id, external_id, update, waiting.key)

    async def _outcome(
        self,
        customer_id: str,
        external_id: str,
        handle: WorkflowUpdateHandle[Operation],
        waiting: Waiting,
    ) -> Operation:
        """The update's answer; with wait, timed here: past `wait_seconds` the workflow is
        told to stop waiting and answers the operation as it stands. No workflow timer (a
        billed action per update) is started, and no update is left in flight."""
        if not waiting.wait:
            return await handle.result()
        polling = asyncio.ensure_future(handle.result())
        await asyncio.wait([polling], timeout=waiting.seconds)
        if polling.done():
            return polling.result()
        polling.cancel()
        with suppress(asyncio.CancelledError, WorkflowUpdateRPCTimeoutOrCancelledError):
            await polling
        with suppress(RPCError):  # ended meanwhile: the update has its answer
            await self._handle(customer_id, external_id).signal(
                JobSignal.STOP_WAITING, StopWaiting(update_id=handle.id)
            )
        return await handle.result()

    async def _on_ended(
        self, customer_id: str, external_id: str, update: JobUpdate, key: str | None
    ) -> Operation:
        """The job's workflow has ended (closed or discarded), or never existed."""
        handle = self._handle(customer_id, external_id)
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise UnknownJob(customer_id, external_id) from None
            raise
        if description.status == WorkflowExecutionStatus.RUNNING:
            raise Refused("the job's workflow did not answer; try again", "Unavailable")
        state = await self.state(customer_id, external_id)
        earlier = state.operation(key) if key else None
        if earlier is None and update == JobUpdate.CLOSE:
            earlier = next((op for op in state.operations if op.kind == OperationKind.CLOSE), None)
        if earlier is not None:
            return earlier
        raise Refused(
            f"{update}: the job is {state.status}; no operation can follow",
            str(RefusalReason.CONFLICT),
        )

    async def update(
        self,
        customer_id: str,
        job: JobPosting | dict[str, Any],
        *,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        idempotency_key: str | None = None,
    ) -> Operation:
        posting = self._validated(customer_id, job)
        return await self._send(
            customer_id,
            posting.external_job_posting_id,
            JobUpdate.UPDATE,
            UpdateJob(job=posting, wait=wait),
            Waiting(idempotency_key, wait, wait_seconds),
        )

    async def upgrade(
        self,
        customer_id: str,
        external_id: str,
        contract: str,
        *,
        budget: Budget | dict[str, Any] | None = None,
        expire_at: int | None = None,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        idempotency_key: str | None = None,
    ) -> Operation:
        request = UpgradeJob.model_validate(
            {"contract": contract, "budget": budget, "expire_at": expire_at, "wait": wait}
        )
        waiting = Waiting(idempotency_key, wait, wait_seconds)
        return await self._send(customer_id, external_id, JobUpdate.UPGRADE, request, waiting)

    async def downgrade(
        self,
        customer_id: str,
        external_id: str,
        contract: str | None = None,
        *,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        idempotency_key: str | None = None,
    ) -> Operation:
        request = DowngradeJob.model_validate({"contract": contract, "wait": wait})
        waiting = Waiting(idempotency_key, wait, wait_seconds)
        return await self._send(customer_id, external_id, JobUpdate.DOWNGRADE, request, waiting)

    async def renew(
        self,
        customer_id: str,
        external_id: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        idempotency_key: str | None = None,
    ) -> Operation:
        request = RenewJob.model_validate({"budget": budget, "wait": wait})
        waiting = Waiting(idempotency_key, wait, wait_seconds)
        return await self._send(customer_id, external_id, JobUpdate.RENEW, request, waiting)

    async def close(
        self,
        customer_id: str,
        external_id: str,
        *,
        wait: bool = False,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
        idempotency_key: str | None = None,
    ) -> Operation:
        """CLOSE; a second close answers the first one's operation."""
        waiting = Waiting(idempotency_key, wait, wait_seconds)
        return await self._send(
            customer_id, external_id, JobUpdate.CLOSE, CloseJob(wait=wait), waiting
        )

    async def discard(
        self, customer_id: str, external_id: str, *, idempotency_key: str | None = None
    ) -> Operation:
        """Give up a job LinkedIn never listed (its CREATE failed or is parked)."""
        return await self._send(
            customer_id, external_id, JobUpdate.DISCARD, CloseJob(), Waiting(idempotency_key)
        )

    async def await_operation(
        self,
        customer_id: str,
        external_id: str,
        operation_id: str,
        *,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
    ) -> Operation:
        """The operation once finished or parked, or as it stands after `wait_seconds`."""
        state = await self._ended_state(customer_id, external_id)
        if state is not None:
            found = state.operation(operation_id)
            if found is None:
                raise Refused(f"operation_id: no recent operation {operation_id!r}", "NotFound")
            return found
        return await self._send(
            customer_id,
            external_id,
            JobUpdate.AWAIT,
            AwaitOperation(operation_id=operation_id),
            Waiting(None, wait=True, seconds=wait_seconds),
        )

    async def _ended_state(self, customer_id: str, external_id: str) -> JobState | None:
        try:
            description = await self._handle(customer_id, external_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise UnknownJob(customer_id, external_id) from None
            raise
        if description.status == WorkflowExecutionStatus.RUNNING:
            return None
        return await self.state(customer_id, external_id)

    async def retry(
        self, customer_id: str, external_id: str, operation_id: str | None = None
    ) -> None:
        """Try a parked operation (every parked one when none is named) again."""
        await self._signal(customer_id, external_id, JobSignal.RETRY, operation_id)

    async def cancel(
        self, customer_id: str, external_id: str, operation_id: str | None = None
    ) -> None:
        """Give up a parked or queued operation (every parked one when none is named)."""
        await self._signal(customer_id, external_id, JobSignal.CANCEL, operation_id)

    async def _signal(
        self, customer_id: str, external_id: str, signal: JobSignal, operation_id: str | None
    ) -> None:
        state = await self.state(customer_id, external_id)
        named = state.operation(operation_id) if operation_id is not None else None
        if operation_id is not None and named is None:
            raise Refused(f"operation_id: no recent operation {operation_id!r}", "NotFound")
        if signal == JobSignal.CANCEL and named is not None and named.may_have_reached_linkedin:
            raise Refused(
                f"cancel: operation {operation_id} may have reached LinkedIn unanswered; "
                "retry it so LinkedIn's state is read",
                str(RefusalReason.CONFLICT),
            )
        if state.status in (JobStatus.CLOSED, JobStatus.DISCARDED):
            raise Refused(f"{signal}: the job is {state.status}", str(RefusalReason.CONFLICT))
        await self._handle(customer_id, external_id).signal(
            signal, OperatorRequest(operation_id=operation_id)
        )

    async def state(self, customer_id: str, external_id: str) -> JobState:
        try:
            result = await query(self._handle(customer_id, external_id), STATE_QUERY, JobState)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise UnknownJob(customer_id, external_id) from None
            raise
        return result

    async def stuck_jobs(self, *, customer_id: str | None = None) -> list[StuckJob]:
        """Running jobs whose workflow task has failed and is being retried; each is
        described, so this is an operator's look, not a page for an ATS."""
        listing = where(
            WorkflowType=JOB_WORKFLOW_TYPE, ExecutionStatus="Running", CustomerId=customer_id
        )
        stuck = []
        async for execution in self._temporal.list_workflows(listing.query):
            if not listing.admits(execution.search_attributes):
                continue
            pending = await self._temporal.get_workflow_handle(execution.id).describe()
            task = pending.raw_description.pending_workflow_task
            if task.attempt > 1:
                stuck.append(
                    StuckJob(
                        workflow_id=execution.id,
                        attempt=task.attempt,
                        scheduled_at=task.scheduled_time.ToDatetime(tzinfo=UTC)
                        if task.HasField("scheduled_time")
                        else None,
                    )
                )
        return stuck

    async def list_jobs(
        self,
        *,
        customer_id: str | None = None,
        status: JobStatus | None = None,
        page_size: int = 100,
        cursor: str | None = None,
    ) -> JobPage:
        """One page of jobs by customer and status, from the search attributes (closed ones
        too); `next_cursor` fetches the next. A customer id holding a quote or backslash is
        matched after listing, so its pages may hold fewer than `page_size`."""
        listing = where(
            WorkflowType=JOB_WORKFLOW_TYPE,
            CustomerId=customer_id,
            JobStatus=JobStatus(status) if status else None,
        )
        executions, next_cursor = await page(self._temporal, listing.query, page_size, cursor)
        items = []
        for execution in executions:
            attributes = execution.search_attributes
            if not listing.admits(attributes):
                continue
            raw_status = first(attributes.get("JobStatus"))
            items.append(
                JobSummary(
                    workflow_id=execution.id,
                    customer_id=str(first(attributes.get("CustomerId"))),
                    external_job_posting_id=str(first(attributes.get("ExternalJobPostingId"))),
                    status=JobStatus(raw_status) if raw_status else None,
                    listing_type=first(attributes.get("JobListingType")),
                )
            )
        return JobPage(items=items, next_cursor=next_cursor)


def _refusal(error: WorkflowUpdateFailedError) -> Refused:
    """The workflow's refusal, with the reason its validator gave."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return Refused(cause.message, cause.type or str(RefusalReason.INVALID))
    return Refused(str(cause or error), str(RefusalReason.INVALID))
