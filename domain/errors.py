"""Names of the failures activities report, shared by activities and workflows.

Activities raise Temporal `ApplicationError`s whose `type` is one of these, so workflows
can tell LinkedIn's refusals apart without importing the HTTP client.
"""

from __future__ import annotations

from enum import StrEnum


class FailureType(StrEnum):
    TRANSIENT = "TransientLinkedInError"
    VALIDATION = "LinkedInValidationError"
    ALREADY_ENABLED = "IntegrationAlreadyEnabledError"
    AUTH = "LinkedInAuthError"
    PAYMENT_REQUIRED = "LinkedInPaymentRequiredError"
    FORBIDDEN = "LinkedInForbiddenError"
    NOT_FOUND = "LinkedInNotFoundError"
    CONFLICT = "LinkedInConflictError"
    PERMANENT = "PermanentLinkedInError"
    CREDENTIALS_MISSING = "CustomerCredentialsMissing"
    """The customer's app exists at LinkedIn but its secret is not in our store."""
    TASK_IN_PROGRESS = "TaskInProgress"
    """A job task has not finished yet; polled again at a fixed interval."""


PERMANENT_FAILURES: tuple[FailureType, ...] = tuple(
    f for f in FailureType if f not in (FailureType.TRANSIENT, FailureType.TASK_IN_PROGRESS)
)
"""Failures that retrying the same request cannot cure."""
