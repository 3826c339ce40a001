"""Issue 10 on onboarding: crash-safe provisioning, updates within their deadline, bounded
input and state, and customer ids of any printable text, on Temporal against the sandbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from activities.credentials import CredentialStore
from client.integrations import IntegrationsClient
from client.jobs import JobsClient
from domain.integration_workflow import (
    INTEGRATION_WORKFLOW_TYPE,
    KEPT_REJECTED_CALLBACKS,
    KEPT_TRANSITIONS,
    MAX_CONTEXTS,
    ContextStatus,
    IntegrationInput,
    IntegrationState,
    WidgetSave,
    integration_workflow_id,
)
from domain.integrations import IntegrationType
from domain.job_workflow import JobStatus
from domain.provisioning import AppCredentials
from settings import Settings
from tests.jobs_support import job_fields
from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually, record_history
from workers.worker import credential_store, running_worker

PJP = IntegrationType.PREMIUM_JOB_POSTING
CONTRACT = "urn:li:contract:555"


def value(context: str = CONTRACT) -> dict[str, Any]:
    return {
        "tenantType": "JOBS",
        "onboardingStatus": "REQUESTED",
        "integrationType": "PREMIUM_JOB_POSTING",
        "integrationContext": context,
    }


async def saved(sandbox: SandboxControl, cid: str, poster: str = "boss@globex.com") -> Any:
    response = await sandbox.widget_save(
        customerId=cid, integrationContext=CONTRACT, jobPosterEmail=poster
    )
    response.raise_for_status()
    return response.json()


# -- 1. a crash between LinkedIn's create and storing the secret --------------------------------


class CrashAfterCreate:
    """The credential store of a worker that dies once right after LinkedIn created the app:
    the first save never happens, as when the process is killed between the two."""

    def __init__(self, store: CredentialStore) -> None:
        self._store = store
        self.crashes = 0

    async def save(
        self, customer_id: str, application_key: str, credentials: AppCredentials
    ) -> None:
        if self.crashes == 0:
            self.crashes += 1
            raise RuntimeError("worker killed before the secret was stored")
        await self._store.save(customer_id, application_key, credentials)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)  # everything else: the real store


async def test_an_app_whose_secret_a_crash_lost_is_replaced_without_a_person(
    temporal_env: WorkflowEnvironment, sandbox: SandboxControl, settings: Settings, cid: str
) -> None:
    store = CrashAfterCreate(credential_store(settings))
    onboarding = IntegrationsClient(temporal_env.client, task_queue=settings.task_queue)
    async with running_worker(temporal_env.client, settings, store=store):
        await temporal_env.client.start_workflow(
            INTEGRATION_WORKFLOW_TYPE,
            IntegrationInput(
                customer_id=cid, customer_name="Globex", provision_grace=timedelta(seconds=1)
            ),
            id=integration_workflow_id(cid, PJP),
            task_queue=settings.task_queue,
        )
        state = await eventually(
            lambda: onboarding.integration_state(cid), lambda s: s.client_id, within=30
        )
        assert store.crashes == 1 and state.app_attempt == 2
        apps = {a["uniqueForeignId"]: a for a in (await sandbox.state())["apps"]}
        assert apps[f"{cid}#2"]["credentials"]["client_id"] == state.client_id
        orphan = apps[cid]
        assert orphan["name"].endswith("(retired)") and orphan["validJsSdkDomains"] == []
        assert orphan["description"] == f"Retired: replaced by uniqueForeignId {cid}#2"
        # The replacement works end to end: the widget, loaded with its client id, is enabled.
        response = await sandbox.widget_save(
            clientId=state.client_id, integrationContext=CONTRACT, jobPosterEmail="a@globex.com"
        )
        await onboarding.widget_saved(cid, response.json())
        await eventually(
            lambda: onboarding.integration_state(cid), lambda s: s.status == ContextStatus.ENABLED
        )
        assert (await onboarding.sync_applications(cid))[cid].changed == []
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_orphan_app_replaced")


@pytest.mark.usefixtures("worker")
async def test_an_app_we_did_not_create_is_never_retired(
    onboarding: IntegrationsClient, sandbox: SandboxControl, linkedin: Any, cid: str
) -> None:
    """An app under the customer's id with no secret in our store (a lost store): a person."""
    from tests.conftest import provision

    await provision(linkedin, cid)
    await temporal_start(onboarding, cid)
    state = await eventually(
        lambda: onboarding.integration_state(cid),
        lambda s: s.status == ContextStatus.NEEDS_ATTENTION,
        within=30,
    )
    assert "we did not create it: restore the store" in (state.last_error or "")
    apps = (await sandbox.state())["apps"]
    assert len(apps) == 1 and not apps[0]["name"].endswith("(retired)")


async def test_an_app_we_did_not_create_is_looked_at_again_with_backoff(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: Any,
    cid: str,
) -> None:
    """Every look at it is a step of its own, further apart each time, up to hourly."""
    from tests.conftest import provision

    await provision(linkedin, cid)
    onboarding = IntegrationsClient(time_skipping_env.client, task_queue=settings.task_queue)
    async with running_worker(time_skipping_env.client, settings):
        await temporal_start(onboarding, cid)
        await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: s.status == ContextStatus.NEEDS_ATTENTION,
            within=30,
        )
        await time_skipping_env.sleep(timedelta(hours=1))
        calls = await eventually(
            lambda: sandbox.requests("/v2/provisionedApplications"),
            lambda r: len([c for c in r if c["method"] == "GET"]) >= 12,
            within=30,
        )
        state = await onboarding.integration_state(cid)
    assert state.client_id is None and "we did not create it" in (state.last_error or "")
    assert [c["method"] for c in calls].count("POST") == 1  # ours, above: never another
    handle = time_skipping_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_provisioning_looked_up_again")


async def temporal_start(onboarding: IntegrationsClient, cid: str) -> None:
    """Start onboarding with a short grace, as a test can wait for."""
    temporal = onboarding._temporal
    await temporal.start_workflow(
        INTEGRATION_WORKFLOW_TYPE,
        IntegrationInput(
            customer_id=cid, customer_name="Globex", provision_grace=timedelta(seconds=1)
        ),
        id=integration_workflow_id(cid, PJP),
        task_queue=onboarding._task_queue,
    )


# -- 2. enable answers within its deadline while LinkedIn is retried in the background ---------


async def test_enable_answers_within_its_deadline_behind_hours_of_retries(
    time_skipping_env: WorkflowEnvironment, sandbox: SandboxControl, settings: Settings, cid: str
) -> None:
    onboarding = IntegrationsClient(time_skipping_env.client, task_queue=settings.task_queue)
    async with running_worker(time_skipping_env.client, settings):
        await onboarding.start_onboarding(cid, "Globex")
        await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
        await sandbox.fault("atsIntegrations", failNext=100_000, status=503)
        await onboarding.widget_saved(cid, await saved(sandbox, cid))
        await eventually(lambda: sandbox.requests("/v2/atsIntegrations"), bool)
        enable = asyncio.create_task(onboarding.enable(cid, PJP, CONTRACT))
        await time_skipping_env.sleep(timedelta(seconds=100))
        state = await asyncio.wait_for(enable, timeout=30)
    assert state.contexts[CONTRACT].status == ContextStatus.REQUESTED
    assert state.waiting_for.startswith(
        "the enable is queued: not answered within 90 s because the workflow is enabling "
        f"{CONTRACT} at LinkedIn, retried in the background"
    )
    handle = time_skipping_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_enable_not_in_time")


# -- 3. bounded input and state -----------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_callbacks_and_contexts_are_capped_and_the_rest_is_counted(
    onboarding: IntegrationsClient, temporal_env: WorkflowEnvironment, cid: str
) -> None:
    with pytest.raises(ValidationError, match=f"at most {MAX_CONTEXTS} items"):
        await onboarding.widget_saved(cid, [value(f"urn:li:contract:{n}") for n in range(101)])
    await onboarding.start_onboarding(cid, "Globex")
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await handle.signal(
        "widget_saved", WidgetSave(values=[value(f"urn:li:contract:{n}") for n in range(150)])
    )
    await handle.signal("widget_saved", WidgetSave(values=[value("urn:li:contract:9999")]))
    for n in range(KEPT_REJECTED_CALLBACKS + 5):
        await handle.signal("widget_saved", WidgetSave(values=[{"junk": "x" * 10_000, "n": n}]))
    state = await eventually(
        lambda: onboarding.integration_state(cid),
        lambda s: (
            s.earlier_rejected_callbacks + len(s.rejected_callbacks) == KEPT_REJECTED_CALLBACKS + 7
        ),
    )
    assert len(state.contexts) == MAX_CONTEXTS
    assert len(state.rejected_callbacks) == KEPT_REJECTED_CALLBACKS
    assert state.earlier_rejected_callbacks == 7
    assert len(state.model_dump_json()) < 200_000


@pytest.mark.usefixtures("worker")
async def test_state_stays_small_after_many_re_saves(
    onboarding: IntegrationsClient, sandbox: SandboxControl, cid: str
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
    for n in range(KEPT_TRANSITIONS):  # each re-save: REQUESTED, then ENABLED again
        await onboarding.widget_saved(cid, await saved(sandbox, cid, f"boss{n}@globex.com"))
        await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s, seen=2 * (n + 1): (  # type: ignore[misc]
                s.contexts[CONTRACT].earlier_transitions + len(s.contexts[CONTRACT].transitions)
                == seen
            ),
            within=20,
        )
    state: IntegrationState = await onboarding.integration_state(cid)
    context = state.contexts[CONTRACT]
    assert len(context.transitions) == KEPT_TRANSITIONS
    assert context.earlier_transitions == KEPT_TRANSITIONS
    assert [t.status for t in context.transitions][-2:] == ["REQUESTED", "ENABLED"]
    assert len(state.model_dump_json()) < 10_000


def test_names_are_capped_before_anything_is_sent() -> None:
    with pytest.raises(ValidationError, match="at most 200 characters"):
        IntegrationInput(customer_id="c", customer_name="G" * 201)


# -- 4. ids of any printable text, listed and resumed -------------------------------------------

ODD_IDS = ['acme "quoted"', "back\\slash", "a/b c", "ünï cödé ✓", "it's"]


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("odd", ODD_IDS)
async def test_odd_customer_ids_onboard_list_and_resume_parked_jobs(
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    odd: str,
) -> None:
    cid = f"{odd} {uuid.uuid4().hex[:6]}"
    jobs = JobsClient(temporal_env.client, task_queue=settings.task_queue)
    await onboarding.start_onboarding(cid, "Globex")
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
    listed = await eventually(
        lambda: onboarding.list_integrations(customer_id=cid), lambda found: len(found) == 1
    )
    assert listed[0].customer_id == cid
    other = "urn:li:contract:777"
    from domain.job_postings import JobPosting

    posting = JobPosting.model_validate(
        job_fields("job-1", listing_type="PREMIUM", contract=other)
    ).to_wire()
    parked = await jobs.create(cid, posting, wait=True)
    assert parked.outcome == "NEEDS_ATTENTION"
    await eventually(
        lambda: jobs.list_jobs(customer_id=cid, status=JobStatus.NEEDS_ATTENTION),
        lambda found: len(found.items) == 1,
    )
    response = await sandbox.widget_save(
        customerId=cid, integrationContext=other, jobPosterEmail="boss@globex.com"
    )
    await onboarding.widget_saved(cid, response.json())
    state = await eventually(
        lambda: jobs.state(cid, "job-1"), lambda s: s.status == JobStatus.LISTED, within=30
    )
    assert state.operations[0].note == f"{other} enabled again"
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_enabled_and_parked_jobs_notified")


async def test_an_integration_lists_before_its_first_task(
    temporal_env: WorkflowEnvironment, cid: str
) -> None:
    """No worker polls this queue: the workflow has run nothing, yet it lists."""
    onboarding = IntegrationsClient(temporal_env.client, task_queue=f"idle-{uuid.uuid4()}")
    await onboarding.start_onboarding(cid, "Globex")
    listed = await eventually(
        lambda: onboarding.list_integrations(customer_id=cid), lambda found: len(found) == 1
    )
    assert (listed[0].customer_id, listed[0].integration_type, listed[0].status) == (
        cid,
        PJP,
        None,
    )
    everyone = await onboarding.list_integrations()
    assert cid in {s.customer_id for s in everyone}


def test_integration_workflow_ids_are_one_to_one() -> None:
    assert integration_workflow_id("a/b", PJP) != integration_workflow_id("a%2Fb", PJP)
    assert integration_workflow_id("globex", PJP) == "integration/globex/PREMIUM_JOB_POSTING"
    assert integration_workflow_id("a/b", PJP) == "integration/a%2Fb/PREMIUM_JOB_POSTING"


@pytest.mark.parametrize(
    ("customer_id", "rule"),
    [
        ("a\tb", "must not contain control characters"),
        ("a\nb", "must not contain control characters"),
        ("   ", "must not be blank"),
        ("acme#2", "must not end in '#' and digits"),
    ],
)
def test_customer_ids_with_control_characters_or_blank_are_refused(
    customer_id: str, rule: str
) -> None:
    with pytest.raises(ValidationError, match=rule):
        IntegrationInput(customer_id=customer_id, customer_name="Globex")


@pytest.mark.parametrize("external_id", ["job\t1", "job\n1", "   "])
def test_external_ids_with_control_characters_or_blank_are_refused(external_id: str) -> None:
    from domain.job_postings import JobPosting

    with pytest.raises(ValidationError, match="external_job_posting_id"):
        JobPosting.model_validate(job_fields(external_id))


# -- the HTTP API names each limit --------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_the_api_answers_422_naming_each_limit(api: httpx.AsyncClient, cid: str) -> None:
    too_many = [value(f"urn:li:contract:{n}") for n in range(MAX_CONTEXTS + 1)]
    response = await api.post(f"/v1/customers/{cid}/widget-callback", json=too_many)
    assert response.status_code == 422
    assert f"at most {MAX_CONTEXTS} items" in response.text
    response = await api.post(f"/v1/customers/{cid}/onboarding", json={"customer_name": "G" * 201})
    assert response.status_code == 422
    assert "at most 200 characters" in response.text
    odd = quote("tab\there", safe="")
    response = await api.post(f"/v1/customers/{odd}/onboarding", json={"customer_name": "Globex"})
    assert response.status_code == 422
    assert "must not contain control characters" in response.text
    assert (await api.get("/v1/integrations")).status_code == 200


@pytest.mark.usefixtures("worker")
async def test_the_api_lists_a_customer_whose_id_holds_quotes(
    api: httpx.AsyncClient, cid: str
) -> None:
    odd = f'{cid} "q" \\ /'
    path = f"/v1/customers/{quote(odd, safe='')}"
    response = await api.post(f"{path}/onboarding", json={"customer_name": "Globex"})
    assert response.status_code == 202, response.text
    states = await eventually(lambda: api.get(f"{path}/integrations"), lambda r: len(r.json()) == 1)
    assert states.json()[0]["customerId"] == odd
