"""Dereferenceable IRIs, the home page, search, dumps and the dataset description, served from the
built graph held in the web process (small and immutable between reloads)."""

from __future__ import annotations

import datetime
import gzip
import io
import re
import threading
import zipfile

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from ftz_kg.pipeline import export
from ftz_kg.web import pages
from ftz_kg.web.cache import BoundedCache
from ftz_kg.web.conneg import negotiate, not_modified, split_suffix, strong_etag
from ftz_kg.pipeline.rdfio import serialize_turtle
from ftz_kg.vocab import BASE, ONTOLOGY_IRI, bind_prefixes

RDF_VIEWS = {"text/turtle": ("turtle", ".ttl"), "application/ld+json": ("json-ld", ".jsonld"),
             "application/n-triples": ("nt", ".nt"), "application/rdf+xml": ("xml", ".rdf")}
OFFERED = ["text/html", *RDF_VIEWS]
PAGE_CACHE_BYTES = 32 * 1024 * 1024
COMPRESS_FROM = 1024           # bytes: smaller bodies gain nothing from gzip
# pages and suggestions are compressed (once per page, then cached); downloads go as they are
COMPRESSED_TYPES = {"text/html", "application/json"}   # rendered entity views, per loaded graph
# Pages are rendered in threads, off the event loop, at most this many at once; requests beyond
# that wait, and beyond PAGE_QUEUE waiting ones they get 503 rather than piling up.
PAGE_RENDERERS = 2
PAGE_QUEUE = 32
SUFFIXES = {suffix: media for media, (_, suffix) in RDF_VIEWS.items()} | {".html": "text/html"}
KINDS = {"zone", "subarea", "province", "measure", "agency", "batch", "innovation", "scope", "strategy", "theme",
         "experience-domain", "scheme", "source", "group", "document", "event", "observation", "indicator", "unit",
         "period-basis", "value-qualifier", "dataset"}
# used with fullmatch, not ^...$: `$` also matches before a final newline ("zone/sichuan\n")
_PATH = re.compile(r"(?P<kind>[a-z-]+)/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*(?:/row-[0-9]+)?)")
# claims: a conflict and its readings, a statement (…/statement/measure/<id>/originatesIn/<value key>), a citation
_CLAIM_PATH = re.compile(r"conflict/c[0-9]+(?:/followed|/other)?"
                         r"|statement/[a-z-]+/[a-z0-9]+(?:-[a-z0-9]+)*/[A-Za-z]+/[a-z0-9]+(?:-[a-z0-9]+)*"
                         r"|citation/(?:[a-z-]+/[a-z0-9]+(?:-[a-z0-9]+)*/[0-9a-f]{12}|ext-editorial)")


def _lang(request: Request) -> tuple[str, dict]:
    """The page language: ?lang= (remembered in a cookie), else the cookie, else the browser's, else zh."""
    asked = request.query_params.get("lang")
    if asked in pages.LANGS:
        return asked, {"set_cookie": asked}
    cookie = request.cookies.get("lang")
    if cookie in pages.LANGS:
        return cookie, {}
    accept = request.headers.get("accept-language", "")
    return ("en" if accept.lower().startswith("en") else "zh"), {}


def _respond(request: Request, body: bytes, media_type: str, extra: dict | None = None, lang_cookie=None) -> Response:
    etag = strong_etag(body)
    compress = (media_type in COMPRESSED_TYPES and len(body) >= COMPRESS_FROM
                and "gzip" in request.headers.get("accept-encoding", ""))
    # a strong validator names one representation: the gzip-encoded one gets its own
    shown_etag = etag[:-1] + '-gzip"' if compress else etag
    headers = {"Vary": "Accept, Accept-Language, Cookie, Accept-Encoding", "ETag": shown_etag, **(extra or {})}
    asked = request.headers.get("if-none-match")
    if not_modified(asked, etag) or not_modified(asked, shown_etag):
        return Response(status_code=304, headers=headers)
    content_type = media_type if media_type.endswith("xml") else f"{media_type}; charset=utf-8"
    if compress:
        cache: BoundedCache = request.app.state.page_cache
        packed = cache.get(("gzip", etag))
        if packed is None:
            packed = gzip.compress(body, 6, mtime=0)
            cache.put(("gzip", etag), packed, len(packed))
        body = packed
        headers["Content-Encoding"] = "gzip"
    response = Response(body, 200, headers=headers, media_type=content_type)
    if lang_cookie:
        response.set_cookie("lang", lang_cookie, max_age=365 * 24 * 3600, samesite="lax")
    return response


def _not_found(request: Request, media_type: str | None, message: str, status: int = 404) -> Response:
    headers = {"Vary": "Accept"}
    if media_type == "text/html" or (media_type is None and "html" in request.headers.get("accept", "")):
        lang, _ = _lang(request)
        return HTMLResponse(pages.error_page(status, message, lang), status, headers=headers)
    if "json" in (media_type or request.headers.get("accept", "")):
        return JSONResponse({"error": {"status": status, "message": message}}, status, headers=headers)
    return PlainTextResponse(message + "\n", status, headers=headers)


class Busy(Exception):
    """Too many pages are being rendered: answer 503, the client may retry."""


async def rendered(request: Request, key: tuple, make) -> bytes:
    """The page `make()` renders, from the page cache or rendered in a worker thread (the event loop
    keeps serving meanwhile), with a cap on renderings at once and on requests waiting for one."""
    cache: BoundedCache = request.app.state.page_cache
    body = cache.get(key)
    if body is not None:
        return body
    state = request.app.state
    limiter = getattr(state, "page_limiter", None)
    if limiter is None:
        import anyio
        limiter = state.page_limiter = anyio.CapacityLimiter(PAGE_RENDERERS)
    if limiter.statistics().tasks_waiting >= PAGE_QUEUE:
        raise Busy()
    import anyio.to_thread
    body = (await anyio.to_thread.run_sync(make, limiter=limiter)).encode("utf-8")
    cache.put(key, body, len(body))
    return body


def _busy() -> Response:
    return PlainTextResponse("too many pages are being prepared; retry shortly\n", 503, headers={"Retry-After": "1"})


def describe(graph: Graph, node: URIRef) -> Graph:
    """The entity's own triples, the triples pointing at it and the labels of its neighbours:
    the same facts its HTML page shows."""
    out = Graph()
    bind_prefixes(out)
    neighbours = set()
    for p, o in graph.predicate_objects(node):
        out.add((node, p, o))
        if isinstance(o, URIRef):
            neighbours.add(o)
        neighbours.add(p)
    for s, p in graph.subject_predicates(node):
        out.add((s, p, node))
        neighbours.update((s, p))
    for n in neighbours:
        for lbl in graph.objects(n, SKOS.prefLabel):
            out.add((n, SKOS.prefLabel, lbl))
    return out


def entity_iri(path: str) -> URIRef | None:
    """The IRI a local path (suffix removed) names — `zone/sichuan` -> <https://w3id.org/ftz-kg/zone/sichuan>,
    `def` -> the ontology — or None when the path cannot be one of ours, whatever its characters."""
    if path in ("def", "def/"):
        return ONTOLOGY_IRI
    if _CLAIM_PATH.fullmatch(path):
        return URIRef(BASE + path)
    match = _PATH.fullmatch(path)
    if not match or match["kind"] not in KINDS:
        return None
    return URIRef(BASE + path)


async def entity(request: Request) -> Response:
    graph: Graph = request.app.state.graph
    path, media_type = split_suffix(request.path_params["path"], SUFFIXES)
    try:
        # the route's pattern ends in `$`, which also matches before a final newline: without this,
        # /zone/sichuan%0A would arrive as `zone/sichuan` and be served
        if not request.scope["path"].endswith("/" + request.path_params["path"]):
            return _not_found(request, media_type, "no such resource")
        node = entity_iri(path)
        if node is None:
            return _not_found(request, media_type, "no such resource")
        if node == ONTOLOGY_IRI:
            subject_graph = request.app.state.ontology
        else:
            if (node, None, None) not in graph:
                return _not_found(request, media_type, f"no resource <{node}> in this dataset")
            subject_graph = None    # described only when an RDF view is not cached yet
        chosen = media_type or negotiate(request.headers.get("accept"), OFFERED)
        if chosen is None:
            return _not_found(request, "text/plain", "cannot produce the requested media type; offered: "
                              + ", ".join(OFFERED), 406)
        local = "/" + path
        alternates = [(m, local + s) for m, (_, s) in RDF_VIEWS.items()]
        link = ", ".join(f'<{h}>; rel="alternate"; type="{m}"' for m, h in [("text/html", local + ".html")] + alternates)
        # the graph does not change between reloads: each view is rendered once
        cache: BoundedCache = request.app.state.page_cache
        if chosen == "text/html":
            lang, extra = _lang(request)
            ontology = request.app.state.ontology
            body = await rendered(request, (path, chosen, lang), lambda: pages.ontology_page(ontology, lang)
                                  if node == ONTOLOGY_IRI else pages.entity_page(graph, node, lang, local, alternates))
            return _respond(request, body, "text/html", {"Link": link}, extra.get("set_cookie"))
        body = cache.get((path, chosen, None))
        if body is None:
            fmt = RDF_VIEWS[chosen][0]
            if subject_graph is None:
                subject_graph = describe(graph, node)
            body = serialize_turtle(subject_graph) if fmt == "turtle" else subject_graph.serialize(format=fmt,
                                                                                                    encoding="utf-8")
            cache.put((path, chosen, None), body, len(body))
        return _respond(request, body, chosen, {"Link": link})
    except Busy:
        return _busy()
    except Exception:   # never a 500 for a path: anything odd is simply not a resource of ours
        return _not_found(request, media_type, "no such resource")


def warm_dashboard(app) -> None:
    """Compute the home page's figures in the background once serving, unless they were kept."""
    import threading
    dashboard = app.state.dashboard
    if not dashboard.ready:
        threading.Thread(target=dashboard.compute_all, name="dashboard", daemon=True).start()


async def home(request: Request) -> Response:
    graph: Graph = request.app.state.graph
    dashboard = request.app.state.dashboard
    lang, extra = _lang(request)
    try:
        body = await rendered(request, ("/", "text/html", lang), lambda: pages.home_page(graph, lang, dashboard.get(lang)))
    except Busy:
        return _busy()
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))


async def search(request: Request) -> Response:
    lang, extra = _lang(request)
    graph: Graph = request.app.state.graph
    index = request.app.state.text_index
    text = request.query_params.get("q", "")
    if request.query_params.get("format") == "json":
        import json

        def suggestions() -> str:
            # names from the index: read through the store of --store-dir the graph is slower to ask
            hits = index.search(text, lang, 50)
            names = index.labels([h.iri for h in hits] + [h.type for h in hits], lang)
            return json.dumps([{"iri": h.iri, "href": pages.local(h.iri), "label": names[h.iri],
                                "type": names[h.type]} for h in hits], ensure_ascii=False)
        try:
            body = await rendered(request, ("/search.json", text, lang), suggestions)
        except Busy:
            return _busy()
        return _respond(request, body, "application/json")
    try:
        body = await rendered(request, ("/search", text, lang), lambda: pages.search_page(graph, index, text, lang))
    except Busy:
        return _busy()
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))


async def neighbourhood(request: Request) -> Response:
    import json
    from ftz_kg.web.neighbourhood import neighbourhood as neighbourhood_elements
    graph: Graph = request.app.state.graph
    iri = request.query_params.get("iri", "")
    lang = request.query_params.get("lang", "zh")
    node = URIRef(iri)
    if lang not in pages.LANGS or not iri.startswith(BASE) or (node, None, None) not in graph:
        return _not_found(request, "application/json", "no such resource")
    body = json.dumps(neighbourhood_elements(graph, node, lang), ensure_ascii=False).encode("utf-8")
    return _respond(request, body, "application/json")


async def browse(request: Request) -> Response:
    from ftz_kg.vocab import FTZ
    graph: Graph = request.app.state.graph
    name = request.path_params["cls"]
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    cls = FTZ[name] if re.fullmatch(r"[A-Z][A-Za-z]+", name) else None
    if cls is None or (cls, RDF.type, None) not in graph:
        return _not_found(request, "text/html", "no such class")
    lang, extra = _lang(request)
    filters = {k: v for k, v in request.query_params.items() if k not in ("sort", "lang") and v}
    sort = request.query_params.get("sort") or None
    key = ("/browse", name, as_csv, lang, sort, tuple(sorted(filters.items())))
    try:
        if as_csv:
            body = await rendered(request, key, lambda: pages.browse_csv(graph, cls, lang, sort, filters).decode("utf-8"))
            return _respond(request, body, "text/csv",
                            {"Content-Disposition": f'attachment; filename="ftz-kg-{name}-{lang}.csv"'})
        body = await rendered(request, key, lambda: pages.browse_page(graph, cls, lang, sort, filters))
    except pages.BadParameter as exc:
        return _not_found(request, "text/csv" if as_csv else "text/html", str(exc), 400)
    except Busy:
        return _busy()
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))


async def browse_index(request: Request) -> Response:
    graph: Graph = request.app.state.graph
    lang, extra = _lang(request)
    try:
        body = await rendered(request, ("/browse", lang), lambda: pages.browse_index_page(graph, lang))
    except Busy:
        return _busy()
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))


async def favicon(request: Request) -> Response:
    from ftz_kg.web.assets import STATIC
    return Response((STATIC / "favicon.ico").read_bytes(), media_type="image/x-icon",
                    headers={"Cache-Control": "public, max-age=604800"})


async def compare(request: Request) -> Response:
    """Zones side by side (ftz_kg.web.compare): /compare?zone=sichuan&zone=chongqing; no zone gives the picker,
    a bad, unknown, single or seventh zone a 400 page that names the parameter and value."""
    from ftz_kg.web import compare as comparison
    graph: Graph = request.app.state.graph
    lang, extra = _lang(request)
    given = request.query_params.getlist(comparison.PARAMETER)
    if not any(v.strip() for v in given):
        make, key = (lambda: comparison.form_page(graph, lang)), ("/compare", lang)
    else:
        try:
            slugs = comparison.parse_zones(graph, given)
        except comparison.BadZones as error:
            # not cached: any text may arrive here, and the page is cheap
            return HTMLResponse(comparison.form_page(graph, lang, error, given), 400,
                                headers={"Vary": "Accept-Language, Cookie"})
        make, key = (lambda: comparison.compare_page(graph, lang, slugs)), ("/compare", lang, *slugs)
    try:
        body = await rendered(request, key, make)
    except Busy:
        return _busy()
    return _respond(request, body, "text/html", None, extra.get("set_cookie"))


class Dumps:
    """The export bundle, rendered once on first request (deterministic, so cacheable forever)."""

    def __init__(self, graph: Graph, ontology: Graph, shapes: Graph):
        self.graph, self.ontology, self.shapes = graph, ontology, shapes
        self._files: dict[str, tuple[bytes, str]] | None = None
        self._lock = threading.Lock()

    def files(self) -> dict[str, tuple[bytes, str]]:
        with self._lock:
            if self._files is None:
                files = {}
                for fmt in export.FORMATS:
                    content = export.render(fmt, self.graph, self.ontology, self.shapes)
                    if isinstance(content, dict):
                        buffer = io.BytesIO()
                        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                            for name, text in sorted(content.items()):
                                info = zipfile.ZipInfo(f"{export.FILE_NAMES[fmt]}/{name}", (2020, 1, 1, 0, 0, 0))
                                archive.writestr(info, text)
                        files[export.FILE_NAMES[fmt] + ".zip"] = (buffer.getvalue(), "application/zip")
                    else:
                        files[export.FILE_NAMES[fmt]] = (content, export.MEDIA_TYPES[fmt])
                self._files = files
            return self._files

    def sizes(self) -> dict[str, int]:
        files = self.files()
        return {fmt: len(files[export.FILE_NAMES[fmt] + (".zip" if fmt == "csv" else "")][0])
                for fmt in export.FORMATS}


async def dump(request: Request) -> Response:
    files = request.app.state.dumps.files()
    name = request.path_params["name"]
    if name not in files:
        return _not_found(request, None, f"no dump named {name!r}; see /.well-known/void")
    body, media = files[name]
    return _respond(request, body, media, {"Content-Disposition": f'attachment; filename="{name}"'})


async def void(request: Request) -> Response:
    from ftz_kg.pipeline.void import describe as describe_dataset
    base = request.app.state.settings.public_base or "/"    # configured, never the Host header
    created = request.app.state.created
    graph = describe_dataset(request.app.state.graph, request.app.state.dumps.sizes(), created, base)
    chosen = negotiate(request.headers.get("accept"), list(RDF_VIEWS)) or "text/turtle"
    fmt = RDF_VIEWS[chosen][0]
    body = serialize_turtle(graph) if fmt == "turtle" else graph.serialize(format=fmt, encoding="utf-8")
    return _respond(request, body, chosen)


async def jsonld_context(request: Request) -> Response:
    import json
    body = json.dumps(export.context(), indent=1, sort_keys=True).encode("utf-8")
    return _respond(request, body, "application/ld+json")


def prepare(graph: Graph, ontology: Graph, shapes: Graph, text_index_file=None, dashboard_file=None) -> dict:
    """The linked-data state for a graph, computed before the app switches to it; the text index
    and the home page's figures in memory, or kept in `text_index_file` and `dashboard_file`
    (under --store-dir) when given."""
    from ftz_kg.search import TextIndex
    from ftz_kg.web.dashboard import Dashboard
    text_index = TextIndex.from_graph(graph) if text_index_file is None else \
        TextIndex.open_or_build(graph, text_index_file)
    return {"graph": graph, "ontology": ontology, "dumps": Dumps(graph, ontology, shapes), "text_index": text_index,
            "dashboard": Dashboard(graph, dashboard_file), "page_cache": BoundedCache(PAGE_CACHE_BYTES),
            "created": datetime.date.today().isoformat()}


def apply(app, prepared: dict) -> None:
    """Switch the pages to a prepared graph (one synchronous step: no page sees half of each)."""
    for key, value in prepared.items():
        setattr(app.state, key, value)


def install(app, graph: Graph, ontology: Graph, shapes: Graph, text_index_file=None, dashboard_file=None) -> None:
    """Add the linked-data routes (after the API routes) and their state to the app."""
    from starlette.routing import Route

    from ftz_kg.web import askpage, explorer
    from ftz_kg.web.docsite import mount_docs

    apply(app, prepare(graph, ontology, shapes, text_index_file, dashboard_file))
    app.state.startup_hooks.append(lambda app: warm_dashboard(app))
    mount_docs(app)   # the documentation site at /docs/, when built: before the catch-all page route
    app.router.routes.extend([
        Route("/", home, methods=["GET", "HEAD"]),
        Route("/search", search, methods=["GET", "HEAD"]),
        Route("/neighbourhood", neighbourhood, methods=["GET", "HEAD"]),
        Route("/browse", browse_index, methods=["GET", "HEAD"]),
        Route("/browse/{cls}", browse, methods=["GET", "HEAD"]),
        Route("/favicon.ico", favicon, methods=["GET", "HEAD"]),
        Route("/.well-known/void", void, methods=["GET", "HEAD"]),
        Route("/context.jsonld", jsonld_context, methods=["GET", "HEAD"]),
        Route("/dumps/{name}", dump, methods=["GET", "HEAD"]),
        # the faceted explorer (ftz_kg/web/explorer.py): measures, and /explore/experiences
        Route("/explore", explorer.handle, methods=["GET", "HEAD"]),
        Route("/explore/{kind}", explorer.handle, methods=["GET", "HEAD"]),
        Route("/compare", compare, methods=["GET", "HEAD"]),
        # plain-language questions (ftz_kg/web/askpage.py)
        Route("/ask", askpage.handle, methods=["GET", "HEAD"]),
        Route("/{path:path}", entity, methods=["GET", "HEAD"]),
    ])
