"""Reloading the served graph: SIGHUP or POST /admin/reload, under load, valid and invalid data.

Each response must come wholly from the old or the new graph; a reload with invalid data keeps
the old graph and says why. Every test runs against the default server (one web process, query
workers) and against `serve --processes 2` (the supervisor reloads and forks a new generation).
"""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from ftz_kg.pipeline.rdfio import serialize_turtle

from .helpers import built_triples
from .server import running_server

TRIPLES = built_triples()   # the whole graph, as a fresh build makes it

pytestmark = pytest.mark.hardening

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SHANGHAI = URIRef("https://w3id.org/ftz-kg/zone/shanghai")
MODES = {"workers": (), "processes": ("--processes", "2")}


@pytest.fixture(params=list(MODES))
def mode(request):
    """The server's options: the default, or serving processes that run their own queries."""
    return MODES[request.param]


def served_count(base: str) -> int:
    response = httpx.post(base + "/sparql", data={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.text.split()[1])


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture()
def graph_file(tmp_path, built):
    path = tmp_path / "graph.ttl"
    path.write_bytes(serialize_turtle(built.graph))
    return path


def grown(built, extra: int):
    graph = built.graph.__class__()
    for triple in built.graph:
        graph.add(triple)
    for index in range(extra):
        # a note, not a name: a name would need a statement citing where the report prints it
        graph.add((SHANGHAI, SKOS.note, Literal(f"Test note {index}.", lang="en")))
    return graph


def test_sighup_reload_under_load_answers_from_old_or_new_graph(graph_file, built, mode):
    with running_server("--graph", str(graph_file), *mode) as (base, process):
        assert served_count(base) == TRIPLES
        seen, failures = [], []
        stop = threading.Event()

        def client():
            with httpx.Client(timeout=30) as http:
                while not stop.is_set():
                    sent = time.monotonic()
                    response = http.post(base + "/sparql", data={"query": COUNT + " # " + str(sent)},
                                         headers={"Accept": "text/csv"})
                    if response.status_code != 200:
                        failures.append((response.status_code, response.text))
                    else:
                        seen.append((sent, int(response.text.split()[1])))
                    page = http.get(base + "/zone/shanghai", headers={"Accept": "text/turtle"})
                    if page.status_code != 200:
                        failures.append((page.status_code, page.text[:200]))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            graph_file.write_bytes(serialize_turtle(grown(built, 3)))
            process.send_signal(signal.SIGHUP)
            wait_for(lambda: httpx.get(base + "/healthz").json()["triples"] == (TRIPLES + 3))
            switched = time.monotonic()     # the new graph is served from here on
            # until several queries sent since have been answered, however long they take on a busy machine
            wait_for(lambda: sum(sent > switched for sent, _ in seen) >= 8)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        assert failures == []
        counts = [count for _, count in seen]
        assert set(counts) == {TRIPLES, (TRIPLES + 3)}          # old answers, then new ones, nothing in between
        assert counts.index((TRIPLES + 3)) > 0
        # every query sent once /healthz showed the new graph was answered from it, whenever it was
        # answered (one sent before may still be answered by the old graph's workers or processes,
        # which finish it)
        assert {count for sent, count in seen if sent > switched} == {TRIPLES + 3}
        health = httpx.get(base + "/healthz").json()
        assert health["last_load"]["status"] == "reloaded" and health["last_load"]["triples"] == (TRIPLES + 3)
        page = httpx.get(base + "/zone/shanghai", headers={"Accept": "text/turtle"}).text
        assert "Test note 2." in page


def test_reload_with_invalid_data_keeps_the_old_graph(graph_file, built, mode):
    with running_server("--graph", str(graph_file), *mode) as (base, process):
        # unreadable: a Turtle syntax error
        graph_file.write_text("@prefix ftz: <https://w3id.org/ftz-kg/def#> .\nftz:x ftz:y \"unterminated .\n",
                              encoding="utf-8")
        answer = httpx.post(base + "/admin/reload", timeout=60)
        assert answer.status_code == 422
        assert answer.json()["status"] == "failed"
        assert f"{graph_file}:2" in answer.json()["reason"]
        assert served_count(base) == TRIPLES

        # readable but not valid: a zone with two Chinese preferred labels
        graph = grown(built, 0)
        graph.add((SHANGHAI, SKOS.prefLabel, Literal("第二个上海", lang="zh")))
        graph_file.write_bytes(serialize_turtle(graph))
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: httpx.get(base + "/healthz").json()["last_load"]["status"] == "failed"
                 and "validate" in httpx.get(base + "/healthz").json()["last_load"]["reason"])
        assert served_count(base) == TRIPLES
        assert httpx.get(base + "/zone/shanghai", headers={"Accept": "text/turtle"}).status_code == 200
        assert "第二个上海" not in httpx.get(base + "/zone/shanghai", headers={"Accept": "text/turtle"}).text

        # and a good file afterwards is taken
        graph_file.write_bytes(serialize_turtle(grown(built, 1)))
        answer = httpx.post(base + "/admin/reload", timeout=60)
        assert answer.status_code == 200 and answer.json()["triples"] == (TRIPLES + 1)
        assert served_count(base) == (TRIPLES + 1)


def test_reload_cache_is_emptied(graph_file, built, mode):
    """A cached answer of the old graph is never served after the switch."""
    with running_server("--graph", str(graph_file), *mode) as (base, _):
        first = httpx.get(base + "/sparql", params={"query": COUNT}, headers={"Accept": "text/csv"})
        assert first.text.split()[1] == str(TRIPLES)
        graph_file.write_bytes(serialize_turtle(grown(built, 2)))
        assert httpx.post(base + "/admin/reload", timeout=60).status_code == 200
        again = httpx.get(base + "/sparql", params={"query": COUNT}, headers={"Accept": "text/csv"})
        assert again.text.split()[1] == str(TRIPLES + 2) and again.headers["etag"] != first.headers["etag"]


def test_admin_reload_refused_from_another_host():
    from starlette.requests import Request

    from ftz_kg.web.reloading import admin_reload

    class Untouchable:
        async def reload(self):
            raise AssertionError("a remote client must not reach the reloader")

    class App:
        class state:
            reloader = Untouchable()

    import asyncio
    scope = {"type": "http", "method": "POST", "path": "/admin/reload", "headers": [], "query_string": b"",
             "client": ("203.0.113.7", 40000), "app": App()}
    response = asyncio.run(admin_reload(Request(scope)))
    assert response.status_code == 403
