"""CustomerIntegrationWorkflow on the real Temporal dev server, against the sandbox."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.codec import EncryptionCodec
from client.integrations import IntegrationsClient
from domain.integration_workflow import ContextStatus, IntegrationState, integration_workflow_id
from domain.integrations import IntegrationType
from settings import Settings
from tests.sandbox_control import SandboxControl
from tests.temporal_support import TEST_KEYS, eventually, record_history

PJP = IntegrationType.PREMIUM_JOB_POSTING
CONTRACT = "urn:li:contract:555"
pytestmark = pytest.mark.usefixtures("worker")


async def save_widget(
    sandbox: SandboxControl,
    customer: str,
    poster: str = "boss@globex.com",
    context: str = CONTRACT,
) -> list[dict[str, Any]]:
    response = await sandbox.widget_save(
        customerId=customer, integrationContext=context, jobPosterEmail=poster
    )
    response.raise_for_status()
    return list(response.json())


async def provisioned(onboarding: IntegrationsClient, customer: str) -> IntegrationState:
    return await eventually(
        lambda: onboarding.integration_state(customer), lambda s: s.client_id is not None
    )


async def status_is(
    onboarding: IntegrationsClient, customer: str, status: ContextStatus
) -> IntegrationState:
    return await eventually(
        lambda: onboarding.integration_state(customer), lambda s: s.status == status
    )


def decoded_history(value: Any) -> str:
    """The history as text with every payload decrypted and decoded, to search it."""
    if isinstance(value, dict):
        parts = [decoded_history(v) for v in value.values()]
        data = value.get("data")
        if isinstance(data, str):
            metadata = {k: base64.b64decode(v) for k, v in value.get("metadata", {}).items()}
            payload = Payload(metadata=metadata, data=base64.b64decode(data))
            parts.append(EncryptionCodec(TEST_KEYS).open(payload).data.decode("utf-8", "replace"))
        return "\n".join(parts)
    if isinstance(value, list):
        return "\n".join(decoded_history(v) for v in value)
    return json.dumps(value)


def statuses(state: IntegrationState, context: str = CONTRACT) -> list[str]:
    return [t.status for t in state.contexts[context].transitions]


async def test_widget_save_requested_then_enabled(
    cid: str, onboarding: IntegrationsClient, sandbox: SandboxControl
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    state = await provisioned(onboarding, cid)
    assert state.status == "NOT_CONNECTED"
    assert "save the LinkedIn widget" in state.waiting_for
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    state = await status_is(onboarding, cid, ContextStatus.ENABLED)
    assert statuses(state) == ["REQUESTED", "ENABLED"]
    context = state.contexts[CONTRACT]
    assert context.integration_name == ("Acme ATS-Globex LinkedIn Premium Job Posting Integration")
    linkedin_view = (await sandbox.state())["integrations"][0]
    assert linkedin_view["status"] == "ENABLED"
    assert linkedin_view["integration_name"] == context.integration_name


async def test_resave_with_a_new_poster_goes_back_and_forth(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
) -> None:
    await onboarding.widget_saved(cid, [])  # nothing to do yet
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid, "new.boss@globex.com"))
    state = await eventually(
        lambda: onboarding.integration_state(cid),
        lambda s: len(s.contexts[CONTRACT].transitions) == 4,
    )
    assert statuses(state) == ["REQUESTED", "ENABLED", "REQUESTED", "ENABLED"]
    enables = [r for r in await sandbox.requests("/v2/atsIntegrations") if r["method"] == "POST"]
    assert [r["status"] for r in enables] == [200, 200]
    await record_history(
        temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP)),
        "integration_enabled_resaved_enabled_again",
    )


async def test_two_contracts_and_the_least_advanced_headline(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    other = "urn:li:contract:777"
    await sandbox.fault(
        "atsIntegrations",
        failNext=1,
        status=403,
        message="Not enough permissions to access: POST /atsIntegrations",
    )
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid, context=other))
    state = await status_is(onboarding, cid, ContextStatus.NEEDS_ATTENTION)
    assert state.contexts[CONTRACT].status == "ENABLED"
    assert state.contexts[other].status == "NEEDS_ATTENTION"
    assert "Not enough permissions to access: POST /atsIntegrations" in (
        state.contexts[other].last_error or ""
    )
    assert "signal retry" in state.waiting_for
    await onboarding.retry(cid, PJP)
    state = await status_is(onboarding, cid, ContextStatus.ENABLED)
    assert statuses(state, other) == ["REQUESTED", "NEEDS_ATTENTION", "REQUESTED", "ENABLED"]
    await record_history(
        temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP)),
        "integration_needs_attention_then_retry",
    )


async def test_signal_with_start_provisions_and_enables(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    values = [
        {
            "tenantType": "JOBS",
            "onboardingStatus": "REQUESTED",
            "integrationType": "PREMIUM_JOB_POSTING",
            "integrationContext": CONTRACT,
        }
    ]
    await onboarding.widget_saved(cid, values, customer_name="Globex")
    state = await eventually(
        lambda: onboarding.integration_state(cid),
        lambda s: (
            s.contexts.get(CONTRACT) is not None and s.contexts[CONTRACT].customer_has_not_saved
        ),
    )
    # The app did not exist when the widget "fired", so LinkedIn has no record yet.
    assert state.contexts[CONTRACT].status == "REQUESTED"
    assert "No record found to partial update" in (state.contexts[CONTRACT].last_error or "")
    assert state.waiting_for == f"the customer to save the widget for {CONTRACT}"
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    await record_history(
        temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP)),
        "integration_saved_before_the_app_existed",
    )


async def test_already_enabled_counts_as_enabled_after_verify(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    state = await onboarding.enable(cid, PJP, CONTRACT)  # LinkedIn: already enabled
    assert state.contexts[CONTRACT].status == "ENABLED"
    posts = [
        r["status"] for r in await sandbox.requests("/v2/atsIntegrations") if r["method"] == "POST"
    ]
    assert posts == [200, 400]
    await record_history(
        temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP)),
        "integration_enable_update_already_enabled",
    )


async def test_enable_before_the_customer_saved(
    cid: str, onboarding: IntegrationsClient, sandbox: SandboxControl
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    state = await onboarding.enable(cid, PJP, CONTRACT)
    context = state.contexts[CONTRACT]
    assert (context.status, context.customer_has_not_saved) == ("REQUESTED", True)
    assert "No record found to partial update" in (context.last_error or "")
    assert state.waiting_for == f"the customer to save the widget for {CONTRACT}"


async def test_enable_update_refuses_a_context_of_the_wrong_kind(
    cid: str, onboarding: IntegrationsClient, sandbox: SandboxControl
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await onboarding.enable(cid, PJP, "urn:li:organization:1")
    assert "urn:li:contract:<id>" in str(info.value.cause)


async def test_bad_callback_values_are_recorded_not_crashed_on(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
) -> None:
    from domain.integration_workflow import WidgetSave

    await onboarding.start_onboarding(cid, "Globex")
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    await handle.signal(
        "widget_saved",
        WidgetSave(
            values=[
                {
                    "tenantType": "RECRUITER",
                    "integrationType": "PREMIUM_JOB_POSTING",
                    "integrationContext": CONTRACT,
                },
                {
                    "tenantType": "JOBS",
                    "integrationType": "APPLY_WITH_LINKEDIN",
                    "integrationContext": "urn:li:organization:1",
                },
            ]
        ),
    )
    state = await eventually(
        lambda: onboarding.integration_state(cid), lambda s: len(s.rejected_callbacks) == 2
    )
    reasons = [r.reason for r in state.rejected_callbacks]
    assert "tenantType: must be JOBS for PREMIUM_JOB_POSTING" in reasons[0]
    assert reasons[1] == (
        "integrationType APPLY_WITH_LINKEDIN does not belong to this workflow (PREMIUM_JOB_POSTING)"
    )
    assert state.contexts == {}
    await record_history(handle, "integration_callbacks_rejected")


async def test_token_expiry_mid_flow(
    cid: str, onboarding: IntegrationsClient, sandbox: SandboxControl
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    await sandbox.advance(1801)  # every token the worker holds is now expired at LinkedIn
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid, "new@globex.com"))
    await eventually(
        lambda: onboarding.integration_state(cid),
        lambda s: len(s.contexts[CONTRACT].transitions) == 4,
    )
    answers = [r["status"] for r in await sandbox.requests("/v2/atsIntegrations")]
    assert 401 in answers and answers[-1] == 200


async def test_transient_faults_are_retried(
    cid: str, onboarding: IntegrationsClient, sandbox: SandboxControl
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await sandbox.fault("atsIntegrations", failNext=2, status=503)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    answers = [r["status"] for r in await sandbox.requests("/v2/atsIntegrations")]
    assert answers[:2] == [503, 503]


async def test_the_client_secret_never_enters_history(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    from workers.worker import credential_store

    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    stored = await credential_store(settings).get(cid)
    assert stored is not None
    secret = stored.credentials.client_secret.get_secret_value()
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    history = decoded_history((await handle.fetch_history()).to_json_dict())
    assert stored.credentials.client_id in history  # the public id is there...
    assert secret not in history  # ...the secret is not
    raw = (settings.data_dir / "credentials.sqlite").read_bytes()
    assert secret.encode() not in raw  # and it is encrypted at rest


async def test_list_by_status(
    cid: str, onboarding: IntegrationsClient, sandbox: SandboxControl, linkedin: Any
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await onboarding.start_onboarding(f"{cid}-b", "Initech")
    await provisioned(onboarding, cid)
    await provisioned(onboarding, f"{cid}-b")
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    enabled = await eventually(
        lambda: onboarding.list_integrations(status=ContextStatus.ENABLED, customer_id=cid),
        lambda found: len(found) == 1,
    )
    assert enabled[0].workflow_id == f"integration/{cid}/PREMIUM_JOB_POSTING"
    waiting = await eventually(
        lambda: onboarding.list_integrations(
            status=ContextStatus.NOT_CONNECTED, customer_id=f"{cid}-b"
        ),
        lambda found: len(found) == 1,
    )
    assert waiting[0].customer_id == f"{cid}-b"


async def test_every_linkedin_activity_heartbeats_so_a_dead_worker_is_noticed_in_seconds(
    cid: str,
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    temporal_env: WorkflowEnvironment,
) -> None:
    await onboarding.start_onboarding(cid, "Globex")
    await provisioned(onboarding, cid)
    await onboarding.widget_saved(cid, await save_widget(sandbox, cid))
    await status_is(onboarding, cid, ContextStatus.ENABLED)
    handle = temporal_env.client.get_workflow_handle(integration_workflow_id(cid, PJP))
    scheduled = [
        event.activity_task_scheduled_event_attributes
        for event in (await handle.fetch_history()).events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    assert len(scheduled) >= 3
    assert all(a.heartbeat_timeout.seconds == 30 for a in scheduled), scheduled
