"""The base of every model the HTTP API shows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Document(BaseModel):
    """camelCase on the wire (LinkedIn's and JavaScript's style), snake_case accepted too.

    Temporal payloads of these models are camelCase too; both spellings read back, so
    histories written before either way replay.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )
