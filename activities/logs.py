"""Activity log lines bound with the ids an operator searches by."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity

_log: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger("activities")


def activity_log(customer_id: str, **ids: Any) -> structlog.stdlib.BoundLogger:
    """A logger bound with customer, workflow, activity and attempt (and any job id)."""
    info = activity.info()
    bound: structlog.stdlib.BoundLogger = _log.bind(
        customer_id=customer_id,
        workflow_id=info.workflow_id,
        activity=info.activity_type,
        attempt=info.attempt,
        **ids,
    )
    return bound
