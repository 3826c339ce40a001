"""Temporal visibility queries over our search attributes, built safely."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def quoted(value: str) -> str:
    """A string literal for a visibility query, escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def where(**equals: str | None) -> str:
    """`A = "x" AND B = "y"` for the attributes given a value; None leaves one out."""
    return " AND ".join(
        f"{name} = {quoted(value)}" for name, value in equals.items() if value is not None
    )


def first(values: Sequence[Any] | None) -> Any:
    """The value of a single-valued search attribute as listings return it."""
    return values[0] if values else None
