"""Checks a SPARQL request must pass before anything runs.

A public endpoint refuses what it does not need: updates of any kind, `SERVICE` (Oxigraph, rdflib
and other engines make outbound requests for it), `FROM` / `FROM NAMED` naming anything but our own
graph (engines may load files or URLs), oversized and absurdly nested queries. The checks work on
a token scan that skips strings, IRIs and comments, so they are cheap and never run the query.

The scan must read the text as the engine does, or a keyword it takes for part of a string, IRI or
comment reaches the engine: comments end at CR as well as LF, IRIs may hold `\\uXXXX` escapes,
prefixed names may hold `\\#` and `\\'`, and Oxigraph matches keywords without a word boundary
(`SERVICEex:x`, `trueSERVICE`, `FROMex:g` are keywords followed by a name).
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
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$]\w*)
  | (?P<pname>(?:[^\W\d][\w.\-]*)?:(?:[\w.\-:%]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>\S)
""", re.X)
# Tokens after which `<` may be the engine's less-than rather than the start of an IRI.
_OPERANDS = {"var", "iri", "string", "pname", "number", "word", "close"}
# Inside such a `<...>`, these let the engine's reading part from ours (a comment, a string, a
# bracket we would not count), so that what we took for an IRI may hide a keyword from us.
_MISREAD = re.compile(r"[#'()\[\]]")


class Refused(FtzKgError):
    """A request the endpoint will not run; carries the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Checked:
    form: str            # select | ask | construct | describe


def _refuse_service(letters: str) -> None:
    """Any run of letters holding SERVICE: the engine reads `trueSERVICE` as `true SERVICE`."""
    if "SERVICE" in letters.upper():
        raise Refused(400, "SERVICE (federated query) is not allowed on this endpoint")


def _refuse_from() -> None:
    raise Refused(400, f"FROM may only name this dataset's graph <{DATASET_GRAPH}>")


def _opened(brackets: list[str], text: str, previous: tuple[str | None, str]) -> str:
    """What a bracket opens: `(` right after `{` or `)` inside braces is a row of VALUES or a
    collection (terms only); any other `(` may hold an expression, where `<` can mean less-than."""
    if text != "(":
        return text
    enclosing = brackets[-1] if brackets else None
    if enclosing == "list" or (enclosing == "{" and previous[1] in ("{", ")")):
        return "list"
    return "("


def _ambiguous_iri(query: str, start: int, text: str, brackets: list[str], previous: tuple[str | None, str]) -> bool:
    """`<...>` the engine may read as `<<` or as less-than, with a comment, quote or bracket inside."""
    if not _MISREAD.search(text):
        return False
    if query[start - 1:start] == "<":
        return True
    kind, previous_text = previous
    in_expression = bool(brackets) and brackets[-1] == "("
    return in_expression and kind in _OPERANDS and previous_text.upper() != "DISTINCT"


def check_query(query: str) -> Checked:
    """Vet a query's text; returns its form or raises Refused."""
    try:
        size = len(query.encode("utf-8"))
    except UnicodeEncodeError:   # lone surrogates: no engine can take them
        raise Refused(400, "query is not valid Unicode text") from None
    if size > MAX_QUERY_BYTES:
        raise Refused(413, f"query longer than {MAX_QUERY_BYTES} bytes")
    if not query.strip():
        raise Refused(400, "empty query")
    brackets: list[str] = []
    form = None
    previous: tuple[str | None, str] = (None, "")   # the last token but comments: (kind, text)
    dataset_clause = None   # after FROM: "from", then "named" after FROM NAMED
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        text = match.group()
        if kind == "comment":
            continue
        word = text.upper() if kind == "word" else None
        if dataset_clause is not None:
            if dataset_clause == "from" and word == "NAMED":
                dataset_clause = "named"
                previous = (kind, text)
                continue
            if kind != "iri" or text[1:-1] != DATASET_GRAPH:
                _refuse_from()
            dataset_clause = None
        if kind == "open":
            brackets.append(_opened(brackets, text, previous))
            if len(brackets) > MAX_NESTING:
                raise Refused(400, f"query nested deeper than {MAX_NESTING} levels")
        elif kind == "close":
            if brackets:
                brackets.pop()
        elif kind == "iri" and _ambiguous_iri(query, match.start(), text, brackets, previous):
            raise Refused(400, "ambiguous '<': put a space after '<' when comparing, and write # ' ( ) [ ] "
                               "inside IRIs as \\u0023 \\u0027 \\u0028 \\u0029 \\u005B \\u005D")
        elif kind == "pname":
            prefix = text.split(":", 1)[0]
            _refuse_service(prefix)
            if "FROM" in prefix.upper():
                _refuse_from()
        elif kind == "word":
            _refuse_service(word)
            if word == "FROM":
                dataset_clause = "from"
            elif "FROM" in word:
                _refuse_from()
            if form is None and word in _UPDATE_KEYWORDS and previous[1].upper() not in ("PREFIX", "BASE"):
                raise Refused(403, "this endpoint is read-only: SPARQL updates are refused")
            if form is None and word in _FORMS:
                form = word.lower()
        previous = (kind, text)
    if dataset_clause is not None:
        _refuse_from()
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
