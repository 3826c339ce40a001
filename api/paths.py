"""Ids that hold `/` reach their route: `%2F` in a path segment stays part of the segment.

Starlette routes on the percent-decoded path, where an encoded slash has become a
separator. This middleware routes on the raw path instead, decoding every escape but
`%2F` and `%25`; routes then decode their id parameters once with `segment()`, so any id
LinkedIn accepts (slashes, `%`, spaces, quotes, unicode) is reachable.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

_KEPT = re.compile(r"%(2[fF]|25)")


def _route_path(raw: str) -> str:
    parts = _KEPT.split(raw)
    # split keeps the captured hex digits at odd positions: put them back encoded
    return "".join(f"%{part.upper()}" if i % 2 else unquote(part) for i, part in enumerate(parts))


def segment(value: str) -> str:
    """A path parameter as the client meant it."""
    return unquote(value)


class EncodedSlashes:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("raw_path"):
            raw = scope["raw_path"].split(b"?", 1)[0].decode("latin-1")
            scope = {**scope, "path": _route_path(raw)}
        await self.app(scope, receive, send)
