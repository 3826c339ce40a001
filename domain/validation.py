"""One readable line for a validation error: the field, then the rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

__all__ = ["ValidationError", "first_problem", "rule"]

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
