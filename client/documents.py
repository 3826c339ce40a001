"""Application documents at rest: one directory, every file sealed with the payload keys.

Resumes and cover letters never ride in Temporal payloads (2 MB limit, and history is
kept): the worker stores them here and the API serves them from here. Each file is
AES-256-GCM under the newest payload key, its key id in the header and bound with the
document's owner as associated data, so a file moved to another application does not
open. Directory names are digests: no customer id or application id reaches the path.
`PostgresDocumentStore` keeps the same sealed documents in one table, for workers on several
hosts (LINKEDIN_ATS_DOCUMENT_STORE_URL); both implement `domain.applications.DocumentStore`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from client.codec import NONCE_BYTES, PayloadKeyError, PayloadKeys
from domain.applications import DocumentKind, StoredDocument

MAGIC = b"LIATSDOC1\n"


class Sealer:
    """AES-256-GCM under the newest payload key, bound to the document's owner and kind."""

    def __init__(self, keys: PayloadKeys) -> None:
        self.newest = keys.newest_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @staticmethod
    def _aad(customer_id: str, key: str, kind: DocumentKind, key_id: str) -> bytes:
        return f"{key_id}|{customer_id}|{key}|{kind}".encode()

    def seal(self, customer_id: str, key: str, kind: DocumentKind, content: bytes) -> bytes:
        """nonce + ciphertext under the newest key (whose id the caller stores with it)."""
        nonce = os.urandom(NONCE_BYTES)
        aad = self._aad(customer_id, key, kind, self.newest)
        return nonce + self._ciphers[self.newest].encrypt(nonce, content, aad)

    def open(
        self, customer_id: str, key: str, kind: DocumentKind, key_id: str, sealed: bytes
    ) -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"a document is sealed with payload key {key_id!r}, which is not "
                "among the payload keys: add it back"
            )
        try:
            return cipher.decrypt(
                sealed[:NONCE_BYTES],
                sealed[NONCE_BYTES:],
                self._aad(customer_id, key, kind, key_id),
            )
        except InvalidTag:
            raise PayloadKeyError("a document does not open: its key changed or it moved") from None


def _digests(customer_id: str, key: str) -> tuple[str, str]:
    """The owner's and the application's names at rest: digests, never the ids."""
    owner = hashlib.sha256(customer_id.encode()).hexdigest()[:32]
    application = hashlib.sha256(f"{customer_id}|{key}".encode()).hexdigest()[:32]
    return owner, application


class DirectoryDocumentStore:
    """`<root>/<digest of customer>/<digest of application>/<kind>`, mode 0600 files."""

    def __init__(self, root: Path, keys: PayloadKeys) -> None:
        self._root = root
        self._sealer = Sealer(keys)

    @property
    def location(self) -> str:
        return str(self._root)

    def _dir(self, customer_id: str, key: str) -> Path:
        owner, application = _digests(customer_id, key)
        return self._root / owner / application

    async def aclose(self) -> None:
        return None

    async def put(
        self, customer_id: str, key: str, kind: DocumentKind, content: bytes, content_type: str
    ) -> StoredDocument:
        return await asyncio.to_thread(self._put, customer_id, key, kind, content, content_type)

    def _put(
        self, customer_id: str, key: str, kind: DocumentKind, content: bytes, content_type: str
    ) -> StoredDocument:
        stored = StoredDocument(
            kind=kind,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content_type=content_type,
        )
        meta = stored.model_dump_json(by_alias=True).encode()
        sealed = self._sealer.seal(customer_id, key, kind, content)
        folder = self._dir(customer_id, key)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = folder / f".{kind}.{secrets.token_hex(4)}"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(MAGIC + self._sealer.newest.encode() + b"\n" + meta + b"\n" + sealed)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(folder / str(kind))
        return stored

    async def get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None:
        return await asyncio.to_thread(self._get, customer_id, key, kind)

    def _get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None:
        path = self._dir(customer_id, key) / str(kind)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.startswith(MAGIC):
            raise PayloadKeyError(f"{path}: not a document of this store")
        key_id, meta, rest = raw[len(MAGIC) :].split(b"\n", 2)
        content = self._sealer.open(customer_id, key, kind, key_id.decode(), rest)
        return content, StoredDocument.model_validate(json.loads(meta))

    async def erase(self, customer_id: str, key: str) -> int:
        """Every document of the application removed; how many there were."""
        return await asyncio.to_thread(self._erase, customer_id, key)

    def _erase(self, customer_id: str, key: str) -> int:
        folder = self._dir(customer_id, key)
        if not folder.exists():
            return 0
        count = sum(1 for p in folder.iterdir() if not p.name.startswith("."))
        shutil.rmtree(folder, ignore_errors=True)
        return count


TABLE = "linkedin_ats_application_documents"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    owner text NOT NULL,
    application text NOT NULL,
    kind text NOT NULL,
    key_id text NOT NULL,
    meta text NOT NULL,
    sealed bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, application, kind)
)"""
SCHEMA_LOCK = 0x4C4E4B44_41545302
"""Advisory lock id: workers starting together create the table one at a time."""


class PostgresDocumentStore:
    """The same sealed documents in one PostgreSQL table, for workers on several hosts: the
    database holds ciphertext only, under digests of the owners' ids."""

    def __init__(
        self,
        url: SecretStr,
        keys: PayloadKeys,
        *,
        max_connections: int = 5,
        connect_timeout: float = 10.0,
    ) -> None:
        self._sealer = Sealer(keys)
        self._connect_timeout = connect_timeout
        self._pool = AsyncConnectionPool(
            url.get_secret_value(),
            min_size=1,
            max_size=max_connections,
            open=False,
            timeout=connect_timeout,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": max(2, int(connect_timeout))},
            name="documents",
        )
        self._opened = False
        self._opening = asyncio.Lock()

    @property
    def location(self) -> str:
        return "PostgreSQL (LINKEDIN_ATS_DOCUMENT_STORE_URL)"

    async def _open(self) -> None:
        if self._opened:
            return
        async with self._opening:
            if self._opened:
                return
            await self._pool.open(wait=True, timeout=self._connect_timeout)
            async with self._pool.connection() as conn:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                await conn.execute(SCHEMA)
            self._opened = True

    async def aclose(self) -> None:
        if self._opened:
            await self._pool.close()
            self._opened = False

    async def put(
        self, customer_id: str, key: str, kind: DocumentKind, content: bytes, content_type: str
    ) -> StoredDocument:
        stored = StoredDocument(
            kind=kind,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content_type=content_type,
        )
        sealed = self._sealer.seal(customer_id, key, kind, content)
        owner, application = _digests(customer_id, key)
        await self._open()
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO {TABLE} (owner, application, kind, key_id, meta, sealed) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (owner, application, kind) DO "
                "UPDATE SET key_id = excluded.key_id, meta = excluded.meta, "
                "sealed = excluded.sealed, stored_at = now()",
                (
                    owner,
                    application,
                    str(kind),
                    self._sealer.newest,
                    stored.model_dump_json(by_alias=True),
                    sealed,
                ),
            )
        return stored

    async def get(
        self, customer_id: str, key: str, kind: DocumentKind
    ) -> tuple[bytes, StoredDocument] | None:
        owner, application = _digests(customer_id, key)
        await self._open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT key_id, meta, sealed FROM {TABLE} "
                "WHERE owner = %s AND application = %s AND kind = %s",
                (owner, application, str(kind)),
            )
            row = await cursor.fetchone()
        if row is None:
            return None
        content = self._sealer.open(customer_id, key, kind, row[0], bytes(row[2]))
        return content, StoredDocument.model_validate(json.loads(row[1]))

    async def erase(self, customer_id: str, key: str) -> int:
        owner, application = _digests(customer_id, key)
        await self._open()
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"DELETE FROM {TABLE} WHERE owner = %s AND application = %s",
                (owner, application),
            )
            return cursor.rowcount
