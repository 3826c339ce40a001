"""URNs, LinkedIn's integration entity keys and the widget's callback values."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.integrations import (
    BUNDLE_TYPES,
    TENANT_TYPE,
    IntegrationBundle,
    IntegrationKey,
    IntegrationKeyError,
    IntegrationType,
    WidgetCallback,
    integration_types,
)
from domain.urns import UrnError, parse_urn, urn_id

ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.",
    min_size=1,
    max_size=20,
)


@st.composite
def keys(draw: st.DrawFn) -> IntegrationKey:
    kind = draw(st.sampled_from(list(IntegrationType)))
    uses_contract = kind in (IntegrationType.PREMIUM_JOB_POSTING, IntegrationType.CSA_API)
    context = f"urn:li:{'contract' if uses_contract else 'organization'}:{draw(ids)}"
    return IntegrationKey.for_type(context, kind)


@given(keys(), st.booleans(), st.randoms())
def test_key_round_trips_in_any_order_encoded_or_not(
    key: IntegrationKey, encode: bool, rnd: random.Random
) -> None:
    pieces = key.render(encode_context=encode).split("&")
    rnd.shuffle(pieces)
    assert IntegrationKey.parse("&".join(pieces)) == key


def test_key_parses_seed_001_answer_key() -> None:
    raw = (
        "integrationType=APPLY_WITH_LINKEDIN&tenantType=JOBS&dataProvider=ATS"
        "&integrationContext=urn%3Ali%3Aorganization%3A4gX03uw"
    )
    key = IntegrationKey.parse(raw)
    assert key.integration_context == "urn:li:organization:4gX03uw"
    assert key.render() == (
        "integrationContext=urn:li:organization:4gX03uw&integrationType="
        "APPLY_WITH_LINKEDIN&tenantType=JOBS&dataProvider=ATS"
    )


@pytest.mark.parametrize(
    "raw, problem",
    [
        (
            "integrationContext=urn:li:contract:1&integrationType=PREMIUM_JOB_POSTING&tenantType=JOBS",
            "missing dataProvider",
        ),
        (
            "integrationContext=urn:li:contract:1&integrationType=PREMIUM_JOB_POSTING&tenantType=JOBS"
            "&dataProvider=ATS&colour=red",
            "unexpected part",
        ),
    ],
)
def test_incomplete_or_odd_keys_are_refused(raw: str, problem: str) -> None:
    with pytest.raises(IntegrationKeyError, match=problem):
        IntegrationKey.parse(raw)


def test_key_rejects_wrong_tenant_and_context_kind() -> None:
    with pytest.raises(ValidationError, match="tenantType: must be JOBS"):
        IntegrationKey(
            integration_context="urn:li:contract:1",
            integration_type=IntegrationType.PREMIUM_JOB_POSTING,
            tenant_type="RECRUITER",
        )
    with pytest.raises(ValidationError, match="urn:li:contract:<id>"):
        IntegrationKey.for_type("urn:li:organization:1", IntegrationType.PREMIUM_JOB_POSTING)


def test_every_type_has_a_tenant() -> None:
    assert set(TENANT_TYPE) == set(IntegrationType)


def test_types_are_those_linkedin_keys_atsintegrations_by() -> None:
    """RSC is four RECRUITER types (LinkedIn's RSC collection); the bundles are not keys."""
    assert {t: str(TENANT_TYPE[t]) for t in IntegrationType} == {
        "PREMIUM_JOB_POSTING": "JOBS",
        "APPLY_WITH_LINKEDIN": "JOBS",
        "APPLY_CONNECT": "JOBS",
        "ONE_CLICK_EXPORT": "RECRUITER",
        "IN_ATS_INDICATOR": "RECRUITER",
        "PROFILE_PLUGIN": "RECRUITER",
        "CSA_API": "RECRUITER",
    }
    assert "RECRUITER_SYSTEM_CONNECT_COMPANY" not in IntegrationType.__members__
    IntegrationKey.for_type("urn:li:contract:7", IntegrationType.CSA_API)
    IntegrationKey.for_type("urn:li:organization:7", IntegrationType.PROFILE_PLUGIN)
    with pytest.raises(ValidationError, match="urn:li:contract:<id>"):
        IntegrationKey.for_type("urn:li:organization:7", IntegrationType.CSA_API)


def test_bundles_map_to_the_key_types_they_enable() -> None:
    assert set(BUNDLE_TYPES) == set(IntegrationBundle)
    assert integration_types(["RECRUITER_SYSTEM_CONNECT_COMPANY", "PREMIUM_JOB_POSTING"]) == [
        IntegrationType.ONE_CLICK_EXPORT,
        IntegrationType.IN_ATS_INDICATOR,
        IntegrationType.PROFILE_PLUGIN,
        IntegrationType.PREMIUM_JOB_POSTING,
    ]
    assert integration_types(["RECRUITER_SYSTEM_CONNECT_CONTRACT", "CSA_API"]) == [
        IntegrationType.CSA_API
    ]
    with pytest.raises(ValueError, match="'NOPE' is not an integration type or bundle"):
        integration_types(["NOPE"])


def test_urns() -> None:
    assert parse_urn("urn:li:contract:123", "contract") == ("contract", "123")
    assert urn_id("urn:li:organization:4gX03uw") == "4gX03uw"
    with pytest.raises(UrnError, match="urn:li:contract:<id>"):
        parse_urn("urn:li:organization:1", "contract")
    with pytest.raises(UrnError):
        parse_urn("contract:1")


def test_widget_callback_takes_the_four_values_from_seed_000() -> None:
    callback = WidgetCallback.model_validate(
        {
            "tenantType": "JOBS",
            "onboardingStatus": "REQUESTED",
            "integrationType": "PREMIUM_JOB_POSTING",
            "integrationContext": "urn:li:contract:77",
        }
    )
    assert callback.key == IntegrationKey.for_type(
        "urn:li:contract:77", IntegrationType.PREMIUM_JOB_POSTING
    )


def test_plugin_callback_without_status_means_requested() -> None:
    callback = WidgetCallback.model_validate(
        {
            "tenantType": "JOBS",
            "integrationType": "APPLY_WITH_LINKEDIN",
            "integrationContext": quote("urn:li:organization:9", safe=":"),
        }
    )
    assert callback.onboarding_status == "REQUESTED"


def test_widget_callback_names_the_bad_field() -> None:
    with pytest.raises(ValidationError) as info:
        WidgetCallback.model_validate(
            {
                "tenantType": "JOBS",
                "integrationType": "NOPE",
                "integrationContext": "urn:li:contract:1",
            }
        )
    assert info.value.errors()[0]["loc"] == ("integrationType",)
