"""Counts of entities per class, beside the totals that the report itself states."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from ftz_kg import resources
from ftz_kg.pipeline.curated import read_table
from ftz_kg.vocab import FTZ, QB, iri

COUNTED_CLASSES: tuple[URIRef, ...] = (
    FTZ.PilotFreeTradeZone, FTZ.SubArea, FTZ.ProvinceLevelDivision,
    FTZ.InnovationMeasure, FTZ.ReplicableExperience, FTZ.EstablishmentBatch, FTZ.PromotionBatch,
    FTZ.ResponsibleUnit, FTZ.GovernmentAgency, FTZ.PartyOrgan, FTZ.JudicialOrgan, FTZ.StateOwnedEnterprise,
    FTZ.InnovationDomain, FTZ.InnovationApproach, FTZ.InnovationPoint, FTZ.RolloutScope,
    FTZ.ExperienceDomain, FTZ.NationalStrategy, FTZ.Theme, FTZ.SourceReference,
    FTZ.ZoneGroup, FTZ.SubAreaGroup, QB.Observation, FTZ.Indicator, FTZ.PolicyDocument, FTZ.DatedEvent,
    FTZ.PublicBody, FTZ.Legislature, FTZ.LocalGovernment,
)


def instances(graph: Graph, cls: URIRef) -> set:
    """Instances of `cls` or of any of its subclasses (by the graph's rdfs:subClassOf axioms)."""
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    return {s for c in classes for s in graph.subjects(RDF.type, c)}


def _experiences_in_scope(graph: Graph, scope: URIRef) -> int:
    scopes = set(graph.transitive_subjects(SKOS.broader, scope))
    return sum(1 for e in instances(graph, FTZ.ReplicableExperience)
               if graph.value(e, FTZ.rolloutScope) in scopes)


def _experiences_in_domain(graph: Graph, domain: str) -> int:
    target = iri("experience-domain", domain)
    return sum(1 for e in instances(graph, FTZ.ReplicableExperience)
               if graph.value(e, FTZ.experienceDomain) == target)


def _rows_cited(graph: Graph, table_id: str) -> int:
    """Rows of a report table that some measure cites."""
    table = iri("source", table_id)
    return len({row for row in graph.subjects(FTZ.withinSource, table)
                if (row, RDF.type, FTZ.TableRow) in graph and any(graph.subjects(FTZ.source, row))})


def _case_boxes_cited(graph: Graph) -> int:
    return len({box for box in graph.subjects(RDF.type, FTZ.CaseBox) if any(graph.subjects(FTZ.source, box))})


# How we count each total the report states (graph/report_totals.csv gives the stated value).
TOTALS = {
    "zones": lambda g: len(instances(g, FTZ.PilotFreeTradeZone)),
    "subareas": lambda g: len(instances(g, FTZ.SubArea)),
    "experiences": lambda g: len(instances(g, FTZ.ReplicableExperience)),
    "experiences-nationwide": lambda g: _experiences_in_scope(g, iri("scope", "nationwide")),
    "experiences-specific-areas": lambda g: _experiences_in_scope(g, iri("scope", "specific-areas")),
    "experiences-investment": lambda g: _experiences_in_domain(g, "investment"),
    "experiences-trade": lambda g: _experiences_in_domain(g, "trade"),
    "experiences-finance": lambda g: _experiences_in_domain(g, "finance"),
    "experiences-supervision": lambda g: _experiences_in_domain(g, "supervision"),
    "experiences-human-resources": lambda g: _experiences_in_domain(g, "human-resources"),
    **{f"part2-table{n}-rows": (lambda g, n=n: _rows_cited(g, f"part2-table{n}")) for n in range(1, 8)},
    "part3-case-boxes": _case_boxes_cited,
    "first-five-batch-zones": lambda g: len(set(g.objects(iri("group", "first-five-batches"), FTZ.groupMember))),
    "new-zones-2020": lambda g: len(set(g.objects(iri("group", "new-zones-2020"), FTZ.groupMember))),
    "border-zones": lambda g: len(set(g.objects(iri("group", "border-zones"), FTZ.groupMember))),
}


@dataclass
class ClassCount:
    iri: str
    label_en: str
    label_zh: str
    count: int


@dataclass
class Total:
    id: str
    label_en: str
    label_zh: str
    stated: int
    ours: int

    @property
    def agrees(self) -> bool:
        return self.stated == self.ours


def _labels(graph: Graph, node: URIRef) -> tuple[str, str]:
    by_lang = {lit.language: str(lit) for lit in graph.objects(node, RDFS.label)}
    return by_lang.get("en", str(node)), by_lang.get("zh", by_lang.get("en", str(node)))


def class_counts(graph: Graph) -> list[ClassCount]:
    rows = []
    for cls in COUNTED_CLASSES:
        en, zh = _labels(graph, cls)
        rows.append(ClassCount(str(cls), en, zh, len(instances(graph, cls))))
    return rows


def report_totals(graph: Graph, graph_dir: Path | None = None) -> list[Total]:
    path = (graph_dir or resources.graph_dir()) / "report_totals.csv"
    rows = read_table(path, ["id", "stated", "label_zh", "label_en", "source"], {"id", "stated"})
    totals = []
    for row in rows:
        counter = TOTALS.get(row.get("id"))
        if counter is None:
            raise row.error(f"no counting rule for total {row.get('id')!r}", "id")
        try:
            stated = int(row.get("stated"))
        except ValueError:
            raise row.error(f"{row.get('stated')!r} is not a whole number", "stated") from None
        totals.append(Total(row.get("id"), row.get("label_en"), row.get("label_zh"), stated, counter(graph)))
    return totals


def format_text(counts: list[ClassCount], totals: list[Total]) -> str:
    lines = ["Entities per class", ""]
    width = max(len(label) for label in [c.label_en for c in counts] + [t.label_en for t in totals])
    for c in counts:
        lines.append(f"  {c.label_en:<{width}}  {c.count:>5}  {c.label_zh}")
    lines += ["", "Totals stated in the report", "", f"  {'':<{width}}  {'report':>6}  {'graph':>5}"]
    for t in totals:
        mark = "ok" if t.agrees else "DIFFERS"
        lines.append(f"  {t.label_en:<{width}}  {t.stated:>6}  {t.ours:>5}  {mark}  {t.label_zh}")
    return "\n".join(lines) + "\n"


def format_json(counts: list[ClassCount], totals: list[Total]) -> str:
    return json.dumps({
        "classes": [c.__dict__ for c in counts],
        "reportTotals": [{**t.__dict__, "agrees": t.agrees} for t in totals],
    }, ensure_ascii=False, indent=2) + "\n"
