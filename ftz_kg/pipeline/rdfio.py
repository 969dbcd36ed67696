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

from ftz_kg.pipeline.curated import position, read_text
from ftz_kg.errors import InputError

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

# Limits on input files (docs/security-inputs.md). Module constants, as the endpoint's limits are:
# a program embedding ftz-kg may change them before reading a file.
#
# At most this many distinct namespaces bound by a file's prefix declarations (Turtle @prefix and
# PREFIX, RDF/XML xmlns, prefix terms of a JSON-LD document's top-level @context). rdflib's
# namespace manager compares each new namespace with every one bound before it, so binding n of
# them takes time in n squared (20,000 took 85 s); below the limit that costs at most a tenth of a
# second, and real files declare a few dozen.
MAX_PREFIXES = 1000
# At most this many JSON arrays and objects inside one another in a JSON-LD file (the top-level
# object is 1; our own dumps are 4 deep). rdflib's JSON-LD parser recurses about three Python
# frames per level and ends in a RecursionError past ~330 levels; 64 leaves room for the frames
# of whoever calls the parser (a reload inside the server).
MAX_JSONLD_DEPTH = 64
# A JSON string or bracket, to find where a text passes MAX_JSONLD_DEPTH.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
# An XML namespace declaration and the namespace it declares.
_XMLNS = re.compile(r"""(?<![\w:.-])xmlns(?::[^\s=/>]+)?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# The endings that make rdflib bind a JSON-LD term as a prefix (rdflib.plugins.shared.jsonld.util).
_VOCAB_DELIMS = ("#", "/", ":")


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse a Turtle file, turning syntax errors into InputError with file, line and column."""
    text = read_text(Path(path))
    graph = graph if graph is not None else Graph()
    sink = _PrefixRecorder(graph)
    try:
        with _quiet_rdflib():
            sink.parse(data=text, format="turtle", publicID=Path(path).resolve().as_uri())
    except BadSyntax as exc:
        line, column = position(text, getattr(exc, "_i", 0))
        why = getattr(exc, "_why", "bad syntax")
        raise InputError(f"Turtle syntax error: {why}", path=str(path), line=line, column=column) from None
    except Exception as exc:  # rdflib raises plain exceptions for e.g. bad literals or IRIs
        raise InputError(f"cannot parse as Turtle: {exc}", path=str(path)) from None
    sink.bind_recorded(path, text, "turtle")
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
        _count_xml_namespaces(text, path)
    else:
        _check_json(text, path)
    graph = Graph()
    sink = _PrefixRecorder(graph)
    try:
        with _quiet_rdflib():
            sink.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except Exception as exc:  # SAXParseException carries a position; rdflib's own errors do not
        line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
        column = exc.getColumnNumber() + 1 if hasattr(exc, "getColumnNumber") else None
        why = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
        kind = "RDF/XML" if fmt == "xml" else "JSON-LD"
        raise InputError(f"cannot parse as {kind}: {why}", path=str(path), line=line, column=column) from None
    sink.bind_recorded(path, text, fmt)
    check_terms(graph, path, text)
    return graph


class _PrefixRecorder(Graph):
    """What rdflib parses into: the target graph's store and namespaces, except that the prefixes
    the parser binds are recorded, and bound to the target only once they are known to be at most
    MAX_PREFIXES namespaces (each binding costs time in the number bound before it). The Turtle and
    RDF/XML parsers bind through the graph they are given; the JSON-LD parser binds through a graph
    of its own, so JSON-LD is counted before parsing (_check_json)."""

    def __init__(self, target: Graph):
        super().__init__(store=target.store, identifier=target.identifier,
                         namespace_manager=target.namespace_manager)
        self._target = target
        self._recorded: list[tuple] = []

    def bind(self, prefix, namespace, override=True, replace=False) -> None:
        self._recorded.append((prefix, namespace, override, replace))

    def bind_recorded(self, path: Path, text: str, fmt: str) -> None:
        """Bind the recorded prefixes to the target graph, in order, or refuse the file."""
        seen: dict[str, object] = {}
        for prefix, namespace, *_ in self._recorded:
            seen.setdefault(str(namespace), prefix)
            if len(seen) > MAX_PREFIXES:
                raise _too_many_prefixes(path, text, fmt, prefix)
        for prefix, namespace, override, replace in self._recorded:
            self._target.bind(prefix, namespace, override=override, replace=replace)


def _too_many_prefixes(path: Path, text: str, fmt: str, prefix) -> InputError:
    """The refusal, at the declaration of the first namespace past the limit where it can be found."""
    name = re.escape(prefix or "")
    declaration = (re.compile(rf"xmlns{':' + name if name else ''}\s*=") if fmt == "xml"
                   else re.compile(rf"(?:@prefix|(?i:\bprefix))\s+{name}:"))
    match = declaration.search(text)
    return _prefix_limit(path, *(position(text, match.start()) if match else (None, None)))


def _prefix_limit(path: Path, line: int | None = None, column: int | None = None, where: str = "") -> InputError:
    return InputError(f"more than {MAX_PREFIXES} namespaces declared{where}, the limit (MAX_PREFIXES): refused, "
                      f"as rdflib takes time growing with their square to bind them",
                      path=str(path), line=line, column=column)


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


def _count_xml_namespaces(text: str, path: Path) -> None:
    """Refuse RDF/XML declaring more than MAX_PREFIXES namespaces before parsing it: rdflib's
    RDF/XML parser copies every namespace in scope at each declaration, in time growing with their
    square, before binding any. Counted in the text, so something that only looks like a
    declaration (inside a literal) counts too: above the limit only."""
    seen: set[str] = set()
    for match in _XMLNS.finditer(text):
        seen.add(match.group(1) if match.group(1) is not None else match.group(2))
        if len(seen) > MAX_PREFIXES:
            raise _prefix_limit(path, *position(text, match.start()))


def _check_json(text: str, path: Path) -> None:
    """Refuse, before rdflib sees it, JSON that is not JSON, JSON-LD nested deeper than
    MAX_JSONLD_DEPTH, with more than MAX_PREFIXES prefixes in its top-level @context, or with an
    @context or @import that names a document (a URL or a file)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"JSON syntax error: {exc.msg}", path=str(path), line=exc.lineno, column=exc.colno) from None
    except RecursionError:   # far deeper than the limit: the standard library's parser gave up
        raise _too_deep(text, path) from None
    if isinstance(document, dict):
        contexts = document.get("@context")
        contexts = contexts if isinstance(contexts, list) else [contexts]
        prefixes = sum(1 for context in contexts if isinstance(context, dict)
                       for key, value in context.items() if _binds_prefix(key, value))
        if prefixes > MAX_PREFIXES:
            raise _prefix_limit(path, where=" in the top-level @context")
    found = _remote_context(document, text, path)
    if found:
        key, value = found
        at = text.find(json.dumps(value, ensure_ascii=False)) if isinstance(value, str) else -1
        line, column = position(text, at) if at >= 0 else (None, None)
        raise InputError(f"JSON-LD {key} {value!r} is refused: only inline @context objects are read, "
                         f"never a context from a URL or another file", path=str(path), line=line, column=column)


def _binds_prefix(key: str, value) -> bool:
    """Whether rdflib binds this term of a top-level @context as a prefix (or @vocab as the default)."""
    if key == "@vocab":
        return True
    iri = value.get("@id") if isinstance(value, dict) else value
    return not key.startswith("@") and isinstance(iri, str) and iri.endswith(_VOCAB_DELIMS)


def _remote_context(document, text: str, path: Path) -> tuple[str, object] | None:
    """The first @context that names a document (a string), or @import, anywhere in the JSON, in
    document order; and a refusal of JSON nested deeper than MAX_JSONLD_DEPTH. Walked with a stack
    of its own, so that no nesting can exhaust Python's."""
    stack = [iter([(None, document)])]
    while stack:
        key, node = next(stack[-1], (None, _END))
        if node is _END:
            stack.pop()
            continue
        if key == "@import":
            return key, node
        if key == "@context":
            contexts = node if isinstance(node, list) else [node]
            named = next((c for c in contexts if isinstance(c, str)), None)
            if named is not None:
                return key, named
        if isinstance(node, (dict, list)):
            if len(stack) > MAX_JSONLD_DEPTH:
                raise _too_deep(text, path)
            stack.append(iter(node.items()) if isinstance(node, dict) else ((None, item) for item in node))
    return None


_END = object()


def _too_deep(text: str, path: Path) -> InputError:
    """The refusal of JSON nested deeper than MAX_JSONLD_DEPTH, at the bracket that goes too deep."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSONLD_DEPTH:
                line, column = position(text, token.start())
                break
        elif bracket in "]}":
            depth -= 1
    else:
        line, column = None, None
    return InputError(f"JSON-LD nested deeper than {MAX_JSONLD_DEPTH} levels of arrays and objects "
                      f"(MAX_JSONLD_DEPTH) is refused", path=str(path), line=line, column=column)


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


def is_temporary_of(name: str, target: str) -> bool:
    """Whether `name` is a temporary file or folder of `target` (see temporary_prefix)."""
    return _writer_pid(name, target) is not None


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
