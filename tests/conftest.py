"""Shared fixtures: a real sandbox over loopback, a LinkedIn client, a provisioned customer."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from client.connection import connect
from client.integrations import IntegrationsClient
from domain.provisioning import AppCredentials, NewApplication, ProvisionedApplication
from linkedin import LinkedInClient
from settings import Settings
from tests.postgres_support import PostgresCluster
from tests.sandbox_control import SandboxControl, SandboxServer, ServerThread
from tests.temporal_support import TEST_KEYS, dev_server, time_skipping_server
from workers.worker import StoredAppSecrets, running_worker

PARTNER = AppCredentials(
    client_id="sandbox-partner", client_secret=SecretStr("sandbox-partner-secret")
)

_exit_status = 0

SERVER_FIXTURES = frozenset(
    {"temporal_env", "time_skipping_env", "postgres", "postgres_url", "stack", "compose"}
)
"""Fixtures that start a Temporal server, PostgreSQL or a whole stack: a test that uses one,
directly or through another fixture, is marked `server`; `make check` runs the others."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    # sdk-python#300: a process that used a Temporal client can abort while the
    # interpreter tears down. The run is over and reported: leave before teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture
async def sandbox(sandbox_server: SandboxServer) -> AsyncIterator[SandboxControl]:
    """The sandbox, reset to an empty world with instant tasks and 30-minute tokens."""
    control = SandboxControl(sandbox_server.url)
    await control.reset()
    await control.settings(
        taskDelaySeconds=0,
        tokenTtlSeconds=1800,
        tokenExpiresInAsString=False,
        encodeResponseKeys=True,
    )
    yield control
    await control.http.aclose()


@pytest.fixture
async def linkedin(sandbox: SandboxControl) -> AsyncIterator[LinkedInClient]:
    async with LinkedInClient(api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER) as c:
        yield c


@dataclass
class Customer:
    app: ProvisionedApplication
    creds: AppCredentials


async def provision(linkedin: LinkedInClient, customer_id: str = "cust-1") -> Customer:
    app, creds = await linkedin.create_application(
        NewApplication(
            unique_foreign_id=customer_id,
            name=f"Acme ATS - {customer_id}",
            description=f"Customer {customer_id}",
            valid_js_sdk_domains=["https://ats.example.com"],
        )
    )
    return Customer(app, creds)


@pytest.fixture
async def customer(linkedin: LinkedInClient) -> Customer:
    return await provision(linkedin)


# -- Temporal ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await dev_server()
    yield env
    await env.shutdown()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of this test's own, so its clock starts where LinkedIn's and ours are."""
    env = await time_skipping_server()
    yield env
    await env.shutdown()


@pytest.fixture
def cid() -> str:
    """A customer id of this test's own: workflow ids are business keys and outlive tests."""
    return f"cust-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(sandbox: SandboxControl, tmp_path: Path) -> Settings:
    """Worker settings for one test: its own task queue and data dir, the sandbox's URLs."""
    return Settings(
        linkedin_api_url=sandbox.url,
        linkedin_oauth_url=sandbox.url,
        task_queue=f"tq-{uuid.uuid4()}",
        data_dir=tmp_path,
        job_task_poll_seconds=0.1,
        job_settle_seconds=1.0,
        job_credentials_wait_seconds=2.0,
        linkedin_event_dedupe_seconds=3,
    )


@pytest.fixture
async def worker(temporal_env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[None]:
    async with running_worker(temporal_env.client, settings):
        yield


@pytest.fixture
def onboarding(temporal_env: WorkflowEnvironment, settings: Settings) -> IntegrationsClient:
    return IntegrationsClient(temporal_env.client, task_queue=settings.task_queue)


# -- the HTTP API ------------------------------------------------------------------------

API_AUTH = {"Authorization": "Bearer dev-token"}


@pytest.fixture
def api_url(temporal_env: WorkflowEnvironment, settings: Settings) -> Iterator[str]:
    """Our HTTP API, served for real on loopback, over the test's Temporal and settings; on
    `api_port` when the test gave it a public_url (where LinkedIn is told to deliver)."""
    address = temporal_env.client.service_client.config.target_host
    app = create_app(
        settings,
        lambda: connect(TEST_KEYS, target_host=address),
        app_secrets=StoredAppSecrets(settings),
    )
    port = settings.api_port if settings.public_url else None
    server = ServerThread(app, port=port, health="/healthz").start()
    yield server.url
    server.stop()


@pytest.fixture
async def api(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An ATS back end's client of it, with the dev token."""
    async with httpx.AsyncClient(base_url=api_url, headers=API_AUTH, timeout=60) as http:
        yield http


# -- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL cluster for the session (Debian's, `make postgres`)."""
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def postgres_url(postgres: PostgresCluster) -> str:
    """A fresh database of this test's own on the session's cluster."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(postgres.url(), autocommit=True) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)
