"""Activities of webhook delivery: who receives an event, and one signed POST."""

from __future__ import annotations

import time

import httpx
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import WebhookFailure
from domain.webhooks import (
    POST_WEBHOOK,
    SIGNATURE_HEADER,
    WEBHOOK_TARGETS,
    PostWebhook,
    WebhookEndpoint,
    endpoint_secret,
    sign,
    webhook_endpoints_workflow_id,
)


class WebhookUnreachable(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=str(WebhookFailure.UNREACHABLE))


class WebhookGone(ApplicationError):
    """410 Gone: the endpoint asks for no more events; not retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=str(WebhookFailure.GONE), non_retryable=True)


class WebhookRefused(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type=str(WebhookFailure.REFUSED))


class WebhookActivities:
    """Holds a Temporal client (for the registry), an HTTP client and the signing key."""

    def __init__(self, temporal: Client, http: httpx.AsyncClient, signing_key: bytes) -> None:
        self._temporal = temporal
        self._http = http
        self._signing_key = signing_key

    @activity.defn(name=WEBHOOK_TARGETS)
    async def webhook_targets(self, customer_id: str) -> list[WebhookEndpoint]:
        registry = webhook_endpoints_workflow_id(activity.info().task_queue)
        handle = self._temporal.get_workflow_handle(registry)
        try:
            endpoints = await handle.query("endpoints", result_type=list[WebhookEndpoint])
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return []  # nobody registered an endpoint yet
            raise
        return [e for e in endpoints if e.customer_id in (None, customer_id)]

    @activity.defn(name=POST_WEBHOOK)
    async def post_webhook(self, request: PostWebhook) -> int:
        """One signed POST; anything but 2xx is retried, 410 Gone ends the delivery."""
        body = request.event.model_dump_json(by_alias=True).encode()
        secret = endpoint_secret(self._signing_key, request.endpoint.id)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": request.event.id,
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        }
        try:
            response = await self._http.post(request.endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookUnreachable(f"{request.endpoint.url}: {type(error).__name__}") from None
        if response.status_code == 410:
            raise WebhookGone(f"{request.endpoint.url} answered 410 Gone")
        if not response.is_success:
            raise WebhookRefused(f"{request.endpoint.url} answered {response.status_code}")
        return response.status_code
