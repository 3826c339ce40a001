"""Activities of the job workflow: submit, await the task, read the job's status, notify."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.service import RPCError, RPCStatusCode

from activities.credentials import CredentialStore, customer_credentials
from activities.errors import application_error, linkedin_errors
from activities.logs import activity_log
from domain.errors import FailureType
from domain.postings import (
    AWAIT_TASK,
    FETCH_JOB_STATUS,
    JOB_WORKFLOW_TYPE,
    NOTIFY_JOBS,
    SUBMIT_JOB,
    AwaitTaskRequest,
    FetchedJobStatus,
    FetchJobStatusRequest,
    FinishedTask,
    JobStatus,
    NotifyJobsRequest,
    SubmitJobRequest,
    SubmittedJob,
)
from domain.visibility import where
from linkedin import LinkedInClient


class JobActivities:
    """Holds the shared LinkedIn client, the credential store and a Temporal client."""

    def __init__(
        self, linkedin: LinkedInClient, store: CredentialStore, temporal: Client | None = None
    ) -> None:
        self._linkedin = linkedin
        self._store = store
        self._temporal = temporal

    @activity.defn(name=SUBMIT_JOB)
    async def submit_job(self, request: SubmitJobRequest) -> SubmittedJob:
        """One simpleJobPostings element; LinkedIn's per-item refusal is raised, typed."""
        creds = await customer_credentials(self._store, request.customer_id)
        posting = request.posting
        async with linkedin_errors():
            (submission,) = await self._linkedin.submit_jobs(creds, [posting])
        logger = activity_log(request.customer_id, job_id=posting.external_job_posting_id)
        if submission.error is not None:
            logger.warning(
                "job.refused",
                operation=posting.job_posting_operation_type,
                status=submission.error.status,
                message=submission.error.message,
            )
            raise application_error(submission.error)
        assert submission.task_id is not None
        logger.info(
            "job.submitted",
            operation=posting.job_posting_operation_type,
            task_id=submission.task_id,
        )
        return SubmittedJob(task_id=submission.task_id)

    @activity.defn(name=AWAIT_TASK)
    async def await_task(self, request: AwaitTaskRequest) -> FinishedTask:
        """The task once final; raises TaskInProgress before, so Temporal polls again."""
        creds = await customer_credentials(self._store, request.customer_id)
        async with linkedin_errors():
            answer = await self._linkedin.get_tasks(creds, [request.task_id])
        if request.task_id in answer.errors:
            raise application_error(answer.errors[request.task_id])
        task = answer.results.get(request.task_id)
        if task is None:
            raise ApplicationError(
                f"LinkedIn's answer lacks task {request.task_id}", type=FailureType.TRANSIENT
            )
        if not task.status.is_final:
            raise ApplicationError(  # benign: Temporal logs it at DEBUG, polls again
                f"task {request.task_id} is {task.status}",
                type=FailureType.TASK_IN_PROGRESS,
                category=ApplicationErrorCategory.BENIGN,
            )
        waited = datetime.now(UTC) - activity.info().scheduled_time
        activity.metric_meter().create_histogram_float(
            "linkedin_task_wait", "Time from submission until LinkedIn finished a job task", "s"
        ).record(waited.total_seconds(), {"status": str(task.status)})
        return FinishedTask(task=task)

    @activity.defn(name=FETCH_JOB_STATUS)
    async def fetch_job_status(self, request: FetchJobStatusRequest) -> FetchedJobStatus:
        creds = await customer_credentials(self._store, request.customer_id)
        external_id = request.external_job_posting_id
        async with linkedin_errors():
            answer = await self._linkedin.get_job_statuses(creds, [external_id])
        error = answer.errors.get(external_id)
        if error is not None and error.status != 404:
            raise application_error(error)
        return FetchedJobStatus(status=answer.results.get(external_id))

    @activity.defn(name=NOTIFY_JOBS)
    async def notify_jobs_of_enabled_contract(self, request: NotifyJobsRequest) -> int:
        """Signal the customer's parked job workflows that a contract is enabled again."""
        if self._temporal is None:
            return 0
        query = where(
            WorkflowType=JOB_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            CustomerId=request.customer_id,
            JobStatus=JobStatus.NEEDS_ATTENTION,
        )
        notified = 0
        try:
            async for execution in self._temporal.list_workflows(query):
                handle = self._temporal.get_workflow_handle(execution.id)
                await handle.signal("integration_enabled", request.contract)
                notified += 1
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
