"""Offboarding as our clients see it: start it, read it, and refuse what it forbids.

While a customer's offboarding workflow runs, every client refuses a new operation for the
customer at once (`Offboarding`, a 409 naming the state); once it has finished, the
customer may be onboarded again under the same id.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Refused
from client.reads import query
from domain.offboarding import (
    OFFBOARDING_STATE_QUERY,
    OFFBOARDING_WORKFLOW_TYPE,
    OffboardingInput,
    OffboardingState,
    offboarding_workflow_id,
)
from workflows.search_attributes import CUSTOMER_ID


class Offboarding(Refused):
    def __init__(self, customer_id: str) -> None:
        super().__init__(
            f"customer {customer_id!r} is OFFBOARDING: no new operation is taken for it",
            "OperationConflict",
        )


def _handle(temporal: Client, customer_id: str) -> WorkflowHandle[Any, Any]:
    return temporal.get_workflow_handle(offboarding_workflow_id(customer_id))


async def offboarding_status(temporal: Client, customer_id: str) -> WorkflowExecutionStatus | None:
    """The status of the customer's last offboarding; None if it was never offboarded."""
    try:
        description = await _handle(temporal, customer_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return description.status


async def refuse_if_offboarding(temporal: Client, customer_id: str) -> None:
    """`Offboarding` while the customer's offboarding workflow runs."""
    if await offboarding_status(temporal, customer_id) == WorkflowExecutionStatus.RUNNING:
        raise Offboarding(customer_id)


async def start_offboarding(
    temporal: Client,
    customer_id: str,
    *,
    task_queue: str,
    ats_name: str,
    erase: bool = True,
    webhooks: bool = False,
) -> OffboardingState:
    """Start the customer's offboarding, or reach the running one (USE_EXISTING)."""
    handle = await temporal.start_workflow(
        OFFBOARDING_WORKFLOW_TYPE,
        OffboardingInput(
            customer_id=customer_id, ats_name=ats_name, erase=erase, webhooks=webhooks
        ),
        id=offboarding_workflow_id(customer_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes([SearchAttributePair(CUSTOMER_ID, customer_id)]),
        static_summary=f"{customer_id}: offboarding (jobs closed, app retired, data erased)",
    )
    return await query(handle, OFFBOARDING_STATE_QUERY, OffboardingState)


async def offboarding_state(temporal: Client, customer_id: str) -> OffboardingState | None:
    """The last offboarding's state (its progress while it runs); None if never offboarded."""
    try:
        return await query(
            _handle(temporal, customer_id), OFFBOARDING_STATE_QUERY, OffboardingState
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
