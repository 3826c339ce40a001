"""However `linkedin-ats up` ends, no service it started keeps running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_cli import CLI, child_pids, stack_env

pytestmark = pytest.mark.server  # a stack of processes, or a server of its own


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped counts: it runs nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_until(check: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {within}s")
        time.sleep(0.2)


def api_answers(port: str) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize(
    "ending",
    [
        "ctrl-c with the reader of its output gone",  # `make up | tee up.log`, then Ctrl-C
        "ctrl-c while starting",
        "terminal closed (SIGHUP)",
        "SIGKILL",
    ],
)
def test_up_leaves_no_service_running(tmp_path: Path, ending: str) -> None:
    env = stack_env(tmp_path)
    up = subprocess.Popen(
        [CLI, "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a shell pipeline's would be
    )
    assert up.stdout is not None
    try:
        if ending == "ctrl-c while starting":
            wait_until(lambda: len(child_pids(up.pid)) >= 2, 60, "starting")
        else:
            wait_until(lambda: api_answers(env["LINKEDIN_ATS_API_PORT"]), 120, "up")
        children = child_pids(up.pid)
        assert children
        if ending == "ctrl-c with the reader of its output gone":
            up.stdout.close()  # tee died of the same Ctrl-C
            os.killpg(up.pid, signal.SIGINT)
        elif ending == "ctrl-c while starting":
            os.killpg(up.pid, signal.SIGINT)
        elif ending == "terminal closed (SIGHUP)":
            os.killpg(up.pid, signal.SIGHUP)
        else:
            os.kill(up.pid, signal.SIGKILL)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(up.pid, signal.SIGUSR1)  # every thread's stack, to see where it stuck
            time.sleep(1)
            stacks = tmp_path / "logs" / "up-stacks.log"
            raise AssertionError(f"up still running 60s on:\n{stacks.read_text()}") from None
        wait_until(lambda: all(gone(pid) for pid in children), 30, "all stopped")
        if ending != "SIGKILL":
            assert up.returncode == 0
    finally:
        for pid in child_pids(up.pid) if up.poll() is None else []:
            os.killpg(pid, signal.SIGKILL)
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)


@pytest.mark.parametrize(("console", "exit_code"), [("Console", 1), ("OutlivesItsReader", 0)])
def test_up_console_falls_silent_when_its_reader_is_gone(console: str, exit_code: int) -> None:
    """Rich's console exits 1 on a broken pipe, which replaced a Ctrl-C being handled
    (`make up | tee up.log`, the CI run met it); `up`'s console falls silent instead."""
    script = (
        "import sys, time\n"
        "from rich.console import Console\n"
        "from cli.common import OutlivesItsReader, finish\n"
        "sys.stdin.read()\n"  # the test has closed our stdout's reader
        f"out = {console}()\n"
        "for _ in range(100):\n"
        "    out.print('stopping…' * 100)\n"
        "finish(0)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdout.close()
    child.stdin.close()
    assert child.wait(timeout=30) == exit_code
