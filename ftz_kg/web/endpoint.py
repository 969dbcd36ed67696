"""Stage 5: the read-only SPARQL endpoint and canned-query Web API (Starlette).

A thin router: every route turns a request into (query text, media type) and hands it to the
worker pool; guard.py vets queries before anything runs, conneg.py picks the format, and a
bounded result cache with strong ETags answers repeated questions without running them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import json
import logging
import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from ftz_kg import __version__
from ftz_kg.web.assets import CompressedStaticFiles
from ftz_kg.query.binding import ParameterError, bind
from ftz_kg.query.catalogue import Catalogue, UnknownQuery
from ftz_kg.search.narrowing import narrowed
from ftz_kg.web.cache import BoundedCache, Lazy
from ftz_kg.web.conneg import (GRAPH_ORDER, SELECT_ORDER, Choice, NotAcceptable, choice_for, negotiate, not_modified,
                               split_suffix, strong_etag)
from ftz_kg.query.guard import DATASET_GRAPH, Refused, check_dataset, vet
from ftz_kg.remote.client import RemoteError
from ftz_kg.web import pages, querypages, querystring
from ftz_kg.web.linkeddata import _lang as page_lang
from ftz_kg.web.pages import _shell
from ftz_kg.web.rendering import render
from ftz_kg.web.security import SecurityHeaders
from ftz_kg.web.streaming import StreamedAnswer
from ftz_kg.web.workers import MAX_BYTES, WorkerPool

access_log = logging.getLogger("ftz_kg.access")

MAX_URL = 8 * 1024
MAX_BODY = 64 * 1024
BODY_TIMEOUT = 10.0     # seconds to receive a request body (at most MAX_BODY bytes)
RDF_REQUEST_TYPES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
SPARQL_TEXT = "application/sparql-query"
EXTENSIONS = {".json": "application/sparql-results+json", ".csv": "text/csv", ".tsv": "text/tab-separated-values",
              ".ttl": "text/turtle", ".xml": "application/sparql-results+xml", ".html": "text/html",
              ".jsonld": "application/ld+json", ".rq": SPARQL_TEXT}


@dataclass
class Settings:
    timeout: float = 10.0
    workers: int = 2
    max_rows: int = 10_000
    max_bytes: int = MAX_BYTES
    cache_bytes: int = 32 * 1024 * 1024
    public_base: str = ""


class ResultCache(BoundedCache):
    """Results by (query, dataset, the media types the request takes), each with its strong ETag
    and the media type it is written in."""

    def put_answer(self, key, body: bytes, truncated: bool | str, media_type: str, etag: str | None = None) -> str:
        etag = etag or strong_etag(body)
        self.put(key, (body, truncated, etag, media_type), len(body))
        return etag


def _error(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    """A short error in the negotiated format where we can: JSON for JSON clients, else text."""
    headers = {"Vary": "Accept", **(headers or {})}
    accept = request.headers.get("accept", "")
    if "json" in accept:
        return JSONResponse({"error": {"status": status, "message": message}}, status, headers=headers)
    return PlainTextResponse(message + "\n", status, headers=headers)


def _service_description(request: Request, base: str) -> str:
    endpoint = base.rstrip("/") + "/sparql"
    formats = " , ".join(f"<http://www.w3.org/ns/formats/{f}>" for f in
                         ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                          "Turtle", "JSON-LD", "N-Triples", "RDF_XML"))
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat {formats} ;
    sd:feature sd:UnionDefaultGraph ;
    sd:defaultDataset [
        a sd:Dataset ;
        sd:defaultGraph [ a sd:Graph , void:Dataset ;
            dcterms:title "ftz-kg: China's pilot free trade zones and their institutional innovations"@en ;
            void:triples {request.app.state.triples} ;
            void:sparqlEndpoint <{endpoint}> ] ;
        sd:namedGraph [ a sd:NamedGraph ; sd:name <{DATASET_GRAPH}> ]
    ] .
"""


def _base(request: Request) -> str:
    """The server's public base URL: configured (serve sets it from --base or its listening address),
    else relative. Never the request's Host header, which any client can set."""
    return request.app.state.settings.public_base or "/"


def _log(request: Request, status: int, started: float, query: str | None) -> None:
    access_log.info(json.dumps({
        "method": request.method, "path": request.scope["path"], "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "query_hash": hashlib.sha256(query.encode("utf-8")).hexdigest()[:16] if query else None,
    }))


async def _answer(request: Request, query: str, media_type: str | None, default_graphs=(), named_graphs=(),
                  accept: str | None = None, whole: bool = False) -> Response:
    """Vet, negotiate, run (or take from the cache) and respond.

    Local query workers vet the query themselves (guard.py) and pick the media type by its form;
    another runner (serve --store) has it vetted here. A cached answer was vetted when it was made.
    An answer over the workers' inline size (1 MiB) is streamed from its worker, and cached once
    sent in full if the cache takes answers that large; `whole` reads it at once instead, for a
    page made from it."""
    check_dataset(list(default_graphs), list(named_graphs))
    choice = Choice.of(media_type) if media_type else choice_for(
        accept if accept is not None else request.headers.get("accept"))
    explicit = (bool(default_graphs), bool(named_graphs))
    key = (query, explicit, choice)
    cache: ResultCache = request.app.state.cache
    hit = cache.get(key)
    stream = None
    if hit is None:
        answer = await _run(request.app.state.pool, query, choice, explicit)
        body, truncated, stream, chosen = answer.body, answer.truncated, answer.stream, answer.media_type
        if stream is not None and whole:
            body, stream = await stream.read_all(), None
        if stream is None:
            etag = cache.put_answer(key, body, truncated, chosen, answer.etag if body is answer.body else None)
        else:
            etag = stream.etag
    else:
        body, truncated, etag, chosen = hit
    headers = {"Vary": "Accept", "ETag": etag, "Cache-Control": "public, max-age=60"}
    if truncated:
        headers["X-Result-Truncated"] = "true"
        if truncated == "bytes":
            headers["X-Result-Limit-Bytes"] = str(request.app.state.settings.max_bytes)
        else:
            headers["X-Result-Limit"] = str(request.app.state.settings.max_rows)
    content_type = chosen if chosen.endswith("xml") else f"{chosen}; charset=utf-8"
    if stream is not None:
        if request.method == "HEAD" or not_modified(request.headers.get("if-none-match"), etag):
            stream.close()
            if request.method != "HEAD":
                return Response(status_code=304, headers=headers)
            return Response(None, 200, headers={**headers, "Content-Length": str(stream.length)},
                            media_type=content_type)
        keep = None
        if stream.length <= cache.limit // 4:    # the largest answer the cache keeps (BoundedCache.put)
            def keep(whole_body: bytes) -> None:
                cache.put_answer(key, whole_body, truncated, chosen, etag)
        return StreamedAnswer(stream, headers, content_type, keep)
    if request.method in ("GET", "HEAD") and not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, 200, headers=headers, media_type=content_type)


async def _run(pool, query: str, choice: Choice, explicit: tuple[bool, bool]):
    """The answer of `pool` (local workers, or serve --store's runner), with its media type."""
    if getattr(pool, "vets_queries", False):
        return await pool.answer(query, choice, explicit)
    try:
        chosen, writer = choice.pick(vet(query).form)
    except NotAcceptable as refused:
        raise Refused(406, str(refused)) from None
    return dataclasses.replace(await pool.run(query, writer, explicit), media_type=chosen)


def _form_params(body: bytes) -> dict[str, list[str]]:
    try:   # strict also for %-escapes: parse_qs would quietly turn %FF into U+FFFD and run the query
        return querystring.parse(body)
    except UnicodeDecodeError:
        raise Refused(400, "request body is not valid UTF-8") from None


def _url_params(request: Request) -> dict[str, list[str]]:
    try:   # strict, as for form bodies: a %FF must not turn into U+FFFD and run
        return querystring.parse(request.scope.get("query_string", b""))
    except UnicodeDecodeError:
        raise Refused(400, "the URL's query string is not valid UTF-8") from None


def _target_length(request: Request) -> int:
    """The length of the request's target, its path and query string (as sent: escapes count)."""
    scope = request.scope
    return len(scope.get("raw_path") or scope["path"].encode("utf-8")) + 1 + len(scope.get("query_string", b""))


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read chunk by chunk and refused (413) as soon as it passes `limit`:
    a chunked body declares no length, and reading it whole first would let it fill the memory."""
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, f"request body larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise Refused(408, f"request body not received within {BODY_TIMEOUT:g} s") from None
    return b"".join(chunks)


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise Refused(400, f"parameter {name!r} given {len(values)} times; give it once")
    return values[0] if values else None


async def sparql(request: Request) -> Response:
    started = time.perf_counter()
    query = None
    status = 500
    try:
        if _target_length(request) > MAX_URL:
            raise Refused(414, f"request URL longer than {MAX_URL} bytes")
        url_params = _url_params(request)
        if "update" in url_params:
            raise Refused(403, "this endpoint is read-only: SPARQL updates are refused")
        if request.method == "POST":
            declared = int(request.headers.get("content-length") or 0)
            if declared > MAX_BODY:
                raise Refused(413, f"request body larger than {MAX_BODY} bytes")
            body = await read_body(request, MAX_BODY)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type == "application/x-www-form-urlencoded":
                params = _form_params(body)
                if "update" in params:
                    raise Refused(403, "this endpoint is read-only: SPARQL updates are refused")
                if "query" in url_params:
                    raise Refused(400, "give the query either in the URL or in the form body, not both")
                query = _single(params, "query")
                default_graphs = params.get("default-graph-uri", []) + url_params.get("default-graph-uri", [])
                named_graphs = params.get("named-graph-uri", []) + url_params.get("named-graph-uri", [])
            elif content_type == "application/sparql-query":
                try:
                    query = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise Refused(400, "request body is not valid UTF-8") from None
                if "query" in url_params:
                    raise Refused(400, "give the query either in the URL or in the body, not both")
                default_graphs = url_params.get("default-graph-uri", [])
                named_graphs = url_params.get("named-graph-uri", [])
            elif content_type == "application/sparql-update":
                raise Refused(403, "this endpoint is read-only: SPARQL updates are refused")
            else:
                raise Refused(415, "POST a query as application/x-www-form-urlencoded (query=...) or as "
                                   "application/sparql-query")
        else:
            query = _single(url_params, "query")
            default_graphs = url_params.get("default-graph-uri", [])
            named_graphs = url_params.get("named-graph-uri", [])
        if query is None:
            wants = negotiate(request.headers.get("accept"), RDF_REQUEST_TYPES + ["text/html"])
            if wants in RDF_REQUEST_TYPES:
                status = 200
                return Response(_service_description(request, _base(request)), 200, headers={"Vary": "Accept"},
                                media_type="text/turtle; charset=utf-8")
            status = 200
            return await _query_page(request)
        response = await _answer(request, query, None, default_graphs, named_graphs)
        status = response.status_code
        return response
    except Refused as refused:
        status = refused.status
        headers = {"Retry-After": "2"} if refused.status == 503 else None
        return _error(request, refused.status, str(refused), headers)
    finally:
        _log(request, status, started, query)


async def _query_page(request: Request) -> Response:
    """The query UI in the site's frame: YASGUI (vendored, no CDN) with our prefixes, offline
    completion and every canned query as a ready example in the page's language."""
    lang, extra = page_lang(request)
    examples = (await asyncio.to_thread(request.app.state.examples.get))[lang]
    data = querypages.sparql_page_data(lang, examples, getattr(request.app.state, "ontology", None))
    shell = _shell(lang, "/sparql", pages.UI[lang]["query_sparql_title"], section="sparql",
                   description=pages.UI[lang]["query_sparql_intro"])
    body = await asyncio.to_thread(render, "query.html", **shell, examples=examples, page_data=data)
    return _html(body, 200, extra)


def _html(body: str, status: int, extra: dict | None = None) -> Response:
    """A page in the negotiated language, remembering a language asked for with ?lang=."""
    headers = {"Vary": "Accept, Accept-Language, Cookie", **({"Retry-After": "2"} if status == 503 else {})}
    response = HTMLResponse(body, status, headers=headers)
    if extra and extra.get("set_cookie"):
        response.set_cookie("lang", extra["set_cookie"], max_age=365 * 24 * 3600, samesite="lax")
    return response


def _wants_html(request: Request) -> bool:
    return negotiate(request.headers.get("accept"), ["application/json", "text/html"]) == "text/html"


async def healthz(request: Request) -> Response:
    pool: WorkerPool = request.app.state.pool
    if pool.ready:
        reloader = getattr(request.app.state, "reloader", None)
        return JSONResponse({"status": "ok", "triples": request.app.state.triples,
                             **({"last_load": reloader.public()} if reloader else {})})
    return JSONResponse({"status": "starting"}, 503, headers={"Retry-After": "2"})


def _openapi(catalogue: Catalogue, base: str) -> dict:
    paths = {}
    for query in catalogue:
        parameters = []
        for p in query.params:
            schema = {"type": "integer" if p.type == "integer" else "string"}
            if p.enumerate:
                schema["enum"] = list(p.enumerate)
            if p.default is not None:
                schema["default"] = p.default
            parameters.append({"name": p.name, "in": "query", "required": p.required, "schema": schema,
                               "description": p.description or p.type,
                               **({"example": p.example} if p.example else {})})
        paths[f"/api/{query.name}"] = {"get": {
            "operationId": query.name.replace("-", "_"), "summary": query.summary,
            "description": f"{query.summary_zh}\n\n{query.description}", "tags": list(query.tags),
            "parameters": parameters,
            "responses": {"200": {"description": "the answer", "content": {
                t: {} for t in (GRAPH_ORDER if query.form in ("construct", "describe") else SELECT_ORDER)}},
                "400": {"description": "a missing, unknown or ill-typed parameter"}},
        }}
    return {"openapi": "3.0.3", "info": {"title": "ftz-kg canned queries", "version": __version__,
                                         "description": "Competency questions over the ftz-kg knowledge graph."},
            "servers": [{"url": base.rstrip("/") or "/"}], "paths": paths}


async def api_index(request: Request) -> Response:
    catalogue: Catalogue = request.app.state.catalogue
    if _wants_html(request):     # a browser: the same list as a page
        return await api_docs(request)
    return JSONResponse([{"name": q.name, "summary": q.summary, "summary_zh": q.summary_zh,
                          "parameters": [p.name for p in q.params], "url": f"/api/{q.name}"} for q in catalogue])


async def api_openapi(request: Request) -> Response:
    return JSONResponse(_openapi(request.app.state.catalogue, _base(request)))


async def api_docs(request: Request) -> Response:
    lang, extra = page_lang(request)
    queries = [{"name": q.name, "title": querypages.title(q, lang), "description": q.description,
                "params": [{"name": p.name, "label": querypages.param_label(p, lang), "type": p.type,
                            "required": p.required, "description": p.description,
                            "default": querypages.value_label(p.default, lang) if p.default else None}
                           for p in q.params if p.name != "lang"],
                "example": querypages.query_string(q.example_values()), "form": q.form}
               for q in request.app.state.catalogue]
    shell = _shell(lang, request.url.path, pages.UI[lang]["query_docs_title"], section="queries",
                   description=pages.UI[lang]["query_docs_intro"])
    body = render("api_docs.html", **shell, queries=queries)
    return _html(body, 200, extra)


async def api_query(request: Request) -> Response:
    started = time.perf_counter()
    name, media_type = split_suffix(request.path_params["name"], EXTENSIONS)
    status = 500
    try:
        catalogue: Catalogue = request.app.state.catalogue
        try:
            query = catalogue.get(name)
        except UnknownQuery as exc:
            raise Refused(404, str(exc)) from None
        params = _url_params(request)
        values = {}
        for key, given in params.items():
            if len(given) > 1:
                raise Refused(400, f"parameter {key!r} given {len(given)} times; give it once")
            values[key] = given[0]
        if media_type == "text/html":
            response = await _api_page(request, query, values)
            status = response.status_code
            return response
        try:
            text = bind(query, values, request.app.state.lookup)
        except ParameterError as exc:
            raise Refused(400, str(exc)) from None
        except RemoteError as exc:      # serve --store: names are looked up in the remote store
            raise Refused(502, f"the store could not answer: {exc.cause}") from None
        if media_type == SPARQL_TEXT:
            status = 200
            return PlainTextResponse(text, headers={"Vary": "Accept"})
        # read in the same step as _answer takes the workers: the index and the graph of one version
        text = narrowed(query.name, values, text, getattr(request.app.state, "text_index", None))
        response = await _answer(request, text, media_type)
        status = response.status_code
        return response
    except Refused as refused:
        status = refused.status
        if media_type == "text/html":
            lang, _ = page_lang(request)
            return HTMLResponse(pages.error_page(refused.status, str(refused), lang), refused.status,
                                headers={"Vary": "Accept, Accept-Language, Cookie"})
        return _error(request, refused.status, str(refused), {"Retry-After": "2"} if refused.status == 503 else None)
    finally:
        _log(request, status, started, name)


async def _api_page(request: Request, query, values: dict[str, str]) -> Response:
    """A canned query as a page: its form (pickers for entities), and when asked, its answer as a
    table with labels and local links, a chart for a column of numbers, and the other formats.

    The page language doubles as the query's `lang` parameter: ?lang= sets both; a query without
    one ignores it. Empty fields take their defaults, so a submitted form reads like a typed URL."""
    lang, extra = page_lang(request)
    strings = pages.UI[lang]
    names = {p.name for p in query.params}
    asked = {k: v for k, v in values.items() if k != "lang" and v != ""}
    if "lang" in names:
        asked["lang"] = values.get("lang") or lang
    graph = getattr(request.app.state, "graph", None)
    ontology = getattr(request.app.state, "ontology", None)
    context = {**_shell(lang, f"/api/{query.name}.html", querypages.title(query, lang), section="queries",
                         params=[(k, v) for k, v in asked.items() if k != "lang"], description=query.description),
               "query": {"name": query.name, "title": querypages.title(query, lang), "description": query.description,
                         "form": query.form},
               "result": None, "error": None, "links": None, "waiting": False}
    status = 200
    fresh = not any(k != "lang" for k in values)
    shown_values = asked
    if fresh and any(p.required for p in query.params):
        # nothing asked yet: the form, filled with the catalogue's example, waits to be run
        shown_values = {**query.example_values(), **asked}
        context["waiting"] = True
    else:
        try:
            text = await asyncio.to_thread(bind, query, asked, request.app.state.lookup)
        except ParameterError as exc:
            status = 400
            context["error"] = {"title": strings["query_bad_param"], "parameter": exc.parameter,
                                "label": querypages.param_label(query.param(exc.parameter), lang)
                                if exc.parameter and query.param(exc.parameter) else exc.parameter,
                                "message": str(exc)}
        except RemoteError as exc:
            status = 502
            context["error"] = {"title": strings["query_error"], "parameter": None, "label": None,
                                "message": f"the store could not answer: {exc.cause}"}
        else:
            graph_form = query.form in ("construct", "describe")
            run = narrowed(query.name, asked, text, getattr(request.app.state, "text_index", None))
            try:
                response = await _answer(request, run, "text/turtle" if graph_form
                                         else "application/sparql-results+json", whole=True)
            except Refused as refused:
                status = refused.status
                context["error"] = {"title": strings["query_error"], "parameter": None, "label": None,
                                    "message": str(refused)}
            else:
                body = response.body
                if graph_form:
                    result = await asyncio.to_thread(querypages.graph_table, body, lang, graph, ontology)
                else:
                    result = await asyncio.to_thread(
                        lambda: querypages.select_table(json.loads(body), lang, graph, ontology))
                result["truncated"] = bool(response.headers.get("x-result-truncated"))
                result["shown_note"] = (strings["query_shown_rows"].replace("%d", str(querypages.HTML_ROWS))
                                        if result["count"] > result["shown"] else None)
                context["result"] = result
                context["links"] = querypages.api_links(query.name, asked, querypages.editor_text(
                    text, querypages.title(query, lang)), graph_form)
    invalid = context["error"]["parameter"] if context["error"] else None
    context["fields"] = await asyncio.to_thread(querypages.form_fields, query, shown_values, lang, graph, invalid)
    if context["links"] is None:
        context["links"] = querypages.api_links(query.name, asked, None, query.form in ("construct", "describe"))
    body = await asyncio.to_thread(render, "api_query.html", **context)
    return _html(body, status, extra)


def create_app(ntriples: bytes, triples: int, settings: Settings | None = None, lookup_engine=None,
               runner=None) -> Starlette:
    """The web app over a graph given as N-Triples; `lookup_engine` resolves parameter names.

    Queries run on local worker processes, or on `runner` when given (anything with the worker
    pool's start, close, ready and run: serve --store passes one that forwards to a remote store).
    """
    settings = settings or Settings()
    pool = runner or worker_pool(ntriples, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        pool.start()
        for hook in app.state.startup_hooks:
            hook(app)
        if not getattr(app.state, "heap_settled", False):
            settle_heap()
        try:
            yield
        finally:
            app.state.pool.close()   # the current pool: a reload may have replaced the first

    app = Starlette(
        routes=[
            Route("/sparql", sparql, methods=["GET", "POST", "HEAD"]),
            Route("/query", sparql, methods=["GET", "POST", "HEAD"]),
            Route("/healthz", healthz),
            Route("/api", api_index),
            Route("/api/openapi.json", api_openapi),
            Route("/api/docs", api_docs),
            Route("/api/{name}", api_query),
            Mount("/static", CompressedStaticFiles(), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD"],
                               allow_headers=["Accept", "Content-Type", "If-None-Match"],
                               expose_headers=["ETag", "X-Result-Truncated", "X-Result-Limit", "X-Result-Limit-Bytes",
                                               "Retry-After"])],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalogue = Catalogue.load()
    app.state.startup_hooks = []
    switch_graph(app, pool, triples, lookup_engine, lazy_examples(app.state.catalogue, lookup_engine))
    return app


def worker_pool(source: bytes | str, settings: Settings) -> WorkerPool:
    """Query workers over a graph (N-Triples, or a store directory version's path) with the settings' limits."""
    return WorkerPool(source, size=settings.workers, timeout=settings.timeout, max_rows=settings.max_rows,
                      max_bytes=settings.max_bytes)


def settle_heap() -> None:
    """Move everything alive now (the graph, shapes, pages' state) out of the garbage collector's
    view. A full collection walks every object, some 15 ms with the graph loaded, and stalled
    whichever requests were in flight: it set the tail latency. Called at start and after a reload,
    when the old graph has been dropped (unfreezing first, so that it can be collected)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def lazy_examples(catalogue: Catalogue, lookup_engine) -> Lazy:
    """The query UI's ready examples per page language ({lang: [...]}), with their example
    parameters bound (and `lang` set to the page's), worked out when the UI is first asked for:
    binding them looks names up in the graph, seconds at 100× its size."""
    def bound(q, lang: str) -> str:
        if lookup_engine is None:
            return q.text
        values = q.example_values()
        if q.param("lang") is not None:
            values["lang"] = lang
        return bind(q, values, lookup_engine)

    return Lazy(lambda: {lang: [{"name": q.name, "title": querypages.title(q, lang),
                                 "query": querypages.editor_text(bound(q, lang), querypages.title(q, lang))}
                                for q in catalogue] for lang in pages.LANGS})


def switch_graph(app, pool, triples: int, lookup_engine, examples: Lazy) -> None:
    """Point the endpoint at a (new) graph in one synchronous step, with an empty result cache.

    Handlers read the cache, the pool and the lookup engine without awaiting in between, so a
    request is answered wholly from the graph it started on.
    """
    app.state.pool = pool
    app.state.cache = ResultCache(app.state.settings.cache_bytes)
    app.state.triples = triples
    app.state.lookup = lookup_engine
    app.state.examples = examples
