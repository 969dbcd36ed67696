"""The catalogue of canned queries: plain SPARQL files in queries/, with grlc-style `#+` headers.

A query's parameters follow grlc's convention: a variable `?_name_type` (for example
`?_zone_iri`, `?_lang_string`) is the parameter `name` of type `type`. The header gives the
question in English (`summary`) and Chinese (`summary_zh`), a `description`, `tags`, and per
parameter its `defaults`, `enumerate` (closed lists) and, in our `params` extension, the class
of entity an `iri` parameter names and a description.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ftz_kg.resources import load_yaml

from ftz_kg import resources
from ftz_kg.pipeline.curated import read_text
from ftz_kg.errors import FtzKgError, InputError

PARAM_VARIABLE = re.compile(r"\?_([a-z][a-z0-9]*)_(iri|string|integer)\b")
PARAM_TYPES = ("iri", "string", "integer")


class UnknownQuery(FtzKgError):
    """A query name not in the catalogue."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str                      # iri | string | integer
    variable: str                  # the SPARQL variable without '?', e.g. _zone_iri
    description: str = ""
    entity_class: str | None = None  # for iri parameters naming an entity: the class IRI
    default: str | None = None
    enumerate: tuple[str, ...] = ()
    example: str | None = None     # a value that answers something, for docs and benchmarks

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class CannedQuery:
    name: str
    path: Path
    text: str
    summary: str
    summary_zh: str
    description: str
    tags: tuple[str, ...]
    params: tuple[Param, ...] = field(default=())
    form: str = "select"           # select | ask | construct | describe

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def example_values(self) -> dict[str, str]:
        """Values for every required parameter, from the header's examples."""
        return {p.name: p.example for p in self.params if p.required and p.example is not None}


def _header(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The YAML of the `#+` lines, and for each of its lines the file line and the width of the
    `#+ ` prefix taken off it, so that a YAML error can name the file's line and column."""
    lines, origins = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#+"):
            body = line[2:].removeprefix(" ")
            lines.append(body)
            origins.append((number, len(line) - len(body)))
        elif line.strip() and not line.startswith("#"):
            break
    return "\n".join(lines), origins


_FORM = re.compile(r"^\s*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I | re.M)


def parse_query_file(path: Path) -> CannedQuery:
    text = read_text(path)
    header, origins = _header(text)
    try:
        meta = load_yaml(header) or {}
    except yaml.YAMLError as exc:
        line = column = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and origins:
            line, prefix = origins[min(mark.line, len(origins) - 1)]
            column = prefix + mark.column + 1
        raise InputError(f"bad #+ header: {getattr(exc, 'problem', None) or exc}", path=str(path),
                         line=line, column=column) from None
    if not isinstance(meta, dict):
        raise InputError("the #+ header must be a YAML mapping", path=str(path))
    for key in ("summary", "summary_zh", "description"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise InputError(f"the #+ header needs a non-empty {key!r}", path=str(path))
    defaults = _merge(meta.get("defaults"))
    enumerate_ = _merge(meta.get("enumerate"))
    declared = meta.get("params") or {}
    params = []
    for name, type_ in dict.fromkeys(PARAM_VARIABLE.findall(text)):
        info = declared.get(name) or {}
        default = defaults.get(name)
        params.append(Param(
            name=name, type=type_, variable=f"_{name}_{type_}",
            description=str(info.get("description", "")),
            entity_class=info.get("class"),
            default=None if default is None else str(default),
            enumerate=tuple(str(v) for v in enumerate_.get(name, []) or []),
            example=None if info.get("example") is None else str(info["example"]),
        ))
    unknown = set(declared) - {p.name for p in params}
    if unknown:
        raise InputError(f"#+ params names unknown parameter(s) {sorted(unknown)}", path=str(path))
    form = _FORM.search(_strip_comments(text))
    return CannedQuery(
        name=path.stem, path=path, text=text, summary=meta["summary"].strip(),
        summary_zh=meta["summary_zh"].strip(), description=" ".join(meta["description"].split()),
        tags=tuple(meta.get("tags") or ()), params=tuple(params),
        form=form.group(1).lower() if form else "select",
    )


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _merge(entries) -> dict:
    """grlc writes defaults/enumerate as a list of one-key mappings; accept a mapping too."""
    if not entries:
        return {}
    if isinstance(entries, dict):
        return entries
    merged: dict = {}
    for entry in entries:
        merged.update(entry)
    return merged


class Catalogue:
    def __init__(self, queries: dict[str, CannedQuery]):
        self.queries = dict(sorted(queries.items()))

    @classmethod
    def load(cls, folder: Path | None = None) -> "Catalogue":
        folder = folder or resources.queries_dir()
        return cls({path.stem: parse_query_file(path) for path in sorted(folder.glob("*.rq"))})

    def __iter__(self):
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def get(self, name: str) -> CannedQuery:
        if name in self.queries:
            return self.queries[name]
        close = difflib.get_close_matches(name, list(self.queries), n=3, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise UnknownQuery(f"unknown query {name!r}{hint} (see `ftz-kg queries`)")

    def search(self, words: str) -> list[CannedQuery]:
        terms = [w.casefold() for w in words.split() if w.strip()]
        hits = []
        for query in self:
            haystack = " ".join([query.name, query.summary, query.summary_zh, query.description,
                                 *query.tags]).casefold()
            if all(term in haystack for term in terms):
                hits.append(query)
        return hits
