"""One log stream per process: structlog's lines and the standard library's, rendered alike.

Temporal's `workflow.logger` and `activity.logger`, uvicorn and httpx log through the
standard library; its root handler renders them with structlog's processors, so they reach
the same JSON lines (a console renderer on a terminal) as our own events, with the extras
Temporal attaches (`temporal_workflow`, `temporal_activity`) as fields.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor

QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING}
"""Libraries whose INFO lines repeat what our own events say better."""


def _drop_color_message(_: object, __: str, event: EventDict) -> EventDict:
    """uvicorn repeats each message with terminal colours in this extra."""
    event.pop("color_message", None)
    return event


def configure_logging(
    stream: TextIO | None = None, *, json: bool | None = None, level: int = logging.INFO
) -> None:
    """Route structlog and the standard library's logging to `stream` (stderr by default)."""
    stream = stream or sys.stderr
    json = not stream.isatty() if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(default=str) if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_color_message],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if json else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
