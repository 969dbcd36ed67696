"""Stage 3: SHACL validation of a built graph, and reports a person (or a program) can read."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, SKOS

from . import resources
from .rdfio import parse_turtle
from .vocab import FTZ, bind_prefixes

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


def validate_graph(data: Graph, shapes: Graph | None = None,
                   origins: dict[URIRef, str] | None = None) -> ValidationReport:
    shapes = shapes if shapes is not None else load_shapes()
    _conforms, results, _text = shacl_validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True,
        abort_on_first=False, meta_shacl=False, js=False)
    bind_prefixes(results)
    return ValidationReport(_group(results, data, shapes, origins or {}), results)


def _short(graph: Graph, term) -> str | None:
    if term is None:
        return None
    if isinstance(term, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(term)
        except Exception:  # not every IRI has a prefix form
            return str(term)
    return str(term)


def _label(data: Graph, node) -> str:
    labels = {lit.language: str(lit) for lit in data.objects(node, SKOS.prefLabel) if isinstance(lit, Literal)}
    parts = [labels[lang] for lang in ("zh", "en") if lang in labels]
    return " / ".join(parts) if parts else str(node)


def _messages(results: Graph, result, shapes: Graph) -> tuple[str, str]:
    """The English and Chinese messages of a result, the specific one first (a SPARQL
    constraint's, with its values filled in) and the shape's general message after it.
    pySHACL drops the language tag when it fills in a template, so untagged messages are
    told apart by their script."""
    general = {str(m) for m in shapes.objects(results.value(result, SH.sourceShape), SH.message)}
    by_lang: dict[str, list[str]] = {"en": [], "zh": []}
    for message in sorted(results.objects(result, SH.resultMessage), key=lambda m: (str(m) in general, str(m))):
        lang = getattr(message, "language", None) or ("zh" if _CJK.search(str(message)) else "en")
        if lang in by_lang and str(message) not in by_lang[lang]:
            by_lang[lang].append(str(message))
    english = " ".join(by_lang["en"]) or " ".join(by_lang["zh"])
    return english, " ".join(by_lang["zh"]) or english


def _group(results: Graph, data: Graph, shapes: Graph, origins: dict[URIRef, str]) -> list[FocusGroup]:
    namespaces = Graph()
    bind_prefixes(namespaces)
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
            path=_short(namespaces, results.value(result, SH.resultPath)),
            value=_short(namespaces, value) if value is not None else None,
            shape=_short(namespaces, results.value(result, SH.sourceShape))
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
