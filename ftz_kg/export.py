"""Stage 6: dumps of the built graph in every format our users load elsewhere.

Every writer is deterministic (the same graph gives the same bytes) and every file is written
atomically. RDF formats carry the whole graph; TriG keeps ontology, data and shapes in separate
named graphs; GraphML, GEXF and Cytoscape.js JSON carry the entities and the links between them
(for Gephi, yEd, Cytoscape); CSV writes one tidy table per class with labels in both languages.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, RDFS, SKOS

from .rdfio import atomic_write, remove_stale_temporaries, serialize_turtle, temporary_prefix
from .vocab import BASE, FTZ, PREFIXES

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


def entities(graph: Graph) -> list[URIRef]:
    """The instances of the graph (not ontology terms): nodes of the graph exports."""
    return sorted({s for s, t in graph.subject_objects(RDF.type)
                   if isinstance(s, URIRef) and str(s).startswith(BASE) and not str(s).startswith(str(FTZ))
                   and str(t).startswith((str(FTZ), str(SKOS)))}, key=str)


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
    for node in entities(graph):
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
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        for name, text in content.items():
            (staging / name).write_text(text, encoding="utf-8")
        if out.exists():
            old = out.with_name(f"{temporary_prefix(out)}old")
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
