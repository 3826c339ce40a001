"""Apply Connect measured through our HTTP API as LinkedIn calls it, on one dev server.

    make bench    # or: .venv/bin/python -m bench.applications [--applications N --jobs M]

Prints, in markdown: (1) application intake, 100 concurrent signed POSTs to
/linkedin/customers/{id}/applications (p50/p99 of the 200, answered once the application
is durable in Temporal), beside 100 concurrent bare workflow starts on the same server,
each round on a quiet engine (the previous round's applications all READY); (2)
applications end to end: candidates apply through the sandbox (resume and cover letter),
LinkedIn delivers to our API, the worker downloads and seals the documents and the ATS
hears `application.received`: applications/s, and every document's sha256 checked
against the bytes the candidate sent. The API, the sandbox and the dev server run in
their own processes, as does the worker. No assertion on time: the numbers are
for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import sys
import tempfile
import time
import uuid
from typing import Any

import httpx
import structlog
from pydantic import SecretStr
from temporalio.client import Client

from bench.http_api import api_and_worker
from bench.jobs import bench_settings, machine, onboard, sandbox_process, table, wire
from bench.linkedin_inbound import CONCURRENT, ROUNDS, LinkedInSender, p99, quantiles
from bench.trivial import TrivialWorkflow
from cli.up import free_port
from cli.webhooks import receiver
from client.applications import ApplicationsClient, UnknownApplication
from client.jobs import JobsClient
from client.webhooks import WebhooksClient
from domain.applications import ApplicationStatus
from domain.linkedin_events import SignatureForm, sign
from settings import Settings
from tests.sandbox_control import SandboxControl, ServerThread
from tests.temporal_support import TEST_KEYS_TEXT, dev_server, eventually
from workers.worker import credential_store

RESUME_BYTES = 64 * 1024
COVER_LETTER_BYTES = 8 * 1024
IN_FLIGHT = 20
"""Candidates applying at the same time (sandbox POSTs in flight)."""


def configuration() -> dict[str, Any]:
    """A job's on-site questions: a resume (required), a cover letter, one number."""
    return {
        "questions": {
            "resumeQuestions": {"resumeQuestionRequirement": "REQUIRED"},
            "coverLetterQuestions": {"coverLetterQuestionRequirement": "OPTIONAL"},
            "additionalQuestions": {
                "customQuestionSets": [
                    {
                        "questions": [
                            {
                                "partnerQuestionIdentifier": "years",
                                "questionText": "Years of experience?",
                                "required": True,
                                "questionDetails": {
                                    "numericQuestionDetails": {
                                        "integerQuestionDetails": {"minValue": 0, "maxValue": 60}
                                    }
                                },
                            }
                        ]
                    }
                ]
            },
        }
    }


def application_body(n: int) -> bytes:
    """What LinkedIn POSTs for one application, without documents (intake only)."""
    return json.dumps(
        {
            "type": "EXPORT_JOB_APPLICATION",
            "jobApplicationId": f"urn:li:jobApplication:{n}",
            "jobApplicant": f"urn:li:person:bench{n}",
            "appliedAt": int(time.time() * 1000),
            "questionResponses": {
                "contactInformationQuestionResponses": {
                    "firstNameAnswer": {"value": "Bench"},
                    "lastNameAnswer": {"value": f"Candidate {n}"},
                    "emailAnswer": {"value": f"c{n}@bench.example.com"},
                }
            },
        }
    ).encode()


async def ready(applications: ApplicationsClient, customer: str, keys: list[str]) -> int:
    """How many of `keys` are past RECEIVED: the worker has run their first task."""
    done = 0
    for key in keys:
        try:
            view = await applications.state(customer, key)
        except UnknownApplication:
            continue
        done += view.status != ApplicationStatus.RECEIVED
    return done


async def intake(
    client: Client, applications: ApplicationsClient, api_url: str, customer: str, child: str
) -> None:
    trivial_queue = f"trivial-{uuid.uuid4()}"  # no worker: a start is all that is timed

    async def start(i: int) -> float:
        started = time.perf_counter()
        await client.start_workflow(
            TrivialWorkflow.run, i, id=f"start-{uuid.uuid4()}", task_queue=trivial_queue
        )
        return time.perf_counter() - started

    door = f"/linkedin/customers/{customer}/applications"
    signed_with = SignatureForm.HMAC_OF_PREFIXED_BODY

    ours: list[float] = []
    engine: list[float] = []
    for round_ in range(ROUNDS):
        engine += await asyncio.gather(*(start(i) for i in range(CONCURRENT)))
        numbers = [100_000 + round_ * CONCURRENT + i for i in range(CONCURRENT)]
        bodies = [application_body(n) for n in numbers]
        async with LinkedInSender(api_url) as sender:  # connections of its own each round
            ours += await asyncio.gather(
                *(
                    sender.post(door, body, {"X-LI-Signature": sign(body, child, signed_with)})
                    for body in bodies
                )
            )
        await quiet(
            applications,
            customer,
            [str(100_000 + round_ * CONCURRENT + i) for i in range(CONCURRENT)],
        )
    table(
        f"(1) application intake: {CONCURRENT} concurrent signed POSTs, {ROUNDS} rounds, each "
        "answered once durable in Temporal",
        ("path", "requests", "p50", "p99", "max"),
        [
            (
                "`POST /linkedin/customers/{id}/applications` (our API)",
                len(ours),
                *quantiles(ours),
            ),
            ("bare `start_workflow` (the engine)", len(engine), *quantiles(engine)),
            ("ratio p99 ours / engine", "", "", f"{p99(ours) / p99(engine):.1f}", ""),
        ],
    )


async def quiet(applications: ApplicationsClient, customer: str, keys: list[str]) -> None:
    """Until the worker has run every one of `keys`: the next round meets a quiet engine."""
    await eventually(
        lambda: ready(applications, customer, keys), lambda n: n == len(keys), within=600
    )


class Inbox:
    """The ATS's webhook endpoint: every valid `application.received`, by application."""

    def __init__(self) -> None:
        self.secret = ""
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.invalid = 0

    def __call__(self, event: dict[str, Any], valid: bool) -> None:
        if not valid:
            self.invalid += 1
        elif event.get("type") == "application.received":
            data = event["data"]
            self.received.setdefault(str(data["applicationId"]), []).append(data)


async def end_to_end(
    client: Client,
    settings: Settings,
    sandbox: SandboxControl,
    api_url: str,
    count: int,
    job_count: int,
) -> None:
    customer = await onboard(client, sandbox, settings)
    inbox = Inbox()
    server = ServerThread(receiver(lambda: inbox.secret, inbox), health="/healthz").start()
    try:
        endpoint = await WebhooksClient.from_settings(client, settings).register(
            server.url + "/", customer
        )
        inbox.secret = endpoint.secret
        jobs = JobsClient(client, task_queue=settings.task_queue, intake_base_url=api_url)
        ids = [f"apply-{i}" for i in range(job_count)]
        for external_id in ids:
            body = {**wire(external_id), "onsiteApplyConfiguration": configuration()}
            await jobs.create(customer, body, wait=True)
        sent: dict[str, dict[str, str]] = {}
        """application key → document kind → sha256 of the bytes the candidate sent."""
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def apply(n: int) -> None:
            resume, letter = (
                secrets.token_bytes(RESUME_BYTES),
                secrets.token_bytes(COVER_LETTER_BYTES),
            )
            body = {
                "customerId": customer,
                "candidate": {"firstName": "Bench", "lastName": f"N{n}", "email": f"{n}@b.example"},
                "answers": {"years": n % 60},
                "resume": base64.b64encode(resume).decode(),
                "coverLetter": base64.b64encode(letter).decode(),
            }
            async with gate:
                answer = await candidates.post(
                    f"/sandbox/jobs/{ids[n % job_count]}/apply", json=body
                )
            answer.raise_for_status()
            key = str(answer.json()["jobApplicationId"]).rsplit(":", 1)[-1]
            sent[key] = {
                "resume": hashlib.sha256(resume).hexdigest(),
                "coverLetter": hashlib.sha256(letter).hexdigest(),
            }

        # fresh connections (an idle one the sandbox closed would fail the first POST)
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        candidates = httpx.AsyncClient(base_url=sandbox.url, limits=limits, timeout=120)
        started = time.perf_counter()
        async with candidates:
            await asyncio.gather(*(apply(n) for n in range(count)))
        applied = time.perf_counter() - started
        await eventually(lambda: _noop(), lambda _: set(sent) <= set(inbox.received), within=3600)
        took = time.perf_counter() - started
        twice = sum(1 for events in inbox.received.values() if len(events) > 1)
        intact = 0
        for key, digests in sent.items():
            events = inbox.received.get(key) or [{}]
            heard = {d["kind"]: d.get("sha256") for d in events[0].get("documents", [])}
            intact += heard == digests
    finally:
        server.stop()
    table(
        f"(2) applications end to end: {count} candidates over {job_count} jobs, {IN_FLIGHT} "
        f"applying at a time, resume {RESUME_BYTES // 1024} KiB + cover letter "
        f"{COVER_LETTER_BYTES // 1024} KiB each, to `application.received` at the ATS",
        (
            "applications",
            "all applied at LinkedIn",
            "all at the ATS",
            "applications/s",
            "received twice",
            "documents intact (sha256)",
        ),
        [
            (
                count,
                f"{applied:.1f} s",
                f"{took:.1f} s",
                f"{count / took:.1f}",
                twice,
                f"{intact}/{len(sent)}",
            )
        ],
    )


async def _noop() -> None:
    return None


async def main(count: int, job_count: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    machine()
    print(f"\nload average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    env = await dev_server()
    try:
        async with sandbox_process() as sandbox:
            with tempfile.TemporaryDirectory() as data:
                port = free_port()
                settings = bench_settings(
                    sandbox,
                    data,
                    payload_keys=SecretStr(TEST_KEYS_TEXT),
                    api_port=port,
                    public_url=f"http://127.0.0.1:{port}",
                )
                async with api_and_worker(env.client, settings, sandbox, None, port) as processes:
                    api_url = processes.api_url
                    customer = await onboard(env.client, sandbox, settings)
                    stored = await credential_store(settings).get(customer)
                    assert stored is not None
                    child = stored.credentials.client_secret.get_secret_value()
                    applications = ApplicationsClient(env.client, task_queue=settings.task_queue)
                    await intake(env.client, applications, api_url, customer, child)
                    await end_to_end(env.client, settings, sandbox, api_url, count, job_count)
    finally:
        await env.shutdown()
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=500, help="candidates applying")
    parser.add_argument("--jobs", type=int, default=10, help="jobs they apply to")
    args = parser.parse_args()
    asyncio.run(main(args.applications, args.jobs))


if __name__ == "__main__":
    cli()
    sys.stdout.flush()
    os._exit(0)  # sdk-python#300: leave before interpreter teardown
