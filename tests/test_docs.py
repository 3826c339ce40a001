"""The docs list every setting the code reads."""

from __future__ import annotations

from pathlib import Path

from linkedin_sandbox import SandboxSettings
from settings import Settings

CONFIGURATION = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()


def test_every_setting_is_documented() -> None:
    for prefix, model in (("LINKEDIN_ATS_", Settings), ("LINKEDIN_SANDBOX_", SandboxSettings)):
        for name in model.model_fields:
            assert f"`{prefix}{name.upper()}`" in CONFIGURATION, name


def test_readme_shows_the_two_commands() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "make up" in readme and "make test" in readme


def test_the_example_job_is_valid() -> None:
    import json

    from domain.job_postings import JobPosting

    example = json.loads((Path(__file__).parents[1] / "docs/examples/job.json").read_text())
    JobPosting.model_validate({"jobPostingOperationType": "CREATE", **example})
