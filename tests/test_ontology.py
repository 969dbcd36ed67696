"""Structural checks on the ontology that keep it OWL 2 DL and self-describing."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD

from ftz_kg.vocab import FTZ, ONTOLOGY_IRI

BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD))
PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def test_ontology_metadata(ontology):
    for predicate in (DCTERMS.title, DCTERMS.description):
        assert {l.language for l in ontology.objects(ONTOLOGY_IRI, predicate)} == {"en", "zh"}
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) is not None
    for predicate in (DCTERMS.license, DCTERMS.creator, DCTERMS.created, DCTERMS.modified):
        assert ontology.value(ONTOLOGY_IRI, predicate) is not None, predicate


def test_every_predicate_used_in_the_graph_is_declared_once_without_punning(graph):
    for predicate in set(graph.predicates()):
        if str(predicate).startswith(BUILTIN):
            continue
        kinds = [k for k in PROPERTY_KINDS if (predicate, RDF.type, k) in graph]
        assert len(kinds) == 1, (predicate, kinds)


def test_every_class_used_in_the_graph_is_declared(graph):
    for cls in set(graph.objects(None, RDF.type)):
        if str(cls).startswith(BUILTIN):
            continue
        assert (cls, RDF.type, OWL.Class) in graph, cls


def test_object_properties_link_iris_and_datatype_properties_literals(graph):
    for predicate in set(graph.subjects(RDF.type, OWL.ObjectProperty)):
        assert all(isinstance(o, URIRef) for o in graph.objects(None, predicate)), predicate
    for predicate in set(graph.subjects(RDF.type, OWL.DatatypeProperty)):
        assert all(not isinstance(o, URIRef) for o in graph.objects(None, predicate)), predicate


def test_ftz_terms_have_domain_and_range_where_they_are_object_properties(ontology):
    for prop in ontology.subjects(RDF.type, OWL.ObjectProperty):
        if str(prop).startswith(str(FTZ)):
            assert ontology.value(prop, RDFS.range) is not None, prop
