"""Stage 2: curated CSV sources -> one RDF graph (ontology + data), by the mapping in mapping.py."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from ftz_kg import resources
from ftz_kg.pipeline.curated import Row, read_table
from ftz_kg.errors import InputError
from ftz_kg.pipeline.mapping import (SOURCE_COLUMNS, SOURCE_KINDS, SOURCE_REQUIRED, TABLES, AreaRef, ClassByValue,
                                     DateValue, ExternalIri, Ref, Sources, Table, Text, Typed, scheme_iri)
from ftz_kg.pipeline.figures import complete_figures, decimal_lexical
from ftz_kg.pipeline.rdfio import parse_turtle
from ftz_kg.pipeline.statements import StatementBuilder
from ftz_kg.vocab import FTZ, SLUG, bind_prefixes, iri

_LOCATOR = re.compile(r"^(?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)(?:#(?P<row>[1-9][0-9]*))?$")
_LINES = re.compile(r"^(?P<first>[1-9][0-9]*)(?:-(?P<last>[1-9][0-9]*))?$")
_LEXICAL = {
    XSD.gYear: re.compile(r"^[0-9]{4}$"),
    XSD.integer: re.compile(r"^[1-9][0-9]*$"),
    XSD.string: re.compile(r"^.+$", re.S),
    XSD.decimal: re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"),
}
_DATE_FORMS = ((re.compile(r"^[0-9]{4}$"), XSD.gYear), (re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$"), XSD.gYearMonth),
               (re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"), XSD.date))


@dataclass
class BuildResult:
    graph: Graph
    # entity IRI -> "graph/file.csv:line", for error and validation reports
    origins: dict[URIRef, str] = field(default_factory=dict)


def build(graph_dir: Path | None = None, ontology_file: Path | None = None) -> BuildResult:
    """Build the complete graph from the curated folder; raises InputError on unusable input."""
    graph_dir = graph_dir or resources.graph_dir()
    ontology_file = ontology_file or resources.ontology_file()
    graph = parse_turtle(ontology_file)
    bind_prefixes(graph)
    builder = _Builder(graph, graph_dir)
    builder.add_sources()
    tables = [(table, builder.read(table)) for table in TABLES]
    for table, rows in tables:
        builder.register(table, rows)
    for table, rows in tables:
        for row in rows:
            builder.add_row(table, row)
    statements = StatementBuilder(builder)
    for table, rows in tables:
        if table.cited_inline:
            for row in rows:
                statements.inline_citation(row, iri(table.kind, row.get(table.id_column)))
    statements.run(graph_dir)
    _mark_subarea_groups(graph)
    complete_figures(graph)
    return BuildResult(graph, builder.origins)


def _mark_subarea_groups(graph: Graph) -> None:
    """A sub-area as the report names it that stands for several sub-areas of the zone's plan (成都片区
    for 天府新区 and 青白江铁路港) is not one of the plan's sub-areas: it is not counted or listed as one."""
    for group in set(graph.subjects(DCTERMS.hasPart, None)):
        if (group, RDF.type, FTZ.SubArea) not in graph:
            continue
        graph.remove((group, RDF.type, FTZ.SubArea))
        graph.add((group, RDF.type, FTZ.SubAreaGroup))
        for zone in list(graph.objects(group, FTZ.partOfZone)):
            graph.remove((zone, FTZ.hasSubArea, group))


class _Builder:
    def __init__(self, graph: Graph, graph_dir: Path):
        self.graph = graph
        self.graph_dir = graph_dir
        self.ids: dict[str, dict[str, Row]] = {}
        self.source_kinds: dict[str, str] = {}
        self.source_labels: dict[str, tuple[str, str]] = {}
        self.origins: dict[URIRef, str] = {}

    def _files(self, pattern: str) -> list[Path]:
        files = sorted(self.graph_dir.glob(pattern))
        if not files:
            raise InputError(f"no curated file matches {pattern!r}", path=str(self.graph_dir))
        return files

    def read(self, table: Table) -> list[Row]:
        rows: list[Row] = []
        for path in self._files(table.pattern):
            rows.extend(read_table(path, table.column_names, set(table.required)))
        return rows

    def _origin(self, row: Row) -> str:
        try:
            shown = row.path.relative_to(self.graph_dir.parent)
        except ValueError:
            shown = row.path
        return f"{shown}:{row.line}"

    def register(self, table: Table, rows: list[Row]) -> None:
        if table.adds_to:
            return
        known = self.ids.setdefault(table.kind, {})
        for row in rows:
            entity_id = row.get(table.id_column)
            if not SLUG.match(entity_id):
                raise row.error(f"id {entity_id!r} is not a slug (lowercase letters, digits and single hyphens)",
                                table.id_column)
            if entity_id in known:
                raise row.error(f"duplicate {table.kind} id {entity_id!r}, first defined at "
                                f"{self._origin(known[entity_id])}", table.id_column)
            known[entity_id] = row

    # -- sources ---------------------------------------------------------------------------

    def add_sources(self) -> None:
        rows = read_table(self.graph_dir / "sources.csv", SOURCE_COLUMNS, set(SOURCE_REQUIRED))
        known: dict[str, Row] = {}
        for row in rows:
            source_id = row.get("id")
            if not SLUG.match(source_id):
                raise row.error(f"id {source_id!r} is not a slug", "id")
            if source_id in known:
                raise row.error(f"duplicate source id {source_id!r}", "id")
            if row.get("kind") not in SOURCE_KINDS:
                raise row.error(f"unknown kind {row.get('kind')!r}; expected one of {', '.join(SOURCE_KINDS)}", "kind")
            known[source_id] = row
        for row in rows:
            node = iri("source", row.get("id"))
            self.source_kinds[row.get("id")] = row.get("kind")
            self.source_labels[row.get("id")] = (row.get("label_zh"), row.get("label_en"))
            self.graph.add((node, RDF.type, SOURCE_KINDS[row.get("kind")]))
            self.graph.add((node, SKOS.prefLabel, Literal(row.get("label_zh"), lang="zh")))
            self.graph.add((node, SKOS.prefLabel, Literal(row.get("label_en"), lang="en")))
            parent = row.get("parent")
            if parent:
                if parent not in known:
                    raise row.error(f"unknown parent source {parent!r}", "parent")
                self.graph.add((node, FTZ.withinSource, iri("source", parent)))
            lines = row.get("lines")
            if lines:
                match = _LINES.match(lines)
                if not match:
                    raise row.error(f"lines {lines!r} must be N or N-M", "lines")
                first = int(match["first"])
                last = int(match["last"] or first)
                if last < first:
                    raise row.error(f"lines {lines!r} end before they start", "lines")
                self.graph.add((node, FTZ.firstLine, Literal(first, datatype=XSD.integer)))
                self.graph.add((node, FTZ.lastLine, Literal(last, datatype=XSD.integer)))
            self.origins[node] = self._origin(row)

    def _source(self, row: Row, column: str, locator: str) -> URIRef:
        match = _LOCATOR.match(locator)
        if not match or match["id"] not in self.source_kinds:
            raise row.error(f"unknown source locator {locator!r}; use an id from sources.csv, "
                            f"optionally with #row", column)
        source_id, number = match["id"], match["row"]
        table = iri("source", source_id)
        if number is None:
            return table
        if self.source_kinds[source_id] != "table":
            raise row.error(f"{source_id!r} is not a table, so {locator!r} cannot name a row", column)
        node = URIRef(f"{table}/row-{number}")
        label_zh, label_en = self.source_labels[source_id]
        self.graph.add((node, RDF.type, FTZ.TableRow))
        self.graph.add((node, FTZ.withinSource, table))
        self.graph.add((node, FTZ.rowNumber, Literal(int(number), datatype=XSD.integer)))
        self.graph.add((node, SKOS.prefLabel, Literal(f"{label_zh} 序号{number}", lang="zh")))
        self.graph.add((node, SKOS.prefLabel, Literal(f"{label_en}, row {number}", lang="en")))
        return node

    # -- entities --------------------------------------------------------------------------

    def _ref(self, row: Row, column: str, kind: str, value: str) -> URIRef:
        if value not in self.ids.get(kind, {}):
            raise row.error(f"unknown {kind} id {value!r}", column)
        return iri(kind, value)

    @staticmethod
    def _date(row: Row, column: str, value: str) -> Literal:
        for pattern, datatype in _DATE_FORMS:
            if pattern.match(value):
                literal = Literal(value, datatype=datatype, normalize=False)
                if datatype == XSD.date and not isinstance(literal.value, datetime.date):
                    break
                return literal
        raise row.error(f"{value!r} is not a date as precise as the report gives it: YYYY, YYYY-MM or YYYY-MM-DD",
                        column)

    def add_row(self, table: Table, row: Row) -> None:
        graph = self.graph
        entity_id = row.get(table.id_column)
        if table.adds_to:
            subject = self._ref(row, table.id_column, table.adds_to, entity_id)
            # a violation may lie in this row rather than where the entity is defined: name both
            self.origins[subject] = "; ".join(filter(None, (self.origins.get(subject), self._origin(row))))
        else:
            subject = iri(table.kind, entity_id)
            self.origins[subject] = self._origin(row)
        for cls in table.types:
            graph.add((subject, RDF.type, cls))
        if table.scheme:
            scheme = scheme_iri(table.scheme)
            graph.add((subject, SKOS.inScheme, scheme))
            if table.top_when_no and (table.top_when_no == "id" or not row.get(table.top_when_no)):
                graph.add((subject, SKOS.topConceptOf, scheme))
                graph.add((scheme, SKOS.hasTopConcept, subject))
        for column, spec in table.columns.items():
            if spec is None:
                continue
            if isinstance(spec, Sources):
                for locator in row.values(column):
                    graph.add((subject, FTZ.source, self._source(row, column, locator)))
            elif isinstance(spec, ClassByValue):
                value = row.get(column)
                if value not in spec.classes:
                    raise row.error(f"{value!r} is not one of {', '.join(spec.classes)}", column)
                if spec.predicate is not None:
                    graph.add((subject, spec.predicate, Literal(value)))
                if spec.classes[value] is not None:
                    graph.add((subject, RDF.type, spec.classes[value]))
            elif isinstance(spec, Text):
                values = row.values(column) if spec.multi else ([row.get(column)] if row.get(column) else [])
                for value in values:
                    for predicate in (spec.predicate, *spec.also):
                        graph.add((subject, predicate, Literal(value, lang=spec.lang)))
            elif isinstance(spec, DateValue):
                value = row.get(column)
                if value:
                    graph.add((subject, spec.predicate, self._date(row, column, value)))
            elif isinstance(spec, AreaRef):
                kind, _, area_id = row.get(column).partition("/")
                if kind not in spec.kinds or not area_id:
                    raise row.error(f"{row.get(column)!r} must be kind/id with kind one of {', '.join(spec.kinds)} "
                                    f"(zone/sichuan, group/nation ...)", column)
                graph.add((subject, spec.predicate, self._ref(row, column, kind, area_id)))
            elif isinstance(spec, ExternalIri):
                value = row.get(column)
                if value:
                    if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
                        raise row.error(f"{value!r} is not an http(s) IRI", column)
                    graph.add((subject, spec.predicate, URIRef(value)))
            elif isinstance(spec, Typed):
                value = row.get(column)
                if not value:
                    continue
                if not _LEXICAL[spec.datatype].match(value):
                    kind = "positive integer" if spec.datatype == XSD.integer else spec.datatype.n3(graph.namespace_manager)
                    raise row.error(f"{value!r} is not a valid {kind}", column)
                # RDF 1.1: a simple literal is an xsd:string; writing it plain keeps every format in agreement
                datatype = None if spec.datatype == XSD.string else spec.datatype
                if datatype == XSD.decimal:
                    value = decimal_lexical(value)
                graph.add((subject, spec.predicate, Literal(value, datatype=datatype, normalize=False)))
            elif isinstance(spec, Ref):
                values = row.values(column)
                if len(values) > 1 and not spec.multi:
                    raise row.error("takes a single value, not a |-separated list", column)
                for value in values:
                    target = self._ref(row, column, spec.kind, value)
                    graph.add((subject, spec.predicate, target))
                    if spec.inverse is not None:
                        graph.add((target, spec.inverse, subject))
