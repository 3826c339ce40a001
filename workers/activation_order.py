"""A workflow runner that shows a workflow an update only after the results it came with.

When a workflow task brings both a result (an activity, a child, a timer) and an update,
sdk-core does not always deliver them the same way. On a first execution after a cache
miss it may deliver the result in one activation and the update in the next, so the run
loop reacts to the result before the update is accepted; replaying that task, it delivers
both in one activation, and the Python SDK runs the update first (temporalio/sdk-python
#1591, #673). The commands then come in another order, and the replay fails as
nondeterministic: a job that was fine while it ran can no longer be queried, or resumed by
another worker. Nothing in the activation tells the two deliveries apart.

So the runner gives every activation that holds both one order, whatever core did: the
other jobs first, then the updates, as two activations of one workflow task. Runs that
recorded the `UPDATES_AFTER_RESULTS` patch get it always, so they replay whichever way
core chunks. Runs from before it keep the SDK's order, and when core evicts one for
nondeterminism right after such an activation, the runner remembers to split that one on
the next replay (the task's retry, or the next query), which is how the first execution
saw it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from temporalio.bridge.proto.workflow_activation import (
    RemoveFromCache,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

from workflows.ordering import UPDATES_AFTER_RESULTS

RESULTS = frozenset(
    {
        "fire_timer",
        "resolve_activity",
        "resolve_child_workflow_execution_start",
        "resolve_child_workflow_execution",
        "resolve_signal_external_workflow",
        "resolve_request_cancel_external_workflow",
        "resolve_nexus_operation_start",
        "resolve_nexus_operation",
    }
)
"""Jobs that answer something the workflow started, recorded before the task's updates."""

TERMINAL = frozenset(
    {
        "complete_workflow_execution",
        "fail_workflow_execution",
        "continue_as_new_workflow_execution",
        "cancel_workflow_execution",
    }
)

REMEMBERED_RUNS = 10_000
"""Runs whose activations to split are remembered, least recently failed forgotten first."""


class UpdatesAfterResultsRunner(WorkflowRunner):
    """Wraps another runner (the sandbox); see the module docstring."""

    def __init__(self, inner: WorkflowRunner) -> None:
        self._inner = inner
        self._learned: OrderedDict[str, set[int]] = OrderedDict()
        self.splits_learned = 0
        """How many activations a nondeterminism failure taught the runner to split."""

    def prepare_workflow(self, defn: Any) -> None:
        self._inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Instance(self, self._inner.create_instance(det), det.info.run_id)

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        self._inner.set_worker_level_failure_exception_types(types)

    def _split_here(self, run_id: str, activation: int) -> bool:
        return activation in self._learned.get(run_id, ())

    def _learn(self, run_id: str, activation: int) -> None:
        self._learned.setdefault(run_id, set()).add(activation)
        self._learned.move_to_end(run_id)
        while len(self._learned) > REMEMBERED_RUNS:
            self._learned.popitem(last=False)
        self.splits_learned += 1


class _Instance(WorkflowInstance):
    def __init__(self, runner: UpdatesAfterResultsRunner, inner: WorkflowInstance, run_id: str):
        self._runner = runner
        self._inner = inner
        self._run_id = run_id
        self._activations = 0
        """Activations with other jobs than queries: the same sequence on every replay."""
        self._mixed: int | None = None
        """The last activation, if it held updates beside results and kept the SDK's order."""
        self._patched = False

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        jobs = [job.WhichOneof("variant") for job in act.jobs]
        if "remove_from_cache" in jobs:
            self._evicted(
                next(j.remove_from_cache for j in act.jobs if j.HasField("remove_from_cache"))
            )
            return self._inner.activate(act)
        if all(job == "query_workflow" for job in jobs):
            return self._inner.activate(act)
        self._activations += 1
        self._patched = self._patched or any(
            job.notify_has_patch.patch_id == UPDATES_AFTER_RESULTS
            for job in act.jobs
            if job.HasField("notify_has_patch")
        )
        mixed = "do_update" in jobs and not RESULTS.isdisjoint(jobs)
        split = mixed and (
            self._patched or self._runner._split_here(self._run_id, self._activations)
        )
        self._mixed = self._activations if mixed and not split else None
        completion = self._split(act) if split else self._inner.activate(act)
        self._patched = self._patched or any(
            command.set_patch_marker.patch_id == UPDATES_AFTER_RESULTS
            for command in completion.successful.commands
            if command.HasField("set_patch_marker")
        )
        return completion

    def _evicted(self, eviction: RemoveFromCache) -> None:
        if eviction.reason == RemoveFromCache.NONDETERMINISM and self._mixed is not None:
            self._runner._learn(self._run_id, self._mixed)

    def _split(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        """The activation's other jobs, then its updates, as one completion."""
        others = _with_jobs(act, [job for job in act.jobs if not job.HasField("do_update")])
        updates = _with_jobs(act, [job for job in act.jobs if job.HasField("do_update")])
        first = self._inner.activate(others)
        if first.HasField("failed"):
            return first
        second = self._inner.activate(updates)
        if second.HasField("failed"):
            return second
        done = first.successful
        # A run that ended on the results still answers the updates that came with them,
        # before it ends, as the SDK does when it runs them first.
        terminal = [c for c in done.commands if c.WhichOneof("variant") in TERMINAL]
        kept = [c for c in done.commands if c.WhichOneof("variant") not in TERMINAL]
        del done.commands[:]
        done.commands.extend([*kept, *second.successful.commands, *terminal])
        for flag in second.successful.used_internal_flags:
            if flag not in done.used_internal_flags:
                done.used_internal_flags.append(flag)
        if second.successful.versioning_behavior:
            done.versioning_behavior = second.successful.versioning_behavior
        return first

    def get_serialization_context(self, command_info: Any) -> Any:
        return self._inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self._inner.get_external_store_context(command_info)

    def get_info(self) -> Any:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


def _with_jobs(act: WorkflowActivation, jobs: list[WorkflowActivationJob]) -> WorkflowActivation:
    part = WorkflowActivation()
    part.CopyFrom(act)
    del part.jobs[:]
    part.jobs.extend(jobs)
    return part
