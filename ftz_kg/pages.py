"""HTML pages for people: entity pages and the home page, rendered on the server (no JavaScript
needed to read them). Every IRI under our base is linked as a local path, so browsing a local
server never leaves it."""

from __future__ import annotations

from html import escape

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from .vocab import BASE, FTZ

LANGS = ("zh", "en")
UI = {
    "zh": {"home": "首页", "sparql": "SPARQL 查询", "api": "示例查询", "alt": "别名", "definition": "定义",
           "description": "描述", "source": "出处", "incoming": "被以下实体引用", "properties": "属性",
           "search": "搜索", "downloads": "下载", "zones": "自贸试验区（按设立批次）", "taxonomy": "制度创新分类",
           "agencies": "负责单位", "note": "出处说明", "switch": "English", "graph": "关系图（点击节点展开）",
           "browse": "浏览", "filter": "筛选"},
    "en": {"home": "Home", "sparql": "SPARQL query", "api": "Canned queries", "alt": "Also called",
           "definition": "Definition", "description": "Description", "source": "Source in the report",
           "incoming": "Linked from", "properties": "Properties", "search": "Search", "downloads": "Downloads",
           "zones": "Pilot free trade zones by establishment batch", "taxonomy": "Innovation taxonomy",
           "agencies": "Responsible units", "note": "Source note", "switch": "中文",
           "graph": "Neighbourhood (click a node to expand it)", "browse": "Browse", "filter": "Filter"},
}
STYLE = """body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.5}
nav a{margin-right:1rem} dt{font-weight:bold;margin-top:.5rem} .iri{color:#666;font-size:.85em;word-break:break-all}
table{border-collapse:collapse} td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}"""


def local(iri) -> str:
    """The local path of an IRI under our base (so links stay on this server), else the IRI."""
    text = str(iri)
    return "/" + text[len(BASE):] if text.startswith(BASE) else text


def label(graph: Graph, node, lang: str) -> str:
    labels = {l.language: str(l) for l in graph.objects(node, SKOS.prefLabel) if isinstance(l, Literal)}
    labels.update({l.language: str(l) for l in graph.objects(node, RDFS.label) if isinstance(l, Literal)
                   and l.language not in labels})
    other = "en" if lang == "zh" else "zh"
    return labels.get(lang) or labels.get(other) or (str(node).rsplit("/", 1)[-1].rsplit("#", 1)[-1])


def _term(graph: Graph, term, lang: str) -> str:
    if isinstance(term, URIRef):
        return f'<a href="{escape(local(term))}">{escape(label(graph, term, lang))}</a>'
    if isinstance(term, Literal):
        tag = f' <small lang="{term.language}">@{term.language}</small>' if term.language else ""
        return escape(str(term)) + tag
    return escape(str(term))


def page(title: str, body: str, lang: str, path: str, alternates: list[tuple[str, str]] = ()) -> str:
    ui = UI[lang]
    other = "en" if lang == "zh" else "zh"
    links = "".join(f'<link rel="alternate" type="{escape(t)}" href="{escape(h)}">' for t, h in alternates)
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>{links}
<style>{STYLE}</style></head><body><nav><a href="/?lang={lang}">{ui['home']}</a><a href="/sparql">{ui['sparql']}</a>
<a href="/api/docs">{ui['api']}</a><a href="{escape(path)}?lang={other}" id="lang-switch">{ui['switch']}</a></nav>
{body}</body></html>"""


def entity_page(graph: Graph, node: URIRef, lang: str, path: str, alternates) -> str:
    ui = UI[lang]
    title = label(graph, node, lang)
    other_lang = "en" if lang == "zh" else "zh"
    parts = [f"<h1>{escape(title)}</h1>",
             f'<p lang="{other_lang}">{escape(label(graph, node, other_lang))}</p>',
             f'<p class="iri">{escape(str(node))}</p>']
    types = sorted(graph.objects(node, RDF.type), key=str)
    if types:
        parts.append("<p>" + " · ".join(_term(graph, t, lang) for t in types) + "</p>")
    for predicate, heading in ((SKOS.definition, ui["definition"]), (DCTERMS.description, ui["description"])):
        texts = {l.language: str(l) for l in graph.objects(node, predicate)}
        if texts:
            parts.append(f"<h2>{heading}</h2><p>{escape(texts.get(lang) or texts.get(other_lang) or '')}</p>")
    alts = sorted(str(l) for l in graph.objects(node, SKOS.altLabel))
    if alts:
        parts.append(f"<p><b>{ui['alt']}:</b> {escape('、'.join(alts))}</p>")
    notes = [str(n) for n in graph.objects(node, FTZ.sourceNote)]
    if notes:
        parts.append(f"<p><b>{ui['note']}:</b> {escape(' '.join(notes))}</p>")
    skip = {RDF.type, SKOS.prefLabel, SKOS.altLabel, SKOS.definition, DCTERMS.description, FTZ.sourceNote}
    rows = []
    for predicate in sorted({p for p in graph.predicates(node) if p not in skip}, key=str):
        values = sorted(graph.objects(node, predicate), key=lambda o: label(graph, o, lang) if isinstance(o, URIRef)
                        else str(o))
        cells = "<br>".join(_term(graph, v, lang) for v in values)
        rows.append(f"<tr><th>{_term(graph, predicate, lang)}</th><td>{cells}</td></tr>")
    if rows:
        parts.append(f"<h2>{ui['properties']}</h2><table>{''.join(rows)}</table>")
    incoming = {}
    for subject, predicate in graph.subject_predicates(node):
        if isinstance(subject, URIRef) and predicate != RDF.type:
            incoming.setdefault(predicate, set()).add(subject)
    if incoming:
        parts.append(f"<h2>{ui['incoming']}</h2>")
        for predicate in sorted(incoming, key=str):
            items = "".join(f"<li>{_term(graph, s, lang)}</li>"
                            for s in sorted(incoming[predicate], key=lambda s: label(graph, s, lang)))
            parts.append(f"<h3>{_term(graph, predicate, lang)}</h3><ul>{items}</ul>")
    parts.append(f'<h2>{ui["graph"]}</h2><div id="graph" data-iri="{escape(str(node))}" '
                 f'style="height:28rem;border:1px solid #ddd"></div>'
                 '<script src="/static/cytoscape/cytoscape.min.js"></script><script src="/static/graph.js"></script>')
    return page(title, "\n".join(parts), lang, path, alternates)


def neighbourhood(graph: Graph, node: URIRef, lang: str) -> list[dict]:
    """Cytoscape.js elements: the node, the entities it links to or is linked from, and those links."""
    def is_entity(term) -> bool:
        return isinstance(term, URIRef) and str(term).startswith(BASE) and "/def" not in str(term) \
            and (term, RDF.type, None) in graph

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
    from rdflib.namespace import RDFS as _RDFS
    classes = set(graph.transitive_subjects(_RDFS.subClassOf, cls))
    nodes = sorted({s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}, key=str)
    skip = {RDF.type, SKOS.prefLabel, SKOS.altLabel, SKOS.definition, DCTERMS.description, FTZ.sourceNote,
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
    head = "".join(f'<th><a href="?sort={k}&lang={lang}">{escape(label(graph, p, lang))}</a></th>'
                   for k, p in names.items())
    body = "".join(
        f'<tr><td><a href="{escape(local(n))}">{escape(lbl)}</a></td>'
        + "".join(f"<td>{escape('; '.join(v[k]))}</td>" for k in names) + "</tr>" for n, lbl, v in rows)
    selects = []
    for key, p in names.items():
        options = sorted({(local(o), label(graph, o, lang)) for n in nodes for o in graph.objects(n, p)
                          if isinstance(o, URIRef)}, key=lambda x: x[1])
        if 1 < len(options) <= 60:
            opts = "".join(f'<option value="{escape(v)}"{" selected" if filters.get(key) == v else ""}>'
                           f"{escape(t)}</option>" for v, t in options)
            selects.append(f'<label>{escape(label(graph, p, lang))} <select name="{key}"><option value="">—</option>'
                           f"{opts}</select></label> ")
    form = (f'<form method="get">{"".join(selects)}<input type="hidden" name="lang" value="{lang}">'
            f'<button type="submit">{UI[lang]["filter"]}</button></form>') if selects else ""
    title = label(graph, cls, lang)
    return page(title, f"<h1>{escape(title)}</h1>{form}<p>{len(rows)}</p><table><tr><th></th>{head}</tr>{body}</table>",
                lang, f"/browse/{str(cls).rsplit('#', 1)[-1]}")


def home_page(graph: Graph, lang: str, counts: list[tuple[str, int]]) -> str:
    ui = UI[lang]
    zones_by_batch: dict[int, list] = {}
    for zone in graph.subjects(RDF.type, FTZ.PilotFreeTradeZone):
        batch = graph.value(zone, FTZ.establishedInBatch)
        zones_by_batch.setdefault((int(graph.value(batch, FTZ.ordinal)), str(graph.value(batch, FTZ.year)), batch),
                                  []).append(zone)
    zone_html = "".join(
        f"<li>{_term(graph, batch, lang)} ({year}): "
        + "、".join(_term(graph, z, lang) for z in sorted(zones, key=lambda z: label(graph, z, lang))) + "</li>"
        for (ordinal, year, batch), zones in sorted(zones_by_batch.items(), key=lambda kv: kv[0][0]))

    def tree(node) -> str:
        children = sorted(graph.subjects(SKOS.broader, node), key=str)
        if not children:
            return f"<li>{_term(graph, node, lang)}</li>"
        inner = "".join(tree(c) for c in children)
        return f"<li><details><summary>{_term(graph, node, lang)}</summary><ul>{inner}</ul></details></li>"
    domains = sorted(graph.subjects(RDF.type, FTZ.InnovationDomain), key=str)
    agencies = sorted({a for t in (FTZ.GovernmentAgency, FTZ.PartyOrgan, FTZ.JudicialOrgan, FTZ.StateOwnedEnterprise)
                       for a in graph.subjects(RDF.type, t)}, key=lambda a: label(graph, a, lang))
    count_rows = "".join(f"<tr><td>{escape(name)}</td><td>{n}</td></tr>" for name, n in counts)
    intro = ("本图谱整理自《中国自由贸易试验区发展报告（2021）》（商务部研究院），涵盖 21 个自贸试验区、片区、制度创新举措、"
             "制度创新分类以及 2020 年复制推广的 37 项改革试点经验，每一事实均注明其在报告中的出处。"
             if lang == "zh" else
             "A linked-data knowledge graph curated from the China Pilot Free Trade Zone Development Report (2021) "
             "by the research academy of the Ministry of Commerce: the 21 pilot free trade zones, their sub-areas, "
             "their institutional innovation measures, the innovation taxonomy and the 37 reform experiences "
             "promoted in 2020, every fact traced to its place in the report.")
    dumps = "".join(f'<li><a href="/dumps/{name}">{name}</a></li>' for name in
                    ("ftz-kg.ttl", "ftz-kg.nt", "ftz-kg.jsonld", "ftz-kg.rdf", "ftz-kg.trig", "ftz-kg.graphml",
                     "ftz-kg.gexf", "ftz-kg.cyjs", "ftz-kg-csv.zip"))
    browse = "".join(f'<li><a href="/browse/{name}?lang={lang}">{escape(label(graph, FTZ[name], lang))}</a></li>'
                     for name in ("PilotFreeTradeZone", "SubArea", "InnovationMeasure", "ReplicableExperience",
                                  "ResponsibleUnit", "InnovationConcept", "NationalStrategy", "Theme"))
    body = f"""<h1>ftz-kg</h1><p>{escape(intro)}</p>
<form action="/search" method="get"><input type="search" name="q" aria-label="{ui['search']}">
<input type="hidden" name="lang" value="{lang}"><button type="submit">{ui['search']}</button></form>
<table>{count_rows}</table>
<h2>{ui['zones']}</h2><ul>{zone_html}</ul>
<h2>{ui['taxonomy']}</h2><ul>{''.join(tree(d) for d in domains)}</ul>
<h2>{ui['agencies']}</h2><ul>{''.join(f"<li>{_term(graph, a, lang)}</li>" for a in agencies)}</ul>
<h2>{ui['browse']}</h2><ul>{browse}</ul>
<h2>{ui['downloads']}</h2><ul>{dumps}<li><a href="/.well-known/void">VoID / DCAT</a></li></ul>
<script src="/static/search.js"></script>"""
    return page("ftz-kg", body, lang, "/")


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
    items = "".join(f"<li>{_term(graph, r, lang)} <small>{escape(label(graph, graph.value(r, RDF.type), lang))}"
                    f"</small></li>" for r in results[:200])
    body = (f"<h1>{UI[lang]['search']}: {escape(text)}</h1>"
            f'<form action="/search"><input type="search" name="q" value="{escape(text)}">'
            f'<input type="hidden" name="lang" value="{lang}"><button>{UI[lang]["search"]}</button></form>'
            f"<p>{len(results)}</p><ul>{items}</ul>")
    return page(text, body, lang, "/search")
