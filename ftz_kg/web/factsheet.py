"""Entity pages as fact sheets (Wikidata and LodView as the models): a header card with the type,
both names, a summary, the key facts of the entity's kind, its IRI, its RDF formats and a citation;
then every statement grouped by theme under a human label in the page's language. A link that
points at the entity is shown from the entity's side, under the inverse relation's name (the
concepts whose broader concept this is are its narrower concepts), and is merged with the outgoing
link it mirrors, so a zone's measures appear once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from ftz_kg import RELEASE_DATE, __version__
from ftz_kg.vocab import BASE, ELI, FTZ, ORG, QB, SCHEMA
from ftz_kg.web.pages import (UI, _shell, events_of, figures_of, is_claim_node, label, money_chart,
                              part1_initiatives, printed, term, unit_symbol, where_stated)
from ftz_kg.web.rendering import render

# Prefixes of the vocabularies whose properties have labels in strings.yaml
# (factsheet_p_<prefix>_<name>, and factsheet_inv_<prefix>_<name> for the reverse direction).
PREFIXES = {str(FTZ): "ftz", str(SKOS): "skos", str(DCTERMS): "dcterms", str(PROV): "prov", str(ORG): "org",
            str(QB): "qb", str(ELI): "eli", str(RDF): "rdf", str(RDFS): "rdfs", str(OWL): "owl",
            str(SCHEMA): "schema"}

# Inverse pairs of the external vocabularies (the ontology's own come from owl:inverseOf).
# A symmetric property is its own inverse.
KNOWN_INVERSES = {SKOS.broader: SKOS.narrower, SKOS.hasTopConcept: SKOS.topConceptOf,
                  DCTERMS.hasPart: DCTERMS.isPartOf, DCTERMS.references: DCTERMS.isReferencedBy,
                  DCTERMS.hasVersion: DCTERMS.isVersionOf, ORG.hasSubOrganization: ORG.subOrganizationOf,
                  ORG.hasMember: ORG.memberOf, SKOS.closeMatch: SKOS.closeMatch, SKOS.exactMatch: SKOS.exactMatch,
                  SKOS.related: SKOS.related, OWL.sameAs: OWL.sameAs}

# Shown in the header or in sections of their own, not as statements.
TEXTS = (SKOS.definition, DCTERMS.description, FTZ.explanation)
NOT_STATEMENTS = {SKOS.hiddenLabel, *TEXTS}
# Links into the entity that have sections of their own: figures (refArea, refSubject) and
# events (their location, participants and products).
INCOMING_ELSEWHERE = {FTZ.refArea, FTZ.refSubject, RDF.type}
EVENT_LINKS = {PROV.atLocation, PROV.wasAssociatedWith, PROV.generated}

# Themes in page order; each property belongs to the first theme listing it, the rest to "relations".
THEMES = (
    ("names", (RDF.type, SKOS.prefLabel, SKOS.altLabel, SKOS.notation, ELI.title, ELI.id_local, DCTERMS.title,
               FTZ.documentNumber, FTZ.ordinal, FTZ.rowNumber)),
    ("place", (FTZ.inProvince, FTZ.partOfZone, FTZ.hasSubArea, FTZ.originatesIn, FTZ.originOf,
               FTZ.originatesInSubArea, DCTERMS.isPartOf, DCTERMS.hasPart, FTZ.groupMember, DCTERMS.spatial,
               PROV.atLocation)),
    ("time", (FTZ.establishedInBatch, FTZ.year, FTZ.expansionYear, DCTERMS.date, DCTERMS.issued, FTZ.datePairing,
              FTZ.refPeriod, FTZ.periodBasis)),
    ("classification", (FTZ.classifiedUnder, SKOS.broader, SKOS.narrower, FTZ.hasTheme, FTZ.servesStrategy,
                        FTZ.experienceDomain, SKOS.inScheme, SKOS.topConceptOf, SKOS.hasTopConcept,
                        SKOS.closeMatch, SKOS.exactMatch, SKOS.related, FTZ.indicator, FTZ.conflictKind)),
    ("responsibility", (FTZ.responsibleUnit, FTZ.responsibleFor, FTZ.rolloutScope, FTZ.promotedInBatch,
                        ELI.passed_by, PROV.wasAssociatedWith, PROV.generated)),
    ("values", (FTZ.obsValue, FTZ.unit, FTZ.valueQualifier, FTZ.valueInBaseUnit, FTZ.baseUnit,
                FTZ.conversionFactor, QB.dataSet)),
    ("sources", (FTZ.source, FTZ.withinSource, FTZ.firstLine, FTZ.lastLine, DCTERMS.source, DCTERMS.references,
                 DCTERMS.isReferencedBy, SKOS.note, PROV.wasDerivedFrom)),
)
THEME_OF = {}
for _theme, _properties in THEMES:
    for _p in _properties:
        THEME_OF.setdefault(_p, _theme)
THEME_ORDER = [t for t, _ in THEMES] + ["relations"]

# Longer lists show this many values and fold the rest (no JavaScript needed to unfold).
SHOWN = 10
FOLD_ABOVE = 12
KIND = re.compile(r"([a-z-]+)/")


def prop_key(predicate) -> str:
    """`skos_broader`, `ftz_originOf`: the catalogue key part naming a property."""
    text = str(predicate)
    for namespace, prefix in PREFIXES.items():
        if text.startswith(namespace):
            return f"{prefix}_{text[len(namespace):]}"
    return re.sub(r"[^A-Za-z0-9_]", "_", text.rsplit("#", 1)[-1].rsplit("/", 1)[-1])


def words(name: str) -> str:
    """A property's local name as words (`passed_by`, `inScheme` -> `passed by`, `in scheme`): the last
    resort for a property no catalogue names."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name.replace("_", " ")).lower()


def capitalised(text: str, lang: str) -> str:
    return text[:1].upper() + text[1:] if lang == "en" else text


def property_label(graph: Graph, predicate, lang: str) -> str:
    """A property's heading in the page language: the catalogue's, else the ontology's label, else
    its local name as words; never the bare local name of a SKOS or DCMI term."""
    ui = UI[lang]
    key = "factsheet_p_" + prop_key(predicate)
    if key in ui:
        return ui[key]
    names = {l.language: str(l) for p in (SKOS.prefLabel, RDFS.label) for l in graph.objects(predicate, p)
             if isinstance(l, Literal)}
    if names.get(lang):
        return capitalised(names[lang], lang)
    return capitalised(words(str(predicate).rsplit("#", 1)[-1].rsplit("/", 1)[-1]), lang)


def inverse_label(graph: Graph, predicate, lang: str) -> str:
    """The heading of the links `?s predicate <this>` seen from <this>, for a property without a
    declared inverse: the catalogue's reverse label, else "X of" / "以本页为“X”的实体"."""
    ui = UI[lang]
    key = "factsheet_inv_" + prop_key(predicate)
    if key in ui:
        return ui[key]
    return ui["factsheet_inverse_of"].format(label=property_label(graph, predicate, lang))


def inverses(graph: Graph) -> dict:
    """Every declared inverse pair, both ways: the ontology's owl:inverseOf and the known SKOS/DCMI pairs."""
    pairs = dict(KNOWN_INVERSES)
    for a, b in graph.subject_objects(OWL.inverseOf):
        pairs.setdefault(a, b)
        pairs.setdefault(b, a)
    for a, b in list(pairs.items()):
        pairs.setdefault(b, a)
    return pairs


def sort_key(graph: Graph, value, lang: str):
    if isinstance(value, URIRef):
        return (0, label(graph, value, lang).casefold(), str(value))
    if isinstance(value, Literal):
        return (1, 0 if value.language in (lang, None) else 1, str(value))
    return (2, str(value))


@dataclass
class Relation:
    """One row of a fact sheet: a property (or the reverse of one) and its values."""
    predicate: URIRef
    reverse: bool = False       # the values link to this entity with `predicate`
    values: dict = field(default_factory=dict)     # value -> shown term (with its citation marker)

    @property
    def anchor(self) -> str:
        return ("in-" if self.reverse else "p-") + prop_key(self.predicate).replace("_", "-")


class FactSheet:
    """What an entity's page shows, computed once from the graph."""

    def __init__(self, graph: Graph, node: URIRef, lang: str):
        self.graph, self.node, self.lang = graph, node, lang
        self.ui = UI[lang]
        self.other_lang = "en" if lang == "zh" else "zh"
        self.kind = (KIND.match(str(node)[len(BASE):]) or [None, ""])[1] if str(node).startswith(BASE) else ""
        self.types = set(graph.objects(node, RDF.type))
        self.relations = self._relations()

    # -- statements ---------------------------------------------------------------------------------
    def cited(self, subject, predicate, value, inverse=None, shown_node=None) -> dict:
        """`shown_node` (default: the value) as shown, with the marker of the places stating
        `subject predicate value`; a value reached through an inverse link carries the citation of
        the link as stated (measure originatesIn zone)."""
        shown = term(self.graph, value if shown_node is None else shown_node, self.lang)
        cite = where_stated(self.graph, subject, predicate, value, self.lang)
        if cite is None and inverse is not None and isinstance(value, URIRef):
            cite = where_stated(self.graph, value, inverse, subject, self.lang)
        shown["cite"] = cite
        if isinstance(value, Literal) and value.datatype == XSD.boolean:
            shown["text"] = self.ui["factsheet_yes" if value.toPython() is True else "factsheet_no"]
        return shown

    def _relations(self) -> dict:
        graph, node = self.graph, self.node
        pairs = inverses(graph)
        relations: dict[tuple, Relation] = {}
        for predicate, value in graph.predicate_objects(node):
            if predicate in NOT_STATEMENTS:
                continue
            relation = relations.setdefault((predicate, False), Relation(predicate))
            relation.values[value] = None
        events = {e for p in EVENT_LINKS for e in graph.subjects(p, node) if (e, RDF.type, FTZ.DatedEvent) in graph}
        for subject, predicate in graph.subject_predicates(node):
            if (not isinstance(subject, URIRef) or is_claim_node(subject) or predicate in INCOMING_ELSEWHERE
                    or (predicate in EVENT_LINKS and subject in events)):
                continue
            inverse = pairs.get(predicate)
            if inverse is not None:
                # shown from this side under the inverse's name, merged with the outgoing links
                relation = relations.setdefault((inverse, False), Relation(inverse))
            else:
                relation = relations.setdefault((predicate, True), Relation(predicate, reverse=True))
            relation.values.setdefault(subject, None)
        for relation in relations.values():
            inverse = pairs.get(relation.predicate)
            values = self._shown_literals(relation.predicate, list(relation.values))
            values.sort(key=lambda v: sort_key(graph, v, self.lang))
            if relation.reverse:
                relation.values = {v: self.cited(v, relation.predicate, node, shown_node=v) for v in values}
            else:
                relation.values = {v: self.cited(node, relation.predicate, v, inverse) for v in values}
        return relations

    def _shown_literals(self, predicate, values: list) -> list:
        """Texts in the page language when the value is given in it (a title in zh and en shows one);
        names show every language."""
        if predicate in (SKOS.prefLabel, SKOS.altLabel):
            return values
        tagged = [v for v in values if isinstance(v, Literal) and v.language]
        if any(v.language == self.lang for v in tagged):
            return [v for v in values if not (isinstance(v, Literal) and v.language and v.language != self.lang)]
        return values

    def relation(self, predicate, reverse=False) -> Relation | None:
        return self.relations.get((predicate, reverse))

    def values(self, predicate, reverse=False) -> list:
        relation = self.relation(predicate, reverse)
        return list(relation.values) if relation else []

    def shown(self, predicate, reverse=False) -> list[dict]:
        relation = self.relation(predicate, reverse)
        return list(relation.values.values()) if relation else []

    def themes(self) -> list[dict]:
        rows: dict[str, list] = {t: [] for t in THEME_ORDER}
        for relation in self.relations.values():
            if relation.predicate == RDF.type and not relation.reverse:
                values = [self.type_term(t) for t in relation.values]     # linked to their browse page
            else:
                values = list(relation.values.values())
            if not values:
                continue
            heading = (inverse_label(self.graph, relation.predicate, self.lang) if relation.reverse
                       else property_label(self.graph, relation.predicate, self.lang))
            shown, more = (values[:SHOWN], values[SHOWN:]) if len(values) > FOLD_ABOVE else (values, [])
            rows[THEME_OF.get(relation.predicate, "relations")].append({
                "anchor": relation.anchor, "label": heading, "values": shown, "more": more, "count": len(values),
                "order": self._order(relation)})
        out = []
        for theme in THEME_ORDER:
            if rows[theme]:
                rows[theme].sort(key=lambda r: r["order"])
                out.append({"key": theme, "label": self.ui["factsheet_theme_" + theme], "rows": rows[theme]})
        return out

    def _order(self, relation: Relation):
        theme = THEME_OF.get(relation.predicate, "relations")
        listed = dict(THEMES).get(theme, ())
        position = listed.index(relation.predicate) if relation.predicate in listed else len(listed)
        return (position, relation.reverse, property_label(self.graph, relation.predicate, self.lang))

    # -- header card --------------------------------------------------------------------------------
    def type_list(self) -> list[URIRef]:
        """The entity's most specific types (an experience, not also a measure)."""
        graph = self.graph
        broader = {s for t in self.types for s in graph.transitive_objects(t, RDFS.subClassOf) if s != t}
        specific = [t for t in self.types if t not in broader] or list(self.types)
        return sorted(specific, key=str)

    def type_term(self, cls) -> dict:
        shown = term(self.graph, cls, self.lang)
        shown["text"] = capitalised(shown["text"], self.lang)
        if str(cls).startswith(str(FTZ)):
            shown["href"] = f"/browse/{str(cls)[len(str(FTZ)):]}?lang={self.lang}"
        return shown

    def count(self, predicate, reverse=False, of_type=None) -> dict | None:
        """A number of linked entities, linking to their row."""
        relation = self.relation(predicate, reverse)
        if relation is None:
            return None
        values = [v for v in relation.values if of_type is None or (v, RDF.type, of_type) in self.graph]
        return {"number": len(values), "href": "#" + relation.anchor} if values else None

    def fact(self, label_key: str, values=None, number=None, text=None) -> dict | None:
        if not values and number is None and not text:
            return None
        return {"label": self.ui[label_key], "values": values or [], "number": number, "text": text,
                "wide": any(v.get("path") for v in values or ())}

    def key_facts(self) -> list[dict]:
        graph, kind = self.graph, self.kind
        facts = []
        add = facts.append
        if kind == "zone":
            add(self.fact("factsheet_fact_province", self.shown(FTZ.inProvince)))
            add(self.fact("factsheet_fact_batch", self.shown(FTZ.establishedInBatch), text=self.batch_year()))
            add(self.fact("factsheet_fact_expansion", text=self.joined(FTZ.expansionYear)))
            add(self.fact("factsheet_fact_subareas", number=self.count(FTZ.hasSubArea, of_type=FTZ.SubArea)))
            add(self.fact("factsheet_fact_measures", number=self.count(FTZ.originOf)))
            add(self.fact("factsheet_fact_experiences",
                          number=self.count(FTZ.originOf, of_type=FTZ.ReplicableExperience)))
            add(self.fact("factsheet_fact_strategies", self.shown(FTZ.servesStrategy)))
        elif kind == "subarea":
            add(self.fact("factsheet_fact_zone", self.shown(FTZ.partOfZone)))
            zones = self.values(FTZ.partOfZone)
            provinces = [term(graph, p, self.lang) for z in zones for p in graph.objects(z, FTZ.inProvince)]
            add(self.fact("factsheet_fact_province", provinces))
            add(self.fact("factsheet_fact_part_of", self.shown(DCTERMS.isPartOf)))
            add(self.fact("factsheet_fact_parts", self.shown(DCTERMS.hasPart)))
            add(self.fact("factsheet_fact_measures", number=self.count(FTZ.originatesInSubArea, reverse=True)))
            add(self.fact("factsheet_fact_strategies", self.shown(FTZ.servesStrategy)))
        elif kind == "measure":
            add(self.fact("factsheet_fact_zone", self.shown(FTZ.originatesIn)))
            add(self.fact("factsheet_fact_subarea", self.shown(FTZ.originatesInSubArea)))
            add(self.fact("factsheet_fact_classification", self.with_paths(FTZ.classifiedUnder)))
            add(self.fact("factsheet_fact_units", self.shown(FTZ.responsibleUnit)))
            add(self.fact("factsheet_fact_scope", self.shown(FTZ.rolloutScope)))
            add(self.fact("factsheet_fact_domain", self.shown(FTZ.experienceDomain)))
            add(self.fact("factsheet_fact_promoted", self.shown(FTZ.promotedInBatch)))
            add(self.fact("factsheet_fact_themes", self.shown(FTZ.hasTheme)))
            add(self.fact("factsheet_fact_strategies", self.shown(FTZ.servesStrategy)))
            add(self.fact("factsheet_fact_places", number=self.count(FTZ.source)))
        elif kind == "agency":
            add(self.fact("factsheet_fact_responsible_for", number=self.count(FTZ.responsibleFor)))
            add(self.fact("factsheet_fact_documents", number=self.count(ELI.passed_by, reverse=True)))
            add(self.fact("factsheet_fact_events", number=self.events_count()))
        elif kind == "province":
            add(self.fact("factsheet_fact_zones", self.shown(FTZ.inProvince, reverse=True)))
            zones = self.values(FTZ.inProvince, reverse=True)
            batches = [b for z in zones for b in graph.objects(z, FTZ.establishedInBatch)]
            add(self.fact("factsheet_fact_batch", [term(graph, b, self.lang) for b in batches],
                          text=self.batch_year(batches)))
        elif kind == "batch":
            add(self.fact("factsheet_fact_year", text=self.joined(FTZ.year)))
            add(self.fact("factsheet_fact_ordinal", text=self.joined(FTZ.ordinal)))
            add(self.fact("factsheet_fact_document_number", text=self.joined(FTZ.documentNumber)))
            add(self.fact("factsheet_fact_zones", number=self.count(FTZ.establishedInBatch, reverse=True)))
            add(self.fact("factsheet_fact_experiences", number=self.count(FTZ.promotedInBatch, reverse=True)))
        elif kind == "innovation":
            add(self.fact("factsheet_fact_level", [self.type_term(t) for t in self.type_list()]))
            add(self.fact("factsheet_fact_broader", self.with_paths(SKOS.broader)))
            add(self.fact("factsheet_fact_narrower", number=self.count(SKOS.narrower)))
            add(self.fact("factsheet_fact_measures_classified", number=self.measures_under()))
        elif kind in ("scope", "strategy", "theme", "experience-domain", "indicator", "unit", "period-basis",
                      "value-qualifier"):
            add(self.fact("factsheet_fact_broader", self.shown(SKOS.broader)))
            add(self.fact("factsheet_fact_narrower", number=self.count(SKOS.narrower)))
            add(self.fact("factsheet_fact_scheme", self.shown(SKOS.inScheme)))
            for predicate, key in ((FTZ.rolloutScope, "factsheet_fact_experiences"),
                                   (FTZ.experienceDomain, "factsheet_fact_experiences"),
                                   (FTZ.hasTheme, "factsheet_fact_measures"),
                                   (FTZ.indicator, "factsheet_fact_figures"), (FTZ.unit, "factsheet_fact_figures")):
                add(self.fact(key, number=self.count(predicate, reverse=True)))
            if kind == "strategy":
                add(self.fact("factsheet_fact_zones", number=self.count(FTZ.servesStrategy, reverse=True,
                                                                        of_type=FTZ.PilotFreeTradeZone)))
                add(self.fact("factsheet_fact_measures", number=self.count(FTZ.servesStrategy, reverse=True,
                                                                           of_type=FTZ.InnovationMeasure)))
            if kind == "unit":
                add(self.fact("factsheet_fact_base_unit", self.shown(FTZ.baseUnit)))
        elif kind == "document":
            add(self.fact("factsheet_fact_passed_by", self.shown(ELI.passed_by)))
            add(self.fact("factsheet_fact_issued", text=self.joined(DCTERMS.issued)))
            add(self.fact("factsheet_fact_spatial", self.shown(DCTERMS.spatial)))
            add(self.fact("factsheet_fact_referenced_by", number=self.count(DCTERMS.isReferencedBy)))
        elif kind == "event":
            add(self.fact("factsheet_fact_date", text=self.joined(DCTERMS.date)))
            add(self.fact("factsheet_fact_location", self.shown(PROV.atLocation)))
            add(self.fact("factsheet_fact_associated", self.shown(PROV.wasAssociatedWith)))
            add(self.fact("factsheet_fact_generated", self.shown(PROV.generated)))
        elif kind == "source":
            add(self.fact("factsheet_fact_within", self.shown(FTZ.withinSource)))
            add(self.fact("factsheet_fact_lines", text=self.lines()))
            add(self.fact("factsheet_fact_described", number=self.count(FTZ.source, reverse=True)))
            add(self.fact("factsheet_fact_contains", number=self.count(FTZ.withinSource, reverse=True)))
        elif kind == "observation":
            add(self.fact("factsheet_fact_indicator", self.shown(FTZ.indicator)))
            add(self.fact("factsheet_fact_value", text=self.observation_value()))
            add(self.fact("factsheet_fact_period", text=self.joined(FTZ.refPeriod)))
            add(self.fact("factsheet_fact_area", self.shown(FTZ.refArea)))
        elif kind == "group":
            add(self.fact("factsheet_fact_members", number=self.count(FTZ.groupMember)))
        elif kind == "conflict":
            add(self.fact("factsheet_fact_conflict_kind", self.shown(FTZ.conflictKind)))
            add(self.fact("factsheet_fact_conflict_about", self.shown(FTZ.conflictAbout)))
            add(self.fact("factsheet_fact_conflict_property", [
                {"text": property_label(self.graph, p, self.lang), "href": None, "lang": None}
                for p in self.values(FTZ.conflictProperty)]))
        return [f for f in facts if f is not None]

    def joined(self, predicate) -> str:
        """Literal values (years, numbers, dates) as one text."""
        return ", ".join(str(v) for v in self.values(predicate))

    def batch_year(self, batches=None) -> str:
        batches = self.values(FTZ.establishedInBatch) if batches is None else batches
        return ", ".join(sorted({str(y) for b in batches for y in self.graph.objects(b, FTZ.year)}))

    def with_paths(self, predicate) -> list[dict]:
        """The concepts a relation links to, each with the taxonomy path above it
        (投资领域 › 推动并联化 › the concept, which is the link)."""
        out = []
        relation = self.relation(predicate)
        for concept, shown in (relation.values.items() if relation else ()):
            chain, seen, current = [], {concept}, concept
            while True:
                parent = self.graph.value(current, SKOS.broader)
                if parent is None or parent in seen:
                    break
                chain.append(term(self.graph, parent, self.lang))
                seen.add(parent)
                current = parent
            out.append({**shown, "path": list(reversed(chain))})
        return out

    def measures_under(self) -> dict | None:
        """The measures classified under the concept or any concept below it."""
        below = set(self.graph.transitive_subjects(SKOS.broader, self.node))
        measures = {m for c in below for m in self.graph.subjects(FTZ.classifiedUnder, c)}
        if not measures:
            return None
        direct = self.relation(FTZ.classifiedUnder, reverse=True)
        return {"number": len(measures), "href": "#" + direct.anchor if direct else "#theme-classification"}

    def events_count(self) -> dict | None:
        count = len(events_of(self.graph, self.node, self.lang))
        return {"number": count, "href": "#events"} if count else None

    def lines(self) -> str:
        first, last = self.graph.value(self.node, FTZ.firstLine), self.graph.value(self.node, FTZ.lastLine)
        if first is None:
            return ""
        return f"{self.ui['line']} {first}" if first == last else f"{self.ui['lines']} {first}–{last}"

    def observation_value(self) -> str:
        value, unit = self.graph.value(self.node, FTZ.obsValue), self.graph.value(self.node, FTZ.unit)
        if value is None:
            return ""
        return f"{printed(value)} {unit_symbol(self.graph, unit, self.lang) if unit is not None else ''}".strip()

    def summary(self) -> str:
        """One or two sentences saying what the entity is, from its key facts (the fact sheet's lead)."""
        graph, ui, kind, lang = self.graph, self.ui, self.kind, self.lang
        name = label(graph, self.node, lang)

        def names(nodes, lower=False) -> str:
            texts = [label(graph, n, lang) for n in nodes]
            if lower and lang == "en":
                texts = [t[:1].lower() + t[1:] for t in texts]
            return ("、" if lang == "zh" else ", ").join(texts)
        if kind == "zone":
            batches = self.values(FTZ.establishedInBatch)
            parts = [ui["factsheet_summary_zone"].format(name=name, province=names(self.values(FTZ.inProvince)),
                                                        year=self.batch_year(), batch=names(batches, lower=True))]
            subareas = [s for s in self.values(FTZ.hasSubArea) if (s, RDF.type, FTZ.SubArea) in graph]
            if subareas:
                parts.append(ui["factsheet_summary_zone_subareas"].format(count=len(subareas)))
            measures = self.values(FTZ.originOf)
            experiences = [m for m in measures if (m, RDF.type, FTZ.ReplicableExperience) in graph]
            parts.append(ui["factsheet_summary_zone_measures"].format(count=len(measures),
                                                                      experiences=len(experiences)))
            return " ".join(parts) if lang == "en" else "".join(parts)
        if kind == "subarea" and self.values(FTZ.partOfZone):
            count = len(self.values(FTZ.originatesInSubArea, reverse=True))
            return ui["factsheet_summary_subarea" if count else "factsheet_summary_subarea_plain"].format(
                name=name, zone=names(self.values(FTZ.partOfZone)), count=count)
        if kind == "province" and self.values(FTZ.inProvince, reverse=True):
            zones = self.values(FTZ.inProvince, reverse=True)
            return ui["factsheet_summary_province"].format(name=name, zones=names(zones))
        if kind == "batch":
            zones = self.values(FTZ.establishedInBatch, reverse=True)
            experiences = self.values(FTZ.promotedInBatch, reverse=True)
            year = self.joined(FTZ.year)
            if zones:
                return ui["factsheet_summary_batch_zones"].format(name=name, year=year, count=len(zones))
            if experiences:
                return ui["factsheet_summary_batch_experiences"].format(name=name, year=year, count=len(experiences))
        if kind == "agency" and self.values(FTZ.responsibleFor):
            return ui["factsheet_summary_agency"].format(name=name, count=len(self.values(FTZ.responsibleFor)))
        if kind == "innovation":
            measures = self.measures_under()
            return ui["factsheet_summary_concept"].format(count=measures["number"] if measures else 0)
        return ""

    def texts(self) -> list[tuple[str, str]]:
        """Definition, description, explanation in the page language (else the other one)."""
        out = []
        for predicate, key in ((SKOS.definition, "definition"), (DCTERMS.description, "description"),
                               (FTZ.explanation, "factsheet_explanation")):
            by_lang = {l.language: str(l) for l in self.graph.objects(self.node, predicate) if isinstance(l, Literal)}
            if by_lang:
                out.append((self.ui[key], by_lang.get(self.lang) or by_lang.get(self.other_lang)
                            or next(iter(by_lang.values()))))
        return out

    def citation(self) -> str:
        """"Cite this": the entity, its IRI, the release and its date, in the page language."""
        return self.ui["factsheet_citation"].format(
            name=label(self.graph, self.node, self.lang), iri=str(self.node), version=__version__,
            date=RELEASE_DATE)

    def formats(self, alternates) -> list[dict]:
        names = {"text/turtle": "Turtle", "application/ld+json": "JSON-LD", "application/n-triples": "N-Triples",
                 "application/rdf+xml": "RDF/XML"}
        return [{"name": names.get(media, media), "href": href, "type": media} for media, href in alternates
                if media in names]


def mini_map(graph: Graph, node: URIRef, lang: str, kind: str) -> dict | None:
    """The mini-map of a zone, sub-area or province page (drawn by map.html's `china_map`)."""
    if kind not in ("zone", "subarea", "province"):
        return None
    try:
        from ftz_kg.web import chinamap
    except ImportError:     # the map module is optional: the page simply has no map
        return None
    return chinamap.mini_map(graph, node, lang)


def entity_page(graph: Graph, node: URIRef, lang: str, path: str, alternates) -> str:
    """The HTML fact sheet of an entity; `alternates` are its RDF views as (media type, local path)."""
    sheet = FactSheet(graph, node, lang)
    title = label(graph, node, lang)
    page_name = [sheet.cited(node, SKOS.prefLabel, l) for l in graph.objects(node, SKOS.prefLabel)
                 if isinstance(l, Literal) and l.language == lang]
    not_followed = []
    for statement in sorted(graph.subjects(FTZ.statementSubject, node), key=str):
        if graph.value(statement, FTZ.rank) == FTZ.DeprecatedRank:
            predicate, value = graph.value(statement, FTZ.statementProperty), graph.value(statement, FTZ.statementValue)
            not_followed.append(({"text": property_label(graph, predicate, lang), "href": None, "lang": None},
                                 sheet.cited(node, predicate, value)))
    conflicts = [term(graph, c, lang) for c in sorted(graph.subjects(FTZ.conflictAbout, node), key=str)]
    figures = figures_of(graph, node, lang)
    alternates = list(alternates)
    summary, texts = sheet.summary(), sheet.texts()
    description = summary or (texts[0][1] if texts else "")
    if len(description) > 160:
        description = description[:157] + "…"
    return render(
        "entity.html", **_shell(lang, path, title, alternates, description=description or None),
        other_title=label(graph, node, sheet.other_lang),
        iri=str(node), kind=sheet.kind, badges=[sheet.type_term(t) for t in sheet.type_list()],
        name_cite=page_name[0]["cite"] if page_name else None, summary=summary, texts=texts,
        facts=sheet.key_facts(), formats=sheet.formats(alternates), citation=sheet.citation(),
        themes=sheet.themes(), not_followed=not_followed, conflicts=conflicts, figures=figures,
        chart=money_chart(figures, lang), events=events_of(graph, node, lang),
        initiatives=part1_initiatives(graph, node, lang), mini_map=mini_map(graph, node, lang, sheet.kind),
        explore_links=zone_links(graph, node, lang) if sheet.kind == "zone" else None)


def zone_links(graph: Graph, zone, lang: str) -> dict:
    """Where a zone page leads on: its measures in the explorer, and the zone beside the others of its batch."""
    from ftz_kg.web.compare import compare_href
    return {"explore": f"/explore?zone={str(zone).rsplit('/', 1)[-1]}&lang={lang}",
            "compare": compare_href(graph, zone)}
