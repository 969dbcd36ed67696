"""Zone comparison: two to six pilot free trade zones side by side (key facts, measures by innovation
domain, the report's figures aligned by indicator, strategies), rendered on the server from the graph.

The zones come from the query string (`/compare?zone=sichuan&zone=chongqing`), so a comparison is a
shareable URL; the picker form submits by GET to the same address."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ftz_kg.vocab import BASE, FTZ, QB
from ftz_kg.web import pages
from ftz_kg.web.rendering import render

MIN_ZONES, MAX_ZONES = 2, 6
PARAMETER = "zone"
_SLUG = re.compile(r"[a-z]+")
SHOWN_VALUE_CHARS = 80    # a rejected value is echoed (escaped) only this long
SQUARE_METRE = URIRef(BASE + "unit/square-metre")
UNCLASSIFIED = "unclassified"


@dataclass
class BadZones(Exception):
    """The zone parameters cannot be compared: `reason` is a key of the string catalogue and `value`
    the offending value as given (or the number of zones)."""
    reason: str
    value: str


def zone_iri(slug: str) -> URIRef:
    return URIRef(BASE + "zone/" + slug)


def zone_slugs(graph: Graph) -> set[str]:
    return {str(z)[len(BASE + "zone/"):] for z in graph.subjects(RDF.type, FTZ.PilotFreeTradeZone)
            if str(z).startswith(BASE + "zone/")}


def parse_zones(graph: Graph, values: list[str]) -> list[str]:
    """The zones to compare, in the order given, each once; empty values (an unset picker) are ignored.
    Raises BadZones for an unknown zone and for fewer than two or more than six zones."""
    known = zone_slugs(graph)
    chosen: list[str] = []
    for value in values:
        slug = value.strip()
        if not slug:
            continue
        if not _SLUG.fullmatch(slug) or slug not in known:
            raise BadZones("compare_unknown_zone", value)
        if slug not in chosen:
            chosen.append(slug)
        if len(chosen) > MAX_ZONES:
            raise BadZones("compare_too_many", ", ".join(v.strip() for v in values if v.strip()))
    if len(chosen) < MIN_ZONES:
        raise BadZones("compare_too_few", ", ".join(chosen))
    return chosen


def short_name(graph: Graph, zone: URIRef, lang: str) -> str:
    """The zone's short name in the page language (四川自贸试验区, Sichuan FTZ): its shortest alternative label."""
    names = [str(l) for l in graph.objects(zone, SKOS.altLabel) if isinstance(l, Literal) and l.language == lang]
    return min(names, key=lambda n: (len(n), n)) if names else pages.label(graph, zone, lang)


def _batch_key(graph: Graph, zone: URIRef) -> tuple[int, str]:
    batch = graph.value(zone, FTZ.establishedInBatch)
    ordinal = graph.value(batch, FTZ.ordinal)
    return (int(ordinal) if ordinal is not None else 99, str(zone))


def picker(graph: Graph, lang: str, selected: list[str]) -> list[dict]:
    """The 21 zones as checkboxes, grouped by establishment batch (in batch order)."""
    groups: dict[URIRef, dict] = {}
    for zone in sorted(graph.subjects(RDF.type, FTZ.PilotFreeTradeZone), key=lambda z: _batch_key(graph, z)):
        batch = graph.value(zone, FTZ.establishedInBatch)
        group = groups.setdefault(batch, {"legend": pages.label(graph, batch, lang),
                                          "year": str(graph.value(batch, FTZ.year) or ""), "zones": []})
        slug = str(zone).rsplit("/", 1)[-1]
        group["zones"].append({"slug": slug, "name": short_name(graph, zone, lang), "checked": slug in selected})
    for group in groups.values():
        group["zones"].sort(key=lambda z: z["slug"])   # pinyin order, the same in both languages
    return list(groups.values())


def _cite(citations: list[dict], lang: str) -> dict | None:
    """The marker (macro `cite`) for a figure's citations, as `pages.where_stated` builds it for a statement."""
    if not citations:
        return None
    ui = pages.UI[lang]
    summary = "; ".join(" ".join(filter(None, (c["place"]["text"], c["lines"]))) +
                        (f" «{c['quote']}»" if c["quote"] else "") for c in citations)
    return {"citations": citations, "conflicts": [], "summary": summary, "count": len(citations),
            "label": ui["stated"], "conflict_label": ui["conflict"], "deprecated": False}


def _domains_of(graph: Graph) -> dict[URIRef, URIRef]:
    """Each innovation concept's domain: the InnovationDomain reached through skos:broader (itself for a domain)."""
    domains = set(graph.subjects(RDF.type, FTZ.InnovationDomain))
    out = {}
    for concept in set(graph.objects(None, FTZ.classifiedUnder)) | domains:
        for ancestor in graph.transitive_objects(concept, SKOS.broader):
            if ancestor in domains:
                out[concept] = ancestor
                break
    return out


def measures_of(graph: Graph, zone: URIRef) -> set[URIRef]:
    return {m for m in graph.objects(zone, FTZ.originOf) if (m, RDF.type, FTZ.InnovationMeasure) in graph}


def measures_by_domain(graph: Graph, zones: list[URIRef], lang: str) -> list[dict]:
    """One row per innovation domain (in the report's order of Part 2), then the measures the taxonomy does not
    classify: how many of each zone's measures fall in it. A measure classified in two domains counts in both."""
    domain_of = _domains_of(graph)
    domains = sorted(graph.subjects(RDF.type, FTZ.InnovationDomain), key=lambda d: _report_order(graph, d))
    counts = {d: [0] * len(zones) for d in [*domains, UNCLASSIFIED]}
    for column, zone in enumerate(zones):
        for measure in measures_of(graph, zone):
            found = {domain_of[c] for c in graph.objects(measure, FTZ.classifiedUnder) if c in domain_of}
            for domain in found or {UNCLASSIFIED}:
                counts[domain][column] += 1
    ui = pages.UI[lang]
    # the explorer's innovation facet counts a domain's points under it: its filter lists the same measures
    rows = [{"domain": pages.term(graph, d, lang), "counts": counts[d], "filter": str(d).rsplit("/", 1)[-1]}
            for d in domains]
    rows.append({"domain": {"text": ui["compare_unclassified"], "href": None, "lang": None},
                 "counts": counts[UNCLASSIFIED], "filter": None})
    return rows


def _report_order(graph: Graph, node: URIRef) -> tuple:
    """Where the report first treats an entity (its first cited line), so domains follow Part 2's order."""
    lines = [int(graph.value(place, FTZ.firstLine)) for place in graph.objects(node, FTZ.source)
             if graph.value(place, FTZ.firstLine) is not None]
    return (min(lines) if lines else 10 ** 9, str(node))


def domain_chart(rows: list[dict], names: list[str]) -> list[dict]:
    """The grouped bar chart: a group per domain, a bar per zone, widths in per cent of the largest count."""
    top = max((n for row in rows for n in row["counts"]), default=0) or 1
    return [{"label": row["domain"]["text"],
             "bars": [{"zone": names[i], "index": i, "count": n, "width": round(100 * n / top, 1)}
                      for i, n in enumerate(row["counts"])]} for row in rows]


def strategies_of(graph: Graph, zone: URIRef, lang: str) -> list[dict]:
    """The strategies the zone serves: those the report ties to the zone itself (with where it says so), then
    those it ties only to one of the zone's sub-areas or measures (naming them), as the query strategy-zones does."""
    own = sorted(graph.objects(zone, FTZ.servesStrategy), key=lambda s: pages.label(graph, s, lang))
    out = []
    for strategy in own:
        shown = pages.term(graph, strategy, lang)
        shown["cite"] = pages.where_stated(graph, zone, FTZ.servesStrategy, strategy, lang)
        out.append({"strategy": shown, "via": []})
    via: dict[URIRef, list[URIRef]] = {}
    for part in [*graph.objects(zone, FTZ.hasSubArea), *sorted(measures_of(graph, zone))]:
        for strategy in graph.objects(part, FTZ.servesStrategy):
            if strategy not in own:
                via.setdefault(strategy, []).append(part)
    for strategy in sorted(via, key=lambda s: pages.label(graph, s, lang)):
        out.append({"strategy": pages.term(graph, strategy, lang),
                    "via": [pages.term(graph, p, lang) for p in sorted(set(via[strategy]), key=str)]})
    return out


def area_of(graph: Graph, zone: URIRef, lang: str) -> list[dict]:
    """The zone's area where the report prints one: a figure about the zone itself in a unit of area."""
    out = []
    for obs in graph.subjects(FTZ.refArea, zone):
        unit = graph.value(obs, FTZ.unit)
        if ((obs, RDF.type, QB.Observation) in graph and graph.value(obs, FTZ.refSubject) in (None, zone)
                and graph.value(unit, FTZ.baseUnit) == SQUARE_METRE):
            out.append({"text": f"{pages.printed(graph.value(obs, FTZ.obsValue))} {pages.unit_symbol(graph, unit, lang)}",
                        "href": pages.local(obs), "lang": None})
    return out


def key_facts(graph: Graph, zone: URIRef, lang: str) -> dict:
    batch = graph.value(zone, FTZ.establishedInBatch)
    measures = measures_of(graph, zone)
    subareas = sorted(graph.objects(zone, FTZ.hasSubArea), key=lambda s: pages.label(graph, s, lang))
    expansion = graph.value(zone, FTZ.expansionYear)
    return {"batch": pages.term(graph, batch, lang), "year": str(graph.value(batch, FTZ.year) or ""),
            "expansion": "" if expansion is None else str(expansion),
            "province": pages.term(graph, graph.value(zone, FTZ.inProvince), lang),
            "area": area_of(graph, zone, lang),
            "subareas": [pages.term(graph, s, lang) for s in subareas],
            "measures": len(measures),
            "experiences": sum(1 for m in measures if (m, RDF.type, FTZ.ReplicableExperience) in graph),
            "strategies": strategies_of(graph, zone, lang)}


def aligned_figures(graph: Graph, zones: list[URIRef], lang: str) -> list[dict]:
    """The report's figures about each zone (its own, its sub-areas', its measures'), a row per indicator: first
    the indicators at least two of the zones have (most zones first), then the others, each in report order."""
    rows: dict[str, dict] = {}
    for column, zone in enumerate(zones):
        for figure in pages.figures_of(graph, zone, lang):
            if _about_another_zone(graph, figure, zone):
                continue
            key = figure["indicator"]["href"] or figure["indicator"]["text"]
            row = rows.setdefault(key, {"indicator": figure["indicator"], "cells": [[] for _ in zones],
                                        "order": figure["order"]})
            row["order"] = min(row["order"], figure["order"])
            figure["cite"] = _cite(figure["citations"], lang)
            row["cells"][column].append(figure)
    for row in rows.values():
        for cell in row["cells"]:
            cell.sort(key=_printed_order)
        row["zones"] = sum(1 for cell in row["cells"] if cell)
        row["shared"] = row["zones"] >= 2
    return sorted(rows.values(), key=lambda r: (not r["shared"], -r["zones"] if r["shared"] else 0, r["order"],
                                                 r["indicator"]["text"]))


def _about_another_zone(graph: Graph, figure: dict, zone: URIRef) -> bool:
    """A figure of a measure several zones share that the report states for one other zone (Chongqing's amount
    for the measure it shares with Hubei and Tianjin): on a zone's own page it belongs, beside another zone's
    column it would read as that zone's figure."""
    area = graph.value(URIRef(BASE + figure["observation"]["href"].lstrip("/")), FTZ.refArea)
    if area is None or area == zone:
        return False
    if (area, RDF.type, FTZ.PilotFreeTradeZone) in graph:
        return True
    return (area, RDF.type, FTZ.SubArea) in graph and graph.value(area, FTZ.partOfZone) != zone


def _printed_order(figure: dict) -> tuple:
    """Figures printed in one sentence (a range 3-5 天, "from 22 to 12 days") in the order the sentence prints them."""
    quote = figure["citations"][0]["quote"] if figure["citations"] else ""
    at = quote.find(figure["value"])
    return (figure["order"], at if at >= 0 else len(quote), figure["observation"]["href"] or "")


def _context(graph: Graph, lang: str, slugs: list[str], title: str) -> dict:
    # the language switch keeps the chosen zones
    shell = pages._shell(lang, "/compare", title, params=[(PARAMETER, s) for s in slugs], section="compare",
                         description=pages.UI[lang]["compare_intro"])
    return {**shell, "groups": picker(graph, lang, slugs),
            "min_zones": MIN_ZONES, "max_zones": MAX_ZONES, "parameter": PARAMETER}


def compare_page(graph: Graph, lang: str, slugs: list[str]) -> str:
    zones = [zone_iri(s) for s in slugs]
    names = [short_name(graph, z, lang) for z in zones]
    ui = pages.UI[lang]
    title = ui["compare_title"] + ": " + " · ".join(names)
    domains = measures_by_domain(graph, zones, lang)
    figures = aligned_figures(graph, zones, lang)
    columns = [{"slug": s, "name": n, "full": pages.label(graph, z, lang), "href": pages.local(z),
                "explore": f"/explore?zone={s}", "facts": key_facts(graph, z, lang), "index": i}
               for i, (s, z, n) in enumerate(zip(slugs, zones, names))]
    return render("compare.html", **_context(graph, lang, slugs, title), columns=columns, domains=domains,
                  chart=domain_chart(domains, names), figures=figures,
                  shared_count=sum(1 for r in figures if r["shared"]), any_area=any(c["facts"]["area"] for c in columns),
                  any_expansion=any(c["facts"]["expansion"] for c in columns), error=None)


def form_page(graph: Graph, lang: str, error: BadZones | None = None, given: list[str] = ()) -> str:
    """The picker alone: the page's landing state (no zone chosen) or, with `error`, the 400 page that says
    which parameter value was refused and keeps the valid choices ticked."""
    ui = pages.UI[lang]
    known = zone_slugs(graph)
    kept = [v.strip() for v in given if v.strip() in known]
    shown = None
    if error is not None:
        value = error.value if len(error.value) <= SHOWN_VALUE_CHARS else error.value[:SHOWN_VALUE_CHARS] + "…"
        shown = {"message": ui[error.reason], "parameter": PARAMETER, "value": value}
    title = ui["compare_title"] if error is None else f'{ui["compare_error_title"]} · {ui["compare_title"]}'
    return render("compare.html", **_context(graph, lang, kept, title), columns=[], domains=[],
                  chart=[], figures=[], shared_count=0, any_area=False, any_expansion=False, error=shown)


def compare_href(graph: Graph, zone: URIRef) -> str:
    """A comparison to link from a zone's page: the zone beside the other zones of its establishment batch (a
    batch of one, like Shanghai's, takes the next batch's), at most six zones in all."""
    from urllib.parse import urlencode
    ordinal = _batch_key(graph, zone)[0]
    by_ordinal: dict[int, list[URIRef]] = {}
    for other in graph.subjects(RDF.type, FTZ.PilotFreeTradeZone):
        by_ordinal.setdefault(_batch_key(graph, other)[0], []).append(other)
    peers = [z for z in by_ordinal.get(ordinal, []) if z != zone]
    if not peers:
        peers = by_ordinal.get(ordinal + 1) or by_ordinal.get(ordinal - 1) or []
    slugs = [str(zone).rsplit("/", 1)[-1]] + sorted(str(z).rsplit("/", 1)[-1] for z in peers)[:MAX_ZONES - 1]
    return "/compare?" + urlencode([(PARAMETER, s) for s in slugs])
