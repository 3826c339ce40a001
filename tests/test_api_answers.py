"""A job's answers stay small whatever its history, and every key is camelCase (issue 22):
the posting once, operations as a short summary, the whole of one operation by its id."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from api.app import create_app
from settings import Settings
from tests.sandbox_control import SandboxControl
from tests.test_api import enabled_customer, job_body

pytestmark = pytest.mark.usefixtures("worker")

LIMIT = 32 * 1024
LONG = ("We are hiring a passionate engineer to build durable, boring systems. " * 400)[:24_000]
QUEUED = 20


def test_no_key_the_api_shows_or_takes_is_snake_case() -> None:
    spec = create_app(Settings()).openapi()
    snake = [
        f"{name}.{key}"
        for name, schema in spec["components"]["schemas"].items()
        for key in schema.get("properties", {})
        if "_" in key
    ]
    assert snake == []


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


async def test_a_jobs_answers_stay_bounded_while_many_long_operations_wait(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/long-1"
    created = await api.put(path, params={"wait": "true"}, json=job_body(description=LONG))
    assert created.status_code == 200
    await sandbox.settings(taskDelaySeconds=3600)  # the next operation's task never ends
    puts = [
        await api.put(path, json=job_body(description=LONG, title=f"Engineer {n}"))
        for n in range(QUEUED)
    ]
    assert [(p.status_code, len(p.content) <= LIMIT) for p in puts] == [(202, True)] * QUEUED, [
        (p.status_code, len(p.content), p.text[:300]) for p in puts if p.status_code != 202
    ] or [(p.status_code, len(p.content), p.text[:300]) for p in puts[:2]]

    answer = await api.get(path)
    assert answer.status_code == 200 and len(answer.content) <= LIMIT, len(answer.content)
    job = answer.json()
    assert job["posting"]["description"] == LONG  # the posting once
    assert len(job["operations"]) == 10 and job["operationCount"] == QUEUED + 1
    for summary in job["operations"]:
        assert not {"params", "posting"} & set(summary), summary
    assert [k for k in keys(job) if "_" in k] == []

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"pageSize": "7", **({"cursor": cursor} if cursor else {})}
        page = await api.get(f"{path}/operations", params=params)
        assert page.status_code == 200 and len(page.content) <= LIMIT
        body = page.json()
        assert len(body["items"]) <= 7
        seen += [item["id"] for item in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == [created.json()["id"], *(p.json()["id"] for p in puts)]

    last = puts[-1].json()["id"]
    full = await api.get(f"{path}/operations/{last}", params={"waitSeconds": "1"})
    assert full.status_code == 200
    operation = full.json()
    assert operation["outcome"] == "QUEUED"
    assert operation["params"]["job"]["title"] == f"Engineer {QUEUED - 1}"
    assert len(full.content) <= LIMIT


async def test_an_upgrades_parameters_are_camel_case(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    path = f"/v1/customers/{cid}/jobs/up-1"
    assert (await api.put(path, params={"wait": "true"}, json=job_body())).status_code == 200
    await sandbox.settings(taskDelaySeconds=3600)
    upgrade = await api.post(f"{path}/upgrade", json={"contract": "urn:li:contract:555"})
    assert upgrade.status_code == 202
    operation_id = upgrade.json()["id"]
    for _ in range(50):
        full = (
            await api.get(f"{path}/operations/{operation_id}", params={"waitSeconds": "1"})
        ).json()
        if full.get("params"):
            break
        await asyncio.sleep(0.1)
    assert "expireAt" in full["params"] and "expire_at" not in full["params"]
