"""`linkedin-ats`: run the sandbox, the worker, the API; drive onboarding and jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="linkedin-ats",
    help="Durable orchestration of an ATS's customers on LinkedIn, on Temporal.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def root() -> None:
    """Durable orchestration of an ATS's customers on LinkedIn, on Temporal."""


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for LinkedIn's API and OAuth paths.")] = 8090,
    state: Annotated[
        Path | None, typer.Option(help="SQLite file that keeps state across restarts.")
    ] = None,
    task_delay: Annotated[
        float | None, typer.Option(help="Seconds each job task stays IN_PROGRESS.")
    ] = None,
) -> None:
    """Serve the stateful LinkedIn sandbox."""
    import uvicorn

    from linkedin_sandbox import SandboxSettings, create_app

    settings = SandboxSettings()
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        settings.state_path = str(state)
    if task_delay is not None:
        settings.task_delay_seconds = task_delay
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def main() -> None:
    app()
