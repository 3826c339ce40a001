"""Reading a workflow's state by query, with a failure that says what went wrong.

A query runs on a worker, which replays the workflow's history when it does not hold the
run: it can fail for reasons that have nothing to do with Temporal being down, and an
operator needs to tell them apart (docs/operations.md, "A workflow that cannot be read").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Refused

T = TypeVar("T")

QUERY_TIMEOUT = timedelta(seconds=10)
"""How long a read waits for a worker: a caller gets an answer, not a hung request."""

OPERATOR_GUIDE = "docs/operations.md#a-workflow-that-cannot-be-read"

UNREADABLE = "WorkflowUnreadable"
"""The workflow exists, but no worker could answer its query: its task fails, or replay does."""

NO_WORKER = "NoWorkerAnswered"
"""The query timed out or was cancelled: no worker polls the task queue, or none keeps up."""


class WorkflowUnreadable(Refused):
    def __init__(self, workflow_id: str, cause: str, reason: str = UNREADABLE) -> None:
        super().__init__(f"workflow {workflow_id}: {cause} (see {OPERATOR_GUIDE})", reason)
        self.workflow_id = workflow_id


async def query(handle: WorkflowHandle[Any, Any], name: str, result_type: type[T]) -> T:
    """The query's answer; `WorkflowUnreadable` when a worker could not give it.

    NOT_FOUND and Temporal being unreachable are raised as they are, for the caller."""
    try:
        result: T = await handle.query(name, result_type=result_type, rpc_timeout=QUERY_TIMEOUT)
    except WorkflowQueryFailedError as error:
        raise WorkflowUnreadable(handle.id, f"the worker could not answer: {error}") from None
    except RPCError as error:
        if error.status == RPCStatusCode.FAILED_PRECONDITION:
            raise WorkflowUnreadable(
                handle.id, f"its workflow task is failing: {error.message}"
            ) from None
        if error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise WorkflowUnreadable(
                handle.id,
                f"no worker answered in time ({error.message}): do workers run and keep up?",
                NO_WORKER,
            ) from None
        raise
    return result
