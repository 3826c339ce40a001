"""Reading activity failures inside workflows."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError

from domain.errors import FailureType


def failure_type(error: ActivityError) -> FailureType | None:
    """The activity's FailureType, or None for a timeout (retries ran out of time)."""
    cause = error.cause
    if not isinstance(cause, ApplicationError) or cause.type is None:
        return None
    try:
        return FailureType(cause.type)
    except ValueError:
        return None


def failure_message(error: ActivityError) -> str:
    """LinkedIn's message as the activity kept it, or what stopped the activity."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)
