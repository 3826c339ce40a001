"""The async httpx client for LinkedIn's partner APIs, and its typed errors.

Imports `domain` only. Base URLs and partner credentials are constructor arguments,
so the same client talks to the sandbox or to the real LinkedIn.
"""

from linkedin.client import LinkedInClient
from linkedin.errors import (
    IntegrationAlreadyEnabledError,
    LinkedInAuthError,
    LinkedInConflictError,
    LinkedInError,
    LinkedInForbiddenError,
    LinkedInNotFoundError,
    LinkedInPaymentRequiredError,
    LinkedInValidationError,
    PermanentLinkedInError,
    TransientLinkedInError,
    UnexpectedAnswerError,
)

__all__ = [
    "IntegrationAlreadyEnabledError",
    "LinkedInAuthError",
    "LinkedInClient",
    "LinkedInConflictError",
    "LinkedInError",
    "LinkedInForbiddenError",
    "LinkedInNotFoundError",
    "LinkedInPaymentRequiredError",
    "LinkedInValidationError",
    "PermanentLinkedInError",
    "TransientLinkedInError",
    "UnexpectedAnswerError",
]
