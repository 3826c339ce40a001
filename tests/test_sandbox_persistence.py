"""The sandbox writes its world to SQLite after the requests that changed it, and only those."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.integrations import IntegrationKey, IntegrationType
from linkedin import LinkedInClient
from linkedin_sandbox import SandboxSettings, create_app
from tests.conftest import PARTNER, provision
from tests.jobs_support import valid_job
from tests.sandbox_control import SandboxControl, ServerThread

CONTRACT = "urn:li:contract:555"


@dataclass
class Persisted:
    """A sandbox on loopback with its state file, watched from a second connection."""

    app: Any
    control: SandboxControl
    linkedin: LinkedInClient
    db: sqlite3.Connection

    def writes(self) -> int:
        """How often the sandbox wrote its world, identical rewrites included."""
        return int(self.db.execute("SELECT n FROM writes").fetchone()[0])

    def stored(self) -> str:
        return str(self.db.execute("SELECT body FROM world WHERE id = 1").fetchone()[0])

    def live(self) -> str:
        return str(self.app.state.sandbox.world.model_dump_json())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, ServerThread, str]]:
    path = str(tmp_path / "state.sqlite")
    app = create_app(SandboxSettings(task_delay_seconds=0, state_path=path))
    thread = ServerThread(app, health="/sandbox/health").start()
    try:
        yield app, thread, path
    finally:
        thread.stop()


@pytest.fixture
async def persisted(server: tuple[Any, ServerThread, str]) -> AsyncIterator[Persisted]:
    app, thread, path = server
    db = sqlite3.connect(path, isolation_level=None)
    # SQLite skips pages whose bytes did not change, so neither the file's mtime nor
    # data_version sees a rewrite of the same world: count the statements with triggers.
    db.executescript(
        """
        CREATE TABLE writes (n INTEGER NOT NULL);
        INSERT INTO writes VALUES (0);
        CREATE TRIGGER world_inserted AFTER INSERT ON world BEGIN UPDATE writes SET n = n + 1; END;
        CREATE TRIGGER world_updated AFTER UPDATE ON world BEGIN UPDATE writes SET n = n + 1; END;
        """
    )
    control = SandboxControl(thread.url)
    async with LinkedInClient(api_url=thread.url, oauth_url=thread.url, partner=PARTNER) as c:
        try:
            yield Persisted(app, control, c, db)
        finally:
            await control.http.aclose()
            db.close()


async def test_requests_that_change_nothing_write_nothing(persisted: Persisted) -> None:
    linkedin, control = persisted.linkedin, persisted.control
    customer = await provision(linkedin, "reader")
    await linkedin.submit_jobs(customer.creds, [valid_job("read-me")])
    await linkedin.get_job_statuses(customer.creds, ["read-me"])  # runs the due task: a write
    before = persisted.writes()
    for _ in range(3):
        assert await linkedin.find_application("reader") is not None
        await linkedin.get_job_statuses(customer.creds, ["read-me", "unknown"])
    await control.state()
    await control.requests()
    await control.http.get("/sandbox/health")
    await control.http.get("/v2/nothing")
    refused = await control.http.post("/v2/provisionedApplications", json={})
    assert refused.status_code == 401
    assert persisted.writes() == before
    assert persisted.stored() == persisted.live()


async def test_every_change_is_stored_before_its_answer(persisted: Persisted) -> None:
    linkedin, control = persisted.linkedin, persisted.control
    key = IntegrationKey.for_type(CONTRACT, IntegrationType.PREMIUM_JOB_POSTING)
    customer = await provision(linkedin, "writer")
    steps: list[Callable[[], Awaitable[Any]]] = [
        lambda: linkedin.access_token(customer.creds),
        lambda: linkedin.update_application(customer.app.key, {"description": "changed"}),
        lambda: linkedin.setup_hiring_contract(customer.creds, 777),
        lambda: control.widget_save(
            customerId="writer", integrationContext=CONTRACT, jobPosterEmail="boss@globex.com"
        ),
        lambda: linkedin.enable_integration(customer.creds, key, "Writer PJP"),
        lambda: control.contract(999, kind="P4P", currency="USD", budgetRemaining=100),
        lambda: control.fail_next_tasks("LinkedIn failed it"),
        lambda: linkedin.submit_jobs(customer.creds, [valid_job("w-1"), valid_job("w-2")]),
        lambda: linkedin.get_job_statuses(customer.creds, ["w-1"]),  # processes both tasks
        lambda: control.campaign("camp-1", clientId=customer.creds.client_id),
        lambda: control.advance(3600),
        lambda: control.reset(),
    ]
    for number, step in enumerate(steps):
        before = persisted.writes()
        await step()
        assert persisted.writes() != before, f"step {number} wrote nothing"
        assert persisted.stored() == persisted.live(), f"step {number} stored a stale world"
