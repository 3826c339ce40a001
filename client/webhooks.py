"""WebhooksClient: register the ATS's webhook endpoints, and list deliveries."""

from __future__ import annotations

from typing import Any, Protocol

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Refused
from client.pages import page
from domain.documents import Document
from domain.visibility import where
from domain.webhooks import (
    WEBHOOK_DELIVERY_WORKFLOW_TYPE,
    WEBHOOK_ENDPOINTS_WORKFLOW_TYPE,
    NewWebhookEndpoint,
    WebhookEndpoint,
    endpoint_secret,
    webhook_endpoints_workflow_id,
)


class RegisteredEndpoint(WebhookEndpoint):
    secret: str
    """Verifies the signatures of this endpoint's deliveries; shown at registration."""


class Delivery(Document):
    event_id: str
    status: str
    summary: str | None = None


class DeliveryPage(Document):
    items: list[Delivery]
    next_cursor: str | None = None


class WebhooksSettings(Protocol):
    task_queue: str

    def webhook_key(self) -> bytes: ...


class WebhooksClient:
    def __init__(self, temporal: Client, *, task_queue: str, signing_key: bytes) -> None:
        self._temporal = temporal
        self._task_queue = task_queue
        self._signing_key = signing_key

    @classmethod
    def from_settings(cls, temporal: Client, settings: WebhooksSettings) -> WebhooksClient:
        return cls(temporal, task_queue=settings.task_queue, signing_key=settings.webhook_key())

    def _registry(self) -> WorkflowHandle[Any, Any]:
        return self._temporal.get_workflow_handle(webhook_endpoints_workflow_id(self._task_queue))

    async def register(self, url: str, customer_id: str | None = None) -> RegisteredEndpoint:
        """Register an endpoint (the same URL and customer again answers the same one)."""
        request = NewWebhookEndpoint(url=url, customer_id=customer_id)
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            WEBHOOK_ENDPOINTS_WORKFLOW_TYPE,
            None,
            id=webhook_endpoints_workflow_id(self._task_queue),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary="the ATS's webhook endpoints",
        )
        try:
            endpoint: WebhookEndpoint = await self._temporal.execute_update_with_start_workflow(
                "register", request, start_workflow_operation=start, result_type=WebhookEndpoint
            )
        except WorkflowUpdateFailedError as error:
            message = str(getattr(error.cause, "message", error))
            raise Refused(message, "OperationConflict") from None
        secret = endpoint_secret(self._signing_key, endpoint.id)
        return RegisteredEndpoint(**endpoint.model_dump(), secret=secret)

    async def endpoints(self) -> list[WebhookEndpoint]:
        handle = self._registry()
        try:
            found: list[WebhookEndpoint] = await handle.query(
                "endpoints", result_type=list[WebhookEndpoint]
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return []
            raise
        return found

    async def remove(self, endpoint_id: str) -> bool:
        handle = self._registry()
        try:
            removed: bool = await handle.execute_update("remove", endpoint_id, result_type=bool)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return removed

    async def deliveries(
        self, customer_id: str | None = None, page_size: int = 100, cursor: str | None = None
    ) -> DeliveryPage:
        """One page of deliveries, newest first, from Temporal's visibility."""
        listing = where(WorkflowType=WEBHOOK_DELIVERY_WORKFLOW_TYPE, CustomerId=customer_id)
        executions, next_cursor = await page(self._temporal, listing.query, page_size, cursor)
        items = [
            Delivery(
                event_id=execution.id.removeprefix("webhook/"),
                status=execution.status.name if execution.status else "UNKNOWN",
            )
            for execution in executions
            if listing.admits(execution.search_attributes)
        ]
        return DeliveryPage(items=items, next_cursor=next_cursor)
