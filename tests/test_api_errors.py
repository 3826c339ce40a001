"""What the API answers when a workflow cannot be read, or when our own code fails."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
from fastapi import FastAPI
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.errors import install
from cli.up import free_port
from client.jobs import JobsClient
from domain.job_workflow import JOB_WORKFLOW_TYPE, job_workflow_id
from tests.cli_support import run_cli
from tests.sandbox_control import ServerThread
from tests.temporal_support import TEST_KEYS_TEXT, eventually
from workers.metrics import prometheus_runtime
from workflows.search_attributes import CUSTOMER_ID


@workflow.defn(name=JOB_WORKFLOW_TYPE, sandboxed=False)
class TaskAlwaysFails:
    """A job workflow whose every workflow task fails once it is told to break, as a
    nondeterministic one's does."""

    def __init__(self) -> None:
        self.broken = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.broken)
        raise RuntimeError("this task fails on every attempt")

    @workflow.signal
    def brake(self) -> None:
        self.broken = True


async def test_a_job_whose_workflow_task_fails_is_a_problem_naming_it_and_listed_stuck(
    temporal_env: WorkflowEnvironment, api: httpx.AsyncClient, cid: str
) -> None:
    metrics = f"127.0.0.1:{free_port()}"
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        data_converter=temporal_env.client.data_converter,
        runtime=prometheus_runtime(metrics),
    )
    queue = f"failing-{uuid.uuid4().hex}"
    workflow_id = job_workflow_id(cid, "stuck-1")
    async with Worker(
        client,
        task_queue=queue,
        workflows=[TaskAlwaysFails],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            TaskAlwaysFails.run,
            id=workflow_id,
            task_queue=queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(CUSTOMER_ID, cid)]),
        )
        await eventually(handle.fetch_history, lambda h: len(h.events) >= 4)  # a task done
        await handle.signal(TaskAlwaysFails.brake)
        path = f"/v1/customers/{cid}/jobs/stuck-1"
        # Until the server counts the task as failing, a query waits for it and times out.
        await eventually(lambda: api.get(path), lambda a: "is failing" in a.text, within=60)
        answers = [await api.get(path) for _ in range(2)]
        jobs = JobsClient(client, task_queue=queue)
        (stuck,) = await jobs.stuck_jobs(customer_id=cid)
        assert stuck.workflow_id == workflow_id and stuck.attempt > 1
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "LINKEDIN_ATS_PAYLOAD_KEYS": TEST_KEYS_TEXT,
        }
        shown = await asyncio.to_thread(run_cli, "job", "show", cid, "stuck-1", env=env)
        assert shown.returncode == 1
        assert workflow_id in shown.stdout + shown.stderr
        assert "workflow task is failing" in " ".join((shown.stdout + shown.stderr).split())
        listed = await asyncio.to_thread(
            run_cli, "jobs", "--status", "STUCK", "--customer", cid, env=env
        )
        assert listed.returncode == 0 and workflow_id in listed.stdout, listed.stderr
        scraped = (await api.get(f"http://{metrics}/metrics")).text
        assert 'temporal_workflow_task_execution_failed{failure_reason="WorkflowError"' in scraped
    for answer in answers:  # the second on the same connection: it was kept
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["type"].endswith("/WorkflowUnreadable"), body
        assert workflow_id in body["detail"] and "workflow task is failing" in body["detail"]
        assert "docs/operations.md#a-workflow-that-cannot-be-read" in body["detail"]
        assert answer.headers["retry-after"]
    await handle.terminate("test done")


def _failing_app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("candidate@example.com")

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def test_an_unexpected_error_is_a_problem_and_keeps_the_connection() -> None:
    server = ServerThread(_failing_app(), health="/ok").start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            failed = await http.get("/boom")
            after = await http.get("/ok")
            assert len(http._transport._pool.connections) == 1  # type: ignore[attr-defined]
    finally:
        await asyncio.to_thread(server.stop)
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["detail"] == "internal error (KeyError); the server log has its trace"
    assert "example.com" not in failed.text
    assert after.json() == {"ok": "yes"}
