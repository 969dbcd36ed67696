"""The query tools as pages for people: the canned queries' index and forms, their answers as
tables (labels, local links, plain values) with a chart where a column holds numbers, and the
/sparql page's data (examples, prefixes, ontology terms for offline completion).

Everything here turns data into template context; the templates (autoescaping) make the HTML.
"""

from __future__ import annotations

import threading
import weakref
from urllib.parse import urlencode

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from ftz_kg.query.binding import ANY_ENTITY
from ftz_kg.query.catalogue import CannedQuery, Param
from ftz_kg.vocab import BASE, FTZ, PREFIXES
from ftz_kg.web import pages

HTML_ROWS = 1000        # rows a result page shows; the downloads carry the whole answer
CHART_BARS = 50         # bars a chart shows at most
SELECT_LIMIT = 400      # a class with more entities than this gets a type-ahead list, not a <select>
NUMERIC = {"integer", "decimal", "double", "float", "long", "int", "short", "nonNegativeInteger",
           "positiveInteger", "unsignedInt", "unsignedLong"}
XSD = "http://www.w3.org/2001/XMLSchema#"
ELI_ID = URIRef("http://data.europa.eu/eli/ontology#id_local")


def ui(lang: str) -> dict:
    return pages.UI[lang]


def title(query: CannedQuery, lang: str) -> str:
    return query.summary_zh if lang == "zh" else query.summary


def param_label(param: Param, lang: str) -> str:
    return ui(lang).get(f"query_param_{param.name}", param.name)


def value_label(value: str, lang: str) -> str:
    return ui(lang).get(f"query_value_{value}", value)


def column_label(name: str, lang: str) -> str:
    return ui(lang).get(f"query_col_{name}", name.replace("_", " "))


# ---------------------------------------------------------------- entity pickers

class _Entities:
    """The entities of a parameter's class, with the names the parameter lookup accepts for them."""

    def __init__(self, graph: Graph, entity_class: str):
        if entity_class == ANY_ENTITY:
            members = set(graph.objects(None, FTZ.statementSubject))
        else:
            classes = set(graph.transitive_subjects(RDFS.subClassOf, URIRef(entity_class)))
            members = {s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}
        self.members = members
        # every name binding.LOOKUP matches exactly (labels, ids, the IRI's last segment), lowercased
        self.by_name: dict[str, set] = {}
        for entity in members:
            names = [str(entity), str(entity).rsplit("/", 1)[-1]]
            for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, ELI_ID):
                names.extend(str(o) for o in graph.objects(entity, prop))
            for name in names:
                self.by_name.setdefault(name.lower(), set()).add(entity)

    def resolve(self, value: str) -> URIRef | None:
        found = self.by_name.get(value.lower(), set())
        return next(iter(found)) if len(found) == 1 else None


_pickers: "weakref.WeakKeyDictionary[Graph, dict]" = weakref.WeakKeyDictionary()
_pickers_lock = threading.Lock()


def _entities(graph: Graph, entity_class: str) -> _Entities:
    with _pickers_lock:
        per_graph = _pickers.setdefault(graph, {})
        if entity_class not in per_graph:
            per_graph[entity_class] = _Entities(graph, entity_class)
        return per_graph[entity_class]


def _options(graph: Graph, entity_class: str, lang: str) -> list[dict]:
    """The picker's options: each entity's name in the page language as the value when that name
    names it alone (so the address reads as words), else its IRI; sorted by name."""
    entities = _entities(graph, entity_class)
    with _pickers_lock:
        cached = _pickers[graph].get((entity_class, lang))
    if cached is not None:
        return cached
    options = []
    for entity in entities.members:
        text = pages.label(graph, entity, lang)
        value = text if entities.resolve(text) == entity else str(entity)
        options.append({"value": value, "text": text, "iri": str(entity)})
    options.sort(key=lambda o: (o["text"], o["iri"]))
    groups = _groups(graph, entity_class, entities.members, lang)
    if groups:
        for option in options:
            option["group"] = groups[URIRef(option["iri"])]
        order = {name: size for name, size in _sizes(groups.values()).items()}
        # smallest group first: the taxonomy reads domain, approach, point
        options.sort(key=lambda o: (order[o["group"]], o["group"], o["text"], o["iri"]))
    with _pickers_lock:
        _pickers[graph][(entity_class, lang)] = options
    return options


def _sizes(names) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name in names:
        sizes[name] = sizes.get(name, 0) + 1
    return sizes


def _groups(graph: Graph, entity_class: str, members, lang: str) -> dict | None:
    """Each entity's kind (its type below the parameter's class), when the class falls into
    kinds (innovation domain / approach / point; kinds of unit or document); else None."""
    if entity_class == ANY_ENTITY:
        return None
    top = URIRef(entity_class)
    below = set(graph.transitive_subjects(RDFS.subClassOf, top)) - {top}
    kinds = {}
    for entity in members:
        types = sorted(t for t in graph.objects(entity, RDF.type) if t in below)
        kinds[entity] = types[0] if types else None
    untyped = sum(1 for t in kinds.values() if t is None)
    if len({t for t in kinds.values() if t is not None}) < 2 or untyped > len(kinds) // 10:
        return None
    return {entity: pages.label(graph, kind if kind is not None else top, lang) for entity, kind in kinds.items()}


def form_fields(query: CannedQuery, values: dict[str, str], lang: str, graph: Graph | None,
                invalid: str | None = None) -> list[dict]:
    """The form's fields, one per parameter but the page language (the language switch sets it)."""
    fields = []
    for param in query.params:
        if param.name == "lang":
            continue
        value = values.get(param.name, "")
        field = {"name": param.name, "id": f"param-{param.name}", "label": param_label(param, lang),
                 "required": param.required, "value": value, "invalid": param.name == invalid,
                 "default": value_label(param.default, lang) if param.default else None,
                 "description": param.description, "kind": "text", "options": []}
        if param.enumerate:
            field["kind"] = "select"
            field["options"] = [{"value": v, "text": value_label(v, lang), "selected": v == (value or param.default)}
                                for v in param.enumerate]
        elif param.type == "integer":
            field["kind"] = "number"
        elif param.type == "iri" and param.entity_class and graph is not None:
            options = _options(graph, param.entity_class, lang)
            chosen = None
            if value:
                listed_iris = {o["iri"] for o in options}
                chosen = value if value in listed_iris else _entities(graph, param.entity_class).resolve(value)
            listed = [{**o, "selected": chosen is not None and o["iri"] == str(chosen)} for o in options]
            if chosen is not None:
                field["value"] = next(o["value"] for o in listed if o["selected"])
            field["options"] = listed
            field["kind"] = "select" if len(options) <= SELECT_LIMIT else "datalist"
            # a value from the address that names no listed entity stays visible (and selected)
            field["unlisted"] = value if value and chosen is None else None
        field["groups"] = _in_groups(field["options"])
        fields.append(field)
    return fields


def _in_groups(options: list[dict]) -> list[tuple[str | None, list[dict]]]:
    """Options as consecutive (group, options) runs; a group of None is no <optgroup>."""
    runs: list[tuple[str | None, list[dict]]] = []
    for option in options:
        group = option.get("group")
        if not runs or runs[-1][0] != group:
            runs.append((group, []))
        runs[-1][1].append(option)
    return runs


# ---------------------------------------------------------------- answers as tables

def _label_of(graph: Graph | None, ontology: Graph | None, iri: str, lang: str) -> str:
    node = URIRef(iri)
    for source in (graph, ontology):
        if source is None:
            continue
        if (node, SKOS.prefLabel, None) in source or (node, RDFS.label, None) in source:
            return pages.label(source, node, lang)
    return compact(iri)


def compact(iri: str) -> str:
    """An IRI as prefix:name with our prefixes, else the IRI."""
    best = None
    for prefix, namespace in PREFIXES.items():
        ns = str(namespace)
        if iri.startswith(ns) and (best is None or len(ns) > len(best[1])):
            best = (prefix, ns)
    return f"{best[0]}:{iri[len(best[1]):]}" if best and iri[len(best[1]):] else iri


def plain_number(text: str) -> str:
    """A number as people write it: 9, 4.7 (no datatype, no trailing .0)."""
    if "e" in text.lower():
        try:
            value = float(text)
        except ValueError:
            return text
        return f"{value:g}" if abs(value) < 1e15 else text
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _cell(binding: dict | None, label: dict | None, lang: str, graph, ontology) -> dict:
    if not binding:
        return {"text": "", "href": None, "lang": None, "number": None}
    kind, value = binding.get("type"), binding.get("value", "")
    if kind == "uri":
        text = label.get("value") if label and label.get("value") else _label_of(graph, ontology, value, lang)
        return {"text": text, "href": pages.link_target(value), "lang": _other_lang(label, lang), "number": None,
                "title": value}
    if kind == "bnode":
        return {"text": "_:" + value, "href": None, "lang": None, "number": None}
    datatype = binding.get("datatype", "")
    if datatype.startswith(XSD) and datatype[len(XSD):] in NUMERIC:
        try:
            number = float(value)
        except ValueError:
            number = None
        return {"text": plain_number(value), "href": None, "lang": None, "number": number}
    if datatype == XSD + "boolean":
        return {"text": ui(lang)["query_yes" if value in ("true", "1") else "query_no"], "href": None, "lang": None,
                "number": None}
    text = label.get("value") if label and label.get("value") else value
    return {"text": text, "href": None, "lang": _other_lang(label or binding, lang), "number": None}


def _other_lang(binding: dict | None, lang: str) -> str | None:
    """The language of a text when it is not the page's (for the lang attribute)."""
    tag = (binding or {}).get("xml:lang")
    return tag if tag and tag.split("-")[0] != lang else None


def select_table(data: dict, lang: str, graph: Graph | None, ontology: Graph | None) -> dict:
    """A SPARQL JSON results document as the page shows it: a column `x` with a column `x_label`
    becomes one column of labels linked to x; other IRIs get their label from the graph."""
    head = data.get("head", {}).get("vars", [])
    bindings = data.get("results", {}).get("bindings", [])
    if "boolean" in data:
        answer = ui(lang)["query_yes" if data["boolean"] else "query_no"]
        return {"columns": [], "rows": [], "count": 0, "boolean": answer, "chart": None, "shown": 0}
    shown_vars = [v for v in head if not (v.endswith("_label") and v[:-6] in head)]
    columns = [{"name": v, "label": column_label(v[:-6] if v.endswith("_label") else v, lang)} for v in shown_vars]
    rows = []
    for binding in bindings[:HTML_ROWS]:
        rows.append([_cell(binding.get(v), binding.get(v + "_label"), lang, graph, ontology) for v in shown_vars])
    for index, column in enumerate(columns):
        cells = [row[index] for row in rows if row[index]["text"] != ""]
        column["numeric"] = bool(cells) and all(c["number"] is not None for c in cells)
    return {"columns": columns, "rows": rows, "count": len(bindings), "shown": len(rows), "boolean": None,
            "chart": chart(columns, rows, lang)}


# identifiers, not quantities: a chart of row numbers or years says nothing
_NOT_QUANTITIES = ("row", "line", "year", "ordinal", "number", "factor", "period", "date")
_NOT_NAMES = ("observation", "conflict")


def chart(columns: list[dict], rows: list[list[dict]], lang: str) -> dict | None:
    """Bars for the first column of quantities, labelled by the first column of names."""
    names = [c["name"] for c in columns]
    quantity = next((i for i, c in enumerate(columns) if c["numeric"] and not c["name"].endswith(_NOT_QUANTITIES)
                     and not (c["name"] == "value" and "base_value" in names)), None)
    # the bars' names: the first column of names (a figure's own label only names the figure)
    labelled = next((i for i, c in enumerate(columns) if not c["numeric"] and c["name"] not in _NOT_NAMES), None)
    if quantity is None or labelled is None or len(rows) < 2:
        return None
    plotted = [r for r in rows if r[quantity]["number"] is not None][:CHART_BARS]
    largest = max((r[quantity]["number"] for r in plotted), default=0)
    if largest <= 0:
        return None
    bars = [{"label": r[labelled]["text"], "href": r[labelled]["href"], "value": r[quantity]["text"],
             "width": round(100 * max(r[quantity]["number"], 0) / largest, 1)} for r in plotted]
    strings = ui(lang)
    caption = strings["query_chart_caption"].replace("{quantity}", columns[quantity]["label"]).replace(
        "{label}", columns[labelled]["label"])
    return {"caption": caption, "bars": bars,
            "first": strings["query_chart_first"].replace("%d", str(CHART_BARS)) if len(rows) > CHART_BARS else None}


def graph_table(body: bytes, lang: str, graph: Graph | None, ontology: Graph | None) -> dict:
    """A CONSTRUCT/DESCRIBE answer (Turtle) as a table of triples with labels."""
    answer = Graph()
    answer.parse(data=body.decode("utf-8"), format="turtle")

    def term(node) -> dict:
        if isinstance(node, URIRef):
            own = pages.label(answer, node, lang) if (node, SKOS.prefLabel, None) in answer else None
            return {"text": own or _label_of(graph, ontology, str(node), lang), "href": pages.link_target(node),
                    "lang": None, "number": None, "title": str(node)}
        if isinstance(node, Literal):
            binding = {"type": "literal", "value": str(node)}
            if node.language:
                binding["xml:lang"] = node.language
            if node.datatype is not None:
                binding["datatype"] = str(node.datatype)
            return _cell(binding, None, lang, graph, ontology)
        return {"text": "_:" + str(node), "href": None, "lang": None, "number": None}

    triples = sorted(answer, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    rows = [[term(s), term(p), term(o)] for s, p, o in triples[:HTML_ROWS]]
    columns = [{"name": n, "label": column_label(n, lang), "numeric": False} for n in ("s", "p", "o")]
    return {"columns": columns, "rows": rows, "count": len(triples), "shown": len(rows), "boolean": None, "chart": None}


# ---------------------------------------------------------------- addresses

def query_string(values: dict[str, str]) -> str:
    return urlencode([(k, v) for k, v in values.items() if v != ""])


def api_links(name: str, values: dict[str, str], bound_text: str | None, graph_form: bool) -> dict:
    """The answer's other formats, with the same parameters."""
    qs = query_string(values)
    suffix = "?" + qs if qs else ""
    links = {"json": f"/api/{name}.json{suffix}" if not graph_form else f"/api/{name}.jsonld{suffix}",
             "csv": None if graph_form else f"/api/{name}.csv{suffix}",
             "ttl": f"/api/{name}.ttl{suffix}" if graph_form else None,
             "rq": f"/api/{name}.rq{suffix}"}
    if bound_text is not None:
        links["editor"] = "/sparql#" + urlencode({"query": bound_text})
    return links


# ---------------------------------------------------------------- the /sparql page

def editor_text(text: str, title: str) -> str:
    """A bound canned query for the editor: its catalogue header (#+ lines) becomes one comment
    line with the question, so the query itself fills the editor."""
    lines = text.splitlines()
    body = [line for line in lines if not line.startswith("#+")]
    while body and not body[0].strip():
        body.pop(0)
    return "\n".join([f"# {title}", *body]) + "\n"


def sparql_page_data(lang: str, examples: list[dict], ontology: Graph | None) -> dict:
    """What query.js needs: the examples, our prefixes, and the ontology's classes and
    properties for completion without asking any other server."""
    classes, properties = set(), set()
    if ontology is not None:
        for kind in (OWL.Class, RDFS.Class):
            classes.update(str(s) for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef))
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property):
            properties.update(str(s) for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef))
    for name in ("prefLabel", "altLabel", "broader", "narrower", "inScheme", "notation", "definition"):
        properties.add(str(SKOS[name]))
    properties.update(str(p) for p in (RDF.type, RDFS.label, RDFS.comment, RDFS.subClassOf))
    return {"base": BASE, "examples": examples, "prefixes": {p: str(ns) for p, ns in PREFIXES.items()},
            "classes": sorted(classes), "properties": sorted(properties), "lang": lang,
            "default_query": default_query(lang)}


def default_query(lang: str) -> str:
    declared = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in ("ftz", "rdf", "rdfs", "skos", "xsd"))
    return (declared + "\nSELECT ?zone ?name WHERE {\n  ?zone a ftz:PilotFreeTradeZone ;\n"
            f"        skos:prefLabel ?name .\n  FILTER (LANG(?name) = \"{lang}\")\n}}\nORDER BY ?name\n")

