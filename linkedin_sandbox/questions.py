"""An onsiteApplyConfiguration as LinkedIn reads it: what submission refuses, and what
posts the job as off-site apply instead (a duplicate partnerQuestionIdentifier)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from linkedin_sandbox.state import Job


def custom_questions(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every custom question of a configuration, wherever it sits."""
    questions = config.get("questions") or {}
    for name, section in questions.items():
        if not isinstance(section, dict):
            continue
        yield from section.get("customQuestions") or []
        for nested in ("workExperienceQuestionSet", "educationExperienceQuestionSet"):
            yield from (section.get(nested) or {}).get("customQuestions") or []
        if name == "additionalQuestions":
            for question_set in section.get("customQuestionSets") or []:
                yield from question_set.get("questions") or []


def apply_problem(config: dict[str, Any] | None) -> str | None:
    """Why LinkedIn would post a job with this configuration as off-site apply."""
    if config is None:
        return None
    seen: set[str] = set()
    for question in custom_questions(config):
        identifier = str(question.get("partnerQuestionIdentifier"))
        if identifier in seen:
            return f"Duplicate partnerQuestionIdentifier {identifier}: the job is off-site apply."
        seen.add(identifier)
    return None


def apply_status(job: Job) -> tuple[str, dict[str, Any] | None]:
    """linkedInApplyStatus and its detail as jobPostingStatus answers them."""
    config = job.payload.get("onsiteApplyConfiguration")
    if not isinstance(config, dict):
        return "NOT_ENABLED", {
            "errorCode": None,
            "errorType": "PARTNER_ERROR",
            "statusMessage": "No attempt to enable LinkedInApply was found for this job.",
        }
    problem = apply_problem(config)
    if problem is not None:
        return "NOT_ENABLED", {
            "errorCode": None,
            "errorType": "PARTNER_ERROR",
            "statusMessage": problem,
        }
    return "ENABLED", None


def check_configuration(job: dict[str, Any]) -> str | None:
    """What submission refuses in an onsiteApplyConfiguration (LinkedIn's 422 text)."""
    config = job.get("onsiteApplyConfiguration")
    if config is None:
        return None
    if not isinstance(config, dict):
        return "ERROR :: /onsiteApplyConfiguration :: expected a record\n"
    if not config.get("jobApplicationWebhookUrl"):
        return (
            "ERROR :: /onsiteApplyConfiguration/jobApplicationWebhookUrl :: field is required "
            "but not found and has no default value\n"
        )
    sets = ((config.get("questions") or {}).get("additionalQuestions") or {}).get(
        "customQuestionSets"
    ) or []
    for index, question_set in enumerate(sets):
        limit = question_set.get("repeatLimit", 1)
        if not isinstance(limit, int) or not 1 <= limit <= 10:
            return (
                f"ERROR :: /onsiteApplyConfiguration/questions/additionalQuestions/"
                f"customQuestionSets/{index}/repeatLimit :: must be between 1 and 10\n"
            )
    return None
