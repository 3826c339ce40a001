"""What a pay-for-performance customer pays for: LinkedIn's partnerJobReports and
partnerBudgetReports, in LinkedIn's field names (LinkedIn's Java SDK models them:
P4PReportResponseByDate / ByIds, P4PJobReport, P4PBudgetReportResponse).

These models read LinkedIn's answers leniently (a field LinkedIn adds is ignored, one it
leaves out is None) and are what our API answers, as LinkedIn shaped them.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

MAX_REPORT_IDS = 10
"""Jobs one partnerJobReports ids call may name (LinkedIn's SDK: maximum 10 per request)."""
MAX_REPORT_PAGE = 50
"""Jobs one page of the dateRange report holds at most (LinkedIn: default and maximum 50)."""
MAX_REPORT_DAYS = 366
"""The longest date range we ask LinkedIn for: a year of daily metrics per job."""


class Report(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="ignore"
    )


class ReportDate(Report):
    year: int
    month: int
    day: int

    @classmethod
    def of(cls, day: date) -> ReportDate:
        return cls(year=day.year, month=day.month, day=day.day)

    def as_date(self) -> date:
        return date(self.year, self.month, self.day)

    def render(self) -> str:
        return f"(year:{self.year},month:{self.month},day:{self.day})"


class DateRange(Report):
    """Both ends included, as LinkedIn reads them."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> DateRange:
        if self.end < self.start:
            raise ValueError("end: must not be before start")
        if self.end - self.start > timedelta(days=MAX_REPORT_DAYS - 1):
            raise ValueError(f"a date range spans at most {MAX_REPORT_DAYS} days")
        return self

    def render(self) -> str:
        """Rest.li 2.0's `(start:(year:..,month:..,day:..),end:(...))`."""
        start, end = ReportDate.of(self.start).render(), ReportDate.of(self.end).render()
        return f"(start:{start},end:{end})"


class ReportMoney(Report):
    currency_code: str | None = None
    amount: str | None = None


class CompanyDetails(Report):
    company_name: str | None = None


class JobPostingInfo(Report):
    external_job_posting_id: str | None = None
    linked_in_job_posting_id: int | None = Field(default=None, alias="linkedInJobPostingId")
    close_at: int | None = None
    company_details: CompanyDetails | None = None
    company_apply_url: str | None = None
    job_title: str | None = None


class JobBudgetInfo(Report):
    service_term_budget_spent: ReportMoney | None = None
    service_term_budget_limit: ReportMoney | None = None


class DailyMetrics(Report):
    date: ReportDate
    charge: ReportMoney | None = None
    apply_click_count: int | None = None
    view_count: int | None = None


class JobReport(Report):
    job_posting_info: JobPostingInfo | None = None
    lifetime_job_budget_info: JobBudgetInfo | None = None
    job_performance_metrics: list[DailyMetrics] = Field(default_factory=list)


class ReportError(Report):
    code: str | None = None
    message: str | None = None
    status: int | None = None


class Paging(Report):
    start: int = 0
    count: int = 0
    total: int | None = None


class JobReportPage(Report):
    """One page of the dateRange report: LinkedIn's paging and elements."""

    paging: Paging = Field(default_factory=Paging)
    elements: list[JobReport] = Field(default_factory=list)


class JobReportsByIds(Report):
    results: dict[str, JobReport] = Field(default_factory=dict)
    errors: dict[str, ReportError] = Field(default_factory=dict)


class BudgetReport(Report):
    service_term_start_at: int | None = None
    service_term_end_at: int | None = None
    partner_budget_details: list[JobBudgetInfo] = Field(default_factory=list)


# -- what the worker is asked for, and what it answers ------------------------------------


class JobPerformanceRequest(BaseModel):
    customer_id: str
    external_job_posting_id: str
    date_range: DateRange
    partner_contract_id: int | None = None


class BudgetRequest(BaseModel):
    customer_id: str
    partner_contract_id: int


class JobPerformance(Report):
    """One job's P4P report over a date range, with totals we add up from its days."""

    external_job_posting_id: str
    date_range: DateRange
    report: JobReport | None = None
    """None when LinkedIn has no P4P report for the job (never P4P, or not yet charged)."""
    views: int = 0
    apply_clicks: int = 0
    charged: ReportMoney | None = None


def totals(report: JobReport) -> tuple[int, int, ReportMoney | None]:
    """Views, apply clicks and the charge summed over the report's days (one currency)."""
    from decimal import Decimal

    views = sum(m.view_count or 0 for m in report.job_performance_metrics)
    applies = sum(m.apply_click_count or 0 for m in report.job_performance_metrics)
    charges = [m.charge for m in report.job_performance_metrics if m.charge and m.charge.amount]
    if not charges:
        return views, applies, None
    amount = sum((Decimal(str(c.amount)) for c in charges), Decimal(0))
    return (
        views,
        applies,
        ReportMoney(currency_code=charges[0].currency_code, amount=f"{amount:.2f}"),
    )


P4P_REPORT_WORKFLOW_TYPE = "P4PReportWorkflow"
READ_JOB_PERFORMANCE = "read_job_performance"
READ_BUDGET_REPORT = "read_budget_report"


class P4PReportRequest(BaseModel):
    """One read of LinkedIn's P4P reports, run by a short workflow: its activity retries
    LinkedIn's transient faults, within the worker's per-application call budget."""

    job: JobPerformanceRequest | None = None
    budget: BudgetRequest | None = None


class P4PReportAnswer(BaseModel):
    job: JobPerformance | None = None
    budget: BudgetReport | None = None


def p4p_report_workflow_id(customer_id: str, read_id: str) -> str:
    from urllib.parse import quote

    return f"p4p-report/{quote(customer_id, safe='')}/{read_id}"
