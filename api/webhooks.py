"""Webhook routes: register an endpoint (its secret shown once), list, remove, deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.params import Depends as DependsParam

from client.webhooks import DeliveryPage, RegisteredEndpoint, WebhooksClient
from domain.webhooks import NewWebhookEndpoint, WebhookEndpoint


def _webhooks(request: Request) -> WebhooksClient:
    client: WebhooksClient = request.app.state.webhooks
    return client


Webhooks = Annotated[WebhooksClient, Depends(_webhooks)]


def webhook_routes(dependencies: Sequence[DependsParam]) -> APIRouter:
    router = APIRouter(dependencies=list(dependencies), tags=["webhooks"])

    @router.post("/v1/webhooks", status_code=201)
    async def register(body: NewWebhookEndpoint, client: Webhooks) -> RegisteredEndpoint:
        """Deliver events (one customer's, or everyone's) to this URL, signed with the
        returned secret."""
        return await client.register(body.url, body.customer_id)

    @router.get("/v1/webhooks")
    async def endpoints(client: Webhooks) -> list[WebhookEndpoint]:
        """The registered endpoints (their secrets are shown only at registration)."""
        return await client.endpoints()

    @router.delete("/v1/webhooks/{endpoint_id}", status_code=204)
    async def remove(endpoint_id: str, client: Webhooks) -> None:
        """Stop delivering to this endpoint."""
        if not await client.remove(endpoint_id):
            raise HTTPException(404, f"no webhook endpoint {endpoint_id!r}")

    @router.get("/v1/webhooks/deliveries")
    async def deliveries(
        client: Webhooks,
        customer_id: Annotated[str | None, Query(alias="customerId")] = None,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
        cursor: Annotated[str | None, Query(max_length=4000)] = None,
    ) -> DeliveryPage:
        """Recent deliveries (one Temporal workflow each), with their status, a page at a
        time."""
        return await client.deliveries(customer_id, page_size, cursor)

    return router
