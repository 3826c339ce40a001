"""Two `linkedin-ats worker` processes on one Temporal and one PostgreSQL; one is killed.

Real subprocesses, as in production: they share the task queue and the credential store,
and SIGKILL gives the dying one no chance to finish anything. Every operation must still
finish, and finish once, by LinkedIn's own account (the sandbox's state and journal).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from temporalio.testing import WorkflowEnvironment

from cli.up import free_port
from client.integrations import IntegrationsClient
from client.jobs import JobsClient
from domain.integration_workflow import ContextStatus
from domain.job_workflow import JobStatus, job_workflow_id
from settings import Settings
from tests.cli_support import CLI
from tests.jobs_support import job_fields
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS, eventually

CONTRACT = "urn:li:contract:555"
JOBS_EACH = 3


class WorkerProcess:
    """`linkedin-ats worker` in its own process group, its JSON log lines in a file."""

    def __init__(self, name: str, env: dict[str, str], data: Path) -> None:
        self.name = name
        self.log = data / f"{name}.log"
        env = {**env, "LINKEDIN_ATS_DATA_DIR": str(data / name)}
        env["LINKEDIN_ATS_METRICS_ADDRESS"] = f"127.0.0.1:{free_port()}"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [CLI, "worker"], env=env, stdout=log, stderr=log, start_new_session=True
            )

    def events(self) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def logged(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == event]

    def wait_for(self, event: str, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while not self.logged(event):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {event}:\n{self.log.read_text()}")
            time.sleep(0.05)

    def signal(self, number: signal.Signals) -> None:
        os.killpg(self.process.pid, number)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def two_workers(env: dict[str, str], data: Path) -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    workers = (WorkerProcess("worker-a", env, data), WorkerProcess("worker-b", env, data))
    try:
        for worker in workers:
            worker.wait_for("worker.started")
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def worker_env(
    temporal_env: WorkflowEnvironment, settings: Settings, postgres_url: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_ATS_", "TEMPORAL_"))}
    env.update(
        {
            "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": temporal_env.client.namespace,
            "LINKEDIN_ATS_TASK_QUEUE": settings.task_queue,
            "LINKEDIN_ATS_LINKEDIN_API_URL": settings.linkedin_api_url,
            "LINKEDIN_ATS_LINKEDIN_OAUTH_URL": settings.linkedin_oauth_url,
            "LINKEDIN_ATS_CREDENTIAL_STORE_URL": postgres_url,
            "LINKEDIN_ATS_CREDENTIAL_KEY": Fernet.generate_key().decode(),
            "LINKEDIN_ATS_PAYLOAD_KEYS": TEST_KEYS.dumps().strip(),
            # A job whose worker died reads LinkedIn's state before sending again, waiting
            # this long for a lost submit to show: longer than this sandbox's slow answers
            # (1.5 s) and tasks (3 s), far shorter than the production 5 minutes.
            "LINKEDIN_ATS_JOB_SETTLE_SECONDS": "10",
            "LINKEDIN_ATS_JOB_TASK_POLL_SECONDS": "0.5",
        }
    )
    return env


async def test_two_workers_finish_every_operation_once_when_one_is_killed(
    temporal_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    onboarding: IntegrationsClient,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    first = [f"early-{i}" for i in range(4)]  # provisioned before the kill, enabled across it
    later = [f"late-{i}" for i in range(2)]  # provisioned across the kill
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    env = worker_env(temporal_env, settings, postgres_url)
    with two_workers(env, tmp_path) as (doomed, survivor):
        for cid in first:
            await onboarding.start_onboarding(cid, cid.title())
        for cid in first:
            await eventually(lambda c=cid: onboarding.integration_state(c), lambda s: s.client_id)

        # Slow LinkedIn down so work is in flight, and hold the survivor back an instant
        # so the doomed worker surely takes some of it.
        for endpoint in ("provisionedApplications", "atsIntegrations", "simpleJobPostings"):
            await sandbox.fault(endpoint, latencyMs=1500)
        await sandbox.settings(taskDelaySeconds=3)
        survivor.signal(signal.SIGSTOP)
        try:
            for cid in later:
                await onboarding.start_onboarding(cid, cid.title())
            for cid in first:
                saved = await sandbox.widget_save(
                    customerId=cid, integrationContext=CONTRACT, jobPosterEmail="boss@globex.com"
                )
                await onboarding.widget_saved(cid, saved.json())
            creating = asyncio.gather(
                *(jobs.create(c, job_fields(f"job-{n}")) for c in first for n in range(JOBS_EACH))
            )
            await asyncio.to_thread(doomed.wait_for, "integration.enable", 30)
            doomed.signal(signal.SIGKILL)  # mid-call: LinkedIn answers an enable in 1.5 s
        finally:
            survivor.signal(signal.SIGCONT)
        await asyncio.wait_for(creating, 180)
        await sandbox.fault("provisionedApplications", latencyMs=0)

        for cid in first + later:
            wanted = ContextStatus.ENABLED if cid in first else ContextStatus.NOT_CONNECTED
            await eventually(
                lambda c=cid: onboarding.integration_state(c),
                lambda s, w=wanted: s.client_id is not None and s.status == w,
                within=180,
            )
        for cid in first:
            for n in range(JOBS_EACH):
                try:
                    await eventually(
                        lambda c=cid, i=n: jobs.state(c, f"job-{i}"),
                        lambda s: s.status == JobStatus.LISTED,
                        within=180,
                    )
                except AssertionError as error:
                    handle = temporal_env.client.get_workflow_handle(
                        job_workflow_id(cid, f"job-{n}")
                    )
                    pending = (await handle.describe()).raw_description.pending_activities
                    logs = "\n".join(w.log.read_text()[-3000:] for w in (doomed, survivor))
                    raise AssertionError(f"{error}\npending: {pending}\n{logs}") from None
        assert survivor.process.poll() is None
        cut = doomed.logged("integration.enable")[-1]  # in flight when its worker died...
        assert any(  # ...and done again by the survivor
            e["workflow_id"] == cut["workflow_id"] and e["attempt"] > cut["attempt"]
            for e in survivor.logged("integration.enable")
        )

        world = await sandbox.state()
        apps = Counter(app["uniqueForeignId"] for app in world["apps"])
        assert apps == dict.fromkeys(first + later, 1)  # no customer provisioned twice
        created = [
            r
            for r in await sandbox.requests("/v2/provisionedApplications")
            if r["method"] == "POST" and (r["status"] or 500) < 300
        ]
        assert len(created) == len(first + later)
        creates = Counter(
            (t["client_id"], t["external_id"]) for t in world["tasks"] if t["operation"] == "CREATE"
        )
        assert len(creates) == len(first) * JOBS_EACH and set(creates.values()) == {1}  # each once
        jobs_by_client = Counter(job["client_id"] for job in world["jobs"])
        assert sorted(jobs_by_client.values()) == [JOBS_EACH] * len(first)
        for cid in first:
            state = await onboarding.integration_state(cid)
            assert [t.status for t in state.contexts[CONTRACT].transitions] == [
                "REQUESTED",
                "ENABLED",
            ]
            for n in range(JOBS_EACH):
                job = await jobs.state(cid, f"job-{n}")
                assert [(op.kind, op.outcome) for op in job.operations] == [("CREATE", "SUCCEEDED")]
