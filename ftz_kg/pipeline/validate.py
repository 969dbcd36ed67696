"""Stage 3: SHACL validation of a built graph, and reports a person (or a program) can read."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, SKOS
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.plugins.stores.memory import Memory, SimpleMemory

from ftz_kg import resources
from ftz_kg.pipeline.rdfio import parse_turtle
from ftz_kg.vocab import FTZ, bind_prefixes

_CJK = re.compile(r"[\u3400-\u9fff]")
SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass
class Finding:
    focus: str
    severity: str
    message_en: str
    message_zh: str
    path: str | None
    value: str | None
    shape: str | None


@dataclass
class FocusGroup:
    focus: str
    label: str
    origin: str | None
    report_sources: list[str]
    findings: list[Finding] = field(default_factory=list)


@dataclass
class ValidationReport:
    groups: list[FocusGroup]
    results_graph: Graph

    @property
    def findings(self) -> list[Finding]:
        return [f for g in self.groups for f in g.findings]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def conforms(self) -> bool:
        """Warnings alone do not fail validation."""
        return self.count("Violation") == 0


def load_shapes(path: Path | None = None) -> Graph:
    return parse_turtle(path or resources.shapes_file())


# Parsed SPARQL queries by (text, namespaces), shared by every validation in this process.
_PREPARED: dict[tuple[str, tuple[tuple[str, str], ...]], Query] = {}


class _PreparedQueries(Graph):
    """The data graph as pySHACL sees it: the same store (nothing is copied), except that each
    distinct SPARQL text is parsed once. pySHACL runs a SPARQL constraint once per focus node and
    hands rdflib its text every time; rdflib parses text on every call (about 4 ms, twenty times
    what evaluating such a query for one focus node takes). A parsed query is what rdflib would
    have made of the text with the same namespaces, and evaluating it does not change it."""

    def __init__(self, graph: Graph):
        super().__init__(store=graph.store, identifier=graph.identifier, namespace_manager=graph.namespace_manager)

    def query(self, query_object, processor="sparql", result="sparql", initNs=None,
              initBindings=None, use_store_provided=True, **kwargs):
        if isinstance(query_object, str) and processor == "sparql" and not kwargs:
            namespaces = dict(initNs or self.namespaces())
            key = (query_object, tuple(sorted((prefix, str(ns)) for prefix, ns in namespaces.items())))
            prepared = _PREPARED.get(key)
            if prepared is None:
                if len(_PREPARED) >= 1024:  # a long-lived process meeting ever new namespaces
                    _PREPARED.clear()
                prepared = _PREPARED[key] = translateQuery(parseQuery(query_object), None, namespaces)
            query_object, initNs = prepared, namespaces
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _hoist_property_shapes(shapes: Graph) -> tuple[Graph, list[tuple]]:
    """A copy of the shapes in which the property shapes of a node shape carry that node shape's
    targets themselves, instead of hanging off it by sh:property; and the target triples added.

    SHACL gives both the same meaning: each focus node is validated against each property shape,
    and a result names the property shape as its source either way. But pySHACL validates a
    property shape under a node shape once per focus node (building its constraints anew each
    time), and a targeted property shape once for all its focus nodes. Only done where nothing
    else can tell the difference: the node shape is used by no other shape (sh:node, sh:or, ...)
    and is not deactivated, and the property shape has no targets of its own and belongs to this
    node shape alone."""
    hoisted = Graph()
    for triple in shapes:
        hoisted.add(triple)
    added = []
    for node_shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        targets = [(p, o) for p in _TARGETS for o in shapes.objects(node_shape, p)]
        if not targets or (None, None, node_shape) in shapes or (node_shape, SH.deactivated, None) in shapes:
            continue
        for prop in shapes.objects(node_shape, SH.property):
            if len(set(shapes.subject_predicates(prop))) != 1 or any((prop, p, None) in shapes for p in _TARGETS):
                continue
            hoisted.remove((node_shape, SH.property, prop))
            for p, o in targets:
                hoisted.add((prop, p, o))
                added.append((prop, p, o))
    return hoisted, added


ENGINES = ("auto", "fast", "pyshacl")


def validate_graph(data: Graph, shapes: Graph | None = None,
                   origins: dict[URIRef, str] | None = None, engine: str = "auto",
                   store=None, union: bool = False) -> ValidationReport:
    """Validate: no inference, warnings allowed (they do not fail validation).

    engine "fast" (ftz_kg.pipeline.fastshacl): the shapes compiled to SPARQL and run on an
    embedded Oxigraph store, one query per shape and constraint for all focus nodes; its results
    graph is pySHACL's (tests/test_fast_validation.py holds it to validate_graph_reference on the
    real graph, every example of tests/shapes/ and a synthetic graph). Shapes it cannot compile
    make it raise fastshacl.UnsupportedShapes, naming the shape and what it uses.
    engine "pyshacl": pySHACL, made more than twice as fast with no change in the results
    (tests/test_shapes.py): SPARQL parsed once (_PreparedQueries) and property shapes validated
    once for all their focus nodes (_hoist_property_shapes).
    engine "auto": "fast", or "pyshacl" with a warning saying why when the shapes use what the
    fast engine does not compile.
    store: a pyoxigraph Store already holding `data` (in its default graph, or in its graphs
    together with union=True), which the fast engine then queries instead of loading `data`."""
    shapes = shapes if shapes is not None else load_shapes()
    if engine not in ENGINES:
        raise ValueError(f"validate_graph: engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine in ("auto", "fast"):
        from ftz_kg.pipeline import fastshacl
        try:
            return _report(fastshacl.validate(data, shapes, store, union), data, shapes, origins)
        except fastshacl.UnsupportedShapes as error:
            if engine == "fast":
                raise
            warnings.warn(f"fast SHACL validation cannot compile these shapes ({error}); validating with pySHACL",
                          stacklevel=2)
    hoisted, added = _hoist_property_shapes(shapes)
    # (a dataset, or a store that answers SPARQL itself, is queried as it is)
    in_memory = type(data) is Graph and isinstance(data.store, (Memory, SimpleMemory))
    target = _PreparedQueries(data) if in_memory else data
    conforms, results, text = shacl_validate(
        target, shacl_graph=hoisted, inference="none", advanced=False, allow_warnings=True,
        abort_on_first=False, meta_shacl=False, js=False)
    if isinstance(results, Graph):
        # a result whose source shape is a blank node carries a copy of that shape: as written
        for triple in added:
            results.remove(triple)
    return _report((conforms, results, text), data, shapes, origins)


def validate_graph_reference(data: Graph, shapes: Graph | None = None,
                             origins: dict[URIRef, str] | None = None) -> ValidationReport:
    """pySHACL as it comes, on the shapes as written: what validate_graph must agree with."""
    shapes = shapes if shapes is not None else load_shapes()
    return _report(shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True,
        abort_on_first=False, meta_shacl=False, js=False), data, shapes, origins)


def _report(outcome, data: Graph, shapes: Graph, origins: dict[URIRef, str] | None) -> ValidationReport:
    _conforms, results, _text = outcome
    bind_prefixes(results)
    return ValidationReport(_group(results, data, shapes, origins or {}), results)


def _short(graph: Graph, term, bound: tuple[str, ...] | None = None) -> str | None:
    """A term as a prefixed name where a prefix is bound. `bound`: the namespaces bound in `graph`;
    an IRI in none of them is written <IRI> at once, which is what normalizeUri gives it, without
    adding its namespace to rdflib's namespace trie (quadratic: 8 s of the report of 31,000
    results at 10x). Such a namespace lies under no bound one, so leaving it out of the trie
    changes no other prefixed name."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        if bound is not None and not str(term).startswith(bound):
            return f"<{term}>"
        try:
            return graph.namespace_manager.normalizeUri(term)
        except Exception:  # not every IRI has a prefix form
            return str(term)
    return str(term)


def _label(data: Graph, node) -> str:
    labels = {lit.language: str(lit) for lit in data.objects(node, SKOS.prefLabel) if isinstance(lit, Literal)}
    parts = [labels[lang] for lang in ("zh", "en") if lang in labels]
    return " / ".join(parts) if parts else str(node)


def _template(message) -> re.Pattern:
    """A filled-in message template as a pattern: a value (which may be Chinese in an English
    message) stands where the template names a variable."""
    parts = re.split(r"\{[?$][A-Za-z_][A-Za-z0-9_]*\}", str(message))
    return re.compile("(?s)" + ".*?".join(re.escape(part) for part in parts))


def _messages(results: Graph, result, shapes: Graph) -> tuple[str, str]:
    """The English and Chinese messages of a result, the specific one first (a SPARQL
    constraint's, with its values filled in) and the shape's general message after it.
    pySHACL drops the language tag when it fills in a template, so untagged messages are
    told apart by their script."""
    shape = results.value(result, SH.sourceShape)
    general = {str(m) for m in shapes.objects(shape, SH.message)}
    templates = [(_template(m), m.language) for constraint in shapes.objects(shape, SH.sparql)
                 for m in shapes.objects(constraint, SH.message) if getattr(m, "language", None)]
    by_lang: dict[str, list[str]] = {"en": [], "zh": []}
    for message in sorted(results.objects(result, SH.resultMessage), key=lambda m: (str(m) in general, str(m))):
        lang = getattr(message, "language", None) or next(
            (tag for pattern, tag in templates if pattern.fullmatch(str(message))),
            "zh" if _CJK.search(str(message)) else "en")
        if lang in by_lang and str(message) not in by_lang[lang]:
            by_lang[lang].append(str(message))
    english = " ".join(by_lang["en"]) or " ".join(by_lang["zh"])
    return english, " ".join(by_lang["zh"]) or english


def _group(results: Graph, data: Graph, shapes: Graph, origins: dict[URIRef, str]) -> list[FocusGroup]:
    namespaces = Graph()
    bind_prefixes(namespaces)
    bound = tuple(str(namespace) for _, namespace in namespaces.namespace_manager.namespaces())
    groups: dict[str, FocusGroup] = {}
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        key = str(focus)
        if key not in groups:
            sources = sorted(_label(data, s) for s in data.objects(focus, FTZ.source))
            groups[key] = FocusGroup(key, _label(data, focus), origins.get(focus), sources)
        message_en, message_zh = _messages(results, result, shapes)
        value = results.value(result, SH.value)
        groups[key].findings.append(Finding(
            focus=key,
            severity=SEVERITY_NAMES.get(results.value(result, SH.resultSeverity), "Violation"),
            message_en=message_en,
            message_zh=message_zh,
            path=_short(namespaces, results.value(result, SH.resultPath), bound),
            value=_short(namespaces, value, bound) if value is not None else None,
            shape=_short(namespaces, results.value(result, SH.sourceShape), bound)
            if isinstance(results.value(result, SH.sourceShape), URIRef) else None,
        ))
    ordered = sorted(groups.values(), key=lambda g: g.focus)
    for group in ordered:
        group.findings.sort(key=lambda f: (f.severity, f.path or "", f.message_en, f.value or ""))
    return ordered


def format_text(report: ValidationReport) -> str:
    lines = []
    for group in report.groups:
        lines.append(f"{group.label}  <{group.focus}>")
        if group.origin:
            lines.append(f"  defined at: {group.origin}")
        if group.report_sources:
            lines.append(f"  report: {'; '.join(group.report_sources)}")
        for f in group.findings:
            where = f" [{f.path}]" if f.path else ""
            value = f" (value: {f.value})" if f.value else ""
            lines.append(f"  {f.severity}{where}: {f.message_en}{value}")
            if f.message_zh and f.message_zh != f.message_en:
                lines.append(f"    {f.message_zh}")
        lines.append("")
    violations, warnings = report.count("Violation"), report.count("Warning")
    verdict = "conforms" if report.conforms else "does not conform"
    lines.append(f"{verdict}: {violations} violation(s), {warnings} warning(s) "
                 f"on {len(report.groups)} focus node(s)")
    return "\n".join(lines) + "\n"


def format_json(report: ValidationReport) -> str:
    payload = {
        "conforms": report.conforms,
        "violations": report.count("Violation"),
        "warnings": report.count("Warning"),
        "focusNodes": [
            {
                "focus": g.focus, "label": g.label, "definedAt": g.origin, "reportSources": g.report_sources,
                "results": [
                    {"severity": f.severity, "path": f.path, "value": f.value, "shape": f.shape,
                     "message": {"en": f.message_en, "zh": f.message_zh}}
                    for f in g.findings
                ],
            }
            for g in report.groups
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def format_turtle(report: ValidationReport) -> str:
    return report.results_graph.serialize(format="turtle")


FORMATTERS = {"text": format_text, "json": format_json, "turtle": format_turtle}
