"""Remote SPARQL 1.1 stores: one careful HTTP transport, and queries through SPARQLWrapper.

A remote store fails in many ways, and each must end in one line that names the endpoint and
the cause, with its own exit code. The transport therefore owns every request: an overall
deadline per request (a server that drips one byte a second is cut off like one that says
nothing), `Retry-After` honoured on 429/503 for a capped number of retries with backoff, other
4xx never retried, redirects followed only to the same scheme, host and port, `file://` refused,
and a descriptive User-Agent. SPARQLWrapper builds the protocol requests (method, parameters,
Accept) and the transport sends them.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urljoin, urlsplit

import httpx
from rdflib import BNode, Graph, Literal, URIRef
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

from .errors import (EXIT_REMOTE_BAD_RESPONSE, EXIT_REMOTE_BUSY, EXIT_REMOTE_FAILED, EXIT_REMOTE_REFUSED,
                     EXIT_REMOTE_TIMEOUT, EXIT_REMOTE_UNREACHABLE, EXIT_UNSAFE_URL, FtzKgError)
from .store import AskResult, GraphResult, QueryError, Result, SelectResult

try:
    USER_AGENT = f"ftz-kg/{version('ftz-kg')} (+https://w3id.org/ftz-kg; SPARQL client)"
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    USER_AGENT = "ftz-kg (+https://w3id.org/ftz-kg; SPARQL client)"

MAX_REDIRECTS = 5
MAX_BODY = 1024 ** 3


class RemoteError(FtzKgError):
    """A remote store could not be used; the message names the endpoint and the cause."""

    exit_code = EXIT_REMOTE_FAILED

    def __init__(self, endpoint: str, cause: str, status: int | None = None):
        self.endpoint = endpoint
        self.cause = cause
        self.status = status   # the HTTP status, when the store answered with one
        super().__init__(f"{endpoint}: {cause}")


class EndpointUnreachable(RemoteError):
    exit_code = EXIT_REMOTE_UNREACHABLE


class EndpointTimeout(RemoteError):
    exit_code = EXIT_REMOTE_TIMEOUT


class EndpointRefused(RemoteError):
    """The store answered 4xx: our request was wrong or not allowed; retrying would not help."""

    exit_code = EXIT_REMOTE_REFUSED

    def __init__(self, endpoint: str, cause: str, status: int):
        super().__init__(endpoint, cause, status)


class EndpointBusy(RemoteError):
    exit_code = EXIT_REMOTE_BUSY


class BadResponse(RemoteError):
    exit_code = EXIT_REMOTE_BAD_RESPONSE


class UnsafeURL(RemoteError):
    exit_code = EXIT_UNSAFE_URL


def check_url(url: str, what: str = "endpoint") -> str:
    """Accept only absolute http(s) URLs: a `file://` endpoint would read local files."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(url, f"the {what} must be an http:// or https:// URL")
    return url


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _short(body: bytes) -> str:
    """The first line of an error body, without markup, for a one-line message."""
    text = body.decode("utf-8", "replace")
    if "<" in text and ">" in text:
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text[:200]


def _unreachable_cause(exc: Exception) -> str:
    seen = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (is the store running?)"
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    if "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text:
        return "cannot resolve the host name"
    if "refused" in text:
        return "connection refused (is the store running?)"
    return f"cannot connect ({exc})"


class Transport:
    """HTTP for remote stores: deadline, retries, redirect policy, authentication."""

    def __init__(self, timeout: float = 30.0, retries: int = 3, max_wait: float = 10.0,
                 user: str | None = None, password: str | None = None, token: str | None = None):
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        auth = _ChallengeAuth(user, password) if user else None
        self.client = httpx.Client(follow_redirects=False, headers=headers, auth=auth, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, *, params=None, content: bytes | None = None,
                headers: dict | None = None, endpoint: str | None = None) -> Reply:
        """Send one request; return a 2xx reply or raise a RemoteError naming `endpoint`."""
        endpoint = endpoint or url.split("?")[0]
        check_url(url)
        origin = urlsplit(url)
        deadline = time.monotonic() + self.timeout
        attempt = 0
        redirects = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EndpointTimeout(endpoint, f"no complete answer within {self.timeout:g} s")
            # reads may wait as long as the deadline allows (a MOVE of a large graph is silent for
            # a while); the deadline itself is checked between chunks, against slow drips
            per_read = httpx.Timeout(remaining, connect=min(remaining, 10.0))
            try:
                with self.client.stream(method, url, params=params, content=content, headers=headers,
                                        timeout=per_read) as response:
                    status = response.status_code
                    if status in (301, 302, 303, 307, 308):
                        target = urljoin(url, response.headers.get("location", ""))
                        moved = urlsplit(target)
                        if (moved.scheme, moved.hostname, moved.port) != (origin.scheme, origin.hostname, origin.port):
                            raise UnsafeURL(endpoint, f"redirected to {target!r}, another host or scheme; refused")
                        if method not in ("GET", "HEAD") and status not in (307, 308):
                            raise EndpointRefused(endpoint, f"redirected ({status}) a {method} request; refused", status)
                        redirects += 1
                        if redirects > MAX_REDIRECTS:
                            raise EndpointRefused(endpoint, "too many redirects", status)
                        url = target
                        continue
                    if status in (429, 503):
                        wait = _retry_after(response.headers.get("retry-after"))
                        wait = min(wait if wait is not None else 0.5 * 2 ** attempt, self.max_wait)
                        if attempt >= self.retries or wait >= deadline - time.monotonic():
                            raise EndpointBusy(endpoint, f"busy ({status}) after {attempt + 1} attempt(s); "
                                                         f"try again later")
                        attempt += 1
                        time.sleep(wait)
                        continue
                    body = self._read(response, deadline, endpoint)
            except httpx.TimeoutException:
                raise EndpointTimeout(endpoint, f"no complete answer within {self.timeout:g} s") from None
            except httpx.ConnectError as exc:
                raise EndpointUnreachable(endpoint, _unreachable_cause(exc)) from None
            except httpx.RemoteProtocolError as exc:
                if "complete message body" in str(exc):
                    raise BadResponse(endpoint, "answer truncated: the connection closed before its end") from None
                raise EndpointUnreachable(endpoint, f"connection broken ({exc})") from None
            except (httpx.ReadError, httpx.WriteError) as exc:
                raise EndpointUnreachable(endpoint, f"connection reset ({type(exc).__name__})") from None
            except httpx.UnsupportedProtocol:
                raise UnsafeURL(endpoint, "unsupported URL scheme") from None
            except httpx.HTTPError as exc:
                raise EndpointUnreachable(endpoint, f"HTTP error ({type(exc).__name__}: {exc})") from None
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if 200 <= status < 300:
                return Reply(status, content_type, body)
            if 400 <= status < 500:
                raise EndpointRefused(endpoint, f"refused the request ({status}): {_short(body)}", status)
            raise RemoteError(endpoint, f"server error ({status}): {_short(body)}".rstrip(": "), status)

    @staticmethod
    def _read(response: httpx.Response, deadline: float, endpoint: str) -> bytes:
        # a body shorter than its Content-Length is caught by httpx (RemoteProtocolError, above)
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:
                raise BadResponse(endpoint, f"answer larger than {MAX_BODY} bytes")
            if time.monotonic() > deadline:
                raise EndpointTimeout(endpoint, "answer still arriving when the deadline passed")
        return b"".join(chunks)


class _ChallengeAuth(httpx.Auth):
    """Credentials only when the store asks, in the scheme it asks for (Digest or Basic)."""

    requires_request_body = True

    def __init__(self, user: str, password: str | None):
        self.basic = httpx.BasicAuth(user, password or "")
        self.digest = httpx.DigestAuth(user, password or "")

    def auth_flow(self, request):
        if self.digest._last_challenge is not None:  # the store asked for Digest before: answer it at once
            yield from self.digest.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        if response.headers.get("www-authenticate", "").lower().startswith("digest"):
            yield from self.digest.auth_flow(request)
        else:
            yield from self.basic.auth_flow(request)


class _Wrapper(SPARQLWrapper):
    """SPARQLWrapper whose requests go through our transport instead of urllib."""

    def __init__(self, endpoint: str, transport: Transport, update_endpoint: str | None = None):
        super().__init__(endpoint, updateEndpoint=update_endpoint, agent=USER_AGENT)
        self.transport = transport

    def _query(self):
        request = self._createRequest()
        headers = dict(request.header_items())
        headers.pop("Connection", None)
        endpoint = self.updateEndpoint if self.isSparqlUpdateRequest() else self.endpoint
        reply = self.transport.request(request.get_method(), request.full_url, content=request.data,
                                       headers=headers, endpoint=endpoint)
        return reply, self.returnFormat


def _term(cell: dict, endpoint: str):
    kind = cell.get("type")
    value = cell.get("value")
    if not isinstance(value, str):
        raise BadResponse(endpoint, "malformed SPARQL JSON results: a binding without a value")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in cell:
            return Literal(value, lang=cell["xml:lang"])
        datatype = cell.get("datatype")
        if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
            return Literal(value, datatype=URIRef(datatype), normalize=False)
        return Literal(value)
    raise BadResponse(endpoint, f"malformed SPARQL JSON results: unknown term type {kind!r}")


def parse_json_results(body: bytes, endpoint: str) -> SelectResult | AskResult:
    """SPARQL 1.1 JSON results as engine-neutral results; anything else is a BadResponse."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadResponse(endpoint, f"malformed or truncated SPARQL JSON results ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or "head" not in data:
        raise BadResponse(endpoint, "malformed SPARQL JSON results: no head")
    if "boolean" in data:
        return AskResult(bool(data["boolean"]))
    try:
        variables = list(data["head"].get("vars", []))
        rows = [tuple(_term(b[v], endpoint) if v in b else None for v in variables)
                for b in data["results"]["bindings"]]
    except (KeyError, TypeError, AttributeError):
        raise BadResponse(endpoint, "malformed SPARQL JSON results: no results.bindings") from None
    return SelectResult(variables, rows)


class RemoteEngine:
    """A remote SPARQL 1.1 query endpoint, scoped to the graph our data was published into."""

    name = "remote"

    def __init__(self, endpoint: str, transport: Transport | None = None, graph: str | None = None):
        self.endpoint = check_url(endpoint)
        self.transport = transport or Transport()
        self.graph = graph

    def query(self, sparql: str) -> Result:
        wrapper = _Wrapper(self.endpoint, self.transport)
        wrapper.setQuery(sparql)
        if wrapper.isSparqlUpdateRequest():
            raise QueryError("this is a SPARQL update; queries here are read-only")
        wrapper.setMethod(POST)
        if self.graph:
            wrapper.addDefaultGraph(self.graph)
        graph_form = wrapper.queryType in ("CONSTRUCT", "DESCRIBE")
        wrapper.setReturnFormat(TURTLE if graph_form else JSON)
        try:
            reply, _ = wrapper._query()
        except EndpointRefused as refused:
            if refused.status == 400:
                raise QueryError(f"{self.endpoint} rejected the query: {refused.cause}") from None
            raise
        if reply.content_type in ("text/html", "application/xhtml+xml"):
            raise BadResponse(self.endpoint, "answered with an HTML page, not SPARQL results")
        if not graph_form:
            return parse_json_results(reply.body, self.endpoint)
        graph = Graph()
        fmt = "nt" if reply.content_type in ("application/n-triples", "text/plain") else "turtle"
        try:
            graph.parse(data=reply.body.decode("utf-8"), format=fmt)
        except Exception as exc:  # rdflib raises several parser exception types
            raise BadResponse(self.endpoint, f"malformed or truncated RDF answer ({type(exc).__name__})") from None
        return GraphResult(graph)

    def update(self, request: str, update_endpoint: str) -> None:
        """Run a SPARQL 1.1 Update request (form-encoded POST) at `update_endpoint`."""
        wrapper = _Wrapper(self.endpoint, self.transport, update_endpoint=check_url(update_endpoint))
        wrapper.setQuery(request)
        wrapper.setMethod(POST)
        wrapper._query()
