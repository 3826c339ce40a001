"""The integration workflow survives workers, time and long life."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from client.integrations import IntegrationsClient
from domain.integration_workflow import (
    INTEGRATION_WORKFLOW_TYPE,
    STATUS_PUSHED,
    ContextStatus,
    IntegrationInput,
    IntegrationState,
    WidgetSave,
    integration_workflow_id,
)
from domain.integrations import IntegrationType
from linkedin import LinkedInClient
from settings import Settings
from tests.conftest import provision
from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually, record_history
from workers.worker import running_worker

CONTRACT = "urn:li:contract:555"
PJP = IntegrationType.PREMIUM_JOB_POSTING


async def widget_values(sandbox: SandboxControl, cid: str, poster: str) -> list[dict[str, object]]:
    response = await sandbox.widget_save(
        customerId=cid, integrationContext=CONTRACT, jobPosterEmail=poster
    )
    response.raise_for_status()
    return list(response.json())


def transitions(state: IntegrationState) -> list[str]:
    return [t.status for t in state.contexts[CONTRACT].transitions]


async def test_worker_restart_mid_enable_finishes_without_provisioning_twice(
    temporal_env: WorkflowEnvironment, sandbox: SandboxControl, settings: Settings, cid: str
) -> None:
    onboarding = IntegrationsClient(temporal_env.client, task_queue=settings.task_queue)
    async with running_worker(temporal_env.client, settings):
        await onboarding.start_onboarding(cid, "Globex")
        await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
        await sandbox.fault("atsIntegrations", latencyMs=1500)
        await onboarding.widget_saved(cid, await widget_values(sandbox, cid, "boss@globex.com"))
        await eventually(  # the run loop has asked for the enable: its activity is scheduled
            lambda: onboarding.integration_state(cid),
            lambda s: s.round is not None and s.round.current == CONTRACT,
        )
        await asyncio.sleep(0.5)  # the enable call is now in flight
    await sandbox.fault("atsIntegrations", latencyMs=0)
    async with running_worker(temporal_env.client, settings):
        state = await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: s.status == ContextStatus.ENABLED,
            within=60,
        )
    assert transitions(state) == ["REQUESTED", "ENABLED"]
    enables = [
        r["status"] for r in await sandbox.requests("/v2/atsIntegrations") if r["method"] == "POST"
    ]
    assert enables == [200, 400]  # committed as the first worker stopped; then "already enabled"
    creates = [
        r for r in await sandbox.requests("/v2/provisionedApplications") if r["method"] == "POST"
    ]
    assert len(creates) == 1
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await record_history(handle, "integration_worker_restarted_mid_enable")


@pytest.mark.parametrize(
    ("learned_by", "history"),
    [("the periodic verify", "integration_drift_detected"), ("a push", "integration_drift_pushed")],
)
async def test_drift_at_linkedin_is_found_and_enabled_again(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    learned_by: str,
    history: str,
) -> None:
    """The poster is removed on LinkedIn's side and no callback reaches the ATS: the verify
    a day later finds it, or at once the verify LinkedIn's status push brings forward."""
    onboarding = IntegrationsClient(time_skipping_env.client, task_queue=settings.task_queue)
    handle = time_skipping_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    async with running_worker(time_skipping_env.client, settings):
        await onboarding.start_onboarding(cid, "Globex")
        await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
        await onboarding.widget_saved(cid, await widget_values(sandbox, cid, "boss@globex.com"))
        await eventually(
            lambda: onboarding.integration_state(cid), lambda s: s.status == ContextStatus.ENABLED
        )
        await widget_values(sandbox, cid, "")
        if learned_by == "a push":
            await handle.signal(STATUS_PUSHED)
        else:
            await time_skipping_env.sleep(timedelta(hours=25))
        state = await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: len(s.contexts[CONTRACT].transitions) == 4,
        )
    assert transitions(state) == ["REQUESTED", "ENABLED", "REQUESTED", "ENABLED"]
    drift = state.contexts[CONTRACT].transitions[2]
    assert drift.reason == "drift: LinkedIn reports REQUESTED; enabling again"
    # after the verify that enabled it, which ran moments before the ENABLED transition
    waited = drift.at - state.contexts[CONTRACT].transitions[1].at
    if learned_by == "a push":
        assert waited < timedelta(hours=1)
        assert state.verify_pushed_at is None and state.push_verified_at is not None
    else:
        assert waited >= timedelta(hours=24) - timedelta(minutes=1)
    await record_history(handle, history)


async def test_continue_as_new_carries_the_state(
    temporal_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    cid: str,
    worker: None,
) -> None:
    client = temporal_env.client
    handle = await client.start_workflow(
        INTEGRATION_WORKFLOW_TYPE,
        IntegrationInput(customer_id=cid, customer_name="Globex", max_history_length=25),
        id=integration_workflow_id(cid, PJP),
        task_queue=settings.task_queue,
    )
    first_run = handle.first_execution_run_id or (await handle.describe()).run_id
    onboarding = IntegrationsClient(client, task_queue=settings.task_queue)
    await eventually(lambda: onboarding.integration_state(cid), lambda s: s.client_id)
    for poster in ("a@globex.com", "b@globex.com"):
        await handle.signal(
            "widget_saved", WidgetSave(values=await widget_values(sandbox, cid, poster))
        )
        await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: s.status == ContextStatus.ENABLED and not s.contexts[CONTRACT].enable_pending,
        )
    description = await eventually(
        lambda: client.get_workflow_handle(handle.id).describe(), lambda d: d.run_id != first_run
    )
    state = await onboarding.integration_state(cid)
    assert description.run_id != first_run
    assert transitions(state) == ["REQUESTED", "ENABLED", "REQUESTED", "ENABLED"]
    assert state.client_id is not None
    creates = [
        r for r in await sandbox.requests("/v2/provisionedApplications") if r["method"] == "POST"
    ]
    assert len(creates) == 1
    await record_history(
        client.get_workflow_handle(handle.id, run_id=first_run), "integration_continued_as_new"
    )


async def test_an_app_we_did_not_create_is_looked_at_again_past_continue_as_new(
    time_skipping_env: WorkflowEnvironment,
    sandbox: SandboxControl,
    settings: Settings,
    linkedin: LinkedInClient,
    cid: str,
) -> None:
    """Provisioning may wait for a person for months: its history must not grow unbounded."""
    await provision(linkedin, cid)  # at LinkedIn, its secret in nobody's store
    client = time_skipping_env.client
    onboarding = IntegrationsClient(client, task_queue=settings.task_queue)
    async with running_worker(client, settings):
        handle = await client.start_workflow(
            INTEGRATION_WORKFLOW_TYPE,
            IntegrationInput(
                customer_id=cid,
                customer_name="Globex",
                provision_grace=timedelta(seconds=1),
                max_history_length=60,
            ),
            id=integration_workflow_id(cid, PJP),
            task_queue=settings.task_queue,
        )
        first_run = handle.first_execution_run_id or (await handle.describe()).run_id
        await time_skipping_env.sleep(timedelta(hours=2))
        description = await eventually(
            lambda: client.get_workflow_handle(handle.id).describe(),
            lambda d: d.run_id != first_run,
        )
        state = await eventually(
            lambda: onboarding.integration_state(cid),
            lambda s: s.status == ContextStatus.NEEDS_ATTENTION,
        )
    assert description.run_id != first_run
    assert state.client_id is None and "we did not create it" in (state.last_error or "")
    assert state.provisioning.relooks > 3  # the backoff carries over: it does not start again
    await record_history(
        client.get_workflow_handle(handle.id, run_id=first_run),
        "integration_provisioning_continued_as_new",
    )
