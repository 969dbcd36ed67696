"""Remote SPARQL 1.1 stores: one careful HTTP transport, and queries through SPARQLWrapper.

A remote store fails in many ways, and each must end in one line that names the endpoint and
the cause, with its own exit code. The transport therefore owns every request: an overall
deadline per request (a server that drips one byte a second is cut off like one that says
nothing), `Retry-After` honoured on 429/503 for a capped number of retries with backoff, other
4xx never retried, redirects followed only to the same scheme, host and port, `file://` refused,
and a descriptive User-Agent. SPARQLWrapper builds the protocol requests (method, parameters,
Accept) and the transport sends them.

Whatever the store sends is untrusted: a URL (the endpoint given, or a redirect's Location) is
parsed strictly, and a host that only looks like another one (fullwidth letters, ideographic dots:
anything that changes under Unicode NFKC or is not plain IDNA) is refused; bodies are decompressed
here, in bounded steps, and capped at `max_body` bytes decompressed (`MAX_RESULT_BYTES` by default,
`FTZ_KG_MAX_RESULT_BYTES` in the environment), so a gzip bomb ends in a clean error at the cap;
SPARQL JSON results are read strictly (booleans are JSON booleans, language tags are valid, nesting
deeper than the JSON reader allows is a malformed answer).
"""

from __future__ import annotations

import email.utils
import io
import ipaddress
import json
import os
import re
import socket
import time
import unicodedata
import zlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import SplitResult, urljoin, urlsplit

import httpx
import idna
from rdflib import BNode, Graph, Literal, URIRef
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

from ftz_kg.errors import (EXIT_REMOTE_BAD_RESPONSE, EXIT_REMOTE_BUSY, EXIT_REMOTE_FAILED, EXIT_REMOTE_REFUSED,
                     EXIT_REMOTE_TIMEOUT, EXIT_REMOTE_UNREACHABLE, EXIT_UNSAFE_URL, FtzKgError)
from ftz_kg.query.store import AskResult, GraphResult, QueryError, Result, SelectResult

try:
    USER_AGENT = f"ftz-kg/{version('ftz-kg')} (+https://w3id.org/ftz-kg; SPARQL client)"
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    USER_AGENT = "ftz-kg (+https://w3id.org/ftz-kg; SPARQL client)"

MAX_REDIRECTS = 5
# The most an answer may take once decompressed, by default: well above our answers (the whole
# graph, as serve --store snapshots it, is about 1 MB of N-Triples, 100 MB at 100 times its size),
# well below what would exhaust the machine. A gzip bomb (a 1 MB body expanding to GBs) is cut off
# here, so memory stays at about this much.
MAX_RESULT_BYTES = 256 * 1024 ** 2
MAX_RESULT_BYTES_ENV = "FTZ_KG_MAX_RESULT_BYTES"
# Of an error answer (4xx, 5xx) only the first line is shown: read no more than this of it.
MAX_ERROR_BODY = 64 * 1024
# Compressed bodies are inflated at most this much at a time, each step checked against the cap.
_INFLATE_STEP = 1024 ** 2
# The encodings the transport decodes itself, and so the only ones it asks for.
ACCEPT_ENCODING = "gzip, deflate"


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


class _BadURL(ValueError):
    """A URL that does not parse, or whose host is not plainly the host it appears to be."""

    def __init__(self, cause: str, lookalike: bool = False):
        super().__init__(cause)
        self.cause = cause
        self.lookalike = lookalike   # parses, but names a host only by look-alike characters


# An ASCII host name as resolvers take it (letters, digits, '-', '_' and '.'; lower case by now).
_ASCII_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_.])?")
# Characters IDNA (UTS 46) turns into '.', which the host name given does not show as dots.
_UNICODE_DOTS = re.compile("[\u3002\uff0e\uff61]")


def _shown(text: str, limit: int = 120) -> str:
    """A value quoted for a one-line message, cut short."""
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _host_key(parts: SplitResult) -> str:
    """The host as it will be connected to, or _BadURL. Refuses a host that is not exactly what it
    looks like: `ｌｏｃａｌｈｏｓｔ` (fullwidth) or `127。0。0。1` (ideographic dots) end up at
    localhost or 127.0.0.1 after Unicode normalisation, which is how a look-alike slips past a
    check on the name as written."""
    host = parts.hostname
    if not host:
        raise _BadURL("no host")
    if "[" in parts.netloc:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            raise _BadURL(f"invalid IPv6 address {_shown(host)}") from None
    if host.isascii():
        if not _ASCII_HOST.fullmatch(host):
            raise _BadURL(f"invalid host name {_shown(host)}")
        return host
    normal = unicodedata.normalize("NFKC", host)
    if normal != host or _UNICODE_DOTS.search(host):
        shown = _UNICODE_DOTS.sub(".", normal)
        raise _BadURL(f"host {_shown(host)} is a look-alike of {_shown(shown)} (it changes under Unicode "
                      f"normalisation)", lookalike=True)
    try:
        # strict IDNA 2008, as httpx encodes it: no mapping of compatibility characters
        return idna.encode(host, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _BadURL(f"host {_shown(host)} is not a valid international domain name", lookalike=True) from None


def _unparsable(url: str, exc: ValueError) -> _BadURL:
    # e.g. a fullwidth colon in the host part, which NFKC would turn into a real one: a look-alike
    lookalike = not url.isascii() and unicodedata.normalize("NFKC", url) != url
    return _BadURL(f"malformed URL ({exc})", lookalike=lookalike)


def _join(base: str, location: str) -> str:
    """A redirect's Location resolved against the URL it answered; _BadURL when it does not parse."""
    try:
        return urljoin(base, location)
    except ValueError as exc:
        raise _unparsable(location, exc) from None


def _parse_url(url: str) -> tuple[SplitResult, tuple[str, str, int | None]]:
    """The URL's parts and its (scheme, host, port) as connected to; _BadURL when malformed."""
    try:
        parts = urlsplit(url)
        port = parts.port    # raises on a port that is not a number or out of range
    except ValueError as exc:
        raise _unparsable(url, exc) from None
    if port == 0:
        raise _BadURL("malformed URL (port 0)")
    if parts.scheme not in ("http", "https"):
        return parts, (parts.scheme, parts.hostname or "", port)
    key = (parts.scheme, _host_key(parts), port)
    try:
        httpx.URL(url)      # what the transport will send must parse there too
    except httpx.InvalidURL as exc:
        raise _BadURL(f"malformed URL ({exc})") from None
    return parts, key


def check_url(url: str, what: str = "endpoint") -> str:
    """Accept only well-formed absolute http(s) URLs with a plain host: a `file://` endpoint would
    read local files, and a malformed or look-alike one must not reach the HTTP library."""
    if not isinstance(url, str):
        raise UnsafeURL(str(url), f"the {what} must be an http:// or https:// URL")
    try:
        parts, _ = _parse_url(url)
    except _BadURL as bad:
        raise UnsafeURL(url, f"the {what} is not a usable http:// or https:// URL: {bad.cause}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(url, f"the {what} must be an http:// or https:// URL")
    return url


def _max_body_from_environment() -> int:
    value = os.environ.get(MAX_RESULT_BYTES_ENV, "").strip()
    if not value:
        return MAX_RESULT_BYTES
    if not value.isdigit() or int(value) <= 0:
        raise FtzKgError(f"{MAX_RESULT_BYTES_ENV} must be a positive whole number of bytes; got {_shown(value)}")
    return int(value)


class _Inflater:
    """Decodes a body's Content-Encoding in bounded steps: no step yields more than _INFLATE_STEP
    bytes, so the cap on the total is enforced before memory grows much past it. (httpx would
    inflate a whole network read at once: 64 KiB of gzip can hold 64 MiB.)"""

    def __init__(self, encoding: str, endpoint: str):
        self.endpoint = endpoint
        self.encoding = encoding.strip().lower()
        self.inflate = None
        self.fed = False
        if self.encoding in ("gzip", "x-gzip"):
            self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding not in ("", "identity", "deflate"):
            raise BadResponse(endpoint, f"answer in an encoding not asked for ({_shown(self.encoding, 40)})")

    def feed(self, data: bytes):
        """Yield the decoded bytes of `data`, a piece at a time."""
        if self.inflate is None and self.encoding == "deflate" and data:
            # "deflate" is meant to be zlib-wrapped, but some servers send it raw: tell by the header
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self.inflate = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self.inflate is None:
            yield data
            return
        self.fed = self.fed or bool(data)
        try:
            yield self.inflate.decompress(data, _INFLATE_STEP)
            while self.inflate.unconsumed_tail:
                yield self.inflate.decompress(self.inflate.unconsumed_tail, _INFLATE_STEP)
        except zlib.error:
            raise BadResponse(self.endpoint, "malformed compressed answer") from None

    def end(self) -> bytes:
        if self.inflate is None:
            return b""
        try:
            rest = self.inflate.flush()
        except zlib.error:
            raise BadResponse(self.endpoint, "malformed compressed answer") from None
        if self.fed and not self.inflate.eof:
            raise BadResponse(self.endpoint, "compressed answer truncated before its end")
        return rest


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
                 user: str | None = None, password: str | None = None, token: str | None = None,
                 max_body: int | None = None):
        """`max_body`: the most bytes an answer may take decompressed; by default
        FTZ_KG_MAX_RESULT_BYTES from the environment, else MAX_RESULT_BYTES (256 MiB)."""
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        if max_body is not None and max_body <= 0:
            raise ValueError("max_body must be positive")
        self.max_body = max_body if max_body is not None else _max_body_from_environment()
        # bodies are decoded here, under the cap (see _read): ask only for what we decode
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        auth = _ChallengeAuth(user, password) if user else None
        self.client = httpx.Client(follow_redirects=False, headers=headers, auth=auth, trust_env=False,
                                   event_hooks={"response": [_vet_location]})

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, *, params=None, content: bytes | None = None,
                headers: dict | None = None, endpoint: str | None = None) -> Reply:
        """Send one request; return a 2xx reply or raise a RemoteError naming `endpoint`."""
        endpoint = endpoint or url.split("?")[0]
        check_url(url)
        _, origin = _parse_url(url)
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
                        url = self._redirect_target(url, response.headers.get("location", ""), origin, endpoint)
                        if method not in ("GET", "HEAD") and status not in (307, 308):
                            raise EndpointRefused(endpoint, f"redirected ({status}) a {method} request; refused", status)
                        redirects += 1
                        if redirects > MAX_REDIRECTS:
                            raise EndpointRefused(endpoint, "too many redirects", status)
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
                    if 200 <= status < 300:
                        body = self._read(response, deadline, endpoint, self.max_body)
                    else:   # only its first line is shown: a little of it is enough
                        body = self._read(response, deadline, endpoint, MAX_ERROR_BODY, cut=True)
            except _BadLocation as bad:
                raise _location_error(endpoint, bad.location, bad.problem) from None
            except httpx.TimeoutException:
                raise EndpointTimeout(endpoint, f"no complete answer within {self.timeout:g} s") from None
            except httpx.ConnectError as exc:
                raise EndpointUnreachable(endpoint, _unreachable_cause(exc)) from None
            except httpx.RemoteProtocolError as exc:
                if "complete message body" in str(exc):
                    raise BadResponse(endpoint, "answer truncated: the connection closed before its end") from None
                if "location header" in str(exc):   # should not happen: _vet_location looks first
                    raise BadResponse(endpoint, f"redirected to an invalid URL ({exc})") from None
                raise EndpointUnreachable(endpoint, f"connection broken ({exc})") from None
            except (httpx.ReadError, httpx.WriteError) as exc:
                raise EndpointUnreachable(endpoint, f"connection reset ({type(exc).__name__})") from None
            except httpx.UnsupportedProtocol:
                raise UnsafeURL(endpoint, "unsupported URL scheme") from None
            except httpx.InvalidURL as exc:     # not an HTTPError; _parse_url should have caught it first
                raise UnsafeURL(endpoint, f"not a usable URL ({exc})") from None
            except httpx.HTTPError as exc:
                raise EndpointUnreachable(endpoint, f"HTTP error ({type(exc).__name__}: {exc})") from None
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if 200 <= status < 300:
                return Reply(status, content_type, body)
            if 400 <= status < 500:
                raise EndpointRefused(endpoint, f"refused the request ({status}): {_short(body)}", status)
            raise RemoteError(endpoint, f"server error ({status}): {_short(body)}".rstrip(": "), status)

    @staticmethod
    def _redirect_target(url: str, location: str, origin: tuple, endpoint: str) -> str:
        """The URL a redirect points to, if it is on the same scheme, host and port; else a RemoteError."""
        try:
            target = _join(url, location)
            _, moved = _parse_url(target)
        except _BadURL as bad:
            raise _location_error(endpoint, location, bad) from None
        if moved != origin:
            raise UnsafeURL(endpoint, f"redirected to {_shown(target)}, another host or scheme; refused")
        return target

    @staticmethod
    def _read(response: httpx.Response, deadline: float, endpoint: str, limit: int, cut: bool = False) -> bytes:
        """The body, decompressed here a bounded step at a time and capped at `limit` bytes: past the
        cap a BadResponse (or, with `cut`, the body so far). Memory stays at about `limit`."""
        # a body shorter than its Content-Length is caught by httpx (RemoteProtocolError, above)
        inflater = _Inflater(response.headers.get("content-encoding", ""), endpoint)
        body = io.BytesIO()     # getvalue() hands over its buffer without a second copy
        size = 0

        def take(piece: bytes) -> bool:
            nonlocal size
            if size + len(piece) > limit:
                if cut:
                    body.write(piece[:limit - size])
                    return False
                raise BadResponse(endpoint, f"answer larger than {limit} bytes decompressed "
                                            f"(the cap; {MAX_RESULT_BYTES_ENV} sets it)")
            body.write(piece)
            size += len(piece)
            return True

        for chunk in response.iter_raw():
            for piece in inflater.feed(chunk):
                if not take(piece):
                    return body.getvalue()
                if time.monotonic() > deadline:
                    raise EndpointTimeout(endpoint, "answer still arriving when the deadline passed")
            if time.monotonic() > deadline:
                raise EndpointTimeout(endpoint, "answer still arriving when the deadline passed")
        take(inflater.end())
        return body.getvalue()


class _BadLocation(Exception):
    """A redirect's Location that does not parse (or names a look-alike host)."""

    def __init__(self, location: str, problem: _BadURL):
        super().__init__(location)
        self.location = location
        self.problem = problem


def _vet_location(response: httpx.Response) -> None:
    """Response hook. httpx parses a redirect's Location before handing the response over, and
    fails on one it cannot parse with an error that does not say so; look at it first."""
    if not response.has_redirect_location:
        return
    location = response.headers["location"]
    try:
        _parse_url(_join(str(response.request.url), location))
    except _BadURL as bad:
        raise _BadLocation(location, bad) from None


def _location_error(endpoint: str, location: str, problem: _BadURL) -> RemoteError:
    """A Location sent by the store: a malformed one makes the answer malformed; one that names a
    host by look-alike characters is a redirect to another host, refused as unsafe."""
    if problem.lookalike:
        return UnsafeURL(endpoint, f"redirected to {_shown(location)}: {problem.cause}; refused")
    return BadResponse(endpoint, f"redirected to an invalid URL {_shown(location)}: {problem.cause}")


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


def _malformed(endpoint: str, what: str) -> BadResponse:
    return BadResponse(endpoint, f"malformed SPARQL JSON results: {what}")


def _term(cell, endpoint: str):
    if not isinstance(cell, dict):
        raise _malformed(endpoint, "a binding that is not a JSON object")
    kind = cell.get("type")
    value = cell.get("value")
    if not isinstance(value, str):
        raise _malformed(endpoint, "a binding without a value")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in cell:
            lang = cell["xml:lang"]
            if not isinstance(lang, str):
                raise _malformed(endpoint, "a language tag that is not a string")
            try:
                return Literal(value, lang=lang)
            except ValueError:      # rdflib checks the tag's syntax (BCP 47)
                raise _malformed(endpoint, f"invalid language tag {_shown(lang, 40)}") from None
        datatype = cell.get("datatype")
        if datatype is not None and not isinstance(datatype, str):
            raise _malformed(endpoint, "a datatype that is not a string")
        if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
            return Literal(value, datatype=URIRef(datatype), normalize=False)
        return Literal(value)
    raise _malformed(endpoint, f"unknown term type {_shown(str(kind), 40)}")


def parse_json_results(body: bytes, endpoint: str) -> SelectResult | AskResult:
    """SPARQL 1.1 JSON results as engine-neutral results, read strictly; anything else is a BadResponse."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadResponse(endpoint, f"malformed or truncated SPARQL JSON results ({exc.__class__.__name__})") from None
    except RecursionError:      # json's reader stops at Python's recursion limit
        raise _malformed(endpoint, "nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("head"), dict):
        raise _malformed(endpoint, "no head")
    if "boolean" in data:
        # only JSON true or false: the string "false" is truthy, and an ASK must not turn into yes
        if not isinstance(data["boolean"], bool):
            raise _malformed(endpoint, f"the ASK answer {_shown(json.dumps(data['boolean']), 40)} is not "
                                       f"true or false")
        return AskResult(data["boolean"])
    variables = data["head"].get("vars", [])
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise _malformed(endpoint, "head.vars is not a list of names")
    results = data.get("results")
    bindings = results.get("bindings") if isinstance(results, dict) else None
    if not isinstance(bindings, list):
        raise _malformed(endpoint, "no results.bindings")
    rows = []
    for binding in bindings:
        if not isinstance(binding, dict):
            raise _malformed(endpoint, "a result that is not a JSON object")
        rows.append(tuple(_term(binding[v], endpoint) if v in binding else None for v in variables))
    return SelectResult(list(variables), rows)


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
        if graph_form:
            # N-Triples first: Virtuoso 7 writes "111"^^xsd:decimal as a bare 111 in Turtle, which reads
            # back as an integer; its N-Triples keep the datatype
            wrapper.addCustomHttpHeader("Accept", "application/n-triples, text/turtle;q=0.9")
            wrapper.setOnlyConneg(True)     # no format=turtle parameter, which Virtuoso obeys over Accept
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
