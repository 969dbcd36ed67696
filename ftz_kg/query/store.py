"""Stage 4: the store that answers SPARQL queries over the built graph.

The embedded default is pyoxigraph (Oxigraph's engine), loaded once per process. rdflib's own
engine is kept as a peer for benchmarks and for cross-checking answers. Both return the same
engine-neutral result objects, with rdflib terms, so formatting never depends on the engine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from ftz_kg.errors import FtzKgError


class QueryError(FtzKgError):
    """The query could not be parsed or evaluated."""


@dataclass
class SelectResult:
    variables: list[str]
    rows: list[tuple]              # rdflib terms or None (unbound), in variable order


@dataclass
class AskResult:
    value: bool


@dataclass
class GraphResult:
    graph: Graph = field(default_factory=Graph)


Result = SelectResult | AskResult | GraphResult


def _to_rdflib(term):
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)
    raise QueryError(f"unsupported term in results: {term!r}")


def load_ntriples(data: bytes) -> ox.Store:
    """An in-memory store holding N-Triples that we wrote from a parsed, checked graph.

    lenient: skipping Oxigraph's second check of every IRI and literal loads about a quarter faster."""
    store = ox.Store()
    store.load(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)
    return store


class OxigraphEngine:
    """pyoxigraph in memory: the fast embedded engine."""

    name = "oxigraph"

    def __init__(self, graph: Graph | None = None, store: ox.Store | None = None, union: bool = False):
        """Over a copy of `graph`, or over an already loaded `store`; `union`: the default graph is
        the union of the store's graphs (a store directory keeps the triples in a named graph)."""
        if store is None:
            store = load_ntriples(graph.serialize(format="nt", encoding="utf-8"))
        self.store = store
        self._dataset = {"use_default_graph_as_union": True} if union else {}

    def query(self, sparql: str) -> Result:
        try:
            results = self.store.query(sparql, **self._dataset)
            # evaluation is lazy: errors surface while the answer is read, so read it here
            if isinstance(results, ox.QueryBoolean):
                return AskResult(bool(results))
            if isinstance(results, ox.QuerySolutions):
                variables = [v.value for v in results.variables]
                rows = [tuple(_to_rdflib(solution[v]) for v in variables) for solution in results]
                return SelectResult(variables, rows)
            graph = Graph()
            for triple in results:
                graph.add((_to_rdflib(triple.subject), _to_rdflib(triple.predicate), _to_rdflib(triple.object)))
            return GraphResult(graph)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}") from None


class RdflibEngine:
    """rdflib's own SPARQL engine: the slow reference peer."""

    name = "rdflib"

    def __init__(self, graph: Graph):
        self.graph = graph

    def query(self, sparql: str) -> Result:
        try:
            results = self.graph.query(sparql)
        except Exception as exc:  # rdflib raises pyparsing and plain exceptions
            raise QueryError(f"query failed: {exc}") from None
        if results.type == "ASK":
            return AskResult(bool(results.askAnswer))
        if results.type == "SELECT":
            variables = [str(v) for v in results.vars]
            return SelectResult(variables, [tuple(row) for row in results])
        graph = Graph()
        for triple in results:
            graph.add(triple)
        return GraphResult(graph)


@functools.lru_cache(maxsize=1)
def default_graph():
    """A fresh build's graph, made once per process (the embedded store and `ask`'s text index)."""
    from ftz_kg.pipeline.build import build

    return build().graph


@functools.lru_cache(maxsize=1)
def default_engine() -> OxigraphEngine:
    """The embedded store over a fresh build, created once per process."""
    return OxigraphEngine(default_graph())
