"""Every message a page can show exists in Swedish and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skyddat_boende.web.i18n import LANGUAGES, TEXTS, translate

CONSISTENCY = Path(__file__).resolve().parents[2] / "skyddat_boende" / "placement_requests" / "consistency.py"


def test_every_contradiction_rule_is_translated():
    rules = set(re.findall(r'rule="([a-z_]+)"', CONSISTENCY.read_text()))
    assert len(rules) >= 10
    values = {"count": 2, "km": 1900, "farthest_km": 1450, "days": 365}
    for rule in rules:
        key = f"contradiction_{rule}"
        assert key in TEXTS, key
        swedish, english = (translate(lang, key, **values) for lang in LANGUAGES)
        assert swedish != english and "{" not in swedish + english


def test_language_follows_the_switch_then_the_browser():
    from skyddat_boende.web.i18n import language_of

    assert language_of(None) == "sv"
    assert language_of(None, "en-GB,en;q=0.9") == "en"
    assert language_of(None, "de-DE, sv;q=0.8, en;q=0.5") == "sv"  # first supported wins
    assert language_of({"lang": "sv"}, "en-US") == "sv"  # the switch beats the browser
    assert language_of(None, "fr, de") == "sv"


def test_the_catalogue_refuses_a_key_defined_twice_or_missing_a_language(tmp_path):
    from skyddat_boende.web.i18n import load_catalogue

    twice = tmp_path / "twice.toml"
    twice.write_text('[common]\nbeds = ["Bäddar", "Beds"]\n[housing]\nbeds = ["Sängar", "Beds"]\n[rules]\n')
    with pytest.raises(ValueError, match="beds"):
        load_catalogue(twice)
    english_only = tmp_path / "english_only.toml"
    english_only.write_text('[common]\nbeds = ["Beds"]\n[rules]\n')
    with pytest.raises(ValueError, match="one text per language"):
        load_catalogue(english_only)
