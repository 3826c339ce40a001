"""Why a request through our clients was refused; `reason` says which HTTP status fits."""

from __future__ import annotations


class Refused(Exception):
    """A request refused by a workflow's rules, or for a resource that does not exist."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
