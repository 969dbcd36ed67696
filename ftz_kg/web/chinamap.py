"""Maps of China drawn on the server as inline SVG (templates/map.html renders them; no JavaScript,
no tiles). The province geometry is vendored in geo/china-provinces.json (see geo/README.md).

Each function returns the plain data a map needs — regions with their path, fill, link and
tooltip, a legend and a table alternative, all texts in the page's language — and the template
escapes every text it prints.

Sub-areas are not drawn as points: the graph records no coordinates or cities for them, and
placing them from their names would be guessing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Callable

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ftz_kg.vocab import BASE, FTZ
from ftz_kg.web.catalogue import strings

GEOMETRY = Path(__file__).with_name("geo") / "china-provinces.json"

# establishment batches 1…6, earliest darkest: an ordered scale whose hue also changes (plasma), so
# neighbouring batches stay apart; shaded provinces are outlined to stand out from the grey ones
BATCH_FILLS = ("#0d0887", "#6a00a8", "#b12a90", "#e16462", "#fca636", "#f0f921")
# counts in a selection, fewest lightest (ColorBrewer Blues)
COUNT_FILLS = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
ZERO_FILL = "#ffffff"
NO_ZONE_FILL = "#e3e3e3"
HIGHLIGHT_FILL = "#b3261e"
# provinces smaller than this (viewBox units², e.g. Shanghai, Tianjin, Beijing) also get a dot
SMALL_AREA = 1000


@lru_cache(maxsize=1)
def geometry() -> dict:
    return json.loads(GEOMETRY.read_text(encoding="utf-8"))


def _label(graph: Graph, node, lang: str) -> str | None:
    labels = {l.language: str(l) for l in graph.objects(node, SKOS.prefLabel) if isinstance(l, Literal)}
    return labels.get(lang) or labels.get("en" if lang == "zh" else "zh") or labels.get(None)


def _short(graph: Graph, node, lang: str) -> str:
    """A zone's short name (四川自贸试验区, Sichuan FTZ) for tables; its label if it has none."""
    names = [str(l) for l in graph.objects(node, SKOS.altLabel) if isinstance(l, Literal) and l.language == lang]
    return min(names, key=len) if names else (_label(graph, node, lang) or str(node))


def _region_name(graph: Graph, region: dict, lang: str) -> str:
    """The graph's label of the province where it has one, else the geometry's name."""
    return _label(graph, province_iri(region), lang) or region["name_" + lang]


def _href(node: URIRef, lang: str) -> str:
    text = str(node)
    path = "/" + text[len(BASE):] if text.startswith(BASE) else text
    return f"{path}?lang={lang}"


def province_iri(region: dict) -> URIRef:
    return URIRef(f"{BASE}province/{region['slug']}")


def zones_by_province(graph: Graph) -> dict[URIRef, URIRef]:
    """province → its pilot FTZ (one per province in the data)."""
    return {province: zone for zone in graph.subjects(RDF.type, FTZ.PilotFreeTradeZone)
            for province in graph.objects(zone, FTZ.inProvince)}


def _batch(graph: Graph, zone: URIRef) -> tuple[URIRef, int, int] | None:
    batch = graph.value(zone, FTZ.establishedInBatch)
    if batch is None:
        return None
    return batch, int(graph.value(batch, FTZ.ordinal)), int(graph.value(batch, FTZ.year))


def _dot(region: dict) -> dict | None:
    x, y = region["point"]
    return {"x": x, "y": y} if region["area"] < SMALL_AREA else None


def _cell(text: str, href: str | None = None) -> dict:
    return {"text": text, "href": href}


def _frame(kind: str, label: str, caption: str, ui: dict, detail: str = "d") -> dict:
    geo = geometry()
    return {"kind": kind, "label": label, "caption": caption, "view_box": geo["viewBox"], "detail": detail,
            "regions": [], "points": [], "legend": [], "legend_label": ui["map_legend"],
            "table": None, "table_label": ui["map_table"], "source": ui["map_source"], "note": ""}


def home_map(graph: Graph, lang: str) -> dict:
    """Every province; the ones with a pilot FTZ shaded by the zone's establishment batch and linked
    to the zone's page; a legend by batch; a table (zone, province, batch, year)."""
    ui = strings()[lang]
    zones = zones_by_province(graph)
    batches = {zone: _batch(graph, zone) for zone in zones.values()}
    ordinals = sorted({b[1] for b in batches.values() if b})
    fill_of = {ordinal: BATCH_FILLS[min(i, len(BATCH_FILLS) - 1)] for i, ordinal in enumerate(ordinals)}
    m = _frame("batches", ui["map_home_label"], ui["map_home_caption"].format(count=len(zones)), ui)
    m["note"] = ui["map_no_subareas"]
    for region in geometry()["regions"]:
        name = _region_name(graph, region, lang)
        zone = zones.get(province_iri(region))
        batch = batches.get(zone)
        if zone is None or batch is None:
            m["regions"].append({"slug": region["slug"], "d": region["d"], "fill": NO_ZONE_FILL, "shaded": False,
                                 "href": None, "dot": None, "title": ui["map_no_zone_title"].format(place=name)})
            continue
        node, ordinal, year = batch
        title = ui["map_zone_title"].format(zone=_label(graph, zone, lang), year=year,
                                            batch=_label(graph, node, lang), place=name)
        m["regions"].append({"slug": region["slug"], "d": region["d"], "fill": fill_of[ordinal], "shaded": True,
                             "href": _href(zone, lang), "title": title, "batch": ordinal, "dot": _dot(region)})
    for ordinal in ordinals:
        year = next(b[2] for b in batches.values() if b and b[1] == ordinal)
        count = sum(1 for b in batches.values() if b and b[1] == ordinal)
        m["legend"].append({"fill": fill_of[ordinal], "text": ui["map_batch_legend"].format(ordinal=ordinal, year=year),
                            "count": ui["map_zones_one" if count == 1 else "map_zones_many"].format(count=count)})
    m["legend"].append({"fill": NO_ZONE_FILL, "text": ui["map_no_zone"], "count": ""})
    rows = []
    for province, zone in zones.items():
        batch = batches[zone]
        if batch is None:
            continue
        node, ordinal, year = batch
        rows.append(((ordinal, _label(graph, zone, lang)),
                     [_cell(_short(graph, zone, lang), _href(zone, lang)),
                      _cell(_label(graph, province, lang), _href(province, lang)),
                      _cell(ui["map_batch_short"].format(ordinal=ordinal), _href(node, lang)), _cell(str(year))]))
    m["table"] = {"head": [ui["map_col_zone"], ui["map_col_province"], ui["map_col_batch"], ui["map_col_year"]],
                  "rows": [cells for _, cells in sorted(rows, key=lambda r: r[0])]}
    return m


def count_classes(maximum: int) -> list[tuple[int, int]]:
    """At most five classes (low, high) covering 1…maximum, bounded by 1-2-5 steps."""
    if maximum <= 0:
        return []
    if maximum <= len(COUNT_FILLS):
        return [(n, n) for n in range(1, maximum + 1)]
    steps, step = [], 1
    while step < maximum:
        steps += [s for s in (step, 2 * step, 5 * step) if s < maximum]
        step *= 10
    uppers = steps[-(len(COUNT_FILLS) - 1):] + [maximum]
    return [(1 if i == 0 else uppers[i - 1] + 1, upper) for i, upper in enumerate(uppers)]


def selection_map(graph: Graph, counts: dict[URIRef, int], lang: str, caption: str,
                  link: Callable[[URIRef], str] | None = None) -> dict:
    """The provinces shaded by a count per zone (the explorer's map view of its selection): a legend
    of count classes and a table (zone, province, count). `link(zone)` gives each zone's link
    (default: the zone's page)."""
    ui = strings()[lang]
    zones = zones_by_province(graph)
    classes = count_classes(max(counts.values(), default=0))
    fills = COUNT_FILLS[len(COUNT_FILLS) - len(classes):] if classes else ()

    def fill(n: int) -> str:
        return next((f for (low, high), f in zip(classes, fills) if low <= n <= high), ZERO_FILL)

    m = _frame("counts", ui["map_selection_label"].format(caption=caption), caption, ui)
    href = link or (lambda zone: _href(zone, lang))
    for region in geometry()["regions"]:
        name = _region_name(graph, region, lang)
        zone = zones.get(province_iri(region))
        if zone is None:
            m["regions"].append({"slug": region["slug"], "d": region["d"], "fill": NO_ZONE_FILL, "shaded": False,
                                 "href": None, "dot": None, "title": ui["map_no_zone_title"].format(place=name)})
            continue
        n = int(counts.get(zone, 0))
        m["regions"].append({"slug": region["slug"], "d": region["d"], "fill": fill(n), "shaded": True,
                             "href": href(zone), "count": n, "dot": _dot(region),
                             "title": ui["map_count_title"].format(zone=_label(graph, zone, lang), count=n,
                                                                   caption=caption)})
    for (low, high), f in zip(classes, fills):
        m["legend"].append({"fill": f, "text": str(low) if low == high else f"{low}–{high}", "count": ""})
    m["legend"].append({"fill": ZERO_FILL, "text": "0", "count": ""})
    m["legend"].append({"fill": NO_ZONE_FILL, "text": ui["map_no_zone"], "count": ""})
    rows = sorted(((int(counts.get(zone, 0)), _label(graph, zone, lang), zone, province)
                   for province, zone in zones.items()), key=lambda r: (-r[0], r[1]))
    m["table"] = {"head": [ui["map_col_zone"], ui["map_col_province"], caption],
                  "rows": [[_cell(_short(graph, zone, lang), href(zone)), _cell(_label(graph, province, lang), _href(province, lang)),
                            _cell(str(n))] for n, text, zone, province in rows]}
    return m


def mini_map(graph: Graph, node: URIRef, lang: str) -> dict | None:
    """China's outline with the province of a zone, sub-area or province highlighted (and ringed,
    so that Shanghai or Beijing stay visible at thumbnail size); None for anything else."""
    ui = strings()[lang]
    province = None
    if (node, RDF.type, FTZ.ProvinceLevelDivision) in graph:
        province = node
    else:
        zone = graph.value(node, FTZ.partOfZone) if (node, RDF.type, FTZ.SubArea) in graph else node
        province = graph.value(zone, FTZ.inProvince) if zone is not None else None
    region = next((r for r in geometry()["regions"] if province is not None and province_iri(r) == province), None)
    if region is None:
        return None
    place = _region_name(graph, region, lang)
    m = _frame("mini", ui["map_mini_label"].format(place=place), ui["map_mini_caption"].format(place=place), ui,
               detail="coarse")
    for other in geometry()["regions"]:
        chosen = other is region
        m["regions"].append({"slug": other["slug"], "d": other["coarse"], "href": None, "dot": None,
                             "fill": HIGHLIGHT_FILL if chosen else NO_ZONE_FILL, "shaded": chosen,
                             "title": _region_name(graph, other, lang) if chosen else ""})
    x, y = region["point"]
    m["marker"] = {"x": x, "y": y} if region["area"] < SMALL_AREA * 2 else None
    m["place"] = place
    return m
