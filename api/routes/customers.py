"""Customers: one customer whole (integrations, app, job counts), and every customer.

A customer exists once its onboarding started (`POST …/onboarding`); it is read from its
integration workflows and its jobs' search attributes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import errors
from api.deps import CustomerId, Customers
from client.customers import MAX_PAGE_SIZE
from domain.customers import Customer, CustomerPage, CustomerStatus
from domain.offboarding import OffboardingState

router = APIRouter(tags=["customers"])


@router.get("/v1/customers/{customer_id}", responses=errors.problems(404))
async def get_customer(customer_id: CustomerId, client: Customers) -> Customer:
    """Its integrations and headline status, its LinkedIn app's client id, its jobs by
    status, when it was onboarded and when anything about it last changed."""
    return await client.customer(customer_id)


@router.get("/v1/customers")
async def list_customers(
    client: Customers,
    status: CustomerStatus | None = None,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=4000)] = None,
) -> CustomerPage:
    """Customers by headline status, a page at a time: pass `nextCursor` as `cursor` for
    the next (a page may hold fewer than pageSize, even none, and still have a next)."""
    return await client.customers_page(status=status, page_size=page_size, cursor=cursor)


@router.delete("/v1/customers/{customer_id}", status_code=202, responses=errors.problems(404, 409))
async def offboard_customer(
    customer_id: CustomerId,
    client: Customers,
    erase: Annotated[
        bool, Query(description="Erase what we keep about the customer once it is off.")
    ] = True,
) -> OffboardingState:
    """Offboard the customer, durably: new operations for it are refused (409) at once;
    every open job is closed at LinkedIn, its app retired, its integrations ended, then
    what we keep about it erased. Again answers the offboarding under way or done;
    `GET /v1/customers/{id}` shows its progress."""
    return await client.offboard(customer_id, erase=erase)
