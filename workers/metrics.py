"""Our metrics beside Temporal's, on the worker's Prometheus endpoint."""

from __future__ import annotations

from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def prometheus_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime that serves SDK and our metrics at http://<bind_address>/metrics."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


class LinkedInMetrics:
    """Counts LinkedIn calls by endpoint and outcome, their latency, and token requests."""

    def __init__(self, meter: MetricMeter) -> None:
        self._calls = meter.create_counter(
            "linkedin_calls", "HTTP calls to LinkedIn, by endpoint, method and outcome"
        )
        self._latency = meter.create_histogram_float(
            "linkedin_call_latency", "Time for LinkedIn to answer", "s"
        )
        self._tokens = meter.create_counter(
            "linkedin_token_requests", "OAuth token requests (one per application per 30 min)"
        )

    def call(self, endpoint: str, method: str, outcome: str, seconds: float) -> None:
        attributes = {"endpoint": endpoint, "method": method, "outcome": outcome}
        self._calls.add(1, attributes)
        self._latency.record(seconds, attributes)

    def token_requested(self) -> None:
        self._tokens.add(1)
