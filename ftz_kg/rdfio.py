"""Reading and writing RDF files: clear syntax errors, deterministic Turtle, atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rdflib import Graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from .curated import read_text
from .errors import InputError


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse a Turtle file, turning syntax errors into InputError with file, line and column."""
    text = read_text(Path(path))
    graph = graph if graph is not None else Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=Path(path).resolve().as_uri())
    except BadSyntax as exc:
        offset = getattr(exc, "_i", 0)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        why = getattr(exc, "_why", "bad syntax")
        raise InputError(f"Turtle syntax error: {why}", path=str(path), line=line, column=column) from None
    except Exception as exc:  # rdflib raises plain exceptions for e.g. bad literals or IRIs
        raise InputError(f"cannot parse as Turtle: {exc}", path=str(path)) from None
    return graph


def serialize_turtle(graph: Graph) -> bytes:
    """Turtle whose bytes depend only on the triples (rdflib sorts subjects and predicates)."""
    return graph.serialize(format="turtle", encoding="utf-8")


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename: readers never see half a file,
    and on any failure the old file is left untouched and no temporary file stays behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)   # an ordinary readable file, not mkstemp's private 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
