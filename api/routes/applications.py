"""The customer's LinkedIn app: activated for a P4P hiring contract, kept in line with
our settings (widget domains, callback URLs)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import Field, RootModel

from api import errors
from api.deps import CustomerId, Integrations
from domain.documents import Document
from domain.integration_workflow import (
    MAX_CUSTOMER_NAME,
    ApplicationSync,
    HiringContractState,
    HiringContractStatus,
)

router = APIRouter(tags=["applications"])


class HiringContractBody(Document):
    partner_contract_id: int = Field(gt=0, description="LinkedIn's partnerContractId for P4P.")
    customer_name: str | None = Field(
        default=None,
        max_length=MAX_CUSTOMER_NAME,
        description="Needed only when the customer is not onboarded yet.",
    )


class ApplicationSyncs(RootModel[dict[str, ApplicationSync]]):
    """Each customer's sync, by customer id."""


@router.post(
    "/v1/customers/{customer_id}/hiring-contracts",
    response_model=HiringContractState,
    responses={
        200: {"description": "Set up: the contract URN P4P jobs post on."},
        202: {
            "model": HiringContractState,
            "description": "No answer from LinkedIn yet; retried in the background.",
        },
    },
)
async def setup_hiring_contract(
    customer_id: CustomerId, body: HiringContractBody, client: Integrations
) -> JSONResponse:
    """Activate the customer's app for a P4P contract (provisionedHiringContracts, once).

    200 with the contract URN P4P jobs post on; 422 with LinkedIn's refusal.
    """
    record: HiringContractState = await client.setup_hiring_contract(
        customer_id, body.partner_contract_id, body.customer_name
    )
    code = 200 if record.status == HiringContractStatus.SET_UP else 202
    return JSONResponse(record.model_dump(mode="json", by_alias=True), status_code=code)


@router.post("/v1/customers/{customer_id}/application/sync", responses=errors.problems(404))
async def sync_application(customer_id: CustomerId, client: Integrations) -> ApplicationSync:
    """Update the customer's LinkedIn app to carry our widget domains and callback URLs."""
    synced = await client.sync_applications(customer_id)
    if customer_id not in synced:
        raise HTTPException(404, f"customer {customer_id} has no running integration")
    return synced[customer_id]


@router.post("/v1/applications/sync")
async def sync_applications(client: Integrations) -> ApplicationSyncs:
    """Every onboarded customer's app brought in line with the settings (idempotent)."""
    return ApplicationSyncs(await client.sync_applications())
