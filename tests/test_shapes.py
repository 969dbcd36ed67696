"""Every shape has a valid example it accepts and invalid examples it rejects with the
expected message. Examples live in tests/shapes/{valid,invalid}/<ShapeName>[--case].ttl and
are merged with the ontology and tests/shapes/base.ttl; each file is a test by itself.

An invalid example states what it expects in its header:
    # expect: <text of the English message>     (one line per expected result)
    # severity: Warning                           (default: Violation)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from ftz_kg.rdfio import parse_turtle
from ftz_kg.validate import validate_graph
from ftz_kg.vocab import FTZSH

EXAMPLES = Path(__file__).parent / "shapes"
VALID = sorted((EXAMPLES / "valid").glob("*.ttl"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.ttl"))


def _world(ontology: Graph, example: Path | None) -> Graph:
    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    parse_turtle(EXAMPLES / "base.ttl", graph)
    if example is not None:
        parse_turtle(example, graph)
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
