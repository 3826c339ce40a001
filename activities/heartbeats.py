"""Heartbeats for activities that only wait on LinkedIn: a dead worker is noticed in
seconds (the workflow's heartbeat timeout), not after the attempt's whole timeout."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio import activity

P = ParamSpec("P")
R = TypeVar("R")

BEAT_EVERY = 5.0


def heartbeating(run: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Beat every few seconds while the activity runs."""

    @functools.wraps(run)
    async def beating(*args: P.args, **kwargs: P.kwargs) -> R:
        async def keep_beating() -> None:
            while True:
                activity.heartbeat()
                await asyncio.sleep(BEAT_EVERY)

        beats = asyncio.create_task(keep_beating())
        try:
            return await run(*args, **kwargs)
        finally:
            beats.cancel()

    return beating
