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
    UNEXPECTED_ANSWER = "UnexpectedAnswerError"
    """LinkedIn answered in a shape we cannot read; its body is in the message."""
    CREDENTIALS_MISSING = "CustomerCredentialsMissing"
    """No credentials for the customer in our store: not onboarded (yet), or a lost secret."""
    TASK_FAILED = "LinkedInTaskFailed"
    """LinkedIn processed a job task and refused it (HTTP 200, task FAILED)."""
    CREDENTIAL_KEY_MISMATCH = "CredentialKeyMismatch"
    """No configured credential key decrypts the customer's stored secret."""


PERMANENT_FAILURES: tuple[FailureType, ...] = tuple(
    f for f in FailureType if f != FailureType.TRANSIENT
)
"""Failures that retrying the same request cannot cure."""


class WorkflowFailure(StrEnum):
    """The types of the failures our own workflows answer an update with."""

    HIRING_CONTRACT_REFUSED = "HiringContractRefused"
    """LinkedIn refused a P4P contract's setup; the message is LinkedIn's."""
    APPLICATION_SYNC_FAILED = "ApplicationSyncFailed"
    """The customer's app could not be brought in line with the settings (or not in time)."""


class WebhookFailure(StrEnum):
    """Why one webhook POST failed; GONE ends the event's delivery to that endpoint."""

    UNREACHABLE = "WebhookUnreachable"
    GONE = "WebhookGone"
    REFUSED = "WebhookRefused"
