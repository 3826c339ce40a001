"""Run the sandbox on a loopback port and drive its /sandbox/ control API from tests."""

from __future__ import annotations

import threading
import time
from typing import Any, Self

import httpx
import uvicorn

from cli.up import free_port
from linkedin_sandbox import SandboxSettings, create_app

JOB_POSTINGS = "/rest/simpleJobPostings"
"""Where linkedin-ats posts jobs by default (versioned, as LinkedIn's SDK does): the path
to read the sandbox's journal by. LINKEDIN_ATS_LINKEDIN_VERSIONED_ENDPOINTS=false: /v2/."""
JOB_TASKS = "/rest/simpleJobPostingTasks"
"""Where it reads job tasks by default, likewise."""
JOB_STATUSES = "/v2/jobPostingStatus"
"""Where it reads job statuses: /v2/ only, as LinkedIn's SDK does."""


class ServerThread:
    """Any ASGI app on a real uvicorn server over loopback, in a background thread."""

    def __init__(self, app: Any, port: int | None = None, health: str = "/docs") -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._health = health
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}{self._health}", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server on {self.url} did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class SandboxServer(ServerThread):
    """The sandbox app, with instant tasks unless settings say otherwise."""

    def __init__(self, settings: SandboxSettings | None = None, port: int | None = None) -> None:
        self.settings = settings or SandboxSettings(task_delay_seconds=0)
        super().__init__(create_app(self.settings), port, health="/sandbox/health")


class SandboxControl:
    """The sandbox's control API, as tests use it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=10)

    async def _ok(self, response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json() if response.content else None

    async def reset(self) -> None:
        await self._ok(await self.http.post("/sandbox/reset"))

    async def widget_save(self, **body: Any) -> httpx.Response:
        return await self.http.post("/sandbox/widget/save", json=body)

    async def fault(self, endpoint: str, **fault: Any) -> None:
        await self._ok(await self.http.put(f"/sandbox/faults/{endpoint}", json=fault))

    async def settings(self, **patch: Any) -> None:
        await self._ok(await self.http.patch("/sandbox/settings", json=patch))

    async def advance(self, seconds: float) -> None:
        await self._ok(await self.http.post("/sandbox/clock/advance", params={"seconds": seconds}))

    async def fail_next_tasks(self, message: str, count: int = 1) -> None:
        await self._ok(
            await self.http.post(
                "/sandbox/tasks/fail-next", json={"errorMessage": message, "count": count}
            )
        )

    async def contract(self, contract_id: str | int, **setup: Any) -> None:
        await self._ok(await self.http.put(f"/sandbox/contracts/{contract_id}", json=setup))

    async def campaign(self, campaign_id: str, **setup: Any) -> None:
        await self._ok(await self.http.put(f"/sandbox/campaigns/{campaign_id}", json=setup))

    async def change_at_linkedin(
        self, customer_id: str, external_id: str, **fields: Any
    ) -> dict[str, Any]:
        """LinkedIn changes the job on its side (listingStatus, linkedInApplyStatus, ...),
        and tells the registered webhook, if any."""
        body = {"customerId": customer_id, **fields}
        return dict(
            await self._ok(await self.http.post(f"/sandbox/jobs/{external_id}/change", json=body))
        )

    async def clear_requests(self) -> None:
        await self._ok(await self.http.delete("/sandbox/requests"))

    async def job_submissions(self) -> list[dict[str, Any]]:
        """Every element posted to simpleJobPostings since the journal was cleared, on
        whichever path (/v2/ or /rest/) it went."""
        entries = await self.requests()
        return [
            element
            for entry in entries
            if entry["method"] == "POST" and entry["path"].endswith("/simpleJobPostings")
            for element in (entry["body"] or {}).get("elements", [])
        ]

    async def register_webhook(self, url: str) -> httpx.Response:
        return await self.http.post("/sandbox/webhooks", json={"url": url})

    async def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        params = {"path": path} if path else {}
        return list(await self._ok(await self.http.get("/sandbox/requests", params=params)))

    async def state(self) -> dict[str, Any]:
        return dict(await self._ok(await self.http.get("/sandbox/state")))
