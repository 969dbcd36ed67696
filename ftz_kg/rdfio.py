"""Reading and writing RDF files: clear syntax errors, deterministic Turtle, atomic writes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urljoin

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.plugins.parsers.notation3 import BadSyntax

from .curated import position, read_text
from .errors import InputError

# An absolute IRI (RFC 3987): a scheme, and none of the characters Turtle forbids inside <...>.
_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|^`\\\x00-\x20]*\Z")
# rdflib cannot tell whether these lexical forms are valid (Literal.ill_typed is None for them).
_UNCHECKED_LEXICAL = {XSD.gYear: re.compile(r"^-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?\Z")}
# RDF/XML declarations that make a parser read other files or expand text without bound (XXE, billion laughs).
_XML_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# What follows `.{target}.` in the name of a temporary file or folder (see temporary_prefix).
_TEMPORARY = re.compile(r"(?P<pid>[0-9]+)\.([a-z0-9_]+\.tmp|old)")
# A statement's subject at the start of a line: an IRI or a prefixed name.
_SUBJECT = re.compile(r"^(<[^<>\s]*>|[A-Za-z][\w.-]*:[^\s;,()\[\]]*)(?=\s)")
FORMATS_BY_SUFFIX = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml", ".owl": "xml", ".xml": "xml",
                     ".jsonld": "json-ld"}


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse a Turtle file, turning syntax errors into InputError with file, line and column."""
    text = read_text(Path(path))
    graph = graph if graph is not None else Graph()
    try:
        with _quiet_rdflib():
            graph.parse(data=text, format="turtle", publicID=Path(path).resolve().as_uri())
    except BadSyntax as exc:
        line, column = position(text, getattr(exc, "_i", 0))
        why = getattr(exc, "_why", "bad syntax")
        raise InputError(f"Turtle syntax error: {why}", path=str(path), line=line, column=column) from None
    except Exception as exc:  # rdflib raises plain exceptions for e.g. bad literals or IRIs
        raise InputError(f"cannot parse as Turtle: {exc}", path=str(path)) from None
    check_terms(graph, path, text)
    return graph


def parse_rdf(path: Path) -> Graph:
    """Parse an RDF file in the format its extension names (Turtle when it names none we know).

    RDF/XML with a DOCTYPE or entity declarations, and JSON-LD whose @context is anything but
    inline objects, are refused before any parser sees them: both can make a parser read local
    files or fetch URLs, and a file named on the command line must be the only thing read."""
    path = Path(path)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower(), "turtle")
    if fmt in ("turtle", "nt"):
        # N-Triples is a subset of Turtle, whose parser names the line and column of an error
        return parse_turtle(path)
    text = read_text(path)
    if fmt == "xml":
        _refuse_xml_declarations(text, path)
    else:
        _refuse_remote_contexts(text, path)
    graph = Graph()
    try:
        with _quiet_rdflib():
            graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except Exception as exc:  # SAXParseException carries a position; rdflib's own errors do not
        line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
        column = exc.getColumnNumber() + 1 if hasattr(exc, "getColumnNumber") else None
        why = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
        kind = "RDF/XML" if fmt == "xml" else "JSON-LD"
        raise InputError(f"cannot parse as {kind}: {why}", path=str(path), line=line, column=column) from None
    check_terms(graph, path, text)
    return graph


def subject_origins(path: Path, graph: Graph) -> dict[URIRef, str]:
    """For a Turtle or N-Triples file: where each subject's first statement starts, as `file:line`,
    so that validating a file points at its lines as validating a build points at the CSV rows.
    Only statements whose subject opens a line are seen (as every Turtle writer lays them out)."""
    path = Path(path)
    if FORMATS_BY_SUFFIX.get(path.suffix.lower(), "turtle") not in ("turtle", "nt"):
        return {}
    base = path.resolve().as_uri()
    origins: dict[URIRef, str] = {}
    for number, line in enumerate(read_text(path).splitlines(), 1):
        match = _SUBJECT.match(line)
        if not match:
            continue
        token = match.group(1)
        try:
            subject = URIRef(urljoin(base, token[1:-1])) if token.startswith("<") \
                else graph.namespace_manager.expand_curie(token)
        except ValueError:   # not a prefix this file declares
            continue
        if subject not in origins and (subject, None, None) in graph:
            origins[subject] = f"{path}:{number}"
    return origins


def _refuse_xml_declarations(text: str, path: Path) -> None:
    match = _XML_DECLARATIONS.search(text)
    if match:
        line, column = position(text, match.start())
        raise InputError(f"RDF/XML with <!{match.group(1).upper()} ...> is refused: DOCTYPE and entity "
                         f"declarations can read other files or expand without bound", path=str(path),
                         line=line, column=column)


def _refuse_remote_contexts(text: str, path: Path) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"JSON syntax error: {exc.msg}", path=str(path), line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read", path=str(path)) from None
    found = _remote_context(document)
    if found:
        key, value = found
        at = text.find(json.dumps(value, ensure_ascii=False)) if isinstance(value, str) else -1
        line, column = position(text, at) if at >= 0 else (None, None)
        raise InputError(f"JSON-LD {key} {value!r} is refused: only inline @context objects are read, "
                         f"never a context from a URL or another file", path=str(path), line=line, column=column)


def _remote_context(node) -> tuple[str, object] | None:
    """The first @context that names a document (a string), or @import, anywhere in the JSON."""
    if isinstance(node, list):
        return next((found for item in node if (found := _remote_context(item))), None)
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if key == "@import":
            return key, value
        if key == "@context":
            contexts = value if isinstance(value, list) else [value]
            named = next((c for c in contexts if isinstance(c, str)), None)
            if named is not None:
                return key, named
        found = _remote_context(value)
        if found:
            return found
    return None


def check_terms(graph: Graph, path: Path, text: str) -> None:
    """Refuse IRIs that are not IRIs and literals whose lexical form does not fit their datatype:
    rdflib only logs a warning for both, and either would end up in every dump and store."""
    for triple in graph:
        for term in triple:
            problem = _term_problem(term)
            if problem:
                line, column = _locate(text, term, path)
                raise InputError(problem, path=str(path), line=line, column=column)


def _term_problem(term) -> str | None:
    if isinstance(term, Literal):
        if term.datatype is None:
            return None
        if not _IRI.match(term.datatype):
            return f"invalid datatype IRI <{term.datatype}>"
        checker = _UNCHECKED_LEXICAL.get(term.datatype)
        if term.ill_typed or (checker is not None and not checker.match(str(term))):
            return f"ill-typed literal: {str(term)!r} is not a valid {_short_datatype(term.datatype)}"
        return None
    if isinstance(term, URIRef) and not _IRI.match(term):
        bad = re.search(r"[\s<>\"{}|^`\\\x00-\x20]", term)
        why = f"it contains {bad.group()!r}" if bad else "it has no scheme"
        return f"invalid IRI <{term}>: {why}"
    return None


def _short_datatype(datatype: URIRef) -> str:
    namespace = str(XSD)
    return "xsd:" + datatype[len(namespace):] if datatype.startswith(namespace) else f"<{datatype}>"


def _locate(text: str, term, path: Path) -> tuple[int | None, int | None]:
    """Line and column of the term's first appearance in the text, as far as a search finds it."""
    value = str(term)
    if isinstance(term, Literal):
        needles = [f'"{value}"', f"'{value}'", f">{value}<", value]
    else:
        base = path.resolve().parent.as_uri() + "/"
        relative = value.removeprefix(base)
        needles = [f"<{value}>", f"<{relative}>", f'"{value}"', f'"{relative}"']
    for needle in needles:
        at = text.find(needle)
        if at >= 0:
            return position(text, at)
    return None, None


@contextlib.contextmanager
def _quiet_rdflib():
    """rdflib logs a traceback for each literal or IRI it doubts; check_terms reports them as one line."""
    logger = logging.getLogger("rdflib.term")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def serialize_turtle(graph: Graph) -> bytes:
    """Turtle whose bytes depend only on the triples (rdflib sorts subjects and predicates)."""
    return graph.serialize(format="turtle", encoding="utf-8")


def temporary_prefix(path: Path) -> str:
    """Temporary files and folders for `path` are `.{name}.{pid}.*.tmp`: recognisable, and the pid
    tells whether the writer is still alive."""
    return f".{path.name}.{os.getpid()}."


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of `path` left by writers that were killed (SIGKILL, power loss):
    only those whose process is gone, so a concurrent writer's file is never touched."""
    path = Path(path)
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    for sibling in siblings:
        pid = _writer_pid(sibling.name, path.name)
        if pid is None or _alive(pid):
            continue
        with contextlib.suppress(OSError):
            if sibling.is_dir() and not sibling.is_symlink():
                shutil.rmtree(sibling)
            else:
                sibling.unlink()


def _writer_pid(name: str, target: str) -> int | None:
    """The pid in `.{target}.{pid}.{random}.tmp` (or `.{target}.{pid}.old`), else None; exact, so that
    the temporary files of a target `a.1` are never taken for those of `a`."""
    prefix = f".{target}."
    if not name.startswith(prefix):
        return None
    match = _TEMPORARY.fullmatch(name[len(prefix):])
    return int(match["pid"]) if match else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # EPERM: alive, another user's
        return True
    return True


def ordinary_mode(mode: int) -> int:
    """`mode` as the umask leaves it: what a plain open() or mkdir() would give, unlike the private
    0600/0700 of mkstemp and mkdtemp."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then rename: readers never see half a file,
    and on any failure the old file is left untouched and no temporary file stays behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, ordinary_mode(0o666))
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
