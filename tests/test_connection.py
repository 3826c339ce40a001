"""Every process reaches Temporal through TEMPORAL_*: self-hosted, mTLS or Temporal Cloud."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from client.connection import connect, connect_config
from tests.temporal_support import TEST_KEYS


@pytest.fixture
def temporal_env_vars(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No TEMPORAL_* of the machine running the tests, and no config file of its user."""
    for name in list(os.environ):
        if name.startswith("TEMPORAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "absent.toml"))
    return monkeypatch


def test_the_default_is_a_local_server_without_tls(temporal_env_vars: pytest.MonkeyPatch) -> None:
    assert connect_config() == {"target_host": "localhost:7233"}


def test_temporal_cloud_with_an_api_key(temporal_env_vars: pytest.MonkeyPatch) -> None:
    temporal_env_vars.setenv("TEMPORAL_ADDRESS", "us-east-1.aws.api.temporal.io:7233")
    temporal_env_vars.setenv("TEMPORAL_NAMESPACE", "linkedin-ats.a1b2c")
    temporal_env_vars.setenv("TEMPORAL_API_KEY", "cloud-api-key")
    config = connect_config()
    assert config["target_host"] == "us-east-1.aws.api.temporal.io:7233"
    assert config["namespace"] == "linkedin-ats.a1b2c"
    assert config["api_key"] == "cloud-api-key"
    assert config["tls"] is True  # an API key implies TLS


def test_mutual_tls_with_client_certificates(
    temporal_env_vars: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = {name: tmp_path / f"{name}.pem" for name in ("cert", "key", "ca")}
    for name, path in files.items():
        path.write_text(f"-----{name}-----\n")
    temporal_env_vars.setenv("TEMPORAL_ADDRESS", "linkedin-ats.a1b2c.tmprl.cloud:7233")
    temporal_env_vars.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(files["cert"]))
    temporal_env_vars.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(files["key"]))
    temporal_env_vars.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(files["ca"]))
    temporal_env_vars.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.internal")
    tls = connect_config()["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"-----cert-----\n" and tls.client_private_key == b"-----key-----\n"
    assert tls.server_root_ca_cert == b"-----ca-----\n" and tls.domain == "temporal.internal"


def test_explicit_arguments_win_over_the_environment(
    temporal_env_vars: pytest.MonkeyPatch,
) -> None:
    temporal_env_vars.setenv("TEMPORAL_ADDRESS", "elsewhere:7233")
    assert connect_config({"target_host": "127.0.0.1:7233"})["target_host"] == "127.0.0.1:7233"


async def test_connect_follows_the_environment_to_a_real_server(
    temporal_env: WorkflowEnvironment, temporal_env_vars: pytest.MonkeyPatch
) -> None:
    temporal_env_vars.setenv(
        "TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host
    )
    temporal_env_vars.setenv("TEMPORAL_NAMESPACE", "default")
    client = await connect(TEST_KEYS)
    assert client.namespace == "default"
    assert await client.service_client.check_health()
