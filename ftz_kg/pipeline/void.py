"""A VoID and DCAT description of the dataset and its dumps."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from ftz_kg import RELEASE_DATE
from ftz_kg import __version__
from ftz_kg.pipeline.export import FILE_NAMES, MEDIA_TYPES, entities
from ftz_kg.vocab import BASE, bind_prefixes

VOID = Namespace("http://rdfs.org/ns/void#")
DATASET = URIRef(BASE + "dataset")


def describe(graph: Graph, sizes: dict[str, int], created: str, base_url: str = BASE) -> Graph:
    """VoID + DCAT for `graph`; `sizes` maps export format -> byte size of its dump."""
    d = Graph()
    bind_prefixes(d)
    d.bind("void", VOID)
    d.bind("dcat", DCAT)
    d.add((DATASET, RDF.type, VOID.Dataset))
    d.add((DATASET, RDF.type, DCAT.Dataset))
    d.add((DATASET, DCTERMS.title, Literal("ftz-kg: China's pilot free trade zones and their institutional innovations",
                                           lang="en")))
    d.add((DATASET, DCTERMS.title, Literal("中国自由贸易试验区及其制度创新知识图谱", lang="zh")))
    d.add((DATASET, DCTERMS.description, Literal(
        "Zones, sub-areas, innovation measures, the innovation taxonomy, the 37 replicable reform experiences of "
        "2020 with their responsible bodies and rollout scope, curated from the China Pilot FTZ Development "
        "Report (2021), bilingual, each fact traced to its place in the report.", lang="en")))
    d.add((DATASET, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    d.add((DATASET, DCTERMS.source, URIRef(BASE + "source/report")))
    d.add((DATASET, DCTERMS.created, Literal(created, datatype=XSD.date)))
    d.add((DATASET, DCTERMS.hasVersion, Literal(__version__)))
    d.add((DATASET, DCTERMS.issued, Literal(RELEASE_DATE, datatype=XSD.date)))
    d.add((DATASET, VOID.triples, Literal(len(graph), datatype=XSD.integer)))
    d.add((DATASET, VOID.entities, Literal(len(entities(graph)), datatype=XSD.integer)))
    d.add((DATASET, VOID.sparqlEndpoint, URIRef(base_url.rstrip("/") + "/sparql")))
    d.add((DATASET, VOID.uriSpace, Literal(BASE)))
    for vocabulary in ("https://w3id.org/ftz-kg/def#", "http://www.w3.org/2004/02/skos/core#",
                       "http://www.w3.org/ns/org#", "http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#",
                       "https://schema.org/"):
        d.add((DATASET, VOID.vocabulary, URIRef(vocabulary)))
    for example in ("zone/sichuan", "measure/enterprise-package-deregistration", "agency/gacc",
                    "innovation/parallel-processing"):
        d.add((DATASET, VOID.exampleResource, URIRef(BASE + example)))
    for fmt, size in sorted(sizes.items()):
        dump = URIRef(base_url.rstrip("/") + "/dumps/" + FILE_NAMES[fmt] + (".zip" if fmt == "csv" else ""))
        distribution = BNode(f"distribution-{fmt}")
        d.add((DATASET, DCAT.distribution, distribution))
        d.add((distribution, RDF.type, DCAT.Distribution))
        d.add((distribution, DCAT.downloadURL, dump))
        d.add((distribution, DCAT.mediaType, Literal(MEDIA_TYPES[fmt])))
        d.add((distribution, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        if fmt in ("ttl", "nt", "rdfxml", "jsonld", "trig"):
            d.add((DATASET, VOID.dataDump, dump))
    return d
