"""LinkedIn errors as Temporal sees them: typed, retryable or not, secrets left behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from linkedin.errors import LinkedInError, PermanentLinkedInError, TransientLinkedInError


def application_error(error: LinkedInError) -> ApplicationError:
    """The ApplicationError to raise for a LinkedIn error.

    Its type is the error class's name (a `FailureType`), its details carry LinkedIn's
    status, serviceErrorCode and message, and a Retry-After becomes `next_retry_delay`.
    """
    failure = error.failure_type
    delay = None
    if isinstance(error, TransientLinkedInError) and error.retry_after is not None:
        delay = timedelta(seconds=error.retry_after)
    return ApplicationError(
        str(error),
        {
            "status": error.status,
            "serviceErrorCode": error.service_error_code,
            "message": error.message,
            "endpoint": error.endpoint,
        },
        type=str(failure),
        non_retryable=isinstance(error, PermanentLinkedInError),
        next_retry_delay=delay,
    )


@asynccontextmanager
async def linkedin_errors() -> AsyncIterator[None]:
    """Raise LinkedIn errors out of an activity as classified ApplicationErrors."""
    try:
        yield
    except LinkedInError as error:
        raise application_error(error) from None
