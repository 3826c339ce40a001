"""Temporal visibility queries over our search attributes, built so any value is found.

Servers differ in how they read escapes inside query literals (the dev server reads `\\"`
back but keeps `\\\\` as two characters), so a value is never escaped: the part of it
before the first quote or backslash goes in the query (`=` when that is all of it,
`STARTS_WITH` otherwise) and each listed workflow is checked against the whole value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_UNSAFE = frozenset("\"'\\")


@dataclass(frozen=True)
class Listing:
    """A visibility query, and the exact values each workflow it lists must hold."""

    query: str
    exact: dict[str, str] = field(default_factory=dict)

    def admits(self, search_attributes: Mapping[str, Sequence[Any]]) -> bool:
        """Whether a listed workflow holds every value exactly (the query may list more)."""
        return all(
            first(search_attributes.get(name)) == value for name, value in self.exact.items()
        )


def safe_prefix(value: str) -> str:
    """The longest start of the value that holds no quote or backslash."""
    for position, character in enumerate(value):
        if character in _UNSAFE:
            return value[:position]
    return value


def where(**equals: str | None) -> Listing:
    """`A = "x" AND B STARTS_WITH "y"` for the attributes given a value; None leaves one out."""
    terms = []
    exact = {}
    for name, value in equals.items():
        if value is None:
            continue
        prefix = safe_prefix(value)
        if prefix == value:
            terms.append(f'{name} = "{value}"')
            continue
        exact[name] = value
        if prefix:
            terms.append(f'{name} STARTS_WITH "{prefix}"')
    return Listing(" AND ".join(terms), exact)


def first(values: Sequence[Any] | None) -> Any:
    """The value of a single-valued search attribute as listings return it."""
    return values[0] if values else None
