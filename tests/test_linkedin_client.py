"""The LinkedIn client against the sandbox over loopback: tokens, batches, faults."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr, ValidationError

from cli.up import free_port
from domain.integrations import IntegrationKey, IntegrationType
from domain.provisioning import AppCredentials, NewApplication
from linkedin import LinkedInAuthError, LinkedInClient, TransientLinkedInError
from linkedin.errors import LinkedInNotFoundError
from settings import Settings
from tests.conftest import PARTNER, Customer
from tests.jobs_support import valid_job
from tests.sandbox_control import JOB_POSTINGS, JOB_TASKS, SandboxControl
from workers.worker import credential_store, linkedin_client

PJP = IntegrationType.PREMIUM_JOB_POSTING


async def test_concurrent_first_calls_share_one_token_request(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    keys = [IntegrationKey.for_type(f"urn:li:contract:{n}", PJP) for n in range(20)]
    await asyncio.gather(*(linkedin.verify_integrations(customer.creds, [k]) for k in keys))
    token_calls = [
        r for r in await sandbox.requests("/oauth") if customer.creds.client_id in r["body"]
    ]
    assert len(token_calls) == 1
    assert linkedin.token_requests == 2  # the partner's, for provisioning, and the customer's


async def test_expired_token_is_refreshed_once_and_the_call_retried(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    key = IntegrationKey.for_type("urn:li:contract:1", PJP)
    await linkedin.verify_integrations(customer.creds, [key])
    await sandbox.advance(1800)  # LinkedIn's clock passes the token's 30 minutes
    assert await linkedin.verify_integrations(customer.creds, [key]) == {}
    statuses = [r["status"] for r in await sandbox.requests("/v2/atsIntegrations")]
    assert statuses == [200, 401, 200]


async def test_a_token_that_expires_at_once_gives_up_after_one_refresh(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.settings(tokenTtlSeconds=0)
    with pytest.raises(LinkedInAuthError, match="The token used in the request has expired") as e:
        await linkedin.verify_integrations(
            customer.creds, [IntegrationKey.for_type("urn:li:contract:1", PJP)]
        )
    assert (e.value.status, e.value.service_error_code) == (401, 65602)


async def test_expires_in_as_a_string_is_accepted(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.settings(tokenExpiresInAsString=True)
    await linkedin.verify_integrations(
        customer.creds, [IntegrationKey.for_type("urn:li:contract:1", PJP)]
    )
    await linkedin.verify_integrations(
        customer.creds, [IntegrationKey.for_type("urn:li:contract:1", PJP)]
    )
    assert linkedin.token_requests == 2


async def test_a_restarted_worker_reuses_the_stored_token(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    store = credential_store(Settings(data_dir=tmp_path))

    async def one_process() -> None:
        async with LinkedInClient(
            api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER, token_store=store
        ) as linkedin:
            await linkedin.find_application("nobody")

    for _ in range(3):  # three processes, one after another, sharing the store
        await one_process()
    assert len(await sandbox.requests("/oauth/v2/accessToken")) == 1
    await sandbox.advance(3600)  # LinkedIn let the stored token expire early
    await one_process()  # refused once, then a new token, stored for the others
    await one_process()
    assert len(await sandbox.requests("/oauth/v2/accessToken")) == 2
    await store.close()


async def test_tokens_are_renewed_shortly_before_expiry(sandbox: SandboxControl) -> None:
    now = [0.0]
    async with LinkedInClient(
        api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER, clock=lambda: now[0]
    ) as linkedin:
        await linkedin.find_application("nobody")
        now[0] = 1800 - 61
        await linkedin.find_application("nobody")
        assert linkedin.token_requests == 1
        now[0] = 1800 - 59  # inside the 60 s margin
        await linkedin.find_application("nobody")
        assert linkedin.token_requests == 2


async def test_wrong_client_secret_is_an_auth_error(
    linkedin: LinkedInClient, customer: Customer
) -> None:
    wrong = AppCredentials(client_id=customer.creds.client_id, client_secret=SecretStr("nope"))
    with pytest.raises(LinkedInAuthError, match="Client authentication failed"):
        await linkedin.verify_integrations(
            wrong, [IntegrationKey.for_type("urn:li:contract:1", PJP)]
        )


async def test_secret_with_reserved_characters_is_url_encoded(sandbox: SandboxControl) -> None:
    odd = AppCredentials(client_id="sandbox-partner", client_secret=SecretStr("a/b=c+d"))
    async with LinkedInClient(api_url=sandbox.url, oauth_url=sandbox.url, partner=odd) as c:
        with pytest.raises(LinkedInAuthError):
            await c.find_application("x")
    body = (await sandbox.requests("/oauth"))[-1]["body"]
    assert "client_secret=***" in body and "a/b" not in body


async def test_jobs_and_tasks_go_to_rest_with_linkedin_version_by_default(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    """LinkedIn's SDK posts jobs and reads tasks under /rest/ (LinkedInApiConstants.java
    JOB_POSTING_BASE_URL, JOB_TASK_STATUS_BASE_URL) and LinkedIn announces the /v2 sunset;
    it reads jobPostingStatus under /v2/ (JOB_STATUS_BASE_URL)."""
    (submitted,) = await linkedin.submit_jobs(customer.creds, [valid_job("d")])
    assert submitted.task_id is not None
    await linkedin.get_tasks(customer.creds, [submitted.task_id])
    await linkedin.get_job_statuses(customer.creds, ["d"])
    (posted,) = await sandbox.requests("/rest/simpleJobPostings")
    (read,) = await sandbox.requests("/rest/simpleJobPostingTasks")
    for entry in (posted, read):
        assert entry["status"] == 200 and entry["headers"]["linkedin-version"] == "202504"
    (status,) = await sandbox.requests("/v2/jobPostingStatus")
    assert status["status"] == 200
    assert await sandbox.requests("/v2/simpleJobPosting") == []


def test_versioned_endpoints_is_one_setting_on_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "LINKEDIN_ATS_LINKEDIN_VERSIONED_ENDPOINTS"
    monkeypatch.delenv(name, raising=False)
    assert Settings().linkedin_versioned_endpoints is True
    monkeypatch.setenv(name, "false")
    assert Settings().linkedin_versioned_endpoints is False
    monkeypatch.setenv(name, '["simpleJobPostings","jobPostingStatus"]')
    with pytest.raises(ValidationError, match="true or false"):
        Settings()


async def test_the_workers_client_follows_the_setting_to_v2(
    sandbox: SandboxControl, customer: Customer
) -> None:
    settings = Settings(
        linkedin_api_url=sandbox.url,
        linkedin_oauth_url=sandbox.url,
        linkedin_versioned_endpoints=False,
    )
    async with linkedin_client(settings) as client:
        (submitted,) = await client.submit_jobs(customer.creds, [valid_job("w")])
        assert submitted.task_id is not None
        await client.get_tasks(customer.creds, [submitted.task_id])
    for path in ("/v2/simpleJobPostings", "/v2/simpleJobPostingTasks"):
        (entry,) = await sandbox.requests(path)
        assert entry["status"] == 200 and "linkedin-version" not in entry["headers"]
    assert await sandbox.requests("/rest/") == []


async def test_more_than_100_jobs_go_in_several_calls_in_order(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    jobs = [valid_job(f"job-{n}") for n in range(250)]
    submissions = await linkedin.submit_jobs(customer.creds, jobs)
    assert [s.external_job_posting_id for s in submissions] == [
        j.external_job_posting_id for j in jobs
    ]
    assert all(s.task_id and s.error is None for s in submissions)
    sizes = [len(r["body"]["elements"]) for r in await sandbox.requests(JOB_POSTINGS)]
    assert sizes == [100, 100, 50]


async def test_two_operations_on_one_job_never_share_a_call(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    jobs = [
        valid_job("a"),
        valid_job("b"),
        valid_job("a", job_posting_operation_type="UPDATE", title="New title"),
    ]
    submissions = await linkedin.submit_jobs(customer.creds, jobs)
    assert all(s.error is None for s in submissions)
    calls = [
        [e["externalJobPostingId"] for e in r["body"]["elements"]]
        for r in await sandbox.requests(JOB_POSTINGS)
    ]
    assert calls == [["a", "b"], ["a"]]


async def test_task_lookups_stay_under_the_query_limit(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    submissions = await linkedin.submit_jobs(
        customer.creds, [valid_job(f"j{n}") for n in range(120)]
    )
    tasks = await linkedin.get_tasks(customer.creds, [s.task_id for s in submissions if s.task_id])
    assert len(tasks.results) == 120 and not tasks.errors
    queries = [r["query"] for r in await sandbox.requests(JOB_TASKS)]
    assert len(queries) > 1 and all(len(q) <= 4096 for q in queries)


@pytest.mark.parametrize("status", [500, 503, 504])
async def test_server_errors_are_transient(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer, status: int
) -> None:
    await sandbox.fault("jobPostingStatus", failNext=1, status=status)
    with pytest.raises(TransientLinkedInError) as info:
        await linkedin.get_job_statuses(customer.creds, ["job-1"])
    assert info.value.status == status


async def test_429_carries_retry_after(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.fault("simpleJobPostingTasks", failNext=1, status=429, retryAfter=7)
    with pytest.raises(TransientLinkedInError) as info:
        await linkedin.get_tasks(
            customer.creds, ["urn:li:simpleJobPostingTask:00000000-0000-0000-0000-000000000000"]
        )
    assert (info.value.status, info.value.retry_after) == (429, 7.0)


async def test_a_dropped_answer_is_transient_and_the_request_was_committed(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    await sandbox.fault("simpleJobPostings", dropNext=1)
    with pytest.raises(TransientLinkedInError, match="connection failed") as raised:
        await linkedin.submit_jobs(customer.creds, [valid_job("job-1")])
    assert not raised.value.never_sent  # it was sent: LinkedIn may have applied it
    state = await sandbox.state()
    assert [t["external_id"] for t in state["tasks"]] == ["job-1"]


async def test_an_unreachable_linkedin_is_transient() -> None:
    port = free_port()
    async with LinkedInClient(
        api_url=f"http://127.0.0.1:{port}", oauth_url=f"http://127.0.0.1:{port}", partner=PARTNER
    ) as linkedin:
        with pytest.raises(TransientLinkedInError, match="ConnectError") as raised:
            await linkedin.find_application("x")
    assert raised.value.never_sent  # no connection: nothing to reconcile before sending again


async def test_latency_beyond_the_timeout_is_transient(sandbox: SandboxControl) -> None:
    await sandbox.fault("accessToken", latencyMs=500)
    async with LinkedInClient(
        api_url=sandbox.url, oauth_url=sandbox.url, partner=PARTNER, timeout=0.1
    ) as linkedin:
        with pytest.raises(TransientLinkedInError, match="timed out"):
            await linkedin.find_application("x")


async def test_no_secret_or_token_reaches_logs_or_errors(
    linkedin: LinkedInClient, sandbox: SandboxControl
) -> None:
    output = io.StringIO()
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(output),
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    try:
        _app, creds = await linkedin.create_application(
            NewApplication(
                unique_foreign_id="c-secret", name="Acme ATS - Secretive", description="d"
            )
        )
        await sandbox.advance(1800)
        await sandbox.settings(tokenTtlSeconds=0)
        with pytest.raises(LinkedInAuthError) as info:
            await linkedin.verify_integrations(
                creds, [IntegrationKey.for_type("urn:li:contract:1", PJP)]
            )
    finally:
        structlog.reset_defaults()
    secret = creds.client_secret.get_secret_value()
    tokens = [t.value.get_secret_value() for t in linkedin._tokens.values()]
    text = output.getvalue() + str(info.value) + repr(info.value) + repr(creds)
    assert "linkedin.call" in text
    for sensitive in [secret, PARTNER.client_secret.get_secret_value(), *tokens]:
        assert sensitive not in text


def test_each_linkedin_error_class_names_its_own_failure_type() -> None:
    from linkedin import errors

    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.LinkedInError)
    ]
    own = {c: c.__dict__.get("failure_type") for c in classes}
    assert all(own.values()), [c.__name__ for c, f in own.items() if f is None]
    leaves = [c for c in classes if c not in (errors.LinkedInError, errors.PermanentLinkedInError)]
    assert len({own[c] for c in leaves}) == len(leaves)  # no two kinds share a failure type


async def test_a_push_follow_up_sends_its_request_id_escaped_and_a_stranger_id_is_not_found(
    linkedin: LinkedInClient, sandbox: SandboxControl, customer: Customer
) -> None:
    """§5: `atsIntegrations?q=request&requestId=` with the customer's token; the sandbox
    knows only the requests it pushed to that customer."""
    with pytest.raises(LinkedInNotFoundError, match="No request found"):
        await linkedin.integration_request(customer.creds, "r&1 x")
    (asked,) = await sandbox.requests("/v2/atsIntegrations")
    assert asked["query"] == "q=request&requestId=r%261%20x"
