"""The processes `linkedin-ats up` runs, each one killable and restartable on its own.

The dev server restarts on its SQLite file and the sandbox on its --state file, so
Temporal's history and LinkedIn's world survive every SIGKILL, as they would in production.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import structlog
from temporalio.client import Client

from cli.up import Child, children, ensure_payload_key_file, free_port, stop_children
from settings import Settings

log = structlog.get_logger("chaos")

KILLABLE = ("worker", "sandbox", "temporal", "api")


def chaos_settings(data: Path) -> tuple[Settings, dict[str, str]]:
    """Settings on free loopback ports, and the environment that gives them to children.

    LinkedIn's tasks finish in half a second and a lost answer is reconciled after 20 s
    (not 5 minutes), so a bounded run sees many operations through.
    """
    ports = {
        "temporal_port": free_port(),
        "temporal_ui_port": free_port(),
        "sandbox_port": free_port(),
        "api_port": free_port(),
        "codec_port": free_port(),
    }
    values: dict[str, str] = {
        **{name: str(port) for name, port in ports.items()},
        "metrics_address": f"127.0.0.1:{free_port()}",
        "data_dir": str(data),
        "api_token": secrets.token_urlsafe(24),
        "job_task_poll_seconds": "1",
        "job_settle_seconds": "20",
        "job_credentials_wait_seconds": "120",
        "verify_interval_seconds": "3600",
    }
    env = {f"LINKEDIN_ATS_{name.upper()}": value for name, value in values.items()}
    env["LINKEDIN_SANDBOX_TASK_DELAY_SECONDS"] = "0.5"
    settings = Settings.model_validate(values)
    return settings, env


class ChaosStack:
    """Starts the children in order; kills, restarts and revives them one by one."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.logs = data / "logs"
        self.settings, self.env = chaos_settings(data)
        codec_token = secrets.token_urlsafe(24)
        self.children = {c.name: c for c in children(self.settings, data, codec_token)}
        self.kills: Counter[str] = Counter()
        self.crashes: Counter[str] = Counter()
        """Exits we did not cause (a child giving up while another was down)."""

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.sandbox_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.settings.temporal_port}"

    async def start(self) -> None:
        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        ensure_payload_key_file(self.settings)
        for name in self.children:
            await self._start(name)
            if name == "temporal":
                await self._register_search_attributes()

    async def _start(self, name: str, within: float = 90.0) -> None:
        child = self.children[name]
        child.process = self._spawn(child)
        deadline = time.monotonic() + within
        while not await asyncio.to_thread(child.ready):
            exited = child.process.poll()
            if exited is not None or time.monotonic() > deadline:
                why = f"exited with status {exited}" if exited is not None else "was not ready"
                raise RuntimeError(f"{name} {why} within {within:.0f}s:\n{self._log_tail(name)}")
            await asyncio.sleep(0.2)

    def _log_tail(self, name: str, lines: int = 20) -> str:
        """The end of a child's log: the run's directory is gone when a test reports it."""
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"

    def _spawn(self, child: Child) -> subprocess.Popen[bytes]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_", "TEMPORAL_"))}
        with (self.logs / f"{child.name}.log").open("ab") as output:
            return subprocess.Popen(
                child.argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**base, **self.env, **child.env},
                start_new_session=True,
            )

    async def _register_search_attributes(self) -> None:
        from workers.setup import ensure_search_attributes

        await ensure_search_attributes(await self.temporal())

    async def temporal(self) -> Client:
        """A client of the dev server that reads our payloads."""
        from client.connection import connect

        return await connect(self.settings.load_payload_keys(), target_host=self.temporal_address)

    def alive(self, name: str) -> bool:
        process = self.children[name].process
        return process is not None and process.poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL the child's whole process group: no shutdown hooks, no flush."""
        process = self.children[name].process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.kills[name] += 1
        log.info("chaos.killed", service=name)

    async def restart(self, name: str) -> None:
        await self._start(name)
        log.info("chaos.restarted", service=name)

    async def revive(self) -> None:
        """Restart any child that exited on its own (and count it)."""
        for name, child in self.children.items():
            if child.process is not None and child.process.poll() is not None:
                self.crashes[name] += 1
                log.warning("chaos.exited", service=name, status=child.process.returncode)
                await self._start(name)

    def stop(self) -> None:
        stop_children(list(self.children.values()))
