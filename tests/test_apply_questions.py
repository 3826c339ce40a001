"""onsiteApplyConfiguration: every section and question type of LinkedIn's SDK, and each rule
LinkedIn states refused before any call, with the field named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from domain.apply_questions import OnsiteApplyConfiguration, intake_url
from domain.job_postings import JobPosting


def question(identifier: str, details: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "partnerQuestionIdentifier": identifier,
        "questionText": f"<p>Question <b>{identifier}</b>?</p>",
        "required": True,
        "questionDetails": details,
        **more,
    }


RADIO = {
    "multipleChoiceQuestionDetails": {
        "choices": [
            {"symbolicName": "YES", "displayValue": "Yes"},
            {"symbolicName": "NO", "displayValue": "No"},
        ],
        "preferredFormComponent": "RADIO_BUTTONS",
    }
}


def full_configuration() -> dict[str, Any]:
    """Every section and every question kind of the SDK."""
    return copy.deepcopy(_FULL)


_FULL: dict[str, Any] = {
    "questions": {
        "contactInformationQuestions": {
            "middleNameQuestionRequirement": "SKIP",
            "cellphoneNumberQuestionRequirement": "REQUIRED",
            "locationQuestionRequirement": "OPTIONAL",
            "customQuestions": [question("pronouns", {"textQuestionDetails": {}})],
        },
        "resumeQuestions": {"resumeQuestionRequirement": "REQUIRED"},
        "coverLetterQuestions": {
            "coverLetterQuestionRequirement": "OPTIONAL",
            "textCoverLetterQuestionRequirement": "SKIP",
        },
        "workQuestions": {
            "workExperienceQuestionSet": {
                "minRequired": 1,
                "repeatLimit": 10,
                "titleQuestionRequirement": "REQUIRED",
                "customQuestions": [
                    question(
                        "team-size",
                        {
                            "numericQuestionDetails": {
                                "integerQuestionDetails": {"minValue": 0, "maxValue": 1000}
                            }
                        },
                    )
                ],
            }
        },
        "educationQuestions": {
            "educationExperienceQuestionSet": {"repeatLimit": 3, "minRequired": 0}
        },
        "voluntarySelfIdentificationQuestions": {
            "genderQuestionRequirement": "OPTIONAL",
            "raceQuestionRequirement": "SKIP",
        },
        "additionalQuestions": {
            "customQuestionSets": [
                {
                    "repeatLimit": 1,
                    "questions": [
                        question("authorized", RADIO),
                        question(
                            "visa",
                            {
                                "textQuestionDetails": {
                                    "maxLength": 200,
                                    "preferredFormComponent": "TEXT",
                                }
                            },
                            prerequisiteQuestionResponse={
                                "prerequisiteQuestion": {"partnerQuestionIdentifier": "authorized"},
                                "prerequisiteResponse": {
                                    "multipleChoiceAnswerValue": {"symbolicNames": ["NO"]}
                                },
                            },
                        ),
                        question(
                            "years",
                            {
                                "numericQuestionDetails": {
                                    "decimalQuestionDetails": {
                                        "minValue": 0.0,
                                        "maxValue": 50.0,
                                    },
                                    "favorableNumericAnswer": {"favorableFloor": 3.0},
                                }
                            },
                        ),
                        question("when", {"dateRangeQuestionDetails": {"startLabel": "From"}}),
                        question(
                            "portfolio",
                            {
                                "documentQuestionDetails": {
                                    "maximumSize": 1_000_000,
                                    "acceptableFileExtensions": ["pdf"],
                                }
                            },
                        ),
                        question(
                            "languages",
                            {
                                "multipleChoiceQuestionDetails": {
                                    "choices": [
                                        {"symbolicName": "EN", "displayValue": "English"},
                                        {"symbolicName": "FR", "displayValue": "French"},
                                    ],
                                    "preferredFormComponent": "CHECKBOXES",
                                    "selectMultiple": True,
                                    "favorableMultipleChoiceAnswer": {
                                        "favorableSymbolicNames": ["EN"]
                                    },
                                }
                            },
                        ),
                    ],
                }
            ]
        },
    }
}


def refused(config: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        OnsiteApplyConfiguration.model_validate(config)
    return str(caught.value)


def sets(config: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = config["questions"]["additionalQuestions"]["customQuestionSets"]
    return found


def test_every_section_and_question_type_of_the_sdk_is_taken_and_sent_back_unchanged() -> None:
    config = full_configuration()
    parsed = OnsiteApplyConfiguration.model_validate(config)
    wire = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert wire == config
    kinds = {q.question_details.kind for q in parsed.all_questions()}
    assert kinds == {
        "textQuestionDetails",
        "multipleChoiceQuestionDetails",
        "numericQuestionDetails",
        "dateRangeQuestionDetails",
        "documentQuestionDetails",
    }
    # the SDK types favorableNumericAnswer both as a String and as an object: both are taken
    as_text = copy.deepcopy(config)
    sets(as_text)[0]["questions"][2]["questionDetails"]["numericQuestionDetails"][
        "favorableNumericAnswer"
    ] = "3"
    OnsiteApplyConfiguration.model_validate(as_text)


def test_a_duplicate_partner_question_identifier_is_named_with_both_places() -> None:
    config = full_configuration()
    sets(config)[0]["questions"][3]["partnerQuestionIdentifier"] = "pronouns"
    message = refused(config)
    assert "additionalQuestions.customQuestionSets[0].questions[3].partnerQuestionIdentifier" in (
        message
    )
    assert "contactInformationQuestions.customQuestions[0]" in message
    assert "off-site" in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda q: q.update(questionText="<script>x</script>"), "<script>"),
        (lambda q: q.update(helpMessage='<img src="x">'), "<img>"),
        (lambda q: q.update(questionText="x" * 2001), "questionText"),
        (
            lambda q: q.update(questionDetails={"textQuestionDetails": {}, **RADIO}),
            "exactly one of",
        ),
        (lambda q: q.update(questionDetails={}), "exactly one of"),
        (
            lambda q: q.update(
                questionDetails={
                    "numericQuestionDetails": {
                        "integerQuestionDetails": {},
                        "decimalQuestionDetails": {},
                    }
                }
            ),
            "exactly one of decimalQuestionDetails",
        ),
        (
            lambda q: q.update(
                questionDetails={"documentQuestionDetails": {"maximumSize": 200 * 1024 * 1024}}
            ),
            "maximumSize",
        ),
        (lambda q: q.update(partnerQuestionIdentifier=" padded"), "printable"),
    ],
)
def test_each_rule_of_a_question_is_refused_by_its_field(change: Any, named: str) -> None:
    config = full_configuration()
    change(sets(config)[0]["questions"][3])
    assert named in refused(config)


@pytest.mark.parametrize("limit", [0, 11])
def test_repeat_limit_of_a_custom_question_set_is_one_to_ten(limit: int) -> None:
    config = full_configuration()
    sets(config)[0]["repeatLimit"] = limit
    assert "repeatLimit" in refused(config)


def test_education_repeats_at_most_three_times_and_work_ten() -> None:
    config = full_configuration()
    config["questions"]["educationQuestions"]["educationExperienceQuestionSet"]["repeatLimit"] = 4
    assert "repeatLimit" in refused(config)
    config = full_configuration()
    config["questions"]["workQuestions"]["workExperienceQuestionSet"]["repeatLimit"] = 11
    assert "repeatLimit" in refused(config)


def test_a_prerequisite_is_a_radio_button_question_of_the_same_set() -> None:
    config = full_configuration()
    visa = sets(config)[0]["questions"][1]
    visa["prerequisiteQuestionResponse"]["prerequisiteQuestion"]["partnerQuestionIdentifier"] = (
        "years"
    )
    assert "must name a multiple choice question" in refused(config)
    config = full_configuration()
    sets(config)[0]["questions"][0]["questionDetails"]["multipleChoiceQuestionDetails"][
        "preferredFormComponent"
    ] = "DROPDOWN"
    assert "RADIO_BUTTONS" in refused(config)
    config = full_configuration()
    sets(config)[0]["questions"][1]["prerequisiteQuestionResponse"]["prerequisiteResponse"][
        "multipleChoiceAnswerValue"
    ]["symbolicNames"] = ["MAYBE"]
    assert "'MAYBE' is not a choice" in refused(config)


def test_choices_are_unique_and_defaults_are_among_them() -> None:
    config = full_configuration()
    details = sets(config)[0]["questions"][0]["questionDetails"]["multipleChoiceQuestionDetails"]
    details["defaultValueSymbolicName"] = "PERHAPS"
    assert "defaultValueSymbolicName" in refused(config)
    details["defaultValueSymbolicName"] = None
    details["choices"].append({"symbolicName": "YES", "displayValue": "Yes again"})
    assert "'YES' is used twice" in refused(config)


def job(**more: Any) -> dict[str, Any]:
    return {
        "externalJobPostingId": "req-1",
        "jobPostingOperationType": "CREATE",
        "title": "Engineer",
        "description": "d" * 120,
        "companyApplyUrl": "https://ats.example.com/jobs/1",
        "listedAt": 1,
        "location": "Paris, France",
        "companyName": "Acme",
        **more,
    }


def test_the_job_takes_the_configuration_and_the_posting_fields_it_lacked() -> None:
    posting = JobPosting.model_validate(
        job(
            companyDescription="We make anvils.",
            trackingPixelUrl="https://pixel.example.com/p.gif",
            requisitionOwnerEmail="owner@example.com",
            requisitionOwnerFirstName="Ada",
            requisitionOwnerLastName="Lovelace",
            onsiteApplyConfiguration=full_configuration(),
        )
    )
    wire = posting.to_wire()
    assert wire["companyDescription"] == "We make anvils."
    assert wire["trackingPixelUrl"] == "https://pixel.example.com/p.gif"
    assert wire["requisitionOwnerFirstName"] == "Ada"
    assert wire["onsiteApplyConfiguration"] == full_configuration()
    with pytest.raises(ValidationError, match="requisitionOwnerEmail"):
        JobPosting.model_validate(job(requisitionOwnerEmail="not-an-email"))
    with pytest.raises(ValidationError, match="availability: must be PUBLIC"):
        JobPosting.model_validate(
            job(availability="PRIVATE_TO_ATS_INTEGRATION", onsiteApplyConfiguration={})
        )


def test_the_intake_url_is_one_per_customer_with_its_id_encoded() -> None:
    assert (
        intake_url("https://ats.example.com/", "acme/eu")
        == "https://ats.example.com/linkedin/customers/acme%2Feu/applications"
    )
