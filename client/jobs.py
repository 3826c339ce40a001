"""JobsClient: what an ATS back end calls to post and manage a customer's jobs."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from domain.jobs import Budget, JobPosting, OperationType
from domain.postings import (
    JOB_WORKFLOW_TYPE,
    AutoRenew,
    AwaitOperation,
    CloseJob,
    CreateJob,
    DowngradeJob,
    JobInput,
    JobState,
    JobStatus,
    Operation,
    OperationKind,
    RenewJob,
    UpdateJob,
    UpgradeJob,
    job_workflow_id,
)
from domain.visibility import first, where


class JobSummary(BaseModel):
    workflow_id: str
    customer_id: str
    external_job_posting_id: str
    status: JobStatus | None
    listing_type: str | None


def validated_job(job: JobPosting | dict[str, Any]) -> JobPosting:
    """A job checked against LinkedIn's rules now, before anything is sent anywhere."""
    data = job.to_wire() if isinstance(job, JobPosting) else job
    return JobPosting.model_validate(data, context={"now_ms": int(time.time() * 1000)})


class JobsClient:
    """Creates JobPostingWorkflows and sends them operations."""

    def __init__(self, temporal: Client, *, task_queue: str) -> None:
        self._temporal = temporal
        self._task_queue = task_queue

    def _handle(self, customer_id: str, external_id: str) -> WorkflowHandle[Any, Any]:
        return self._temporal.get_workflow_handle(job_workflow_id(customer_id, external_id))

    async def create(
        self,
        customer_id: str,
        job: JobPosting | dict[str, Any],
        *,
        wait: bool = False,
        auto_renew: AutoRenew | None = None,
    ) -> Operation:
        """Post a job: starts its workflow if needed (update-with-start); idempotent."""
        posting = validated_job(job)
        start = WithStartWorkflowOperation(
            JOB_WORKFLOW_TYPE,
            JobInput(
                customer_id=customer_id,
                external_job_posting_id=posting.external_job_posting_id,
                auto_renew=auto_renew,
            ),
            id=job_workflow_id(customer_id, posting.external_job_posting_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"{customer_id}: job {posting.external_job_posting_id} "
            f"({posting.title}) on LinkedIn",
        )
        result: Operation = await self._temporal.execute_update_with_start_workflow(
            "create",
            CreateJob(job=posting, wait=wait),
            start_workflow_operation=start,
            result_type=Operation,
        )
        return result

    async def put(
        self, customer_id: str, job: JobPosting | dict[str, Any], *, wait: bool = False
    ) -> Operation:
        """Create the job, or update it when it exists already (HTTP PUT semantics)."""
        posting = validated_job(job)
        try:
            state = await self.state(customer_id, posting.external_job_posting_id)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            state = None
        if state is None or not state.has(OperationKind.CREATE):
            create = posting.model_copy(update={"job_posting_operation_type": OperationType.CREATE})
            return await self.create(customer_id, create, wait=wait)
        return await self.update(customer_id, posting, wait=wait)

    async def _send(self, customer_id: str, external_id: str, name: str, request: Any) -> Operation:
        result: Operation = await self._handle(customer_id, external_id).execute_update(
            name, request, result_type=Operation
        )
        return result

    async def update(
        self, customer_id: str, job: JobPosting | dict[str, Any], *, wait: bool = False
    ) -> Operation:
        posting = validated_job(job)
        return await self._send(
            customer_id,
            posting.external_job_posting_id,
            "update",
            UpdateJob(job=posting, wait=wait),
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
    ) -> Operation:
        request = UpgradeJob.model_validate(
            {"contract": contract, "budget": budget, "expire_at": expire_at, "wait": wait}
        )
        return await self._send(customer_id, external_id, "upgrade", request)

    async def downgrade(
        self, customer_id: str, external_id: str, contract: str | None = None, *, wait: bool = False
    ) -> Operation:
        request = DowngradeJob(contract=contract, wait=wait)
        return await self._send(customer_id, external_id, "downgrade", request)

    async def renew(
        self,
        customer_id: str,
        external_id: str,
        budget: Budget | dict[str, Any] | None = None,
        *,
        wait: bool = False,
    ) -> Operation:
        request = RenewJob.model_validate({"budget": budget, "wait": wait})
        return await self._send(customer_id, external_id, "renew", request)

    async def close(self, customer_id: str, external_id: str, *, wait: bool = False) -> Operation:
        return await self._send(customer_id, external_id, "close", CloseJob(wait=wait))

    async def await_operation(
        self, customer_id: str, external_id: str, operation_id: str
    ) -> Operation:
        """Wait for an operation's outcome."""
        return await self._send(
            customer_id, external_id, "await_operation", AwaitOperation(operation_id=operation_id)
        )

    async def retry(self, customer_id: str, external_id: str) -> None:
        await self._handle(customer_id, external_id).signal("retry")

    async def state(self, customer_id: str, external_id: str) -> JobState:
        result: JobState = await self._handle(customer_id, external_id).query(
            "state", result_type=JobState
        )
        return result

    async def list_jobs(
        self, *, customer_id: str | None = None, status: JobStatus | None = None
    ) -> list[JobSummary]:
        """Jobs by customer and status, from the search attributes (closed ones too)."""
        query = where(
            WorkflowType=JOB_WORKFLOW_TYPE,
            CustomerId=customer_id,
            JobStatus=JobStatus(status) if status else None,
        )
        found = []
        async for execution in self._temporal.list_workflows(query):
            attributes = execution.search_attributes
            raw_status = first(attributes.get("JobStatus"))
            found.append(
                JobSummary(
                    workflow_id=execution.id,
                    customer_id=str(first(attributes.get("CustomerId"))),
                    external_job_posting_id=str(first(attributes.get("ExternalJobPostingId"))),
                    status=JobStatus(raw_status) if raw_status else None,
                    listing_type=first(attributes.get("JobListingType")),
                )
            )
        return sorted(found, key=lambda j: j.workflow_id)
