"""What every command shares: consoles, one-line failures, a clean exit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from rich.console import Console

T = TypeVar("T")
console = Console(soft_wrap=True)


class OutlivesItsReader(Console):
    """A console for `up`: when whoever read its output is gone it falls silent, not exits.

    Rich's default raises SystemExit(1) on a broken pipe, which would replace the stop
    signal that `up` is handling (`make up | tee up.log`, then Ctrl-C).
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


errors = Console(stderr=True, soft_wrap=True)


def finish(code: int) -> NoReturn:
    """End a command that used a Temporal client without interpreter teardown (sdk-python#300)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # the reader (a pipe, a terminal) may be gone
            stream.flush()
    os._exit(code)


def fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    finish(1)


def run_briefly(make: Callable[[], Awaitable[T]]) -> T:
    """Run one async operation for a command; its failure is one readable line."""
    from pydantic import ValidationError
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.service import RPCError

    from client.codec import PayloadKeyError
    from client.errors import Refused
    from domain.validation import first_problem

    async def call() -> T:
        return await make()

    try:
        return asyncio.run(call())
    except ValidationError as error:
        fail(first_problem(error))
    except Refused as error:
        fail(error.message)
    except PayloadKeyError as error:
        fail(str(error))
    except WorkflowUpdateFailedError as error:
        fail(getattr(error.cause, "message", None) or str(error.cause or error))
    except RPCError as error:
        fail(f"Temporal: {error.message}")
    except RuntimeError as error:
        if "Failed client connect" in str(error):
            fail("cannot reach Temporal: is it running, and is TEMPORAL_ADDRESS right?")
        fail(f"{type(error).__name__}: {error}")
    except (ConnectionError, OSError) as error:
        fail(f"{type(error).__name__}: {error}")
