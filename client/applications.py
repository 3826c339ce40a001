"""ApplicationsClient: Apply Connect applications in (durable before LinkedIn's 200), and
what the ATS does with them: read, list, signal lifecycle actions, erase."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Refused
from client.intake import LinkedInIntake
from client.pages import page
from client.reads import query
from domain.applications import (
    APPLICATION_QUERY,
    APPLICATION_WORKFLOW_TYPE,
    ERASE,
    RECORD_ACTION,
    ActionRecord,
    ActionRequest,
    ApplicationView,
    ReceivedApplication,
    UnreadableApplication,
    application_key,
    application_workflow_id,
)
from domain.documents import Document
from domain.intake import LINKEDIN_INTAKE_WORKFLOW_TYPE
from domain.linkedin_events import SignatureForm, event_digest
from domain.visibility import first, where

INTAKE_WAITS = 150
"""Polls, 0.2 s apart, for the customer's open intakes to close before an erasure deletes
them."""


class AcceptedApplication(Document):
    job_application_id: str | None
    application_id: str
    """Ours, from LinkedIn's id: a redelivery has the same, and starts nothing new."""


class ApplicationSummary(Document):
    application_id: str
    customer_id: str
    external_job_posting_id: str | None = None
    received_at: datetime | None = None
    erased: bool = False


class ApplicationPage(Document):
    items: list[ApplicationSummary]
    next_cursor: str | None = None


class UnknownApplication(Refused):
    def __init__(self, customer_id: str, key: str) -> None:
        super().__init__(
            f"customer {customer_id!r} has no application {key!r} from LinkedIn", "NotFound"
        )


class ApplicationsClient:
    def __init__(
        self,
        temporal: Client,
        *,
        task_queue: str,
        webhooks: bool = True,
        retention_days: int = 30,
        intake: LinkedInIntake | None = None,
    ) -> None:
        self._temporal = temporal
        self._intake = intake or LinkedInIntake(temporal, task_queue)
        self._webhooks = webhooks
        self._retention_days = retention_days

    def _handle(self, customer_id: str, key: str) -> WorkflowHandle[Any, Any]:
        return self._temporal.get_workflow_handle(application_workflow_id(customer_id, key))

    async def accept(
        self, customer_id: str, body: bytes, form: SignatureForm
    ) -> AcceptedApplication:
        """Durable once this returns, in the intake workflow that starts its
        ApplicationWorkflow, one per jobApplicationId (a redelivery starts none). A body
        without a readable id is kept too (by its digest): LinkedIn signed it, and a non-200
        would turn the job off-site."""
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        content = (
            parsed
            if isinstance(parsed, dict)
            else {"unparsed": body[:2000].decode("utf-8", "replace")}
        )
        urn = content.get("jobApplicationId")
        try:
            key = application_key(urn)
        except UnreadableApplication:
            key, urn = f"unreadable-{event_digest(body)}", None
        received = ReceivedApplication(
            customer_id=customer_id,
            key=key,
            received_at=datetime.now(UTC),
            body=content,
            signature_form=str(form),
            webhooks=self._webhooks,
            retention_days=self._retention_days,
        )
        await self._intake.hand_over(received)
        return AcceptedApplication(job_application_id=str(urn) if urn else None, application_id=key)

    async def state(self, customer_id: str, key: str) -> ApplicationView:
        try:
            return await query(self._handle(customer_id, key), APPLICATION_QUERY, ApplicationView)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise UnknownApplication(customer_id, key) from None
            raise

    async def list_applications(
        self, customer_id: str, *, page_size: int = 100, cursor: str | None = None
    ) -> ApplicationPage:
        """The customer's applications, newest first, a page at a time."""
        listing = where(WorkflowType=APPLICATION_WORKFLOW_TYPE, CustomerId=customer_id)
        executions, next_cursor = await page(self._temporal, listing.query, page_size, cursor)
        items = []
        for execution in executions:
            attributes = execution.search_attributes
            if not listing.admits(attributes):
                continue
            job = first(attributes.get("ExternalJobPostingId"))
            items.append(
                ApplicationSummary(
                    application_id=execution.id.rsplit("/", 1)[-1],
                    customer_id=customer_id,
                    external_job_posting_id=str(job) if job else None,
                    received_at=execution.start_time,
                    erased=execution.status != WorkflowExecutionStatus.RUNNING,
                )
            )
        return ApplicationPage(items=items, next_cursor=next_cursor)

    async def record_action(
        self,
        customer_id: str,
        key: str,
        request: ActionRequest,
        idempotency_key: str | None = None,
    ) -> ActionRecord:
        """One lifecycle action queued for LinkedIn; the same Idempotency-Key answers the
        first one's record and sends nothing more."""
        handle = self._handle(customer_id, key)
        try:
            record: ActionRecord = await handle.execute_update(
                RECORD_ACTION,
                request,
                id=idempotency_key or None,
                result_type=ActionRecord,
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError):
                raise Refused(cause.message, cause.type or "InvalidOperation") from None
            raise
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                await self._raise_unknown_or_erased(customer_id, key)
            raise
        return record

    async def _raise_unknown_or_erased(self, customer_id: str, key: str) -> None:
        try:
            await self._handle(customer_id, key).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise UnknownApplication(customer_id, key) from None
            raise
        raise Refused(f"application {key!r} is erased", "OperationConflict")

    async def erase(self, customer_id: str, key: str) -> None:
        """Documents and personal data erased, then the workflow's history deleted (it held
        the application as LinkedIn sent it)."""
        handle = self._handle(customer_id, key)
        try:
            described = await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise UnknownApplication(customer_id, key) from None
            raise
        if described.status == WorkflowExecutionStatus.RUNNING:
            try:
                await handle.execute_update(ERASE, result_type=ApplicationView)
            except RPCError as error:  # it ended meanwhile (retention): erased already
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
            await handle.result()
        await self._delete(handle.id)
        await self._delete_intakes(customer_id)

    async def _delete(self, workflow_id: str, run_id: str = "") -> None:
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

    async def _delete_intakes(self, customer_id: str) -> None:
        """The intakes that carried this customer's applications, deleted once closed: their
        histories hold the bodies as LinkedIn sent them. One still open is waited for (it
        closes once it has started its children)."""
        listing = where(WorkflowType=LINKEDIN_INTAKE_WORKFLOW_TYPE, CustomerId=customer_id)
        running = f'{listing.query} AND ExecutionStatus = "Running"'
        for _ in range(INTAKE_WAITS):
            if not (await self._temporal.count_workflows(running)).count:
                break
            await asyncio.sleep(0.2)
        closed = f'{listing.query} AND ExecutionStatus != "Running"'
        async for execution in self._temporal.list_workflows(closed):
            if listing.admits(execution.search_attributes):
                await self._delete(execution.id, execution.run_id)
