"""HTML pages for people: entity pages and the home page, rendered on the server (no JavaScript
needed to read them). Every IRI under our base is linked as a local path, so browsing a local
server never leaves it."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS

from ftz_kg.pipeline.export import CLAIM_PATHS
from ftz_kg.pipeline.statements import statement_iri
from ftz_kg.web.rendering import render
from ftz_kg.vocab import BASE, FTZ, QB

from ftz_kg.web.catalogue import LANGS, strings

UI = strings()


def local(iri) -> str:
    """The local path of an IRI under our base (so links stay on this server), else the IRI."""
    text = str(iri)
    return "/" + text[len(BASE):] if text.startswith(BASE) else text


def link_target(iri) -> str | None:
    """Where a link to this IRI goes: a local path for ours, the IRI itself for other http(s) IRIs,
    and nothing for any other scheme (`javascript:`, `data:` … never become links)."""
    text = str(iri)
    if text.startswith(BASE):
        return local(text)
    return text if text.lower().startswith(("http://", "https://")) else None


def label(graph: Graph, node, lang: str) -> str:
    labels = {l.language: str(l) for l in graph.objects(node, SKOS.prefLabel) if isinstance(l, Literal)}
    labels.update({l.language: str(l) for l in graph.objects(node, RDFS.label) if isinstance(l, Literal)
                   and l.language not in labels})
    other = "en" if lang == "zh" else "zh"
    # the page's language, then the other, then an untagged name, then the IRI's last segment
    return labels.get(lang) or labels.get(other) or labels.get(None) or (str(node).rsplit("/", 1)[-1].rsplit("#", 1)[-1])


def term(graph: Graph, value, lang: str) -> dict:
    """A term as the templates show it (macros.html `term`): its text, a link target, a language tag."""
    if isinstance(value, URIRef):
        return {"text": label(graph, value, lang), "href": link_target(value), "lang": None}
    if isinstance(value, Literal):
        return {"text": str(value), "href": None, "lang": value.language}
    return {"text": str(value), "href": None, "lang": None}


def is_claim_node(node) -> bool:
    """A statement, citation, conflict or reading: shown as the marker beside the value it is
    about, never as an entity "linking" to it."""
    return str(node).startswith(CLAIM_PATHS)


def where_stated(graph: Graph, subject, predicate, value, lang: str) -> dict | None:
    """The marker beside a value: the places that state it (place, lines, quote) and any conflict."""
    statement = statement_iri(subject, predicate, value)
    if (statement, RDF.type, FTZ.Statement) not in graph:
        return None
    ui = UI[lang]
    citations = citation_texts(graph, graph.objects(statement, PROV.wasDerivedFrom), lang)
    conflicts = [term(graph, c, lang) for c in sorted(graph.objects(statement, FTZ.disputedIn), key=str)]
    summary = "; ".join(filter(None, (" ".join(filter(None, (c["place"]["text"], c["lines"]))) +
                                      (f" «{c['quote']}»" if c["quote"] else "") for c in citations)))
    return {"citations": citations, "conflicts": conflicts, "summary": summary, "count": len(citations),
            "label": ui["stated"], "conflict_label": ui["conflict"],
            "deprecated": graph.value(statement, FTZ.rank) == FTZ.DeprecatedRank}


NAV = (("/", "home"), ("/explore", "explore"), ("/compare", "compare"), ("/browse", "browse"), ("/api", "queries"),
       ("/sparql", "sparql"))


def switch_href(path: str, lang: str, params=()) -> str:
    """The same page in the other language, keeping its query (search text, filters, sort)."""
    from urllib.parse import urlencode
    other = "en" if lang == "zh" else "zh"
    kept = [(k, v) for k, v in params if k != "lang"]
    return path + "?" + urlencode(kept + [("lang", other)])


def _shell(lang: str, path: str, title: str, alternates=(), *, params=(), section: str | None = None,
           description: str | None = None, search_text: str = "") -> dict:
    """What every page's frame (base.html) needs: `params` are the query parameters the language
    switch keeps, `section` the navigation entry marked current."""
    return {"lang": lang, "other_lang": "en" if lang == "zh" else "zh", "ui": UI[lang], "path": path,
            "title": title, "alternates": list(alternates), "nav": NAV, "section": section,
            "switch_href": switch_href(path, lang, params), "description": description, "search_text": search_text}


def error_page(status: int, message: str, lang: str) -> str:
    return render("error.html", **_shell(lang, "/", str(status)), status=status, message=message)


def citation_texts(graph: Graph, citations, lang: str) -> list[dict]:
    """Citations as a page shows them (place, lines, quote), in the report's order."""
    ui = UI[lang]
    out = []
    for citation in citations:
        first, last = graph.value(citation, FTZ.firstLine), graph.value(citation, FTZ.lastLine)
        lines = "" if first is None else (f"{ui['line']} {first}" if first == last else f"{ui['lines']} {first}–{last}")
        quote = graph.value(citation, FTZ.quote)
        out.append({"place": term(graph, graph.value(citation, FTZ.place), lang), "lines": lines,
                    "quote": "" if quote is None else str(quote), "order": int(first) if first is not None else 10 ** 9})
    return sorted(out, key=lambda c: (c["order"], c["place"]["text"]))


def printed(value) -> str:
    """A decimal as the report prints it: Turtle writes 15 as 15.0, the report does not."""
    text = str(value)
    return text[:-2] if text.endswith(".0") else text


def unit_symbol(graph: Graph, unit, lang: str) -> str:
    """A unit as the report prints it beside a number (%, 亿元); in English its name."""
    symbol = graph.value(unit, SKOS.notation)
    return str(symbol) if symbol is not None and (lang == "zh" or not str(symbol).isalnum()) else label(graph, unit, lang)


def figures_of(graph: Graph, node: URIRef, lang: str) -> list[dict]:
    """The figures about an area (itself, its sub-areas and its measures) or a measure, in report order."""
    observations = set(graph.subjects(FTZ.refArea, node)) | set(graph.subjects(FTZ.refSubject, node))
    for part in graph.subjects(FTZ.partOfZone, node):
        observations |= set(graph.subjects(FTZ.refArea, part))
    for measure in graph.objects(node, FTZ.originOf):
        observations |= set(graph.subjects(FTZ.refSubject, measure))
    rows = []
    for obs in observations:
        if (obs, RDF.type, QB.Observation) not in graph:
            continue
        value, unit = graph.value(obs, FTZ.obsValue), graph.value(obs, FTZ.unit)
        qualifier = graph.value(obs, FTZ.valueQualifier)
        subject = graph.value(obs, FTZ.refSubject)
        citations = citation_texts(graph, graph.objects(obs, PROV.wasDerivedFrom), lang)
        rows.append({
            "observation": term(graph, obs, lang), "indicator": term(graph, graph.value(obs, FTZ.indicator), lang),
            "about": term(graph, subject, lang) if subject != node else None,
            "period": str(graph.value(obs, FTZ.refPeriod)), "basis": label(graph, graph.value(obs, FTZ.periodBasis), lang),
            "qualifier": "" if qualifier is None or qualifier.endswith("/exact") else label(graph, qualifier, lang),
            "value": printed(value), "unit": unit_symbol(graph, unit, lang), "citations": citations,
            "base_value": graph.value(obs, FTZ.valueInBaseUnit), "base_unit": graph.value(unit, FTZ.baseUnit),
            "order": citations[0]["order"] if citations else 10 ** 9})
    rows.sort(key=lambda r: (r["order"], r["indicator"]["text"]))
    return rows


def money_chart(rows: list[dict], lang: str) -> list[dict]:
    """Bars for the figures that are amounts of money in yuan (the one base unit that is comparable
    across indicators), largest first; widths in per cent of the largest."""
    amounts = [r for r in rows if r["base_unit"] is not None and str(r["base_unit"]).endswith("/yuan")
               and r["base_value"] is not None and float(r["base_value"]) > 0]
    amounts.sort(key=lambda r: -float(r["base_value"]))
    amounts = amounts[:15]
    if len(amounts) < 2:
        return []
    top = float(amounts[0]["base_value"])
    return [{"label": f"{r['indicator']['text']} ({', '.join(filter(None, (r['about'] and r['about']['text'], r['period'])))})",
             "text": f"{r['value']} {r['unit']}",
             "width": max(0.5, round(100 * float(r["base_value"]) / top, 1))} for r in amounts]


PART1 = URIRef(BASE + "source/part1")


def part1_initiatives(graph: Graph, node: URIRef, lang: str) -> list[dict]:
    """The zone's (or sub-area's) measures that Part 1 describes: its zone initiatives."""
    measures = set(graph.objects(node, FTZ.originOf)) | set(graph.subjects(FTZ.originatesInSubArea, node))
    found = []
    for measure in measures:
        for place in graph.objects(measure, FTZ.source):
            if PART1 in set(graph.transitive_objects(place, FTZ.withinSource)):
                found.append(term(graph, measure, lang))
                break
    return sorted(found, key=lambda t: t["text"])


def events_of(graph: Graph, node: URIRef, lang: str) -> list[dict]:
    events = set()
    for predicate in (PROV.atLocation, PROV.wasAssociatedWith, PROV.generated):
        events |= {s for s in graph.subjects(predicate, node) if (s, RDF.type, FTZ.DatedEvent) in graph}
    rows = [{"event": term(graph, e, lang), "date": str(graph.value(e, DCTERMS.date))} for e in events]
    return sorted(rows, key=lambda r: (r["date"], r["event"]["text"]))


def entity_page(graph: Graph, node: URIRef, lang: str, path: str, alternates) -> str:
    """An entity's fact sheet (ftz_kg/web/factsheet.py, imported here to avoid an import cycle)."""
    from ftz_kg.web.factsheet import entity_page as fact_sheet
    return fact_sheet(graph, node, lang, path, alternates)


BROWSE_SKIP = {RDF.type, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, SKOS.definition, DCTERMS.description,
               FTZ.source, SKOS.inScheme, SKOS.topConceptOf, SKOS.narrower, PROV.wasDerivedFrom}


class BadParameter(ValueError):
    """A query parameter a page cannot use: the message names it."""


def browse_table(graph: Graph, cls: URIRef, lang: str, sort: str | None, filters: dict[str, str]) -> dict:
    """The instances of a class, one column per linking property, filtered and sorted: the data of
    the browse page and of its CSV download. Sorting is by the linked entity's order where it has
    one (batch ordinal, year), else by label; `-key` sorts descending."""
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    nodes = sorted({s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}, key=str)
    predicates = sorted({p for n in nodes for p, o in graph.predicate_objects(n)
                         if p not in BROWSE_SKIP and isinstance(o, URIRef)}, key=str)
    names = {str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1]: p for p in predicates}
    for key, value in filters.items():
        if key not in names:
            raise BadParameter(f"unknown filter {key!r}; filters: {', '.join(sorted(names))}")
        nodes = [n for n in nodes if any(local(o) == value or str(o) == value for o in graph.objects(n, names[key]))]

    def order_key(o):
        for p in (FTZ.ordinal, FTZ.year):
            v = graph.value(o, p)
            if v is not None:
                return (0, int(v), label(graph, o, lang))
        return (1, 0, label(graph, o, lang))

    def cell(n, p):
        return sorted((o for o in graph.objects(n, p) if isinstance(o, URIRef)), key=order_key)
    rows = [{"node": n, "label": label(graph, n, lang), "cells": {k: cell(n, p) for k, p in names.items()}} for n in nodes]
    descending = bool(sort) and sort.startswith("-")
    key = sort[1:] if descending else sort
    if key and key not in names and key != "name":
        raise BadParameter(f"cannot sort by {key!r}; sort by: name, {', '.join(sorted(names))}")
    if key and key != "name":
        empty = (2, 0, "")
        rows.sort(key=lambda r: r["label"])
        rows.sort(key=lambda r: [order_key(o) for o in r["cells"][key]] or [empty], reverse=descending)
    else:
        rows.sort(key=lambda r: r["label"], reverse=descending)
    return {"rows": rows, "names": names}


def browse_page(graph: Graph, cls: URIRef, lang: str, sort: str | None, filters: dict[str, str]) -> str:
    """A table of the instances of a class, one column per linking property; sortable and filterable
    with plain links and a GET form (no JavaScript needed); the filters survive sorting and the sort
    survives filtering."""
    from urllib.parse import urlencode
    table = browse_table(graph, cls, lang, sort, filters)
    names, rows = table["names"], table["rows"]
    all_nodes = {s for c in set(graph.transitive_subjects(RDFS.subClassOf, cls)) for s in graph.subjects(RDF.type, c)}
    selects = []
    for key, p in names.items():
        options = sorted({(local(o), label(graph, o, lang)) for n in all_nodes for o in graph.objects(n, p)
                          if isinstance(o, URIRef)}, key=lambda x: x[1])
        if 1 < len(options) <= 80:
            selects.append({"key": key, "label": label(graph, p, lang), "options": options, "selected": filters.get(key)})
    kept = sorted(filters.items())
    current = key_of_sort = (sort or "").lstrip("-")

    def sort_href(key: str) -> str:
        # a second click on the sorted column reverses it
        chosen = ("-" + key) if (key == current and not (sort or "").startswith("-")) else key
        return "?" + urlencode(kept + [("sort", chosen), ("lang", lang)])
    columns = [{"key": k, "text": label(graph, p, lang), "href": sort_href(k),
                "sorted": ("descending" if (sort or "").startswith("-") else "ascending") if k == key_of_sort else None}
               for k, p in names.items()]
    name_column = {"text": UI[lang]["browse_name"], "href": sort_href("name"),
                   "sorted": ("descending" if (sort or "").startswith("-") else "ascending")
                   if key_of_sort in ("", "name") else None}
    cls_name = str(cls).rsplit("#", 1)[-1]
    params = kept + ([("sort", sort)] if sort else [])
    title = label(graph, cls, lang)
    return render("browse.html", **_shell(lang, f"/browse/{cls_name}", title, params=params, section="browse"),
                  selects=selects, columns=columns, name_column=name_column, count=len(rows),
                  csv_href=f"/browse/{cls_name}.csv?" + urlencode(params + [("lang", lang)]),
                  rows=[{"href": local(r["node"]), "name": r["label"],
                         "cells": [[term(graph, o, lang) for o in r["cells"][k]] for k in names]} for r in rows])


def browse_csv(graph: Graph, cls: URIRef, lang: str, sort: str | None, filters: dict[str, str]) -> bytes:
    """The browse table as CSV with labels (not IRIs) and readable headers, UTF-8 with a byte-order
    mark so that spreadsheet programs read the Chinese correctly; one IRI column to join on."""
    import csv
    import io
    table = browse_table(graph, cls, lang, sort, filters)
    names = table["names"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([UI[lang]["browse_name"], "IRI"] + [label(graph, p, lang) for p in names.values()])
    separator = "；" if lang == "zh" else "; "
    for r in table["rows"]:
        writer.writerow([r["label"], str(r["node"])] +
                        [separator.join(label(graph, o, lang) for o in r["cells"][k]) for k in names])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def browse_index_page(graph: Graph, lang: str) -> str:
    """The list of browsable classes with how many instances each has."""
    items = [{"href": f"/browse/{name}", "text": label(graph, FTZ[name], lang), "n": len(_instances(graph, FTZ[name]))}
             for name in BROWSABLE]
    return render("browse_index.html", **_shell(lang, "/browse", UI[lang]["browse"], section="browse"), items=items)


HOME_CARDS = (  # (class, catalogue key of its heading, where its card links)
    (FTZ.PilotFreeTradeZone, "card_zones", "/browse/PilotFreeTradeZone"), (FTZ.SubArea, "card_subareas", "/browse/SubArea"),
    (FTZ.InnovationMeasure, "card_measures", "/explore"),
    (FTZ.ReplicableExperience, "card_experiences", "/explore/experiences"),
    (FTZ.ResponsibleUnit, "card_units", "/browse/ResponsibleUnit"), (QB.Observation, "card_figures", "/browse/Indicator"),
    (FTZ.PolicyDocument, "card_documents", "/browse/PolicyDocument"), (FTZ.DatedEvent, "card_events", "/browse/DatedEvent"),
)


def _instances(graph: Graph, cls) -> set:
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    return {s for c in classes for s in graph.subjects(RDF.type, c)}


def home_cards(graph: Graph, lang: str) -> list[dict]:
    """The dashboard's figure cards: how many of each main kind of entity, each linking to its list."""
    return [{"n": len(_instances(graph, cls)), "text": UI[lang][key], "href": href} for cls, key, href in HOME_CARDS]


def establishment_timeline(graph: Graph, lang: str) -> list[dict]:
    """The six establishment batches 2013–2020, in order, with their zones."""
    batches = {}
    for zone in graph.subjects(RDF.type, FTZ.PilotFreeTradeZone):
        batch = graph.value(zone, FTZ.establishedInBatch)
        batches.setdefault(batch, []).append(zone)
    rows = []
    for batch, zones in batches.items():
        rows.append({"batch": term(graph, batch, lang), "year": str(graph.value(batch, FTZ.year)),
                     "ordinal": int(graph.value(batch, FTZ.ordinal)),
                     "zones": [term(graph, z, lang) for z in sorted(zones, key=lambda z: label(graph, z, lang))]})
    return sorted(rows, key=lambda r: r["ordinal"])


def top_units(graph: Graph, lang: str, limit: int = 10) -> list[dict]:
    """Responsible units ranked by the number of 2020 reform experiences they are named for, alone
    or jointly (the `agencies-ranked` query), as bars."""
    counts = {a: len(set(graph.objects(a, FTZ.responsibleFor))) for a in set(graph.subjects(FTZ.responsibleFor, None))}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], label(graph, kv[0], lang)))[:limit]
    top = ranked[0][1] if ranked else 1
    return [{"term": term(graph, a, lang), "n": n, "width": round(100 * n / top, 1)} for a, n in ranked]


def taxonomy_tree(graph: Graph, lang: str) -> list[dict]:
    """Domain → approach → point, each with the number of measures classified under it or below it."""
    direct: dict = {}
    for measure, concept in graph.subject_objects(FTZ.classifiedUnder):
        direct.setdefault(concept, set()).add(measure)

    def tree(node) -> dict:
        children = [tree(c) for c in sorted(graph.subjects(SKOS.broader, node), key=lambda c: label(graph, c, lang))]
        measures = set(direct.get(node, ()))
        for child in children:
            measures |= child["measures"]
        return {"term": term(graph, node, lang), "children": children, "measures": measures, "n": len(measures),
                "href": local(node)}
    return [tree(d) for d in sorted(graph.subjects(RDF.type, FTZ.InnovationDomain), key=str)]


def home_page(graph: Graph, lang: str, figures: dict | None = None) -> str:
    """The dashboard; `figures` as ftz_kg/web/dashboard.py computes and keeps them."""
    if figures is None:
        from ftz_kg.web.dashboard import compute
        figures = compute(graph, lang)
    intro = ("本图谱整理自《中国自由贸易试验区发展报告（2021）》（商务部研究院），涵盖 21 个自贸试验区、片区、制度创新举措、"
             "制度创新分类、报告中的数据以及 2020 年复制推广的 37 项改革试点经验，每一事实均注明其在报告中的出处。"
             if lang == "zh" else
             "A linked-data knowledge graph curated from the China Pilot Free Trade Zone Development Report (2021) "
             "by the research academy of the Ministry of Commerce: the 21 pilot free trade zones, their sub-areas, "
             "their institutional innovation measures, the innovation taxonomy, the report's figures and the 37 reform "
             "experiences promoted in 2020, every fact traced to its place in the report.")
    return render(
        "home.html", **_shell(lang, "/", UI[lang]["site_name"], section="home"), intro=intro,
        cards=figures["cards"], timeline=figures["timeline"], units=figures["units"], taxonomy=figures["taxonomy"],
        map=figures["map"],
        browse=[(name, label(graph, FTZ[name], lang)) for name in BROWSABLE],
        dumps=("ftz-kg.ttl", "ftz-kg.nt", "ftz-kg.jsonld", "ftz-kg.rdf", "ftz-kg.trig", "ftz-kg.graphml",
               "ftz-kg.gexf", "ftz-kg.cyjs", "ftz-kg-csv.zip"))


BROWSABLE = ("PilotFreeTradeZone", "SubArea", "ProvinceLevelDivision", "InnovationMeasure", "ReplicableExperience",
             "ResponsibleUnit", "InnovationConcept", "NationalStrategy", "Theme", "Indicator", "PolicyDocument",
             "DatedEvent", "ZoneGroup")


def search_hits(index, text: str, lang: str, limit: int) -> tuple[list, int]:
    """The text index's hits for the text (ftz_kg/search/textindex.py: every word, names first,
    each with its best passage cut into highlighted segments), at most `limit`, and how many there are."""
    return index.search_counted(text, lang, limit)


SEARCH_LIMIT = 200


def search_page(graph: Graph, index, text: str, lang: str) -> str:
    """Search results grouped by type (zones, measures, units …), best first within each group, each
    with its name and, when another text matched, that passage; the matches marked."""
    from ftz_kg.search.textindex import highlight
    hits, count = search_hits(index, text, lang, SEARCH_LIMIT)
    required, optional = index.words(text)
    groups: dict = {}
    for hit in hits:
        node = hit.node
        kind = graph.value(node, RDF.type)
        shown = label(graph, node, lang)
        group = groups.setdefault(kind, {"type": label(graph, kind, lang) if kind is not None else "", "hits": [],
                                         "order": len(groups)})
        group["hits"].append({"term": term(graph, node, lang), "name": highlight(shown, required + optional),
                              "matched": list(hit.segments) if hit.passage != shown else None,
                              "matched_lang": hit.lang, "field": hit.field})
    ordered = sorted(groups.values(), key=lambda g: g["order"])
    return render("search.html", **_shell(lang, "/search", f"{UI[lang]['search']}: {text}" if text else UI[lang]["search"],
                                          params=[("q", text)], search_text=text),
                  text=text, count=count, shown=len(hits), groups=ordered)


def ontology_page(graph: Graph, lang: str) -> str:
    """Human documentation of the ontology: every class and property with labels and definitions."""
    from rdflib.namespace import OWL
    sections = []
    for kind, heading in ((OWL.Class, "Classes · 类"), (OWL.ObjectProperty, "Object properties · 对象属性"),
                          (OWL.DatatypeProperty, "Datatype properties · 数据属性"),
                          (OWL.AnnotationProperty, "Annotation properties · 注释属性")):
        items = []
        for each in sorted(t for t in graph.subjects(RDF.type, kind) if str(t).startswith(BASE + "def#")):
            definitions = {d.language: str(d) for d in graph.objects(each, SKOS.definition)}
            items.append((str(each).split("#", 1)[1], label(graph, each, lang), definitions.get("en", ""),
                          definitions.get("zh", "")))
        sections.append((heading, items))
    return render("ontology.html", **_shell(lang, "/def", "ftz-kg ontology"), sections=sections)
