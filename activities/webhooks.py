"""Activities of webhook delivery: who receives an event, and one signed POST."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

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


WANTED_FRESH_SECONDS = 5.0
"""How long a read of the registry that found an endpoint for a customer answers "wanted"
for it again without another read."""

Read = Callable[[], Awaitable[list[WebhookEndpoint]]]


def _for(endpoints: list[WebhookEndpoint], customer_id: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints if e.customer_id in (None, customer_id)]


class SharedRegistryReads:
    """The registry as "is this event wanted?" reads it: one read for a burst of callers.

    A burst of applications asked the registry workflow once each, and the queries waited
    for workflow task slots on the worker the bursts filled (docs/performance.md (g)). Here
    the callers that come while a read runs share it, and a read that found an endpoint for
    a customer answers for it for WANTED_FRESH_SECONDS. Only "wanted" is shared or kept: a
    stale "wanted" starts a delivery that reads the registry afresh and sends to nobody,
    while "nobody wants it" is always what a read begun after the question found.
    """

    def __init__(self, read: Read, fresh_seconds: float = WANTED_FRESH_SECONDS) -> None:
        self._read = read
        self._fresh = fresh_seconds
        self._last: tuple[float, list[WebhookEndpoint]] | None = None
        self._running: tuple[float, asyncio.Task[list[WebhookEndpoint]]] | None = None

    async def targets(self, customer_id: str) -> list[WebhookEndpoint]:
        asked, last = time.monotonic(), self._last
        if (
            last is not None
            and asked - last[0] < self._fresh
            and (known := _for(last[1], customer_id))
        ):
            return known
        started, read = self._joined()
        found = _for(await asyncio.shield(read), customer_id)
        if found or started >= asked:
            return found
        _, read = self._joined()  # begun after the question: the read that ended did not
        return _for(await asyncio.shield(read), customer_id)

    def _joined(self) -> tuple[float, asyncio.Task[list[WebhookEndpoint]]]:
        """The read under way (when it began, the read), or one begun now."""
        if self._running is not None:
            return self._running
        started = time.monotonic()
        read = asyncio.ensure_future(self._read())
        self._running = (started, read)

        def done(task: asyncio.Task[list[WebhookEndpoint]]) -> None:
            if self._running is not None and self._running[1] is task:
                self._running = None
            if not task.cancelled() and task.exception() is None:
                self._last = (started, task.result())

        read.add_done_callback(done)
        return self._running


class WebhookActivities:
    """Holds a Temporal client (for the registry), an HTTP client and the signing key."""

    def __init__(self, temporal: Client, http: httpx.AsyncClient, signing_key: bytes) -> None:
        self._temporal = temporal
        self._http = http
        self._signing_key = signing_key
        self._shared: dict[str, SharedRegistryReads] = {}

    @activity.defn(name=WEBHOOK_TARGETS)
    async def webhook_targets(self, customer_id: str) -> list[WebhookEndpoint]:
        """The endpoints for the customer's events. Asked as a local activity ("is it
        wanted?"), reads are shared; the delivery's own ask reads the registry afresh."""
        registry = webhook_endpoints_workflow_id(activity.info().task_queue)
        if not activity.info().is_local:
            return _for(await self._endpoints(registry), customer_id)
        shared = self._shared.get(registry)
        if shared is None:
            shared = self._shared[registry] = SharedRegistryReads(lambda: self._endpoints(registry))
        return await shared.targets(customer_id)

    async def _endpoints(self, registry: str) -> list[WebhookEndpoint]:
        handle = self._temporal.get_workflow_handle(registry)
        try:
            endpoints: list[WebhookEndpoint] = await handle.query(
                "endpoints", result_type=list[WebhookEndpoint]
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return []  # nobody registered an endpoint yet
            raise
        return endpoints

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
