"""Connecting to Temporal the way Temporal's own tools do (TEMPORAL_* and profiles)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile

DEFAULT_ADDRESS = "localhost:7233"


def connect_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Client.connect arguments from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API key."""
    config: dict[str, Any] = dict(ClientConfigProfile.load().to_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.update(overrides or {})
    return config


async def connect(**overrides: Any) -> Client:
    """A Temporal client with the pydantic data converter our workflows need."""
    return await Client.connect(**connect_config(overrides), data_converter=pydantic_data_converter)
