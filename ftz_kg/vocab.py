"""Namespaces and IRI minting. Instance IRIs are {BASE}{kind}/{slug}; slugs come from the
curated `id` columns, never from labels."""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/ftz-kg/"
FTZ = Namespace(BASE + "def#")
FTZSH = Namespace(BASE + "shapes#")
ONTOLOGY_IRI = URIRef(BASE + "def")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
VANN = Namespace("http://purl.org/vocab/vann/")
QB = Namespace("http://purl.org/linked-data/cube#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

PREFIXES = {
    "ftz": FTZ,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "org": ORG,
    "schema": SCHEMA,
    "vann": VANN,
    "qb": QB,
    "eli": ELI,
    "zone": Namespace(BASE + "zone/"),
    "subarea": Namespace(BASE + "subarea/"),
    "province": Namespace(BASE + "province/"),
    "measure": Namespace(BASE + "measure/"),
    "agency": Namespace(BASE + "agency/"),
    "batch": Namespace(BASE + "batch/"),
    "innovation": Namespace(BASE + "innovation/"),
    "scope": Namespace(BASE + "scope/"),
    "strategy": Namespace(BASE + "strategy/"),
    "theme": Namespace(BASE + "theme/"),
    "edomain": Namespace(BASE + "experience-domain/"),
    "scheme": Namespace(BASE + "scheme/"),
    "source": Namespace(BASE + "source/"),
    "group": Namespace(BASE + "group/"),
    "document": Namespace(BASE + "document/"),
    "event": Namespace(BASE + "event/"),
    "observation": Namespace(BASE + "observation/"),
    "indicator": Namespace(BASE + "indicator/"),
}


def iri(kind: str, slug: str) -> URIRef:
    """The IRI of entity `slug` of the given kind (zone, measure, ...)."""
    return URIRef(f"{BASE}{kind}/{slug}")


def bind_prefixes(graph) -> None:
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
