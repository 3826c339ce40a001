"""docker-compose.yml agrees with our settings, commands and ports (Docker is not here)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from cli.main import app as cli
from domain.provisioning import AppCredentials
from linkedin_sandbox import SandboxSettings
from settings import Settings
from tests.postgres_support import SUPERUSER, PostgresCluster
from workers.worker import credential_store

ROOT = Path(__file__).parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = ("setup", "worker", "api", "codec", "sandbox")
COMMANDS = {command.name or command.callback.__name__ for command in cli.registered_commands}


def test_the_services_are_there() -> None:
    assert {"postgresql", "temporal", "temporal-ui", *OURS} <= set(SERVICES)
    assert SERVICES["sandbox"]["profiles"] == ["sandbox"]


@pytest.mark.parametrize("name", ["postgresql", "credentials-db", "temporal", "temporal-ui"])
def test_third_party_images_are_pinned(name: str) -> None:
    image = SERVICES[name]["image"]
    assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+", image), image


@pytest.mark.parametrize("name", OURS)
def test_our_services_run_our_commands_with_our_settings(name: str) -> None:
    service = SERVICES[name]
    assert service["build"] == "."
    assert service["command"][0] in COMMANDS
    for variable in service.get("environment", {}):
        if variable.startswith("LINKEDIN_ATS_"):
            assert variable.removeprefix("LINKEDIN_ATS_").lower() in Settings.model_fields, variable
        elif variable.startswith("LINKEDIN_SANDBOX_"):
            field = variable.removeprefix("LINKEDIN_SANDBOX_").lower()
            assert field in SandboxSettings.model_fields, variable
        else:
            assert variable.startswith("TEMPORAL_"), variable


def test_our_processes_reach_temporal_and_publish_their_ports() -> None:
    for name in ("setup", "worker", "api"):
        assert SERVICES[name]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert "127.0.0.1:7233:7233" in SERVICES["temporal"]["ports"]
    api_port = SERVICES["api"]["command"][SERVICES["api"]["command"].index("--port") + 1]
    assert f"{api_port}:{api_port}" in SERVICES["api"]["ports"]
    metrics = SERVICES["worker"]["environment"]["LINKEDIN_ATS_METRICS_ADDRESS"]
    assert metrics.startswith("0.0.0.0:")
    (published,) = SERVICES["worker"]["ports"]  # a host port per replica
    first, last = re.fullmatch(
        rf"(?:[\d.]+:)?(\d+)-(\d+):{metrics.split(':')[1]}", published
    ).groups()
    assert int(last) - int(first) + 1 == SERVICES["worker"]["deploy"]["replicas"]
    sandbox_port = SERVICES["sandbox"]["command"][
        SERVICES["sandbox"]["command"].index("--port") + 1
    ]
    assert f"127.0.0.1:{sandbox_port}:{sandbox_port}" in SERVICES["sandbox"]["ports"]
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_secrets_are_required_not_defaulted() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in (
        "PARTNER_CLIENT_SECRET",
        "API_TOKEN",
        "CREDENTIAL_KEY",
        "PAYLOAD_KEYS",
        "CODEC_TOKEN",
    ):
        assert re.search(rf"LINKEDIN_ATS_{secret}: \$\{{LINKEDIN_ATS_{secret}:\?", text), secret


def test_the_image_holds_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = yaml.safe_load(
        "["
        + re.search(r"packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.S)[1]
        + "]"
    )
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile, package
    assert 'ENTRYPOINT ["linkedin-ats"]' in dockerfile


PUBLIC = {"api"}
"""Services meant for the ATS back end on any interface; they require a token of their own."""


@pytest.mark.parametrize("name", sorted(set(SERVICES) - PUBLIC))
def test_operator_ports_are_bound_to_loopback(name: str) -> None:
    for mapping in SERVICES[name].get("ports", []):
        assert str(mapping).startswith("127.0.0.1:"), (
            f"{name} publishes {mapping} on every interface"
        )


def test_the_ui_decodes_through_the_codec_server() -> None:
    codec_port = SERVICES["codec"]["command"][SERVICES["codec"]["command"].index("--port") + 1]
    assert f"127.0.0.1:{codec_port}:{codec_port}" in SERVICES["codec"]["ports"]
    endpoint = SERVICES["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert endpoint.startswith(f"http://127.0.0.1:{codec_port}/${{LINKEDIN_ATS_CODEC_TOKEN:?")
    ui_port = SERVICES["temporal-ui"]["ports"][0].split(":")[1]
    assert f"http://127.0.0.1:{ui_port}" in SERVICES["codec"]["command"]


def test_the_compose_file_says_how_operators_reach_the_loopback_ports() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "bound to 127.0.0.1" in text and "reverse proxy" in text


def test_two_workers_share_a_credential_store_on_postgresql() -> None:
    worker = SERVICES["worker"]
    assert worker["deploy"]["replicas"] == 2
    url = worker["environment"]["LINKEDIN_ATS_CREDENTIAL_STORE_URL"]
    password = r"\$\{LINKEDIN_ATS_CREDENTIALS_DB_PASSWORD:\?[^}]+\}"  # required, no default
    assert re.fullmatch(rf"postgresql://linkedin_ats:{password}@postgresql:5432/linkedin_ats", url)
    assert worker["depends_on"]["credentials-db"]["condition"] == "service_completed_successfully"
    assert "volumes" not in worker  # nothing of a worker's own survives it, by design
    assert SERVICES["temporal"]["environment"]["DB"] == "postgres12"  # Temporal on it too


def test_the_credentials_database_bootstrap_runs_on_a_real_postgresql(
    postgres: PostgresCluster,
) -> None:
    """The credentials-db service's script, run twice (every start) against PostgreSQL."""
    script = SERVICES["credentials-db"]["command"][2].replace("$$", "$")
    env = {
        "PATH": f"{postgres.bin}:{os.environ['PATH']}",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(postgres.port),
        "PGUSER": SUPERUSER,
        "PGPASSWORD": postgres.password,
        "CREDENTIALS_DB_PASSWORD": "first-password",
    }
    for password in ("first-password", "rotated-password"):
        env["CREDENTIALS_DB_PASSWORD"] = password
        done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    url = SERVICES["worker"]["environment"]["LINKEDIN_ATS_CREDENTIAL_STORE_URL"]
    url = re.sub(r"\$\{[^}]+\}", "rotated-password", url).replace(
        "@postgresql:5432", f"@127.0.0.1:{postgres.port}"
    )
    settings = Settings(credential_store_url=url, credential_key=Fernet.generate_key().decode())

    async def roundtrip() -> str | None:
        store = credential_store(settings)
        try:
            await store.save("cust-1", "app-1", AppCredentials(client_id="c", client_secret="s"))
            stored = await store.get("cust-1")
            return stored and stored.credentials.client_secret.get_secret_value()
        finally:
            await store.close()

    assert asyncio.run(roundtrip()) == "s"
