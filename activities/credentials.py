"""Where customers' client secrets live: never in workflow history, encrypted at rest."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.fernet import Fernet
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from domain.errors import FailureType
from domain.provisioning import AppCredentials


@dataclass(frozen=True)
class StoredCredentials:
    customer_id: str
    application_key: str
    credentials: AppCredentials


class CredentialStore(Protocol):
    """Keeps each customer's child-application credentials."""

    def save(self, customer_id: str, application_key: str, credentials: AppCredentials) -> None: ...

    def get(self, customer_id: str) -> StoredCredentials | None: ...


async def customer_credentials(store: CredentialStore, customer_id: str) -> AppCredentials:
    """The customer's app credentials, or a non-retryable CustomerCredentialsMissing."""
    stored = await asyncio.to_thread(store.get, customer_id)
    if stored is None:
        raise ApplicationError(
            f"no stored credentials for customer {customer_id}: onboard the customer first",
            type=FailureType.CREDENTIALS_MISSING,
            non_retryable=True,
        )
    return stored.credentials


def load_or_create_key(path: Path) -> SecretStr:
    """A Fernet key kept in a file readable by its owner only (dev and single-host use)."""
    if path.exists():
        return SecretStr(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return SecretStr(key)


class SqliteCredentialStore:
    """The embedded default: one SQLite file, secrets encrypted with Fernet."""

    def __init__(self, path: Path, key: SecretStr) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fernet = Fernet(key.get_secret_value().encode())
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS credentials (customer_id TEXT PRIMARY KEY, "
                "application_key TEXT NOT NULL, client_id TEXT NOT NULL, "
                "encrypted_secret BLOB NOT NULL)"
            )

    def save(self, customer_id: str, application_key: str, credentials: AppCredentials) -> None:
        token = self._fernet.encrypt(credentials.client_secret.get_secret_value().encode())
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO credentials VALUES (?, ?, ?, ?) ON CONFLICT(customer_id) DO UPDATE "
                "SET application_key = excluded.application_key, client_id = excluded.client_id, "
                "encrypted_secret = excluded.encrypted_secret",
                (customer_id, application_key, credentials.client_id, token),
            )

    def get(self, customer_id: str) -> StoredCredentials | None:
        with self._lock:
            row = self._db.execute(
                "SELECT application_key, client_id, encrypted_secret FROM credentials "
                "WHERE customer_id = ?",
                (customer_id,),
            ).fetchone()
        if row is None:
            return None
        secret = self._fernet.decrypt(row[2]).decode()
        return StoredCredentials(
            customer_id, row[0], AppCredentials(client_id=row[1], client_secret=SecretStr(secret))
        )
