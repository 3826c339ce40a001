"""LinkedIn's push events reach us at the customer's callback URL, which its enable
registered (linkedin-inbound.md §5): the sandbox pushes, our door verifies and routes."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from cli.up import free_port
from client.integrations import IntegrationsClient
from domain.integration_workflow import ContextStatus
from domain.integrations import IntegrationType, events_url
from settings import Settings
from tests.sandbox_control import SandboxControl
from tests.temporal_support import eventually
from tests.test_linkedin_inbound import follow_ups
from tests.test_onboarding_steps import onboard_rsc

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The API's public URL known before the worker starts: its enable registers it."""
    port = free_port()
    return settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}", "api_port": port})


async def test_the_enable_registers_the_callback_url_and_linkedins_push_lands_there(
    onboarding: IntegrationsClient,
    sandbox: SandboxControl,
    settings: Settings,
    api: httpx.AsyncClient,
    cid: str,
    temporal_env: WorkflowEnvironment,
) -> None:
    await onboard_rsc(onboarding, sandbox, cid)

    records = {i["integration_type"]: i for i in (await sandbox.state())["integrations"]}
    url = events_url(settings.intake_base_url, cid)
    assert records["ONE_CLICK_EXPORT"]["callback_url"] == url
    assert records["IN_ATS_INDICATOR"]["callback_url"] is None  # one URL a customer

    # Each enable is a status change LinkedIn pushes there, signed with the customer's app
    delivered = await eventually(
        lambda: sandbox.http.get("/sandbox/deliveries"),
        lambda r: any(d["url"] == url and d["status"] == 200 for d in r.json()),
    )
    pushes = [d for d in delivered.json() if d["url"] == url]
    assert {d["type"] for d in pushes} == {"INTEGRATION_STATUS_CHANGE"}
    await eventually(
        lambda: api.get("/v1/linkedin-events", params={"outcome": "ROUTED"}),
        lambda r: any(e["customerId"] == cid for e in r.json()),
    )
    state = await eventually(
        lambda: onboarding.integration_state(cid, IntegrationType.ONE_CLICK_EXPORT),
        lambda s: s.push_verified_at is not None,
    )
    assert state.status == ContextStatus.ENABLED

    # and each push was followed up with its request id (§5: atsIntegrations?q=request)
    answers = await eventually(lambda: follow_ups(temporal_env, cid), lambda found: bool(found))
    assert any("ONE_CLICK_EXPORT: " in answer for answer in answers.values()), answers
    asked = await sandbox.requests("/v2/atsIntegrations")
    assert any(r["query"].startswith("q=request&requestId=") for r in asked), asked
