"""LinkedIn's daily call quotas counted in PostgreSQL: one count per application for every
worker on every host.

LinkedIn throttles each application per UTC day and endpoint, whichever worker calls. A
worker's own count (activities.rate_limits.CallBudget) would let N workers spend N quotas;
with the credential store on PostgreSQL, each call is counted here instead, in one
statement that adds it only while the day's count is under the limit, so workers calling
at the same moment never overspend.
"""

from __future__ import annotations

import asyncio
from datetime import date

from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

TABLE = "linkedin_ats_call_counts"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    client_id text NOT NULL,
    endpoint text NOT NULL,
    day date NOT NULL,
    calls integer NOT NULL,
    PRIMARY KEY (client_id, endpoint, day)
)"""
SCHEMA_LOCK = 0x4C4E4B44_41545302
"""Advisory lock id: workers starting together create the table one at a time."""
TAKE = f"""
INSERT INTO {TABLE} (client_id, endpoint, day, calls) VALUES (%s, %s, %s, 1)
ON CONFLICT (client_id, endpoint, day) DO UPDATE SET calls = {TABLE}.calls + 1
WHERE {TABLE}.calls < %s
RETURNING calls"""


class PostgresCallCounter:
    """activities.rate_limits.DailyCounter over one PostgreSQL table."""

    def __init__(self, url: SecretStr, *, connect_timeout: float = 10.0) -> None:
        self._connect_timeout = connect_timeout
        self._pool = AsyncConnectionPool(
            url.get_secret_value(),
            min_size=1,
            max_size=2,
            open=False,
            timeout=connect_timeout,
            kwargs={"connect_timeout": max(2, int(connect_timeout))},
            name="call-counts",
        )
        self._opened = False
        self._opening = asyncio.Lock()

    async def take(self, client_id: str, endpoint: str, day: date, limit: int) -> int | None:
        """Count one call of the day if fewer than `limit` were: the calls counted before
        it, or None when the day's quota is used up."""
        if limit <= 0:
            return None
        await self._open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(TAKE, (client_id, endpoint, day, limit))
            row = await cursor.fetchone()
        return None if row is None else int(row[0]) - 1

    async def aclose(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False

    async def _open(self) -> None:
        if self._opened:
            return
        async with self._opening:
            if self._opened:
                return
            await self._pool.open(wait=True, timeout=self._connect_timeout)
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                await conn.execute(SCHEMA)
            self._opened = True
