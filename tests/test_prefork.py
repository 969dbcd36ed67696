"""`serve --processes N`: serving processes that run their queries themselves (prefork.py, inprocess.py).

The in-process runner on its own (answers, refusals, its time limit, its slots), then the server:
its processes, a query over its time limit, a process killed, the supervisor killed, limits.
Reloading under --processes is tested with the default server's tests (test_reload.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from ftz_kg.query.guard import DATASET_GRAPH, Refused
from ftz_kg.web.conneg import Choice
from ftz_kg.web.inprocess import InProcessRunner

from . import test_hardening_limits as limits
from .server import running_server
from .test_hardening_limits import SLOW, alive, children, cpu_ticks, run_in_background, tagged, wait_for

pytestmark = pytest.mark.hardening

ZONES = "PREFIX ftz: <https://w3id.org/ftz-kg/def#> SELECT (COUNT(?z) AS ?n) WHERE { ?z a ftz:PilotFreeTradeZone }"
CSV = {"Accept": "text/csv"}
TIMEOUT = 3


# ---------------------------------------------------------------- the runner

def _store() -> ox.Store:
    store = ox.Store()
    data = ("<https://w3id.org/ftz-kg/zone/shanghai> <http://www.w3.org/2000/01/rdf-schema#label> \"上海\"@zh .\n"
            "<https://w3id.org/ftz-kg/zone/tianjin> <http://www.w3.org/2000/01/rdf-schema#label> \"天津\"@zh .\n")
    store.load(data.encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(DATASET_GRAPH))
    return store


def _run(coroutine):
    return asyncio.run(coroutine)


def test_the_runner_answers_vets_and_refuses():
    async def go():
        runner = InProcessRunner(_store, size=2, timeout=5)
        runner.start()
        try:
            answer = await runner.answer("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", Choice.of("text/csv"))
            assert answer.body.decode().split() == ["n", "2"]
            assert answer.media_type == "text/csv" and answer.etag and answer.truncated is False
            with pytest.raises(Refused) as refused:     # the guard runs before the engine
                await runner.answer("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }",
                                    Choice.of("text/csv"))
            assert refused.value.status == 400
            with pytest.raises(Refused) as refused:
                await runner.answer("SELECT * WHERE { ?s ?p }", Choice.of("text/csv"))
            assert refused.value.status == 400 and "syntax" in str(refused.value).lower()
            assert runner.ready and not runner.overrun
        finally:
            runner.close()
    _run(go())


def test_the_runner_cuts_answers_at_its_row_limit():
    async def go():
        runner = InProcessRunner(_store, size=1, timeout=5, max_rows=1)
        runner.start()
        try:
            answer = await runner.answer("SELECT ?s WHERE { ?s ?p ?o }", Choice.of("text/csv"))
            assert answer.truncated and len(answer.body.decode().split()) == 2    # the header and one row
        finally:
            runner.close()
    _run(go())


def test_a_query_over_the_time_limit_is_answered_503_and_retires_the_runner():
    retired = []

    async def go():
        runner = InProcessRunner(_store, size=2, timeout=0.5, on_overrun=lambda: retired.append(True))
        runner.start()
        started = time.monotonic()
        with pytest.raises(Refused) as refused:
            # 2³⁶ rows to count over two triples: far longer than the limit
            await runner.answer("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
                                "?m ?n2 ?o . ?p ?q ?r . ?s ?t ?u . ?v ?w ?x . ?y ?z ?aa . ?bb ?cc ?dd . "
                                "?ee ?ff ?gg . ?hh ?ii ?jj . ?kk ?ll ?mm . ?nn ?oo ?pp . ?qq ?rr ?ss . "
                                "?tt ?uu ?vv . ?ww ?xx ?yy . ?zz ?a1 ?a2 . ?a3 ?a4 ?a5 . ?a6 ?a7 ?a8 . "
                                "?b1 ?b2 ?b3 . ?b4 ?b5 ?b6 . ?b7 ?b8 ?b9 . ?c1 ?c2 ?c3 . ?c4 ?c5 ?c6 . "
                                "?c7 ?c8 ?c9 . ?d1 ?d2 ?d3 . ?d4 ?d5 ?d6 . ?d7 ?d8 ?d9 . ?e1 ?e2 ?e3 . "
                                "?e4 ?e5 ?e6 . ?e7 ?e8 ?e9 . ?f1 ?f2 ?f3 . ?f4 ?f5 ?f6 . ?f7 ?f8 ?f9 }",
                                Choice.of("text/csv"))
        assert refused.value.status == 503 and "0.5 s limit" in str(refused.value)
        assert time.monotonic() - started < 5       # answered at the limit, not when the query ends
        assert runner.overrun and not runner.ready and retired == [True]
        # the other slot still answers while the runaway's thread runs on
        answer = await runner.answer("ASK { ?s ?p ?o }", Choice.of("application/sparql-results+json"))
        assert b"true" in answer.body
    # the runaway thread cannot be stopped: run it in a child process that is then killed
    pid = os.fork()
    if pid == 0:    # pragma: no cover - the child
        code = 1
        try:
            _run(go())
            code = 0
        except BaseException as error:      # noqa: BLE001 - reported by the exit code
            print(repr(error), file=sys.stderr)
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the runner's test process did not finish")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_request_finding_every_slot_busy_waits_then_gets_503():
    async def go():
        runner = InProcessRunner(_store, size=1, timeout=5, queue_wait=0.2)
        runner.start()
        await runner._slots.acquire()       # the only slot taken, as by a running query
        try:
            with pytest.raises(Refused) as refused:
                await runner.answer("ASK { ?s ?p ?o }", Choice.of("text/csv"))
            assert refused.value.status == 503 and "busy" in str(refused.value)
        finally:
            runner._slots.release()
        answer = await runner.answer("ASK { ?s ?p ?o }", Choice.of("application/sparql-results+json"))
        assert b"true" in answer.body
        runner.close()
    _run(go())


# ---------------------------------------------------------------- the server

def serving(supervisor: int) -> list[int]:
    return sorted(children(supervisor))


def test_the_server_serves_from_its_processes():
    with running_server("--processes", "2", "--workers", "4") as (base, process):
        pids = wait_for(lambda: len(p := serving(process.pid)) == 2 and p, 30, "two serving processes")
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(20):
                reply = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
                assert reply.status_code == 200 and reply.text.split() == ["n", "21"]   # the report's 21 zones
            assert http.get("/healthz").json()["last_load"]["status"] == "loaded"
            assert http.get("/zone/shanghai", headers={"Accept": "text/html"}).status_code == 200
            api = http.get("/api/zones-by-batch", headers=CSV)
            assert api.status_code == 200 and "中国（上海）自由贸易试验区" in api.text
            # cached and conditional, as from the default server
            first = http.get("/sparql", params={"query": ZONES}, headers=CSV)
            again = http.get("/sparql", params={"query": ZONES}, headers={**CSV, "If-None-Match": first.headers["etag"]})
            assert again.status_code in (200, 304)
        for pid in pids:    # each capped at what it shares with the supervisor plus 2 GB
            limits = Path(f"/proc/{pid}/limits").read_text()
            [line] = [row for row in limits.splitlines() if row.startswith("Max address space")]
            soft = int(line.split()[3])
            assert 2 * 1024 ** 3 < soft < 2 * 1024 ** 3 + 16 * 1024 ** 3, line
    # the server was stopped (SIGTERM to the supervisor): its serving processes with it
    wait_for(lambda: not any(alive(pid) for pid in pids), 10, f"{pids} gone with the supervisor")


def test_a_query_over_its_limit_gets_503_and_its_process_is_replaced():
    with running_server("--processes", "2", "--timeout", str(TIMEOUT)) as (base, process):
        before = wait_for(lambda: len(p := serving(process.pid)) == 2 and p, 30, "two serving processes")
        runaway = run_in_background(base, tagged(SLOW))
        with httpx.Client(base_url=base, timeout=60) as http:
            # meanwhile the server answers (the other process, and the runaway's own event loop)
            while runaway["thread"].is_alive():
                try:
                    reply = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
                except httpx.RemoteProtocolError:   # a kept-alive connection the retiring process closed
                    reply = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
                assert reply.status_code == 200 and reply.text.split() == ["n", "21"]
                time.sleep(0.2)
            assert runaway["response"].status_code == 503
            assert f"{TIMEOUT} s limit" in runaway["response"].text
            # the runaway's process ends (within its grace; ten times that is generous), a fresh one serves
            gone = wait_for(lambda: [pid for pid in before if not alive(pid)], 20, "the runaway's process gone")
            assert len(gone) == 1, gone
            now = wait_for(lambda: len(p := serving(process.pid)) == 2 and gone[0] not in p and p, 20,
                           "two serving processes again")
            assert set(now) - set(before)
            ticks = {pid: cpu_ticks(pid) for pid in [process.pid, *now]}
            time.sleep(1)
            burning = {pid: cpu_ticks(pid) - ticks[pid] for pid in ticks if cpu_ticks(pid) - ticks[pid] > 50}
            assert not burning, burning     # over half a second of CPU in one second
            reply = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
            assert reply.status_code == 200 and reply.text.split() == ["n", "21"]


def test_a_killed_process_is_replaced_and_the_supervisor_takes_them_all_with_it():
    with running_server("--processes", "2") as (base, process):
        [first, second] = wait_for(lambda: len(p := serving(process.pid)) == 2 and p, 30, "two serving processes")
        os.kill(first, signal.SIGKILL)
        now = wait_for(lambda: len(p := serving(process.pid)) == 2 and first not in p and p, 10, "a fresh process")
        assert second in now
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(6):
                assert http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV).text.split() == ["n", "21"]
        process.kill()      # the supervisor, without a chance to stop them: the kernel does (PR_SET_PDEATHSIG)
        process.wait(10)
        wait_for(lambda: not any(alive(pid) for pid in now), 10, f"{now} gone with the supervisor")


def test_processes_with_a_remote_store_or_none_are_refused():
    for args, fragment in ((["--processes", "2", "--store", "http://127.0.0.1:9/sparql"], "--processes"),
                           (["--processes", "0"], "--processes")):
        result = subprocess.run([sys.executable, "-m", "ftz_kg.cli", "serve", *args], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert fragment in result.stderr


def test_a_port_in_use_is_named_in_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "ftz_kg.cli", "serve", "--processes", "2", "--port", str(port)],
                                capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_head_over_the_limit_is_refused_as_by_the_default_server():
    with running_server("--processes", "2") as (base, _):
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200))
                         + b"\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 431")


@pytest.fixture(scope="module")
def limited():
    """A server cutting answers at the byte limit the default server's tests use."""
    with running_server("--processes", "2", "--timeout", "5", "--max-bytes", str(limits.MAX_BYTES)) as (base, _):
        with httpx.Client(base_url=base, timeout=60) as http:
            yield http


@pytest.mark.parametrize("query, accept", limits.BYTE_LIMIT_CASES, ids=limits.BYTE_LIMIT_IDS)
def test_answers_end_at_the_byte_limit_as_from_the_default_server(limited, query, accept):
    limits.test_answers_end_at_the_byte_limit_as_complete_documents(limited, query, accept)


def test_small_answers_are_whole_and_unflagged_as_from_the_default_server(limited):
    limits.test_small_answers_are_whole_and_unflagged(limited)


# ---------------------------------------------------------------- the supervisor's reload, unforked

class _Loaded:
    def __init__(self, triples: int):
        self.triples = triples
        self.settled = None


def _supervisor(load):
    from ftz_kg.web.prefork import SharedStatus, Supervisor
    status = SharedStatus()
    supervisor = Supervisor(None, 2, build=lambda loaded: ("app", loaded.triples), load=load, loaded=_Loaded(10),
                            serve=None, status=status, drain_seconds=1)
    return supervisor, status


def _pretend_child(supervisor, pid: int):
    """A serving process's end of the control channel, without the process."""
    import selectors

    from ftz_kg.web.prefork import Child
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    supervisor.children[pid] = Child(pid, ours, supervisor.generation)
    supervisor.selector.register(ours, selectors.EVENT_READ, pid)
    theirs.settimeout(5)
    return theirs


def _lines(sock) -> list[dict]:
    import json
    sock.setblocking(False)
    try:
        data = sock.recv(65536)
    except BlockingIOError:
        return []
    return [json.loads(line) for line in data.splitlines()]


def test_a_failed_reload_keeps_the_generation_and_a_reload_asked_meanwhile_is_busy():
    from ftz_kg.errors import FtzKgError
    from ftz_kg.web.prefork import RELOAD

    def load():
        second.sendall(RELOAD)      # asked while the first reload is loading
        time.sleep(0.05)
        raise FtzKgError("graph.ttl:2:14: unterminated string")

    supervisor, status = _supervisor(load)
    first, second = _pretend_child(supervisor, 101), _pretend_child(supervisor, 102)
    first.sendall(RELOAD)
    supervisor._messages(1)
    assert supervisor._reload_wanted
    supervisor._reload_round()
    [failed] = _lines(first)
    assert failed["status"] == "failed" and "graph.ttl:2:14" in failed["reason"] and failed["serving_triples"] == 10
    [busy] = _lines(second)
    assert busy["status"] == "busy"
    assert supervisor.generation == 0 and supervisor.app == ("app", 10)
    assert status.read()["status"] == "failed"


def test_a_reload_is_told_once_the_new_generation_accepts():
    from ftz_kg.web.prefork import RELOAD

    supervisor, status = _supervisor(lambda: _Loaded(12))
    asker = _pretend_child(supervisor, 201)
    asker.sendall(RELOAD)
    supervisor._messages(1)
    supervisor._reload_round()
    assert supervisor.generation == 1 and supervisor.app == ("app", 12)
    assert _lines(asker) == [] and status.read()["status"] == "loaded"    # not before the switch
    supervisor._switched()
    [done] = _lines(asker)
    assert done["status"] == "reloaded" and done["triples"] == 12
    assert status.read()["status"] == "reloaded" and status.read()["triples"] == 12


def test_processes_serve_a_store_directory_and_reload_it(tmp_path):
    """Each serving process opens the store directory's current version for itself."""
    store = tmp_path / "store"
    with running_server("--processes", "2", "--store-dir", str(store)) as (base, _):
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(6):
                reply = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
                assert reply.status_code == 200 and reply.text.split() == ["n", "21"]
            reloaded = http.post("/admin/reload")
            assert reloaded.status_code == 200 and reloaded.json()["status"] == "reloaded"
            reply = http.get("/api/zones-by-batch", headers=CSV)
            assert reply.status_code == 200 and "中国（上海）自由贸易试验区" in reply.text


def test_each_process_runs_at_most_workers_queries_at_once():
    """operations.md: with --processes, --workers queries at once in each process, then 503."""
    with running_server("--processes", "1", "--workers", "1", "--timeout", "6") as (base, _):
        runaway = run_in_background(base, tagged(SLOW))
        with httpx.Client(base_url=base, timeout=60) as http:
            time.sleep(1)      # the runaway holds the one query thread
            busy = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
            assert busy.status_code == 503 and "busy" in busy.text
            runaway["thread"].join(60)
            assert runaway["response"].status_code == 503 and "6 s limit" in runaway["response"].text

            def answered():
                try:
                    reply = http.get("/sparql", params={"query": tagged(ZONES)}, headers=CSV)
                except httpx.HTTPError:     # the retiring process closed the connection
                    return None
                return reply if reply.status_code == 200 else None
            # a fresh process takes over
            assert wait_for(answered, 20, "answers again").text.split() == ["n", "21"]
