"""Applications read tolerantly (LinkedIn's schema is known second-hand), answers mapped back
to the ATS's question ids, and documents sealed at rest: no server."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from client.codec import PayloadKeyError, PayloadKeys
from client.documents import DirectoryDocumentStore
from domain.applications import (
    ApplicationStatus,
    ApplicationView,
    DocumentKind,
    UnreadableApplication,
    application_key,
    parse_application,
    received_event,
)
from tests.temporal_support import TEST_KEYS

AT = datetime(2026, 12, 2, tzinfo=UTC)


def linkedin_application(**more: Any) -> dict[str, Any]:
    """The secondary source's shape, with the answer forms it lists."""
    return {
        "type": "EXPORT_JOB_APPLICATION",
        "jobApplicationId": "urn:li:jobApplication:6932",
        "jobApplicant": "urn:li:person:abc",
        "appliedAt": 1_764_669_600_000,
        "questionResponses": {
            "contactInformationQuestionResponses": {
                "firstNameAnswer": {"value": "Grace"},
                "lastNameAnswer": {"value": "Hopper"},
                "emailAnswer": {"value": "grace@example.com"},
                "cellphoneNumberQuestionAnswer": {"countryCode": "us", "nationalNumber": "555"},
            },
            "resumeQuestionResponses": {
                "resumeQuestionAnswer": {
                    "mediaUrn": "urn:li:media:1",
                    "mediaUrl": "https://www.linkedin.com/ambry/?x-li-ambry-ep=abc",
                }
            },
            "workQuestionResponses": {"workExperienceQuestionSetResponses": [{"title": "x"}]},
            "additionalQuestionResponses": {
                "customQuestionSetResponses": [
                    {
                        "customQuestionResponses": [
                            {
                                "questionIdentifier": "authorized",
                                "answer": {"multipleChoiceAnswerValue": {"symbolicNames": ["YES"]}},
                            },
                            {
                                "questionIdentifier": "urn:li:question:(1,years)",
                                "answer": {"numericAnswerValue": {"decimalValue": 7.5}},
                            },
                            {
                                "questionIdentifier": "pitch",
                                "answer": {"textAnswerValue": {"value": "I ship."}},
                            },
                        ]
                    }
                ]
            },
        },
        "applicantSkills": [
            {"skillUrn": "urn:li:skill:1", "skillName": "COBOL", "jobMatched": True},
        ],
        **more,
    }


def test_an_application_is_read_with_its_answers_by_the_ats_question_ids() -> None:
    parsed = parse_application(linkedin_application())
    assert parsed.key == "6932" and parsed.job_application_id == "urn:li:jobApplication:6932"
    assert parsed.contact.email == "grace@example.com" and parsed.contact.phone
    values = {a.partner_question_identifier: a.value for a in parsed.answers}
    assert values == {"authorized": ["YES"], "(1,years)": 7.5, "pitch": "I ship."}
    assert [d.kind for d in parsed.documents] == [DocumentKind.RESUME]
    assert "workQuestionResponses" in parsed.other_responses
    assert parsed.skills[0].name == "COBOL"


def test_what_the_source_does_not_show_is_read_where_it_is_found() -> None:
    body = linkedin_application()
    body["questionResponses"]["contactInformationQuestionResponses"]["customQuestionResponses"] = [
        {"partnerQuestionIdentifier": "pronouns", "answer": {"textAnswerValue": {"value": "she"}}}
    ]
    parsed = parse_application(body)
    assert "pronouns" in {a.partner_question_identifier for a in parsed.answers}
    assert parse_application({"jobApplicationId": "77"}).key == "77"
    bad_bodies: list[Any] = [{}, {"jobApplicationId": "urn:li:jobApplication:../x"}, []]
    for bad in bad_bodies:
        with pytest.raises(UnreadableApplication, match=r"jobApplicationId|object"):
            parse_application(bad)
    with pytest.raises(UnreadableApplication):
        application_key("a" * 101)


def test_the_ats_event_names_answers_contact_skills_and_document_links() -> None:
    parsed = parse_application(linkedin_application())
    view = ApplicationView(
        customer_id="acme/eu",
        key=parsed.key,
        job_application_id=parsed.job_application_id,
        status=ApplicationStatus.READY,
        received_at=AT,
        erase_at=AT,
        application=parsed,
    )
    event = received_event(view, AT)
    assert event.type == "application.received" and event.id == received_event(view, AT).id
    assert event.data["answers"]["authorized"] == ["YES"]
    assert event.data["source"] == "LinkedIn apply"


async def test_documents_are_sealed_at_rest_bound_to_their_application_and_erased(
    tmp_path: Path,
) -> None:
    store = DirectoryDocumentStore(tmp_path, TEST_KEYS)
    stored = await store.put("acme", "1", DocumentKind.RESUME, b"%PDF secret cv", "application/pdf")
    assert stored.size == 14 and len(stored.sha256) == 64
    files = files_under(tmp_path)
    assert len(files) == 1 and b"secret" not in files[0].read_bytes()
    assert "acme" not in str(files[0])
    found = await store.get("acme", "1", DocumentKind.RESUME)
    assert found is not None and found[0] == b"%PDF secret cv"
    assert await store.get("acme", "1", DocumentKind.COVER_LETTER) is None

    # a file moved under another application does not open
    await store.put("acme", "2", DocumentKind.RESUME, b"other", "application/pdf")
    other = next(p for p in files_under(tmp_path) if p != files[0])
    shutil.copy(files[0], other)
    with pytest.raises(PayloadKeyError, match="does not open"):
        await store.get("acme", "2", DocumentKind.RESUME)

    # a rotated key still opens what the old one sealed
    rotated = DirectoryDocumentStore(tmp_path, TEST_KEYS.with_new_key())
    assert (await rotated.get("acme", "1", DocumentKind.RESUME)) is not None
    foreign = DirectoryDocumentStore(tmp_path, PayloadKeys.parse(_other_key(), "test"))
    with pytest.raises(PayloadKeyError, match="not among the payload keys"):
        await foreign.get("acme", "1", DocumentKind.RESUME)

    assert await store.erase("acme", "1") == 1
    assert await store.get("acme", "1", DocumentKind.RESUME) is None


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _other_key() -> str:
    import base64

    return "other:" + base64.b64encode(b"k" * 32).decode()


async def test_documents_in_postgresql_are_sealed_shared_and_erased(postgres_url: str) -> None:
    import psycopg
    from pydantic import SecretStr

    from client.documents import TABLE, PostgresDocumentStore

    one = PostgresDocumentStore(SecretStr(postgres_url), TEST_KEYS)
    other = PostgresDocumentStore(SecretStr(postgres_url), TEST_KEYS)  # another worker
    try:
        await one.put("acme", "1", DocumentKind.RESUME, b"%PDF secret cv", "application/pdf")
        found = await other.get("acme", "1", DocumentKind.RESUME)
        assert found is not None and found[0] == b"%PDF secret cv"
        assert found[1].content_type == "application/pdf"
        async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
            rows = await (await conn.execute(f"SELECT owner, sealed FROM {TABLE}")).fetchall()
        assert len(rows) == 1 and "acme" not in rows[0][0] and b"secret" not in bytes(rows[0][1])
        assert await other.get("acme", "2", DocumentKind.RESUME) is None
        assert await other.erase("acme", "1") == 1
        assert await one.get("acme", "1", DocumentKind.RESUME) is None
    finally:
        await one.aclose()
        await other.aclose()


async def test_after_the_retention_period_documents_and_personal_data_are_erased(
    time_skipping_env: Any, tmp_path: Path
) -> None:
    """The retention timer, on a time-skipping server: 30 days pass in a moment."""
    import uuid

    from pydantic import SecretStr

    from domain.applications import (
        APPLICATION_QUERY,
        APPLICATION_WORKFLOW_TYPE,
        ReceivedApplication,
    )
    from settings import Settings
    from tests.temporal_support import TEST_KEYS_TEXT
    from workers.worker import running_worker

    settings = Settings(
        task_queue=f"tq-{uuid.uuid4()}",
        data_dir=tmp_path,
        payload_keys=SecretStr(TEST_KEYS_TEXT),
        webhooks=False,
    )
    store = DirectoryDocumentStore(settings.documents_path, TEST_KEYS)
    await store.put("acme", "6932", DocumentKind.RESUME, b"%PDF cv", "application/pdf")
    client = time_skipping_env.client
    async with running_worker(client, settings):
        handle = await client.start_workflow(
            APPLICATION_WORKFLOW_TYPE,
            ReceivedApplication(
                customer_id="acme",
                key="6932",
                received_at=await time_skipping_env.get_current_time(),
                body=linkedin_application(),
                signature_form="a",
                webhooks=False,
                retention_days=30,
            ),
            id=f"application/acme/6932-{uuid.uuid4().hex[:6]}",
            task_queue=settings.task_queue,
        )
        kept = await handle.query(APPLICATION_QUERY, result_type=ApplicationView)
        assert kept.application is not None and kept.application.contact.first_name == "Grace"
        await time_skipping_env.sleep(31 * 24 * 3600)
        ended = ApplicationView.model_validate(await handle.result())
    assert ended.status == ApplicationStatus.ERASED and ended.application is None
    assert await store.get("acme", "6932", DocumentKind.RESUME) is None
