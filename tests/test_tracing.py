"""OpenTelemetry traces from the HTTP request through the update, the workflow and the
activity to the LinkedIn call, checked with an in-memory exporter; off (no provider, no
interceptor) unless OTEL_EXPORTER_OTLP_ENDPOINT is set (issue 22)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from client.connection import connect, install_tracing, tracer_provider, tracing_interceptors
from settings import Settings
from tests.conftest import API_AUTH
from tests.sandbox_control import SandboxControl, ServerThread
from tests.temporal_support import TEST_KEYS
from tests.test_api import enabled_customer, job_body
from workers.worker import StoredAppSecrets, running_worker


def test_tracing_is_off_unless_an_otlp_endpoint_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracer_provider() is None
    assert tracing_interceptors(None) == []


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    uninstall = install_tracing(provider)
    yield provider, exporter
    uninstall()


async def test_a_put_is_one_trace_from_the_request_to_linkedin(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sandbox: SandboxControl,
    cid: str,
    tmp_path: Path,
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    address = temporal_env.client.service_client.config.target_host

    async def traced() -> Client:
        return await connect(
            TEST_KEYS, target_host=address, interceptors=tracing_interceptors(provider)
        )

    worker_client = await connect(
        TEST_KEYS, target_host=address, interceptors=tracing_interceptors(provider)
    )
    app = create_app(
        settings, traced, app_secrets=StoredAppSecrets(settings), tracer_provider=provider
    )
    server = ServerThread(app, health="/healthz").start()
    try:
        async with (
            running_worker(worker_client, settings),
            httpx.AsyncClient(base_url=server.url, headers=API_AUTH, timeout=60) as api,
        ):
            await enabled_customer(api, server.url, sandbox, cid)
            exporter.clear()
            put = await api.put(
                f"/v1/customers/{cid}/jobs/traced-1", params={"wait": "true"}, json=job_body()
            )
            assert put.status_code == 200
    finally:
        server.stop()

    finished = exporter.get_finished_spans()
    requests = [s for s in finished if s.name.startswith("PUT /v1/customers/")]
    (request,) = [s for s in requests if s.kind == SpanKind.SERVER]  # not its parts
    trace_id = request.context.trace_id
    in_trace = {s.name for s in finished if s.context.trace_id == trace_id}
    assert any(n.startswith("StartUpdateWithStartWorkflow:") for n in in_trace), in_trace
    assert "RunActivity:run_job_operation" in in_trace, in_trace
    linkedin = [
        s
        for s in finished
        if s.context.trace_id == trace_id
        and any(
            str((s.attributes or {}).get(key, "")).startswith(f"{sandbox.url}/rest/")
            for key in ("url.full", "http.url")
        )
    ]
    assert linkedin, in_trace  # the LinkedIn calls the operation made
