"""`make chaos`: a short run is part of the suite, and its auditor is tested on its own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent, WorkflowTaskFailedEventAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from chaos.ats import PARKED_PATIENCE, Ledger, Patience, Requested
from chaos.audit import (
    Findings,
    Received,
    audit_applications,
    audit_jobs,
    audit_linkedin_changes,
    audit_resyncs,
    note_task_failure,
)
from domain.job_workflow import OperationKind

ROOT = Path(__file__).parents[1]
SHORT_RUN = "--seconds 60 --settle 360 --seed 7 --customers 2 --jobs 4"


@pytest.mark.server
def test_a_short_chaos_run_loses_nothing_and_applies_nothing_twice() -> None:
    """One minute of faults and SIGKILLs, then settling; the auditor must find nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "chaos", *SHORT_RUN.split()],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-5000:]
    for column in ("operations", "kills", "lost", "applied twice", "wrong final state", "stuck"):
        assert column in result.stdout


# -- the auditor ----------------------------------------------------------------------------


def at(seconds: float) -> str:
    return datetime.fromtimestamp(1_800_000_000 + seconds, tz=UTC).isoformat()


def ms(seconds: float) -> int:
    return int((1_800_000_000 + seconds) * 1000)


def op(id_: str, kind: str, finished: float | None, outcome: str = "SUCCEEDED") -> dict[str, Any]:
    return {
        "id": id_,
        "kind": kind,
        "outcome": outcome,
        "requested_at": at(0),
        "finished_at": at(finished) if finished is not None else None,
    }


def task(created: float, operation: str, status: str = "SUCCEEDED") -> dict[str, Any]:
    return {
        "urn": f"urn:li:simpleJobPostingTask:{created}",
        "external_id": "j1",
        "operation": operation,
        "created_at_ms": ms(created),
        "status": status,
    }


def audit(operations: list[dict[str, Any]], tasks: list[dict[str, Any]], closed: bool) -> Findings:
    ledger = Ledger(jobs={"j1": "c1"})
    ledger.requested = [
        Requested("c1", "j1", OperationKind(o["kind"]), f"k-{o['id']}", o["id"], o["outcome"])
        for o in operations
    ]
    ours = {
        "operations": operations,
        "status": "CLOSED" if any(o["kind"] == "CLOSE" for o in operations) else "LISTED",
        "job_id": "7",
        "listing_type": "BASIC",
        "expire_at": at(1000),
        "posting": {"externalJobPostingId": "j1"},
    }
    linkedin_job = {
        "external_id": "j1",
        "job_id": 7,
        "closed": closed,
        "listing_type": "BASIC",
        "expire_at": ms(1000),
    }
    found = Findings()
    world = {"tasks": tasks, "jobs": [linkedin_job], "integrations": []}
    audit_jobs(ledger, {"j1": ours}, world, found)
    return found


def test_the_auditor_passes_updates_sent_again_and_finds_nothing_else() -> None:
    operations = [op("a", "CREATE", 2), op("b", "UPDATE", 4), op("c", "CLOSE", 6)]
    tasks = [task(1, "CREATE"), task(3, "UPDATE"), task(3.5, "UPDATE"), task(5, "CLOSE")]
    found = audit(operations, tasks, closed=True)
    assert not found.failed, found
    assert found.operations == 3


def test_the_auditor_finds_an_operation_applied_twice() -> None:
    operations = [op("a", "CREATE", 2), op("b", "UPGRADE", 4)]
    tasks = [task(1, "CREATE"), task(3, "UPDATE"), task(3.5, "UPDATE")]
    found = audit(operations, tasks, closed=False)
    assert found.applied_twice == [
        "j1: UPGRADE b sent again after LinkedIn applied it (SUCCEEDED, SUCCEEDED)"
    ]


def test_sending_again_after_linkedin_failed_the_element_is_not_applying_twice() -> None:
    operations = [op("a", "CREATE", 2), op("b", "RENEW", 4)]
    tasks = [task(1, "CREATE", "FAILED"), task(1.5, "CREATE"), task(3, "RENEW")]
    found = audit(operations, tasks, closed=False)
    assert not found.failed, found
    assert found.sent_again == 1


def test_the_auditor_finds_a_success_linkedin_never_saw() -> None:
    found = audit([op("a", "CREATE", 2), op("b", "RENEW", 4)], [task(1, "CREATE")], closed=False)
    assert found.lost == ["j1: RENEW b SUCCEEDED; LinkedIn never did it"]


def test_the_auditor_finds_a_wrong_state_and_a_stuck_operation() -> None:
    operations = [op("a", "CREATE", 2), op("b", "RENEW", None, outcome="RUNNING")]
    found = audit(operations, [task(1, "CREATE")], closed=True)
    assert any("closed=True" in w for w in found.wrong), found.wrong
    assert found.stuck == ["j1: RENEW b is RUNNING"]


@workflow.defn(name="slow-to-close", sandboxed=False)
class SlowToClose:
    """Holds its only workflow task open, so a signal sent meanwhile meets its close."""

    @workflow.run
    async def run(self) -> None:
        time.sleep(1.0)  # noqa: ASYNC251 - holds the task open on purpose (unsandboxed)

    @workflow.signal
    def late(self) -> None:
        pass


async def test_a_close_sent_back_for_a_late_signal_is_not_a_finding(
    temporal_env: WorkflowEnvironment,
) -> None:
    """The real server sends the close back (UnhandledCommand) and runs the task again."""
    client, task_queue = temporal_env.client, f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[SlowToClose]):
        handle = await client.start_workflow(
            SlowToClose.run, id=f"slow-{uuid.uuid4()}", task_queue=task_queue
        )
        await asyncio.sleep(0.3)
        await handle.signal(SlowToClose.late)
        await handle.result()
    found = Findings()
    async for event in handle.fetch_history_events():
        note_task_failure(handle.id, event, found)
    assert found.tasks_redone == [f"{handle.id}: UnhandledCommand"]
    assert not found.failed, found


def test_a_nondeterministic_task_is_a_finding() -> None:
    event = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        workflow_task_failed_event_attributes=WorkflowTaskFailedEventAttributes(
            cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
            failure=Failure(message="[TMPRL1100] Nondeterminism"),
        ),
    )
    found = Findings()
    note_task_failure("job/c/j2", event, found)
    assert found.task_failures == ["job/c/j2: [TMPRL1100] Nondeterminism"]
    assert found.failed


def test_the_operator_retries_what_stays_parked_past_its_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("chaos.ats.time.monotonic", lambda: clock[0])
    patience = Patience()
    assert not patience.runs_out(parked=True)  # parked from 100
    clock[0] += PARKED_PATIENCE
    assert not patience.runs_out(parked=True)
    assert not patience.runs_out(parked=False)  # it moved: the count starts again
    assert not patience.runs_out(parked=True)
    clock[0] += PARKED_PATIENCE + 1
    assert patience.runs_out(parked=True)
    assert not patience.runs_out(parked=True)  # a retry starts the count again too


def world_job(external_id: str, closed: bool = False, **changes: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "closed": closed,
        "expire_at": ms(10**6),
        "linkedin_changes": changes,
    }


def our_job(status: str, listing: str = "LISTED", apply: str = "NOT_ENABLED") -> dict[str, Any]:
    return {
        "status": status,
        "listing_status": listing,
        "linked_in_apply_status": apply,
        "promotion_status": "NOT_PROMOTED",
    }


def test_the_auditor_finds_a_change_linkedin_made_that_we_do_not_show() -> None:
    world = {
        "jobs": [
            world_job("seen", listingStatus="NOT_LISTED"),
            world_job("missed", linkedInApplyStatus="ENABLED"),
            world_job("closed-since", closed=True, listingStatus="NOT_LISTED"),
            world_job("untouched"),
        ]
    }
    ours = {
        "seen": our_job("UNLISTED_BY_LINKEDIN", listing="NOT_LISTED"),
        "missed": our_job("LISTED"),
        "closed-since": our_job("CLOSED", listing="NOT_LISTED"),
        "untouched": our_job("LISTED"),
    }
    found = Findings()
    audit_linkedin_changes(ours, world, ms(0), found)
    assert found.linkedin_changes == 2
    assert found.wrong == ["missed: LinkedIn set linkedInApplyStatus ENABLED; we show NOT_ENABLED"]


def test_the_auditor_finds_a_resync_that_missed_linkedins_half_hour() -> None:
    report = {
        "id": "rs-1",
        "requested": ["back", "late", "never", "closed-by-ats"],
        "inTime": ["back"],
        "late": ["late"],
        "never": ["never", "closed-by-ats"],
        "pending": [],
    }
    ours = {"closed-by-ats": our_job("CLOSED")}
    found = Findings()
    audit_resyncs([report], ours, found)
    assert found.wrong == [
        "never: resync rs-1 asked for it; it came back never",
        "late: resync rs-1 asked for it; it came back late",
    ]
    assert found.resyncs == ["1/4 (1 ended here)"]


def linkedin_application(n: int, delivery: str = "DELIVERED", **documents: str) -> dict[str, Any]:
    return {
        "jobApplicationId": f"urn:li:jobApplication:{n}",
        "customerId": "c1",
        "externalJobPostingId": "j1",
        "delivery": delivery,
        "documents": documents or {"resume": "r1", "coverLetter": "l1"},
    }


def received(runs: int = 1, status: str = "READY", **documents: str) -> Received:
    return Received(runs, status, documents or {"resume": "r1", "coverLetter": "l1"})


def test_the_auditor_passes_applications_received_once_with_their_documents_intact() -> None:
    linkedin = [linkedin_application(1), linkedin_application(2, resume="r2")]
    ours = {
        "urn:li:jobApplication:1": received(),
        "urn:li:jobApplication:2": received(resume="r2"),
    }
    # a webhook delivered twice under the same event id is one receipt (the ATS dedupes)
    heard = {"urn:li:jobApplication:1": ["evt_a", "evt_a"], "urn:li:jobApplication:2": ["evt_b"]}
    found = Findings()
    audit_applications(linkedin, {a["jobApplicationId"] for a in linkedin}, ours, heard, found)
    assert not found.failed
    assert (found.applications, found.documents, found.redelivered) == (2, 3, 1)
    assert found.minimum["ambry"] == 3


def test_the_auditor_finds_an_application_lost_twice_stuck_or_with_a_changed_document() -> None:
    linkedin = [
        linkedin_application(1),  # we never got it
        linkedin_application(2),  # received twice, the ATS told twice
        linkedin_application(3),  # its cover letter changed with us
        linkedin_application(4, delivery="FAILED"),  # LinkedIn gave up
        linkedin_application(5),  # still RECEIVED, the ATS never told
    ]
    ours = {
        "urn:li:jobApplication:2": received(runs=2),
        "urn:li:jobApplication:3": received(coverLetter="tampered", resume="r1"),
        "urn:li:jobApplication:5": received(status="RECEIVED", resume="r1"),
    }
    heard = {
        "urn:li:jobApplication:2": ["evt_a", "evt_b"],
        "urn:li:jobApplication:3": ["evt_c"],
    }
    accepted = {"urn:li:jobApplication:6"} | {a["jobApplicationId"] for a in linkedin}
    found = Findings()
    audit_applications(linkedin, accepted, ours, heard, found)
    assert found.lost == [
        "application urn:li:jobApplication:6: the candidate was answered 202; LinkedIn lost it",
        "application urn:li:jobApplication:1: LinkedIn delivered it; we do not have it",
        "application urn:li:jobApplication:4: LinkedIn gave up delivering it",
        "application urn:li:jobApplication:5: the ATS never heard application.received",
        "application urn:li:jobApplication:5: its coverLetter is not with us",
    ]
    assert found.applied_twice == [
        "application urn:li:jobApplication:2: received 2 times",
        "application urn:li:jobApplication:2: the ATS heard 2 distinct receipts",
    ]
    assert found.wrong == [
        "application urn:li:jobApplication:3: its coverLetter differs from LinkedIn's"
    ]
    assert found.stuck == ["application urn:li:jobApplication:5: RECEIVED, not READY"]
