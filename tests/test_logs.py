"""One JSON log stream: Temporal's workflow and activity loggers, uvicorn, and API requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from cli.up import free_port
from tests.cli_support import CLI
from tests.temporal_support import TEST_KEYS

TOKEN = "a-token-that-must-never-be-logged"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed as JSON: a line that is not fails the test."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


WORKER_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from datetime import timedelta
    from temporalio import activity, workflow
    from temporalio.client import Client
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker
    from cli.logs import configure_logging

    @activity.defn
    async def greet(name: str) -> str:
        activity.logger.info("greeting %s", name)
        return name

    @workflow.defn
    class Greeter:
        @workflow.run
        async def run(self, name: str) -> str:
            workflow.logger.info("greeter started for %s", name)
            return await workflow.execute_activity(
                greet, name, start_to_close_timeout=timedelta(seconds=10)
            )

    async def main() -> None:
        configure_logging()
        client = await Client.connect(sys.argv[1])
        queue = sys.argv[2]
        async with Worker(
            client, task_queue=queue, workflows=[Greeter], activities=[greet],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            await client.execute_workflow(Greeter.run, "globex", id=queue, task_queue=queue)

    asyncio.run(main())
    sys.stderr.flush()
    os._exit(0)
    """
)


def test_temporal_workflow_and_activity_loggers_reach_the_json_log(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    address = temporal_env.client.service_client.config.target_host
    queue = f"logs-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [sys.executable, str(script), address, queue],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stderr)
    by_logger = {line.get("logger"): line for line in lines}
    workflow_line = by_logger["temporalio.workflow"]
    assert workflow_line["event"].startswith("greeter started for globex")
    assert workflow_line["level"] == "info"
    assert workflow_line["temporal_workflow"]["workflow_id"] == queue
    activity_line = by_logger["temporalio.activity"]
    assert activity_line["event"].startswith("greeting globex")
    assert activity_line["temporal_activity"]["activity_type"] == "greet"


def test_the_api_logs_uvicorn_and_each_request_as_json_without_secrets(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_ATS_", "TEMPORAL_"))}
    env.update(
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        LINKEDIN_ATS_PAYLOAD_KEYS=TEST_KEYS.dumps().strip(),
        LINKEDIN_ATS_API_TOKEN=TOKEN,
        LINKEDIN_ATS_DATA_DIR=str(tmp_path),
    )
    log = tmp_path / "api.log"
    with log.open("w") as out:
        api = subprocess.Popen(
            [CLI, "api", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if api.poll() is not None:
                    pytest.fail(log.read_text())
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{base}/v1/integrations", headers=auth, timeout=10).status_code == 200
        body = '{"title": "secret body content"}'
        assert httpx.put(f"{base}/v1/customers/c/jobs/j", content=body).status_code == 401
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)
    text = log.read_text()
    assert TOKEN not in text and "secret body content" not in text
    lines = json_lines(text)
    events = [line["event"] for line in lines]
    assert "Application startup complete." in events, events  # uvicorn, through structlog
    assert not any("color_message" in line for line in lines)
    requests = {
        (line["method"], line["path"], line["status"])
        for line in lines
        if line["event"] == "http.request"
    }
    assert ("GET", "/v1/integrations", 200) in requests
    assert ("PUT", "/v1/customers/c/jobs/j", 401) in requests
    for line in lines:
        if line["event"] == "http.request":
            assert set(line) == {
                "event",
                "method",
                "path",
                "status",
                "duration_ms",
                "level",
                "logger",
                "timestamp",
            }
