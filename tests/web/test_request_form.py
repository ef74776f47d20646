"""The request form's own checks, without a browser: every rule of the API's RequestCreate named in plain
Swedish at its field, all at once; names (municipalities, counties, languages) become codes."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from skyddat_boende.placement_requests.schemas import RequestCreate
from skyddat_boende.web.i18n import shown_status, translate_count
from skyddat_boende.web.request_form import FormErrors, Places, request_from_form
from skyddat_boende.web.staff import natural_key

TODAY = dt.date(2026, 6, 1)
PLACES = Places({"malmö": "1280", "osby": "1273", "stockholm": "0180"}, {"skåne län": "12", "uppsala län": "03"})


def _form(**changes: str) -> dict[str, str]:
    return {"case_reference": "MAL-1", "urgency": "acute", "latest_start_date": TODAY.isoformat(),
            "adult1_gender": "female", "adult1_age": "35", "security_level_needed": "2",
            "protected_data_level": "none", "min_distance_km": "0"} | changes


def _errors(**changes: str) -> dict[str, str]:
    with pytest.raises(FormErrors) as refused:
        request_from_form(_form(**changes), PLACES, "sv", TODAY)
    return refused.value.errors


def test_names_become_codes_and_the_result_is_what_the_api_takes() -> None:
    made = request_from_form(_form(languages="Arabiska, so, dari", threat1="Stockholm", min_distance_km="100",
                                   pref_county1="Skåne", excl_county1="Uppsala län", near_municipality="malmö",
                                   max_distance_km="150", urgency="days"), PLACES, "sv", TODAY)
    assert made.languages == ["ar", "fa", "so"] and made.threat_municipalities == ["0180"]
    assert made.preferred_counties == ["12"] and made.excluded_counties == ["03"]
    assert made.preferred_near_municipality == "1280" and made.max_distance_km == 150 and made.urgency == "days"
    assert msgspec.convert(msgspec.to_builtins(made), RequestCreate) == made


def test_every_wrong_field_is_named_at_once_in_swedish() -> None:
    """Input: a reference with a space, an adult of 15, a child of 19 without a decision, an unknown
    language, an unknown threat area, a date in the past, a distance without a place to measure from."""
    errors = _errors(case_reference="MAL 1", adult1_age="15", child1_age="19", languages="klingonska",
                     threat1="Gotham", latest_start_date="2026-05-01", max_distance_km="50", max_daily_rate_sek="x")
    assert errors["case_reference"].startswith("Referensen får bara innehålla")
    assert errors["adult1_age"].startswith("En vuxen är 16–110 år")
    assert errors["child1_age"].startswith("Ett barn är 0–17 år")
    assert errors["child1_decision"].startswith("Fyll i barnets beslutsreferens")
    assert errors["languages"].startswith("Okänt språk: klingonska")
    assert errors["threat1"] == "Det finns ingen kommun som heter Gotham. Välj ett namn ur listan."
    assert errors["latest_start_date"] == "Senaste startdatum har redan passerat."
    assert errors["max_distance_km"] == "Ett största avstånd behöver en kommun att mäta från."
    assert errors["max_daily_rate_sek"] == "Skriv ett heltal, bara siffror."
    assert not any("Expected" in message or "regex" in message for message in errors.values())


def test_contradictions_between_fields_are_named_where_they_are() -> None:
    errors = _errors(min_distance_km="50", pref_county1="Skåne län", excl_county1="Skåne län",
                     near_municipality="Osby", excl_municipality1="Osby",
                     child1_age="3", child1_decision="B-1", child1_gender="male",
                     child2_age="5", child2_decision="B-1", child2_gender="female")
    assert errors == {
        "child2_decision": "Två barn har samma beslutsreferens; varje barn har ett eget beslut.",
        "near_municipality": "Den önskade kommunen är också hotkommun eller utesluten.",
        "min_distance_km": "Ett minsta avstånd behöver minst en hotkommun.",
        "excl_county1": "Ett län är både önskat och uteslutet.",
    }


def test_unit_badges_counts_and_order_read_naturally() -> None:
    assert [shown_status("available", taken, 3) for taken in (0, 1, 3)] == ["available", "partly", "occupied"]
    assert shown_status("occupied", 0, 4) == "occupied" and shown_status("out_of_service", 2, 4) == "out_of_service"
    assert translate_count("sv", "adults_n", 1) == "1 vuxen" and translate_count("sv", "adults_n", 2) == "2 vuxna"
    assert sorted(["Rum 10", "rum 2", "Rum 1", "Annex"], key=natural_key) == ["Annex", "Rum 1", "rum 2", "Rum 10"]
