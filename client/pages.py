"""Cursor pages over Temporal's visibility, for every list the API answers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from temporalio.client import Client, WorkflowExecution

from client.errors import Refused

CHECKSUM = 8


async def page(
    temporal: Client, query: str, page_size: int, cursor: str | None
) -> tuple[Sequence[WorkflowExecution], str | None]:
    """One page of executions and the cursor of the next (None on the last)."""
    executions = temporal.list_workflows(query, page_size=page_size, next_page_token=_token(cursor))
    await executions.fetch_next_page(page_size=page_size)
    token = executions.next_page_token
    return executions.current_page or [], _cursor(token) if token else None


def _cursor(token: bytes) -> str:
    """Temporal's page token, checksummed: a made-up cursor never reaches Temporal."""
    return base64.urlsafe_b64encode(_checksum(token) + token).decode()


def _token(cursor: str | None) -> bytes | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode())
    except ValueError:
        raw = b""
    token = raw[CHECKSUM:]
    if not token or raw[:CHECKSUM] != _checksum(token):
        raise Refused("cursor: not a cursor this API gave", "InvalidOperation")
    return token


def _checksum(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()[:CHECKSUM]
