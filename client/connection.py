"""Connecting to Temporal the way Temporal's own tools do (TEMPORAL_* and profiles), and
tracing what goes through it.

Tracing is OpenTelemetry's, off and free unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then
spans go out over OTLP/HTTP (OpenTelemetry's other OTEL_* settings apply), httpx calls (to
LinkedIn, to webhook endpoints) are traced, and every client `connect` gives, and every
worker on it, carries the trace through updates, workflows and activities
(temporalio.contrib.opentelemetry). The API traces its requests (api.app).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client, Interceptor
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


_process_provider: TracerProvider | None = None


def tracer_provider() -> TracerProvider | None:
    """This process's tracing: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (set
    up once), else None."""
    global _process_provider
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    if _process_provider is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME", "linkedin-ats")
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        install_tracing(provider)
        _process_provider = provider
    return _process_provider


def install_tracing(provider: TracerProvider) -> Callable[[], None]:
    """Trace every httpx call with `provider`; returns what undoes it."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider)

    def uninstall() -> None:
        instrumentor.uninstrument()

    return uninstall


def tracing_interceptors(provider: TracerProvider | None) -> list[Interceptor]:
    """The Temporal client interceptor that carries traces, when tracing is on."""
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("linkedin-ats"))]


async def connect(keys: PayloadKeys, **overrides: Any) -> Client:
    """A Temporal client whose payloads only holders of `keys` can read, tracing when
    OTEL_EXPORTER_OTLP_ENDPOINT is set (or as `interceptors` say)."""
    overrides.setdefault("interceptors", tracing_interceptors(tracer_provider()))
    return await Client.connect(**connect_config(overrides), data_converter=data_converter(keys))
