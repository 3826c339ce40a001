"""The credential store: one contract, run on SQLite and on a real PostgreSQL; its keys."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.credentials import (
    CredentialConfigError,
    CredentialKeyMismatch,
    CredentialStore,
    CustomerNotOnboarded,
    customer_credentials,
)
from cli.up import free_port
from client.integrations import IntegrationsClient
from client.jobs import JobsClient
from domain.errors import PERMANENT_FAILURES, FailureType
from domain.integration_workflow import ContextStatus
from domain.integrations import IntegrationType
from domain.provisioning import AppCredentials
from linkedin import LinkedInClient
from linkedin.tokens import StoredToken
from settings import Settings
from tests.cli_support import run_cli
from tests.jobs_support import job_fields, onboard_for_jobs
from tests.postgres_support import PostgresCluster
from tests.sandbox_control import JOB_POSTINGS, SandboxControl
from tests.temporal_support import TEST_KEYS, eventually
from workers.worker import credential_store, running_worker

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SECRET = "s3cr3t-client-secret-value"

StoreFactory = Callable[[str], CredentialStore]


def creds(client_id: str = "client-1", secret: str = SECRET) -> AppCredentials:
    return AppCredentials(client_id=client_id, client_secret=SecretStr(secret))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Settings]:
    """Settings for one backend, given the credential keys (oldest first, comma-separated)."""
    url = None
    if request.param == "postgresql":
        url = SecretStr(request.getfixturevalue("postgres_url"))

    def settings(keys: str) -> Settings:
        return Settings(data_dir=tmp_path, credential_key=keys, credential_store_url=url)

    return settings


@pytest.fixture
async def make_store(
    backend_settings: Callable[[str], Settings],
) -> AsyncIterator[StoreFactory]:
    """Stores as workers build them from settings; all closed after the test."""
    opened: list[CredentialStore] = []

    def make(keys: str) -> CredentialStore:
        store = credential_store(backend_settings(keys))
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def raw_secrets(store: CredentialStore, settings: Settings) -> bytes:
    """Everything the backend holds, as bytes, to look for a secret in clear."""
    if settings.credential_store_url is None:
        return settings.credentials_path.read_bytes()
    url = settings.credential_store_url.get_secret_value()
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await (await conn.execute("SELECT * FROM linkedin_ats_credentials")).fetchall()
    return repr(rows).encode()


# -- the contract, on both backends ------------------------------------------------------


async def test_saved_credentials_read_back_and_unknown_customers_read_none(
    make_store: StoreFactory,
) -> None:
    store = make_store(KEY_A)
    await store.save("cust-1", "app-key-1", creds())
    stored = await store.get("cust-1")
    assert stored is not None
    assert stored.application_key == "app-key-1"
    assert stored.credentials.client_id == "client-1"
    assert stored.credentials.client_secret.get_secret_value() == SECRET
    assert await store.get("nobody-here") is None


async def test_saving_again_replaces_the_customers_credentials(make_store: StoreFactory) -> None:
    store = make_store(KEY_A)
    await store.save("cust-1", "app-key-1", creds())
    await store.save("cust-1", "app-key-2", creds("client-2", "another-secret"))
    stored = await store.get("cust-1")
    assert stored is not None and stored.application_key == "app-key-2"
    assert stored.credentials.client_secret.get_secret_value() == "another-secret"


async def test_secrets_are_encrypted_before_they_leave_the_process(
    make_store: StoreFactory, backend_settings: Callable[[str], Settings]
) -> None:
    store = make_store(KEY_A)
    await store.save("cust-1", "app-key-1", creds())
    raw = await raw_secrets(store, backend_settings(KEY_A))
    assert b"client-1" in raw  # the public id is stored as is...
    assert SECRET.encode() not in raw  # ...the secret is not


async def test_two_workers_share_one_store(make_store: StoreFactory) -> None:
    first, second = make_store(KEY_A), make_store(KEY_A)
    await first.save("cust-1", "app-key-1", creds())
    stored = await second.get("cust-1")
    assert stored is not None and stored.credentials.client_secret.get_secret_value() == SECRET


async def test_many_concurrent_saves_and_reads(make_store: StoreFactory) -> None:
    store = make_store(KEY_A)
    ids = [f"cust-{i}" for i in range(40)]
    await asyncio.gather(*(store.save(c, f"key-{c}", creds(c, f"secret-{c}")) for c in ids))
    read = await asyncio.gather(*(store.get(c) for c in ids))
    assert [r.credentials.client_secret.get_secret_value() for r in read if r] == [
        f"secret-{c}" for c in ids
    ]


async def test_a_wrong_key_is_a_typed_non_retryable_fault_naming_the_setting(
    make_store: StoreFactory,
) -> None:
    await make_store(KEY_A).save("cust-1", "app-key-1", creds())
    with pytest.raises(CredentialKeyMismatch) as raised:
        await make_store(KEY_B).get("cust-1")
    error = raised.value
    assert isinstance(error, ApplicationError) and error.non_retryable
    assert error.type == FailureType.CREDENTIAL_KEY_MISMATCH
    assert FailureType.CREDENTIAL_KEY_MISMATCH in PERMANENT_FAILURES
    assert "cust-1" in error.message and "LINKEDIN_ATS_CREDENTIAL_KEY" in error.message
    for secret in (KEY_A, KEY_B, SECRET):
        assert secret not in str(error) and secret not in repr(error.details)


async def test_rotation_newest_key_encrypts_every_key_decrypts(make_store: StoreFactory) -> None:
    await make_store(KEY_A).save("old", "app-old", creds("client-old", "old-secret"))
    rotated = make_store(f"{KEY_A},{KEY_B}")
    old = await rotated.get("old")
    assert old is not None and old.credentials.client_secret.get_secret_value() == "old-secret"
    await rotated.save("new", "app-new", creds("client-new", "new-secret"))
    only_b = make_store(KEY_B)
    new = await only_b.get("new")
    assert new is not None and new.credentials.client_secret.get_secret_value() == "new-secret"
    with pytest.raises(CredentialKeyMismatch):
        await only_b.get("old")  # the old key was dropped before re-encryption


async def test_access_tokens_are_shared_encrypted_and_dropped_with_their_key(
    make_store: StoreFactory,
) -> None:
    store = make_store(KEY_A)
    assert await store.get_token("client-1") is None
    await store.save_token("client-1", StoredToken(SecretStr("tok-en-value"), 1234.5))
    other_worker = make_store(KEY_A)
    shared = await other_worker.get_token("client-1")
    assert shared is not None and shared.value.get_secret_value() == "tok-en-value"
    assert shared.expires_at == 1234.5
    assert await make_store(KEY_B).get_token("client-1") is None  # a new token, not a fault


async def test_reencrypt_moves_every_secret_to_the_newest_key(make_store: StoreFactory) -> None:
    old_store = make_store(KEY_A)
    for cid in ("a", "b", "c"):
        await old_store.save(cid, f"app-{cid}", creds(cid, f"secret-{cid}"))
    rotated = make_store(f"{KEY_A},{KEY_B}")
    await rotated.save("d", "app-d", creds("d", "secret-d"))  # already under the newest key
    report = await rotated.reencrypt()
    assert (report.reencrypted, report.current, report.unreadable) == (3, 1, [])
    only_b = make_store(KEY_B)
    for cid in ("a", "b", "c", "d"):
        stored = await only_b.get(cid)
        assert stored is not None
        assert stored.credentials.client_secret.get_secret_value() == f"secret-{cid}"
    assert (await rotated.reencrypt()).reencrypted == 0  # idempotent


async def test_reencrypt_names_secrets_no_key_reads_and_leaves_them_alone(
    make_store: StoreFactory,
) -> None:
    await make_store(KEY_A).save("lost", "app-lost", creds("lost", "lost-secret"))
    await make_store(KEY_B).save("kept", "app-kept", creds("kept", "kept-secret"))
    report = await make_store(KEY_B).reencrypt()
    assert (report.reencrypted, report.current, report.unreadable) == (0, 1, ["lost"])
    lost = await make_store(KEY_A).get("lost")  # the right key still reads it
    assert lost is not None and lost.credentials.client_secret.get_secret_value() == "lost-secret"


async def test_a_customer_never_onboarded_is_typed_and_named(make_store: StoreFactory) -> None:
    with pytest.raises(CustomerNotOnboarded) as raised:
        await customer_credentials(make_store(KEY_A), "globex")
    error = raised.value
    assert error.type == FailureType.CREDENTIALS_MISSING and error.non_retryable
    assert FailureType.CREDENTIALS_MISSING in PERMANENT_FAILURES
    assert "globex" in error.message and "onboard" in error.message


# -- keys and their file -----------------------------------------------------------------


def test_a_generated_key_file_is_private_and_announced(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with capture_logs() as logs:
        credential_store(settings)
        credential_store(settings)  # the second store reads the file: no second line
    key_file = tmp_path / "credential.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    generated = [line for line in logs if line["event"] == "credential_key.generated"]
    assert len(generated) == 1 and generated[0]["path"] == str(key_file)
    assert generated[0]["log_level"] == "warning"
    assert key_file.read_text().strip() not in repr(logs)


def test_the_sqlite_store_is_private_too(tmp_path: Path) -> None:
    credential_store(Settings(data_dir=tmp_path, credential_key=KEY_A))
    assert stat.S_IMODE((tmp_path / "credentials.sqlite").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "credential.key"
    key_file.write_text(KEY_A)
    key_file.chmod(mode)
    with pytest.raises(CredentialConfigError) as raised:
        credential_store(Settings(data_dir=tmp_path))
    message = str(raised.value)
    assert str(key_file) in message and "chmod 600" in message and f"{mode:o}" in message
    assert KEY_A not in message


def test_a_key_file_holds_several_keys_newest_first(tmp_path: Path) -> None:
    key_file = tmp_path / "elsewhere" / "keys"
    key_file.parent.mkdir()
    key_file.write_text(f"# oldest first\n{KEY_A}\n\n{KEY_B}\n")
    key_file.chmod(0o600)
    settings = Settings(data_dir=tmp_path, credential_key_file=key_file)
    assert not (tmp_path / "credential.key").exists()

    async def roundtrip() -> None:
        await credential_store(Settings(data_dir=tmp_path, credential_key=KEY_A)).save(
            "cust-1", "app-1", creds()
        )
        stored = await credential_store(settings).get("cust-1")
        assert stored is not None and stored.credentials.client_secret.get_secret_value()

    asyncio.run(roundtrip())


@pytest.mark.parametrize("keys", ["not-a-key", f"{KEY_A},short", ""])
def test_a_malformed_key_is_refused_naming_the_setting_not_the_value(
    tmp_path: Path, keys: str
) -> None:
    with pytest.raises(CredentialConfigError) as raised:
        credential_store(Settings(data_dir=tmp_path, credential_key=keys))
    message = str(raised.value)
    assert "LINKEDIN_ATS_CREDENTIAL_KEY" in message and "Fernet" in message
    assert "not-a-key" not in message and KEY_A not in message


def test_postgresql_needs_a_shared_key_not_a_generated_one(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, credential_store_url=SecretStr("postgresql://u:p@127.0.0.1/db")
    )
    with pytest.raises(CredentialConfigError) as raised:
        credential_store(settings)
    assert "LINKEDIN_ATS_CREDENTIAL_KEY" in str(raised.value)
    assert not (tmp_path / "credential.key").exists()


def test_the_store_url_must_be_postgresql_and_is_never_echoed() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(credential_store_url=SecretStr("mysql://user:hunter2@db/x"))
    assert "postgresql://" in str(raised.value) and "hunter2" not in str(raised.value)
    assert "hunter2" not in repr(
        Settings(credential_store_url=SecretStr("postgresql://user:hunter2@db/x"))
    )


async def test_an_unreachable_or_refusing_postgresql_is_named_without_its_password(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    wrong = postgres.url().replace(postgres.password, "hunter2-wrong")
    store = credential_store(
        Settings(data_dir=tmp_path, credential_key=KEY_A, credential_store_url=SecretStr(wrong))
    )
    with pytest.raises(CredentialConfigError) as raised:
        await store.open()
    message = str(raised.value)
    assert "LINKEDIN_ATS_CREDENTIAL_STORE_URL" in message and "password" in message
    assert "hunter2-wrong" not in message and postgres.password not in message
    await store.close()


# -- what a workflow sees ----------------------------------------------------------------


async def test_a_job_under_a_wrong_key_fails_at_once_saying_what_to_fix(
    temporal_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    linkedin: LinkedInClient,
    settings: Settings,
    cid: str,
) -> None:
    written = settings.model_copy(update={"credential_key": SecretStr(KEY_A)})
    customer = await onboard_for_jobs(linkedin, written, temporal_env.client, cid)
    rotated = settings.model_copy(update={"credential_key": SecretStr(KEY_B)})
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    with caplog_quiet():
        async with running_worker(temporal_env.client, rotated):
            done = await asyncio.wait_for(jobs.create(cid, job_fields("job-1"), wait=True), 30)
    assert done.outcome == "NEEDS_ATTENTION"  # parked at once, not retried for hours
    assert done.error and "LINKEDIN_ATS_CREDENTIAL_KEY" in done.error and cid in done.error
    assert customer.creds.client_secret.get_secret_value() not in done.error
    assert await sandbox.requests(JOB_POSTINGS) == []
    both = settings.model_copy(update={"credential_key": SecretStr(f"{KEY_A},{KEY_B}")})
    async with running_worker(temporal_env.client, both):  # the operator puts the key back
        await jobs.retry(cid, "job-1")
        await eventually(lambda: jobs.state(cid, "job-1"), lambda s: s.status == "LISTED")


async def test_a_job_for_a_customer_without_credentials_fails_naming_the_customer(
    temporal_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    onboarding: IntegrationsClient,
    settings: Settings,
    cid: str,
) -> None:
    """Onboarding started but never stored a secret (LinkedIn refuses to provision)."""
    await sandbox.fault("provisionedApplications", failNext=1000, status=403)
    impatient = settings.model_copy(update={"job_credentials_wait_seconds": 0})
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    with caplog_quiet():
        async with running_worker(temporal_env.client, impatient):
            await onboarding.start_onboarding(cid, "Globex")
            done = await asyncio.wait_for(jobs.create(cid, job_fields("job-1"), wait=True), 30)
    assert done.outcome == "NEEDS_ATTENTION" and done.error
    assert cid in done.error and "onboard" in done.error


@contextmanager
def caplog_quiet() -> Iterator[None]:
    """Temporal logs each failed activity at WARNING with its stack: expected here."""
    temporal = logging.getLogger("temporalio")
    level = temporal.level
    temporal.setLevel(logging.ERROR)
    try:
        yield
    finally:
        temporal.setLevel(level)


# -- the command line --------------------------------------------------------------------


def run_cli_with(*argv: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_ATS_", "TEMPORAL_"))}
    env.update({f"LINKEDIN_ATS_{k.upper()}": v for k, v in settings.items()})
    return run_cli(*argv, env=env)


async def test_the_reencrypt_command_rotates_a_postgresql_store(
    postgres_url: str, tmp_path: Path
) -> None:
    url = SecretStr(postgres_url)
    old = credential_store(Settings(credential_key=KEY_A, credential_store_url=url))
    for cid in ("a", "b"):
        await old.save(cid, f"app-{cid}", creds(cid, f"secret-{cid}"))
    await old.close()
    done = await asyncio.to_thread(
        run_cli_with,
        "credentials",
        "reencrypt",
        credential_key=f"{KEY_A},{KEY_B}",
        credential_store_url=postgres_url,
        data_dir=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 2 secret(s) under the newest key; 0 already were" in done.stdout
    new = credential_store(Settings(credential_key=KEY_B, credential_store_url=url))
    stored = await new.get("a")
    assert stored is not None and stored.credentials.client_secret.get_secret_value() == "secret-a"
    await new.close()
    for text in (done.stdout, done.stderr):
        assert KEY_A not in text and KEY_B not in text and "secret-a" not in text


async def test_the_reencrypt_command_names_what_it_could_not_read(tmp_path: Path) -> None:
    await credential_store(Settings(data_dir=tmp_path, credential_key=KEY_A)).save(
        "lost", "app-lost", creds()
    )
    done = await asyncio.to_thread(
        run_cli_with, "credentials", "reencrypt", credential_key=KEY_B, data_dir=str(tmp_path)
    )
    assert done.returncode == 1
    assert "lost" in done.stderr and "LINKEDIN_ATS_CREDENTIAL_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_with_a_loose_key_file_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    key_file = tmp_path / "credential.key"
    key_file.write_text(KEY_A)
    key_file.chmod(0o644)
    done = run_cli_with(
        "worker",
        data_dir=str(tmp_path),
        metrics_address=f"127.0.0.1:{free_port()}",
        payload_keys=TEST_KEYS.dumps().strip(),
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"chmod 600 {key_file}" in done.stderr


async def test_an_enable_under_a_rotated_away_key_needs_attention_until_the_key_is_back(
    temporal_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    onboarding: IntegrationsClient,
    settings: Settings,
    cid: str,
) -> None:
    old = settings.model_copy(update={"credential_key": SecretStr(KEY_A)})
    async with running_worker(temporal_env.client, old):
        await onboarding.start_onboarding(cid, "Globex")
        await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
    saved = await sandbox.widget_save(
        customerId=cid, integrationContext="urn:li:contract:555", jobPosterEmail="a@globex.com"
    )
    only_new = settings.model_copy(update={"credential_key": SecretStr(KEY_B)})
    with caplog_quiet():
        async with running_worker(temporal_env.client, only_new):
            await onboarding.widget_saved(cid, saved.json())
            stuck = await eventually(
                lambda: onboarding.integration_state(cid),
                lambda s: s.status == ContextStatus.NEEDS_ATTENTION,
            )
    assert stuck.last_error and "LINKEDIN_ATS_CREDENTIAL_KEY" in stuck.last_error
    assert KEY_A not in stuck.last_error and KEY_B not in stuck.last_error
    assert [r for r in await sandbox.requests("/v2/atsIntegrations") if r["method"] == "POST"] == []
    both = settings.model_copy(update={"credential_key": SecretStr(f"{KEY_A},{KEY_B}")})
    async with running_worker(temporal_env.client, both):
        await onboarding.retry(cid, IntegrationType.PREMIUM_JOB_POSTING)
        await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: s.status == ContextStatus.ENABLED,
        )
