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

LANGS = ("zh", "en")
UI = {
    "zh": {"home": "首页", "sparql": "SPARQL 查询", "api": "示例查询", "alt": "别名", "definition": "定义",
           "description": "描述", "source": "出处", "incoming": "被以下实体引用", "properties": "属性",
           "search": "搜索", "downloads": "下载", "zones": "自贸试验区（按设立批次）", "taxonomy": "制度创新分类",
           "agencies": "负责单位", "note": "出处说明", "switch": "English", "graph": "关系图（点击节点展开）",
           "browse": "浏览", "filter": "筛选", "stated": "出处", "name_stated": "名称出处", "lines": "行", "line": "行", "conflict": "报告表述不一致",
           "not_followed": "本图谱未采用的报告表述", "places": "处出处",
           "figures": "报告中的数据", "indicator": "指标", "period": "时期", "value": "数值", "quote": "原文",
           "chart": "金额类数据（换算为元）", "events": "大事", "date": "日期", "initiatives": "第一部分所述举措",
           "strategies": "服务的国家战略"},
    "en": {"home": "Home", "sparql": "SPARQL query", "api": "Canned queries", "alt": "Also called",
           "definition": "Definition", "description": "Description", "source": "Source in the report",
           "incoming": "Linked from", "properties": "Properties", "search": "Search", "downloads": "Downloads",
           "zones": "Pilot free trade zones by establishment batch", "taxonomy": "Innovation taxonomy",
           "agencies": "Responsible units", "note": "Source note", "switch": "中文",
           "graph": "Neighbourhood (click a node to expand it)", "browse": "Browse", "filter": "Filter",
           "stated": "Where stated", "name_stated": "Where this name is stated", "lines": "lines", "line": "line", "conflict": "the report contradicts itself",
           "not_followed": "Readings of the report the graph does not follow", "places": "places",
           "figures": "Figures in the report", "indicator": "Indicator", "period": "Period", "value": "Value",
           "quote": "Printed as", "chart": "Amounts (in yuan)", "events": "Events", "date": "Date",
           "initiatives": "Initiatives described in Part 1", "strategies": "National strategies served"},
}
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
    return labels.get(lang) or labels.get(other) or (str(node).rsplit("/", 1)[-1].rsplit("#", 1)[-1])


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


def _shell(lang: str, path: str, title: str, alternates=()) -> dict:
    """What every page's frame (base.html) needs."""
    return {"lang": lang, "other_lang": "en" if lang == "zh" else "zh", "ui": UI[lang], "path": path,
            "title": title, "alternates": list(alternates)}


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
    ui = UI[lang]
    title = label(graph, node, lang)
    other_lang = "en" if lang == "zh" else "zh"
    texts = []
    for predicate, heading in ((SKOS.definition, ui["definition"]), (DCTERMS.description, ui["description"])):
        by_lang = {l.language: str(l) for l in graph.objects(node, predicate)}
        if by_lang:
            texts.append((heading, by_lang.get(lang) or by_lang.get(other_lang) or ""))

    def cited(predicate, value) -> dict:
        shown = term(graph, value, lang)
        shown["cite"] = where_stated(graph, node, predicate, value, lang)
        return shown

    skip = {RDF.type, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, SKOS.definition, DCTERMS.description}
    properties = []
    for predicate in sorted({p for p in graph.predicates(node) if p not in skip}, key=str):
        values = sorted(graph.objects(node, predicate), key=lambda o: label(graph, o, lang) if isinstance(o, URIRef)
                        else str(o))
        properties.append((term(graph, predicate, lang), [cited(predicate, v) for v in values]))
    incoming: dict = {}
    # figures and events have sections of their own
    shown_elsewhere = {FTZ.refArea, FTZ.refSubject}
    for subject, predicate in graph.subject_predicates(node):
        if (isinstance(subject, URIRef) and predicate != RDF.type and not is_claim_node(subject)
                and predicate not in shown_elsewhere and (subject, RDF.type, FTZ.DatedEvent) not in graph):
            incoming.setdefault(predicate, set()).add(subject)
    figures = figures_of(graph, node, lang)
    events = events_of(graph, node, lang)
    initiatives = part1_initiatives(graph, node, lang)
    names = [cited(SKOS.prefLabel, l) for l in sorted(graph.objects(node, SKOS.prefLabel), key=str)]
    alts = [cited(SKOS.altLabel, l) for l in sorted(graph.objects(node, SKOS.altLabel), key=str)]
    not_followed = []
    for statement in sorted(graph.subjects(FTZ.statementSubject, node), key=str):
        if graph.value(statement, FTZ.rank) == FTZ.DeprecatedRank:
            predicate, value = graph.value(statement, FTZ.statementProperty), graph.value(statement, FTZ.statementValue)
            not_followed.append((term(graph, predicate, lang), cited(predicate, value)))
    conflicts = [term(graph, c, lang) for c in sorted(graph.subjects(FTZ.conflictAbout, node), key=str)]
    return render(
        "entity.html", **_shell(lang, path, title, alternates), other_title=label(graph, node, other_lang),
        iri=str(node), types=[term(graph, t, lang) for t in sorted(graph.objects(node, RDF.type), key=str)],
        texts=texts, names=names, alts=alts, not_followed=not_followed, conflicts=conflicts,
        properties=properties, figures=figures, chart=money_chart(figures, lang), events=events,
        initiatives=initiatives,
        incoming=[(term(graph, predicate, lang),
                   [term(graph, s, lang) for s in sorted(incoming[predicate], key=lambda s: label(graph, s, lang))])
                  for predicate in sorted(incoming, key=str)])


def neighbourhood(graph: Graph, node: URIRef, lang: str) -> list[dict]:
    """Cytoscape.js elements: the node, the entities it links to or is linked from, and those links."""
    def is_entity(term) -> bool:
        return isinstance(term, URIRef) and str(term).startswith(BASE) and "/def" not in str(term) \
            and not is_claim_node(term) and (term, RDF.type, None) in graph

    def element(term) -> dict:
        return {"data": {"id": str(term), "label": label(graph, term, lang), "href": local(term)}}

    elements = {str(node): element(node)}
    edges = []
    for p, o in graph.predicate_objects(node):
        if p != RDF.type and is_entity(o):
            elements.setdefault(str(o), element(o))
            edges.append((node, p, o))
    for s, p in graph.subject_predicates(node):
        if is_entity(s):
            elements.setdefault(str(s), element(s))
            edges.append((s, p, node))
    out = list(elements.values())
    for s, p, o in sorted(edges, key=str):
        out.append({"data": {"id": f"{s} {p} {o}", "source": str(s), "target": str(o),
                             "label": label(graph, p, lang)}})
    return out


def browse_page(graph: Graph, cls: URIRef, lang: str, sort: str | None, filters: dict[str, str]) -> str:
    """A table of the instances of a class, one column per linking property; sortable and filterable
    with plain links and a GET form (no JavaScript needed)."""
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    nodes = sorted({s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}, key=str)
    skip = {RDF.type, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, SKOS.definition, DCTERMS.description,
            FTZ.source, SKOS.inScheme, SKOS.topConceptOf, SKOS.narrower}
    predicates = sorted({p for n in nodes for p, o in graph.predicate_objects(n)
                         if p not in skip and isinstance(o, URIRef)}, key=str)
    names = {str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1]: p for p in predicates}
    for key, value in filters.items():
        if key in names:
            nodes = [n for n in nodes if any(local(o) == value or str(o) == value for o in graph.objects(n, names[key]))]
    def cell(n, p):
        return sorted(label(graph, o, lang) for o in graph.objects(n, p))
    rows = [(n, label(graph, n, lang), {k: cell(n, p) for k, p in names.items()}) for n in nodes]
    if sort in names:
        rows.sort(key=lambda r: ("; ".join(r[2][sort]) or "\uffff", r[1]))
    else:
        rows.sort(key=lambda r: r[1])
    selects = []
    for key, p in names.items():
        options = sorted({(local(o), label(graph, o, lang)) for n in nodes for o in graph.objects(n, p)
                          if isinstance(o, URIRef)}, key=lambda x: x[1])
        if 1 < len(options) <= 60:
            selects.append({"key": key, "label": label(graph, p, lang), "options": options,
                            "selected": filters.get(key)})
    title = label(graph, cls, lang)
    return render("browse.html", **_shell(lang, f"/browse/{str(cls).rsplit('#', 1)[-1]}", title), selects=selects,
                  columns=[(k, label(graph, p, lang)) for k, p in names.items()],
                  rows=[(local(n), lbl, ["; ".join(v[k]) for k in names]) for n, lbl, v in rows])


def home_page(graph: Graph, lang: str, counts: list[tuple[str, int]]) -> str:
    zones_by_batch: dict[int, list] = {}
    for zone in graph.subjects(RDF.type, FTZ.PilotFreeTradeZone):
        batch = graph.value(zone, FTZ.establishedInBatch)
        zones_by_batch.setdefault((int(graph.value(batch, FTZ.ordinal)), str(graph.value(batch, FTZ.year)), batch),
                                  []).append(zone)

    def tree(node) -> dict:
        return {"term": term(graph, node, lang),
                "children": [tree(c) for c in sorted(graph.subjects(SKOS.broader, node), key=str)]}
    domains = sorted(graph.subjects(RDF.type, FTZ.InnovationDomain), key=str)
    agencies = sorted({a for t in (FTZ.GovernmentAgency, FTZ.PartyOrgan, FTZ.JudicialOrgan, FTZ.StateOwnedEnterprise)
                       for a in graph.subjects(RDF.type, t)}, key=lambda a: label(graph, a, lang))
    intro = ("本图谱整理自《中国自由贸易试验区发展报告（2021）》（商务部研究院），涵盖 21 个自贸试验区、片区、制度创新举措、"
             "制度创新分类以及 2020 年复制推广的 37 项改革试点经验，每一事实均注明其在报告中的出处。"
             if lang == "zh" else
             "A linked-data knowledge graph curated from the China Pilot Free Trade Zone Development Report (2021) "
             "by the research academy of the Ministry of Commerce: the 21 pilot free trade zones, their sub-areas, "
             "their institutional innovation measures, the innovation taxonomy and the 37 reform experiences "
             "promoted in 2020, every fact traced to its place in the report.")
    return render(
        "home.html", **_shell(lang, "/", "ftz-kg"), intro=intro, counts=counts,
        batches=[(term(graph, batch, lang), year,
                  [term(graph, z, lang) for z in sorted(zones, key=lambda z: label(graph, z, lang))])
                 for (ordinal, year, batch), zones in sorted(zones_by_batch.items(), key=lambda kv: kv[0][0])],
        taxonomy=[tree(d) for d in domains], agencies=[term(graph, a, lang) for a in agencies],
        browse=[(name, label(graph, FTZ[name], lang))
                for name in ("PilotFreeTradeZone", "SubArea", "InnovationMeasure", "ReplicableExperience",
                             "ResponsibleUnit", "InnovationConcept", "NationalStrategy", "Theme")],
        dumps=("ftz-kg.ttl", "ftz-kg.nt", "ftz-kg.jsonld", "ftz-kg.rdf", "ftz-kg.trig", "ftz-kg.graphml",
               "ftz-kg.gexf", "ftz-kg.cyjs", "ftz-kg-csv.zip"))


def search(graph: Graph, text: str) -> list[URIRef]:
    """Entities any of whose labels contains the text (case-insensitive), best matches first."""
    needle = text.strip().casefold()
    if not needle:
        return []
    hits = {}
    for predicate in (SKOS.prefLabel, SKOS.altLabel):
        for subject, name in graph.subject_objects(predicate):
            if isinstance(subject, URIRef) and str(subject).startswith(BASE) and needle in str(name).casefold():
                score = 0 if str(name).casefold() == needle else 1
                hits[subject] = min(hits.get(subject, 2), score)
    return sorted(hits, key=lambda s: (hits[s], str(s)))


def search_page(graph: Graph, text: str, lang: str) -> str:
    results = search(graph, text)
    return render("search.html", **_shell(lang, "/search", text), text=text, count=len(results),
                  results=[(term(graph, r, lang), label(graph, graph.value(r, RDF.type), lang)) for r in results[:200]])


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
