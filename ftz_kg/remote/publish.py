"""Stage 5b: publish the built graph into a remote SPARQL 1.1 store, all or nothing.

Readers of the target graph see either the old graph or the complete new one: the triples go
into a fresh staging graph (Graph Store HTTP Protocol, or SPARQL Update `INSERT DATA` batches
where the store has no graph store), the staging graph's triple count is checked against what
was sent, and only then one `MOVE` replaces the target graph. On any failure the staging graph
is dropped and the target graph is left as it was.

`direct=True` loads into the target graph itself, for graphs too large for the store to copy in
one transaction (Oxigraph's server holds a `MOVE` in memory: 5.4 million triples took it past
21 GB and the kernel stopped it). Not atomic: readers see the graph fill up, and on a failure the
target graph is dropped, so it is empty rather than as it was.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import BNode, Graph

from ftz_kg.errors import EXIT_PUBLISH_UNVERIFIED
from ftz_kg.remote.client import RemoteEngine, RemoteError, Transport, check_url
from ftz_kg.query.store import SelectResult

# triples per request: a graph store takes large bodies; Virtuoso 7 refuses INSERT DATA of
# about 5,000 triples ("memory exhausted"), so Update batches stay well below that
GRAPH_STORE_BATCH = 50_000
UPDATE_BATCH = 2_000
# answers that mean "this URL is no graph store" rather than "your data is wrong"
NO_GRAPH_STORE = {400, 404, 405, 406, 415, 501}


class PublishUnverified(RemoteError):
    exit_code = EXIT_PUBLISH_UNVERIFIED


@dataclass
class Target:
    """Where to publish: the query endpoint, the update endpoint and, if any, the graph store."""

    endpoint: str
    update_endpoint: str | None = None
    graph_store: str | None = None

    def __post_init__(self):
        check_url(self.endpoint)
        self.update_endpoint = check_url(self.update_endpoint or self.endpoint, "update endpoint")
        if self.graph_store:
            check_url(self.graph_store, "graph store")


@dataclass
class PublishReport:
    graph: str
    triples: int
    method: str
    seconds: float


def ntriples_lines(graph: Graph) -> list[str]:
    """The graph as sorted N-Triples lines, the unit every publishing request is made of."""
    if any(isinstance(term, BNode) for triple in graph for term in triple):
        # blank nodes could not be matched up across separate requests
        raise ValueError("the graph has blank nodes; skolemise it before publishing")
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return sorted(line for line in text.splitlines() if line.strip())


def _count(engine: RemoteEngine, graph_iri: str) -> int:
    result = engine.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
    if not isinstance(result, SelectResult) or len(result.rows) != 1 or result.rows[0][0] is None:
        raise PublishUnverified(engine.endpoint, "could not count the triples of the staging graph")
    return int(result.rows[0][0])


def publish(graph: Graph, target: Target, graph_iri: str, transport: Transport, batch_size: int | None = None,
            progress: Callable[[int], None] | None = None, direct: bool = False) -> PublishReport:
    """Publish `graph` as the named graph `graph_iri`; `progress(n)` is told of each n triples sent."""
    return publish_lines(ntriples_lines(graph), target, graph_iri, transport, batch_size, progress, direct)


def _batches(lines: list[str], size: int) -> list[list[str]]:
    return [lines[i:i + size] for i in range(0, len(lines), size)] or [[]]


def publish_lines(lines: list[str], target: Target, graph_iri: str, transport: Transport,
                  batch_size: int | None = None, progress: Callable[[int], None] | None = None,
                  direct: bool = False) -> PublishReport:
    """Publish distinct N-Triples lines (no blank nodes) as the named graph `graph_iri`: through a
    staging graph and one MOVE, or, with `direct`, straight into the target (not atomic)."""
    started = time.perf_counter()
    engine = RemoteEngine(target.endpoint, transport)
    loading = graph_iri if direct else f"{graph_iri.rstrip('/#')}/staging-{uuid.uuid4().hex}"
    unchanged = "the target graph was emptied (--direct)" if direct else "the target graph is unchanged"
    method = None
    try:
        if target.graph_store:    # its first request is a PUT, which replaces what the graph held
            method = _load_graph_store(_batches(lines, batch_size or GRAPH_STORE_BATCH), target.graph_store,
                                       loading, transport, progress)
        if method is None:
            method = "SPARQL 1.1 Update"
            if direct:
                engine.update(f"DROP SILENT GRAPH <{loading}>", target.update_endpoint)
            for batch in _batches(lines, batch_size or UPDATE_BATCH):
                engine.update(f"INSERT DATA {{ GRAPH <{loading}> {{\n" + "\n".join(batch) + "\n} }",
                              target.update_endpoint)
                if progress:
                    progress(len(batch))
        loaded = _count(engine, loading)
        if loaded != len(lines):
            raise PublishUnverified(target.endpoint, f"the {'target' if direct else 'staging'} graph holds {loaded} "
                                                     f"triples, {len(lines)} were sent; {unchanged}")
        if not direct:
            # one request: the store swaps the graphs in one step
            engine.update(f"MOVE <{loading}> TO <{graph_iri}>", target.update_endpoint)
    except BaseException as error:
        _drop_quietly(engine, loading, target.update_endpoint)
        if direct and isinstance(error, RemoteError) and unchanged not in str(error):
            error.args = (f"{error}; {unchanged}",)
        raise
    return PublishReport(graph_iri, len(lines), method + (", direct" if direct else ""),
                         time.perf_counter() - started)


def _load_graph_store(batches, url: str, staging: str, transport: Transport, progress) -> str | None:
    """PUT the first batch and POST the rest; None when `url` turns out to be no graph store."""
    try:
        # a request without a body first: a store that wants Digest credentials says so here, not
        # after a large body was sent (Virtuoso closes the connection on those)
        transport.request("GET", url, params={"graph": staging}, endpoint=url)
    except RemoteError as refused:
        if refused.status in (401, 403) or refused.status is None:
            raise
        if refused.status in NO_GRAPH_STORE - {404}:   # 404 is the answer for a missing graph too
            return None
    for index, batch in enumerate(batches):
        body = ("\n".join(batch) + "\n").encode("utf-8")
        try:
            transport.request("PUT" if index == 0 else "POST", url, params={"graph": staging}, content=body,
                              headers={"Content-Type": "application/n-triples"}, endpoint=url)
        except RemoteError as refused:
            if index == 0 and refused.status in NO_GRAPH_STORE:
                return None
            raise
        if progress:
            progress(len(batch))
    return "SPARQL 1.1 Graph Store HTTP Protocol"


def _drop_quietly(engine: RemoteEngine, staging: str, update_endpoint: str) -> None:
    try:
        engine.update(f"DROP SILENT GRAPH <{staging}>", update_endpoint)
    except RemoteError:
        pass  # the store is unusable; the staging graph is named uniquely and holds nothing readers use
