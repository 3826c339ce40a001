"""LinkedIn URNs (`urn:li:<kind>:<id>`), parsed and validated by kind."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_URN = re.compile(r"^urn:li:(?P<kind>[A-Za-z]+):(?P<id>[A-Za-z0-9_.\-]+)$")


class UrnError(ValueError):
    """A string that is not a LinkedIn URN of the expected kind."""


def parse_urn(value: str, *kinds: str) -> tuple[str, str]:
    """Split a URN into (kind, id), checking the kind is one of `kinds`."""
    match = _URN.match(value)
    expected = " or ".join(f"urn:li:{kind}:<id>" for kind in kinds)
    if match is None or (kinds and match["kind"] not in kinds):
        raise UrnError(f"must be a LinkedIn URN of the form {expected}, got {value!r}")
    return match["kind"], match["id"]


def urn_id(value: str) -> str:
    """The id part of a URN of any kind."""
    return parse_urn(value)[1]


def _kind(*kinds: str, numeric: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        kind, id_ = parse_urn(value, *kinds)
        if numeric and not id_.isdigit():
            raise UrnError(f"must be urn:li:{kind}:<digits>, got {value!r}")
        return value

    return AfterValidator(check)


ContractUrn = Annotated[str, _kind("contract", numeric=True)]
OrganizationUrn = Annotated[str, _kind("organization", "company")]
IntegrationContextUrn = Annotated[str, _kind("organization", "company", "contract")]
IndustryUrn = Annotated[str, _kind("industry")]
DeveloperApplicationUrn = Annotated[str, _kind("developerApplication")]
