"""The neighbourhood graph's data (/neighbourhood?iri=…&lang=…): an entity, the entities it links to
or is linked from, and those links, as Cytoscape.js elements. Each node carries its type (the most
specific class), the type's label in the page language, and a family of types that the graph
colours alike (graph.js, graph.css)."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from ftz_kg.vocab import BASE, FTZ, QB
from ftz_kg.web.catalogue import strings
from ftz_kg.web.factsheet import property_label
from ftz_kg.web.pages import is_claim_node, label, local

ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"

# The families of types the graph tells apart, at most eight so that the Okabe–Ito palette (safe
# for colour-blind readers) gives each its own colour. A class not listed here takes the family of
# its nearest listed superclass; a class with none is "other".
FAMILIES = {
    FTZ.PilotFreeTradeZone: "zone", FTZ.SubArea: "zone", FTZ.SubAreaGroup: "zone", FTZ.ZoneGroup: "zone",
    URIRef(SCHEMA + "AdministrativeArea"): "place",
    FTZ.InnovationMeasure: "measure",
    FTZ.InnovationConcept: "concept", FTZ.ExperienceDomain: "concept", FTZ.NationalStrategy: "concept",
    FTZ.Theme: "concept", FTZ.Batch: "concept", FTZ.RolloutScope: "concept", SKOS.ConceptScheme: "concept",
    URIRef(ORG + "Organization"): "organisation",
    FTZ.PolicyDocument: "document",
    FTZ.SourceReference: "source",
    QB.Observation: "data", FTZ.Indicator: "data", FTZ.Unit: "data", FTZ.PeriodBasis: "data",
    FTZ.ValueQualifier: "data", FTZ.DatedEvent: "data",
}
FAMILY_ORDER = ("zone", "place", "measure", "concept", "organisation", "document", "source", "data", "other")


def _superclasses(graph: Graph, cls: URIRef) -> tuple[URIRef, ...]:
    """cls and its superclasses, nearest first."""
    seen, queue = [cls], [cls]
    while queue:
        for parent in sorted(graph.objects(queue.pop(0), RDFS.subClassOf), key=str):
            if isinstance(parent, URIRef) and parent not in seen:
                seen.append(parent)
                queue.append(parent)
    return tuple(seen)


def primary_type(graph: Graph, node) -> URIRef | None:
    """The most specific of a node's classes: one that is no superclass of another of them
    (a replicable experience rather than a measure, a law rather than a policy document)."""
    types = sorted((t for t in graph.objects(node, RDF.type) if isinstance(t, URIRef)), key=str)
    specific = [t for t in types if not any(o != t and t in _superclasses(graph, o) for o in types)]
    return (specific or types or [None])[0]


def family(graph: Graph, cls: URIRef | None) -> str:
    for ancestor in _superclasses(graph, cls) if cls is not None else ():
        if ancestor in FAMILIES:
            return FAMILIES[ancestor]
    return "other"


def type_key(cls: URIRef | None) -> str:
    """The class's local name ("PilotFreeTradeZone"), a stable key whatever the page language."""
    return str(cls).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if cls is not None else "Thing"


def type_label(graph: Graph, cls: URIRef | None, lang: str) -> str:
    """The class's label in the page language; the catalogue names the few classes of other
    vocabularies the ontology does not label (skos:ConceptScheme)."""
    if cls is None:
        return strings()[lang]["graph_type_Thing"]
    labels = {l.language: str(l) for p in (RDFS.label, SKOS.prefLabel) for l in graph.objects(cls, p)
              if isinstance(l, Literal)}
    return labels.get(lang) or strings()[lang].get("graph_type_" + type_key(cls)) or label(graph, cls, lang)


def node_data(graph: Graph, node: URIRef, lang: str) -> dict:
    cls = primary_type(graph, node)
    return {"id": str(node), "label": label(graph, node, lang), "href": local(node),
            "type": type_key(cls), "typeLabel": type_label(graph, cls, lang), "family": family(graph, cls)}


def neighbourhood(graph: Graph, node: URIRef, lang: str) -> list[dict]:
    """Cytoscape.js elements: the node, the entities it links to or is linked from, and those links."""
    def is_entity(term) -> bool:
        return isinstance(term, URIRef) and str(term).startswith(BASE) and "/def" not in str(term) \
            and not is_claim_node(term) and (term, RDF.type, None) in graph

    nodes = {str(node): node}
    edges = []
    for p, o in graph.predicate_objects(node):
        if p != RDF.type and is_entity(o):
            nodes.setdefault(str(o), o)
            edges.append((node, p, o))
    for s, p in graph.subject_predicates(node):
        if is_entity(s):
            nodes.setdefault(str(s), s)
            edges.append((s, p, node))
    out = [{"data": node_data(graph, n, lang)} for n in nodes.values()]
    for s, p, o in sorted(edges, key=str):
        out.append({"data": {"id": f"{s} {p} {o}", "source": str(s), "target": str(o),
                             "label": property_label(graph, p, lang)}})
    return out
