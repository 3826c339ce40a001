"""Webhooks: the endpoint registry, and one delivery workflow per event.

`WebhookEndpointsWorkflow` keeps the registered endpoints (URLs only; secrets are derived
from the signing key, never stored). `WebhookDeliveryWorkflow` delivers one event to
every endpoint that wants it, each retried with backoff for up to three days: at least
once, visible in the Temporal UI, and its workflow id (the event id) makes a second start
of the same event a no-op.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.errors import WebhookFailure
    from domain.job_lifecycle import RefusalReason
    from domain.webhooks import (
        MAX_ENDPOINTS,
        POST_WEBHOOK,
        WEBHOOK_DELIVERY_WORKFLOW_TYPE,
        WEBHOOK_ENDPOINTS_WORKFLOW_TYPE,
        WEBHOOK_TARGETS,
        NewWebhookEndpoint,
        PostWebhook,
        WebhookEndpoint,
        WebhookEvent,
    )
    from workflows.failures import failure_message
    from workflows.policies import LINKEDIN_CALL_TIMEOUT
    from workflows.search_attributes import CUSTOMER_ID

DELIVERY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
    maximum_attempts=0,
    non_retryable_error_types=[str(WebhookFailure.GONE)],
)
DELIVERY_DEADLINE = timedelta(days=3)

TARGETS_FIRST = "webhook-targets-first"
"""Runs since this patch look for the event's endpoints (a local activity) before starting
its delivery workflow, and start none when no endpoint wants it: a child workflow, its
activity and their actions, billed for nobody, were the cost of every event before."""


class EventOutbox:
    """A workflow's webhook events, handed in order to one delivery workflow each.

    The delivery workflow's id is the event id, so a second start of the same event is
    a no-op, and it outlives the workflow that started it. `drained()` before the
    workflow completes or continues as new: no event is left behind.
    """

    def __init__(self) -> None:
        self._events: list[WebhookEvent] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, events: list[WebhookEvent]) -> None:
        self._events += events
        if events and self._task is None:
            self._task = asyncio.create_task(self._hand_over())

    async def drained(self) -> None:
        await workflow.wait_condition(lambda: not self._events)

    async def _hand_over(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._events))
            event = self._events[0]
            if not await _wanted(event):
                self._events.pop(0)
                continue
            with suppress(WorkflowAlreadyStartedError):  # handed over already
                await workflow.start_child_workflow(
                    WEBHOOK_DELIVERY_WORKFLOW_TYPE,
                    event,
                    id=f"webhook/{event.id}",
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(CUSTOMER_ID, event.customer_id)]
                    ),
                    static_summary=f"{event.type} for {event.customer_id}",
                )
            self._events.pop(0)


async def _wanted(event: WebhookEvent) -> bool:
    """Whether an endpoint is registered for the event's customer now (older runs: always).
    When the registry cannot be read, the delivery workflow is started and reads it."""
    if not workflow.patched(TARGETS_FIRST):
        return True
    try:
        targets = await workflow.execute_local_activity(
            WEBHOOK_TARGETS,
            event.customer_id,
            result_type=list[WebhookEndpoint],
            start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
            schedule_to_close_timeout=timedelta(minutes=2),
        )
    except ActivityError:
        return True
    return bool(targets)


@workflow.defn(name=WEBHOOK_ENDPOINTS_WORKFLOW_TYPE)
class WebhookEndpointsWorkflow:
    """The registered endpoints, for the whole deployment."""

    @workflow.init
    def __init__(self, endpoints: list[WebhookEndpoint] | None = None) -> None:
        self._endpoints: list[WebhookEndpoint] = list(endpoints or [])

    @workflow.run
    async def run(self, endpoints: list[WebhookEndpoint] | None = None) -> None:
        await workflow.wait_condition(lambda: workflow.info().is_continue_as_new_suggested())
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._endpoints)

    @workflow.update
    def register(self, endpoint: NewWebhookEndpoint) -> WebhookEndpoint:
        for known in self._endpoints:
            if (known.url, known.customer_id) == (endpoint.url, endpoint.customer_id):
                return known
        registered = WebhookEndpoint(
            id=f"we_{workflow.uuid4().hex}", url=endpoint.url, customer_id=endpoint.customer_id
        )
        self._endpoints.append(registered)
        return registered

    @register.validator
    def _validate_register(self, endpoint: NewWebhookEndpoint) -> None:
        if len(self._endpoints) >= MAX_ENDPOINTS:
            raise ApplicationError(
                f"at most {MAX_ENDPOINTS} webhook endpoints; remove one first",
                type=str(RefusalReason.CONFLICT),
                non_retryable=True,
            )

    @workflow.update
    def remove(self, endpoint_id: str) -> bool:
        before = len(self._endpoints)
        self._endpoints = [e for e in self._endpoints if e.id != endpoint_id]
        return len(self._endpoints) != before

    @workflow.query
    def endpoints(self) -> list[WebhookEndpoint]:
        return self._endpoints


@workflow.defn(name=WEBHOOK_DELIVERY_WORKFLOW_TYPE)
class WebhookDeliveryWorkflow:
    """One event to every endpoint that wants it."""

    @workflow.run
    async def run(self, event: WebhookEvent) -> dict[str, str]:
        targets = await workflow.execute_activity(
            WEBHOOK_TARGETS,
            event.customer_id,
            result_type=list[WebhookEndpoint],
            start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
            retry_policy=DELIVERY,
        )
        workflow.set_current_details(f"{event.type} {event.id} to {len(targets)} endpoint(s)")
        results = await asyncio.gather(*(self._deliver(t, event) for t in targets))
        return dict(zip((t.id for t in targets), results, strict=True))

    async def _deliver(self, endpoint: WebhookEndpoint, event: WebhookEvent) -> str:
        try:
            await workflow.execute_activity(
                POST_WEBHOOK,
                PostWebhook(endpoint=endpoint, event=event),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=DELIVERY_DEADLINE,
                retry_policy=DELIVERY,
                summary=f"{event.type} to {endpoint.url}",
            )
        except ActivityError as error:
            return f"not delivered: {failure_message(error)}"
        return "delivered"
