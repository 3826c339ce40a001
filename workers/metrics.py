"""Our metrics beside Temporal's, on the worker's Prometheus endpoint."""

from __future__ import annotations

from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def prometheus_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime that serves SDK and our metrics at http://<bind_address>/metrics."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


class LinkedInMetrics:
    """LinkedIn calls by endpoint and outcome, their latency, token requests, batch sizes,
    each application's daily budget left and the calls held back by the budget."""

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
        self._batch = meter.create_histogram(
            "linkedin_batch_size", "Job operations (or ids) sent in one LinkedIn call"
        )
        self._budget_left = meter.create_gauge(
            "linkedin_daily_budget_left",
            "Calls left today (UTC) for one application and endpoint",
        )
        self._held_back = meter.create_counter(
            "linkedin_calls_held_back",
            "Calls not sent: daily budget used up, per-second pace, or a 429's Retry-After",
        )

    def call(self, endpoint: str, method: str, outcome: str, seconds: float) -> None:
        attributes = {"endpoint": endpoint, "method": method, "outcome": outcome}
        self._calls.add(1, attributes)
        self._latency.record(seconds, attributes)

    def token_requested(self) -> None:
        self._tokens.add(1)

    def batch(self, endpoint: str, size: int) -> None:
        self._batch.record(size, {"endpoint": endpoint})

    def budget_left(self, client_id: str, endpoint: str, left: int) -> None:
        self._budget_left.set(left, {"client_id": client_id, "endpoint": endpoint})

    def held_back(self, endpoint: str, reason: str) -> None:
        self._held_back.add(1, {"endpoint": endpoint, "reason": reason})
