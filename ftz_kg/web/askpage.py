"""GET /ask?q=: a question in Chinese or English answered from the catalogue (ftz_kg.ask), as an
HTML page in the site's shell or as JSON (`format=json` or `Accept: application/json`).

The page says how the question was read, with links to the canned query's page and its SPARQL;
an ambiguous question gets its readings to choose from, one not understood the closest catalogue
questions. Everything from the request is escaped by the templates; answers are capped like the
query pages; a question over 500 characters is a 400 that names the parameter `q`.
"""

from __future__ import annotations

import json
import threading

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ftz_kg.ask.interpret import MAX_QUESTION
from ftz_kg.ask.normalise import language_of
from ftz_kg.web import pages
from ftz_kg.web.conneg import negotiate
from ftz_kg.web.querypages import HTML_ROWS
from ftz_kg.web.rendering import render

PARAMETER = "q"
_lock = threading.Lock()


def interpreter_for(app):
    """One interpreter per loaded graph, made on the first question, over the store that already
    resolves the API's parameters (the server's own embedded, on-disk or remote store: no second
    copy of the graph in memory)."""
    from ftz_kg.ask.interpret import Interpreter
    from ftz_kg.query.store import OxigraphEngine

    graph = app.state.graph
    with _lock:
        held = getattr(app.state, "ask_interpreter", None)
        if held is None or held[0] is not graph:
            engine = getattr(app.state, "lookup", None) or OxigraphEngine(graph)
            interpreter = Interpreter(engine)
            interpreter.graph = graph      # the answer table names IRIs by the graph's labels
            held = (graph, interpreter)
            app.state.ask_interpreter = held
    return held[1]


def _cell(term) -> dict:
    from rdflib import URIRef

    from ftz_kg.query.results import compact
    if term is None:
        return {"text": "", "href": None}
    if isinstance(term, URIRef):
        return {"text": compact(term), "href": pages.link_target(term)}
    return {"text": str(term), "href": None}


def _binding(term) -> dict | None:
    """An rdflib term as a SPARQL JSON results binding, so that the answer is shown as the canned
    query pages show theirs (labels, local links, plain numbers)."""
    from rdflib import BNode, Literal, URIRef
    if term is None:
        return None
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if isinstance(term, Literal) and term.language:
        out["xml:lang"] = term.language
    elif isinstance(term, Literal) and term.datatype:
        out["datatype"] = str(term.datatype)
    return out


def _table(result, lang: str, graph) -> dict:
    from ftz_kg.web.querypages import select_table
    data = {"head": {"vars": list(result.variables)},
            "results": {"bindings": [{v: b for v, b in ((v, _binding(t)) for v, t in zip(result.variables, row))
                                      if b is not None} for row in result.rows]}}
    return select_table(data, lang, graph, None)


def _context(interpreter, question: str, lang: str, answer_lang: str, index=None) -> tuple[dict, dict | None]:
    """The page's content, and the JSON answer (None before any question)."""
    from ftz_kg.ask.answer import as_json, ask, describe, links

    if not question.strip():
        return {"answer": None}, None
    answer = ask(question, interpreter, answer_lang)
    data = as_json(answer, interpreter)
    page: dict = {"answer": answer.status}
    if answer.reading is not None:
        result = answer.result
        table = _table(result, lang, getattr(interpreter, "graph", None))
        page.update(explained=answer.explained, links=answer.links, columns=table["columns"], rows=table["rows"],
                    total=len(result.rows), count=answer.count,
                    top=None if answer.top is None else [_cell(t) for t in answer.top])
        if len(data.get("rows", [])) > HTML_ROWS:   # bound answers, as the query pages
            data["rows"] = data["rows"][:HTML_ROWS]
            data["truncated"] = True
    elif answer.status == "ambiguous":
        page["readings"] = [{"explained": describe(r, interpreter, answer_lang), "href": links(r, answer_lang)["page"]}
                            for r in answer.interpretation.readings]
    else:
        page["suggestions"] = [{"question": q, "query": n} for n, q in answer.interpretation.suggestions]
        page["found"] = data.get("found", [])
        if answer.status == "not-understood":     # what its words lead to, through the text index
            from ftz_kg.ask.related import related
            data["related"] = related(question, interpreter, index, answer_lang)
            page["related"] = [{**r, "href": pages.local(r["iri"])} for r in data["related"]]
    return page, data


def ask_page(interpreter, question: str, lang: str, answer_lang: str, index=None) -> tuple[str, str]:
    content, data = _context(interpreter, question, lang, answer_lang, index)
    ui = pages.UI[lang]
    title = ui["ask_title"] + (f": {question}" if question.strip() else "")
    shell = pages._shell(lang, "/ask", title, params=[(PARAMETER, question)] if question else [],
                         description=ui["ask_intro"])
    html = render("ask.html", **shell, question=question, max_chars=MAX_QUESTION, **content)
    return html, json.dumps(data, ensure_ascii=False, indent=2) if data is not None else "null"


def _wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    return negotiate(request.headers.get("accept"), ["text/html", "application/json"]) == "application/json"


async def handle(request: Request) -> Response:
    from ftz_kg.web.linkeddata import Busy, _busy, _lang, _respond, rendered

    lang, extra = _lang(request)
    question = request.query_params.get(PARAMETER, "")
    wants_json = _wants_json(request)
    if len(question) > MAX_QUESTION:
        message = pages.UI[lang]["ask_too_long"].format(parameter=PARAMETER, limit=MAX_QUESTION)
        if wants_json:
            return JSONResponse({"error": {"status": 400, "parameter": PARAMETER, "message": message}}, 400)
        return HTMLResponse(pages.error_page(400, message, lang), 400)
    asked = request.query_params.get("lang")
    answer_lang = asked if asked in pages.LANGS else (language_of(question) if question.strip() else lang)
    if wants_json and not question.strip():
        return JSONResponse({"error": {"status": 400, "parameter": PARAMETER,
                                       "message": f"give a question in the parameter {PARAMETER!r}"}}, 400)
    app = request.app

    def make() -> str:
        html, data = ask_page(interpreter_for(app), question, lang, answer_lang, getattr(app.state, "text_index", None))
        return data if wants_json else html

    try:
        body = await rendered(request, ("/ask", "json" if wants_json else "html", question, lang, answer_lang), make)
    except Busy:
        return _busy()
    if wants_json:
        return _respond(request, body, "application/json")
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))
