"""Payload encryption: ciphertext in Temporal, keys that rotate, key files only owners read."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadKeyError,
    PayloadKeys,
    new_key,
    read_key_file,
    write_key_file,
)
from client.connection import data_converter
from client.integrations import IntegrationsClient
from domain.integrations import IntegrationType
from settings import Settings
from tests.temporal_support import TEST_KEYS, eventually

EMAIL = b"hiring.manager@globex.example"


def without_search_attributes(event: HistoryEvent) -> bytes:
    """The event's bytes without what Temporal must read in plain: search attributes, and
    patch markers (`workflow.patched`), which hold a patch's name and nothing of ours."""
    if event.HasField("upsert_workflow_search_attributes_event_attributes"):
        return b""
    marker = event.marker_recorded_event_attributes
    if event.HasField("marker_recorded_event_attributes") and marker.marker_name == "core_patch":
        return b""
    copy = HistoryEvent()
    copy.CopyFrom(event)
    if copy.HasField("workflow_execution_started_event_attributes"):
        copy.workflow_execution_started_event_attributes.ClearField("search_attributes")
    return copy.SerializeToString()


def plain(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_payloads_are_sealed_with_the_newest_key_and_open_with_any() -> None:
    old = new_key()
    rotated = old.with_new_key()
    sealed_before = (await EncryptionCodec(old).encode([plain(EMAIL)]))[0]
    sealed_after = (await EncryptionCodec(rotated).encode([plain(EMAIL)]))[0]

    assert EMAIL not in sealed_before.SerializeToString()
    assert sealed_before.metadata["encoding"] == ENCODING
    assert sealed_before.metadata[KEY_ID] == old.newest_id.encode()
    assert sealed_after.metadata[KEY_ID] == rotated.newest_id.encode() != old.newest_id.encode()
    opened = await EncryptionCodec(rotated).decode([sealed_before, sealed_after, plain(b"1")])
    assert [p.data for p in opened] == [EMAIL, EMAIL, b"1"]  # plain ones predate encryption


async def test_a_payload_of_a_dropped_key_names_the_key() -> None:
    old = new_key()
    sealed = (await EncryptionCodec(old).encode([plain(EMAIL)]))[0]
    with pytest.raises(PayloadKeyError, match=f"sealed with key '{old.newest_id}'"):
        await EncryptionCodec(new_key()).decode([sealed])


async def test_a_changed_key_under_the_same_id_is_refused_clearly() -> None:
    sealed = (await EncryptionCodec(TEST_KEYS).encode([plain(EMAIL)]))[0]
    impostor = PayloadKeys({TEST_KEYS.newest_id: os.urandom(32)})
    with pytest.raises(PayloadKeyError, match="the key was changed"):
        await EncryptionCodec(impostor).decode([sealed])


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "holds no payload key"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        ("k1:not base64!", "must be 32 bytes"),
        ("bad id:" + base64.b64encode(bytes(32)).decode(), "key id 'bad id'"),
    ],
)
def test_malformed_keys_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(PayloadKeyError, match=fragment):
        PayloadKeys.parse(text, "LINKEDIN_ATS_PAYLOAD_KEYS")


def test_keys_parse_oldest_first_with_comments_and_commas() -> None:
    a, b, c = (base64.b64encode(bytes([i]) * 32).decode() for i in range(3))
    keys = PayloadKeys.parse(f"# rotated yearly\nk1:{a}, k2:{b}\nk3:{c}  # newest\n", "file")
    assert list(keys.keys) == ["k1", "k2", "k3"]
    assert keys.newest_id == "k3"
    assert PayloadKeys.parse(keys.dumps(), "again") == keys


def test_a_key_file_is_written_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "payload.keys"
    write_key_file(path, TEST_KEYS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_key_file(path) == TEST_KEYS


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "payload.keys"
    write_key_file(path, TEST_KEYS)
    path.chmod(mode)
    with pytest.raises(PayloadKeyError, match=f"has mode {mode:04o}.*chmod 600 {path}"):
        read_key_file(path)


def test_a_missing_key_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(PayloadKeyError, match="linkedin-ats payload-key"):
        Settings(data_dir=tmp_path).load_payload_keys()


def test_the_setting_wins_over_the_key_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, payload_keys=SecretStr(TEST_KEYS.dumps().strip()))
    assert settings.load_payload_keys() == TEST_KEYS
    assert settings.payload_key_path == tmp_path / "keys" / "payload.keys"
    assert settings.payload_key_path.parent != settings.credentials_path.parent


@pytest.mark.usefixtures("worker")
async def test_temporal_holds_ciphertext_and_our_clients_read_it(
    temporal_env: WorkflowEnvironment, onboarding: IntegrationsClient, cid: str
) -> None:
    customer, name = cid, "Globex Confidential Holdings"
    await onboarding.start_onboarding(customer, name, [IntegrationType.PREMIUM_JOB_POSTING])
    state = await eventually(
        lambda: onboarding.integration_state(customer, IntegrationType.PREMIUM_JOB_POSTING),
        lambda s: s.customer_name == name,
    )
    assert state.customer_name == name

    handle = temporal_env.client.get_workflow_handle(f"integration/{customer}/PREMIUM_JOB_POSTING")
    history = await handle.fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert name.encode() not in raw
    assert ENCODING in raw
    for event in history.events:  # every payload sealed but the (indexed) search attributes
        assert b"json/plain" not in without_search_attributes(event), event

    stranger = Client(temporal_env.client.service_client, data_converter=data_converter(new_key()))
    with pytest.raises(Exception, match="not among the payload keys"):
        await stranger.get_workflow_handle(handle.id).query("state")


def test_the_payload_key_command_creates_then_rotates(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKEDIN_ATS_")}
    env["LINKEDIN_ATS_DATA_DIR"] = str(tmp_path)
    cli = str(Path(sys.executable).parent / "linkedin-ats")

    def payload_key(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [cli, "payload-key", *args], env=env, capture_output=True, text=True, check=False
        )

    path = tmp_path / "keys" / "payload.keys"
    assert payload_key().returncode == 0
    first = read_key_file(path)
    again = payload_key()
    assert again.returncode == 1 and "--rotate adds a new key" in again.stderr
    assert payload_key("--rotate").returncode == 0
    rotated = read_key_file(path)
    assert list(rotated.keys)[:-1] == list(first.keys) and rotated.newest_id not in first.keys
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    loose = payload_key("--rotate")
    assert loose.returncode == 1 and "chmod 600" in loose.stderr


def test_up_creates_the_key_file_only_when_no_key_is_configured(tmp_path: Path) -> None:
    from cli.up import ensure_payload_key_file

    settings = Settings(data_dir=tmp_path)
    assert ensure_payload_key_file(settings) == settings.payload_key_path
    assert ensure_payload_key_file(settings) is None  # said once: the next start finds it
    configured = Settings(data_dir=tmp_path / "other", payload_keys=SecretStr(TEST_KEYS.dumps()))
    assert ensure_payload_key_file(configured) is None
    assert not configured.payload_key_path.exists()
