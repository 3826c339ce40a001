"""The command line, and `linkedin-ats up` bringing the whole system up for real."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from cli.demo import DESCRIPTION
from cli.up import free_port
from tests.cli_support import CLI, run_cli
from tests.temporal_support import TEST_KEYS


@dataclass
class Stack:
    env: dict[str, str]
    process: subprocess.Popen[str]
    output: Path
    ui_port: int
    api_port: int

    def text(self) -> str:
        return self.output.read_text()


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent`, from /proc."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat_file.parent.name))
    return found


def stack_env(data_dir: Path) -> dict[str, str]:
    ports = {
        name: str(free_port())
        for name in ("TEMPORAL_PORT", "TEMPORAL_UI_PORT", "SANDBOX_PORT", "API_PORT", "CODEC_PORT")
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_ATS_", "TEMPORAL_"))}
    env.update({f"LINKEDIN_ATS_{k}": v for k, v in ports.items()})
    env["LINKEDIN_ATS_METRICS_ADDRESS"] = f"127.0.0.1:{free_port()}"
    env["LINKEDIN_ATS_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`linkedin-ats up --demo` on free ports, run until the demo completes."""
    data = tmp_path_factory.mktemp("stack")
    env = stack_env(data)
    output = data / "up.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [CLI, "up", "--demo"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    started = Stack(
        env,
        process,
        output,
        int(env["LINKEDIN_ATS_TEMPORAL_UI_PORT"]),
        int(env["LINKEDIN_ATS_API_PORT"]),
    )
    deadline = time.monotonic() + 180
    while "Demo complete" not in started.text() and "demo failed" not in started.text():
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    yield started
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def test_up_prints_the_urls_and_the_demo_completes(stack: Stack) -> None:
    text = stack.text()
    assert "linkedin-ats is up" in text, text
    assert f"http://127.0.0.1:{stack.ui_port}" in text
    assert f"http://127.0.0.1:{stack.api_port}/docs" in text
    assert "Demo complete" in text, text
    assert "LinkedIn kept the jobId and URL" in text
    assert "new listing; the old one was jobId" in text
    assert "LinkedIn took the job down; it reads UNLISTED_BY_LINKEDIN" in text
    assert "(LinkedIn says: Closed after member reports)" in text
    assert "LinkedIn asked for the job again: it was resent as one UPDATE" in text
    assert re.search(r"LinkedIn delivered urn:li:jobApplication:\d+, signed", text), text
    assert re.search(r"application \d+ is READY: resume \d+ bytes, sealed", text), text
    assert "the ATS marked it viewed, then rejected: LinkedIn heard " in text
    assert "LinkedIn heard APPLICATION_VIEWED, APPLICATION_REJECTED" in text
    for event in (
        "job.listed",
        "job.upgraded",
        "job.renewed",
        "job.downgraded",
        "job.closed",
        "application.received",
        "application.action_sent",
    ):
        assert re.search(rf"webhook {re.escape(event)} +evt_\w+  signature ok", text), event


def test_the_ui_lists_workflows_by_search_attribute(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.ui_port}/api/v1/namespaces/default/workflows"
    for query, prefix in (
        ('IntegrationStatus="ENABLED"', "integration/"),
        ('JobStatus="CLOSED"', "job/"),
    ):
        answer = httpx.get(base, params={"query": query}, timeout=10).json()
        ids = [e["execution"]["workflowId"] for e in answer.get("executions", [])]
        assert ids and all(i.startswith(prefix) for i in ids), (query, answer)


def test_the_worker_serves_our_metrics_and_temporals(stack: Stack) -> None:
    address = stack.env["LINKEDIN_ATS_METRICS_ADDRESS"]
    text = httpx.get(f"http://{address}/metrics", timeout=10).text
    for metric in (
        "linkedin_calls{",
        'endpoint="simpleJobPostings"',
        'outcome="2xx"',
        "linkedin_call_latency",
        "linkedin_token_requests",
        "linkedin_task_wait",
        "temporal_workflow_completed",
        "temporal_activity_execution_latency",
    ):
        assert metric in text, metric


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(__file__).parents[1] / "docs" / "images" / "temporal-ui.png"


def headless(url: str, profile: Path, *args: str) -> str:
    """Chromium as the probe here runs it: headless, and quiet on this closed network."""
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--window-size=1400,800",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it)")
def test_the_temporal_ui_filters_the_demo_by_search_attribute(stack: Stack, tmp_path: Path) -> None:
    query = quote('IntegrationStatus="ENABLED"')
    url = f"http://127.0.0.1:{stack.ui_port}/namespaces/default/workflows?query={query}"
    dom = headless(url, tmp_path / "profile", "--dump-dom")
    shown = set(re.findall(r"integration/[\w-]+/PREMIUM_JOB_POSTING", dom))
    assert len(shown) == 2, shown  # the demo's Globex and Initech, both ENABLED
    assert not re.search(r"job/[\w-]+/demo-\d+", dom)  # the filter leaves jobs out
    screenshot = tmp_path / "ui.png"
    headless(url, tmp_path / "profile2", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, SCREENSHOT)


def workflow_run(stack: Stack, workflow_id: str) -> str:
    url = f"http://127.0.0.1:{stack.ui_port}/api/v1/namespaces/default/workflows/"
    described = httpx.get(url + quote(workflow_id, safe=""), timeout=10).json()
    return str(described["workflowExecutionInfo"]["execution"]["runId"])


def demo_job(stack: Stack) -> str:
    found = re.search(r"A job (demo-\d+) — \S+/workflows/job%2F([\w-]+)%2F", stack.text())
    assert found, stack.text()
    return f"job/{found[2]}/{found[1]}"


def test_temporal_stores_no_personal_data_in_clear(stack: Stack) -> None:
    data = Path(stack.env["LINKEDIN_ATS_DATA_DIR"])
    raw = b"".join(path.read_bytes() for path in sorted(data.glob("temporal.sqlite*")))
    assert demo_job(stack).encode() in raw  # ids are stored as they are: the search is real
    assert b"binary/encrypted" in raw
    for personal in (b"recruiter@", b"new.recruiter@globex.example.com", DESCRIPTION[:60].encode()):
        assert personal not in raw, personal
    assert stat.S_IMODE((data / "temporal.sqlite").stat().st_mode) == 0o600


def test_up_makes_an_owner_only_key_file_apart_from_the_credentials(stack: Stack) -> None:
    data = Path(stack.env["LINKEDIN_ATS_DATA_DIR"])
    key_file = data / "keys" / "payload.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert not list(key_file.parent.glob("credentials*"))
    assert stack.text().count(f"created the payload key file {key_file} (mode 0600)") == 1


def test_up_prints_no_token(stack: Stack) -> None:
    commands = [
        Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        for pid in child_pids(stack.process.pid)
    ]
    temporal = next(c for c in commands if b"start-dev" in c)
    endpoint = temporal[temporal.index(b"--ui-codec-endpoint") + 1].decode()
    codec_token = endpoint.rsplit("/", 1)[1]
    assert len(codec_token) >= 24
    text = stack.text() + "".join(
        p.read_text() for p in (Path(stack.env["LINKEDIN_ATS_DATA_DIR"]) / "logs").glob("*.log")
    )
    assert codec_token not in text
    assert "dev-token" not in stack.text()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs it)")
def test_the_temporal_ui_shows_encrypted_payloads_through_the_codec(
    stack: Stack, tmp_path: Path
) -> None:
    workflow_id = demo_job(stack)
    run_id = workflow_run(stack, workflow_id)
    page = f"http://127.0.0.1:{stack.ui_port}/namespaces/default/workflows/"
    url = f"{page}{quote(workflow_id, safe='')}/{run_id}/history"
    dom = headless(url, tmp_path / "profile", "--dump-dom")
    assert DESCRIPTION[:60] in dom
    codec_log = Path(stack.env["LINKEDIN_ATS_DATA_DIR"]) / "logs" / "codec.log"
    decoded = [
        line
        for line in codec_log.read_text().splitlines()
        if '"path": "/decode", "status": 200' in line
    ]
    assert decoded  # the browser had our codec server decode what Temporal holds sealed


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """A command against the stack's own Temporal."""
    env = {**stack.env, "TEMPORAL_ADDRESS": f"127.0.0.1:{stack.env['LINKEDIN_ATS_TEMPORAL_PORT']}"}
    return run_cli(*args, env=env, timeout=120)


def test_p4p_setup_and_apps_sync_from_the_command_line(stack: Stack) -> None:
    assert cli(stack, "onboard", "cli-p4p", "--name", "Cli Co").returncode == 0
    setup = cli(stack, "p4p-setup", "cli-p4p", "4321")
    assert setup.returncode == 0, setup.stderr
    assert '"contract": "urn:li:contract:4321"' in setup.stdout
    assert '"status": "SET_UP"' in setup.stdout
    synced = cli(stack, "apps-sync", "--customer", "cli-p4p")
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout == "cli-p4p: already up to date\n"


def test_up_stops_everything_on_sigterm(stack: Stack) -> None:
    os.killpg(stack.process.pid, signal.SIGTERM)
    assert stack.process.wait(timeout=60) == 0
    for port in (stack.ui_port, stack.api_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["LINKEDIN_ATS_API_PORT"])))
        holder.listen()
        result = run_cli("up", env=env)
    assert result.returncode == 1
    port = env["LINKEDIN_ATS_API_PORT"]
    assert f"port {port} (API) is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_commands_fail_in_one_readable_line(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    env["TEMPORAL_ADDRESS"] = f"127.0.0.1:{free_port()}"  # nothing listens there
    env["LINKEDIN_ATS_PAYLOAD_KEYS"] = TEST_KEYS.dumps().strip()
    result = run_cli("integrations", env=env)
    assert result.returncode == 1
    assert (
        result.stderr
        == "error: cannot reach Temporal: is it running, and is TEMPORAL_ADDRESS right?\n"
    )
    job = tmp_path / "job.json"
    job.write_text('{"externalJobPostingId": "j1", "title": "x"}')
    result = run_cli("job", "create", "acme", "--file", str(job), env=env)
    assert result.returncode == 1
    assert result.stderr == "error: description: required for CREATE\n"  # before any connection
    result = run_cli("onboard", "acme", "--type", "RSC", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: --type: 'RSC' is not an integration type or bundle")


def test_a_bogus_status_names_the_allowed_values(tmp_path: Path) -> None:
    env = {**stack_env(tmp_path), "COLUMNS": "300", "TERM": "dumb"}
    for command, allowed in (
        (["jobs", "--status", "BOGUS"], ["PENDING", "LISTED", "CLOSED", "NEEDS_ATTENTION"]),
        (["integrations", "--status", "BOGUS"], ["NOT_CONNECTED", "REQUESTED", "ENABLED"]),
    ):
        result = run_cli(*command, env=env)
        assert result.returncode == 2
        assert "Invalid value for '--status'" in result.stderr
        assert "'BOGUS' is not one of" in result.stderr
        assert all(f"'{value}'" in result.stderr for value in allowed), result.stderr
        assert "Traceback" not in result.stderr + result.stdout
