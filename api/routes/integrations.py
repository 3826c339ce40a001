"""Onboarding a customer: its integrations, the widget's callback, enable and retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import Field

from api import errors
from api.deps import CustomerId, Integrations
from client.integrations import IntegrationPage
from domain.documents import Document
from domain.integration_workflow import (
    MAX_CONTEXTS,
    MAX_CUSTOMER_NAME,
    ContextStatus,
    IntegrationState,
)
from domain.integrations import IntegrationBundle, IntegrationType, WidgetCallback

router = APIRouter(tags=["integrations"])


class OnboardingStart(Document):
    customer_name: str = Field(
        min_length=1, max_length=MAX_CUSTOMER_NAME, description="Shown to the customer by LinkedIn."
    )
    integration_types: list[IntegrationType | IntegrationBundle] = Field(
        default=[IntegrationType.PREMIUM_JOB_POSTING],
        min_length=1,
        description="atsIntegrations types, or plugin bundles (RECRUITER_SYSTEM_CONNECT_COMPANY "
        "starts ONE_CLICK_EXPORT, IN_ATS_INDICATOR and PROFILE_PLUGIN).",
    )


class Accepted(Document):
    workflow_ids: list[str]


class EnableBody(Document):
    integration_context: str | None = Field(
        default=None, description="One context to enable; every waiting one when left out."
    )


@router.post("/v1/customers/{customer_id}/onboarding", status_code=202)
async def start_onboarding(
    customer_id: CustomerId, body: OnboardingStart, client: Integrations
) -> Accepted:
    """Start onboarding a customer: one durable workflow per integration type."""
    ids = await client.start_onboarding(customer_id, body.customer_name, body.integration_types)
    return Accepted(workflow_ids=ids)


@router.post("/v1/customers/{customer_id}/widget-callback", status_code=202)
async def receive_widget_callback(
    customer_id: CustomerId,
    values: Annotated[list[WidgetCallback], Body(max_length=MAX_CONTEXTS)],
    client: Integrations,
) -> Accepted:
    """The array LinkedIn's widget hands `confirmJobPoster` / `handleIntegrations`."""
    raw = [v.model_dump(by_alias=True, mode="json") for v in values]
    return Accepted(workflow_ids=await client.widget_saved(customer_id, raw))


@router.get("/v1/customers/{customer_id}/integrations")
async def list_customer_integrations(
    customer_id: CustomerId, client: Integrations
) -> list[IntegrationState]:
    """Every integration of the customer, with each context's state and history."""
    summaries = await client.list_integrations(customer_id=customer_id)
    return [await client.integration_state(customer_id, s.integration_type) for s in summaries]


@router.post(
    "/v1/customers/{customer_id}/integrations/{integration_type}/enable",
    responses=errors.problems(404),
)
async def enable_integration(
    customer_id: CustomerId,
    integration_type: IntegrationType,
    client: Integrations,
    body: EnableBody | None = None,
) -> IntegrationState:
    """Enable and verify at LinkedIn now; answers the resulting state."""
    context = body.integration_context if body else None
    return await client.enable(customer_id, integration_type, context)


@router.post(
    "/v1/customers/{customer_id}/integrations/{integration_type}/retry",
    status_code=202,
    responses=errors.problems(404),
)
async def retry_integration(
    customer_id: CustomerId, integration_type: IntegrationType, client: Integrations
) -> None:
    """After an operator fixed what NEEDS_ATTENTION named."""
    await client.retry(customer_id, integration_type)


@router.get("/v1/integrations")
async def list_integrations(
    client: Integrations,
    status: ContextStatus | None = None,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> IntegrationPage:
    """Integrations across customers, filtered by headline status, a page at a time
    (one visibility query each)."""
    return await client.integrations_page(status=status, page_size=page_size, cursor=cursor)
