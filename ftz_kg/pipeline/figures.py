"""Stage 2, last step: the report's figures as one RDF Data Cube data set.

Rows of graph/figures/*.csv are already qb:Observations with their dimensions, value and unit.
This adds what follows from them: the data set they belong to, what each figure is about when
no measure is named (the area itself: every dimension has a value, integrity constraint IC-11),
the value converted to the unit's base unit, and a readable name.
"""

from __future__ import annotations

from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from ftz_kg.vocab import FTZ, QB, iri

DATASET = iri("dataset", "report-figures")


def _label(graph: Graph, node: URIRef, lang: str) -> str:
    for label in graph.objects(node, SKOS.prefLabel):
        if getattr(label, "language", None) == lang:
            return str(label)
    return str(node).rsplit("/", 1)[-1]


def decimal_lexical(text: str) -> str:
    """A decimal written with a fraction (111 → 111.0): Turtle writes it back the same, and Virtuoso
    keeps it a decimal (it turns "111"^^xsd:decimal into an integer)."""
    return text if "." in text else text + ".0"


def base_value(value: Decimal, factor: Decimal) -> Decimal:
    """value × factor, written without an exponent and without trailing zeros after the point."""
    product = value * factor
    text = format(product, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def _define_units(graph: Graph) -> None:
    """A unit's definition says what it converts to (generated, so that it cannot disagree)."""
    for unit in graph.subjects(RDF.type, FTZ.Unit):
        base, factor = graph.value(unit, FTZ.baseUnit), graph.value(unit, FTZ.conversionFactor)
        if base is None or factor is None:
            continue
        zh, en, base_zh, base_en = (_label(graph, unit, "zh"), _label(graph, unit, "en"), _label(graph, base, "zh"),
                                    _label(graph, base, "en"))
        if base == unit:
            graph.add((unit, SKOS.definition, Literal(f"报告印出数据所用的单位“{zh}”，为基本单位。", lang="zh")))
            graph.add((unit, SKOS.definition, Literal(f"The unit “{en}” as the report prints it; a base unit.", lang="en")))
        else:
            graph.add((unit, SKOS.definition, Literal(f"报告印出数据所用的单位“{zh}”：1 {zh} = {factor} {base_zh}。",
                                                      lang="zh")))
            graph.add((unit, SKOS.definition, Literal(f"The unit “{en}” as the report prints it: 1 = {factor} {base_en}.",
                                                      lang="en")))


def complete_figures(graph: Graph) -> None:
    _define_units(graph)
    observations = sorted(set(graph.subjects(RDF.type, QB.Observation)))
    if not observations:
        return
    graph.add((DATASET, RDF.type, QB.DataSet))
    graph.add((DATASET, QB.structure, FTZ.figuresStructure))
    graph.add((DATASET, SKOS.prefLabel, Literal("报告中的统计数据", lang="zh")))
    graph.add((DATASET, SKOS.prefLabel, Literal("Figures stated in the report", lang="en")))
    graph.add((DATASET, DCTERMS.source, iri("source", "report")))
    for node in observations:
        graph.add((node, QB.dataSet, DATASET))
        area = graph.value(node, FTZ.refArea)
        if graph.value(node, FTZ.refSubject) is None and area is not None:
            graph.add((node, FTZ.refSubject, area))
        value, unit = graph.value(node, FTZ.obsValue), graph.value(node, FTZ.unit)
        factor = graph.value(unit, FTZ.conversionFactor) if unit is not None else None
        if value is not None and factor is not None:
            converted = base_value(Decimal(str(value)), Decimal(str(factor)))
            graph.add((node, FTZ.valueInBaseUnit, Literal(decimal_lexical(format(converted, "f")), datatype=XSD.decimal,
                                                          normalize=False)))
        indicator, period = graph.value(node, FTZ.indicator), graph.value(node, FTZ.refPeriod)
        subject = graph.value(node, FTZ.refSubject)
        for lang, sep in (("zh", "·"), ("en", " · ")):
            parts = [_label(graph, subject, lang), _label(graph, indicator, lang), str(period),
                     f"{value} {_label(graph, unit, lang)}"]
            graph.add((node, SKOS.prefLabel, Literal(sep.join(parts), lang=lang)))


__all__ = ["complete_figures", "base_value", "decimal_lexical", "DATASET"]
