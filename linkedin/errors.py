"""What can go wrong talking to LinkedIn, split by what a caller should do about it.

`TransientLinkedInError`: try again later (network faults, 429, 5xx), honouring
`retry_after`. `PermanentLinkedInError` and its subclasses: LinkedIn said no, or said
something we cannot read; retrying the same request cannot help. Every error keeps
LinkedIn's status, serviceErrorCode and message, and never a token or secret (requests
are not attached; answer bodies are kept with secrets masked).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from domain.errors import FailureType

ALREADY_ENABLED_FRAGMENT = "already enabled integration"
SECRET_KEYS = frozenset({"client_secret", "access_token", "refresh_token", "id_token"})
MAX_BODY_CHARS = 2000


class LinkedInError(Exception):
    """An answer from LinkedIn that is not what was asked for."""

    failure_type: ClassVar[FailureType] = FailureType.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        service_error_code: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.service_error_code = service_error_code
        self.endpoint = endpoint

    def __str__(self) -> str:
        where = f" from {self.endpoint}" if self.endpoint else ""
        code = f" ({self.service_error_code})" if self.service_error_code else ""
        status = self.status if self.status is not None else "no answer"
        return f"LinkedIn {status}{code}{where}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), self.message, self.status, self.service_error_code, self.endpoint),
            self.__dict__,
        )


def _rebuild(
    cls: type[LinkedInError],
    message: str,
    status: int | None,
    code: int | None,
    endpoint: str | None,
) -> LinkedInError:
    return cls(message, status=status, service_error_code=code, endpoint=endpoint)


class TransientLinkedInError(LinkedInError):
    """Worth retrying: a network fault, a timeout, 429 or a 5xx."""

    failure_type: ClassVar[FailureType] = FailureType.TRANSIENT

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        never_sent: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.never_sent = never_sent
        """No connection was made: the request provably never reached LinkedIn."""


class PermanentLinkedInError(LinkedInError):
    """LinkedIn refused the request; the same request will be refused again."""

    failure_type: ClassVar[FailureType] = FailureType.PERMANENT


class LinkedInValidationError(PermanentLinkedInError):
    """400 or 422: the request breaks one of LinkedIn's rules."""

    failure_type: ClassVar[FailureType] = FailureType.VALIDATION


class IntegrationAlreadyEnabledError(LinkedInValidationError):
    """400 from atsIntegrations: the integration is ENABLED already (a success in disguise)."""

    failure_type: ClassVar[FailureType] = FailureType.ALREADY_ENABLED


class UnexpectedAnswerError(PermanentLinkedInError):
    """A 2xx answer whose shape we cannot read: reported with LinkedIn's body, not retried.

    Asking again would get the same answer; a person has to look (LinkedIn may have
    changed its API). `body` is LinkedIn's answer with secrets masked, cut to 2,000 chars.
    """

    failure_type: ClassVar[FailureType] = FailureType.UNEXPECTED_ANSWER

    def __init__(self, message: str, *, body: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.body = body

    def __str__(self) -> str:
        return f"{super().__str__()}; LinkedIn answered: {self.body}"


def unexpected_answer(what: str, body: Any, *, endpoint: str, status: int) -> UnexpectedAnswerError:
    """The error for an answer that surprises us, its body kept without secrets."""
    return UnexpectedAnswerError(
        f"unexpected answer: {what}", body=masked(body), status=status, endpoint=endpoint
    )


def masked(body: Any) -> str:
    """LinkedIn's answer as compact JSON, secrets masked, cut to MAX_BODY_CHARS."""
    text = json.dumps(_mask(body), separators=(",", ":"), default=str)
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "…"


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if k in SECRET_KEYS else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class LinkedInAuthError(PermanentLinkedInError):
    """401 that a fresh token did not cure, or client credentials LinkedIn rejects."""

    failure_type: ClassVar[FailureType] = FailureType.AUTH


class LinkedInPaymentRequiredError(PermanentLinkedInError):
    """402: the contract is out of budget or slots."""

    failure_type: ClassVar[FailureType] = FailureType.PAYMENT_REQUIRED


class LinkedInForbiddenError(PermanentLinkedInError):
    """403: this application may not do that (wrong app, contract not enabled for it)."""

    failure_type: ClassVar[FailureType] = FailureType.FORBIDDEN


class LinkedInNotFoundError(PermanentLinkedInError):
    """404: no such record (for atsIntegrations: the customer never saved the widget)."""

    failure_type: ClassVar[FailureType] = FailureType.NOT_FOUND


class LinkedInConflictError(PermanentLinkedInError):
    """406 or 409: the operation does not fit the job's or application's current state."""

    failure_type: ClassVar[FailureType] = FailureType.CONFLICT


_BY_STATUS: dict[int, type[PermanentLinkedInError]] = {
    400: LinkedInValidationError,
    401: LinkedInAuthError,
    402: LinkedInPaymentRequiredError,
    403: LinkedInForbiddenError,
    404: LinkedInNotFoundError,
    406: LinkedInConflictError,
    409: LinkedInConflictError,
    422: LinkedInValidationError,
}


def classify(
    status: int,
    message: str,
    *,
    service_error_code: int | None = None,
    endpoint: str | None = None,
    retry_after: float | None = None,
) -> LinkedInError:
    """Map an HTTP (or per-item) status and LinkedIn's message to the error to raise."""
    kw: dict[str, Any] = {
        "status": status,
        "service_error_code": service_error_code,
        "endpoint": endpoint,
    }
    if status == 429 or status >= 500 or status == 408:
        return TransientLinkedInError(message, retry_after=retry_after, **kw)
    if status == 400 and ALREADY_ENABLED_FRAGMENT in message:
        return IntegrationAlreadyEnabledError(message, **kw)
    cls = _BY_STATUS.get(status, PermanentLinkedInError)
    return cls(message, **kw)


def from_body(
    status: int, body: Any, *, endpoint: str, retry_after: float | None = None
) -> LinkedInError:
    """Build the error for a non-2xx answer from its JSON body (or lack of one)."""
    message = f"HTTP {status}"
    code: int | None = None
    if isinstance(body, dict):
        raw = body.get("message") or body.get("error_description") or body.get("error")
        if isinstance(raw, str) and raw:
            message = raw
        raw_code = body.get("serviceErrorCode")
        code = raw_code if isinstance(raw_code, int) else None
    return classify(
        status, message, service_error_code=code, endpoint=endpoint, retry_after=retry_after
    )
