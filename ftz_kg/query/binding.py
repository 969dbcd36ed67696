"""Binding canned-query parameters as RDF terms.

Values are never pasted into the query text as text: each becomes an RDF term (an IRI, or a
literal with every special character escaped) in a VALUES block joined at the top of the
query's WHERE clause, so the same bound query runs unchanged on any SPARQL 1.1 store. A value
that names an entity (by IRI, id or any label, Chinese or English, full or short) is resolved
to its IRI by a lookup query bound the same way; a value that resolves to nothing stays a plain
literal, which matches no IRI, so odd input simply matches nothing.
"""

from __future__ import annotations

import re

from pyoxigraph import NamedNode
from rdflib import Literal, URIRef

from ftz_kg.query.catalogue import CannedQuery, Param
from ftz_kg.errors import FtzKgError
from ftz_kg.query.store import SelectResult

# \Z, not $: `$` also matches before a final newline, which would let "http://x\n" pass as an IRI
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|^`\\\x00-\x20]*\Z")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,4000}\Z")  # int() refuses more than 4300 digits
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def is_iri(text: str) -> bool:
    """An absolute IRI that every store's parser accepts (RFC 3987, checked by Oxigraph's parser)."""
    if not _IRI.match(text):
        return False
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True


class ParameterError(FtzKgError):
    """A missing, unknown or ill-typed canned-query parameter."""

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


def sparql_term(term) -> str:
    """An RDF term in SPARQL syntax, escaped so that no value can leave its term."""
    if isinstance(term, URIRef):
        if not is_iri(str(term)):
            raise ValueError(f"not an IRI: {str(term)!r}")
        return f"<{term}>"
    if isinstance(term, Literal):
        text = str(term)
        escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                   .replace("\r", "\\r").replace("\t", "\\t").replace("\b", "\\b").replace("\f", "\\f"))
        body = f'"{escaped}"'
        if term.language:
            return f"{body}@{term.language}"
        if term.datatype is not None and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            return f"{body}^^{sparql_term(URIRef(term.datatype))}"
        return body
    raise TypeError(f"cannot bind {term!r}")


def _skip_string(text: str, i: int) -> int:
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        return len(text) if end < 0 else end + 3
    i += 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def where_brace(query: str) -> int:
    """The index just after the opening brace of the query's top-level WHERE clause."""
    i, depth, seen_where, n = 0, 0, False, len(query)
    while i < n:
        c = query[i]
        if c == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'":
            i = _skip_string(query, i)
            continue
        if c == "<":
            match = re.compile(r"<[^\s<>\"{}|^`\\]*>").match(query, i)
            if match:
                i = match.end()
                continue
        if c == "{":
            if depth == 0 and seen_where:
                return i + 1
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and query[i:i + 5].upper() == "WHERE" and not query[i - 1:i].isalnum() \
                and not query[i + 5:i + 6].isalnum():
            seen_where = True
            i += 5
            continue
        i += 1
    raise ValueError("the query has no WHERE clause")


def with_values(query: str, bindings: dict[str, object]) -> str:
    """The query with `bindings` (variable name -> rdflib term) joined at the top of WHERE."""
    if not bindings:
        return query
    names = list(bindings)
    block = (f" VALUES ({' '.join('?' + n for n in names)}) "
             f"{{ ({' '.join(sparql_term(bindings[n]) for n in names)}) }} ")
    at = where_brace(query)
    return query[:at] + block + query[at:]


LOOKUP = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?entity ?how WHERE {
  ?entity a ?type .
  ?type rdfs:subClassOf* ?class .
  OPTIONAL { ?entity skos:prefLabel|skos:altLabel|skos:hiddenLabel|<http://data.europa.eu/eli/ontology#id_local> ?label }
  BIND (LCASE(STR(?text)) AS ?needle)
  BIND (IF(STR(?entity) = STR(?text) || STRENDS(STR(?entity), CONCAT("/", ?needle))
           || LCASE(STR(?label)) = ?needle, 1,
           IF(CONTAINS(LCASE(STR(?label)), ?needle), 2, 0)) AS ?how)
  FILTER (?how > 0)
}
"""


# A parameter of class owl:Thing takes an entity of any kind that carries statements (a measure,
# a zone, an agency, a concept ...): the lookup drops the class test.
ANY_ENTITY = "http://www.w3.org/2002/07/owl#Thing"
LOOKUP_ANY = LOOKUP.replace("?type rdfs:subClassOf* ?class .",
                            "FILTER EXISTS { ?statement <https://w3id.org/ftz-kg/def#statementSubject> ?entity }")


def resolve_entity(engine, value: str, entity_class: str) -> URIRef | None:
    """The one entity of `entity_class` that `value` names, or None."""
    if entity_class == ANY_ENTITY:
        query = with_values(LOOKUP_ANY, {"text": Literal(value)})
    else:
        query = with_values(LOOKUP, {"text": Literal(value), "class": URIRef(entity_class)})
    result = engine.query(query)
    assert isinstance(result, SelectResult)
    exact = {row[0] for row in result.rows if int(row[1]) == 1}
    if len(exact) == 1:
        return URIRef(exact.pop())
    if exact:
        return None
    if len(value) < 2 or not any(c.isalnum() for c in value):
        return None  # a fragment too small to name anything by itself
    partial = {row[0] for row in result.rows}
    return URIRef(partial.pop()) if len(partial) == 1 else None


def _shown(value: str) -> str:
    """A value quoted for an error message, cut short: the message is one line, not the value back."""
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _term(engine, param: Param, value: str):
    if _SURROGATE.search(value):
        # what Python makes of bytes that are not UTF-8 (in argv, say): no store can be sent it
        raise ParameterError(f"parameter {param.name!r} is not valid UTF-8 text; got {_shown(value)}", param.name)
    if param.enumerate and value not in param.enumerate:
        raise ParameterError(f"parameter {param.name!r} must be one of {', '.join(param.enumerate)}; "
                             f"got {_shown(value)}", param.name)
    if param.type == "integer":
        if not _INTEGER.match(value):
            raise ParameterError(f"parameter {param.name!r} expects an integer; got {_shown(value)}", param.name)
        return Literal(int(value))
    if param.type == "string":
        return Literal(value)
    # iri
    if param.entity_class:
        entity = resolve_entity(engine, value, param.entity_class)
        return entity if entity is not None else Literal(value)
    return URIRef(value) if is_iri(value) else Literal(value)


def bind(query: CannedQuery, values: dict[str, str], engine) -> str:
    """The canned query's text with every parameter bound; raises ParameterError on bad input."""
    unknown = sorted(set(values) - {p.name for p in query.params})
    if unknown:
        expected = ", ".join(f"{p.name} ({p.type})" for p in query.params) or "none"
        raise ParameterError(f"unknown parameter {unknown[0]!r} for query {query.name!r}; expected: {expected}",
                             unknown[0])
    bindings = {}
    for param in query.params:
        value = values.get(param.name, param.default)
        if value is None:
            raise ParameterError(f"missing parameter {param.name!r} ({param.type}"
                                 f"{', ' + param.description if param.description else ''}) for query "
                                 f"{query.name!r}", param.name)
        bindings[param.variable] = _term(engine, param, value)
    return with_values(query.text, bindings)
