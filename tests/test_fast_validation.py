"""The fast SHACL engine (ftz_kg.pipeline.fastshacl: shapes compiled to SPARQL on Oxigraph) gives
the report pySHACL gives: the same results (focus node, path, value, source shape, constraint
component, severity, source constraint, messages, and the results nested under an sh:node result)
and the same verdict, on the real graph, on every example of tests/shapes/, on a synthetic graph
twice the real one, and on hand-made broken graphs that break each kind of constraint the
shapes use. Shapes it cannot compile are refused, never skipped."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH

from ftz_kg.pipeline import fastshacl
from ftz_kg.pipeline.validate import validate_graph, validate_graph_reference

from .test_shapes import EXAMPLES, _world

FTZ = "https://w3id.org/ftz-kg/def#"
FTZSH = "https://w3id.org/ftz-kg/shapes#"
ONTOLOGY = URIRef("https://w3id.org/ftz-kg/def")
EXAMPLE_FILES = sorted((EXAMPLES / "valid").glob("*.ttl")) + sorted((EXAMPLES / "invalid").glob("*.ttl"))

PREFIXES = """
@prefix ftz: <https://w3id.org/ftz-kg/def#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix src: <https://w3id.org/ftz-kg/source/> .
@prefix zone: <https://w3id.org/ftz-kg/zone/> .
@prefix province: <https://w3id.org/ftz-kg/province/> .
@prefix batch: <https://w3id.org/ftz-kg/batch/> .
@prefix innovation: <https://w3id.org/ftz-kg/innovation/> .
@prefix scheme: <https://w3id.org/ftz-kg/scheme/> .
@prefix citation: <https://w3id.org/ftz-kg/citation/> .
@prefix unit: <https://w3id.org/ftz-kg/unit/> .
"""


def _signature(graph: Graph, node):
    """A node of a results graph as text; a blank node (a copied shape or path, a nested result)
    as what hangs off it, so that two results graphs can be compared."""
    if isinstance(node, BNode):
        return ("[]", tuple(sorted((str(p), _signature(graph, o)) for p, o in graph.predicate_objects(node)
                                   if p != SH.detail)))
    return node.n3()


def result_set(graph: Graph) -> set[tuple]:
    """Every result of a results graph (those nested under sh:detail too) as a tuple."""
    results = set()
    for result in graph.subjects(RDF.type, SH.ValidationResult):
        def one(predicate):
            value = graph.value(result, predicate)
            return None if value is None else _signature(graph, value)
        details = tuple(sorted(_signature(graph, d) for d in graph.objects(result, SH.detail)))
        results.add((one(SH.focusNode), one(SH.resultPath), one(SH.value), one(SH.sourceShape),
                     one(SH.sourceConstraintComponent), one(SH.resultSeverity), one(SH.sourceConstraint),
                     tuple(sorted(m.n3() for m in graph.objects(result, SH.resultMessage))), details,
                     (None, SH.result, result) in graph))
    return results


def _conforms(graph: Graph) -> bool:
    return bool(next(graph.objects(None, SH.conforms)).toPython())


def assert_same_report(data: Graph, shapes: Graph, whole_graph: bool = True):
    """The same results and verdict; with whole_graph, the same results graph up to the names of
    its blank nodes (isomorphic; too slow to decide for thousands of results)."""
    fast = validate_graph(data, shapes, engine="fast")
    reference = validate_graph_reference(data, shapes)
    assert result_set(fast.results_graph) == result_set(reference.results_graph)
    assert _conforms(fast.results_graph) == _conforms(reference.results_graph)
    assert fast.conforms == reference.conforms
    if whole_graph:
        assert isomorphic(fast.results_graph, reference.results_graph)
    return fast


def _results(report, component: str, focus: str | None = None):
    graph = report.results_graph
    found = []
    for result in graph.subjects(SH.sourceConstraintComponent, SH[component]):
        if focus is None or graph.value(result, SH.focusNode) == URIRef(focus):
            found.append(result)
    return found


# ---- the real graph, the examples, a synthetic graph


@pytest.mark.slow
def test_real_graph_same_report_and_conforms(graph, shapes):
    report = assert_same_report(graph, shapes)
    assert report.conforms


def test_base_world_same_report(ontology, shapes):
    assert_same_report(_world(ontology, None), shapes)


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_same_report(ontology, shapes, example: Path):
    report = assert_same_report(_world(ontology, example), shapes)
    # the examples say themselves whether they conform
    assert report.conforms == (example.parent.name == "valid" or "severity: Warning" in example.read_text())


@pytest.mark.slow
def test_synthetic_twice_the_real_graph_same_report(graph, shapes):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import synthetic_lines
    doubled = Graph()
    doubled.parse(data="\n".join(synthetic_lines(graph, 2)), format="nt")
    assert len(doubled) > 1.5 * len(graph)
    assert_same_report(doubled, shapes, whole_graph=False)


# ---- hand-made broken graphs: each breaks the rule of the report named in its comment

# (name, Turtle added to the base world, Turtle removed from it, component, focus, value expected)
BROKEN = [
    # SourcedEntityShape: every entity says where its facts come from (ftz:source, minCount 1)
    ("min-count", "", "province:tianjin ftz:source src:ext .",
     "MinCountConstraintComponent", "https://w3id.org/ftz-kg/province/tianjin", None),
    # ZoneShape: a zone lies in exactly one province-level division (maxCount 1)
    ("max-count", "zone:tianjin ftz:inProvince province:tianjin-2 .", "",
     "MaxCountConstraintComponent", "https://w3id.org/ftz-kg/zone/tianjin", None),
    # ZoneShape: a zone's sub-areas must be sub-areas (sh:class ftz:SubArea)
    ("class", "zone:tianjin ftz:hasSubArea province:tianjin .", "",
     "ClassConstraintComponent", "https://w3id.org/ftz-kg/zone/tianjin", URIRef("https://w3id.org/ftz-kg/province/tianjin")),
    # BatchShape: a batch has one year, an xsd:gYear (sh:datatype)
    ("datatype", 'batch:zones-2 ftz:year "2015" .', 'batch:zones-2 ftz:year "2015"^^xsd:gYear .',
     "DatatypeConstraintComponent", "https://w3id.org/ftz-kg/batch/zones-2", Literal("2015")),
    # BatchShape: a batch's number is an xsd:integer from 1: an ill-typed integer is no integer,
    # and is not compared with 1 either (sh:datatype and sh:minInclusive)
    ("ill-typed", 'batch:zones-2 ftz:ordinal "two"^^xsd:integer .', 'batch:zones-2 ftz:ordinal "2"^^xsd:integer .',
     "DatatypeConstraintComponent", "https://w3id.org/ftz-kg/batch/zones-2",
     Literal("two", datatype=URIRef("http://www.w3.org/2001/XMLSchema#integer"))),
    # BatchShape: a batch's number is from 1 (sh:minInclusive 1)
    ("min-inclusive", 'batch:zones-2 ftz:ordinal "0"^^xsd:integer .', 'batch:zones-2 ftz:ordinal "2"^^xsd:integer .',
     "MinInclusiveConstraintComponent", "https://w3id.org/ftz-kg/batch/zones-2", Literal(0)),
    # UnitShape: a unit's conversion factor is positive (sh:minExclusive 0); the value is
    # reported as written ("-1.50"), although Oxigraph keeps decimals in canonical form
    ("min-exclusive", 'unit:test a ftz:Unit ; ftz:baseUnit unit:test ; ftz:conversionFactor "-1.50"^^xsd:decimal .', "",
     "MinExclusiveConstraintComponent", "https://w3id.org/ftz-kg/unit/test", Literal("-1.50", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal"))),
    # TextCharactersShape: no control character in a text (sh:pattern)
    ("pattern", 'zone:tianjin dcterms:description "bell\\u0007"@en .', "",
     "PatternConstraintComponent", "https://w3id.org/ftz-kg/zone/tianjin", Literal("bell\u0007", lang="en")),
    # ZoneShape: a zone's IRI is https://w3id.org/ftz-kg/zone/<slug> (sh:pattern on a node shape)
    ("pattern-on-focus", "<https://w3id.org/ftz-kg/zone/Bad_Slug> a ftz:PilotFreeTradeZone .", "",
     "PatternConstraintComponent", "https://w3id.org/ftz-kg/zone/Bad_Slug", URIRef("https://w3id.org/ftz-kg/zone/Bad_Slug")),
    # AltLabelLanguages: alternative labels are tagged zh or en (sh:languageIn)
    ("language-in", 'zone:tianjin skos:altLabel "Tianjin"@fr .', "",
     "LanguageInConstraintComponent", "https://w3id.org/ftz-kg/zone/tianjin", Literal("Tianjin", lang="fr")),
    # AltLabelLanguages again: the value keeps the data's spelling of its language tag (fr-CA),
    # although Oxigraph keeps tags in lower case
    ("language-tag-case", 'zone:tianjin skos:altLabel "Tianjin"@fr-CA .', "",
     "LanguageInConstraintComponent", "https://w3id.org/ftz-kg/zone/tianjin", Literal("Tianjin", lang="fr-CA")),
    # PrefLabelLanguages: at most one preferred label per language (sh:uniqueLang)
    ("unique-lang", 'province:tianjin skos:prefLabel "天津"@zh .', "",
     "UniqueLangConstraintComponent", "https://w3id.org/ftz-kg/province/tianjin", None),
    # PrefLabelEn: an English preferred label (sh:qualifiedMinCount 1)
    ("qualified-min", "", 'province:tianjin skos:prefLabel "Tianjin Municipality"@en .',
     "QualifiedMinCountConstraintComponent", "https://w3id.org/ftz-kg/province/tianjin", None),
    # ConceptShape: exactly one Chinese definition (sh:qualifiedMaxCount 1)
    ("qualified-max", 'innovation:investment-liberalisation skos:definition "另一个定义。"@zh .', "",
     "QualifiedMaxCountConstraintComponent", "https://w3id.org/ftz-kg/innovation/investment-liberalisation", None),
    # SourcedEntityShape: a source is an IRI (sh:nodeKind sh:IRI)
    ("node-kind", 'province:tianjin ftz:source "the yearbook" .', "",
     "NodeKindConstraintComponent", "https://w3id.org/ftz-kg/province/tianjin", Literal("the yearbook")),
    # InnovationDomainShape: a domain is a top concept of the taxonomy (sh:hasValue)
    ("has-value", "", "innovation:investment-liberalisation skos:topConceptOf scheme:innovation-taxonomy .",
     "HasValueConstraintComponent", "https://w3id.org/ftz-kg/innovation/investment-liberalisation", None),
    # LabelCharactersShape: no bidirectional control in a label (sh:not of a pattern)
    ("not", 'zone:tianjin skos:altLabel "天津\\u200F自贸试验区"@zh .', "",
     "NotConstraintComponent", "https://w3id.org/ftz-kg/zone/tianjin", Literal("天津\u200f自贸试验区", lang="zh")),
    # TermDocumentationShape: an ftz: term is documented in both languages (sh:or)
    ("or", "ftz:UndocumentedClass a owl:Class .", "",
     "OrConstraintComponent", FTZ + "UndocumentedClass", URIRef(FTZ + "UndocumentedClass")),
    # StatementShape: a statement's rank is normal or deprecated (sh:in)
    ("in", "<https://w3id.org/ftz-kg/statement/test> a ftz:Statement ; ftz:rank ftz:PreferredRank .", "",
     "InConstraintComponent", "https://w3id.org/ftz-kg/statement/test", URIRef(FTZ + "PreferredRank")),
    # CitationShape: a quote is under 160 characters (sh:maxLength 160)
    ("max-length", 'citation:long a ftz:Citation ; ftz:place src:part2 ; ftz:firstLine 1 ; ftz:lastLine 2 ; ftz:quote "' + "长" * 161 + '"@zh .', "",
     "MaxLengthConstraintComponent", "https://w3id.org/ftz-kg/citation/long", Literal("长" * 161, lang="zh")),
    # CitationShape: the first line does not come after the last (sh:lessThanOrEquals)
    ("less-than-or-equals", 'citation:reversed a ftz:Citation ; ftz:place src:part2 ; ftz:firstLine 9 ; ftz:lastLine 3 ; ftz:quote "一句话。"@zh .', "",
     "LessThanOrEqualsConstraintComponent", "https://w3id.org/ftz-kg/citation/reversed", Literal(9)),
    # DeclaredTermsShape: every ftz: property used is declared (SPARQL constraint, message filled in)
    ("sparql", 'zone:tianjin ftz:undeclaredProperty "x" .', "",
     "SPARQLConstraintComponent", "https://w3id.org/ftz-kg/def", URIRef(FTZ + "undeclaredProperty")),
]


@pytest.mark.parametrize("name, added, removed, component, focus, value", BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_graph_same_report(ontology, shapes, name, added, removed, component, focus, value):
    data = _world(ontology, None)
    if removed:
        gone = Graph().parse(data=PREFIXES + removed, format="turtle")
        assert all(triple in data for triple in gone), f"{name}: the base world lacks what the case removes"
        for triple in gone:
            data.remove(triple)
    if added:
        data += Graph().parse(data=PREFIXES + added, format="turtle")
    report = assert_same_report(data, shapes)
    assert not report.conforms
    found = _results(report, component, focus)
    assert found, f"{name}: no {component} result for {focus}"
    graph = report.results_graph
    if value is not None:
        assert value in {graph.value(r, SH.value) for r in found}
    else:
        assert component in ("MinCountConstraintComponent", "MaxCountConstraintComponent", "UniqueLangConstraintComponent",
                             "QualifiedMinCountConstraintComponent", "QualifiedMaxCountConstraintComponent",
                             "HasValueConstraintComponent")
        assert {graph.value(r, SH.value) for r in found} == {None}


def test_sparql_message_filled_in_without_language(ontology, shapes):
    data = _world(ontology, None)
    data.add((URIRef("https://w3id.org/ftz-kg/zone/tianjin"), URIRef(FTZ + "undeclaredProperty"), Literal("x")))
    report = validate_graph(data, shapes, engine="fast")
    graph = report.results_graph
    (result,) = _results(report, "SPARQLConstraintComponent", str(ONTOLOGY))
    messages = set(graph.objects(result, SH.resultMessage))
    # the constraint's messages with {?value} filled in, and the shape's, all without language tags
    assert Literal(f"Property {FTZ}undeclaredProperty is used but not declared in the ontology.") in messages
    assert Literal(f"属性 {FTZ}undeclaredProperty 被使用但未在本体中声明。") in messages
    assert Literal("Every ftz: term used in the graph must be declared in the ontology.") in messages
    assert graph.value(result, SH.sourceConstraint) is not None


def test_quote_ending_in_a_line_break_matches_as_python_reads_dollar(ontology, shapes):
    """CitationShape's quote pattern ends in `$`, which Python (pySHACL) also matches before a
    final line break: such a quote breaks no pattern (Rust's `$` alone would say it does)."""
    data = _world(ontology, None)
    data += Graph().parse(data=PREFIXES + 'citation:nl a ftz:Citation ; ftz:place src:part2 ; ftz:firstLine 1 ; '
                          'ftz:lastLine 1 ; ftz:quote "一句话。\\n"@zh .', format="turtle")
    report = assert_same_report(data, shapes)
    assert _results(report, "PatternConstraintComponent", "https://w3id.org/ftz-kg/citation/nl") == []


def test_node_result_nests_the_results_of_its_shape(ontology, shapes):
    """ObservationShape's indicator must conform to IndicatorInCodeList (sh:node): pySHACL nests the
    results of that shape under the sh:node result (sh:detail), and so does the fast engine."""
    report = assert_same_report(_world(ontology, EXAMPLES / "invalid" / "ObservationShape--indicator-not-in-code-list.ttl"), shapes)
    graph = report.results_graph
    (node_result,) = _results(report, "NodeConstraintComponent")
    (detail,) = graph.objects(node_result, SH.detail)
    assert graph.value(detail, SH.sourceConstraintComponent) == SH.HasValueConstraintComponent
    assert graph.value(detail, SH.focusNode) == graph.value(node_result, SH.value)
    assert (None, SH.result, detail) not in graph  # nested, not a result of the report itself


def test_store_already_loaded_gives_the_same_results(ontology, shapes):
    """`serve` has the graph in Oxigraph already: validating that store (here with the data in a
    named graph, read as the union) reports what loading the rdflib graph anew reports."""
    import pyoxigraph as ox
    data = _world(ontology, None)
    data.add((URIRef("https://w3id.org/ftz-kg/zone/tianjin"), URIRef("http://www.w3.org/2004/02/skos/core#altLabel"),
              Literal("Tianjin", lang="fr")))
    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
               to_graph=ox.NamedNode("https://w3id.org/ftz-kg/graph"))
    _, on_store, _ = fastshacl.validate(data, shapes, store=store, union=True)
    reference = validate_graph_reference(data, shapes).results_graph
    assert result_set(on_store) == result_set(reference)
    assert any(True for _ in on_store.subjects(SH.sourceConstraintComponent, SH.LanguageInConstraintComponent))


# ---- what the compiler does not translate is refused


SMALL_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:Shape a sh:NodeShape ; sh:targetNode ex:a ; sh:message "m"@en ;
    sh:property [ sh:path ex:p ; %s ; sh:message "p"@en ] .
"""


@pytest.mark.parametrize("constraint", ["sh:equals ex:q", "sh:xone ( [ sh:class ex:C ] )", "sh:maxInclusive \"x\""])
def test_unsupported_constraint_is_refused_naming_it(constraint):
    shapes = Graph().parse(data=SMALL_SHAPES % constraint, format="turtle")
    data = Graph().parse(data="<http://example.org/a> <http://example.org/p> <http://example.org/b> .", format="turtle")
    with pytest.raises(fastshacl.UnsupportedShapes, match=constraint.split()[0].replace("sh:", "")):
        validate_graph(data, shapes, engine="fast")


def test_pattern_rust_cannot_read_is_refused_not_skipped():
    # a look-ahead: Python reads it, Oxigraph's REGEX would fail and its FILTER pass every value
    shapes = Graph().parse(data=SMALL_SHAPES % 'sh:pattern "^(?=a)b"', format="turtle")
    with pytest.raises(fastshacl.UnsupportedShapes, match="regular expression"):
        validate_graph(Graph(), shapes, engine="fast")


def test_auto_engine_falls_back_to_pyshacl_with_a_warning():
    shapes = Graph().parse(data=SMALL_SHAPES % "sh:equals ex:q", format="turtle")
    data = Graph().parse(data="<http://example.org/a> <http://example.org/p> <http://example.org/b> .", format="turtle")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = validate_graph(data, shapes, engine="auto")
    assert any("equals" in str(w.message) for w in caught)
    assert result_set(report.results_graph) == result_set(validate_graph_reference(data, shapes).results_graph)
    assert not report.conforms  # ex:a has ex:p ex:b and no ex:q: sh:equals fails


def test_unknown_engine_is_an_error_naming_the_parameter():
    with pytest.raises(ValueError, match="engine"):
        validate_graph(Graph(), Graph(), engine="jena")


def test_shape_without_message_is_refused():
    shapes = Graph().parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .""", format="turtle")
    with pytest.raises(fastshacl.UnsupportedShapes, match="sh:message"):
        validate_graph(Graph(), shapes, engine="fast")


def test_dollar_rewritten_as_python_reads_it():
    assert fastshacl.python_dollar("^a$") == r"^a(?:\n?\z)"
    assert fastshacl.python_dollar(r"^[$]\$$") == r"^[$]\$(?:\n?\z)"
    with pytest.raises(ValueError):
        fastshacl.python_dollar("a$b")


def _checked_store(data: Graph):
    """The data as `serve --graph DUMP.nt --store-dir` holds it: loaded by Oxigraph from N-Triples into
    the dataset's named graph; None when a literal is ill-typed (refused before validation there)."""
    import pyoxigraph as ox
    from ftz_kg.query.guard import DATASET_GRAPH
    if any(isinstance(o, Literal) and o.ill_typed for o in data.objects()):
        return None
    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
               to_graph=ox.NamedNode(DATASET_GRAPH))
    return store


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_conformance_on_a_store_loaded_from_a_dump_agrees(ontology, shapes, example: Path):
    """fastshacl.conforms_on_store (the first start from a dump) gives the full report's verdict
    (pySHACL's: test_example_same_report) on every example whose literals pass the loading checks."""
    data = _world(ontology, example)
    store = _checked_store(data)
    if store is None:
        assert "ill-typed" in example.read_text() or example.parent.name == "invalid"
        return
    assert fastshacl.conforms_on_store(store, shapes) == validate_graph(data, shapes, engine="fast").conforms


@pytest.mark.parametrize("name, added, removed, component, focus, value", BROKEN, ids=[case[0] for case in BROKEN])
def test_conformance_on_a_store_finds_each_broken_graph(ontology, shapes, name, added, removed, component, focus, value):
    data = _world(ontology, None)
    if removed:
        for triple in Graph().parse(data=PREFIXES + removed, format="turtle"):
            data.remove(triple)
    if added:
        data += Graph().parse(data=PREFIXES + added, format="turtle")
    store = _checked_store(data)
    if store is not None:
        assert not fastshacl.conforms_on_store(store, shapes)
