"""`linkedin-ats demo`: a scripted tour of the running stack, against the sandbox."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console

from cli.up import free_port
from client.applications import ApplicationsClient, UnknownApplication
from client.integrations import IntegrationsClient
from client.jobs import JobsClient
from client.webhooks import WebhooksClient
from domain.applications import ActionRequest, ApplicationView, application_workflow_id
from domain.integration_workflow import ContextStatus, IntegrationState, integration_workflow_id
from domain.integrations import IntegrationType
from domain.job_workflow import JobState, Operation, job_workflow_id
from settings import Settings

PJP = IntegrationType.PREMIUM_JOB_POSTING
DESCRIPTION = (
    "Globex is hiring a backend engineer to build durable, boring systems that keep "
    "working when everything around them does not. You will own services end to end."
)


def widget_save_request(
    settings: Settings, customer: str, contract: str, poster: str
) -> tuple[str, dict[str, Any]]:
    """The sandbox call for a customer saving the widget, its callback aimed at our API."""
    api = f"http://{settings.api_host}:{settings.api_port}"
    token = settings.api_token.get_secret_value()
    return f"http://127.0.0.1:{settings.sandbox_port}/sandbox/widget/save", {
        "customerId": customer,
        "integrationContext": contract,
        "jobPosterEmail": poster,
        "callbackUrl": f"{api}/v1/customers/{customer}/widget-callback",
        "callbackHeaders": {"Authorization": f"Bearer {token}"},
    }


class Tour:
    def __init__(
        self,
        settings: Settings,
        onboarding: IntegrationsClient,
        jobs: JobsClient,
        webhooks: WebhooksClient,
        applications: ApplicationsClient,
        console: Console,
    ) -> None:
        self.settings = settings
        self.onboarding = onboarding
        self.jobs = jobs
        self.webhooks = webhooks
        self.applications = applications
        self.say = console.print
        self.ui = f"http://127.0.0.1:{settings.temporal_ui_port}/namespaces/default/workflows/"

    def link(self, workflow_id: str) -> str:
        return self.ui + quote(workflow_id, safe="")

    async def save_widget(self, customer: str, contract: str, poster: str) -> None:
        """The customer saves LinkedIn's widget; its callback goes to our API."""
        url, body = widget_save_request(self.settings, customer, contract, poster)
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(url, json=body)
        response.raise_for_status()
        self.say(
            f"  {customer} saved the widget for {contract} with poster {poster or '(none)'}"
            f" → callback answered {response.headers.get('x-sandbox-callback-status')}"
        )

    async def follow(
        self,
        customer: str,
        done: Callable[[IntegrationState], bool],
        seen: int = 0,
        within: float = 60,
    ) -> IntegrationState:
        """Print each new transition of the customer's PJP integration until `done`."""
        deadline = time.monotonic() + within
        while True:
            state = await self.onboarding.integration_state(customer, PJP)
            transitions = sorted(
                (t for c in state.contexts.values() for t in c.transitions), key=lambda t: t.at
            )
            for transition in transitions[seen:]:
                self.say(
                    f"    {transition.at:%H:%M:%S}  {transition.status:<15} {transition.reason}"
                )
            seen = len(transitions)
            if done(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{customer}: still {state.status}: {state.waiting_for}")
            await asyncio.sleep(0.3)

    async def onboard(self, customer: str, name: str, contract: str) -> int:
        await self.onboarding.start_onboarding(customer, name, [PJP])
        workflow_id = integration_workflow_id(customer, PJP)
        self.say(f"[bold]{name}[/bold]: onboarding started — {self.link(workflow_id)}")
        await self.follow(customer, lambda s: s.client_id is not None)
        await self.save_widget(customer, contract, f"recruiter@{customer}.example.com")
        state = await self.follow(customer, lambda s: s.status == ContextStatus.ENABLED)
        return sum(len(c.transitions) for c in state.contexts.values())

    async def job_life(self, customer: str, contract: str) -> None:
        external_id = f"demo-{int(time.time())}"
        link = self.link(job_workflow_id(customer, external_id))
        self.say(f"[bold]A job[/bold] {external_id} — {link}")
        job = demo_job(customer, external_id)
        steps: list[tuple[str, Callable[[], Awaitable[Operation]]]] = [
            ("create (BASIC)", lambda: self.jobs.create(customer, job, wait=True)),
            (
                "upgrade to PREMIUM",
                lambda: self.jobs.upgrade(customer, external_id, contract, wait=True),
            ),
            ("renew", lambda: self.jobs.renew(customer, external_id, wait=True)),
            ("downgrade to BASIC", lambda: self.jobs.downgrade(customer, external_id, wait=True)),
            ("close", lambda: self.jobs.close(customer, external_id, wait=True)),
        ]
        for label, step in steps:
            operation = await step()
            state = await self.jobs.state(customer, external_id)
            detail = (
                f"jobId {state.job_id}  {state.job_posting_url}  "
                f"{state.listing_type} {state.listing_status}"
            )
            if state.expire_at:
                detail += f"  expires {state.expire_at:%Y-%m-%d}"
            self.say(f"  {label:<20} {operation.outcome:<10} {detail}")
            if operation.outcome != "SUCCEEDED":
                raise RuntimeError(f"{label} {operation.outcome}: {operation.error}")
            if label.startswith("upgrade"):
                self.say("    LinkedIn kept the jobId and URL (inline upgrade)")
            if label.startswith("downgrade"):
                old = state.replaced_listings[-1]
                self.say(
                    f"    new listing; the old one was jobId {old.job_id} {old.job_posting_url}",
                )

    async def linkedin_talks_back(self, customer: str) -> None:
        """LinkedIn, played by the sandbox, validates our webhook, takes a job down, and
        asks for the customer's jobs again; the job hears of both."""
        sandbox = f"http://127.0.0.1:{self.settings.sandbox_port}"
        door = f"http://{self.settings.api_host}:{self.settings.api_port}/linkedin/webhook"
        external_id = f"talks-back-{int(time.time())}"
        link = self.link(job_workflow_id(customer, external_id))
        self.say(f"[bold]LinkedIn talks back[/bold] — {link}")
        async with httpx.AsyncClient(base_url=sandbox, timeout=30) as linkedin:
            (await linkedin.post("/sandbox/webhooks", json={"url": door})).raise_for_status()
            self.say(f"  LinkedIn validated {door} with a challenge, and will sign what it sends")
            await self.jobs.create(customer, demo_job(customer, external_id), wait=True)
            change = {"customerId": customer, "listingStatus": "NOT_LISTED"}
            change["reason"] = "Closed after member reports"
            (
                await linkedin.post(f"/sandbox/jobs/{external_id}/change", json=change)
            ).raise_for_status()
            state = await self._job_until(customer, external_id, "UNLISTED_BY_LINKEDIN")
            self.say(
                f"  LinkedIn took the job down; it reads {state.status} "
                f"(LinkedIn says: {state.linked_in_status_message})"
            )
            resync = {"customerId": customer, "externalJobPostingIds": [external_id]}
            (await linkedin.post("/sandbox/resync", json=resync)).raise_for_status()
            await self._job_until(customer, external_id, resent=True)
            self.say("  LinkedIn asked for the job again: it was resent as one UPDATE")
        await self.jobs.close(customer, external_id, wait=True)

    async def a_candidate_applies(self, customer: str) -> None:
        """Apply Connect: a job with on-site questions, a candidate applying through LinkedIn
        (the sandbox), the application and its resume with us; the ATS marks it viewed, then
        rejected, and LinkedIn hears each once."""
        sandbox = f"http://127.0.0.1:{self.settings.sandbox_port}"
        external_id = f"apply-{int(time.time())}"
        await self.jobs.create(customer, apply_job(customer, external_id), wait=True)
        self.say(f"[bold]A candidate applies[/bold] to {external_id} (Apply Connect)")
        resume = b"%PDF-1.7 Ada Lovelace, resume"
        body = {
            "customerId": customer,
            "candidate": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
            "answers": {"years": 9, "authorized": "YES"},
            "resume": base64.b64encode(resume).decode(),
        }
        async with httpx.AsyncClient(base_url=sandbox, timeout=30) as linkedin:
            applied = await linkedin.post(f"/sandbox/jobs/{external_id}/apply", json=body)
            applied.raise_for_status()
            urn = str(applied.json()["jobApplicationId"])
            key = urn.rsplit(":", 1)[-1]
            link = self.link(application_workflow_id(customer, key))
            self.say(f"  LinkedIn delivered {urn}, signed — {link}")
            view = await self._application_until(customer, key)
            sizes = ", ".join(f"{d.kind} {d.size} bytes" for d in view.documents)
            self.say(f"  application {key} is {view.status}: {sizes}, sealed in the document store")
            for action in ("APPLICATION_VIEWED", "APPLICATION_REJECTED"):
                request = ActionRequest(action=action, performed_at=datetime.now(UTC))
                await self.applications.record_action(customer, key, request, f"demo-{action}")
            deadline = time.monotonic() + 60
            while True:
                journal = (await linkedin.get("/sandbox/lifecycle-actions")).json()
                sent = [a["action"] for a in journal if a["jobApplicationId"] == urn]
                if len(sent) >= 2:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"application {key}: LinkedIn heard only {sent}")
                await asyncio.sleep(0.3)
        self.say(f"  the ATS marked it viewed, then rejected: LinkedIn heard {', '.join(sent)}")
        await self.jobs.close(customer, external_id, wait=True)

    async def _application_until(self, customer: str, key: str) -> ApplicationView:
        deadline = time.monotonic() + 60
        while True:
            try:
                view = await self.applications.state(customer, key)
                if view.status == "READY":
                    return view
            except UnknownApplication:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"application {key} is not READY")
            await asyncio.sleep(0.3)

    async def _job_until(
        self, customer: str, external_id: str, status: str | None = None, resent: bool = False
    ) -> JobState:
        deadline = time.monotonic() + 60
        while True:
            state = await self.jobs.state(customer, external_id)
            done = any(
                op.id.startswith("resync-") and op.outcome == "SUCCEEDED" for op in state.operations
            )
            if (status is None or state.status == status) and (done or not resent):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{external_id}: still {state.status}: {state.waiting_for}")
            await asyncio.sleep(0.3)

    @asynccontextmanager
    async def webhook_listener(self, customer: str, expected: int) -> AsyncIterator[None]:
        """Receive the customer's webhooks on loopback, each signature checked, for a while."""
        import uvicorn

        from cli.webhooks import receiver

        port = free_port()
        endpoint = await self.webhooks.register(f"http://127.0.0.1:{port}/", customer)
        received: list[str] = []
        all_in = asyncio.Event()

        def show(event: dict[str, Any], valid: bool) -> None:
            received.append(str(event.get("type")))
            if len(received) >= expected:
                all_in.set()
            mark = "signature ok" if valid else "BAD SIGNATURE"
            self.say(f"    [cyan]webhook[/cyan] {event.get('type'):<22} {event.get('id')}  {mark}")

        app = receiver(lambda: endpoint.secret, show)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        serving = asyncio.create_task(server.serve())
        self.say(f"  webhooks for {customer} go to {endpoint.url} (endpoint {endpoint.id})")
        try:
            yield
            with suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), 30)
        finally:
            await self.webhooks.remove(endpoint.id)
            server.should_exit = True
            await serving

    async def run(self) -> None:
        stamp = time.strftime("%H%M%S")
        globex, initech = f"globex-{stamp}", f"initech-{stamp}"
        globex_contract, initech_contract = "urn:li:contract:555", "urn:li:contract:556"
        seen = await self.onboard(globex, "Globex", globex_contract)
        await self.onboard(initech, "Initech", initech_contract)
        self.say(
            "[bold]Globex[/bold] picks a new default job poster: back to REQUESTED, then ENABLED"
        )
        await self.save_widget(globex, globex_contract, "new.recruiter@globex.example.com")
        await self.follow(
            globex,
            lambda s: (
                s.status == ContextStatus.ENABLED
                and sum(len(c.transitions) for c in s.contexts.values()) >= seen + 2
            ),
            seen=seen,
        )
        async with self.webhook_listener(globex, expected=5):
            await self.job_life(globex, globex_contract)
        await self.linkedin_talks_back(initech)
        async with self.webhook_listener(initech, expected=3):
            await self.a_candidate_applies(initech)
        self.say(
            "[green]Demo complete.[/green] Filter the UI by IntegrationStatus or JobStatus, "
            f"e.g. {self.ui}?query=" + quote('IntegrationStatus="ENABLED"'),
        )


def demo_job(customer: str, external_id: str) -> dict[str, Any]:
    return {
        "externalJobPostingId": external_id,
        "jobPostingOperationType": "CREATE",
        "title": "Backend Engineer",
        "description": DESCRIPTION,
        "companyApplyUrl": f"https://careers.{customer}.example.com/{external_id}",
        "listedAt": int(time.time() * 1000) - 60_000,
        "location": "Springfield",
        "integrationContext": "urn:li:organization:42",
    }


def apply_job(customer: str, external_id: str) -> dict[str, Any]:
    """A job with Apply Connect questions: a resume, years of experience, authorization."""
    radio = {
        "choices": [
            {"symbolicName": "YES", "displayValue": "Yes"},
            {"symbolicName": "NO", "displayValue": "No"},
        ],
        "preferredFormComponent": "RADIO_BUTTONS",
    }
    questions = [
        {
            "partnerQuestionIdentifier": "years",
            "questionText": "Years of backend experience?",
            "required": True,
            "questionDetails": {
                "numericQuestionDetails": {
                    "integerQuestionDetails": {"minValue": 0, "maxValue": 60}
                }
            },
        },
        {
            "partnerQuestionIdentifier": "authorized",
            "questionText": "Are you authorized to work in Springfield?",
            "required": True,
            "questionDetails": {"multipleChoiceQuestionDetails": radio},
        },
    ]
    return {
        **demo_job(customer, external_id),
        "onsiteApplyConfiguration": {
            "questions": {
                "resumeQuestions": {"resumeQuestionRequirement": "REQUIRED"},
                "additionalQuestions": {"customQuestionSets": [{"questions": questions}]},
            }
        },
    }
