"""Answers bounded in rows and in bytes, written in the query worker (`serve --max-rows`, `--max-bytes`).

The engine's own serialisers are several times faster than Python, so every answer is first
written by the engine into a buffer that refuses to grow past the byte limit: a small answer
costs nothing more, and a huge one is stopped as soon as it reaches the limit, never built whole.
Only an answer over a limit is written again, row by row (or triple by triple), by the writers
below: they stop at the last whole row that fits and close the document, so a cut answer is a
complete, valid document in its format and never larger than the limit (unless the empty
document alone, its header of variable names, is larger).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
COMPACT = {"ensure_ascii": False, "separators": (",", ":")}


class Overflow(Exception):
    """The answer is larger than the byte limit."""


class CappedBuffer:
    """A binary file that holds at most `limit` bytes: the write that would pass it raises Overflow."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        size = len(data)
        if self.size + size > self.limit:
            raise Overflow
        self.parts.append(bytes(data))
        self.size += size
        return size

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def least_size(term) -> int:
    """A lower bound of the bytes a term takes in any format: the characters of its value(s).
    Checked before a term is written, so that one enormous value is never written only to be cut."""
    if term is None:
        return 0
    if isinstance(term, ox.Triple):
        return sum(least_size(part) for part in term)
    return len(term.value)


def _capped(head: bytes, rows: Iterable, least: Callable, render: Callable, sep: bytes, foot: bytes,
            max_rows: int, max_bytes: int) -> tuple[bytes, str | None]:
    """head, the rows joined by sep, foot: at most max_rows rows and max_bytes bytes in all.
    Returns the document and what cut it short: None, "rows" or "bytes"."""
    parts = [head]
    size = len(head) + len(foot)
    count = 0
    cut = None
    for row in rows:
        if count == max_rows:
            cut = "rows"
            break
        extra = len(sep) if count else 0
        if size + extra + least(row) > max_bytes:
            cut = "bytes"
            break
        piece = render(row)
        if size + extra + len(piece) > max_bytes:
            cut = "bytes"
            break
        if extra:
            parts.append(sep)
        parts.append(piece)
        size += extra + len(piece)
        count += 1
    parts.append(foot)
    return b"".join(parts), cut


# ---------------------------------------------------------------- SELECT: the four results formats

def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _xml_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\r", "&#13;"))


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            attributes = f' xml:lang="{_xml_escape(term.language)}"'
        elif term.datatype.value != XSD_STRING:
            attributes = f' datatype="{_xml_escape(term.datatype.value)}"'
        else:
            attributes = ""
        return f"<literal{attributes}>{_xml_escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
            f"</predicate><object>{_xml_term(term.object)}</object></triple>")


def _csv_field(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = "_:" + term.value
    elif isinstance(term, (ox.NamedNode, ox.Literal)):
        text = term.value
    else:
        text = str(term)
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        text = '"' + text.replace('"', '""') + '"'
    return text


def _tsv_field(term) -> str:
    # terms in their N-Triples form, which escapes newlines; tabs are escaped too, as TSV needs
    return "" if term is None else str(term).replace("\t", "\\t")


def _select_format(writer: str, variables: list[str]):
    """(head, render(row), separator, foot) of a results format; a row is a tuple of terms or None."""
    if writer == "sparql-json":
        head = '{"head":{"vars":' + json.dumps(variables, **COMPACT) + '},"results":{"bindings":['
        return (head.encode(), lambda row: json.dumps(
            {v: _json_term(t) for v, t in zip(variables, row) if t is not None}, **COMPACT).encode(),
            b",", b"]}}")
    if writer == "sparql-xml":
        head = ('<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
                + "".join(f'<variable name="{_xml_escape(v)}"/>' for v in variables) + "</head><results>")
        return (head.encode(), lambda row: ("<result>" + "".join(
            f'<binding name="{_xml_escape(v)}">{_xml_term(t)}</binding>' for v, t in zip(variables, row)
            if t is not None) + "</result>").encode(), b"", b"</results></sparql>")
    if writer == "csv":
        return (",".join(_csv_field(ox.Literal(v)) for v in variables).encode() + b"\r\n",
                lambda row: (",".join(_csv_field(t) for t in row) + "\r\n").encode(), b"", b"")
    if writer == "tsv":
        return (("\t".join("?" + v for v in variables) + "\n").encode(),
                lambda row: ("\t".join(_tsv_field(t) for t in row) + "\n").encode(), b"", b"")
    raise ValueError(f"unknown results format {writer!r}")


def select_answer(solutions, writer: str, max_rows: int, max_bytes: int) -> tuple[bytes, str | None]:
    """A SELECT answer (an engine's QuerySolutions) in `writer`'s format, cut at the limits."""
    variables = [v.value for v in solutions.variables]
    head, render, sep, foot = _select_format(writer, variables)
    rows = (tuple(solution[v] for v in variables) for solution in solutions)
    return _capped(head, rows, lambda row: sum(least_size(t) for t in row), render, sep, foot, max_rows, max_bytes)


# ---------------------------------------------------------------- CONSTRUCT and DESCRIBE

def _spliced(fmt) -> tuple[bytes, bytes, bytes]:
    """(head, separator, foot) around the engine's serialisation of one triple in `fmt`: N-Triples
    and Turtle (without prefixes) are a line per triple, JSON-LD an array of node objects, RDF/XML
    one rdf:Description per triple inside one rdf:RDF."""
    if fmt == ox.RdfFormat.JSON_LD:
        return b"[", b",", b"]"
    if fmt == ox.RdfFormat.RDF_XML:
        empty = ox.serialize([], format=fmt)
        foot = b"</rdf:RDF>"
        if not empty.endswith(foot):
            raise ValueError("unexpected RDF/XML from the engine")
        return empty[:-len(foot)], b"", foot
    return b"", b"", b""


def graph_answer(triples: list, fmt, max_bytes: int) -> tuple[bytes, str | None]:
    """Triples (already at most max_rows of them) in the RDF format `fmt`, cut at max_bytes: each
    triple is written by the engine on its own and the pieces joined into one document."""
    head, sep, foot = _spliced(fmt)

    def render(triple) -> bytes:
        whole = ox.serialize([triple], format=fmt)
        if not (whole.startswith(head) and whole.endswith(foot)):
            raise ValueError("unexpected serialisation from the engine")
        return whole[len(head):len(whole) - len(foot)]

    return _capped(head, triples, least_size, render, sep, foot, len(triples), max_bytes)
