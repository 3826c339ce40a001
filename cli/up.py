"""`linkedin-ats up`: the whole system on one machine, as supervised child processes.

However `up` ends (Ctrl-C to the process group, SIGTERM, SIGHUP from a closed terminal, a
reader of its output gone, or even SIGKILL) its children end with it: they run in their own
sessions, are stopped in order on every signal we can catch, and are told by the kernel to
stop (PR_SET_PDEATHSIG) when `up` dies without a word.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import faulthandler
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import SecretStr

from client.codec import new_key, write_key_file
from settings import Settings

BIN = Path(sys.executable).parent
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2


class Interrupted(BaseException):
    """A stop signal arrived; carries its name. Not an Exception, so nothing swallows it."""


class StartupError(Exception):
    """Something the user must fix before the stack can start; said in one line."""


@dataclass
class Child:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


UNCLAIMED_PORTS = range(20_000, 32_000)
"""Below Linux's ephemeral range (32768-60999), which nobody hands out by itself."""


def free_port() -> int:
    """A free loopback port for a child to bind later. A port the kernel picked (bind 0)
    comes from the ephemeral range, where any outgoing connection, or a server choosing its
    own random port (the dev server does), may take it before the child binds it."""
    chooser = random.SystemRandom()  # chaos seeds `random`: runs side by side must differ
    for _ in range(100):
        port = chooser.choice(UNCLAIMED_PORTS)
        if port_free(port):
            return port
    raise StartupError(f"no free port on 127.0.0.1 in {UNCLAIMED_PORTS}")


def http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    return probe


def worker_polling(settings: Settings, address: str) -> Callable[[], bool]:
    """Ready once the task queue has a poller: the worker is really taking work."""

    def probe() -> bool:
        result = subprocess.run(
            [
                str(BIN / "temporal"),
                "task-queue",
                "describe",
                "--address",
                address,
                "--task-queue",
                settings.task_queue,
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.returncode == 0 and '"identity"' in result.stdout

    return probe


def ensure_payload_key_file(settings: Settings) -> Path | None:
    """Create the payload key file (0600) when no key is configured; returns it if created."""
    path = settings.payload_key_path
    if settings.payload_keys is not None or path.exists():
        return None
    write_key_file(path, new_key())
    return path


def children(settings: Settings, data: Path, codec_token: str) -> list[Child]:
    address = f"127.0.0.1:{settings.temporal_port}"
    sandbox_url = f"http://127.0.0.1:{settings.sandbox_port}"
    codec_url = f"http://127.0.0.1:{settings.codec_port}"
    ours = {
        "TEMPORAL_ADDRESS": address,
        "LINKEDIN_ATS_LINKEDIN_API_URL": sandbox_url,
        "LINKEDIN_ATS_LINKEDIN_OAUTH_URL": sandbox_url,
        "LINKEDIN_ATS_DATA_DIR": str(data),
    }
    cli = str(BIN / "linkedin-ats")
    return [
        Child(
            "codec",
            [cli, "codec-server", "--port", str(settings.codec_port)],
            http_ok(f"{codec_url}/healthz"),
            {**ours, "LINKEDIN_ATS_CODEC_TOKEN": codec_token},
        ),
        Child(
            "temporal",
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(settings.temporal_port),
                "--ui-port",
                str(settings.temporal_ui_port),
                "--db-filename",
                str(data / "temporal.sqlite"),
                # The UI cannot send a bearer header; its endpoint carries the token instead.
                "--ui-codec-endpoint",
                f"{codec_url}/{codec_token}",
                "--log-level",
                "error",
            ],
            http_ok(f"http://127.0.0.1:{settings.temporal_ui_port}/"),
        ),
        Child(
            "sandbox",
            [
                cli,
                "sandbox",
                "--port",
                str(settings.sandbox_port),
                "--state",
                str(data / "sandbox.sqlite"),
            ],
            http_ok(f"{sandbox_url}/sandbox/health"),
        ),
        Child("worker", [cli, "worker"], worker_polling(settings, address), ours),
        Child(
            "api",
            [cli, "api", "--host", settings.api_host, "--port", str(settings.api_port)],
            http_ok(f"http://{settings.api_host}:{settings.api_port}/healthz"),
            ours,
        ),
    ]


class Stack:
    """Starts children in order, waits for each to be ready, stops them all together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data = settings.data_dir.resolve()
        self.logs = self.data / "logs"
        # Yours when set (to use the codec from the temporal CLI), else fresh each start.
        codec_token = settings.codec_token or SecretStr(secrets.token_urlsafe(24))
        self.children = children(settings, self.data, codec_token.get_secret_value())
        self._stop_signal: str | None = None

    def check_ports(self) -> None:
        s = self.settings
        metrics_port = int(s.metrics_address.rpartition(":")[2])
        for name, port, variable in (
            ("Temporal", s.temporal_port, "TEMPORAL_PORT"),
            ("Temporal UI", s.temporal_ui_port, "TEMPORAL_UI_PORT"),
            ("sandbox", s.sandbox_port, "SANDBOX_PORT"),
            ("API", s.api_port, "API_PORT"),
            ("worker metrics", metrics_port, "METRICS_ADDRESS"),
            ("codec server", s.codec_port, "CODEC_PORT"),
        ):
            if not port_free(port):
                raise StartupError(
                    f"port {port} ({name}) is already in use: stop what holds it, or choose "
                    f"another with LINKEDIN_ATS_{variable}"
                )

    def start(self, on_ready: Callable[[str], None]) -> None:
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.logs.mkdir(mode=0o700, exist_ok=True)
        for child in self.children:
            self.checkpoint()
            path = self.logs / f"{child.name}.log"
            log = open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")  # noqa: SIM115
            child.process = subprocess.Popen(
                child.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **child.env},
                start_new_session=True,
                preexec_fn=_child_setup,
            )
            self._wait(child)
            if child.name == "temporal":
                self._prepare_namespace()
            on_ready(child.name)

    def _wait(self, child: Child, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.checkpoint()
            assert child.process is not None
            if child.process.poll() is not None:
                raise StartupError(
                    f"{child.name} exited with status {child.process.returncode}; see "
                    f"{self.logs / (child.name + '.log')}"
                )
            if child.ready():
                return
            time.sleep(POLL_SECONDS)
        raise StartupError(
            f"{child.name} was not ready within {within:.0f}s; see "
            f"{self.logs / (child.name + '.log')}"
        )

    def _prepare_namespace(self) -> None:
        from client.connection import connect
        from workers.setup import prepare_namespace

        async def register() -> None:
            client = await connect(
                self.settings.load_payload_keys(),
                target_host=f"127.0.0.1:{self.settings.temporal_port}",
            )
            await prepare_namespace(client, self.settings)

        self.run(register())

    @contextlib.contextmanager
    def supervising(self) -> Iterator[None]:
        """Stop signals raise Interrupted inside, at the stack's own checkpoints; on leaving,
        however, every child stops.

        The handler only notes the signal: raised from the handler, Interrupted could land
        anywhere in the main thread (inside rich's console, httpx, a lock being taken), and
        CPython promises nothing about the state it leaves there. `kill -USR1` writes every
        thread's stack to logs/up-stacks.log, for a stop that seems stuck.
        """

        def note(signum: int, _: object) -> None:
            self._stop_signal = self._stop_signal or signal.Signals(signum).name

        self.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        stacks = open(self.logs / "up-stacks.log", "a")  # noqa: SIM115 (faulthandler keeps it)
        faulthandler.register(signal.SIGUSR1, file=stacks, all_threads=True)
        for signum in STOP_SIGNALS:
            signal.signal(signum, note)
        try:
            yield
        finally:
            self.stop()
            faulthandler.unregister(signal.SIGUSR1)
            stacks.close()

    def checkpoint(self) -> None:
        """Raise Interrupted if a stop signal has come."""
        if self._stop_signal is not None:
            raise Interrupted(self._stop_signal)

    def run(self, work: Coroutine[object, object, None]) -> None:
        """Run async work to its end, or cancel it when a stop signal comes."""

        async def until_stopped() -> None:
            task = asyncio.ensure_future(work)
            while not task.done() and self._stop_signal is None:
                await asyncio.wait([task], timeout=POLL_SECONDS)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.checkpoint()
            task.result()

        asyncio.run(until_stopped())

    def wait(self) -> str:
        """Block until a child dies or a stop signal arrives; returns why."""
        while self._stop_signal is None:
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    return f"{child.name} exited with status {child.process.returncode}"
            time.sleep(POLL_SECONDS)
        return self._stop_signal

    def stop(self) -> None:
        stop_children(self.children)


def stop_children(children: Sequence[Child], grace: float = 15.0) -> None:
    """SIGTERM each child's process group, the last started first; SIGKILL any still
    running `grace` seconds later (one deadline for all, so a stop is bounded by it)."""
    processes = [child.process for child in reversed(children) if child.process is not None]
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_UP_PID = os.getpid()


def _child_setup() -> None:
    """In the child before exec: files only we read; SIGTERM when `up` dies, even by SIGKILL."""
    os.umask(0o077)  # Temporal's database, the credential store, logs: owner only
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != _UP_PID:  # `up` died before the line above took effect
            os._exit(1)
