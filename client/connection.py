"""Connecting to Temporal the way Temporal's own tools do (TEMPORAL_* and profiles)."""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfigProfile

from client.codec import EncryptionCodec, PayloadKeys

DEFAULT_ADDRESS = "localhost:7233"


def connect_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Client.connect arguments from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API key."""
    config: dict[str, Any] = dict(ClientConfigProfile.load().to_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.update(overrides or {})
    return config


def data_converter(keys: PayloadKeys) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and stack traces encrypted too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(keys: PayloadKeys, **overrides: Any) -> Client:
    """A Temporal client whose payloads only holders of `keys` can read."""
    return await Client.connect(**connect_config(overrides), data_converter=data_converter(keys))
