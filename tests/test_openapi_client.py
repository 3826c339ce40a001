"""The OpenAPI document as a generated client meets it: short operation ids, a tag per
resource, every error a documented problem, and a client from `openapi-python-client` that
builds without a warning and onboards a customer, puts a job and reads it back."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from settings import Settings
from tests.jobs_support import DESCRIPTION, now_ms
from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually

SPEC: dict[str, Any] = create_app(Settings()).openapi()
"""The very /openapi.json the API serves (built without connecting to anything)."""
PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
PACKAGE = "linkedin_ats_client"
CONTRACT = "urn:li:contract:555"
AUTH = {"Authorization": "Bearer dev-token"}

CUSTOMER = "/v1/customers/{customer_id}"
JOB = f"{CUSTOMER}/jobs/{{external_job_posting_id}}"
INTEGRATION = f"{CUSTOMER}/integrations/{{integration_type}}"
APPLICATIONS = f"{CUSTOMER}/applications"
OPERATIONS = {
    ("post", f"{CUSTOMER}/onboarding"): ("startOnboarding", "integrations"),
    ("post", f"{CUSTOMER}/widget-callback"): ("receiveWidgetCallback", "integrations"),
    ("get", f"{CUSTOMER}/integrations"): ("listCustomerIntegrations", "integrations"),
    ("post", f"{INTEGRATION}/enable"): ("enableIntegration", "integrations"),
    ("post", f"{INTEGRATION}/retry"): ("retryIntegration", "integrations"),
    ("get", "/v1/integrations"): ("listIntegrations", "integrations"),
    ("post", f"{CUSTOMER}/hiring-contracts"): ("setupHiringContract", "applications"),
    ("post", f"{CUSTOMER}/application/sync"): ("syncApplication", "applications"),
    ("post", "/v1/applications/sync"): ("syncApplications", "applications"),
    ("put", JOB): ("putJob", "jobs"),
    ("get", JOB): ("getJob", "jobs"),
    ("delete", JOB): ("discardJob", "jobs"),
    ("post", f"{JOB}/upgrade"): ("upgradeJob", "jobs"),
    ("post", f"{JOB}/downgrade"): ("downgradeJob", "jobs"),
    ("post", f"{JOB}/renew"): ("renewJob", "jobs"),
    ("post", f"{JOB}/close"): ("closeJob", "jobs"),
    ("post", f"{JOB}/retry"): ("retryJob", "jobs"),
    ("post", f"{JOB}/cancel"): ("cancelJob", "jobs"),
    ("get", f"{JOB}/operations/{{operation_id}}"): ("getOperation", "jobs"),
    ("get", f"{JOB}/operations"): ("listOperations", "jobs"),
    ("get", f"{CUSTOMER}/jobs"): ("listJobs", "jobs"),
    ("post", f"{CUSTOMER}/jobs/batch"): ("importJobs", "jobs"),
    ("get", "/v1/customers"): ("listCustomers", "customers"),
    ("get", CUSTOMER): ("getCustomer", "customers"),
    ("delete", CUSTOMER): ("offboardCustomer", "customers"),
    ("get", f"{JOB}/performance"): ("getJobPerformance", "p4p"),
    ("get", f"{CUSTOMER}/budget"): ("getBudget", "p4p"),
    ("post", "/v1/webhooks"): ("registerWebhook", "webhooks"),
    ("get", "/v1/webhooks"): ("listWebhooks", "webhooks"),
    ("delete", "/v1/webhooks/{endpoint_id}"): ("removeWebhook", "webhooks"),
    ("get", "/v1/webhooks/deliveries"): ("listDeliveries", "webhooks"),
    ("get", "/v1/linkedin-events"): ("listLinkedinEvents", "linkedin"),
    ("get", "/linkedin/webhook"): ("linkedinChallenge", "linkedin"),
    ("post", "/linkedin/webhook"): ("linkedinEvent", "linkedin"),
    ("get", "/linkedin/customers/{customer_id}/events"): ("linkedinCustomerChallenge", "linkedin"),
    ("post", "/linkedin/customers/{customer_id}/events"): ("linkedinCustomerEvent", "linkedin"),
    ("get", "/linkedin/customers/{customer_id}/applications"): (
        "linkedinApplicationsChallenge",
        "linkedin",
    ),
    ("post", "/linkedin/customers/{customer_id}/applications"): ("linkedinApplication", "linkedin"),
    ("get", APPLICATIONS): ("listJobApplications", "job-applications"),
    ("get", f"{APPLICATIONS}/{{application_id}}"): ("getJobApplication", "job-applications"),
    ("get", f"{APPLICATIONS}/{{application_id}}/documents/{{kind}}"): (
        "getApplicationDocument",
        "job-applications",
    ),
    ("post", f"{APPLICATIONS}/{{application_id}}/actions"): (
        "sendApplicationAction",
        "job-applications",
    ),
    ("delete", f"{APPLICATIONS}/{{application_id}}"): ("eraseJobApplication", "job-applications"),
}
JOB_WRITES = {"putJob", "upgradeJob", "downgradeJob", "renewJob", "closeJob", "discardJob"}
NOT_FOUND = JOB_WRITES | {
    "getJob",
    "retryJob",
    "cancelJob",
    "getOperation",
    "listOperations",
    "enableIntegration",
    "retryIntegration",
    "syncApplication",
    "removeWebhook",
    "listJobApplications",
    "getJobApplication",
    "getApplicationDocument",
    "sendApplicationAction",
    "eraseJobApplication",
    "getCustomer",
    "offboardCustomer",
    "importJobs",
    "getJobPerformance",
    "getBudget",
}
CONFLICT = JOB_WRITES | {"retryJob", "cancelJob", "registerWebhook", "offboardCustomer"}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_operation_has_a_short_id_and_the_tag_of_its_resource() -> None:
    found = {
        (method, path): (operation["operationId"], *operation["tags"])
        for method, path, operation in operations()
    }
    assert found == OPERATIONS
    assert [tag["name"] for tag in SPEC["tags"]] == [
        "customers",
        "integrations",
        "applications",
        "jobs",
        "p4p",
        "webhooks",
        "linkedin",
        "job-applications",
    ]
    assert all(tag["description"] for tag in SPEC["tags"])


def test_every_error_answer_is_a_problem_first() -> None:
    assert "HTTPValidationError" not in json.dumps(SPEC)
    for method, path, operation in operations():
        for status, answer in operation["responses"].items():
            if status[0] in "45":
                media_types = list(answer["content"])
                assert media_types[0] == PROBLEM, (method, path, status, media_types)
                schema = answer["content"][PROBLEM]["schema"]
                assert PROBLEM_REF in json.dumps(schema), (method, path, status, schema)
                assert answer["description"], (method, path, status)


def test_the_problem_schema_is_the_shape_every_error_has() -> None:
    problem = SPEC["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors"}
    field = SPEC["components"]["schemas"]["FieldError"]
    assert set(field["required"]) == {"path", "message"}


LINKEDIN_DOOR = {
    "linkedinChallenge",
    "linkedinEvent",
    "linkedinCustomerChallenge",
    "linkedinCustomerEvent",
    "linkedinApplicationsChallenge",
    "linkedinApplication",
}
"""LinkedIn's door: outside the token; a POST is signed instead (401 when it is not)."""


def test_each_operation_documents_the_errors_it_answers() -> None:
    for _, _, operation in operations():
        name = operation["operationId"]
        statuses = set(operation["responses"])
        if name in LINKEDIN_DOOR:
            assert "security" not in operation, name
            assert ("401" in statuses) == ("requestBody" in operation), name
            assert ("413" in statuses) == ("requestBody" in operation), name
            assert {"500", "503"} <= statuses, name
            continue
        assert {"401", "500", "503"} <= statuses, name
        assert operation["security"] == [{"HTTPBearer": []}], name
        assert ("413" in statuses) == ("requestBody" in operation), name
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in statuses, name
        assert ("404" in statuses) == (name in NOT_FOUND), name
        assert ("409" in statuses) == (name in CONFLICT), name


def test_a_refused_job_write_is_documented_as_the_operation_too() -> None:
    """With wait=true, LinkedIn's refusal answers 422 with the operation (application/json);
    a generated client reads only a response's first media type (openapi-python-client
    #1248), so the problem's schema there admits the operation as well."""
    answer = SPEC["paths"][JOB]["put"]["responses"]["422"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Operation"
    }
    refs = {s["$ref"] for s in answer["content"][PROBLEM]["schema"]["anyOf"]}
    assert refs == {PROBLEM_REF, "#/components/schemas/Operation"}


# -- a generated client --------------------------------------------------------------------


@dataclass
class Generated:
    result: subprocess.CompletedProcess[str]
    root: Path

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """`openapi-python-client generate` over the spec, as a package on sys.path."""
    root = tmp_path_factory.mktemp("generated")
    spec = root / "openapi.json"
    spec.write_text(json.dumps(SPEC))
    bin_dir = Path(sys.executable).parent  # its post-hooks run the venv's ruff
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    sys.path.insert(0, str(root))
    yield Generated(result, root)
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_the_client_generates_without_a_warning_and_names_functions_by_operation(
    generated: Generated,
) -> None:
    assert generated.result.returncode == 0, generated.output
    assert "Warning" not in generated.output and "Skipping" not in generated.output
    api = generated.root / PACKAGE / "api"
    assert sorted(p.name for p in api.iterdir() if p.is_dir()) == [
        "applications",
        "customers",
        "integrations",
        "job_applications",
        "jobs",
        "linkedin",
        "p4p",
        "webhooks",
    ]
    assert (api / "jobs" / "put_job.py").exists()
    assert (api / "jobs" / "list_jobs.py").exists()
    assert (api / "integrations" / "start_onboarding.py").exists()


def job_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Software Engineer",
        "description": DESCRIPTION,
        "companyApplyUrl": "https://careers.example.com/apply",
        "listedAt": now_ms() - 60_000,
        "location": "San Francisco, CA",
        "integrationContext": "urn:li:organization:42",
    }
    body.update(overrides)
    return body


async def test_a_generated_client_onboards_a_customer_puts_a_job_and_reads_it_back(
    generated: Generated, api_url: str, worker: None, sandbox: SandboxControl, cid: str
) -> None:
    assert generated.result.returncode == 0, generated.output
    models = generated.module("models")
    start_onboarding = generated.module("api.integrations.start_onboarding")
    list_customer_integrations = generated.module("api.integrations.list_customer_integrations")
    put_job = generated.module("api.jobs.put_job")
    get_job = generated.module("api.jobs.get_job")
    authenticated = generated.module("client").AuthenticatedClient
    timeout = httpx.Timeout(60)

    async with authenticated(base_url=api_url, token="dev-token", timeout=timeout) as client:
        body = models.OnboardingStart(customer_name="Globex")
        started = await start_onboarding.asyncio_detailed(cid, client=client, body=body)
        assert started.status_code == 202, started.content
        assert started.parsed.workflow_ids == [f"integration/{cid}/PREMIUM_JOB_POSTING"]

        async def integrations() -> Any:
            return await list_customer_integrations.asyncio(cid, client=client)

        await eventually(integrations, lambda found: bool(found) and bool(found[0].client_id))
        saved = await sandbox.widget_save(
            customerId=cid,
            integrationContext=CONTRACT,
            jobPosterEmail="boss@globex.com",
            callbackUrl=f"{api_url}/v1/customers/{cid}/widget-callback",
            callbackHeaders=AUTH,
        )
        assert saved.headers["x-sandbox-callback-status"] == "202"
        await eventually(integrations, lambda found: found[0].status == "ENABLED")

        job = models.JobBody.from_dict(job_body())
        put = await put_job.asyncio_detailed(cid, "req-1", client=client, body=job, wait=True)
        assert put.status_code == 200, put.content
        assert isinstance(put.parsed, models.Operation)
        assert put.parsed.kind == "CREATE" and put.parsed.outcome == "SUCCEEDED"

        state = await get_job.asyncio(cid, "req-1", client=client)
        assert isinstance(state, models.JobState)
        assert state.external_job_posting_id == "req-1" and state.status == "LISTED"
        assert state.job_id and state.job_posting_url

        # Errors arrive as problems the client parses, naming what went wrong.
        missing = await get_job.asyncio_detailed(cid, "never", client=client)
        assert missing.status_code == 404 and isinstance(missing.parsed, models.Problem)
        assert "never" in missing.parsed.detail
        short = models.JobBody.from_dict(job_body(description="too short"))
        invalid = await put_job.asyncio_detailed(cid, "req-2", client=client, body=short)
        assert invalid.status_code == 422 and isinstance(invalid.parsed, models.Problem)
        assert [error.path for error in invalid.parsed.errors] == ["body.description"]

        # With wait=true, LinkedIn's refusal is the operation, failed.
        await sandbox.fail_next_tasks("Job location could not be resolved")
        other = models.JobBody.from_dict(job_body(title="Another title"))
        refused = await put_job.asyncio_detailed(cid, "req-1", client=client, body=other, wait=True)
        assert refused.status_code == 422 and isinstance(refused.parsed, models.Operation)
        assert refused.parsed.outcome == "FAILED"
