"""Every shape has a valid example it accepts and invalid examples it rejects with the
expected message. Examples live in tests/shapes/{valid,invalid}/<ShapeName>[--case].ttl and
are merged with the ontology and tests/shapes/base.ttl; each file is a test by itself.

An invalid example states what it expects in its header:
    # expect: <text of the English message>     (one line per expected result)
    # severity: Warning                           (default: Violation)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV, RDF, SH, SKOS

from ftz_kg.pipeline.rdfio import parse_turtle
from ftz_kg.pipeline.validate import validate_graph, validate_graph_reference
from ftz_kg.pipeline.mapping import QUALIFIED_PREDICATES
from ftz_kg.pipeline.statements import statement_iri
from ftz_kg.vocab import FTZ, FTZSH

EXAMPLES = Path(__file__).parent / "shapes"
VALID = sorted((EXAMPLES / "valid").glob("*.ttl"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.ttl"))


_ENTITY = re.compile(r"^https://w3id[.]org/ftz-kg/(zone|subarea|province|measure|agency|batch|innovation|scope|strategy"
                     r"|theme|experience-domain|scheme|group|document)/")
_CITED_ELSEWHERE = URIRef("https://w3id.org/ftz-kg/citation/test-example")


def _with_statements(graph: Graph, part: Graph) -> None:
    """Give every link and name of `part` the statement that StatedLinkShape asks for, citing an
    outside source, so that an example of another shape tests that shape alone."""
    graph.add((_CITED_ELSEWHERE, RDF.type, FTZ.Citation))
    graph.add((_CITED_ELSEWHERE, FTZ.place, URIRef("https://w3id.org/ftz-kg/source/ext")))
    for subject, predicate, value in part:
        if predicate in QUALIFIED_PREDICATES and _ENTITY.match(str(subject)):
            node = statement_iri(subject, predicate, value)
            if (node, RDF.type, FTZ.Statement) in graph:
                continue
            for triple in ((node, RDF.type, FTZ.Statement), (node, FTZ.statementSubject, subject),
                           (node, FTZ.statementProperty, predicate), (node, FTZ.statementValue, value),
                           (node, FTZ.rank, FTZ.NormalRank), (node, PROV.wasDerivedFrom, _CITED_ELSEWHERE)):
                graph.add(triple)


def _world(ontology: Graph, example: Path | None) -> Graph:
    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    base = parse_turtle(EXAMPLES / "base.ttl")
    graph += base
    _with_statements(graph, base)
    if example is not None:
        added = parse_turtle(example)
        graph += added
        # the examples of StatedLinkShape test the statements themselves
        if not example.stem.startswith("StatedLinkShape"):
            _with_statements(graph, added)
    return graph


def _expectations(path: Path) -> tuple[list[str], str]:
    expected, severity = [], "Violation"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            expected.append(line.split(":", 1)[1].strip())
        elif line.startswith("# severity:"):
            severity = line.split(":", 1)[1].strip()
    return expected, severity


def test_base_world_conforms(ontology, shapes):
    report = validate_graph(_world(ontology, None), shapes)
    assert report.findings == []


@pytest.mark.parametrize("example", VALID, ids=lambda p: p.stem)
def test_valid_example_is_accepted(example, ontology, shapes):
    report = validate_graph(_world(ontology, example), shapes)
    assert [(f.focus, f.message_en) for f in report.findings] == []


@pytest.mark.parametrize("example", INVALID, ids=lambda p: p.stem)
def test_invalid_example_is_rejected(example, ontology, shapes):
    expected, severity = _expectations(example)
    assert expected, f"{example.name} must state what it expects with '# expect:'"
    report = validate_graph(_world(ontology, example), shapes)
    found = [(f.severity, f.message_en) for f in report.findings]
    for text in expected:
        assert any(sev == severity and text in message for sev, message in found), (text, found)
    assert report.conforms is (severity != "Violation")


def test_every_shape_has_valid_and_invalid_examples(shapes):
    targeting = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf}
    named = sorted(
        str(s)[len(str(FTZSH)):] for s in shapes.subjects(RDF.type, SH.NodeShape)
        if str(s).startswith(str(FTZSH)) and any((s, p, None) in shapes for p in targeting)
    )
    assert len(named) >= 20
    valid = {p.stem.split("--")[0] for p in VALID}
    invalid = {p.stem.split("--")[0] for p in INVALID}
    assert [n for n in named if n not in valid] == []
    assert [n for n in named if n not in invalid] == []
    assert sorted(valid | invalid) == named, "example files must be named after a shape"


def test_every_shape_has_messages_in_both_languages_and_a_severity(shapes):
    shape_nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    shape_nodes |= set(shapes.objects(None, SH.property))
    shape_nodes |= set(shapes.objects(None, SH.sparql))
    assert len(shape_nodes) > 40
    for node in shape_nodes:
        languages = {m.language for m in shapes.objects(node, SH.message)}
        assert {"en", "zh"} <= languages, node
        if (node, RDF.type, SH.SPARQLConstraint) not in shapes:
            assert shapes.value(node, SH.severity) in (SH.Violation, SH.Warning, SH.Info), node


def _assert_same(fast, reference):
    """Same findings (focus, severity, path, value, source shape, messages), same verdict, and the
    same results graph (what `--format turtle` prints), blank nodes aside."""
    def findings(report):
        return sorted(tuple(x or "" for x in (f.focus, f.severity, f.path, f.value, f.shape, f.message_en,
                                              f.message_zh)) for f in report.findings)
    assert findings(fast) == findings(reference)
    assert fast.conforms == reference.conforms
    assert isomorphic(fast.results_graph, reference.results_graph)


def test_fast_path_agrees_with_plain_pyshacl_on_the_real_graph(graph, shapes):
    """validate_graph parses each SPARQL text once and gives property shapes their node shape's
    targets; plain pySHACL on the shapes as written must report exactly the same."""
    _assert_same(validate_graph(graph, shapes, engine="pyshacl"), validate_graph_reference(graph, shapes))


@pytest.mark.parametrize("example", VALID + INVALID, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_fast_path_agrees_with_plain_pyshacl_on_every_example(example, ontology, shapes):
    world = _world(ontology, example)
    _assert_same(validate_graph(world, shapes, engine="pyshacl"), validate_graph_reference(world, shapes))


def test_fast_path_parses_each_sparql_text_once(graph, shapes, monkeypatch):
    """pySHACL runs BroaderInSameSchemeShape's query once per concept (~100): parsed once."""
    from ftz_kg.pipeline import validate

    parse, parsed = validate.parseQuery, []
    monkeypatch.setattr(validate, "_PREPARED", {})
    monkeypatch.setattr(validate, "parseQuery", lambda text: parsed.append(text) or parse(text))
    validate_graph(graph, shapes, engine="pyshacl")
    assert 0 < len(parsed) == len(set(parsed)) == len(list(shapes.objects(None, SH.select)))


def test_fast_path_gives_property_shapes_their_node_shapes_targets(shapes):
    from ftz_kg.pipeline.validate import _hoist_property_shapes

    hoisted, added = _hoist_property_shapes(shapes)
    assert (FTZSH.PrefLabelZh, SH.targetClass, SKOS.Concept) in hoisted
    assert (FTZSH.BilingualLabelShape, SH.property, FTZSH.PrefLabelZh) not in hoisted
    assert (FTZSH.BilingualLabelShape, SH.property, FTZSH.PrefLabelZh) in shapes   # the shapes as written: untouched
    assert all(triple in hoisted and triple not in shapes for triple in added)
    # used inside sh:or, so validated per focus node as written
    assert not any((FTZSH.CompleteTableMeasure, p, None) in hoisted for p in (SH.targetClass, SH.targetNode))
