"""One readable line for a validation error (the field, then the rule), and the shared
rules for what we send LinkedIn: printable ids, a LinkedIn-Version."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

__all__ = ["LINKEDIN_VERSION", "ValidationError", "first_problem", "printable_id", "rule"]

LINKEDIN_VERSION = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")
"""LinkedIn-Version is a month, YYYYMM (LinkedIn's SDK sends 202504)."""

_PREFIXES = ("Value error, ", "Assertion failed, ")


def rule(error: Mapping[str, Any]) -> str:
    """The rule an error broke, without pydantic's 'Value error, ' prefix."""
    message = str(error["msg"])
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def first_problem(error: ValidationError) -> str:
    """'field.path: rule' for the first error; rules of the whole model name their field."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {rule(first)}" if where else rule(first)


def printable_id(value: str) -> str:
    """An id we send or key by: no control characters (tab, newline, ...) and not blank.

    LinkedIn and our own workflow ids treat such ids as distinct from what a person reads.
    """
    if not value.strip():
        raise ValueError("must not be blank")
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(f"must not contain control characters (found {bad!r})")
    return value
