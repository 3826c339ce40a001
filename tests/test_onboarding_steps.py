"""Issue 8 on the integration workflow: P4P contracts, app domains, RSC types, on Temporal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.integrations import IntegrationsClient
from domain.integration_workflow import (
    HIRING_CONTRACT_TYPE,
    ContextStatus,
    HiringContractStatus,
    IntegrationState,
    integration_workflow_id,
)
from domain.integrations import IntegrationType
from settings import Settings
from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually, record_history
from workers.worker import running_worker

ATS_PAGE = "https://ats.example.com"
NEW_ATS_PAGE = "https://app.ats.example.com"
PJP = IntegrationType.PREMIUM_JOB_POSTING
CONTRACT = "urn:li:contract:555"


def with_domains(settings: Settings, *domains: str) -> Settings:
    return settings.model_copy(
        update={
            "valid_js_sdk_domains": list(domains),
            "oauth2_authorized_callback_urls": [f"{d}/linkedin/callback" for d in domains],
        }
    )


@pytest.fixture
async def worker_with_domains(
    temporal_env: WorkflowEnvironment, settings: Settings
) -> AsyncIterator[Settings]:
    configured = with_domains(settings, ATS_PAGE)
    async with running_worker(temporal_env.client, configured):
        yield configured


async def details(env: WorkflowEnvironment, workflow_id: str) -> str:
    """The one line the Temporal UI shows for the workflow (its current details)."""
    handle = env.client.get_workflow_handle(workflow_id)
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return str(metadata.current_details)


# -- 7. P4P hiring contracts -----------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_a_p4p_contract_is_set_up_once_recorded_and_shown(
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    record = await onboarding.setup_hiring_contract(cid, 67890, "Globex")
    assert record.status == HiringContractStatus.SET_UP
    assert record.contract == "urn:li:contract:67890"
    again = await onboarding.setup_hiring_contract(cid, 67890)
    assert again == record
    calls = await sandbox.requests("/rest/provisionedHiringContracts")
    assert len(calls) == 1 and calls[0]["body"] == {"partnerContractId": 67890}
    assert calls[0]["headers"]["linkedin-version"] == "202504"
    state = await onboarding.integration_state(cid, HIRING_CONTRACT_TYPE)
    assert state.hiring_contracts["67890"].contract == "urn:li:contract:67890"
    shown = await details(temporal_env, integration_workflow_id(cid, HIRING_CONTRACT_TYPE))
    assert "P4P contracts set up: urn:li:contract:67890" in shown
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_p4p_set_up_before_the_app_existed")
    await record_history(handle, "integration_p4p_set_up_with_updates_after_results")


@pytest.mark.usefixtures("worker")
async def test_a_refused_contract_needs_attention_until_retried(
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    await sandbox.contract(4242, kind="P4P", ownerClientId="someone-else")
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await onboarding.setup_hiring_contract(cid, 4242, "Globex")
    assert "set up for another application" in str(info.value.cause)
    state = await onboarding.integration_state(cid)
    assert state.hiring_contracts["4242"].status == HiringContractStatus.NEEDS_ATTENTION
    assert state.status == ContextStatus.NEEDS_ATTENTION
    assert "P4P contract 4242 needs attention" in state.waiting_for
    await sandbox.contract(4242, kind="P4P")  # the operator sorted it out with LinkedIn
    await onboarding.retry(cid, IntegrationType.PREMIUM_JOB_POSTING)
    fixed = await eventually(
        lambda: onboarding.integration_state(cid),
        lambda s: s.hiring_contracts["4242"].status == HiringContractStatus.SET_UP,
    )
    assert fixed.status == ContextStatus.NOT_CONNECTED  # nothing else to look at
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_p4p_refused_then_retried")


@pytest.mark.usefixtures("worker")
async def test_transient_faults_during_setup_are_retried_within_the_call(
    onboarding: IntegrationsClient, sandbox: SandboxControl, cid: str
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id is not None)
    await sandbox.fault("provisionedHiringContracts", failNext=2, status=503)
    record = await onboarding.setup_hiring_contract(cid, 777)
    assert record.status == HiringContractStatus.SET_UP
    assert len(await sandbox.requests("/rest/provisionedHiringContracts")) == 3


async def test_a_contract_asked_for_while_the_workflow_is_busy_is_set_up_in_the_background(
    time_skipping_env: WorkflowEnvironment, sandbox: SandboxControl, settings: Settings, cid: str
) -> None:
    """The setup answers PENDING within its deadline; the run loop sets it up once free."""
    onboarding = IntegrationsClient(time_skipping_env.client, task_queue=settings.task_queue)
    async with running_worker(time_skipping_env.client, settings):
        await onboarding.start_onboarding(cid, "Globex")
        await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
        await sandbox.fault("atsIntegrations", failNext=100_000, status=503)
        saved = await sandbox.widget_save(
            customerId=cid, integrationContext=CONTRACT, jobPosterEmail="a@globex.com"
        )
        await onboarding.widget_saved(cid, saved.json())
        await eventually(lambda: sandbox.requests("/v2/atsIntegrations"), bool)
        setup = asyncio.create_task(onboarding.setup_hiring_contract(cid, 777))
        await time_skipping_env.sleep(timedelta(seconds=100))
        pending = await asyncio.wait_for(setup, timeout=30)
        assert pending.status == HiringContractStatus.PENDING
        assert (pending.last_error or "").startswith(
            "the setup is queued: not answered within 90 s because the workflow is enabling"
        )
        await sandbox.fault("atsIntegrations", failNext=0)
        await time_skipping_env.sleep(timedelta(minutes=10))
        state = await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: s.hiring_contracts["777"].status == HiringContractStatus.SET_UP,
        )
    assert state.hiring_contracts["777"].contract == "urn:li:contract:777"
    assert state.status == ContextStatus.ENABLED
    assert len(await sandbox.requests("/rest/provisionedHiringContracts")) == 1
    handle = time_skipping_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_p4p_pending_then_set_up")


# -- 6. the customer's app carries the ATS's widget domains ----------------------------------


async def test_apps_are_created_with_and_synced_to_the_configured_domains(
    temporal_env: WorkflowEnvironment,
    worker_with_domains: Settings,
    sandbox: SandboxControl,
    cid: str,
) -> None:
    onboarding = IntegrationsClient(temporal_env.client, task_queue=worker_with_domains.task_queue)
    await onboarding.start_onboarding(cid, "Globex")
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id is not None)
    (app,) = [a for a in (await sandbox.state())["apps"] if a["uniqueForeignId"] == cid]
    assert app["validJsSdkDomains"] == [ATS_PAGE]
    assert app["oauth2AuthorizedCallbackUrls"] == [f"{ATS_PAGE}/linkedin/callback"]
    assert (await onboarding.sync_applications(cid))[cid].changed == []
    assert await sandbox.requests(f"/v2/provisionedApplications/{app['key']}") == []


async def test_a_changed_setting_reaches_existing_apps_once(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sandbox: SandboxControl,
    cid: str,
) -> None:
    onboarding = IntegrationsClient(temporal_env.client, task_queue=settings.task_queue)
    async with running_worker(temporal_env.client, with_domains(settings, ATS_PAGE)):
        await onboarding.start_onboarding(cid, "Globex")
        await eventually(
            lambda: onboarding.integration_state(cid), lambda s: s.client_id is not None
        )
    async with running_worker(temporal_env.client, with_domains(settings, NEW_ATS_PAGE)):
        refused = await sandbox.widget_save(
            customerId=cid,
            integrationContext="urn:li:contract:5",
            jobPosterEmail="a@b.co",
            origin=NEW_ATS_PAGE,
        )
        assert "Domain validation failed" in refused.json()["message"]
        first = await onboarding.sync_applications(cid)
        assert first[cid].changed == ["oauth2AuthorizedCallbackUrls", "validJsSdkDomains"]
        second = await onboarding.sync_applications(cid)
        assert second[cid].changed == []
        state: IntegrationState = await onboarding.integration_state(cid)
        assert state.application_sync is not None and state.application_sync.changed == []
    updates = [
        e for e in await sandbox.requests("/v2/provisionedApplications/") if e["method"] == "POST"
    ]
    assert len(updates) == 1
    assert updates[0]["body"]["patch"]["$set"]["validJsSdkDomains"] == [NEW_ATS_PAGE]
    loaded = await sandbox.widget_save(
        customerId=cid,
        integrationContext="urn:li:contract:5",
        jobPosterEmail="a@b.co",
        origin=NEW_ATS_PAGE,
    )
    assert loaded.status_code == 200
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_application_synced")


# -- 3. Recruiter System Connect, by the types LinkedIn keys ---------------------------------


RSC_TYPES = (
    IntegrationType.ONE_CLICK_EXPORT,
    IntegrationType.IN_ATS_INDICATOR,
    IntegrationType.PROFILE_PLUGIN,
)


async def onboard_rsc(
    onboarding: IntegrationsClient, sandbox: SandboxControl, cid: str
) -> list[IntegrationState]:
    """The RSC company bundle onboarded and saved for organization 77: each type ENABLED."""
    started = await onboarding.start_onboarding(cid, "Globex", ["RECRUITER_SYSTEM_CONNECT_COMPANY"])
    assert started == [f"integration/{cid}/{kind}" for kind in RSC_TYPES]
    await eventually(
        lambda: onboarding.integration_state(cid, IntegrationType.PROFILE_PLUGIN),
        lambda s: s.client_id is not None,
    )
    saved = await sandbox.widget_save(
        customerId=cid,
        integrationType="RECRUITER_SYSTEM_CONNECT_COMPANY",
        integrationContext="urn:li:organization:77",
    )
    await onboarding.widget_saved(cid, saved.json())
    return [
        await eventually(
            lambda kind=kind: onboarding.integration_state(cid, kind),  # type: ignore[misc]
            lambda s: s.status == ContextStatus.ENABLED,
        )
        for kind in RSC_TYPES
    ]


@pytest.mark.usefixtures("worker")
async def test_an_rsc_bundle_onboards_each_type_it_enables(
    onboarding: IntegrationsClient, sandbox: SandboxControl, cid: str
) -> None:
    for state in await onboard_rsc(onboarding, sandbox, cid):
        assert list(state.contexts) == ["urn:li:organization:77"]


@pytest.mark.usefixtures("worker")
async def test_a_customers_workflows_provisioning_at_once_share_one_app(
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    cid: str,
) -> None:
    """A bundle starts several workflows that create the app together: one wins, all use it."""
    await sandbox.fault("provisionedApplications", latencyMs=300)  # all look before any creates
    await onboarding.start_onboarding(cid, "Globex", ["RECRUITER_SYSTEM_CONNECT_COMPANY"])
    kinds = (
        IntegrationType.ONE_CLICK_EXPORT,
        IntegrationType.IN_ATS_INDICATOR,
        IntegrationType.PROFILE_PLUGIN,
    )
    states = [
        await eventually(
            lambda kind=kind: onboarding.integration_state(cid, kind),  # type: ignore[misc]
            lambda s: s.client_id is not None,
            within=30,
        )
        for kind in kinds
    ]
    assert len({s.client_id for s in states}) == 1
    assert all(s.status == ContextStatus.NOT_CONNECTED for s in states)
    creates = [
        e for e in await sandbox.requests("/v2/provisionedApplications") if e["method"] == "POST"
    ]
    assert len(creates) >= 2 and sorted(e["status"] for e in creates)[0] == 201
    for kind in kinds:
        handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, kind))
        await record_history(handle, f"integration_app_shared_{kind.lower()}")
