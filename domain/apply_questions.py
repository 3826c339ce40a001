"""Apply Connect's `onsiteApplyConfiguration`: every question section and type of LinkedIn's
Java SDK (`model/request/applyconnect/applyConfiguration/*`), checked before any call.

LinkedIn posts a job whose questions it cannot take as off-site apply, silently (a
duplicate `partnerQuestionIdentifier` does that, ../shared/linkedin-inbound.md §6), so
every rule LinkedIn states is checked here and named by its field: duplicate ids, HTML
outside ul/li/b/i/a/p, repeat limits, exactly one `questionDetails` kind, prerequisites
that point at a RADIO_BUTTONS question of the same set, and the document sizes LinkedIn
gives. Sizes LinkedIn does not publish (question text, choices) are bounded by us, and
said so (`OUR_` constants), so no request is unbounded.

The ATS never writes `jobApplicationWebhookUrl`: linkedin-ats sets it to its own intake
URL for the customer (`intake_url`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from domain.integrations import customer_door_url

ALLOWED_TAGS = frozenset({"ul", "li", "b", "i", "a", "p"})
"""The HTML LinkedIn renders in question text (SDK `SimpleTalentQuestionDefinition`)."""
RESUME_MAX_BYTES = 2 * 1024 * 1024
COVER_LETTER_MAX_BYTES = 512 * 1024
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
"""A document question's maximumSize: LinkedIn's default, and so its largest."""
CUSTOM_SET_REPEAT = (1, 10)
WORK_REPEAT = (1, 10)
EDUCATION_REPEAT = (1, 3)

OUR_MAX_ID = 200
OUR_MAX_TEXT = 2_000
OUR_MAX_HELP = 4_000
OUR_MAX_CHOICES = 100
OUR_MAX_QUESTIONS = 100
OUR_MAX_SETS = 50
OUR_MAX_LABEL = 200
"""Bounds of ours where LinkedIn publishes none: far above any real form."""

_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)")
_ID = re.compile(r"^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$")


def intake_url(public_base_url: str, customer_id: str) -> str:
    """Where LinkedIn delivers the customer's applications: our door, one URL a customer."""
    return customer_door_url(public_base_url, customer_id, "applications")


class QuestionRequirement(StrEnum):
    REQUIRED = "REQUIRED"
    OPTIONAL = "OPTIONAL"
    SKIP = "SKIP"


class FormComponent(StrEnum):
    CHECKBOXES = "CHECKBOXES"
    DROPDOWN = "DROPDOWN"
    MULTILINE_TEXT = "MULTILINE_TEXT"
    RADIO_BUTTONS = "RADIO_BUTTONS"
    TEXT = "TEXT"
    BUTTONS = "BUTTONS"


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _html(value: str | None) -> str | None:
    if value is None:
        return None
    for tag in _TAG.findall(value):
        if tag.lower() not in ALLOWED_TAGS:
            raise ValueError(
                f"HTML tag <{tag}> is not one LinkedIn allows (only "
                f"{', '.join(sorted(ALLOWED_TAGS))})"
            )
    return value


def _in_range(low: float | None, high: float | None, suggested: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise ValueError("minValue: must not exceed maxValue")
    if suggested is not None and (
        (low is not None and suggested < low) or (high is not None and suggested > high)
    ):
        raise ValueError("suggestedValue: must lie between minValue and maxValue")


class TextQuestionDetails(_Wire):
    suggested_value: str | None = Field(default=None, max_length=OUR_MAX_HELP)
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, gt=0)
    preferred_form_component: FormComponent | None = None

    @model_validator(mode="after")
    def _rules(self) -> TextQuestionDetails:
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ValueError("minLength: must not exceed maxLength")
        if self.preferred_form_component not in (
            None,
            FormComponent.TEXT,
            FormComponent.MULTILINE_TEXT,
        ):
            raise ValueError("preferredFormComponent: must be TEXT or MULTILINE_TEXT")
        return self


class MultipleChoiceAnswerOption(_Wire):
    symbolic_name: str = Field(min_length=1, max_length=OUR_MAX_ID)
    display_value: str = Field(min_length=1, max_length=OUR_MAX_TEXT)


class FavorableMultipleChoiceAnswer(_Wire):
    favorable_symbolic_names: list[str] = Field(max_length=OUR_MAX_CHOICES)


class MultipleChoiceQuestionDetails(_Wire):
    choices: list[MultipleChoiceAnswerOption] = Field(min_length=1, max_length=OUR_MAX_CHOICES)
    default_value_symbolic_name: str | None = None
    favorable_multiple_choice_answer: FavorableMultipleChoiceAnswer | None = None
    preferred_form_component: FormComponent | None = None
    select_multiple: bool | None = None

    @property
    def names(self) -> list[str]:
        return [choice.symbolic_name for choice in self.choices]

    @model_validator(mode="after")
    def _rules(self) -> MultipleChoiceQuestionDetails:
        names = self.names
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise ValueError(f"choices: symbolicName {twice!r} is used twice")
        if self.default_value_symbolic_name not in (None, *names):
            raise ValueError("defaultValueSymbolicName: must be one of the choices")
        favorable = self.favorable_multiple_choice_answer
        for name in favorable.favorable_symbolic_names if favorable else []:
            if name not in names:
                raise ValueError(f"favorableSymbolicNames: {name!r} is not one of the choices")
        if self.preferred_form_component in (FormComponent.TEXT, FormComponent.MULTILINE_TEXT):
            raise ValueError("preferredFormComponent: a text component for a multiple choice")
        if self.select_multiple and self.preferred_form_component not in (
            None,
            FormComponent.CHECKBOXES,
        ):
            raise ValueError("selectMultiple: only with CHECKBOXES")
        return self


class IntegerQuestionDetails(_Wire):
    suggested_value: int | None = None
    min_value: int | None = None
    max_value: int | None = None

    @model_validator(mode="after")
    def _rules(self) -> IntegerQuestionDetails:
        _in_range(self.min_value, self.max_value, self.suggested_value)
        return self


class DecimalQuestionDetails(_Wire):
    suggested_value: float | None = None
    min_value: float | None = None
    max_value: float | None = None

    @model_validator(mode="after")
    def _rules(self) -> DecimalQuestionDetails:
        _in_range(self.min_value, self.max_value, self.suggested_value)
        return self


class FavorableNumericAnswer(_Wire):
    favorable_floor: float | None = None
    favorable_ceiling: float | None = None


class NumericQuestionDetails(_Wire):
    decimal_question_details: DecimalQuestionDetails | None = None
    integer_question_details: IntegerQuestionDetails | None = None
    favorable_numeric_answer: FavorableNumericAnswer | str | None = None
    """An object in the SDK's FavorableNumericAnswer class, a String in the field that holds
    it (NumericQuestionDetails): both are taken and sent on as given."""

    @model_validator(mode="after")
    def _rules(self) -> NumericQuestionDetails:
        given = [self.decimal_question_details, self.integer_question_details]
        if sum(d is not None for d in given) != 1:
            raise ValueError(
                "exactly one of decimalQuestionDetails and integerQuestionDetails is required"
            )
        return self


class DateRangeQuestionDetails(_Wire):
    start_label: str | None = Field(default=None, max_length=OUR_MAX_LABEL)
    end_label: str | None = Field(default=None, max_length=OUR_MAX_LABEL)
    hide_end_date_label: str | None = Field(default=None, max_length=OUR_MAX_LABEL)


class DocumentQuestionDetails(_Wire):
    maximum_size: int | None = Field(default=None, gt=0, le=DOCUMENT_MAX_BYTES)
    acceptable_file_extensions: list[str] | None = Field(default=None, max_length=50)

    @field_validator("acceptable_file_extensions")
    @classmethod
    def _lowercase(cls, value: list[str] | None) -> list[str] | None:
        for extension in value or []:
            if extension != extension.lower() or not extension or "." in extension:
                raise ValueError(f"{extension!r}: extensions are lowercase, without a dot")
        return value


QUESTION_KINDS = (
    "text_question_details",
    "multiple_choice_question_details",
    "numeric_question_details",
    "date_range_question_details",
    "document_question_details",
)


class SimpleQuestionDetails(_Wire):
    """Exactly one kind of question."""

    date_range_question_details: DateRangeQuestionDetails | None = None
    document_question_details: DocumentQuestionDetails | None = None
    multiple_choice_question_details: MultipleChoiceQuestionDetails | None = None
    numeric_question_details: NumericQuestionDetails | None = None
    text_question_details: TextQuestionDetails | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SimpleQuestionDetails:
        given = [kind for kind in QUESTION_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            names = ", ".join(to_camel(kind) for kind in QUESTION_KINDS)
            found = ", ".join(to_camel(g) for g in given) or "none"
            raise ValueError(f"exactly one of {names} is required, got {found}")
        return self

    @property
    def kind(self) -> str:
        return next(to_camel(k) for k in QUESTION_KINDS if getattr(self, k) is not None)


class MultipleChoiceAnswerValue(_Wire):
    symbolic_names: list[str] = Field(min_length=1, max_length=OUR_MAX_CHOICES)


class PrerequisiteAnswerValue(_Wire):
    multiple_choice_answer_value: MultipleChoiceAnswerValue


class PrerequisiteQuestionIdentifier(_Wire):
    partner_question_identifier: str = Field(min_length=1, max_length=OUR_MAX_ID)


class PrerequisiteQuestionResponse(_Wire):
    prerequisite_question: PrerequisiteQuestionIdentifier
    prerequisite_response: PrerequisiteAnswerValue

    @model_validator(mode="after")
    def _one_name(self) -> PrerequisiteQuestionResponse:
        if len(self.prerequisite_response.multiple_choice_answer_value.symbolic_names) != 1:
            raise ValueError("prerequisiteResponse: exactly one symbolic name")
        return self


class SimpleTalentQuestionDefinition(_Wire):
    partner_question_identifier: str = Field(min_length=1, max_length=OUR_MAX_ID)
    question_details: SimpleQuestionDetails
    required: bool | None = None
    question_text: str = Field(min_length=1, max_length=OUR_MAX_TEXT)
    help_message: str | None = Field(default=None, max_length=OUR_MAX_HELP)
    expanded_help_message: str | None = Field(default=None, max_length=OUR_MAX_HELP)
    prerequisite_question_response: PrerequisiteQuestionResponse | None = None

    @field_validator("partner_question_identifier")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be printable, without leading or trailing blanks")
        return value

    @field_validator("question_text", "help_message", "expanded_help_message")
    @classmethod
    def _allowed_html(cls, value: str | None) -> str | None:
        return _html(value)


Questions = list[SimpleTalentQuestionDefinition]


def _questions() -> Any:
    return Field(default=None, max_length=OUR_MAX_QUESTIONS)


class ContactInformationQuestions(_Wire):
    middle_name_question_requirement: QuestionRequirement | None = None
    cellphone_number_question_requirement: QuestionRequirement | None = None
    location_question_requirement: QuestionRequirement | None = None
    custom_questions: Questions | None = _questions()


class ResumeQuestions(_Wire):
    resume_question_requirement: QuestionRequirement | None = None
    """A file of at most 2 MB, doc/docx/pdf; OPTIONAL when left out."""
    custom_questions: Questions | None = _questions()


class CoverLetterQuestions(_Wire):
    cover_letter_question_requirement: QuestionRequirement | None = None
    """A file of at most 512 KB, doc/docx/pdf; OPTIONAL when left out."""
    text_cover_letter_question_requirement: QuestionRequirement | None = None
    custom_questions: Questions | None = _questions()


class WorkExperienceQuestionSet(_Wire):
    min_required: int | None = Field(default=None, ge=0, le=WORK_REPEAT[1])
    repeat_limit: int | None = Field(default=None, ge=WORK_REPEAT[0], le=WORK_REPEAT[1])
    title_question_requirement: QuestionRequirement | None = None
    employment_dates_question_requirement: QuestionRequirement | None = None
    city_question_requirement: QuestionRequirement | None = None
    company_question_requirement: QuestionRequirement | None = None
    description_question_requirement: QuestionRequirement | None = None
    custom_questions: Questions | None = _questions()

    @model_validator(mode="after")
    def _min_within_limit(self) -> WorkExperienceQuestionSet:
        if (self.min_required or 0) > (self.repeat_limit or WORK_REPEAT[1]):
            raise ValueError("minRequired: must not exceed repeatLimit")
        return self


class WorkQuestions(_Wire):
    work_experience_question_set: WorkExperienceQuestionSet
    custom_questions: Questions | None = _questions()


class EducationExperienceQuestionSet(_Wire):
    min_required: int | None = Field(default=None, ge=0, le=EDUCATION_REPEAT[1])
    repeat_limit: int | None = Field(default=None, ge=EDUCATION_REPEAT[0], le=EDUCATION_REPEAT[1])
    school_question_requirement: QuestionRequirement | None = None
    dates_attended_question_requirement: QuestionRequirement | None = None
    city_question_requirement: QuestionRequirement | None = None
    degree_question_requirement: QuestionRequirement | None = None
    field_of_study_question_requirement: QuestionRequirement | None = None
    custom_questions: Questions | None = _questions()

    @model_validator(mode="after")
    def _min_within_limit(self) -> EducationExperienceQuestionSet:
        if (self.min_required or 0) > (self.repeat_limit or EDUCATION_REPEAT[1]):
            raise ValueError("minRequired: must not exceed repeatLimit")
        return self


class EducationQuestions(_Wire):
    education_experience_question_set: EducationExperienceQuestionSet
    custom_questions: Questions | None = _questions()


class VoluntarySelfIdentificationQuestions(_Wire):
    """EEOC questions: each REQUIRED when left out, as LinkedIn defaults them."""

    disability_question_requirement: QuestionRequirement | None = None
    gender_question_requirement: QuestionRequirement | None = None
    race_question_requirement: QuestionRequirement | None = None
    veteran_status_question_requirement: QuestionRequirement | None = None
    custom_questions: Questions | None = _questions()


class CustomQuestionSet(_Wire):
    questions: Questions = Field(min_length=1, max_length=OUR_MAX_QUESTIONS)
    repeat_limit: int | None = Field(default=None, ge=CUSTOM_SET_REPEAT[0], le=CUSTOM_SET_REPEAT[1])

    @model_validator(mode="after")
    def _prerequisites(self) -> CustomQuestionSet:
        """One prerequisite question per set: a RADIO_BUTTONS multiple choice of this set,
        answered with one of its choices."""
        by_id = {q.partner_question_identifier: q for q in self.questions}
        named = {
            q.prerequisite_question_response.prerequisite_question.partner_question_identifier
            for q in self.questions
            if q.prerequisite_question_response is not None
        }
        if len(named) > 1:
            raise ValueError("questions: a custom question set has at most one prerequisite")
        for index, question in enumerate(self.questions):
            response = question.prerequisite_question_response
            if response is None:
                continue
            where = f"questions[{index}].prerequisiteQuestionResponse"
            target = by_id.get(response.prerequisite_question.partner_question_identifier)
            choice = target.question_details.multiple_choice_question_details if target else None
            if target is None or choice is None:
                raise ValueError(f"{where}: must name a multiple choice question of this set")
            if choice.preferred_form_component is not FormComponent.RADIO_BUTTONS:
                raise ValueError(f"{where}: the prerequisite question must use RADIO_BUTTONS")
            if target is question:
                raise ValueError(f"{where}: a question cannot be its own prerequisite")
            wanted = response.prerequisite_response.multiple_choice_answer_value.symbolic_names
            if wanted[0] not in choice.names:
                raise ValueError(f"{where}: {wanted[0]!r} is not a choice of the prerequisite")
        return self


class AdditionalQuestions(_Wire):
    custom_question_sets: list[CustomQuestionSet] | None = Field(
        default=None, max_length=OUR_MAX_SETS
    )


class SimpleTalentQuestions(_Wire):
    contact_information_questions: ContactInformationQuestions | None = None
    resume_questions: ResumeQuestions | None = None
    cover_letter_questions: CoverLetterQuestions | None = None
    work_questions: WorkQuestions | None = None
    education_questions: EducationQuestions | None = None
    voluntary_self_identification_questions: VoluntarySelfIdentificationQuestions | None = None
    additional_questions: AdditionalQuestions | None = None

    def located(self) -> Iterator[tuple[str, SimpleTalentQuestionDefinition]]:
        """Every custom question of every section, with its path on the wire."""
        sections: list[tuple[str, Any]] = [
            ("contactInformationQuestions", self.contact_information_questions),
            ("resumeQuestions", self.resume_questions),
            ("coverLetterQuestions", self.cover_letter_questions),
            ("workQuestions", self.work_questions),
            ("educationQuestions", self.education_questions),
            ("voluntarySelfIdentificationQuestions", self.voluntary_self_identification_questions),
        ]
        for name, section in sections:
            if section is None:
                continue
            for index, question in enumerate(section.custom_questions or []):
                yield f"{name}.customQuestions[{index}]", question
        work = self.work_questions.work_experience_question_set if self.work_questions else None
        for index, question in enumerate(work.custom_questions or [] if work else []):
            yield f"workQuestions.workExperienceQuestionSet.customQuestions[{index}]", question
        school = (
            self.education_questions.education_experience_question_set
            if self.education_questions
            else None
        )
        for index, question in enumerate(school.custom_questions or [] if school else []):
            path = f"educationQuestions.educationExperienceQuestionSet.customQuestions[{index}]"
            yield path, question
        sets = self.additional_questions.custom_question_sets if self.additional_questions else None
        for s, question_set in enumerate(sets or []):
            for index, question in enumerate(question_set.questions):
                yield f"additionalQuestions.customQuestionSets[{s}].questions[{index}]", question


class OnsiteApplyConfiguration(_Wire):
    job_application_webhook_url: str | None = Field(default=None, max_length=2000)
    """Set by linkedin-ats (`intake_url`), never by the ATS."""
    questions: SimpleTalentQuestions | None = None

    @model_validator(mode="after")
    def _unique_identifiers(self) -> OnsiteApplyConfiguration:
        """LinkedIn posts a job with a duplicate partnerQuestionIdentifier as off-site apply."""
        seen: dict[str, str] = {}
        for path, question in self.questions.located() if self.questions else iter(()):
            where = seen.get(question.partner_question_identifier)
            if where is not None:
                raise ValueError(
                    f"questions.{path}.partnerQuestionIdentifier: "
                    f"{question.partner_question_identifier!r} is already used at "
                    f"questions.{where}; it must be unique in the job, or LinkedIn posts "
                    "the job as off-site apply"
                )
            seen[question.partner_question_identifier] = path
        return self

    def question(self, identifier: str) -> SimpleTalentQuestionDefinition | None:
        for _, question in self.questions.located() if self.questions else iter(()):
            if question.partner_question_identifier == identifier:
                return question
        return None

    def all_questions(self) -> list[SimpleTalentQuestionDefinition]:
        return [q for _, q in self.questions.located()] if self.questions else []
