"""Checks a SPARQL request must pass before anything runs.

A public endpoint refuses what it does not need: updates of any kind, `SERVICE` (rdflib and
other engines would make outbound requests), `FROM` / `FROM NAMED` naming anything but our own
graph (engines may load files or URLs), oversized and absurdly nested queries. The checks work on
a token scan that skips strings, IRIs and comments, so they are cheap and never run the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import FtzKgError

# The dataset's own graph IRI: FROM <this> (or default-graph-uri=this) is the default graph.
DATASET_GRAPH = "https://w3id.org/ftz-kg/graph"

MAX_QUERY_BYTES = 64 * 1024
MAX_NESTING = 48

_UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>\S)
""", re.X)


class Refused(FtzKgError):
    """A request the endpoint will not run; carries the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Checked:
    form: str            # select | ask | construct | describe


def check_query(query: str) -> Checked:
    """Vet a query's text; returns its form or raises Refused."""
    if len(query.encode("utf-8")) > MAX_QUERY_BYTES:
        raise Refused(413, f"query longer than {MAX_QUERY_BYTES} bytes")
    if not query.strip():
        raise Refused(400, "empty query")
    depth = deepest = 0
    form = None
    previous = None
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        text = match.group()
        if kind in ("comment", "string"):
            continue
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                raise Refused(400, f"query nested deeper than {MAX_NESTING} levels")
        elif kind == "close":
            depth -= 1
        elif kind == "word":
            word = text.upper()
            start, end = match.span()
            if query[start - 1:start] == ":" or query[end:end + 1] == ":":
                previous = None  # part of a prefixed name such as schema:Service, not a keyword
                continue
            if form is None and word in _UPDATE_KEYWORDS and previous not in ("PREFIX", "BASE"):
                raise Refused(403, "this endpoint is read-only: SPARQL updates are refused")
            if form is None and word in _FORMS:
                form = word.lower()
            if word == "SERVICE":
                raise Refused(400, "SERVICE (federated query) is not allowed on this endpoint")
        elif kind == "iri" and previous in ("FROM", "NAMED") and text[1:-1] != DATASET_GRAPH:
            raise Refused(400, f"FROM may only name this dataset's graph <{DATASET_GRAPH}>")
        if kind == "word":
            previous = text.upper()
        elif kind != "comment":
            previous = None if kind != "iri" else "IRI"
    if form is None:
        raise Refused(400, "not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE expected)")
    return Checked(form)


def check_dataset(default_graphs: list[str], named_graphs: list[str]) -> None:
    """The protocol's default-graph-uri / named-graph-uri: only our own graph, never ignored."""
    for iri in default_graphs:
        if iri != DATASET_GRAPH:
            raise Refused(400, f"default-graph-uri must be <{DATASET_GRAPH}>; this endpoint serves one dataset")
    for iri in named_graphs:
        if iri != DATASET_GRAPH:
            raise Refused(400, f"named-graph-uri must be <{DATASET_GRAPH}>; this endpoint serves one dataset")
