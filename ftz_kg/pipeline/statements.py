"""Stage 2, second step: statement-level provenance, from graph/citations/*.csv and graph/conflicts.csv.

Wikidata's model: beside each plain ("truthy") triple of a link or a name, a statement node names
the subject, the property and the value, and cites each place of the report that states it, with
the lines and a short verbatim quote. A cited value the entity does not have is a statement of
deprecated rank: a reading of the report the graph does not follow, which a source conflict must
explain (in Chinese and English).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS, XSD

from ftz_kg.errors import InputError
from ftz_kg.pipeline.curated import Row, read_table
from ftz_kg.pipeline.mapping import (CITATION_COLUMNS, CITATION_REQUIRED, CONFLICT_COLUMNS, CONFLICT_KINDS,
                                     CONFLICT_REQUIRED, QUALIFIED_PREDICATES, TABLES, VARIANT_COLUMNS, Ref, Sources,
                                     Text, Typed)
from ftz_kg.vocab import BASE, FTZ, iri

_LINES = re.compile(r"^(?P<first>[1-9][0-9]*)(?:-(?P<last>[1-9][0-9]*))?$")
_SENTENCE_END = re.compile(r"[。！？]")
_CONFLICT_ID = re.compile(r"^c[1-9][0-9]*$")
QUOTE_MAX = 160
EDITORIAL_SOURCE = "ext-editorial"
READINGS = ("followed", "other")


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:12]


def statement_iri(subject: URIRef, predicate: URIRef, value) -> URIRef:
    """Readable where it can be: .../statement/measure/<id>/originatesIn/<zone id>."""
    path = str(subject)[len(BASE):]
    local = re.split(r"[#/]", str(predicate))[-1]
    if isinstance(value, URIRef):
        key = str(value).rstrip("/").rsplit("/", 1)[-1]
    else:
        key = f"{value.language or 'x'}-{_digest(value)}"
    return URIRef(f"{BASE}statement/{path}/{local}/{key}")


@dataclass
class _Statement:
    subject: URIRef
    predicate: URIRef
    value: object
    origin: str
    citations: list[URIRef] = field(default_factory=list)
    conflicts: set[str] = field(default_factory=set)


class StatementBuilder:
    """Adds statements, citations and conflicts to a graph whose entities are already built.

    `builder` is build._Builder: its ids, place resolution and origins are reused."""

    def __init__(self, builder):
        self.builder = builder
        self.graph: Graph = builder.graph
        self.statements: dict[tuple, _Statement] = {}
        self.citations: dict[tuple, tuple[URIRef, Row]] = {}
        self.conflicts: dict[str, Row] = {}
        self.reading_rows: dict[tuple[str, str], list[Row]] = {}
        self.columns = self._columns_by_kind()

    @staticmethod
    def _columns_by_kind() -> dict[str, dict[str, object]]:
        columns: dict[str, dict[str, object]] = {}
        for table in TABLES:
            kind = table.adds_to or table.kind
            merged = columns.setdefault(kind, {})
            for name, spec in table.columns.items():
                if spec is not None and name != table.id_column:
                    merged.setdefault(name, spec)
        for merged in columns.values():
            merged.update(VARIANT_COLUMNS)
        return columns

    # -- reading ------------------------------------------------------------------------------

    def run(self, graph_dir: Path) -> None:
        conflicts_file = graph_dir / "conflicts.csv"
        if conflicts_file.exists():
            for row in read_table(conflicts_file, CONFLICT_COLUMNS, set(CONFLICT_REQUIRED)):
                self._conflict_row(row)
        for path in sorted((graph_dir / "citations").glob("*.csv")):
            for row in read_table(path, CITATION_COLUMNS, set(CITATION_REQUIRED)):
                self._citation_row(row)
        self._editorial_names()
        self._emit_statements()
        self._emit_conflicts()

    def _subject(self, row: Row, column: str) -> tuple[str, str, URIRef]:
        kind, _, entity_id = row.get(column).partition("/")
        if kind not in self.columns or not entity_id:
            raise row.error(f"subject {row.get(column)!r} must be kind/id, kind one of "
                            f"{', '.join(sorted(self.columns))}", column)
        if entity_id not in self.builder.ids.get(kind, {}):
            raise row.error(f"unknown {kind} id {entity_id!r}", column)
        return kind, entity_id, iri(kind, entity_id)

    def _spec(self, row: Row, kind: str, column: str):
        name = row.get(column)
        spec = self.columns[kind].get(name)
        if spec is None:
            raise row.error(f"{name!r} is not a column of the {kind} tables; expected one of "
                            f"{', '.join(sorted(self.columns[kind]))}", column)
        return spec

    def _conflict_row(self, row: Row) -> None:
        conflict_id = row.get("id")
        if not _CONFLICT_ID.match(conflict_id):
            raise row.error(f"conflict id {conflict_id!r} must be c followed by a number (c1, c2 ...)", "id")
        if conflict_id in self.conflicts:
            raise row.error(f"duplicate conflict id {conflict_id!r}", "id")
        if row.get("kind") not in CONFLICT_KINDS:
            raise row.error(f"kind {row.get('kind')!r} is not one of {', '.join(CONFLICT_KINDS)}", "kind")
        kind, _, _ = self._subject(row, "subject")
        self._spec(row, kind, "property")
        self.conflicts[conflict_id] = row

    def _value(self, row: Row, spec) -> object:
        value = row.get("value")
        if isinstance(spec, Ref):
            return self.builder._ref(row, "value", spec.kind, value)
        if isinstance(spec, Text):
            return Literal(value, lang=spec.lang)
        if isinstance(spec, Sources):
            return self.builder._source(row, "value", value)
        if isinstance(spec, Typed):
            return Literal(value)
        return Literal(value)

    def _citation_row(self, row: Row) -> None:
        kind, _, subject = self._subject(row, "subject")
        spec = self._spec(row, kind, "property")
        value = self._value(row, spec)
        predicate = getattr(spec, "predicate", None)
        qualified = predicate in QUALIFIED_PREDICATES
        conflict, reading = row.get("conflict"), row.get("reading")
        if conflict:
            if conflict not in self.conflicts:
                raise row.error(f"unknown conflict {conflict!r}; conflicts are listed in graph/conflicts.csv",
                                "conflict")
            if reading not in READINGS:
                raise row.error(f"reading {reading!r} must be 'followed' or 'other'", "reading")
        elif reading:
            raise row.error("a reading needs a conflict id in the conflict column", "reading")
        elif not qualified:
            raise row.error(f"the {row.get('property')!r} column carries no statements; cite it only as the reading "
                            f"of a conflict", "property")
        place, first, last, quote = self._place(row)
        # the same place, lines and quote cited twice (from two files, say) is one citation
        key = (subject, predicate or row.get("property"), value, place, first, last, quote)
        node = URIRef(f"{BASE}citation/{str(subject)[len(BASE):]}/{_digest(*key)}")
        if key not in self.citations:
            self.citations[key] = (node, row)
            self._emit_citation(node, place, first, last, quote, row.get("note"))
            self.builder.origins[node] = self.builder._origin(row)
        self._link_citation(row, kind, subject, spec, predicate, value, qualified, conflict, reading, node)

    def inline_citation(self, row: Row, subject: URIRef) -> None:
        """A row that is itself a sourced fact (a figure, an event) cites its places: `source`,
        `lines` and `quote` hold one place each, or parallel `|`-separated lists (the same figure
        printed in the Preface and in Part 1)."""
        sources, lines, quotes = (row.get(c).split("|") for c in ("source", "lines", "quote"))
        if not len(sources) == len(lines) == len(quotes):
            raise row.error(f"source, lines and quote list {len(sources)}, {len(lines)} and {len(quotes)} places; "
                            f"give one line range and one quote for each place", "quote")
        for locator, span, text in zip(sources, lines, quotes):
            cells = dict(row.cells, source=locator.strip(), lines=span.strip(), quote=text.strip())
            one = Row(row.path, row.line, cells)
            place, first, last, quote = self._place(one)
            node = URIRef(f"{BASE}citation/{str(subject)[len(BASE):]}/{_digest(subject, place, first, last, quote)}")
            self._emit_citation(node, place, first, last, quote, "")
            self.graph.add((subject, PROV.wasDerivedFrom, node))
            self.graph.add((subject, FTZ.source, place))
            self.builder.origins[node] = self.builder._origin(row)

    def _place(self, row: Row) -> tuple[URIRef, int | None, int | None, str]:
        """The place a row cites, with its lines and quote, checked against the quoting rules."""
        locator = row.get("source")
        if "|" in locator:
            raise row.error("cite one place per row (the most specific one)", "source")
        place = self.builder._source(row, "source", locator)
        place_id = locator.partition("#")[0]
        external = self.builder.source_kinds[place_id] == "external"
        lines, quote = row.get("lines"), row.get("quote")
        first = last = None
        if external:
            if lines or quote:
                raise row.error("an external source is cited without lines or quote", "lines" if lines else "quote")
        else:
            match = _LINES.match(lines)
            if not match:
                raise row.error(f"lines {lines!r} must be N or N-M (the lines of the report the quote spans)", "lines")
            first, last = int(match["first"]), int(match["last"] or match["first"])
            if last < first:
                raise row.error(f"lines {lines!r} end before they start", "lines")
            if not quote:
                raise row.error("a place of the report is cited with a short verbatim quote", "quote")
            if len(quote) > QUOTE_MAX:
                raise row.error(f"quote is {len(quote)} characters; keep it under {QUOTE_MAX} (one sentence at most)",
                                "quote")
            if _SENTENCE_END.search(quote[:-1]):
                raise row.error("quote runs over more than one sentence", "quote")
            if "\n" in quote or "\r" in quote:
                raise row.error("quote has a line break; join the report's lines without them", "quote")
        return place, first, last, quote

    def _link_citation(self, row, kind, subject, spec, predicate, value, qualified, conflict, reading, node) -> None:
        if spec is VARIANT_COLUMNS.get(row.get("property")):
            # a misprint lives only in its citation: the hidden label is the report's form, kept for search
            self.graph.add((subject, predicate, value))
        if qualified:
            statement = self.statements.setdefault(
                (subject, predicate, value), _Statement(subject, predicate, value, self.builder._origin(row)))
            if node not in statement.citations:
                statement.citations.append(node)
            if conflict:
                statement.conflicts.add(conflict)
        if conflict:
            self.reading_rows.setdefault((conflict, reading), []).append(row)
            reading_node = URIRef(f"{BASE}conflict/{conflict}/{reading}")
            # what the place gives, for listing a conflict's readings (a statement's citations have its value)
            self.graph.add((node, FTZ.citedValue, value))
            self.graph.add((reading_node, FTZ.readingCitation, node))
            self.graph.add((reading_node, FTZ.readingValue, value))

    def _emit_citation(self, node: URIRef, place: URIRef, first, last, quote: str, note: str) -> None:
        graph = self.graph
        graph.add((node, RDF.type, FTZ.Citation))
        graph.add((node, FTZ.place, place))
        if first is not None:
            graph.add((node, FTZ.firstLine, Literal(first, datatype=XSD.integer)))
            graph.add((node, FTZ.lastLine, Literal(last, datatype=XSD.integer)))
        if quote:
            graph.add((node, FTZ.quote, Literal(quote, lang="zh")))
        if note:
            graph.add((node, SKOS.note, Literal(note, lang="en")))

    def _editorial_names(self) -> None:
        """English names (our translations) and the names of our own concept schemes cite the
        editorial source, so that every name has a statement; they are not the report's words."""
        if EDITORIAL_SOURCE not in self.builder.source_kinds:
            raise InputError(f"graph/sources.csv has no {EDITORIAL_SOURCE!r} row (names that are not the report's "
                             f"words cite it)", path=str(self.builder.graph_dir / "sources.csv"))
        # one citation for them all: it says only where they come from
        node = URIRef(f"{BASE}citation/{EDITORIAL_SOURCE}")
        self._emit_citation(node, iri("source", EDITORIAL_SOURCE), None, None, "", "")
        for kind, ids in self.builder.ids.items():
            for entity_id in ids:
                subject = iri(kind, entity_id)
                for predicate in (SKOS.prefLabel, SKOS.altLabel):
                    for label in self.graph.objects(subject, predicate):
                        if kind != "scheme" and getattr(label, "language", None) != "en":
                            continue
                        key = (subject, predicate, label)
                        if key not in self.statements:
                            self.statements[key] = _Statement(subject, predicate, label,
                                                              self.builder.origins.get(subject, ""), [node])

    # -- writing ------------------------------------------------------------------------------

    def _emit_statements(self) -> None:
        graph = self.graph
        for (subject, predicate, value), statement in self.statements.items():
            node = statement_iri(subject, predicate, value)
            asserted = (subject, predicate, value) in graph
            if not asserted and not statement.conflicts:
                raise InputError(f"{statement.origin}: cites {predicate.n3(graph.namespace_manager)} "
                                 f"{value.n3(graph.namespace_manager)} for {subject}, which the entity does not have; "
                                 f"add the value to the entity or name the conflict that explains this reading")
            graph.add((node, RDF.type, FTZ.Statement))
            graph.add((node, FTZ.statementSubject, subject))
            graph.add((node, FTZ.statementProperty, predicate))
            graph.add((node, FTZ.statementValue, value))
            graph.add((node, FTZ.rank, FTZ.NormalRank if asserted else FTZ.DeprecatedRank))
            for citation in statement.citations:
                graph.add((node, PROV.wasDerivedFrom, citation))
            for conflict in sorted(statement.conflicts):
                graph.add((node, FTZ.disputedIn, URIRef(f"{BASE}conflict/{conflict}")))
            self.builder.origins[node] = statement.origin

    def _emit_conflicts(self) -> None:
        graph = self.graph
        for conflict_id, row in self.conflicts.items():
            for reading in READINGS:
                if not self.reading_rows.get((conflict_id, reading)):
                    raise row.error(f"conflict {conflict_id} has no citation of reading {reading!r} in "
                                    f"graph/citations/*.csv", "id")
            node = URIRef(f"{BASE}conflict/{conflict_id}")
            kind, entity_id, subject = self._subject(row, "subject")
            spec = self._spec(row, kind, "property")
            number = conflict_id[1:]
            graph.add((node, RDF.type, FTZ.SourceConflict))
            graph.add((node, SKOS.prefLabel, Literal(f"来源冲突 C{number}", lang="zh")))
            graph.add((node, SKOS.prefLabel, Literal(f"Source conflict C{number}", lang="en")))
            graph.add((node, FTZ.conflictKind, CONFLICT_KINDS[row.get("kind")]))
            graph.add((node, FTZ.conflictAbout, subject))
            predicate = getattr(spec, "predicate", None)
            if predicate is not None:
                graph.add((node, FTZ.conflictProperty, predicate))
            graph.add((node, FTZ.explanation, Literal(row.get("explanation_zh"), lang="zh")))
            graph.add((node, FTZ.explanation, Literal(row.get("explanation_en"), lang="en")))
            for reading in READINGS:
                reading_node = URIRef(f"{node}/{reading}")
                graph.add((node, FTZ.hasReading, reading_node))
                graph.add((reading_node, RDF.type, FTZ.Reading))
                graph.add((reading_node, FTZ.followed, Literal(reading == "followed")))
            self.builder.origins[node] = self.builder._origin(row)


__all__ = ["StatementBuilder", "statement_iri", "QUOTE_MAX", "EDITORIAL_SOURCE"]
