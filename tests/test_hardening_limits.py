"""Hardening of the served answers and of the query workers, against real servers over HTTP.

1. Every answer is bounded in bytes (`serve --max-bytes`): cut at the last whole row or triple
   that fits, still a complete document in every format, flagged by X-Result-Truncated and
   X-Result-Limit-Bytes (answers forwarded from a remote store by `serve --store` too); larger answers are streamed from their worker; a client that stops
   reading is disconnected after `--write-timeout` seconds without progress, so three of them
   neither grow the web process nor stall /healthz, and their workers are freed.
2. The workers are supervised: an idle worker killed is replaced before anyone asks (and /healthz
   tells the truth meanwhile); a runaway query outlives neither a killed fork server nor a killed
   web process.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pyoxigraph as ox
import pytest

from .helpers import built_triples
from .server import running_server

pytestmark = pytest.mark.hardening

MAX_BYTES = 2 * 1024 * 1024     # --max-bytes of the server under test
WRITE_TIMEOUT = 2               # --write-timeout of the server under test
TIMEOUT = 3                     # --timeout of the servers whose workers get killed
DIRECT = {"Content-Type": "application/sparql-query"}
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"   # (triples)³ rows to count: never ends
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def grown(times: int) -> str:
    """A value 4**times as long as each object of the graph, from a query of a few hundred bytes."""
    binds = ["BIND(CONCAT(STR(?o),STR(?o),STR(?o),STR(?o)) AS ?v1)"]
    binds += [f"BIND(CONCAT(?v{i},?v{i},?v{i},?v{i}) AS ?v{i + 1})" for i in range(1, times)]
    return " ".join(binds) + f" BIND(?v{times} AS ?x)"


BIG_SELECT = "SELECT ?x WHERE { ?s ?p ?o " + grown(3) + " }"             # about 25 MB uncut
HUGE_SELECT = "SELECT ?x WHERE { ?s ?p ?o " + grown(4) + " }"            # about 100 MB uncut
BIG_CONSTRUCT = ("CONSTRUCT { ?s <https://w3id.org/ftz-kg/def#big> ?x } WHERE { ?s ?p ?o " + grown(3) + " }")
# between the 1 MiB that workers send in one message and the cap: streamed, and small enough to cache
# 8,000 rows (under --max-rows) of about 190 bytes, 1.5 MB in all: over a worker's inline size (1 MiB),
# under the cap (2 MiB)
MEDIUM_ROWS = 8000
MEDIUM = "SELECT ?x WHERE { ?s ?p ?o BIND(\"" + "a" * 190 + "\" AS ?x) } LIMIT " + str(MEDIUM_ROWS)


@pytest.fixture(scope="module")
def server():
    with running_server("--timeout", "5", "--workers", "2", "--max-bytes", str(MAX_BYTES),
                        "--write-timeout", str(WRITE_TIMEOUT)) as (base, process):
        yield base, process


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server[0], timeout=60) as http:
        yield http


def tagged(query: str) -> str:
    """The query with a unique comment: answered afresh, never from the result cache."""
    return f"{query} # {uuid.uuid4().hex}"


# ---------------------------------------------------------------- /proc

def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()    # state, ppid, ... (the name may hold spaces)


def alive(pid: int) -> bool:
    """Running (a zombie is dead: it only waits to be reaped, and burns nothing)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def cpu_ticks(pid: int) -> int:
    fields = _stat(pid)
    return 0 if fields is None else int(fields[11]) + int(fields[12])    # utime + stime


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def fork_server(main: int) -> int:
    [found] = [pid for pid in children(main) if "forkserver" in cmdline(pid)]
    return found


def workers(main: int) -> list[int]:
    return children(fork_server(main))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def busy_worker(main: int) -> int:
    """The worker burning CPU (running SLOW)."""
    def burning():
        pids = workers(main)
        before = {pid: cpu_ticks(pid) for pid in pids}
        time.sleep(0.3)
        hot = [pid for pid in pids if cpu_ticks(pid) - before[pid] >= 5]    # >= 50 ms of 300
        return hot[0] if hot else None
    return wait_for(burning, 30, "a worker running the slow query")


def run_in_background(base: str, query: str) -> dict:
    reply: dict = {}

    def run():
        with httpx.Client(base_url=base, timeout=120) as http:
            try:
                reply["response"] = http.post("/sparql", content=query.encode(), headers=DIRECT)
            except httpx.HTTPError as error:    # the test may kill the server under it
                reply["error"] = error
    reply["thread"] = threading.Thread(target=run, daemon=True)
    reply["thread"].start()
    return reply


# ---------------------------------------------------------------- 1. answers bounded in bytes

def _count_rows(body: bytes, content_type: str) -> int:
    """Rows (or triples) of a complete document; raises if it is not one."""
    media = content_type.split(";")[0]
    if media == "text/csv":
        assert body.endswith(b"\r\n")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        assert rows[0] == ["x"] and all(len(row) == 1 for row in rows)
        return len(rows) - 1
    results = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    if media in results:
        if media.endswith("json"):
            json.loads(body)
        return len(list(ox.parse_query_results(body, format=results[media])))
    graphs = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
              "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}
    return len(list(ox.parse(body, format=graphs[media])))


BYTE_LIMIT_CASES = [
    (BIG_SELECT, "text/csv"), (BIG_SELECT, "text/tab-separated-values"),
    (BIG_SELECT, "application/sparql-results+json"), (BIG_SELECT, "application/sparql-results+xml"),
    (BIG_CONSTRUCT, "text/turtle"), (BIG_CONSTRUCT, "application/n-triples"),
    (BIG_CONSTRUCT, "application/ld+json"), (BIG_CONSTRUCT, "application/rdf+xml"),
]
BYTE_LIMIT_IDS = ["csv", "tsv", "json", "xml", "turtle", "n-triples", "json-ld", "rdf-xml"]


@pytest.mark.parametrize("query, accept", BYTE_LIMIT_CASES, ids=BYTE_LIMIT_IDS)
def test_answers_end_at_the_byte_limit_as_complete_documents(client, query, accept):
    response = client.post("/sparql", content=tagged(query).encode(), headers={**DIRECT, "Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["x-result-truncated"] == "true"
    assert response.headers["x-result-limit-bytes"] == str(MAX_BYTES)
    assert "x-result-limit" not in response.headers     # that one names the row limit
    body = response.content
    # cut at a whole row: about the limit, never over it
    assert MAX_BYTES // 2 < len(body) <= MAX_BYTES
    assert int(response.headers["content-length"]) == len(body)
    assert response.headers["etag"] == '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    assert _count_rows(body, response.headers["content-type"]) > 10


def test_small_answers_are_whole_and_unflagged(client):
    response = client.post("/sparql", content=tagged(COUNT).encode(), headers={**DIRECT, "Accept": "text/csv"})
    assert response.status_code == 200 and response.text.split() == ["n", str(built_triples())]
    assert "x-result-truncated" not in response.headers and "x-result-limit-bytes" not in response.headers


def test_streamed_answer_is_whole_cached_and_conditional(server, client):
    """An answer over a worker's inline size (1 MiB) but under the cap comes in chunks, whole, is
    cached once sent, answers conditional requests and HEAD; cutting a stream short (304, HEAD)
    gives its worker back in working order."""
    base, _ = server
    query = tagged(MEDIUM)
    first = client.post("/sparql", content=query.encode(), headers={**DIRECT, "Accept": "text/csv"})
    assert first.status_code == 200 and "x-result-truncated" not in first.headers
    assert 1024 ** 2 < len(first.content) < MAX_BYTES
    assert len(first.text.splitlines()) == MEDIUM_ROWS + 1
    etag = first.headers["etag"]
    assert etag == '"' + hashlib.sha256(first.content).hexdigest()[:40] + '"'

    # a fresh query each: a HEAD and a conditional GET of answers that are streamed, not cached
    for attempt in range(3):
        fresh = tagged(MEDIUM)
        head = client.head("/sparql", params={"query": fresh}, headers={"Accept": "text/csv"})
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(first.content)
        again = client.get("/sparql", params={"query": fresh},
                           headers={"Accept": "text/csv", "If-None-Match": head.headers["etag"]})
        assert again.status_code == 304, attempt
    # the workers the cut streams held answer again
    for attempt in range(4):
        ok = client.post("/sparql", content=tagged(COUNT).encode(), headers={**DIRECT, "Accept": "text/csv"})
        assert ok.status_code == 200, (attempt, ok.text)

    # cached: asked again while both workers are held by runaway queries, it is still answered
    runaways = [run_in_background(base, tagged(SLOW)) for _ in range(2)]
    try:
        time.sleep(1)
        cached = client.post("/sparql", content=query.encode(), headers={**DIRECT, "Accept": "text/csv"})
        assert cached.status_code == 200 and cached.content == first.content
        assert cached.headers["etag"] == etag
        busy = client.post("/sparql", content=tagged(COUNT).encode(), headers=DIRECT)
        assert busy.status_code == 503 and "busy" in busy.text     # so the answer above came from the cache
    finally:
        for runaway in runaways:
            runaway["thread"].join(60)


def _stalled_client(base: str, query: str) -> socket.socket:
    """A client that asks for a large answer and never reads it."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    body = urlencode({"query": query}).encode()
    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: %s\r\nAccept: text/csv\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
                 % (parts.netloc.encode(), len(body), body))
    return sock


def _peek_head(sock: socket.socket) -> tuple[int, int]:
    """(status, Content-Length) of the response waiting on a socket, without reading it."""
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        data = sock.recv(8192, socket.MSG_PEEK)
    lines = data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:"))
    return int(lines[0].split()[1]), length


def _server_side_open(server_port: int, client_port: int) -> bool:
    """Whether the server still holds its end of the connection from `client_port` open (ESTABLISHED)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16), fields[3]
        if local == server_port and remote == client_port and state == "01":
            return True
    return False


def _kernel_send_buffer() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 * 1024 * 1024


def test_clients_that_stop_reading_hold_neither_memory_nor_workers():
    """Three clients ask for a 100 MB answer and never read. Each answer is cut at the cap and
    streamed, so the web process does not grow (it grew by hundreds of megabytes when it held each
    answer whole); /healthz keeps answering; after --write-timeout seconds without progress the
    stalled connections are dropped and the workers they held answer ordinary queries again.

    The answers must outgrow what the kernel buffers for a connection (4 MiB of send buffer
    here), or they would leave the server whole and nothing would stall in it: the default
    --max-bytes (16 MiB) does, unless this machine's kernel buffers more."""
    cap = max(16 * 1024 ** 2, 4 * _kernel_send_buffer())
    extra = [] if cap == 16 * 1024 ** 2 else ["--max-bytes", str(cap)]
    with running_server("--timeout", "10", "--workers", "2", "--write-timeout", str(WRITE_TIMEOUT),
                        *extra) as (base, process), httpx.Client(base_url=base, timeout=60) as http:
        assert http.post("/sparql", content=tagged(COUNT).encode(), headers=DIRECT).status_code == 200
        before = rss_mib(process.pid)
        sockets = [_stalled_client(base, tagged(HUGE_SELECT)) for _ in range(3)]
        try:
            peak, slowest, freed_at = before, 0.0, None
            started = time.monotonic()
            # generous: the stalled streams are dropped after WRITE_TIMEOUT (2 s) without progress
            while time.monotonic() - started < 10 * WRITE_TIMEOUT:
                asked = time.monotonic()
                health = http.get("/healthz")
                slowest = max(slowest, time.monotonic() - asked)
                assert health.status_code == 200, health.text
                peak = max(peak, rss_mib(process.pid))
                if freed_at is None and time.monotonic() - started > 1:
                    reply = http.post("/sparql", content=tagged(COUNT).encode(),
                                      headers={**DIRECT, "Accept": "text/csv"})
                    assert reply.status_code in (200, 503), reply.text
                    if reply.status_code == 200:
                        freed_at = time.monotonic() - started
                if freed_at is not None and time.monotonic() - started > freed_at + 3 * WRITE_TIMEOUT:
                    break   # a third client served late has been dropped too by now
                time.sleep(0.2)
            heads = [_peek_head(sock) for sock in sockets]
            port = int(urlsplit(base).port)
            still_open = [_server_side_open(port, sock.getsockname()[1]) for sock in sockets]
        finally:
            for sock in sockets:
                sock.close()
    streamed = [index for index, (status, _) in enumerate(heads) if status == 200]
    assert len(streamed) >= 2, heads       # the third may have been told that the workers were busy
    assert all(cap // 2 < heads[index][1] <= cap for index in streamed), heads   # cut at the cap
    # the mechanism: the server dropped every stalled stream
    assert not any(still_open[index] for index in streamed), (heads, still_open)
    # about one 64 KiB chunk per stalled client in the web process; three answers held whole
    # would be 300 MB (the cap alone 48 MiB); 64 MiB leaves room for the allocator on a busy machine
    assert peak - before < 64, (before, peak)
    # /healthz answers in milliseconds; the bound is generous for a loaded machine
    assert slowest < 2.5, slowest
    assert freed_at is not None, "the stalled clients still hold the workers"


class _RemoteAnswering:
    """A remote store (for serve --store) that answers every query with `result`."""

    endpoint = "http://store.invalid/sparql"

    class transport:
        timeout = 5.0

        @staticmethod
        def close():
            pass

    def __init__(self, result):
        self.result = result

    def query(self, sparql):
        return self.result


def _forward(result, writer: str, max_bytes: int):
    from ftz_kg.web.forwarding import ForwardingRunner
    runner = ForwardingRunner(_RemoteAnswering(result), max_bytes=max_bytes)

    async def forward():
        runner.start()
        return await runner.run("SELECT * WHERE { ?s ?p ?o }", writer)
    return asyncio.run(forward())


@pytest.mark.parametrize("writer, parse", [
    ("csv", lambda body: list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))[1:]),
    ("sparql-json", lambda body: json.loads(body)["results"]["bindings"]),
    ("sparql-xml", lambda body: list(ox.parse_query_results(body, format=ox.QueryResultsFormat.XML))),
])
def test_answers_forwarded_from_a_remote_store_are_cut_at_the_byte_limit_too(writer, parse):
    from rdflib import Literal
    from ftz_kg.query.store import SelectResult
    rows = [(Literal(f"{index:05d}" + "a" * 1000),) for index in range(2000)]     # about 2 MB
    answer = _forward(SelectResult(["x"], rows), writer, 100_000)
    assert answer.truncated == "bytes" and len(answer.body) <= 100_000
    kept = parse(answer.body)
    assert 50 < len(kept) < 100     # whole rows only: about 1 KB each
    small = _forward(SelectResult(["x"], rows[:10]), writer, 100_000)
    assert small.truncated is False and len(parse(small.body)) == 10


def test_graphs_forwarded_from_a_remote_store_are_cut_at_the_byte_limit_too():
    from rdflib import Graph, Literal, URIRef
    from ftz_kg.query.store import GraphResult
    graph = Graph()
    for index in range(2000):
        graph.add((URIRef(f"https://w3id.org/ftz-kg/zone/z{index}"), URIRef("https://w3id.org/ftz-kg/def#note"),
                   Literal("a" * 1000)))
    answer = _forward(GraphResult(graph), "turtle", 100_000)
    assert answer.truncated == "bytes" and len(answer.body) <= 100_000
    assert 50 < len(Graph().parse(data=answer.body, format="turtle")) < 100


# ---------------------------------------------------------------- 2. supervised workers

def test_an_idle_worker_killed_is_replaced_before_any_request():
    with running_server("--timeout", str(TIMEOUT), "--workers", "2") as (base, process):
        with httpx.Client(base_url=base, timeout=60) as http:
            first = workers(process.pid)
            assert len(first) == 2, first
            os.kill(first[0], signal.SIGKILL)
            # queries straight away: none fails for the dead worker (one of two would have been given
            # it; one sent to it as it dies runs again on another worker)
            for attempt in range(2):
                reply = http.post("/sparql", content=tagged(COUNT).encode(), headers={**DIRECT, "Accept": "text/csv"})
                assert reply.status_code == 200, (attempt, reply.text)
            victim = workers(process.pid)[0]
            os.kill(victim, signal.SIGKILL)
            # no query now: the supervisor alone replaces it, within moments (10 s is generous)
            replaced = wait_for(lambda: (len(now := workers(process.pid)) == 2 and victim not in now
                                         and first[0] not in now and now), 10, "a fresh worker")
            health = wait_for(lambda: (r := http.get("/healthz")).status_code == 200 and r, 10, "/healthz 200")
            assert health.json()["status"] == "ok"
            assert set(replaced) == set(workers(process.pid))   # nothing else was started
            for attempt in range(4):
                reply = http.post("/sparql", content=tagged(COUNT).encode(), headers={**DIRECT, "Accept": "text/csv"})
                assert reply.status_code == 200 and reply.text.split() == ["n", str(built_triples())], (attempt, reply.text)


def test_healthz_is_503_only_while_no_worker_lives():
    with running_server("--timeout", str(TIMEOUT), "--workers", "1") as (base, process):
        with httpx.Client(base_url=base, timeout=60) as http:
            [only] = workers(process.pid)
            os.kill(only, signal.SIGKILL)
            statuses = set()

            def recovered():
                statuses.add(http.get("/healthz").status_code)
                return 200 in statuses and statuses
            # recovers by itself; a worker starts in well under a second, 10 s is generous
            wait_for(lambda: (time.sleep(0.05), recovered())[1], 10, "/healthz back to 200")
            assert statuses <= {200, 503}
            [fresh] = workers(process.pid)
            assert fresh != only
            assert http.post("/sparql", content=tagged(COUNT).encode(), headers=DIRECT).status_code == 200


def test_a_runaway_worker_does_not_outlive_its_fork_server():
    with running_server("--timeout", str(TIMEOUT), "--workers", "2") as (base, process):
        runaway = run_in_background(base, tagged(SLOW))
        hot = busy_worker(process.pid)
        old = workers(process.pid) + [fork_server(process.pid)]
        os.kill(fork_server(process.pid), signal.SIGKILL)
        with httpx.Client(base_url=base, timeout=60) as http:
            http.get("/healthz")
            # the runaway is stopped (with its fork server, or at its time limit at the latest):
            # ten times the limit is generous
            wait_for(lambda: not any(alive(pid) for pid in old), 10 * TIMEOUT,
                     f"the old workers {old} gone (the runaway was {hot})")
            runaway["thread"].join(60)
            assert runaway["response"].status_code == 503, runaway["response"].text
            # nothing of the server burns CPU any more, and it serves again with a new fork server
            wait_for(lambda: (r := http.get("/healthz")).status_code == 200 and r, 10 * TIMEOUT, "/healthz 200")
            reply = http.post("/sparql", content=tagged(COUNT).encode(), headers={**DIRECT, "Accept": "text/csv"})
            assert reply.status_code == 200, reply.text
            group = [process.pid, *children(process.pid), *workers(process.pid)]
            ticks = {pid: cpu_ticks(pid) for pid in group}
            time.sleep(1)
            burning = {pid: cpu_ticks(pid) - ticks[pid] for pid in group if cpu_ticks(pid) - ticks[pid] > 50}
            assert not burning, burning     # over half a second of CPU in one second


def test_killing_the_web_process_takes_its_workers_with_it():
    with running_server("--timeout", "60", "--workers", "2") as (base, process):
        run_in_background(base, tagged(SLOW))
        busy_worker(process.pid)
        group = [*children(process.pid), *workers(process.pid)]
        assert len(group) >= 4, group       # fork server, resource tracker, two workers
        process.kill()
        process.wait(10)
        # the idle worker and the runaway alike, within moments (far before their 60 s limit):
        # 10 s is generous
        wait_for(lambda: not any(alive(pid) for pid in group), 10, f"{group} gone with the web process")


def test_the_limits_are_documented_with_their_defaults():
    from ftz_kg.cli import serve_command
    options = {param.name: param for param in serve_command.params}
    assert options["max_bytes"].default == 16 * 1024 * 1024
    assert options["write_timeout"].default == 10.0
    page = (Path(__file__).resolve().parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    for fact in ("--max-bytes", "16 MiB", "X-Result-Limit-Bytes", "--write-timeout", "10 s", "PR_SET_PDEATHSIG"):
        assert fact in page, fact
