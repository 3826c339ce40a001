"""The credential store on PostgreSQL: one store for every worker on every host.

Secrets reach the database already encrypted (`CredentialCipher`); the database only
keeps them, so its backups and replicas hold no secret in clear. Connections come from
one asyncio pool per worker; an outage makes an activity attempt wait for a connection
at most `connect_timeout` and fail, and Temporal retries it.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from activities.credentials import (
    CredentialCipher,
    CredentialConfigError,
    ErasedCredentials,
    Reencryption,
    StoredCredentials,
    application_keys,
    application_lookup,
)
from domain.provisioning import AppCredentials
from linkedin.tokens import StoredToken

TABLE = "linkedin_ats_credentials"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    customer_id text PRIMARY KEY,
    application_key text NOT NULL,
    client_id text NOT NULL,
    encrypted_secret bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""
TOKENS = "linkedin_ats_access_tokens"
TOKEN_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TOKENS} (
    client_id text PRIMARY KEY,
    encrypted_token bytea NOT NULL,
    expires_at double precision NOT NULL
)"""
SCHEMA_LOCK = 0x4C4E4B44_41545301
"""Advisory lock id: workers starting together create the table one at a time."""
SETTING = "LINKEDIN_ATS_CREDENTIAL_STORE_URL"


class PostgresCredentialStore:
    """Credentials in one PostgreSQL table, through a pool opened on first use."""

    def __init__(
        self,
        url: SecretStr,
        cipher: CredentialCipher,
        *,
        max_connections: int = 5,
        connect_timeout: float = 10.0,
    ) -> None:
        self.location = f"PostgreSQL {_address(url)} ({SETTING})"
        self._url = url
        self._cipher = cipher
        self._connect_timeout = connect_timeout
        self._pool = AsyncConnectionPool(
            url.get_secret_value(),
            min_size=1,
            max_size=max_connections,
            open=False,
            timeout=connect_timeout,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": max(2, int(connect_timeout))},
            name="credentials",
        )
        self._opened = False
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        if self._opened:
            return
        async with self._opening:
            if self._opened:
                return
            await self._create_schema()
            await self._pool.open(wait=True, timeout=self._connect_timeout)
            self._opened = True

    async def save(
        self, customer_id: str, application_key: str, credentials: AppCredentials
    ) -> None:
        token = self._cipher.encrypt(credentials.client_secret)
        await self.open()
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO {TABLE} (customer_id, application_key, client_id, encrypted_secret) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (customer_id) DO UPDATE SET "
                "application_key = excluded.application_key, client_id = excluded.client_id, "
                "encrypted_secret = excluded.encrypted_secret, updated_at = now()",
                (customer_id, application_key, credentials.client_id, token),
            )

    async def get(self, customer_id: str) -> StoredCredentials | None:
        await self.open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT application_key, client_id, encrypted_secret FROM {TABLE} "
                "WHERE customer_id = %s",
                (customer_id,),
            )
            row = await cursor.fetchone()
        if row is None:
            return None
        secret = self._cipher.decrypt(customer_id, bytes(row[2]))
        return StoredCredentials(
            customer_id, row[0], AppCredentials(client_id=row[1], client_secret=secret)
        )

    async def find_application(self, application: str) -> StoredCredentials | None:
        await self.open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                application_lookup("%s", TABLE), application_keys(application)
            )
            row = await cursor.fetchone()
        return await self.get(row[0]) if row else None

    async def get_token(self, client_id: str) -> StoredToken | None:
        await self.open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT encrypted_token, expires_at FROM {TOKENS} WHERE client_id = %s",
                (client_id,),
            )
            row = await cursor.fetchone()
        return self._cipher.token(None if row is None else (bytes(row[0]), float(row[1])))

    async def save_token(self, client_id: str, token: StoredToken) -> None:
        await self.open()
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO {TOKENS} (client_id, encrypted_token, expires_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (client_id) DO UPDATE SET "
                "encrypted_token = excluded.encrypted_token, expires_at = excluded.expires_at",
                (client_id, self._cipher.encrypt(token.value), token.expires_at),
            )

    async def erase(self, customer_id: str) -> ErasedCredentials:
        await self.open()
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                f"DELETE FROM {TABLE} WHERE customer_id = %s RETURNING client_id", (customer_id,)
            )
            row = await cursor.fetchone()
            if row is None:
                return ErasedCredentials(secret=False, tokens=0)
            deleted = await conn.execute(f"DELETE FROM {TOKENS} WHERE client_id = %s", (row[0],))
            return ErasedCredentials(secret=True, tokens=deleted.rowcount)

    async def reencrypt(self) -> Reencryption:
        await self.open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(f"SELECT customer_id, encrypted_secret FROM {TABLE}")
            rows = [(customer_id, bytes(token)) for customer_id, token in await cursor.fetchall()]
        rewrites, current, unreadable = self._cipher.plan(rows)
        done = 0
        async with self._pool.connection() as conn:
            for rewrite in rewrites:
                cursor = await conn.execute(
                    f"UPDATE {TABLE} SET encrypted_secret = %s, updated_at = now() "
                    "WHERE customer_id = %s AND encrypted_secret = %s",
                    (rewrite.new, rewrite.customer_id, rewrite.old),
                )
                done += cursor.rowcount
                await conn.commit()
        return Reencryption(done, current + len(rewrites) - done, unreadable)

    async def close(self) -> None:
        await self._pool.close()

    async def _create_schema(self) -> None:
        """One direct connection first, so a wrong URL fails with libpq's reason."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._url.get_secret_value(), connect_timeout=max(2, int(self._connect_timeout))
            )
        except psycopg.Error as error:
            raise CredentialConfigError(
                f"cannot use the credential store {self.location}: {self._scrub(str(error))}. "
                f"Fix {SETTING} or the database"
            ) from None
        async with conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            await conn.execute(SCHEMA)
            await conn.execute(TOKEN_SCHEMA)

    def _scrub(self, text: str) -> str:
        """libpq's words without the URL or its password, whatever it chose to quote."""
        url = self._url.get_secret_value()
        password = urlsplit(url).password
        for secret in (url, password, unquote(password or "")):
            if secret:
                text = text.replace(secret, "***")
        return text.strip()


def _address(url: SecretStr) -> str:
    """host:port/database of a URL, for messages: no user, no password."""
    parts = urlsplit(url.get_secret_value())
    try:
        port = str(parts.port or 5432)
    except ValueError:
        port = "?"
    return f"{parts.hostname or 'localhost'}:{port}{parts.path or '/'}"
