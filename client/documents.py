"""Application documents at rest: one directory, every file sealed with the payload keys.

Resumes and cover letters never ride in Temporal payloads (2 MB limit, and history is
kept): the worker stores them here and the API serves them from here. Each file is
AES-256-GCM under the newest payload key, its key id in the header and bound with the
document's owner as associated data, so a file moved to another application does not
open. Directory names are digests: no customer id or application id reaches the path.
A PostgreSQL store for workers on several hosts can implement the same protocol
(`domain.applications.DocumentStore`); it does not exist yet.
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

from client.codec import NONCE_BYTES, PayloadKeyError, PayloadKeys
from domain.applications import DocumentKind, StoredDocument

MAGIC = b"LIATSDOC1\n"


class DirectoryDocumentStore:
    """`<root>/<digest of customer>/<digest of application>/<kind>`, mode 0600 files."""

    def __init__(self, root: Path, keys: PayloadKeys) -> None:
        self._root = root
        self._newest = keys.newest_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @property
    def location(self) -> str:
        return str(self._root)

    def _dir(self, customer_id: str, key: str) -> Path:
        owner = hashlib.sha256(customer_id.encode()).hexdigest()[:32]
        application = hashlib.sha256(f"{customer_id}|{key}".encode()).hexdigest()[:32]
        return self._root / owner / application

    @staticmethod
    def _aad(customer_id: str, key: str, kind: DocumentKind, key_id: str) -> bytes:
        return f"{key_id}|{customer_id}|{key}|{kind}".encode()

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
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._newest].encrypt(
            nonce, content, self._aad(customer_id, key, kind, self._newest)
        )
        folder = self._dir(customer_id, key)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = folder / f".{kind}.{secrets.token_hex(4)}"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(MAGIC + self._newest.encode() + b"\n" + meta + b"\n" + nonce + sealed)
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
        cipher = self._ciphers.get(key_id.decode())
        if cipher is None:
            raise PayloadKeyError(
                f"a document is sealed with payload key {key_id.decode()!r}, which is not "
                "among the payload keys: add it back"
            )
        try:
            content = cipher.decrypt(
                rest[:NONCE_BYTES],
                rest[NONCE_BYTES:],
                self._aad(customer_id, key, kind, key_id.decode()),
            )
        except InvalidTag:
            raise PayloadKeyError("a document does not open: its key changed or it moved") from None
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
