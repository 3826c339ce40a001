"""Reading activity failures inside workflows, and the failures workflows answer with."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError

from domain.errors import FailureType, WorkflowFailure


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


class HiringContractRefused(ApplicationError):
    """LinkedIn refused a P4P contract's setup: the update fails with LinkedIn's message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=str(WorkflowFailure.HIRING_CONTRACT_REFUSED))


class ApplicationSyncFailed(ApplicationError):
    """The app sync could not be made (LinkedIn's refusal, or not in time): ask again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=str(WorkflowFailure.APPLICATION_SYNC_FAILED))
