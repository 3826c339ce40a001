"""The credential store on SQLite and on PostgreSQL, measured.

    make bench        # or: .venv/bin/python -m bench.credential_store

PostgreSQL is a throw-away local cluster (as the tests start it), so the numbers show
our code and the pool, not a network. Prints reads by concurrency and a key rotation.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bench.linkedin_client import table
from domain.provisioning import AppCredentials
from settings import Settings
from tests.postgres_support import PostgresCluster
from workers.worker import credential_store

CUSTOMERS = 1000
READS = 2000


async def measure(name: str, settings: Settings) -> list[tuple[object, ...]]:
    store = credential_store(settings)
    await store.open()
    started = time.perf_counter()
    for i in range(CUSTOMERS):
        secret = SecretStr(f"secret-{i}")
        await store.save(
            f"cust-{i}", f"app-{i}", AppCredentials(client_id=f"c{i}", client_secret=secret)
        )
    save_ms = (time.perf_counter() - started) * 1000 / CUSTOMERS
    rows: list[tuple[object, ...]] = [(name, "save", 1, f"{save_ms:.2f}", "-", "-")]
    for concurrency in (1, 10, 50):
        latencies: list[float] = []

        async def reader(offset: int, n: int = concurrency, out: list[float] = latencies) -> None:
            for i in range(offset, READS, n):
                t = time.perf_counter()
                await store.get(f"cust-{i % CUSTOMERS}")
                out.append((time.perf_counter() - t) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(reader(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - started
        p95 = statistics.quantiles(latencies, n=20)[-1]
        rows.append(
            (
                name,
                "get",
                concurrency,
                f"{statistics.median(latencies):.2f}",
                f"{p95:.2f}",
                f"{READS / elapsed:,.0f}",
            )
        )
    await store.close()
    return rows


async def rotation(name: str, settings: Settings, old: str) -> tuple[object, ...]:
    new = Fernet.generate_key().decode()
    store = credential_store(
        settings.model_copy(update={"credential_key": SecretStr(f"{old},{new}")})
    )
    started = time.perf_counter()
    report = await store.reencrypt()
    elapsed = time.perf_counter() - started
    await store.close()
    return (name, report.reencrypted, f"{elapsed:.2f}")


async def main() -> None:
    cluster = PostgresCluster().start()
    try:
        database = f"bench_{uuid.uuid4().hex[:8]}"
        async with await psycopg.AsyncConnection.connect(cluster.url(), autocommit=True) as conn:
            await conn.execute(f'CREATE DATABASE "{database}"')
        key = Fernet.generate_key().decode()
        with tempfile.TemporaryDirectory() as data:
            backends = {
                "SQLite": Settings(data_dir=Path(data), credential_key=SecretStr(key)),
                "PostgreSQL": Settings(
                    credential_key=SecretStr(key),
                    credential_store_url=SecretStr(cluster.url(database)),
                ),
            }
            rows = [row for name, s in backends.items() for row in await measure(name, s)]
            table(
                f"Credential store: {CUSTOMERS} customers, {READS} reads (ms per call, pool of 5)",
                ("store", "call", "concurrency", "median ms", "p95 ms", "calls/s"),
                rows,
            )
            rotations = [await rotation(name, s, key) for name, s in backends.items()]
            table(
                "Key rotation: `linkedin-ats credentials reencrypt`",
                ("store", "secrets re-encrypted", "seconds"),
                rotations,
            )
    finally:
        cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
