"""`linkedin-ats codec-server`: Temporal's codec endpoint, for the UI, behind a token."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from api.codec import create_codec_app
from cli.up import free_port
from client.codec import EncryptionCodec, new_key
from tests.cli_support import run_cli
from tests.sandbox_control import ServerThread
from tests.temporal_support import TEST_KEYS

TOKEN = "codec-test-token"
UI = "http://127.0.0.1:8233"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EMAIL = b'"hiring.manager@globex.example"'


@pytest.fixture(scope="module")
def codec_url() -> Iterator[str]:
    server = ServerThread(create_codec_app(TEST_KEYS, TOKEN, [UI]), health="/healthz").start()
    yield server.url
    server.stop()


def payloads(*data: bytes) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                "data": base64.b64encode(d).decode(),
            }
            for d in data
        ]
    }


def test_encode_then_decode_gives_the_payloads_back(codec_url: str) -> None:
    encoded = httpx.post(f"{codec_url}/encode", json=payloads(EMAIL), headers=AUTH).json()
    sealed = encoded["payloads"][0]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"test-2024"
    assert EMAIL not in base64.b64decode(sealed["data"])
    decoded = httpx.post(f"{codec_url}/decode", json=encoded, headers=AUTH).json()
    assert base64.b64decode(decoded["payloads"][0]["data"]) == EMAIL


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/decode", {}),
        ("/decode", {"Authorization": "Bearer wrong"}),
        ("/wrong/decode", {}),
        (f"/{TOKEN}x/decode", {}),
    ],
)
def test_without_the_token_nothing_is_decoded(
    codec_url: str, path: str, headers: dict[str, str]
) -> None:
    response = httpx.post(f"{codec_url}{path}", json=payloads(EMAIL), headers=headers)
    assert response.status_code == 401


def test_the_ui_endpoint_carries_the_token_in_its_path(codec_url: str) -> None:
    encoded = httpx.post(f"{codec_url}/encode", json=payloads(EMAIL), headers=AUTH).json()
    response = httpx.post(f"{codec_url}/{TOKEN}/decode", json=encoded, headers={"Origin": UI})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI
    assert base64.b64decode(response.json()["payloads"][0]["data"]) == EMAIL


def test_cors_admits_the_ui_origin_only(codec_url: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    ok = httpx.options(f"{codec_url}/{TOKEN}/decode", headers={"Origin": UI, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in ok.headers["access-control-allow-headers"].lower()
    other = httpx.options(
        f"{codec_url}/{TOKEN}/decode", headers={"Origin": "http://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers


def test_a_payload_of_an_unknown_key_is_a_clear_422(codec_url: str) -> None:
    sealed = EncryptionCodec(new_key()).seal(Payload(metadata={}, data=EMAIL))
    body = {"payloads": [json.loads(json_format.MessageToJson(sealed))]}
    response = httpx.post(f"{codec_url}/decode", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "not among the payload keys" in response.json()["detail"]


def test_the_codec_server_will_not_start_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKEDIN_ATS_")}
    env["LINKEDIN_ATS_PAYLOAD_KEYS"] = TEST_KEYS.dumps().strip()
    result = run_cli("codec-server", "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert "set LINKEDIN_ATS_CODEC_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
