"""The graph published to real SPARQL 1.1 stores (Oxigraph's server, Virtuoso) answers every
canned query exactly as the embedded store does, and publishing is all-or-nothing.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal
from rdflib.namespace import XSD

from ftz_kg.query.binding import bind
from ftz_kg.query.catalogue import Catalogue
from ftz_kg.cli import DEFAULT_GRAPH_IRI, main
from ftz_kg.errors import EXIT_PUBLISH_UNVERIFIED, EXIT_REMOTE_UNREACHABLE
from ftz_kg.remote.publish import Target, publish
from ftz_kg.remote.client import EndpointUnreachable, RemoteEngine, Reply, Transport
from ftz_kg.query.store import AskResult, SelectResult, default_engine

from .server import running_server
from .helpers import built_triples
from .stores import oxigraph_server, virtuoso_server

TRIPLES = built_triples()   # the whole graph, as a fresh build makes it

STARTERS = {"oxigraph": oxigraph_server, "virtuoso": virtuoso_server}
CATALOGUE = Catalogue.load()


@pytest.fixture(scope="module", params=sorted(STARTERS))
def store(request, tmp_path_factory):
    """A running store with the real graph published into it by the CLI."""
    with STARTERS[request.param](tmp_path_factory.mktemp(request.param)) as running:
        result = CliRunner().invoke(main, ["publish", *running.publish_args()], env=running.env())
        assert result.exit_code == 0, result.output
        assert f"published {TRIPLES} triples to <{DEFAULT_GRAPH_IRI}>" in result.output
        yield running


def transport_for(store) -> Transport:
    return Transport(timeout=60, user=store.user, password=store.password)


def remote(store) -> RemoteEngine:
    return RemoteEngine(store.endpoint, transport_for(store), graph=DEFAULT_GRAPH_IRI)


def count(store, graph_iri: str = DEFAULT_GRAPH_IRI) -> int:
    result = RemoteEngine(store.endpoint, transport_for(store)).query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
    return int(result.rows[0][0])


def graph_names(store) -> set[str]:
    result = RemoteEngine(store.endpoint, transport_for(store)).query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {str(row[0]) for row in result.rows}


def _cells(row, concatenated: set[int]):
    """A row as comparable values; GROUP_CONCAT lists compared as sets (their order is engine-defined)."""
    out = []
    for index, term in enumerate(row):
        if index in concatenated and isinstance(term, Literal):
            out.append((frozenset(str(term).split("; ")), term.language, term.datatype))
        elif isinstance(term, Literal) and term.datatype == XSD.decimal:
            # stores write a decimal differently (111.0 or 111): compare its value
            out.append(("decimal", format(term.toPython().normalize(), "f")))
        else:
            out.append(term)
    return tuple(out)


@pytest.mark.parametrize("name", [q.name for q in CATALOGUE])
def test_canned_query_answers_the_same_remotely(store, name):
    query = CATALOGUE.get(name)
    embedded = default_engine()
    text = bind(query, query.example_values(), embedded)
    here = embedded.query(text)
    there = remote(store).query(text)
    if isinstance(here, AskResult):
        assert there.value == here.value
        return
    if not isinstance(here, SelectResult):
        assert here.graph.isomorphic(there.graph)
        return
    assert there.variables == here.variables
    concatenated = {i for i, v in enumerate(here.variables) if v in _group_concat_vars(query)}
    mine = [_cells(r, concatenated) for r in here.rows]
    theirs = [_cells(r, concatenated) for r in there.rows]
    if "ORDER BY" in query.text:
        assert theirs == mine
    else:
        assert sorted(map(repr, theirs)) == sorted(map(repr, mine))
    assert here.rows, f"{name}: the example answer should not be empty"


def _group_concat_vars(query) -> set[str]:
    return set(re.findall(r"GROUP_CONCAT\s*\((?:[^()]|\([^()]*\))*\)\s*(?:\)\s*)?AS\s+\?(\w+)", query.text, re.I))


def test_canned_query_cli_against_the_store(store):
    """`ftz-kg query NAME --endpoint URL` prints what the embedded run prints."""
    args = ["query", "zones-in-batch", "--param", "number=3", "--format", "csv"]
    here = CliRunner().invoke(main, args)
    there = CliRunner().invoke(main, [*args, "--endpoint", store.endpoint,
                                      *(["--user", store.user] if store.user else [])], env=store.env())
    assert there.exit_code == 0, there.output
    assert there.output == here.output
    # the third batch (2017): Liaoning, Zhejiang, Henan, Hubei, Chongqing, Sichuan, Shaanxi
    assert len(here.output.splitlines()) == 1 + 7
    for zone in ("辽宁", "浙江", "河南", "湖北", "重庆", "四川", "陕西"):
        assert f"中国（{zone}）自由贸易试验区" in here.output


def test_republish_replaces_the_graph(store, built):
    """Publishing a changed graph replaces the target wholesale and leaves no staging graph."""
    smaller = Graph()
    for index, triple in enumerate(sorted(built.graph)):
        if index % 10:
            smaller.add(triple)
    report = publish(smaller, Target(store.endpoint, store.update_endpoint, store.graph_store),
                     DEFAULT_GRAPH_IRI, transport_for(store), batch_size=1000)
    try:
        assert count(store) == len(smaller) == report.triples
        assert not [g for g in graph_names(store) if "staging" in g]
    finally:
        publish(built.graph, Target(store.endpoint, store.update_endpoint, store.graph_store),
                DEFAULT_GRAPH_IRI, transport_for(store))
    assert count(store) == TRIPLES


def carries_triples(method: str, kwargs: dict) -> bool:
    """A batch of the load: a graph-store PUT/POST, or an INSERT DATA update."""
    return method in ("PUT", "POST") and ("graph" in (kwargs.get("params") or {})
                                          or b"INSERT DATA" in (kwargs.get("content") or b""))


class FailingTransport(Transport):
    """Cuts the connection on the third batch: a load interrupted midway."""

    batches = 0

    def request(self, method, url, **kwargs):
        if carries_triples(method, kwargs):
            self.batches += 1
            if self.batches == 3:
                raise EndpointUnreachable(url, "connection reset (injected)")
        return super().request(method, url, **kwargs)


class DroppingTransport(Transport):
    """Pretends the second batch arrived: the staging graph ends up short."""

    batches = 0

    def request(self, method, url, **kwargs):
        if carries_triples(method, kwargs):
            self.batches += 1
            if self.batches == 2:
                return Reply(204, "", b"")
        return super().request(method, url, **kwargs)


@pytest.mark.parametrize("transport_class, expected", [(FailingTransport, EndpointUnreachable),
                                                       (DroppingTransport, None)])
def test_failed_publish_leaves_the_target_as_it_was(store, built, transport_class, expected):
    before = count(store)
    transport = transport_class(timeout=60, user=store.user, password=store.password)
    half = Graph()
    for index, triple in enumerate(sorted(built.graph)):
        if index % 2:
            half.add(triple)
    with pytest.raises(Exception) as raised:
        publish(half, Target(store.endpoint, store.update_endpoint, store.graph_store), DEFAULT_GRAPH_IRI,
                transport, batch_size=500)
    if expected is not None:
        assert isinstance(raised.value, expected)
        assert raised.value.exit_code == EXIT_REMOTE_UNREACHABLE
    else:
        assert raised.value.exit_code == EXIT_PUBLISH_UNVERIFIED
        assert "the target graph is unchanged" in str(raised.value)
    assert count(store) == before == TRIPLES
    assert not [g for g in graph_names(store) if "staging" in g]


def test_serve_from_the_store(store):
    """`ftz-kg serve --store URL`: endpoint, API and pages answer from the remote store."""
    import httpx

    extra = ["--user", store.user] if store.user else []
    with running_server("--store", store.endpoint, *extra, env=store.env()) as (base, _):
        api = httpx.get(base + "/api/parallel-approval.json", timeout=30)
        assert api.status_code == 200
        labels = {b["measure_label"]["value"] for b in api.json()["results"]["bindings"]}
        assert "企业“套餐式”注销服务模式" in labels
        sparql = httpx.post(base + "/sparql", data={"query": "ASK { ?z a <https://w3id.org/ftz-kg/def#PilotFreeTradeZone> }"},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert sparql.json()["boolean"] is True
        update = httpx.post(base + "/sparql", data={"update": f"DROP GRAPH <{DEFAULT_GRAPH_IRI}>"}, timeout=30)
        assert update.status_code == 403
        page = httpx.get(base + "/zone/shanghai", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "中国（上海）自由贸易试验区" in page.text
        service = httpx.get(base + "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},
                            timeout=30)
        assert service.status_code == 400
    assert count(store) == TRIPLES


def test_publish_through_update_alone(store, built):
    """Without a graph store, the graph goes in SPARQL Update batches, with the same result."""
    result = CliRunner().invoke(main, ["publish", "--endpoint", store.endpoint, "--update-endpoint",
                                       store.update_endpoint, "--graph-iri", "https://example.org/ftz-copy",
                                       *(["--user", store.user] if store.user else [])], env=store.env())
    assert result.exit_code == 0, result.output
    assert "via SPARQL 1.1 Update" in result.output
    try:
        assert count(store, "https://example.org/ftz-copy") == TRIPLES
    finally:
        RemoteEngine(store.endpoint, transport_for(store)).update("DROP SILENT GRAPH <https://example.org/ftz-copy>",
                                                                  store.update_endpoint)


def test_graph_store_refusing_falls_back_to_update(store):
    """A URL that is no graph store (404/405) makes publish fall back to SPARQL Update."""
    base = store.endpoint.rsplit("/", 1)[0]
    result = CliRunner().invoke(main, ["publish", "--endpoint", store.endpoint, "--update-endpoint",
                                       store.update_endpoint, "--graph-store", base + "/no-such-graph-store",
                                       "--graph-iri", "https://example.org/ftz-copy2",
                                       *(["--user", store.user] if store.user else [])], env=store.env())
    assert result.exit_code == 0, result.output
    assert "via SPARQL 1.1 Update" in result.output
    assert count(store, "https://example.org/ftz-copy2") == TRIPLES
    RemoteEngine(store.endpoint, transport_for(store)).update("DROP SILENT GRAPH <https://example.org/ftz-copy2>",
                                                              store.update_endpoint)


@pytest.mark.parametrize("through_graph_store", [True, False])
def test_direct_publish_loads_the_target_itself(store, through_graph_store):
    """--direct: straight into the target graph (no staging graph, no MOVE), count verified; a
    second direct publish replaces rather than adds."""
    copy = "https://example.org/ftz-direct"
    graph_store = ["--graph-store", store.graph_store] if through_graph_store and store.graph_store else []
    args = ["publish", "--direct", "--endpoint", store.endpoint, "--update-endpoint", store.update_endpoint,
            *graph_store, "--graph-iri", copy, *(["--user", store.user] if store.user else [])]
    try:
        for _ in range(2):
            result = CliRunner().invoke(main, args, env=store.env())
            assert result.exit_code == 0, result.output
            assert ", direct" in result.output
            assert count(store, copy) == TRIPLES
        assert not [g for g in graph_names(store) if "staging" in g]
    finally:
        RemoteEngine(store.endpoint, transport_for(store)).update(f"DROP SILENT GRAPH <{copy}>", store.update_endpoint)


def test_failed_direct_publish_empties_the_target_and_says_so(store, built):
    copy = "https://example.org/ftz-direct-failed"
    target = Target(store.endpoint, store.update_endpoint, store.graph_store)
    publish(built.graph, target, copy, transport_for(store), direct=True)
    assert count(store, copy) == TRIPLES
    transport = FailingTransport(timeout=60, user=store.user, password=store.password)
    with pytest.raises(EndpointUnreachable) as raised:
        publish(built.graph, target, copy, transport, batch_size=500, direct=True)
    assert "the target graph was emptied (--direct)" in str(raised.value)
    assert count(store, copy) == 0
    assert count(store) == TRIPLES          # the dataset's own graph is untouched
