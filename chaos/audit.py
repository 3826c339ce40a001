"""LinkedIn's view (the sandbox's world and journal) against ours (the API) after a run.

Each simpleJobPostings element LinkedIn accepted is a task in its world, persisted across
sandbox restarts. Operations of one job run one at a time, so every task belongs to the
first operation that finished after LinkedIn created it: an operation with more than one
task sent its element more than once. Sending again after LinkedIn failed the element is what
makes the operation happen once (a lost answer hid the failure); sending again after
LinkedIn applied it (or while it was still processing it) is applied twice, except for
UPDATE: jobPostingStatus cannot show an UPDATE was applied, and the same whole job again
is harmless by design.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from chaos.ats import Ledger
from domain.job_workflow import OperationKind
from linkedin_sandbox.faults import endpoint_of
from workers.replay import ReplayTally, every_run, replay

RESENDABLE = {OperationKind.UPDATE}
ENDS = float("inf")


@dataclass
class Findings:
    operations: int = 0
    lost: list[str] = field(default_factory=list)
    applied_twice: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    task_failures: list[str] = field(default_factory=list)
    """Workflows with a WorkflowTaskFailed event: a bug in workflow code, or nondeterminism."""
    tasks_redone: list[str] = field(default_factory=list)
    """Workflows whose close the server sent back because a signal came meanwhile
    (UnhandledCommand): Temporal's guard against losing that signal, not a fault."""
    replay: ReplayTally = field(default_factory=ReplayTally)
    """Every run of the chaos run replayed with today's code; a run that replays only after
    a learned split would fail a worker's task once, so it counts as one that does not."""
    broken: list[str] = field(default_factory=list)
    """The run itself went wrong (a driver raised): the audit is incomplete."""
    sent_again: int = 0
    """Elements sent again for one operation, whatever LinkedIn did with the first."""
    calls: Counter[str] = field(default_factory=Counter)
    minimum: Counter[str] = field(default_factory=Counter)
    linkedin_changes: int = 0
    """Jobs LinkedIn changed on its own side whose final state was compared with ours."""
    resyncs: list[str] = field(default_factory=list)
    """Each resync LinkedIn requested: how many jobs came back in time, of how many it
    named, and how many of those had ended here (not re-posted)."""
    applications: int = 0
    """Applications LinkedIn (the sandbox) accepted from candidates, each audited."""
    documents: int = 0
    """Their documents, each downloaded through our API and checked against LinkedIn's."""
    redelivered: int = 0
    """`application.received` deliveries the ATS got more than once (the same event id)."""

    @property
    def failed(self) -> bool:
        problems = (self.lost, self.applied_twice, self.wrong, self.stuck, self.task_failures)
        return any(problems) or bool(self.broken) or bool(self.replay_failures)

    @property
    def replay_failures(self) -> list[str]:
        failed = [f"{run}: {error}" for run, error in self.replay.failed.items()]
        return failed + [f"{run}: replays only once split" for run in self.replay.healed]


def _ms(value: str | None) -> float:
    if value is None:
        return ENDS
    return datetime.fromisoformat(value).timestamp() * 1000


def audit_jobs(
    ledger: Ledger, ours: dict[str, dict[str, Any] | None], world: dict[str, Any], found: Findings
) -> None:
    """Every job: each operation's elements at LinkedIn, and the final state on both sides."""
    tasks_by_job: dict[str, list[dict[str, Any]]] = {}
    for task in sorted(world["tasks"], key=lambda t: t["created_at_ms"]):
        tasks_by_job.setdefault(task["external_id"], []).append(task)
    linkedin_jobs = {j["external_id"]: j for j in world["jobs"]}
    acked = {(r.job, r.operation_id): r for r in ledger.requested}
    found.operations = len(acked)
    for job in sorted(ledger.jobs):
        state = ours.get(job)
        tasks = tasks_by_job.get(job, [])
        if state is None:
            if tasks or any(k[0] == job for k in acked):
                found.lost.append(f"{job}: LinkedIn or the ATS knows it; our API does not")
            continue
        operations = state["operations"]
        known = {op["id"] for op in operations}
        trimmed = sum(state.get("earlier_operations", {}).values())
        for (acked_job, operation_id), requested in acked.items():
            if acked_job == job and operation_id not in known and not trimmed:
                found.lost.append(f"{job}: {requested.kind} {operation_id} is gone from our state")
        if trimmed:  # only operations still in the state can own tasks
            since = min(_ms(op["requested_at"]) for op in operations)
            tasks = [t for t in tasks if t["created_at_ms"] >= since]
        _attribute(job, operations, tasks, found)
        _compare(job, state, linkedin_jobs.get(job), found)
        _expectations(job, ledger, state, found)
        for op in operations:
            if op["outcome"] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
                found.stuck.append(f"{job}: {op['kind']} {op['id']} is {op['outcome']}")


def _attribute(
    job: str, operations: list[dict[str, Any]], tasks: list[dict[str, Any]], found: Findings
) -> None:
    """Give each task to the first operation that finished after LinkedIn created it."""
    sent = [op for op in operations if op["kind"] != OperationKind.DISCARD]
    ordered = sorted(sent, key=lambda op: _ms(op.get("finished_at")))
    owned: dict[str, list[dict[str, Any]]] = {op["id"]: [] for op in ordered}
    for task in tasks:
        owner = next(
            (op for op in ordered if _ms(op.get("finished_at")) >= task["created_at_ms"]), None
        )
        if owner is None:
            found.applied_twice.append(
                f"{job}: task {task['urn']} ({task['operation']}) came after every operation"
            )
            continue
        owned[owner["id"]].append(task)
    for op in ordered:
        mine = owned[op["id"]]
        applied = next((i for i, t in enumerate(mine) if t["status"] != "FAILED"), len(mine))
        if len(mine) > applied + 1 and op["kind"] not in RESENDABLE:
            found.applied_twice.append(
                f"{job}: {op['kind']} {op['id']} sent again after LinkedIn applied it "
                f"({', '.join(t['status'] for t in mine)})"
            )
        found.sent_again += len(mine) - 1 if mine else 0
        succeeded = [t for t in mine if t["status"] == "SUCCEEDED"]
        if op["outcome"] == "SUCCEEDED" and not succeeded and op["kind"] != OperationKind.CLOSE:
            found.lost.append(f"{job}: {op['kind']} {op['id']} SUCCEEDED; LinkedIn never did it")
        if op["outcome"] != "CANCELLED":
            found.minimum["simpleJobPostings"] += 1
            found.minimum["simpleJobPostingTasks"] += 1
            found.minimum["jobPostingStatus"] += 1


def _compare(
    job: str, ours: dict[str, Any], theirs: dict[str, Any] | None, found: Findings
) -> None:
    created = any(
        op["kind"] == OperationKind.CREATE and op["outcome"] == "SUCCEEDED"
        for op in ours["operations"]
    ) or bool(ours.get("posting"))
    if theirs is None:
        if created:
            found.wrong.append(f"{job}: we say it was created; LinkedIn has no such job")
        return
    if not created:
        found.wrong.append(
            f"{job}: LinkedIn has it (jobId {theirs['job_id']}); we never created it"
        )
        return
    closed = ours["status"] == "CLOSED"
    if closed != theirs["closed"]:
        found.wrong.append(f"{job}: we say {ours['status']}; LinkedIn closed={theirs['closed']}")
    if closed:
        return
    mismatches = {
        "jobId": (ours["job_id"], str(theirs["job_id"])),
        "listingType": (ours["listing_type"], theirs["listing_type"]),
        "expireAt": (round(_ms(ours["expire_at"])), theirs["expire_at"]),
    }
    for name, (mine, linkedin) in mismatches.items():
        if mine != linkedin:
            found.wrong.append(f"{job}: {name} is {mine} here, {linkedin} at LinkedIn")


CHANGED_FIELDS = {
    "listingStatus": "listing_status",
    "linkedInApplyStatus": "linked_in_apply_status",
    "promotionStatus": "promotion_status",
}


def audit_linkedin_changes(
    ours: dict[str, dict[str, Any] | None], world: dict[str, Any], now_ms: float, found: Findings
) -> None:
    """What LinkedIn changed on its side is what we show, once the run has settled (after
    its webhooks, and one status check for any it could not deliver)."""
    for theirs in world["jobs"]:
        changes = theirs.get("linkedin_changes") or {}
        state = ours.get(theirs["external_id"])
        if not changes or state is None or theirs["closed"] or theirs["expire_at"] <= now_ms:
            continue
        found.linkedin_changes += 1
        job = theirs["external_id"]
        for name, ours_name in CHANGED_FIELDS.items():
            if name in changes and str(state[ours_name]) != str(changes[name]):
                found.wrong.append(
                    f"{job}: LinkedIn set {name} {changes[name]}; we show {state[ours_name]}"
                )
        if changes.get("listingStatus") == "NOT_LISTED" and state["status"] not in (
            "UNLISTED_BY_LINKEDIN",
            "CLOSED",
        ):
            found.wrong.append(f"{job}: LinkedIn took it down; we say {state['status']}")


def audit_resyncs(
    reports: list[dict[str, Any]], ours: dict[str, dict[str, Any] | None], found: Findings
) -> None:
    """Every open job LinkedIn asked for again came back within its 30 minutes."""
    for report in reports:
        ended = {
            job
            for job in report["requested"]
            if (ours.get(job) or {}).get("status") in ("CLOSED", "DISCARDED", "FAILED")
        }
        missing = [j for j in report["never"] + report["pending"] if j not in ended]
        for job in missing + report["late"]:
            when = "late" if job in report["late"] else "never"
            found.wrong.append(f"{job}: resync {report['id']} asked for it; it came back {when}")
        closed = f" ({len(ended)} ended here)" if ended else ""
        found.resyncs.append(f"{len(report['inTime'])}/{len(report['requested'])}{closed}")


def _expectations(job: str, ledger: Ledger, state: dict[str, Any], found: Findings) -> None:
    """What the ATS was told succeeded is what the job shows."""
    outcomes = {op["id"]: op["outcome"] for op in state["operations"]}
    listing, closed = "BASIC", False
    for requested in ledger.requested:
        if requested.job != job or outcomes.get(requested.operation_id) != "SUCCEEDED":
            continue
        if requested.kind == OperationKind.UPGRADE:
            listing = "PREMIUM"
        elif requested.kind == OperationKind.DOWNGRADE:
            listing = "BASIC"
        elif requested.kind == OperationKind.CLOSE:
            closed = True
    if closed != (state["status"] == "CLOSED"):
        found.wrong.append(f"{job}: the ATS closed it={closed}; the job is {state['status']}")
    elif not closed and state["listing_type"] not in (None, listing):
        found.wrong.append(f"{job}: the ATS made it {listing}; it is {state['listing_type']}")


def audit_customers(
    ledger: Ledger, ours: dict[str, list[dict[str, Any]]], world: dict[str, Any], found: Findings
) -> None:
    linkedin = {i["integration_context"]: i for i in world["integrations"]}
    for customer in ledger.customers.values():
        if not customer.onboarded:
            continue
        found.minimum["accessToken"] += 1
        found.minimum["provisionedApplications"] += 2  # find, then create
        mine = next(
            (
                context
                for integration in ours.get(customer.id, [])
                for context in [integration["contexts"].get(customer.contract)]
                if context is not None
            ),
            None,
        )
        theirs = linkedin.get(customer.contract)
        status = mine["status"] if mine else None
        if status != "ENABLED":
            saved = "saved" if customer.saved else "never got its widget save through"
            found.stuck.append(f"customer {customer.id} ({saved}): {customer.contract} is {status}")
        if theirs is not None and status is not None:
            found.minimum["atsIntegrations"] += 2  # enable, then verify
            if (status == "ENABLED") != (theirs["status"] == "ENABLED"):
                found.wrong.append(
                    f"customer {customer.id}: {status} here, {theirs['status']} at LinkedIn"
                )


@dataclass(frozen=True)
class Received:
    """What we hold of one application LinkedIn sent (our API's view, documents downloaded)."""

    runs: int
    """ApplicationWorkflow runs for its jobApplicationId: exactly one."""
    status: str | None
    documents: dict[str, str]
    """document kind → sha256 of the bytes our API served."""


def audit_applications(
    linkedin: list[dict[str, Any]],
    accepted: set[str],
    ours: dict[str, Received],
    heard: dict[str, list[str]],
    found: Findings,
) -> None:
    """Every application LinkedIn accepted (`linkedin`, the sandbox's own list) was received
    by us exactly once, delivered to the ATS (`heard`: the event ids of each valid
    `application.received`, by jobApplicationId) and its documents are the bytes LinkedIn
    holds; `accepted` are the ids candidates got a 202 for, each one LinkedIn must keep."""
    theirs = {a["jobApplicationId"]: a for a in linkedin}
    for urn in sorted(accepted - set(theirs)):
        found.lost.append(f"application {urn}: the candidate was answered 202; LinkedIn lost it")
    for urn, application in sorted(theirs.items()):
        found.applications += 1
        if application["delivery"] == "FAILED":
            found.lost.append(f"application {urn}: LinkedIn gave up delivering it")
        elif application["delivery"] == "QUEUED":
            found.stuck.append(f"application {urn}: LinkedIn is still delivering it")
        mine = ours.get(urn)
        if mine is None or mine.runs == 0:
            if application["delivery"] == "DELIVERED":
                found.lost.append(f"application {urn}: LinkedIn delivered it; we do not have it")
            continue
        if mine.runs > 1:
            found.applied_twice.append(f"application {urn}: received {mine.runs} times")
        if mine.status != "READY":
            found.stuck.append(f"application {urn}: {mine.status}, not READY")
        events = heard.get(urn, [])
        if not events:
            found.lost.append(f"application {urn}: the ATS never heard application.received")
        elif len(set(events)) > 1:
            found.applied_twice.append(
                f"application {urn}: the ATS heard {len(set(events))} distinct receipts"
            )
        found.redelivered += len(events) - len(set(events))
        documents = application.get("documents") or {}
        for kind, digest in sorted(documents.items()):
            found.documents += 1
            found.minimum["ambry"] += 1  # one download each
            served = mine.documents.get(kind)
            if served is None:
                found.lost.append(f"application {urn}: its {kind} is not with us")
            elif digest is not None and served != digest:
                found.wrong.append(f"application {urn}: its {kind} differs from LinkedIn's")
        for kind in sorted(set(mine.documents) - set(documents)):
            found.wrong.append(f"application {urn}: a {kind} LinkedIn never had")


def count_calls(journal: list[dict[str, Any]], found: Findings) -> None:
    for entry in journal:
        endpoint = endpoint_of(entry["path"])
        if endpoint is not None:
            found.calls[endpoint] += 1
    found.minimum["accessToken"] += 1  # the partner's own token


SENT_BACK = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
"""The server refused a workflow task's commands (closing, or continuing as new) because
events came while the worker ran it, and scheduled another with them: see
https://docs.temporal.io/references/errors#unhandled-command. A signal sent as a job
closes (`stop_waiting` from a caller whose wait ran out, `wake`) meets this."""


async def audit_histories(temporal: Client, found: Findings) -> None:
    """Every run of the namespace: its failed workflow tasks, and whether it replays."""
    histories = await every_run(temporal)
    for history in histories:
        for event in history.events:
            note_task_failure(history.workflow_id, event, found)
    found.replay = await replay(histories, temporal.data_converter)


def note_task_failure(workflow_id: str, event: HistoryEvent, found: Findings) -> None:
    """A failed workflow task is a finding, unless the server only sent it back for events
    that came meanwhile; each workflow is named once in each list."""
    if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        return
    failed = event.workflow_task_failed_event_attributes
    into = found.tasks_redone if failed.cause == SENT_BACK else found.task_failures
    line = f"{workflow_id}: {failed.failure.message[:200]}"
    if not any(seen.startswith(f"{workflow_id}: ") for seen in into):
        into.append(line)
