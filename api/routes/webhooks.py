"""Webhook endpoints: register one (its secret shown once), list, remove, deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api import errors
from api.deps import Webhooks
from client.webhooks import DeliveryPage, RegisteredEndpoint
from domain.webhooks import NewWebhookEndpoint, WebhookEndpoint

router = APIRouter(tags=["webhooks"])


@router.post("/v1/webhooks", status_code=201, responses=errors.problems(409))
async def register_webhook(body: NewWebhookEndpoint, client: Webhooks) -> RegisteredEndpoint:
    """Deliver events (one customer's, or everyone's) to this URL, signed with the
    returned secret."""
    return await client.register(body.url, body.customer_id)


@router.get("/v1/webhooks")
async def list_webhooks(client: Webhooks) -> list[WebhookEndpoint]:
    """The registered endpoints (their secrets are shown only at registration)."""
    return await client.endpoints()


@router.delete("/v1/webhooks/{endpoint_id}", status_code=204, responses=errors.problems(404))
async def remove_webhook(endpoint_id: str, client: Webhooks) -> None:
    """Stop delivering to this endpoint."""
    if not await client.remove(endpoint_id):
        raise HTTPException(404, f"no webhook endpoint {endpoint_id!r}")


@router.get("/v1/webhooks/deliveries")
async def list_deliveries(
    client: Webhooks,
    customer_id: Annotated[str | None, Query(alias="customerId")] = None,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> DeliveryPage:
    """Recent deliveries (one Temporal workflow each), with their status, a page at a
    time."""
    return await client.deliveries(customer_id, page_size, cursor)
