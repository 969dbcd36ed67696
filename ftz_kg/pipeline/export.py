"""Stage 6: dumps of the built graph in every format our users load elsewhere.

Every writer is deterministic (the same graph gives the same bytes) and every file is written
atomically. RDF formats carry the whole graph; TriG keeps ontology, data and shapes in separate
named graphs; GraphML, GEXF and Cytoscape.js JSON carry the entities and the links between them
(for Gephi, yEd, Cytoscape); CSV writes one tidy table per class with labels in both languages.
The bundle of every format (`export --format all`) is replaced as a whole: all new or all old.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import io
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, RDFS, SKOS

from ftz_kg.pipeline.rdfio import (atomic_write, is_temporary_of, ordinary_mode, remove_stale_temporaries, serialize_turtle,
                    temporary_prefix)
from ftz_kg.vocab import BASE, FTZ, PREFIXES

FORMATS = ("ttl", "nt", "jsonld", "rdfxml", "trig", "graphml", "gexf", "cytoscape", "csv")
MEDIA_TYPES = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
               "rdfxml": "application/rdf+xml", "trig": "application/trig", "graphml": "application/graphml+xml",
               "gexf": "application/gexf+xml", "cytoscape": "application/json", "csv": "text/csv"}
FILE_NAMES = {"ttl": "ftz-kg.ttl", "nt": "ftz-kg.nt", "jsonld": "ftz-kg.jsonld", "rdfxml": "ftz-kg.rdf",
              "trig": "ftz-kg.trig", "graphml": "ftz-kg.graphml", "gexf": "ftz-kg.gexf",
              "cytoscape": "ftz-kg.cyjs", "csv": "ftz-kg-csv"}
GRAPH_NAMES = {"ontology": URIRef(BASE + "graph/ontology"), "data": URIRef(BASE + "graph/data"),
               "shapes": URIRef(BASE + "graph/shapes")}
CONTEXT_URL = BASE + "context.jsonld"
DESCRIPTION = "void.ttl"          # the bundle's VoID and DCAT description, beside the dumps
BUNDLE_NAMES = frozenset(FILE_NAMES.values()) | {DESCRIPTION}
# Where a bundle is staged inside its own folder, when that folder cannot be swapped (write_bundle).
STAGING = "ftz-kg-bundle"


def context() -> dict:
    """The published JSON-LD @context: our prefixes."""
    return {"@context": {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}}


def _jsonld(graph: Graph) -> bytes:
    names = sorted(((str(ns), p) for p, ns in PREFIXES.items()), key=lambda x: -len(x[0]))

    def compact(iri: str) -> str:
        for namespace, prefix in names:
            if iri.startswith(namespace) and iri != namespace:
                return f"{prefix}:{iri[len(namespace):]}"
        return iri

    def value(term):
        if isinstance(term, URIRef):
            return {"@id": compact(str(term))}
        if isinstance(term, BNode):
            return {"@id": f"_:{term}"}
        out = {"@value": str(term)}
        if term.language:
            out["@language"] = term.language
        elif term.datatype is not None:
            out["@type"] = compact(str(term.datatype))
        return out

    nodes = []
    for subject in sorted(set(graph.subjects()), key=lambda s: s.n3()):
        node = {"@id": compact(str(subject)) if isinstance(subject, URIRef) else f"_:{subject}"}
        types = sorted(compact(str(t)) for t in graph.objects(subject, RDF.type))
        if types:
            node["@type"] = types
        for predicate in sorted({p for p in graph.predicates(subject) if p != RDF.type}, key=str):
            node[compact(str(predicate))] = sorted((value(o) for o in graph.objects(subject, predicate)),
                                                   key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        nodes.append(node)
    return json.dumps({"@context": context()["@context"], "@graph": nodes}, ensure_ascii=False, indent=1,
                      sort_keys=True).encode("utf-8") + b"\n"


def _canonical_lines(graph: Graph, graph_name: URIRef | None = None) -> list[str]:
    """Sorted N-Triples (or N-Quads) lines with blank nodes labelled canonically, so that the same
    graph always gives the same lines."""
    canonical = to_canonical_graph(graph) if any(isinstance(t, BNode) for triple in graph for t in triple) else graph
    lines = [line for line in canonical.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()
             if line.strip()]
    if graph_name is not None:
        lines = [line[: -len(" .")] + f" {graph_name.n3()} ." for line in lines]
    return sorted(lines)


def _native(lines: list[str], source: str, target: str) -> bytes:
    """Re-serialise sorted N-Triples/N-Quads with Oxigraph's writers, which keep the input order."""
    import pyoxigraph as ox

    data = ("\n".join(lines) + "\n").encode("utf-8")
    prefixes = {prefix: str(ns) for prefix, ns in sorted(PREFIXES.items())}
    return ox.serialize(ox.parse(data, format=getattr(ox.RdfFormat, source)), format=getattr(ox.RdfFormat, target),
                        prefixes=prefixes)


def _trig(ontology: Graph, data: Graph, shapes: Graph) -> bytes:
    lines = []
    for name, part in (("ontology", ontology), ("data", data), ("shapes", shapes)):
        lines += _canonical_lines(part, GRAPH_NAMES[name])
    return _native(lines, "N_QUADS", "TRIG")


# Statements, their citations and the conflicts and readings between them are claims about the
# entities: rows of the CSV tables, but not nodes of the network exports (they would outnumber the
# entities ten to one and tie every entity to its statements).
CLAIM_PATHS = tuple(BASE + kind + "/" for kind in ("statement", "citation", "conflict"))


def entities(graph: Graph, claims: bool = False) -> list[URIRef]:
    """The instances of the graph (not ontology terms): nodes of the graph exports; with `claims`,
    the statements, citations, conflicts and readings too."""
    return sorted({s for s, t in graph.subject_objects(RDF.type)
                   if isinstance(s, URIRef) and str(s).startswith(BASE) and not str(s).startswith(str(FTZ))
                   and str(t).startswith((str(FTZ), str(SKOS)))
                   and (claims or not str(s).startswith(CLAIM_PATHS))}, key=str)


def _label(graph: Graph, node, lang: str) -> str:
    return next((str(l) for l in graph.objects(node, SKOS.prefLabel) if l.language == lang), "")


def _class_of(graph: Graph, node) -> str:
    """The most specific ftz class (or skos:ConceptScheme) of an entity, as a local name."""
    types = {t for t in graph.objects(node, RDF.type) if str(t).startswith((str(FTZ), str(SKOS)))}
    specific = [t for t in types if not any((other, RDFS.subClassOf, t) in graph for other in types if other != t)]
    return sorted(str(t).rsplit("#", 1)[-1] for t in specific)[0]


def network(graph: Graph):
    """A networkx MultiDiGraph of the entities and the links between them."""
    import networkx as nx

    nodes = entities(graph)
    keep = set(nodes)
    g = nx.MultiDiGraph()
    for node in nodes:
        g.add_node(str(node), label=_label(graph, node, "en") or str(node), label_zh=_label(graph, node, "zh"),
                   label_en=_label(graph, node, "en"), cls=_class_of(graph, node))
    for s, p, o in sorted(graph, key=lambda t: tuple(x.n3() for x in t)):
        if s in keep and o in keep and p != RDF.type:
            predicate = graph.namespace_manager.normalizeUri(p)
            g.add_edge(str(s), str(o), key=predicate, predicate=predicate,
                       label=next((str(l) for l in graph.objects(p, RDFS.label) if l.language == "en"), predicate))
    return g


def _graphml(graph: Graph) -> bytes:
    import networkx as nx
    out = io.BytesIO()
    nx.write_graphml(network(graph), out, encoding="utf-8")
    return out.getvalue()


def _gexf(graph: Graph) -> bytes:
    import networkx as nx
    out = io.BytesIO()
    nx.write_gexf(network(graph), out, encoding="utf-8")
    # networkx stamps the export date into GEXF; drop it so equal graphs give equal files
    return re.sub(rb' lastmodifieddate="[^"]*"', b"", out.getvalue())


def _cytoscape(graph: Graph) -> bytes:
    import networkx as nx
    return json.dumps(nx.cytoscape_data(network(graph)), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def csv_tables(graph: Graph) -> dict[str, str]:
    """One CSV text per class: iri, label_zh, label_en, then one column per property (values `|`-joined)."""
    by_class: dict[str, list[URIRef]] = {}
    for node in entities(graph, claims=True):
        by_class.setdefault(_class_of(graph, node), []).append(node)
    tables = {}
    for cls, nodes in sorted(by_class.items()):
        predicates = sorted({p for n in nodes for p in graph.predicates(n)} - {RDF.type, SKOS.prefLabel}, key=str)
        columns = [graph.namespace_manager.normalizeUri(p) for p in predicates]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["iri", "label_zh", "label_en", *columns])
        for node in nodes:
            row = [str(node), _label(graph, node, "zh"), _label(graph, node, "en")]
            for p in predicates:
                values = sorted(str(o) + (f"@{o.language}" if isinstance(o, Literal) and o.language else "")
                                for o in graph.objects(node, p))
                row.append(" | ".join(values))
            writer.writerow(row)
        tables[f"{cls}.csv"] = out.getvalue()
    return tables


def render(fmt: str, graph: Graph, ontology: Graph, shapes: Graph) -> bytes | dict[str, str]:
    if fmt == "ttl":
        return serialize_turtle(graph)
    if fmt == "nt":
        lines = sorted(graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines())
        return ("\n".join(line for line in lines if line.strip()) + "\n").encode("utf-8")
    if fmt == "jsonld":
        return _jsonld(graph)
    if fmt == "rdfxml":
        return _native(_canonical_lines(graph), "N_TRIPLES", "RDF_XML")
    if fmt == "trig":
        data = Graph()
        for triple in graph:
            if triple not in ontology:
                data.add(triple)
        return _trig(ontology, data, shapes)
    if fmt == "graphml":
        return _graphml(graph)
    if fmt == "gexf":
        return _gexf(graph)
    if fmt == "cytoscape":
        return _cytoscape(graph)
    if fmt == "csv":
        return csv_tables(graph)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write(out: Path, content: bytes | dict[str, str]) -> None:
    """Write a file, or a folder of CSV tables, atomically: nothing half-written is ever visible."""
    if isinstance(content, bytes):
        atomic_write(out, content)
        return
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    staging = Path(tempfile.mkdtemp(prefix=temporary_prefix(out), suffix=".tmp", dir=out.parent))
    try:
        staging.chmod(ordinary_mode(0o777))
        _put(staging, content)
        _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_bundle(out: Path, graph: Graph, ontology: Graph, shapes: Graph,
                 description: Callable[[dict[str, int]], bytes]) -> dict[str, int]:
    """Every format into the folder `out`, with the description made from their byte sizes
    (void.ttl); the sizes returned. All new or all old: the whole bundle is written into a
    temporary folder beside `out` and then swapped with it in one step (an atomic exchange where
    the system has one, else two renames), so a full disk, an error or an interruption while
    writing leaves the old bundle as it was and no temporary folder behind. Other entries of `out`
    are carried into the new folder (hard links: nothing is copied).

    Where `out` cannot be swapped (a mount point, a folder whose parent we may not write, or the
    current directory), the bundle is staged inside `out` and each dump renamed into place once all
    are written: a full disk or an error still changes nothing; only a crash during the renames
    could leave some dumps new and some old."""
    out = Path(os.path.realpath(out))   # a symbolic link to the folder: the folder itself is swapped
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(out))
    in_place = out.is_dir() and not _swappable(out)
    holder, marker = (out, out / STAGING) if in_place else (out.parent, out)
    holder.mkdir(parents=True, exist_ok=True)
    for left in [marker, *(out / name for name in BUNDLE_NAMES)] if in_place else [marker]:
        remove_stale_temporaries(left)   # by writers that were killed
    staging = Path(tempfile.mkdtemp(prefix=temporary_prefix(marker), suffix=".tmp", dir=holder))
    try:
        staging.chmod(stat.S_IMODE(out.stat().st_mode) if out.is_dir() else ordinary_mode(0o777))
        sizes = {}
        for fmt in FORMATS:
            content = render(fmt, graph, ontology, shapes)
            _put(staging / FILE_NAMES[fmt], content)
            sizes[fmt] = len(content) if isinstance(content, bytes) else sum(len(t.encode()) for t in content.values())
        _put(staging / DESCRIPTION, description(sizes))
        if in_place:
            for name in (*(FILE_NAMES[fmt] for fmt in FORMATS), DESCRIPTION):
                _swap_in(staging / name, out / name)
        else:
            if out.is_dir():
                _carry_over(out, staging)
            _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sizes


def _put(path: Path, content: bytes | dict[str, str]) -> None:
    """Write a dump (bytes) or a folder of CSV tables into a staging folder, on disk before it returns."""
    if isinstance(content, dict):
        path.mkdir(exist_ok=True)
        for name, text in content.items():
            _put(path / name, text.encode("utf-8"))
        return
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _swappable(out: Path) -> bool:
    """Whether the folder `out` can be replaced by a folder renamed over it: not a mount point, in a
    folder we may write, and not holding the current directory (a shell there would be left in a
    removed folder)."""
    if os.path.ismount(out) or not os.access(out.parent, os.W_OK | os.X_OK):
        return False
    try:
        here = Path.cwd().resolve()
    except OSError:   # the current directory is gone
        return True
    real = out.resolve()
    return here != real and real not in here.parents


def _carry_over(out: Path, staging: Path) -> None:
    """Hard-link (or, across devices, copy) what `out` holds besides the bundle into `staging`."""
    for entry in sorted(os.listdir(out)):
        if entry in BUNDLE_NAMES or any(is_temporary_of(entry, name) for name in (*BUNDLE_NAMES, STAGING)):
            continue
        source, target = out / entry, staging / entry
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(source, target)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _swap_in(new: Path, target: Path) -> None:
    """Put `new` where `target` is. A file replaces it in one rename. A folder is exchanged with it
    in one step where the system can (Linux renameat2), else the old folder is renamed aside first
    (and back, should the second rename fail); either way `new` then names the old folder, for the
    caller to remove."""
    if not new.is_dir() or not target.is_dir() or target.is_symlink():
        os.replace(new, target)
        return
    if _exchange(new, target):
        return
    aside = target.with_name(f"{temporary_prefix(target)}old")
    try:
        os.replace(target, aside)
        os.replace(new, target)
    except BaseException:   # an error or a signal between the two renames: the old folder goes back
        if aside.exists() and not target.exists():
            os.replace(aside, target)
        raise
    os.replace(aside, new)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (renameat2 with RENAME_EXCHANGE); False where the system or the
    file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):   # not Linux, or a C library without it
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(b))
