"""The UI strings of every page in both languages, read from one catalogue (strings.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ftz_kg.resources import load_yaml
CATALOGUE = Path(__file__).with_name("strings.yaml")
LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """{lang: {key: text}}; a key missing a language is an error naming the key."""
    entries = load_yaml(CATALOGUE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for key, texts in entries.items():
        for lang in LANGS:
            if not isinstance(texts, dict) or not texts.get(lang):
                raise ValueError(f"{CATALOGUE.name}: string {key!r} has no {lang!r} text")
            out[lang][key] = str(texts[lang])
    return out
