"""The faceted explorer of measures and replicable experiences (CKAN and Sampo-UI as anchors).

Everything a request needs is computed once per graph (`index_of`): one row per item with the
facet values it has (a tree facet's values include every ancestor, so a domain counts the
measures of its approaches and points), its names and a text to search. A request then only
filters a few hundred rows and counts their values.

Filters combine as CKAN's do: every selected value must hold (within a facet too), and the counts
beside each value are those of the current selection. The whole state is in the URL: facet
parameters (repeatable), `q`, `sort`, `view`, `page` (and `lang` when given), so sort, filters and
view survive each other and every view can be shared and downloaded.
"""

from __future__ import annotations

import csv
import io
import math
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ftz_kg.vocab import BASE, FTZ
from ftz_kg.web import pages
from ftz_kg.web.rendering import render

PAGE_SIZE = 50
SORTS = ("name", "zone", "places")
VIEWS = ("table", "chart", "map")
FORMATS = ("csv", "xlsx")
# parameters every explorer URL may carry besides the facets
STATE_PARAMETERS = ("q", "sort", "view", "page", "lang", "format")


class BadParameter(ValueError):
    """A query parameter the explorer cannot use; the message names it."""

    def __init__(self, parameter: str, value: str):
        super().__init__(parameter)
        self.parameter, self.value = parameter, value


# ---------------------------------------------------------------------------------------------------
# Facets: where each one's values come from


@dataclass(frozen=True)
class FacetSpec:
    key: str                 # the URL parameter
    label: str               # key of its heading in strings.yaml
    source: str              # how values are found: "link", "broader", "place", "units", "zone-batch"
    predicate: URIRef | None = None


MEASURE_FACETS = (
    FacetSpec("innovation", "explore_facet_innovation", "broader", FTZ.classifiedUnder),
    FacetSpec("zone", "explore_facet_zone", "link", FTZ.originatesIn),
    FacetSpec("subarea", "explore_facet_subarea", "link", FTZ.originatesInSubArea),
    FacetSpec("batch", "explore_facet_zone_batch", "zone-batch"),
    FacetSpec("place", "explore_facet_place", "place"),
    FacetSpec("theme", "explore_facet_theme", "broader", FTZ.hasTheme),
    FacetSpec("strategy", "explore_facet_strategy", "link", FTZ.servesStrategy),
    FacetSpec("agency", "explore_facet_agency", "link", FTZ.responsibleUnit),
)
EXPERIENCE_FACETS = (
    FacetSpec("domain", "explore_facet_domain", "link", FTZ.experienceDomain),
    FacetSpec("agency", "explore_facet_agency", "link", FTZ.responsibleUnit),
    FacetSpec("units", "explore_facet_units", "units"),
    FacetSpec("scope", "explore_facet_scope", "broader", FTZ.rolloutScope),
    FacetSpec("batch", "explore_facet_batch", "link", FTZ.promotedInBatch),
    FacetSpec("zone", "explore_facet_zone", "link", FTZ.originatesIn),
    FacetSpec("innovation", "explore_facet_innovation", "broader", FTZ.classifiedUnder),
    FacetSpec("place", "explore_facet_place", "place"),
)


@dataclass(frozen=True)
class Kind:
    name: str                # measures | experiences: the path segment
    cls: URIRef
    title: str               # key in strings.yaml
    facets: tuple[FacetSpec, ...]
    columns: tuple[str, ...]     # facet keys shown as table columns, after the name
    chart_by: tuple[str, ...]    # facet keys charted (top level of a tree)
    open: tuple[str, ...]        # facets shown unfolded before anything is selected


KINDS = {
    "measures": Kind("measures", FTZ.InnovationMeasure, "explore_title_measures", MEASURE_FACETS,
                     ("zone", "subarea", "innovation"), ("innovation", "zone"), ("innovation", "zone")),
    "experiences": Kind("experiences", FTZ.ReplicableExperience, "explore_title_experiences", EXPERIENCE_FACETS,
                        ("zone", "domain", "agency", "scope"), ("domain", "zone"), ("domain", "agency")),
}


@dataclass
class Value:
    id: str
    labels: dict[str, str]
    href: str | None
    parent: str | None = None
    order: tuple = ()
    short: dict[str, str] = field(default_factory=dict)   # a zone's short name (四川自贸试验区)

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or next(iter(self.labels.values()), self.id)

    def brief(self, lang: str) -> str:
        """The name lists and tables show: the short name where the value has one."""
        return self.short.get(lang) or self.label(lang)


@dataclass
class Facet:
    spec: FacetSpec
    values: dict[str, Value] = field(default_factory=dict)

    @property
    def tree(self) -> bool:
        return self.spec.source in ("broader", "place")

    def path(self, value_id: str) -> list[str]:
        """The value and its ancestors, root first."""
        out = []
        while value_id is not None and value_id not in out:
            out.append(value_id)
            value_id = self.values[value_id].parent
        return out[::-1]


@dataclass
class Item:
    node: URIRef
    href: str
    names: dict[str, str]
    descriptions: dict[str, str]
    places: list[str]               # the IRIs of the places in the report that state the item
    place_labels: dict[str, list[str]]   # their labels, by language
    text: str                       # every name and description, casefolded: what `q` searches
    values: dict[str, frozenset]    # facet key -> value ids, ancestors included
    leaves: dict[str, tuple]        # facet key -> the value ids the item links to itself

    def name(self, lang: str) -> str:
        return self.names.get(lang) or next(iter(self.names.values()), self.href)


@dataclass
class Index:
    kind: Kind
    items: list[Item]
    facets: dict[str, Facet]


def _value_id(iri) -> str:
    """`https://w3id.org/ftz-kg/zone/sichuan` -> `sichuan`: the id after the kind segment."""
    return pages.local(iri).lstrip("/").split("/", 1)[-1]


def _labels(graph: Graph, node) -> dict[str, str]:
    return {lang: pages.label(graph, node, lang) for lang in pages.LANGS}


def _short_names(graph: Graph, node) -> dict[str, str]:
    """A zone's shortest alternative name per language (四川自贸试验区, Sichuan FTZ); nothing for others."""
    if (node, RDF.type, FTZ.PilotFreeTradeZone) not in graph:
        return {}
    out = {}
    for name in graph.objects(node, SKOS.altLabel):
        if isinstance(name, Literal) and name.language in pages.LANGS:
            if name.language not in out or len(str(name)) < len(out[name.language]):
                out[name.language] = str(name)
    return out


def _first_line(graph: Graph, place) -> int:
    """Where a report place starts (a table row: where its table starts)."""
    seen = set()
    while place is not None and place not in seen:
        seen.add(place)
        line = graph.value(place, FTZ.firstLine)
        if line is not None:
            return int(line)
        place = graph.value(place, FTZ.withinSource)
    return 10 ** 9


def _concept_order(graph: Graph, concept) -> tuple:
    lines = [_first_line(graph, p) for p in graph.objects(concept, FTZ.source)]
    return (min(lines) if lines else 10 ** 9,)


def _chains(graph: Graph, spec: FacetSpec, node) -> list[list]:
    """Each value the item has in the facet, as a path from the root of its tree (one step when flat)."""
    if spec.source == "link":
        return [[o] for o in graph.objects(node, spec.predicate) if isinstance(o, URIRef)]
    if spec.source == "broader":
        chains = []
        for concept in graph.objects(node, spec.predicate):
            chain = [concept]
            while (parent := graph.value(chain[0], SKOS.broader)) is not None and parent not in chain:
                chain.insert(0, parent)
            chains.append(chain)
        return chains
    if spec.source == "zone-batch":
        return [[b] for z in graph.objects(node, FTZ.originatesIn) for b in graph.objects(z, FTZ.establishedInBatch)]
    if spec.source == "units":
        count = len(set(graph.objects(node, FTZ.responsibleUnit)))
        return [] if count == 0 else [["alone" if count == 1 else "jointly"]]
    if spec.source == "place":
        # the report part (or annex) and, below it, the table or case box the place is in: the
        # sections between them would make a deep tree with one child per level
        chains = []
        for place in graph.objects(node, FTZ.source):
            top = box = None
            current, seen = place, set()
            while current is not None and current not in seen:
                seen.add(current)
                types = set(graph.objects(current, RDF.type))
                if box is None and types & {FTZ.ReportTable, FTZ.CaseBox}:
                    box = current
                if types & {FTZ.ReportPart, FTZ.Annex}:
                    top = current
                    break
                current = graph.value(current, FTZ.withinSource)
            if top is not None:
                chains.append([top] + ([box] if box is not None else []))
        return chains
    raise ValueError(spec.source)


def build_index(graph: Graph, kind: Kind) -> Index:
    from ftz_kg.web.catalogue import strings
    ui = strings()
    facets = {spec.key: Facet(spec) for spec in kind.facets}
    items = []
    for node in sorted(set(graph.subjects(RDF.type, kind.cls)), key=str):
        if not isinstance(node, URIRef):
            continue
        values, leaves = {}, {}
        for spec in kind.facets:
            facet = facets[spec.key]
            ids, leaf_ids = set(), []
            for chain in _chains(graph, spec, node):
                parent = None
                for step in chain:
                    value_id = _value_id(step) if isinstance(step, URIRef) else step
                    if value_id not in facet.values:
                        if not isinstance(step, URIRef):   # a token of our own (alone/jointly)
                            labels = {lang: ui[lang][f"explore_units_{step}"] for lang in pages.LANGS}
                            facet.values[value_id] = Value(value_id, labels, None, None, (0 if step == "alone" else 1,))
                        else:
                            order = (_first_line(graph, step),) if spec.source == "place" else \
                                _concept_order(graph, step) if spec.source == "broader" else ()
                            facet.values[value_id] = Value(value_id, _labels(graph, step), pages.local(step),
                                                           parent, order, _short_names(graph, step))
                    ids.add(value_id)
                    parent = value_id
                if parent is not None and parent not in leaf_ids:
                    leaf_ids.append(parent)
            values[spec.key] = frozenset(ids)
            leaves[spec.key] = tuple(leaf_ids)
        names = _labels(graph, node)
        descriptions = {l.language: str(l) for l in graph.objects(node, DCTERMS.description) if isinstance(l, Literal)}
        words = [str(l) for p in (SKOS.prefLabel, SKOS.altLabel) for l in graph.objects(node, p)]
        places = sorted(set(graph.objects(node, FTZ.source)), key=lambda p: (_first_line(graph, p), str(p)))
        items.append(Item(
            node=node, href=pages.local(node), names=names, descriptions=descriptions,
            places=[str(p) for p in places],
            place_labels={lang: [pages.label(graph, p, lang) for p in places] for lang in pages.LANGS},
            text="\n".join(words + list(descriptions.values())).casefold(), values=values, leaves=leaves))
    facets = {key: facet for key, facet in facets.items() if facet.values}
    return Index(kind, items, facets)


_LOCK = threading.Lock()


def index_of(graph: Graph, kind_name: str) -> Index:
    """The explorer's rows for a graph, computed on first use and kept with the graph (a reload
    brings a new graph, hence new rows)."""
    cached = getattr(graph, "_ftz_explorer_indexes", None)
    if cached is None or kind_name not in cached:
        with _LOCK:
            cached = getattr(graph, "_ftz_explorer_indexes", None) or {}
            if kind_name not in cached:
                cached = {**cached, kind_name: build_index(graph, KINDS[kind_name])}
                graph._ftz_explorer_indexes = cached
    return cached[kind_name]


# ---------------------------------------------------------------------------------------------------
# The state of a view, read from and written to the URL


@dataclass
class State:
    kind: str
    filters: dict[str, list[str]]
    q: str = ""
    sort: str = "name"
    view: str = "table"
    page: int = 1
    lang: str | None = None      # only when the URL carries it

    def pairs(self, index: Index, **changes) -> list[tuple[str, str]]:
        """The URL parameters of this state with `changes` applied, in a canonical order, defaults left out."""
        filters = changes.pop("filters", self.filters)
        merged = {"q": self.q, "sort": self.sort, "view": self.view, "page": self.page, "lang": self.lang, **changes}
        out = [(key, v) for key in index.facets for v in filters.get(key, [])]
        defaults = {"q": "", "sort": "name", "view": "table", "page": 1, "lang": None, "format": None}
        for key in ("q", "sort", "view", "page", "lang", "format"):
            value = merged.get(key)
            if value is not None and value != defaults[key]:
                out.append((key, str(value)))
        return out

    def url(self, index: Index, **changes) -> str:
        pairs = self.pairs(index, **changes)
        path = "/explore" if self.kind == "measures" else f"/explore/{self.kind}"
        return path + ("?" + urlencode(pairs) if pairs else "")


def parse_state(kind_name: str, params: list[tuple[str, str]], index: Index) -> tuple[State, str | None]:
    """The state a URL asks for and the download format, or BadParameter naming what is wrong."""
    filters: dict[str, list[str]] = {}
    singles: dict[str, str] = {}
    for key, value in params:
        if key in index.facets:
            if value not in index.facets[key].values:
                raise BadParameter(key, value)
            if value not in filters.setdefault(key, []):
                filters[key].append(value)
        elif key in STATE_PARAMETERS:
            if key in singles and singles[key] != value:
                raise BadParameter(key, value)
            singles[key] = value
        else:
            raise BadParameter(key, value)
    sort = singles.get("sort", "name")
    if sort not in SORTS:
        raise BadParameter("sort", sort)
    view = singles.get("view", "table")
    if view not in VIEWS:
        raise BadParameter("view", view)
    fmt = singles.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise BadParameter("format", fmt)
    page_text = singles.get("page", "1")
    if not page_text.isascii() or not page_text.isdigit() or not 1 <= int(page_text) <= 10 ** 6:
        raise BadParameter("page", page_text)
    lang = singles.get("lang")
    if lang is not None and lang not in pages.LANGS:
        raise BadParameter("lang", lang)
    q = singles.get("q", "")
    if len(q) > 200:
        raise BadParameter("q", q[:20] + "…")
    for values in filters.values():
        values.sort()
    return State(kind_name, filters, q.strip(), sort, view, int(page_text), lang), fmt


# ---------------------------------------------------------------------------------------------------
# Selection, counts and rows


def text_matches(text: str, query: str) -> bool:
    """Whether an item's searchable text (names in both languages, alternative names, descriptions,
    casefolded) contains every word of the query. The one place the explorer matches text: issue 21
    replaces it with an index."""
    return all(word in text for word in query.casefold().split())


def select(index: Index, state: State) -> list[Item]:
    return [item for item in index.items
            if all(set(values) <= item.values[key] for key, values in state.filters.items())
            and text_matches(item.text, state.q)]


def _zone_key(item: Item, index: Index, lang: str) -> tuple:
    zones = index.facets.get("zone")
    labels = sorted(zones.values[z].brief(lang).casefold() for z in item.leaves.get("zone", ())) if zones else []
    return (0, labels[0]) if labels else (1, "")


def ordered(items: list[Item], index: Index, state: State, lang: str) -> list[Item]:
    def by_name(item):
        return (item.name(lang).casefold(), item.href)
    if state.sort == "zone":
        return sorted(items, key=lambda i: (_zone_key(i, index, lang), by_name(i)))
    if state.sort == "places":
        return sorted(items, key=lambda i: (-len(i.places), by_name(i)))
    return sorted(items, key=by_name)


def counts(items: list[Item], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        for value in item.values.get(key, ()):
            out[value] = out.get(value, 0) + 1
    return out


def facet_views(index: Index, state: State, selection: list[Item], lang: str) -> list[dict]:
    """Each facet as the page shows it: values with their count in the selection and the link that
    adds or removes them; tree facets nested."""
    from ftz_kg.web.catalogue import strings
    ui = strings()[lang]
    out = []
    for key, facet in index.facets.items():
        tally = counts(selection, key)
        chosen = set(state.filters.get(key, []))

        def toggle(value_id):
            current = state.filters.get(key, [])
            new = [v for v in current if v != value_id] if value_id in chosen else current + [value_id]
            return state.url(index, filters={**state.filters, key: sorted(new)}, page=1)

        shown = [v for v in facet.values.values() if tally.get(v.id) or v.id in chosen]

        def node(value: Value) -> dict:
            children = [c for c in shown if c.parent == value.id]
            return {"id": value.id, "label": value.brief(lang), "count": tally.get(value.id, 0),
                    "selected": value.id in chosen, "href": toggle(value.id),
                    "children": [node(c) for c in sort_values(children, facet, tally, lang)]}
        roots = [v for v in shown if v.parent is None or v.parent not in facet.values]
        out.append({"key": key, "label": ui[facet.spec.label], "tree": facet.tree,
                    "entries": [node(v) for v in sort_values(roots, facet, tally, lang)],
                    "open": bool(chosen) or key in index.kind.open,
                    "selected": len(chosen)})
    return out


def sort_values(values: list[Value], facet: Facet, tally: dict[str, int], lang: str) -> list[Value]:
    """Trees in the report's order, flat facets by count (as CKAN), ties by label."""
    if facet.tree or facet.spec.source == "units":
        return sorted(values, key=lambda v: (v.order, v.brief(lang)))
    return sorted(values, key=lambda v: (-tally.get(v.id, 0), v.brief(lang)))


def cell(index: Index, item: Item, key: str, lang: str) -> list[dict]:
    """The values an item links to itself in a facet, as terms (text, href)."""
    facet = index.facets.get(key)
    if facet is None:
        return []
    shown = [facet.values[v] for v in item.leaves.get(key, ())]
    return [{"text": v.brief(lang), "href": v.href, "lang": None} for v in sorted(shown, key=lambda v: v.brief(lang))]


def bars(index: Index, selection: list[Item], key: str, lang: str) -> list[dict]:
    """The selection counted by a facet's top-level values (largest first), widths relative to the largest."""
    from ftz_kg.web.catalogue import strings
    facet = index.facets.get(key)
    if facet is None:
        return []
    tally = counts(selection, key)
    tops = [v for v in facet.values.values() if v.parent is None and tally.get(v.id)]
    rows = [{"label": v.brief(lang), "href": v.href, "count": tally[v.id]} for v in tops]
    without = sum(1 for item in selection if not item.values.get(key))
    if without:
        rows.append({"label": strings()[lang]["explore_none"], "href": None, "count": without})
    rows.sort(key=lambda r: (-r["count"], r["label"]))
    top = max((r["count"] for r in rows), default=0)
    for r in rows:
        r["width"] = round(100 * r["count"] / top, 1) if top else 0
    return rows


def zone_counts(index: Index, selection: list[Item]) -> dict[URIRef, int]:
    """The selection counted by zone, keyed by the zone's IRI (what a map shades)."""
    facet = index.facets.get("zone")
    if facet is None:
        return {}
    return {URIRef(BASE + v.href.lstrip("/")): n for v_id, n in counts(selection, "zone").items()
            for v in [facet.values[v_id]]}


# ---------------------------------------------------------------------------------------------------
# The page


def _china_map(graph: Graph, index: Index, state: State, selection: list[Item], lang: str, caption: str):
    """The map of the selection by zone (ftz_kg/web/chinamap.py, templates/map.html), each zone linking
    to this view narrowed to it; None while the map module or its template is missing."""
    from ftz_kg.web.rendering import TEMPLATES
    try:
        from ftz_kg.web import chinamap
    except ImportError:
        return None
    if not (TEMPLATES / "map.html").exists():
        return None
    zones = index.facets.get("zone")

    def narrowed(zone: URIRef) -> str:
        zone_id = _value_id(zone)
        if zones is None or zone_id not in zones.values or zone_id in state.filters.get("zone", []):
            return pages.local(zone)
        return state.url(index, filters={**state.filters, "zone": sorted(state.filters.get("zone", []) + [zone_id])},
                         page=1)
    return chinamap.selection_map(graph, zone_counts(index, selection), lang, caption, link=narrowed)


async def handle(request):
    """GET /explore (measures) and /explore/experiences: the page, or with format=csv|xlsx its download."""
    import anyio.to_thread
    from starlette.responses import HTMLResponse, Response

    from ftz_kg.web.linkeddata import Busy, _busy, _lang, _respond, rendered

    kind_name = request.path_params.get("kind", "measures")
    lang, extra = _lang(request)
    graph: Graph = request.app.state.graph
    if kind_name not in KINDS:
        return HTMLResponse(pages.error_page(404, "no such explorer", lang), 404)
    params = list(request.query_params.multi_items())
    index = await anyio.to_thread.run_sync(index_of, graph, kind_name)
    try:
        state, fmt = parse_state(kind_name, params, index)
    except BadParameter as bad:
        from ftz_kg.web.catalogue import strings
        known = bad.parameter in index.facets or bad.parameter in STATE_PARAMETERS
        message = strings()[lang]["explore_bad_parameter" if known else "explore_unknown_parameter"].format(
            parameter=bad.parameter, value=bad.value)
        return HTMLResponse(pages.error_page(400, message, lang), 400)
    if fmt is not None:
        body, media_type = await anyio.to_thread.run_sync(download, graph, state, lang, fmt)
        disposition = {"Content-Disposition": f'attachment; filename="{file_name(state, fmt)}"'}
        if fmt == "csv":
            return _respond(request, body, media_type, disposition, extra.get("set_cookie"))
        return Response(body, 200, media_type=media_type, headers=disposition)
    # every parameter is part of the key (the language too: it may come from the cookie)
    key = ("/explore", kind_name, lang, tuple(params))
    try:
        body = await rendered(request, key, lambda: explore_page(graph, state, lang))
    except Busy:
        return _busy()
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))


def explore_page(graph: Graph, state: State, lang: str) -> str:
    from ftz_kg.web.catalogue import strings
    ui = strings()[lang]
    index = index_of(graph, state.kind)
    kind = index.kind
    selection = ordered(select(index, state), index, state, lang)
    pages_total = max(1, math.ceil(len(selection) / PAGE_SIZE))
    page = min(state.page, pages_total)
    shown = selection[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    columns = [{"key": key, "label": ui[index.facets[key].spec.label]} for key in kind.columns if key in index.facets]
    rows = [{"name": item.name(lang), "href": item.href,
             "other": item.name("en" if lang == "zh" else "zh"),
             "cells": [cell(index, item, c["key"], lang) for c in columns], "places": len(item.places)}
            for item in shown]
    chips = [{"facet": ui[index.facets[key].spec.label],
              "label": " › ".join(index.facets[key].values[p].brief(lang) for p in index.facets[key].path(v)),
              "href": state.url(index, filters={**state.filters, key: [x for x in values if x != v]}, page=1)}
             for key, values in state.filters.items() for v in values]
    charts = []
    if state.view == "chart":
        for key in kind.chart_by:
            if key in index.facets:
                charts.append({"title": ui[f"explore_chart_{key}"], "heading": ui[f"explore_chart_{key}_heading"],
                               "rows": bars(index, selection, key, lang)})
    zone_rows, china_map = [], None
    if state.view == "map":
        zone_rows = bars(index, selection, "zone", lang)
        china_map = _china_map(graph, index, state, selection, lang, ui[f"explore_map_count_{kind.name}"])
    kinds = [{"name": name, "label": ui[k.title], "href": "/explore" if name == "measures" else f"/explore/{name}",
              "current": name == kind.name} for name, k in KINDS.items()]
    # the search form carries the filters, sort, view and language: searching keeps them
    hidden = state.pairs(index, q="", page=1)
    return render(
        "explore.html", **pages._shell(lang, "/explore" if kind.name == "measures" else f"/explore/{kind.name}",
                                       ui[kind.title], params=state.pairs(index), section="explore",
                                       description=ui["explore_description"]),
        kinds=kinds, state=state, facets=facet_views(index, state, selection, lang), chips=chips,
        total=len(index.items), count=len(selection), rows=rows, columns=columns, page=page, pages_total=pages_total,
        previous=state.url(index, page=page - 1) if page > 1 else None,
        next=state.url(index, page=page + 1) if page < pages_total else None,
        sorts=[{"value": s, "label": ui[f"explore_sort_{s}"], "href": state.url(index, sort=s, page=1)} for s in SORTS],
        views=[{"value": v, "label": ui[f"explore_view_{v}"], "href": state.url(index, view=v)} for v in VIEWS],
        hidden=hidden, clear=state.url(index, filters={}, q="", page=1),
        downloads=[{"format": f, "href": state.url(index, page=1, format=f)} for f in FORMATS],
        charts=charts, zone_rows=zone_rows, china_map=china_map)


# ---------------------------------------------------------------------------------------------------
# Downloads: the whole selection (all pages), labels rather than IRIs, headers in the page language


def table_rows(graph: Graph, state: State, lang: str) -> tuple[list[str], list[list[str]]]:
    from ftz_kg.web.catalogue import strings
    ui = strings()[lang]
    index = index_of(graph, state.kind)
    selection = ordered(select(index, state), index, state, lang)
    keys = [key for key in index.facets]
    headers = [ui["explore_col_name_zh"], ui["explore_col_name_en"]] + \
        [ui[index.facets[k].spec.label] for k in keys] + \
        [ui["explore_col_places"], ui["explore_col_place_count"], ui["explore_col_description"], "IRI"]

    def joined(item: Item, key: str) -> str:
        facet = index.facets[key]
        if key == "place":
            return ""   # the places themselves have a column of their own
        return "; ".join(sorted(" › ".join(facet.values[p].label(lang) for p in facet.path(v))
                                for v in item.leaves.get(key, ())))
    place_column = keys.index("place") if "place" in keys else None
    if place_column is not None:   # the part/table facet repeats the places column: leave it out
        del headers[2 + place_column]
        keys.remove("place")
    rows = []
    for item in selection:
        description = item.descriptions.get(lang) or item.descriptions.get("en" if lang == "zh" else "zh", "")
        rows.append([item.names.get("zh", ""), item.names.get("en", "")] + [joined(item, k) for k in keys] +
                    ["; ".join(item.place_labels[lang]), str(len(item.places)), description, str(item.node)])
    return headers, rows


def file_name(state: State, fmt: str) -> str:
    return f"ftz-kg-{state.kind}.{fmt}"


def as_csv(headers: list[str], rows: list[list[str]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Chinese text as such."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(headers: list[str], rows: list[list[str]], sheet: str) -> bytes:
    import xlsxwriter
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_urls": False,
                                            "strings_to_numbers": False, "strings_to_formulas": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, headers, bold)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value.isdigit() and column == len(row) - 3:
                worksheet.write_number(number, column, int(value))
            else:
                worksheet.write_string(number, column, value)
    worksheet.freeze_panes(1, 0)
    worksheet.set_column(0, 1, 40)
    worksheet.set_column(2, len(headers) - 1, 24)
    workbook.close()
    return buffer.getvalue()


def download(graph: Graph, state: State, lang: str, fmt: str) -> tuple[bytes, str]:
    """The bytes and media type of the view's download."""
    from ftz_kg.web.catalogue import strings
    headers, rows = table_rows(graph, state, lang)
    if fmt == "csv":
        return as_csv(headers, rows), "text/csv"
    title = strings()[lang][KINDS[state.kind].title]
    return as_xlsx(headers, rows, title), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
