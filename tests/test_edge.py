"""The API's edge: the token before the body, bounded bodies, no default token off loopback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from cli.up import free_port
from client.connection import connect
from settings import Settings
from tests.cli_support import run_cli
from tests.sandbox_control import ServerThread
from tests.temporal_support import TEST_KEYS

AUTH = {"Authorization": "Bearer dev-token"}
LIMIT = 4096
JOB_PATH = "/v1/customers/acme/jobs/req-1"


@pytest.fixture(scope="module")
def api_url(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    address = temporal_env.client.service_client.config.target_host
    settings = Settings(data_dir=tmp_path_factory.mktemp("edge"), max_request_bytes=LIMIT)
    server = ServerThread(
        create_app(settings, lambda: connect(TEST_KEYS, target_host=address)), health="/healthz"
    ).start()
    yield server.url
    server.stop()


def raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    """Send a request's head (and maybe part of its body) and read what comes back."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_an_anonymous_huge_put_is_refused_before_its_body_is_read(api_url: str) -> None:
    # 200 MB announced, none of it sent: an API reading the body first would wait for it.
    answer = raw_request(
        api_url,
        f"PUT {JOB_PATH} HTTP/1.1\nHost: api\nContent-Type: application/json\n"
        f"Content-Length: {200 * 1024 * 1024}\n",
    )
    assert answer.startswith(b"HTTP/1.1 401"), answer
    assert b"a valid bearer token is required" in answer
    assert b"www-authenticate: Bearer" in answer.lower().replace(b"bearer", b"Bearer")


def test_a_declared_body_over_the_limit_is_413_naming_the_limit(api_url: str) -> None:
    answer = raw_request(
        api_url,
        f"PUT {JOB_PATH} HTTP/1.1\nHost: api\nAuthorization: Bearer dev-token\n"
        f"Content-Type: application/json\nContent-Length: {LIMIT + 1}\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert f"exceeds the limit of {LIMIT} bytes (LINKEDIN_ATS_MAX_REQUEST_BYTES)".encode() in answer


def test_a_streamed_body_over_the_limit_is_stopped_at_the_limit(api_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"description": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    response = httpx.put(f"{api_url}{JOB_PATH}", content=chunks(), headers=AUTH, timeout=10)
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"request body exceeds the limit of {LIMIT} bytes (LINKEDIN_ATS_MAX_REQUEST_BYTES)"
    )


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/docs"])
def test_health_and_the_api_description_need_no_token(api_url: str, path: str) -> None:
    assert httpx.get(f"{api_url}{path}", timeout=10).status_code == 200


def test_the_token_is_still_required_on_every_other_path(api_url: str) -> None:
    assert httpx.post(f"{api_url}/healthz", timeout=10).status_code == 401
    assert httpx.get(f"{api_url}/v1/nowhere", timeout=10).status_code == 401
    assert httpx.get(f"{api_url}/v1/nowhere", headers=AUTH, timeout=10).status_code == 404


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_ATS_", "TEMPORAL_"))}
    env["LINKEDIN_ATS_DATA_DIR"] = str(tmp_path)
    env["LINKEDIN_ATS_PAYLOAD_KEYS"] = TEST_KEYS.dumps().strip()
    env.update(extra)
    return env


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_the_default_token_is_refused_off_loopback(tmp_path: Path, host: str) -> None:
    result = run_cli("api", "--host", host, "--port", str(free_port()), env=clean_env(tmp_path))
    assert result.returncode == 1
    assert "LINKEDIN_ATS_API_TOKEN is the default 'dev-token'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_loose_payload_key_file_stops_the_api_in_one_line(tmp_path: Path) -> None:
    key_file = tmp_path / "payload.keys"
    key_file.write_text(TEST_KEYS.dumps())
    key_file.chmod(0o644)
    env = clean_env(tmp_path, LINKEDIN_ATS_PAYLOAD_KEY_FILE=str(key_file))
    del env["LINKEDIN_ATS_PAYLOAD_KEYS"]
    result = run_cli("api", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert f"has mode 0644; it must be readable by its owner only: chmod 600 {key_file}" in (
        result.stderr.replace("\n", "")
    )
    assert "Traceback" not in result.stderr


def in_process(app: Any) -> httpx.AsyncClient:
    """The app without a server or its lifespan (so without Temporal)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_a_router_in_routes_open_takes_no_token_and_the_rest_still_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where LinkedIn's inbound webhooks go (api/routes/linkedin.py): a router listed in
    api.routes.OPEN is reached without our token, its body read; no other route is."""
    from fastapi import APIRouter

    from api import routes

    inbound = APIRouter(tags=["linkedin"])

    @inbound.post("/linkedin/events")
    async def receive_event(event: dict[str, str]) -> dict[str, str]:
        return event

    monkeypatch.setattr(routes, "OPEN", (*routes.OPEN, inbound))
    async with in_process(create_app(Settings(max_request_bytes=LIMIT))) as http:
        assert (await http.post("/linkedin/events", json={"a": "b"})).json() == {"a": "b"}
        too_large = await http.post("/linkedin/events", content=b"x" * (LIMIT + 1))
        assert too_large.status_code == 413
        assert (await http.get("/linkedin/events")).status_code == 401  # its methods only
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.head("/healthz")).status_code == 405  # past the edge, as before
        assert (await http.post("/healthz")).status_code == 401
        assert (await http.put(JOB_PATH, json={})).status_code == 401
        assert (await http.get("/v1/nowhere")).status_code == 401
        spec = (await http.get("/openapi.json")).json()
    inbound_spec = spec["paths"]["/linkedin/events"]["post"]
    assert "security" not in inbound_spec and "401" not in inbound_spec["responses"]


async def test_a_route_behind_the_token_refuses_a_request_the_edge_did_not_check() -> None:
    """The token is compared once, at the edge; a route behind it still fails closed when
    mounted without the edge."""
    from fastapi import FastAPI

    from api import deps
    from api.routes import integrations

    bare = FastAPI()
    bare.include_router(integrations.router, dependencies=[deps.BEARER_TOKEN])
    async with in_process(bare) as http:
        answer = await http.get("/v1/integrations", headers=AUTH)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
