"""The declarative mapping from curated CSV tables to RDF.

Each Table says which files it reads, the kind of entity a row is (which fixes the IRI
path), its classes, and what each column becomes. build.py applies these specs; adding a
column to the data means adding one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS, XSD

from ftz_kg.vocab import ELI, FTZ, ORG, QB, iri


@dataclass(frozen=True)
class Text:
    """A language-tagged literal; `multi` cells hold several `|`-separated values."""

    predicate: URIRef
    lang: str
    multi: bool = False
    also: tuple[URIRef, ...] = ()   # further predicates that take the same value (eli:title beside the label)


@dataclass(frozen=True)
class Typed:
    """A typed literal, checked against its datatype's lexical form."""

    predicate: URIRef
    datatype: URIRef


@dataclass(frozen=True)
class Ref:
    """A link to another curated entity of `kind`, by its id; `inverse` is materialised too."""

    predicate: URIRef
    kind: str
    multi: bool = False
    inverse: URIRef | None = None


@dataclass(frozen=True)
class DateValue:
    """A date as precise as the report gives it: YYYY (xsd:gYear), YYYY-MM (xsd:gYearMonth) or
    YYYY-MM-DD (xsd:date)."""

    predicate: URIRef


@dataclass(frozen=True)
class AreaRef:
    """A link to an area of one of several kinds, written `kind/id` (zone/sichuan, group/nation)."""

    predicate: URIRef
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ExternalIri:
    """A link to an IRI outside the graph (a QUDT unit ...), written out in full."""

    predicate: URIRef


@dataclass(frozen=True)
class Sources:
    """Locators into the report (`id` or `id#row`), linked with ftz:source."""


@dataclass(frozen=True)
class ClassByValue:
    """The row's class chosen by a controlled value of this column."""

    classes: dict[str, URIRef | None]
    # instead of a class, the controlled value itself as a string literal of this predicate
    predicate: URIRef | None = None


@dataclass(frozen=True)
class Table:
    kind: str                      # IRI path segment and the namespace of ids
    pattern: str                   # file or glob under graph/
    columns: dict[str, object]     # column name -> Text | Typed | Ref | Sources | ClassByValue | None
    required: frozenset[str]
    types: tuple[URIRef, ...] = ()
    scheme: str | None = None      # SKOS concept scheme id, for concept tables
    top_when_no: str | None = None  # column whose emptiness makes the concept a top concept
    adds_to: str | None = None     # rows annotate existing entities of this kind (no new ids)
    id_column: str = "id"
    # the row is itself a sourced fact (a figure, an event): its `source`, `lines` and `quote`
    # columns make one citation that the entity is derived from
    cited_inline: bool = False

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)


LABELS = {
    "label_zh": Text(SKOS.prefLabel, "zh"),
    "label_en": Text(SKOS.prefLabel, "en"),
}
NAMES = {
    "name_zh": Text(SKOS.prefLabel, "zh"),
    "name_en": Text(SKOS.prefLabel, "en"),
}
DEFINITIONS = {
    "definition_zh": Text(SKOS.definition, "zh"),
    "definition_en": Text(SKOS.definition, "en"),
}
ALT_NAMES = {
    "alt_zh": Text(SKOS.altLabel, "zh", multi=True),
    "alt_en": Text(SKOS.altLabel, "en", multi=True),
}

SCHEMES = Table(
    kind="scheme", pattern="schemes.csv", types=(SKOS.ConceptScheme,),
    columns={"id": None, **LABELS, **DEFINITIONS},
    required=frozenset({"id", "label_zh", "label_en"}),
)

# Order matters only for readability of errors; references are resolved after all reads.
TABLES: tuple[Table, ...] = (
    SCHEMES,
    Table(
        kind="batch", pattern="batches.csv",
        columns={
            "id": None,
            "kind": ClassByValue({"establishment": FTZ.EstablishmentBatch, "promotion": FTZ.PromotionBatch}),
            "ordinal": Typed(FTZ.ordinal, XSD.integer),
            "year": Typed(FTZ.year, XSD.gYear),
            **LABELS,
            "document": Typed(FTZ.documentNumber, XSD.string),
            "documents": Ref(DCTERMS.references, "document", multi=True),
            "source": Sources(),
            "note": Text(SKOS.note, "en"),
        },
        required=frozenset({"id", "kind", "ordinal", "year", "label_zh", "label_en", "source"}),
    ),
    Table(
        kind="province", pattern="provinces.csv", types=(FTZ.ProvinceLevelDivision,),
        columns={"id": None, **NAMES, "source": Sources()},
        required=frozenset({"id", "name_zh", "name_en", "source"}),
    ),
    Table(
        kind="zone", pattern="zones.csv", types=(FTZ.PilotFreeTradeZone,),
        columns={
            "id": None, **NAMES,
            "short_zh": Text(SKOS.altLabel, "zh", multi=True),
            "short_en": Text(SKOS.altLabel, "en", multi=True),
            "province": Ref(FTZ.inProvince, "province"),
            "establishment_batch": Ref(FTZ.establishedInBatch, "batch"),
            "expansion_year": Typed(FTZ.expansionYear, XSD.gYear),
            "strategies": Ref(FTZ.servesStrategy, "strategy", multi=True),
            "source": Sources(),
            "note": Text(SKOS.note, "en"),
        },
        required=frozenset({"id", "name_zh", "name_en", "province", "establishment_batch", "source"}),
    ),
    Table(
        kind="subarea", pattern="subareas.csv", types=(FTZ.SubArea,),
        columns={
            "id": None,
            "zone": Ref(FTZ.partOfZone, "zone", inverse=FTZ.hasSubArea),
            **NAMES, **ALT_NAMES,
            "strategies": Ref(FTZ.servesStrategy, "strategy", multi=True),
            # a sub-area as the report names it that stands for several sub-areas of the zone's plans
            "comprises": Ref(DCTERMS.hasPart, "subarea", multi=True, inverse=DCTERMS.isPartOf),
            "source": Sources(),
            "note": Text(SKOS.note, "en"),
        },
        required=frozenset({"id", "zone", "name_zh", "name_en", "source"}),
    ),
    Table(
        kind="agency", pattern="agencies*.csv",
        columns={
            "id": None,
            "type": ClassByValue({
                "government-agency": FTZ.GovernmentAgency,
                "party-organ": FTZ.PartyOrgan,
                "judicial-organ": FTZ.JudicialOrgan,
                "state-owned-enterprise": FTZ.StateOwnedEnterprise,
                "legislature": FTZ.Legislature,
                "local-government": FTZ.LocalGovernment,
                "association": ORG.Organization,
                "public-body": FTZ.PublicBody,
            }),
            **NAMES, **ALT_NAMES,
            "source": Sources(),
        },
        required=frozenset({"id", "type", "name_zh", "name_en", "source"}),
    ),
    Table(
        kind="scope", pattern="scopes.csv", types=(FTZ.RolloutScope,), scheme="rollout-scope",
        top_when_no="broader",
        columns={"id": None, "broader": Ref(SKOS.broader, "scope", inverse=SKOS.narrower),
                 **LABELS, **ALT_NAMES, **DEFINITIONS, "source": Sources()},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en", "source"}),
    ),
    Table(
        kind="experience-domain", pattern="experience_domains.csv", types=(FTZ.ExperienceDomain,),
        scheme="experience-domain", top_when_no="id",
        columns={"id": None, **LABELS, **ALT_NAMES, "close_match": Ref(SKOS.closeMatch, "innovation"),
                 **DEFINITIONS, "source": Sources()},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en", "source"}),
    ),
    Table(
        kind="strategy", pattern="strategies.csv", types=(FTZ.NationalStrategy,), scheme="national-strategy",
        top_when_no="id",
        columns={"id": None, **LABELS, **ALT_NAMES, **DEFINITIONS, "source": Sources()},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en", "source"}),
    ),
    Table(
        kind="theme", pattern="themes.csv", types=(FTZ.Theme,), scheme="part3-theme", top_when_no="broader",
        columns={"id": None, "broader": Ref(SKOS.broader, "theme", inverse=SKOS.narrower),
                 **LABELS, **ALT_NAMES, **DEFINITIONS, "source": Sources()},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en", "source"}),
    ),
    Table(
        kind="group", pattern="groups.csv",
        columns={
            "id": None,
            "kind": ClassByValue({"nation": FTZ.Nation, "programme": FTZ.ZoneGroup, "zone-group": FTZ.ZoneGroup}),
            "members": Ref(FTZ.groupMember, "zone", multi=True),
            **LABELS, **ALT_NAMES, **DEFINITIONS, "source": Sources(),
        },
        required=frozenset({"id", "kind", "label_zh", "label_en", "definition_zh", "definition_en", "source"}),
    ),
    Table(
        kind="unit", pattern="units.csv", types=(FTZ.Unit,), scheme="unit", top_when_no="id",
        columns={
            "id": None, **LABELS,
            "symbol": Typed(SKOS.notation, XSD.string),      # the unit as the report prints it beside a number
            "base": Ref(FTZ.baseUnit, "unit"),
            "factor": Typed(FTZ.conversionFactor, XSD.decimal),
            "exact_match": ExternalIri(SKOS.exactMatch),
        },
        required=frozenset({"id", "label_zh", "label_en", "symbol", "base", "factor"}),
    ),
    Table(
        kind="period-basis", pattern="period_bases.csv", types=(FTZ.PeriodBasis,), scheme="period-basis",
        top_when_no="id",
        columns={"id": None, **LABELS, **DEFINITIONS},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en"}),
    ),
    Table(
        kind="value-qualifier", pattern="value_qualifiers.csv", types=(FTZ.ValueQualifier,), scheme="value-qualifier",
        top_when_no="id",
        columns={"id": None, **LABELS, **DEFINITIONS},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en"}),
    ),
    Table(
        kind="indicator", pattern="indicators/*.csv", types=(FTZ.Indicator,), scheme="indicator",
        top_when_no="broader",
        columns={"id": None, "broader": Ref(SKOS.broader, "indicator", inverse=SKOS.narrower),
                 **LABELS, **DEFINITIONS},
        required=frozenset({"id", "label_zh", "label_en", "definition_zh", "definition_en"}),
    ),
    Table(
        kind="innovation", pattern="taxonomy/*.csv", scheme="innovation-taxonomy", top_when_no="broader",
        columns={
            "id": None,
            "level": ClassByValue({"domain": FTZ.InnovationDomain, "approach": FTZ.InnovationApproach,
                                   "point": FTZ.InnovationPoint}),
            "broader": Ref(SKOS.broader, "innovation", inverse=SKOS.narrower),
            **LABELS, **ALT_NAMES, **DEFINITIONS, "source": Sources(),
        },
        required=frozenset({"id", "level", "label_zh", "label_en", "definition_zh", "definition_en", "source"}),
    ),
    Table(
        kind="measure", pattern="measures/*.csv", types=(FTZ.InnovationMeasure,),
        columns={
            "id": None, **NAMES, **ALT_NAMES,
            "zone": Ref(FTZ.originatesIn, "zone", multi=True, inverse=FTZ.originOf),
            "subarea": Ref(FTZ.originatesInSubArea, "subarea", multi=True),
            "innovation": Ref(FTZ.classifiedUnder, "innovation", multi=True),
            "theme": Ref(FTZ.hasTheme, "theme", multi=True),
            "strategies": Ref(FTZ.servesStrategy, "strategy", multi=True),
            "description_zh": Text(DCTERMS.description, "zh"),
            "description_en": Text(DCTERMS.description, "en"),
            "source": Sources(),
        },
        required=frozenset({"id", "name_zh", "name_en", "source"}),
    ),
    Table(
        kind="measure", pattern="experiences.csv", types=(FTZ.ReplicableExperience,), adds_to="measure",
        columns={
            "id": None,
            "batch": Ref(FTZ.promotedInBatch, "batch"),
            "domain": Ref(FTZ.experienceDomain, "experience-domain"),
            "agencies": Ref(FTZ.responsibleUnit, "agency", multi=True, inverse=FTZ.responsibleFor),
            "scope": Ref(FTZ.rolloutScope, "scope"),
            "source": Sources(),
        },
        required=frozenset({"id", "batch", "domain", "agencies", "scope", "source"}),
    ),
    Table(
        kind="document", pattern="documents/*.csv", types=(FTZ.PolicyDocument,),
        columns={
            "id": None,
            "type": ClassByValue({
                "law": FTZ.Law, "state-council-document": FTZ.StateCouncilDocument,
                "ministry-document": FTZ.MinistryDocument, "local-regulation": FTZ.LocalRegulation,
                "local-government-document": FTZ.LocalGovernmentDocument, "standard": FTZ.Standard,
                "international-agreement": FTZ.InternationalAgreement, "other": FTZ.PolicyDocument,
            }),
            "number": Typed(ELI.id_local, XSD.string),
            "title_zh": Text(SKOS.prefLabel, "zh", also=(ELI.title,)),
            "title_en": Text(SKOS.prefLabel, "en", also=(ELI.title,)),
            "alt_zh": Text(SKOS.altLabel, "zh", multi=True),
            "issuer": Ref(ELI.passed_by, "agency", multi=True),
            "date": DateValue(DCTERMS.issued),
            "zones": Ref(DCTERMS.spatial, "zone", multi=True),
            "measures": Ref(DCTERMS.isReferencedBy, "measure", multi=True, inverse=DCTERMS.references),
            "about_zh": Text(DCTERMS.description, "zh"),
            "about_en": Text(DCTERMS.description, "en"),
            "source": Sources(),
            "note": Text(SKOS.note, "en"),
        },
        required=frozenset({"id", "type", "title_zh", "title_en", "source"}),
    ),
    Table(
        kind="event", pattern="events*.csv", types=(FTZ.DatedEvent,), cited_inline=True,
        columns={
            "id": None,
            "date": DateValue(DCTERMS.date),
            **LABELS,
            "description_zh": Text(DCTERMS.description, "zh"),
            "description_en": Text(DCTERMS.description, "en"),
            "zones": Ref(PROV.atLocation, "zone", multi=True),
            "subareas": Ref(PROV.atLocation, "subarea", multi=True),
            "bodies": Ref(PROV.wasAssociatedWith, "agency", multi=True),
            "documents": Ref(PROV.generated, "document", multi=True),
            "batch": Ref(PROV.generated, "batch"),
            "source": None, "lines": None, "quote": None,
            "pairing": ClassByValue({"printed": None, "reconstructed": None}, predicate=FTZ.datePairing),
            "note": Text(SKOS.note, "en"),
        },
        required=frozenset({"id", "date", "label_zh", "label_en", "description_zh", "description_en", "source",
                            "lines", "quote", "pairing"}),
    ),
    Table(
        kind="observation", pattern="figures/*.csv", types=(QB.Observation,), cited_inline=True,
        columns={
            "id": None,
            "area": AreaRef(FTZ.refArea, ("zone", "subarea", "group", "province")),
            "measure": Ref(FTZ.refSubject, "measure"),
            "indicator": Ref(FTZ.indicator, "indicator"),
            "period": DateValue(FTZ.refPeriod),
            "basis": Ref(FTZ.periodBasis, "period-basis"),
            "qualifier": Ref(FTZ.valueQualifier, "value-qualifier"),
            "value": Typed(FTZ.obsValue, XSD.decimal),
            "unit": Ref(FTZ.unit, "unit"),
            "source": None, "lines": None, "quote": None,
            "note": Text(SKOS.note, "en"),
        },
        required=frozenset({"id", "area", "indicator", "period", "basis", "qualifier", "value", "unit", "source",
                            "lines", "quote"}),
    ),
)

# The report's places: sources.csv rows become ftz:SourceReference nodes of these classes.
SOURCE_KINDS = {
    "report": FTZ.Report,
    "part": FTZ.ReportPart,
    "section": FTZ.ReportSection,
    "table": FTZ.ReportTable,
    "case-box": FTZ.CaseBox,
    "figure": FTZ.Figure,
    "annex": FTZ.Annex,
    "external": FTZ.ExternalSource,
}
SOURCE_COLUMNS = ["id", "kind", "parent", "label_zh", "label_en", "lines"]
SOURCE_REQUIRED = frozenset({"id", "kind", "label_zh", "label_en"})


# Statement-level provenance: graph/citations/*.csv and graph/conflicts.csv (see statements.py).
CITATION_COLUMNS = ["subject", "property", "value", "source", "lines", "quote", "conflict", "reading", "note"]
CITATION_REQUIRED = frozenset({"subject", "property", "value", "source"})
CONFLICT_COLUMNS = ["id", "kind", "subject", "property", "explanation_zh", "explanation_en"]
CONFLICT_REQUIRED = frozenset(CONFLICT_COLUMNS)
CONFLICT_KINDS = {
    "contradiction": FTZ.Contradiction,
    "wording": FTZ.WordingVariant,
    "misprint": FTZ.Misprint,
    "extraction": FTZ.ExtractionArtefact,
    "layout": FTZ.LayoutAmbiguity,
}
# The links and names that carry a statement node beside their plain triple.
QUALIFIED_PREDICATES = (FTZ.groupMember, ELI.id_local, ELI.passed_by, DCTERMS.spatial, FTZ.partOfZone, FTZ.originatesIn, FTZ.originatesInSubArea, FTZ.classifiedUnder, FTZ.servesStrategy,
                        FTZ.responsibleUnit, FTZ.rolloutScope, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
# A misprinted name form: kept for search as a hidden label (SKOS's term for misspellings), never shown as a name.
VARIANT_COLUMNS = {"variant_zh": Text(SKOS.hiddenLabel, "zh", multi=True)}


def scheme_iri(scheme_id: str) -> URIRef:
    return iri("scheme", scheme_id)


__all__ = ["CITATION_COLUMNS", "CITATION_REQUIRED", "CONFLICT_COLUMNS", "CONFLICT_REQUIRED", "CONFLICT_KINDS",
           "QUALIFIED_PREDICATES", "VARIANT_COLUMNS", "TABLES", "SCHEMES", "SOURCE_KINDS", "Table", "Text", "Typed", "Ref", "Sources",
           "ClassByValue", "DateValue", "AreaRef", "ExternalIri", "scheme_iri"]
