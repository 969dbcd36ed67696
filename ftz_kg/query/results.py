"""Writing query results: an aligned terminal table (CJK-aware), CSV, TSV, JSON, the W3C
SPARQL JSON results format, and Turtle / JSON-LD for graphs."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from rdflib import BNode, Graph, Literal, URIRef

from ftz_kg.query.store import AskResult, GraphResult, Result, SelectResult
from ftz_kg.vocab import PREFIXES, bind_prefixes

FORMATS = ("table", "csv", "tsv", "json", "sparql-json", "turtle")
_PREFIXES = sorted(((str(ns), p) for p, ns in PREFIXES.items()), key=lambda x: -len(x[0]))


def compact(term) -> str:
    """A short, readable form of a term for people: prefixed IRIs, plain literal values."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        for namespace, prefix in _PREFIXES:
            if str(term).startswith(namespace):
                return f"{prefix}:{str(term)[len(namespace):]}"
        return str(term)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
               for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _rows_of(result: Result) -> tuple[list[str], list[tuple]]:
    if isinstance(result, SelectResult):
        return result.variables, result.rows
    if isinstance(result, AskResult):
        return ["result"], [(Literal(result.value),)]
    triples = sorted(result.graph, key=lambda t: tuple(str(x) for x in t))
    return ["subject", "predicate", "object"], triples


def as_table(result: Result) -> str:
    variables, rows = _rows_of(result)
    cells = [[compact(term).replace("\n", " ") for term in row] for row in rows]
    widths = [max([display_width(v)] + [display_width(r[i]) for r in cells]) for i, v in enumerate(variables)]
    lines = ["  ".join(_pad(v, w) for v, w in zip(variables, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def as_csv(result: Result) -> str:
    """W3C SPARQL 1.1 CSV: plain values, IRIs written out."""
    variables, rows = _rows_of(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow(["" if t is None else (f"_:{t}" if isinstance(t, BNode) else str(t)) for t in row])
    return out.getvalue()


def _nt(term) -> str:
    if term is None:
        return ""
    return term.n3()


def as_tsv(result: Result) -> str:
    """W3C SPARQL 1.1 TSV: terms in their N-Triples / Turtle form."""
    variables, rows = _rows_of(result)
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join(_nt(t) for t in row) for row in rows]
    return "\n".join(lines) + "\n"


def _json_term(term) -> dict:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype is not None:
        out["datatype"] = str(term.datatype)
    return out


def as_sparql_json(result: Result) -> str:
    if isinstance(result, AskResult):
        payload = {"head": {}, "boolean": result.value}
    else:
        variables, rows = _rows_of(result)
        payload = {"head": {"vars": variables},
                   "results": {"bindings": [{v: _json_term(t) for v, t in zip(variables, row) if t is not None}
                                            for row in rows]}}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def _xml_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def _xml_term(term) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{_xml_escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{_xml_escape(str(term))}</bnode>"
    attributes = ""
    if term.language:
        attributes = f' xml:lang="{_xml_escape(term.language)}"'
    elif term.datatype is not None:
        attributes = f' datatype="{_xml_escape(str(term.datatype))}"'
    return f"<literal{attributes}>{_xml_escape(str(term))}</literal>"


def as_sparql_xml(result: Result) -> str:
    """The W3C SPARQL Query Results XML Format."""
    lines = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if isinstance(result, AskResult):
        lines += ["<head/>", f"<boolean>{'true' if result.value else 'false'}</boolean>"]
    else:
        variables, rows = _rows_of(result)
        lines.append("<head>" + "".join(f'<variable name="{v}"/>' for v in variables) + "</head>")
        lines.append("<results>")
        for row in rows:
            cells = "".join(f'<binding name="{v}">{_xml_term(t)}</binding>' for v, t in zip(variables, row)
                            if t is not None)
            lines.append(f"<result>{cells}</result>")
        lines.append("</results>")
    lines.append("</sparql>")
    return "\n".join(lines) + "\n"


def as_json(result: Result) -> str:
    if isinstance(result, GraphResult):
        graph = result.graph
        bind_prefixes(graph)
        return graph.serialize(format="json-ld", sort_keys=True) + "\n"
    if isinstance(result, AskResult):
        return json.dumps(result.value) + "\n"
    variables, rows = _rows_of(result)
    return json.dumps([{v: (None if t is None else str(t)) for v, t in zip(variables, row)} for row in rows],
                      ensure_ascii=False, indent=2) + "\n"


def as_turtle(result: Result) -> str:
    if not isinstance(result, GraphResult):
        raise ValueError("turtle is for CONSTRUCT and DESCRIBE results; use table, csv, tsv, json or sparql-json")
    graph = Graph()
    for triple in result.graph:
        graph.add(triple)
    bind_prefixes(graph)
    return graph.serialize(format="turtle")


WRITERS = {"table": as_table, "csv": as_csv, "tsv": as_tsv, "json": as_json, "sparql-json": as_sparql_json,
           "sparql-xml": as_sparql_xml, "turtle": as_turtle}


def write(result: Result, fmt: str) -> str:
    if isinstance(result, GraphResult) and fmt == "table":
        fmt = "turtle"
    if fmt == "sparql-json" and isinstance(result, GraphResult):
        raise ValueError("sparql-json is for SELECT and ASK results; use turtle or json for graphs")
    return WRITERS[fmt](result)
