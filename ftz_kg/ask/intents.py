"""Question patterns per canned query, kept beside the query as `queries/<name>.ask.yaml`.

A query without such a file is never chosen. The file says:

    column: measure              # the result column that answers (listed, counted, or its first row)
    kinds: [list, count]         # the answers it can give: list, count, top (rankings)
    phrases: [举措, measures, …]  # words that ask for this query; one at least must be in the question
                                 #   (a mapping {phrase: 2} weighs them; a reading that no mention fills
                                 #   needs a distinctive phrase, of weight 2 or more)
    exclude: [创新方式, …]        # words that rule the query out
    params:                      # how each parameter is filled
      approach: entity           #   by a mention of an entity of the parameter's class (from the .rq)
      number: batch              #   by a number: table, annex-table, box, batch, year
      part: {part2: [第二部分, part 2]}   # by phrases choosing a value
    tolerate: [zone, year=2020]  # mentions that may stay unused: entity kinds, number kinds, or a number kind
                                 #   with the one value that only describes (the 2020 experiences)
    bare: true                   # answers a question that is nothing but a mention of its entity
    negation: [scope]            # answers a question that denies a name of these kinds ("not nationwide")
    examples: [...]              # questions it answers, shown when a question is not understood
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ftz_kg.resources import load_yaml

from ftz_kg import resources
from ftz_kg.ask.normalise import normalise
from ftz_kg.errors import InputError
from ftz_kg.query.catalogue import Catalogue, CannedQuery

NUMBER_KINDS = ("table", "annex-table", "box", "batch", "year")


def phrase_key(text: str) -> str:
    """A phrase normalised like questions (the interpreter then masks and stems it as it does them)."""
    return normalise(text)


@dataclass
class Intent:
    query: CannedQuery
    column: str
    kinds: tuple[str, ...]
    phrases: dict[str, float]           # phrase key → weight
    exclude: tuple[str, ...]
    params: dict[str, object]           # name → "entity" | number kind | {value: [phrase keys]}
    tolerate: tuple[str, ...] = ()
    bare: bool = False
    negation: tuple[str, ...] = ()      # entity kinds whose denial this query answers
    examples: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.query.name


def _phrases(raw) -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(raw, dict):
        raw = [raw]
    for item in raw or []:
        if isinstance(item, dict):
            for text, weight in item.items():
                out[phrase_key(str(text))] = float(weight)
        else:
            out[phrase_key(str(item))] = 1.0
    out.pop("", None)
    return out


def load_intent(path: Path, query: CannedQuery) -> Intent:
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"bad question patterns: {exc}", path=str(path)) from None
    params: dict[str, object] = {}
    for name, how in (data.get("params") or {}).items():
        if query.param(name) is None:
            raise InputError(f"question patterns name unknown parameter {name!r} of {query.name}", path=str(path))
        if isinstance(how, dict):
            params[name] = {str(value): [phrase_key(str(p)) for p in phrases] for value, phrases in how.items()}
        elif how == "entity" or how in NUMBER_KINDS:
            params[name] = how
        else:
            raise InputError(f"parameter {name!r}: fill by 'entity', a number kind or phrases", path=str(path))
    return Intent(
        query=query, column=str(data.get("column", "")), kinds=tuple(data.get("kinds") or ("list", "count")),
        phrases=_phrases(data.get("phrases")), exclude=tuple(phrase_key(str(p)) for p in data.get("exclude") or []),
        params=params, tolerate=tuple(data.get("tolerate") or ()), bare=bool(data.get("bare")),
        negation=tuple(data.get("negation") or ()),
        examples=tuple(str(e) for e in data.get("examples") or ()), path=path)


def load_intents(catalogue: Catalogue | None = None, folder: Path | None = None) -> list[Intent]:
    """The intents of every catalogue query that has a sibling `.ask.yaml`."""
    folder = folder or resources.queries_dir()
    catalogue = catalogue or Catalogue.load(folder)
    intents = []
    for path in sorted(folder.glob("*.ask.yaml")):
        name = path.name[: -len(".ask.yaml")]
        if name in catalogue.queries:
            intents.append(load_intent(path, catalogue.queries[name]))
    return intents
