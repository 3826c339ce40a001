"""P4PReportWorkflow: one read of LinkedIn's P4P reports for the API, with retries.

The API may not call LinkedIn itself (only workers hold the customer's secret and the
per-application call budget), so a report read is a workflow of one activity: LinkedIn's
transient faults retry for at most INTERACTIVE_DEADLINE, a permanent one fails at once.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.p4p_reports import (
        P4P_REPORT_WORKFLOW_TYPE,
        READ_BUDGET_REPORT,
        READ_JOB_PERFORMANCE,
        BudgetReport,
        JobPerformance,
        P4PReportAnswer,
        P4PReportRequest,
    )
    from workflows.policies import INTERACTIVE_DEADLINE, LINKEDIN_CALL, LINKEDIN_CALL_TIMEOUT


@workflow.defn(name=P4P_REPORT_WORKFLOW_TYPE)
class P4PReportWorkflow:
    @workflow.run
    async def run(self, request: P4PReportRequest) -> P4PReportAnswer:
        if request.job is not None:
            workflow.set_current_details("reading a job's partnerJobReports at LinkedIn")
            job: JobPerformance = await workflow.execute_activity(
                READ_JOB_PERFORMANCE,
                request.job,
                result_type=JobPerformance,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=INTERACTIVE_DEADLINE,
                retry_policy=LINKEDIN_CALL,
            )
            return P4PReportAnswer(job=job)
        if request.budget is not None:
            workflow.set_current_details("reading partnerBudgetReports at LinkedIn")
            budget: BudgetReport = await workflow.execute_activity(
                READ_BUDGET_REPORT,
                request.budget,
                result_type=BudgetReport,
                start_to_close_timeout=LINKEDIN_CALL_TIMEOUT,
                schedule_to_close_timeout=INTERACTIVE_DEADLINE,
                retry_policy=LINKEDIN_CALL,
            )
            return P4PReportAnswer(budget=budget)
        return P4PReportAnswer()
