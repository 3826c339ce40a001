"""Where customers' client secrets live: never in workflow history, encrypted at rest.

Two stores keep one contract: a SQLite file on the worker's disk (the embedded default)
and PostgreSQL (`activities.postgres_credentials`), which several workers on several
hosts share. Either way a secret is encrypted with Fernet before it leaves the process.
Several keys may be configured, oldest first: the last encrypts, every one decrypts,
and `reencrypt` moves each stored secret to the newest so an old key can be dropped.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from domain.errors import FailureType
from domain.provisioning import AppCredentials
from linkedin.tokens import StoredToken

log = structlog.get_logger("credentials")

NEW_KEY_HINT = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


class CredentialConfigError(Exception):
    """A configuration fault found before any work is done; says what to fix, never a secret."""


class CustomerNotOnboarded(ApplicationError):
    """The store has no credentials for the customer: a job or enable came before onboarding."""

    def __init__(self, customer_id: str, store: str) -> None:
        super().__init__(
            f"customer {customer_id} has no credentials in the credential store ({store}): "
            f"onboard the customer first (linkedin-ats onboard {customer_id}), or point this "
            "worker at the store it was onboarded on",
            type=FailureType.CREDENTIALS_MISSING,
            non_retryable=True,
        )


class CredentialKeyMismatch(ApplicationError):
    """No configured key decrypts the customer's secret: a wrong or rotated-away key.

    Retrying cannot help, so it is non-retryable and says which setting to fix.
    """

    def __init__(self, customer_id: str, keys: str) -> None:
        super().__init__(
            f"the stored secret of customer {customer_id} cannot be decrypted with any "
            f"credential key in {keys}: the key was changed, or the key that encrypted it was "
            f"dropped. Put that key back in {keys} (several keys: oldest first, the last "
            "encrypts), restart the workers and signal retry; `linkedin-ats credentials "
            "reencrypt` then moves every secret to the newest key",
            type=FailureType.CREDENTIAL_KEY_MISMATCH,
            non_retryable=True,
        )


@dataclass(frozen=True)
class StoredCredentials:
    customer_id: str
    application_key: str
    credentials: AppCredentials


@dataclass(frozen=True)
class Reencryption:
    """What `reencrypt` did: secrets moved to the newest key, already there, unreadable."""

    reencrypted: int = 0
    current: int = 0
    unreadable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ErasedCredentials:
    """What `erase` deleted: the customer's secret (if it had one) and its app's tokens."""

    secret: bool
    tokens: int


class CredentialStore(Protocol):
    """Keeps each customer's child-application credentials."""

    @property
    def location(self) -> str:
        """Where the store is, for messages: never a password."""
        ...

    async def open(self) -> None:
        """Connect and create the schema; a CredentialConfigError says what to fix."""
        ...

    async def save(
        self, customer_id: str, application_key: str, credentials: AppCredentials
    ) -> None: ...

    async def get(self, customer_id: str) -> StoredCredentials | None:
        """The customer's credentials, None if never saved; CredentialKeyMismatch if unreadable."""
        ...

    async def get_token(self, client_id: str) -> StoredToken | None:
        """The app's access token another worker stored; None when absent or unreadable."""
        ...

    async def find_application(self, application: str) -> StoredCredentials | None:
        """The customer whose app this is: by URN, by the URN's id or by client id (LinkedIn
        names an app each way in what it sends us)."""
        ...

    async def save_token(self, client_id: str, token: StoredToken) -> None:
        """Keep the app's access token (encrypted) for every worker until it expires."""
        ...

    async def reencrypt(self) -> Reencryption:
        """Re-encrypt every secret under the newest key; safe beside running workers."""
        ...

    async def erase(self, customer_id: str) -> ErasedCredentials:
        """Delete the customer's secret and its app's access tokens (offboarding); erasing
        again deletes nothing."""
        ...

    async def close(self) -> None: ...


APPLICATION_URN = "urn:li:developerApplication:"


def application_keys(application: str) -> tuple[str, str, str]:
    """What `application_lookup` compares: the URN as given or built from its id, the client id."""
    return (application, APPLICATION_URN + application, application)


def application_lookup(placeholder: str = "?", table: str = "credentials") -> str:
    p = placeholder
    return (
        f"SELECT customer_id FROM {table} "
        f"WHERE application_key IN ({p}, {p}) OR client_id = {p} LIMIT 1"
    )


async def customer_credentials(store: CredentialStore, customer_id: str) -> AppCredentials:
    """The customer's app credentials; typed, non-retryable errors when missing or unreadable."""
    stored = await store.get(customer_id)
    if stored is None:
        raise CustomerNotOnboarded(customer_id, store.location)
    return stored.credentials


# -- keys --------------------------------------------------------------------------------


class CredentialCipher:
    """Fernet with rotation: the last key encrypts, every key decrypts (as payload keys)."""

    def __init__(self, keys: Sequence[SecretStr], source: str) -> None:
        if not keys:
            raise CredentialConfigError(
                f"{source} holds no Fernet key; make one with: {NEW_KEY_HINT}"
            )
        fernets = []
        for position, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.get_secret_value().encode()))
            except ValueError:
                raise CredentialConfigError(
                    f"{source}: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                    f"base64-encoded bytes); make one with: {NEW_KEY_HINT}"
                ) from None
        self.source = source
        self._newest = fernets[-1]
        self._all = MultiFernet(fernets[::-1])  # MultiFernet encrypts with its first

    def encrypt(self, secret: SecretStr) -> bytes:
        return self._newest.encrypt(secret.get_secret_value().encode())

    def decrypt(self, customer_id: str, token: bytes) -> SecretStr:
        try:
            return SecretStr(self._all.decrypt(token).decode())
        except InvalidToken:
            raise CredentialKeyMismatch(customer_id, self.source) from None

    def token(self, row: tuple[bytes, float] | None) -> StoredToken | None:
        """A stored token row, or None when there is none or no key of ours reads it."""
        if row is None:
            return None
        try:
            value = self._all.decrypt(bytes(row[0])).decode()
        except InvalidToken:
            return None  # sealed under a retired key: a new token is requested
        return StoredToken(SecretStr(value), float(row[1]))

    def plan(self, rows: Iterable[tuple[str, bytes]]) -> tuple[list[Rewrite], int, list[str]]:
        """Which secrets to rewrite under the newest key, how many are current, unreadable."""
        rewrites: list[Rewrite] = []
        current = 0
        unreadable: list[str] = []
        for customer_id, token in rows:
            try:
                self._newest.decrypt(token)
                current += 1
                continue
            except InvalidToken:
                pass
            try:
                rewrites.append(Rewrite(customer_id, token, self._all.rotate(token)))
            except InvalidToken:
                unreadable.append(customer_id)
        return rewrites, current, unreadable


@dataclass(frozen=True)
class Rewrite:
    """One secret to replace, only if it is still `old` (a save may have come first)."""

    customer_id: str
    old: bytes
    new: bytes


def parse_keys(text: str) -> list[SecretStr]:
    """Keys separated by commas, spaces or lines, oldest first; `#` starts a comment."""
    keys: list[SecretStr] = []
    for line in text.splitlines():
        keys += [SecretStr(k) for k in re.split(r"[\s,]+", line.split("#", 1)[0]) if k]
    return keys


def read_key_file(path: Path) -> list[SecretStr]:
    """The keys of a file its owner alone may read; a looser one is refused."""
    with path.open() as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise CredentialConfigError(
                f"the credential key file {path} has mode {mode:04o}: others may read it. "
                f"Make it private with `chmod 600 {path}` and start again"
            )
        return parse_keys(handle.read())


def create_key_file(path: Path) -> list[SecretStr]:
    """A new key in a new 0600 file, said in the log; an existing file is read instead."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    try:
        os.link(draft, path)  # atomic, and refuses to replace a key another process made
    except FileExistsError:
        return read_key_file(path)
    finally:
        draft.unlink()
    log.warning(
        "credential_key.generated",
        path=str(path),
        hint="back this file up apart from the credential store; in production set "
        "LINKEDIN_ATS_CREDENTIAL_KEY or LINKEDIN_ATS_CREDENTIAL_KEY_FILE instead",
    )
    return read_key_file(path)


# -- the embedded store ------------------------------------------------------------------


class SqliteCredentialStore:
    """The embedded default: one SQLite file, private to its owner, secrets encrypted."""

    def __init__(self, path: Path, cipher: CredentialCipher) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
        self.location = f"SQLite file {path}"
        self._cipher = cipher
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("PRAGMA secure_delete = ON")  # erased rows are overwritten
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS credentials (customer_id TEXT PRIMARY KEY, "
                "application_key TEXT NOT NULL, client_id TEXT NOT NULL, "
                "encrypted_secret BLOB NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS access_tokens (client_id TEXT PRIMARY KEY, "
                "encrypted_token BLOB NOT NULL, expires_at REAL NOT NULL)"
            )

    async def open(self) -> None:
        """Opened on construction: a file needs no connection."""

    async def save(
        self, customer_id: str, application_key: str, credentials: AppCredentials
    ) -> None:
        token = self._cipher.encrypt(credentials.client_secret)
        await asyncio.to_thread(
            self._write,
            "INSERT INTO credentials VALUES (?, ?, ?, ?) ON CONFLICT(customer_id) DO UPDATE "
            "SET application_key = excluded.application_key, client_id = excluded.client_id, "
            "encrypted_secret = excluded.encrypted_secret",
            (customer_id, application_key, credentials.client_id, token),
        )

    async def get(self, customer_id: str) -> StoredCredentials | None:
        row = await asyncio.to_thread(
            self._read_one,
            "SELECT application_key, client_id, encrypted_secret FROM credentials "
            "WHERE customer_id = ?",
            (customer_id,),
        )
        if row is None:
            return None
        secret = self._cipher.decrypt(customer_id, row[2])
        return StoredCredentials(
            customer_id, row[0], AppCredentials(client_id=row[1], client_secret=secret)
        )

    async def find_application(self, application: str) -> StoredCredentials | None:
        rows = await asyncio.to_thread(
            self._read_customer, application_lookup(), application_keys(application)
        )
        return await self.get(rows) if rows else None

    async def get_token(self, client_id: str) -> StoredToken | None:
        row = await asyncio.to_thread(
            self._read_token,
            "SELECT encrypted_token, expires_at FROM access_tokens WHERE client_id = ?",
            (client_id,),
        )
        return self._cipher.token(row)

    async def save_token(self, client_id: str, token: StoredToken) -> None:
        await asyncio.to_thread(
            self._write,
            "INSERT INTO access_tokens VALUES (?, ?, ?) ON CONFLICT(client_id) DO UPDATE "
            "SET encrypted_token = excluded.encrypted_token, expires_at = excluded.expires_at",
            (client_id, self._cipher.encrypt(token.value), token.expires_at),
        )

    async def reencrypt(self) -> Reencryption:
        rows = await asyncio.to_thread(self._read_all)
        rewrites, current, unreadable = self._cipher.plan(rows)
        done = await asyncio.to_thread(self._rewrite, rewrites)
        return Reencryption(done, current + len(rewrites) - done, unreadable)

    async def erase(self, customer_id: str) -> ErasedCredentials:
        return await asyncio.to_thread(self._erase, customer_id)

    def _erase(self, customer_id: str) -> ErasedCredentials:
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT client_id FROM credentials WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            if row is None:
                return ErasedCredentials(secret=False, tokens=0)
            tokens = self._db.execute(
                "DELETE FROM access_tokens WHERE client_id = ?", (row[0],)
            ).rowcount
            self._db.execute("DELETE FROM credentials WHERE customer_id = ?", (customer_id,))
            return ErasedCredentials(secret=True, tokens=tokens)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _write(self, sql: str, parameters: tuple[object, ...]) -> int:
        with self._lock, self._db:
            return self._db.execute(sql, parameters).rowcount

    def _rewrite(self, rewrites: list[Rewrite]) -> int:
        """One transaction: a file commit costs an fsync."""
        with self._lock, self._db:
            return sum(
                self._db.execute(
                    "UPDATE credentials SET encrypted_secret = ? "
                    "WHERE customer_id = ? AND encrypted_secret = ?",
                    (r.new, r.customer_id, r.old),
                ).rowcount
                for r in rewrites
            )

    def _read_customer(self, sql: str, parameters: tuple[object, ...]) -> str | None:
        with self._lock:
            row: tuple[str] | None = self._db.execute(sql, parameters).fetchone()
            return row[0] if row else None

    def _read_one(self, sql: str, parameters: tuple[object, ...]) -> tuple[str, str, bytes] | None:
        with self._lock:
            row: tuple[str, str, bytes] | None = self._db.execute(sql, parameters).fetchone()
            return row

    def _read_token(self, sql: str, parameters: tuple[object, ...]) -> tuple[bytes, float] | None:
        with self._lock:
            row: tuple[bytes, float] | None = self._db.execute(sql, parameters).fetchone()
            return row

    def _read_all(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return self._db.execute(
                "SELECT customer_id, encrypted_secret FROM credentials"
            ).fetchall()

    def _close(self) -> None:
        with self._lock:
            self._db.close()
