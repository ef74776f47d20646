"""Swedish first, English on request: every text a page shows, by key, from data/texts.toml.
Templates call `t("key", **values)`."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

CATALOGUE = Path(__file__).parent / "data" / "texts.toml"


def load_catalogue(path: Path = CATALOGUE) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """The page texts (every table but [rules], one namespace) and the rule texts, each as (Swedish, English)."""
    tables = tomllib.loads(path.read_text(encoding="utf-8"))
    texts: dict[str, tuple[str, str]] = {}
    for name, table in tables.items():
        if name == "rules":
            continue
        twice = texts.keys() & table.keys()
        if twice:
            raise ValueError(f"{path.name}: [{name}] defines again {sorted(twice)}")
        texts.update(table)
    rules = tables["rules"]
    for key, pair in [*texts.items(), *rules.items()]:
        if not (isinstance(pair, list) and len(pair) == len(LANGUAGES) and all(isinstance(s, str) for s in pair)):
            raise ValueError(f"{path.name}: {key} needs one text per language {LANGUAGES}")
    return ({key: tuple(pair) for key, pair in texts.items()}, {key: tuple(pair) for key, pair in rules.items()})


TEXTS, RULE_TEXTS = load_catalogue()


def language_of(session: Mapping[str, Any] | None, accept_language: str = "") -> str:
    """The language chosen with the switch; before any choice, the browser's first supported language."""
    lang = (session or {}).get("lang")
    if lang in LANGUAGES:
        return lang
    for entry in accept_language.split(",")[:10]:
        code = entry.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def translate(lang: str, key: str, **values: Any) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[LANGUAGES.index(lang)]
    return text.format(**values) if values else text


def translate_count(lang: str, key: str, n: int, **values: Any) -> str:
    """Singular from `key_one` when there is exactly one (\"1 vuxen\", not \"1 vuxna\")."""
    return translate(lang, key + "_one" if n == 1 and key + "_one" in TEXTS else key, n=n, **values)


def shown_status(status: str, beds_taken: int, beds: int) -> str:
    """What a unit's badge says: a unit marked free whose beds are all taken is shown taken, and one
    with some beds taken as partly taken, so the badge never contradicts the bed count next to it."""
    if status != "available" or beds_taken == 0:
        return status
    return "occupied" if beds_taken >= beds else "partly"


def rule_text(lang: str, rule: str) -> str:
    pair = RULE_TEXTS.get(rule)
    return pair[LANGUAGES.index(lang)] if pair else rule.replace("_", " ")
