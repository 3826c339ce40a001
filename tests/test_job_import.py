"""Bulk import: a batch of jobs checked up front, each its own workflow, once per key."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from client.jobs import JobsClient
from domain.job_batches import check_batch
from settings import Settings
from tests.cli_support import run_cli
from tests.jobs_support import now_ms
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS, eventually
from tests.test_api import enabled_customer, job_body

pytestmark = pytest.mark.usefixtures("worker")


def batch_job(external_id: str, **overrides: Any) -> dict[str, Any]:
    return {"externalJobPostingId": external_id, **job_body(**overrides)}


def test_every_invalid_job_and_field_is_named() -> None:
    jobs: list[Any] = [
        batch_job("ok-1"),
        batch_job("bad-1", description="short", companyApplyUrl="not a url"),
        {k: v for k, v in batch_job("x").items() if k != "externalJobPostingId"},
        batch_job("ok-1"),
        "not a job",
    ]
    valid, invalid = check_batch(jobs, now_ms())
    assert [index for index, _ in valid] == [0]
    by_index = {entry.index: entry for entry in invalid}
    assert sorted(by_index) == [1, 2, 3, 4]
    assert {e.path for e in by_index[1].errors} == {"description", "companyApplyUrl"}
    assert [e.path for e in by_index[2].errors] == ["externalJobPostingId"]
    assert "twice" in by_index[3].errors[0].message
    assert by_index[4].errors[0].message == "must be an object"


async def test_an_invalid_batch_is_422_and_starts_nothing(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    jobs = [batch_job("req-1"), batch_job("req-2", description="short"), batch_job("req-3")]
    refused = await api.post(f"/v1/customers/{cid}/jobs/batch", json={"jobs": jobs})
    assert refused.status_code == 422
    assert [e["path"] for e in refused.json()["errors"]] == ["body.jobs.1.description"]
    listed = await api.get(f"/v1/customers/{cid}/jobs")
    assert listed.json()["items"] == []

    too_many = await api.post(
        f"/v1/customers/{cid}/jobs/batch",
        json={"jobs": [batch_job(f"r-{i}") for i in range(1001)]},
    )
    assert too_many.status_code == 422

    partial = await api.post(
        f"/v1/customers/{cid}/jobs/batch", params={"partial": "true"}, json={"jobs": jobs}
    )
    assert partial.status_code == 202, partial.text
    answer = partial.json()
    assert (answer["started"], answer["invalid"], answer["refused"]) == (2, 1, 0)
    assert [j["index"] for j in answer["jobs"]] == [0, 1, 2]
    assert answer["jobs"][1]["errors"][0]["path"] == "description"
    assert answer["jobs"][1]["operation"] is None
    assert answer["jobs"][0]["operation"]["kind"] == "CREATE"


async def test_the_same_key_answers_the_same_and_starts_nothing_twice(
    api: httpx.AsyncClient, api_url: str, sandbox: SandboxControl, cid: str
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    await sandbox.clear_requests()
    jobs = [batch_job(f"req-{i}") for i in range(150)]
    key = {"Idempotency-Key": f"import-{cid}"}
    first = await api.post(f"/v1/customers/{cid}/jobs/batch", json={"jobs": jobs}, headers=key)
    again = await api.post(f"/v1/customers/{cid}/jobs/batch", json={"jobs": jobs}, headers=key)
    assert first.status_code == again.status_code == 202, first.text
    assert first.json()["batchId"] == again.json()["batchId"] == f"import-{cid}"

    def ids(answer: httpx.Response) -> list[tuple[str, str]]:
        return [(j["externalJobPostingId"], j["operation"]["id"]) for j in answer.json()["jobs"]]

    assert ids(first) == ids(again) and len(ids(first)) == 150
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}"),
        lambda r: r.json()["jobs"]["byStatus"].get("LISTED") == 150,
        within=120,
    )
    submitted = await sandbox.job_submissions()
    assert sorted(e["externalJobPostingId"] for e in submitted) == sorted(
        j["externalJobPostingId"] for j in jobs
    )
    calls = [
        r
        for r in await sandbox.requests()
        if r["method"] == "POST" and r["path"].endswith("/simpleJobPostings")
    ]
    assert all(len(r["body"]["elements"]) <= 100 for r in calls)
    # how few calls is the benchmark's to show (bench/import_jobs.py), not a timed assertion


async def test_put_many_reports_progress(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    cid: str,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    client = JobsClient.from_settings(temporal_env.client, settings)
    seen: list[int] = []
    answer = await client.put_many(
        cid, [batch_job(f"req-{i}") for i in range(30)], on_progress=seen.append
    )
    assert answer.started == 30 and len(answer.jobs) == 30
    assert seen and seen[-1] == 30 and seen == sorted(seen)


async def test_job_import_from_a_json_lines_file(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    api: httpx.AsyncClient,
    api_url: str,
    sandbox: SandboxControl,
    cid: str,
    tmp_path: Path,
) -> None:
    await enabled_customer(api, api_url, sandbox, cid)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKEDIN_ATS_", "TEMPORAL_"))}
    env.update(
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        LINKEDIN_ATS_TASK_QUEUE=settings.task_queue,
        LINKEDIN_ATS_PAYLOAD_KEYS=TEST_KEYS.dumps().strip(),
        LINKEDIN_ATS_DATA_DIR=str(tmp_path),
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(batch_job("a")) + "\n" + json.dumps(batch_job("b", title="")) + "\n")
    refused = await asyncio.to_thread(run_cli, "job", "import", cid, str(bad), env=env)
    assert refused.returncode == 1
    assert "job 2: title:" in refused.stdout and "nothing was started" in refused.stderr

    good = tmp_path / "jobs.jsonl"
    good.write_text("".join(json.dumps(batch_job(f"req-{i}")) + "\n" for i in range(1, 26)))
    for _ in range(2):  # the same file again starts nothing twice
        result = await asyncio.to_thread(run_cli, "job", "import", cid, str(good), env=env)
        assert result.returncode == 0, result.stderr
        assert "25 started, 0 invalid, 0 refused" in result.stdout
    await eventually(
        lambda: api.get(f"/v1/customers/{cid}"),
        lambda r: r.json()["jobs"]["byStatus"].get("LISTED") == 25,
        within=60,
    )
    assert len(await sandbox.job_submissions()) == 25
