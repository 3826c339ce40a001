"""What offboarding a customer does outside its workflow: CLOSE its open jobs (through each
job's own workflow), retire its app at LinkedIn, end its integration workflows, erase it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.credentials import CredentialStore
from activities.errors import linkedin_errors
from activities.logs import activity_log
from domain.intake import LINKEDIN_INTAKE_WORKFLOW_TYPE
from domain.integration_workflow import INTEGRATION_WORKFLOW_TYPE
from domain.job_workflow import JOB_WORKFLOW_TYPE, CloseJob, JobUpdate, Operation
from domain.offboarding import (
    CLOSE_CONCURRENCY,
    CLOSE_OPEN_JOBS,
    END_INTEGRATIONS,
    ERASE_CUSTOMER,
    RETIRE_CUSTOMER_APP,
    ClosedJobs,
    CloseOpenJobs,
    CustomerRef,
    ErasureReport,
    RetireCustomerApp,
)
from domain.p4p_reports import P4P_REPORT_WORKFLOW_TYPE
from domain.visibility import Listing, where
from linkedin import LinkedInClient

JOB_END_WAIT_SECONDS = 60.0
"""How long a round waits for the jobs it sent CLOSE to end before it reports."""

RETENTION_NOTE = (
    "this offboarding workflow's own history (the customer id and counts only) and the "
    "terminated or deleted runs' visibility records, until the namespace's retention "
    "(docs/operations.md, 'Erasure')"
)


class OffboardingActivities:
    def __init__(self, temporal: Client, linkedin: LinkedInClient, store: CredentialStore) -> None:
        self._temporal = temporal
        self._linkedin = linkedin
        self._store = store

    async def _ids(self, listing: Listing, limit: int | None = None) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        async for execution in self._temporal.list_workflows(listing.query, limit=limit):
            if listing.admits(execution.search_attributes):
                found.append((execution.id, execution.run_id))
        return found

    @activity.defn(name=CLOSE_OPEN_JOBS)
    async def close_open_jobs(self, request: CloseOpenJobs) -> ClosedJobs:
        """One round: CLOSE up to `limit` open jobs and wait a while for them to end.

        Each CLOSE carries the offboarding's update id: the job's workflow answers it again
        instead of closing twice, across rounds, retries and worker crashes. A job LinkedIn
        never listed (its CREATE failed) is discarded instead."""
        listing = where(
            WorkflowType=JOB_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            CustomerId=request.customer_id,
        )
        turns = asyncio.Semaphore(CLOSE_CONCURRENCY)
        listed = await self._ids(listing, request.limit)
        open_jobs = [
            workflow_id
            for workflow_id, running in zip(
                (workflow_id for workflow_id, _ in listed),
                await asyncio.gather(*(self._running(w, turns) for w, _ in listed)),
                strict=True,
            )
            if running
        ]  # visibility lags: a job closed a moment ago may still be listed as running
        before = len(open_jobs)
        if len(listed) == request.limit:
            before = max(before, await self._count(listing))
        ended = 0

        async def close(workflow_id: str) -> None:
            nonlocal ended
            handle = self._temporal.get_workflow_handle(workflow_id)
            async with turns:
                try:
                    await handle.execute_update(
                        JobUpdate.CLOSE, CloseJob(), id=request.update_id, result_type=Operation
                    )
                except WorkflowUpdateFailedError:
                    with contextlib.suppress(WorkflowUpdateFailedError, RPCError):
                        await handle.execute_update(
                            JobUpdate.DISCARD,
                            CloseJob(),
                            id=f"{request.update_id}:discard",
                            result_type=Operation,
                        )
                except RPCError as error:
                    if error.status != RPCStatusCode.NOT_FOUND:
                        raise
            with contextlib.suppress(Exception):  # not ended in time: the next round looks again
                await asyncio.wait_for(handle.result(), timeout=JOB_END_WAIT_SECONDS)
                ended += 1

        async def heartbeat() -> None:
            while True:
                activity.heartbeat(ended)
                await asyncio.sleep(5)

        beating = asyncio.create_task(heartbeat())
        try:
            await asyncio.gather(*(close(workflow_id) for workflow_id in open_jobs))
        finally:
            beating.cancel()
        left = await self._count(listing) if open_jobs else 0
        return ClosedJobs(open_before=before, listed=len(open_jobs), ended=ended, open_left=left)

    async def _running(self, workflow_id: str, turns: asyncio.Semaphore) -> bool:
        async with turns:
            try:
                description = await self._temporal.get_workflow_handle(workflow_id).describe()
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    return False
                raise
        return description.status == WorkflowExecutionStatus.RUNNING

    async def _count(self, listing: Listing) -> int:
        if listing.exact:
            return len(await self._ids(listing))
        return (await self._temporal.count_workflows(listing.query)).count

    @activity.defn(name=RETIRE_CUSTOMER_APP)
    async def retire_customer_app(self, request: RetireCustomerApp) -> bool:
        """Empty the app's widget origins and callback URLs, as for an orphan app: the
        widget no longer loads with it. False when the customer never had an app."""
        stored = await self._store.get(request.customer_id)
        key = stored.application_key if stored else None
        async with linkedin_errors():
            if key is None:
                found = await self._linkedin.find_application(request.customer_id)
                key = found.key if found else None
            if key is None:
                return False
            await self._linkedin.update_application(
                key,
                {
                    "name": f"{request.ats_name} - offboarded"[:50],
                    "description": "Retired: the customer was offboarded",
                    "validJsSdkDomains": [],
                    "oauth2AuthorizedCallbackUrls": [],
                },
            )
        activity_log(request.customer_id).info("offboarding.app_retired", application_key=key)
        return True

    @activity.defn(name=END_INTEGRATIONS)
    async def end_integrations(self, request: CustomerRef) -> int:
        """Terminate the customer's running integration workflows (nothing is left for them
        to do: the app is retired)."""
        listing = where(
            WorkflowType=INTEGRATION_WORKFLOW_TYPE,
            ExecutionStatus="Running",
            CustomerId=request.customer_id,
        )
        ended = 0
        for workflow_id, _ in await self._ids(listing):
            with contextlib.suppress(RPCError):  # ended meanwhile
                await self._temporal.get_workflow_handle(workflow_id).terminate(
                    reason="customer offboarded"
                )
                ended += 1
        return ended

    @activity.defn(name=ERASE_CUSTOMER)
    async def erase_customer(self, request: CustomerRef) -> ErasureReport:
        """The secret and tokens leave the credential store; the customer's ended job,
        integration and report workflows are deleted from Temporal (their histories hold
        postings and poster emails)."""
        customer = request.customer_id
        erased = await self._store.erase(customer)
        report = ErasureReport(credentials=erased.secret, access_tokens=erased.tokens)
        ended = 'ExecutionStatus != "Running"'
        for kind, field in (
            (JOB_WORKFLOW_TYPE, "job_workflows"),
            (INTEGRATION_WORKFLOW_TYPE, "integration_workflows"),
            (P4P_REPORT_WORKFLOW_TYPE, "other_workflows"),
            (LINKEDIN_INTAKE_WORKFLOW_TYPE, "other_workflows"),  # they held its applications
        ):
            listing = where(WorkflowType=kind, CustomerId=customer)
            listing = Listing(f"{listing.query} AND {ended}", listing.exact)
            count = 0
            async for workflow_id, run_id in self._runs(listing):
                await self._delete(workflow_id, run_id)
                count += 1
                activity.heartbeat(field, count)
            setattr(report, field, getattr(report, field) + count)
        report.kept = [RETENTION_NOTE]
        activity_log(customer).info(
            "offboarding.erased",
            credentials=report.credentials,
            access_tokens=report.access_tokens,
            job_workflows=report.job_workflows,
            integration_workflows=report.integration_workflows,
        )
        return report

    async def _runs(self, listing: Listing) -> AsyncIterator[tuple[str, str]]:
        for found in await self._ids(listing):
            yield found

    async def _delete(self, workflow_id: str, run_id: str) -> None:
        try:
            await self._temporal.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=self._temporal.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                )
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
