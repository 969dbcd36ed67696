"""An N-Triples dump loaded straight into an Oxigraph store, checked as rdflib's path checks it.

`serve --graph DUMP.nt --store-dir DIR` on a first start used to parse the dump into rdflib, check
its terms, validate, serialise it again and load that into the store: at 100x the real graph, more
than a minute, most of it in rdflib. Here Oxigraph parses the file itself (strictly: an IRI that is
not one is a syntax error, with its line and column) into the store being written, the literals are
checked for their datatypes as `rdfio.check_terms` checks them (each distinct typed literal once),
and the shapes run on the store (fastshacl.conforms_on_store). Nothing the rdflib path refuses is
let through; the error names the file, line and column.

The checks run on a copy in memory (SHACL there is twice as fast as on RocksDB) while the store on
disk is written from the same file in a thread beside them (Oxigraph's loader releases the GIL).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef

from ftz_kg.errors import InputError
from ftz_kg.pipeline.rdfio import _locate, _quiet_rdflib, _term_problem

_TYPED_LITERALS = """
SELECT DISTINCT ?o WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER (isLiteral(?o) && LANG(?o) = ""
          && DATATYPE(?o) != <http://www.w3.org/2001/XMLSchema#string>)
}"""


def load_ntriples_file(store: ox.Store, path: Path, graph: ox.NamedNode) -> None:
    """Parse the N-Triples file into `graph` of the store and check its literals; InputError (file,
    line, column) for anything rdflib's path refuses."""
    try:
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    except SyntaxError as error:
        why = str(error.args[0]) if error.args else str(error)
        why = why.split(": ", 1)[1] if why.startswith("Parser error at line") and ": " in why else why
        raise InputError(f"N-Triples syntax error: {why}", path=str(path), line=error.lineno,
                         column=error.offset) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", path=str(path)) from None
    check_literals(store, path)


def check_literals(store: ox.Store, path: Path) -> None:
    """Refuse a literal whose lexical form does not fit its datatype (Oxigraph keeps it as given;
    rdflib only warns). Oxigraph reads a valid value in its canonical form, which fits too."""
    for row in store.query(_TYPED_LITERALS):
        literal = row[0]
        with _quiet_rdflib():       # rdflib logs each lexical form it cannot read
            term = Literal(literal.value, datatype=URIRef(literal.datatype.value))
            problem = _term_problem(term)
        if problem:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            line, column = _locate(text, term, Path(path))
            raise InputError(problem, path=str(path), line=line, column=column)


def load_validated(store: ox.Store, graph: ox.NamedNode, path: Path, shapes) -> bool:
    """Load the dump into `store` (on disk) and, at the same time, check a copy in memory and
    validate it against `shapes`: whether it conforms. InputError when the file is refused;
    fastshacl.UnsupportedShapes when the shapes cannot be compiled. The store is complete on return.
    (Sharing the checks with a second process reading its own copy gained 6 % on two cores, with
    the store being written beside them: not worth a process.)"""
    from ftz_kg.pipeline import fastshacl

    checks = fastshacl.violation_checks(shapes)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        except BaseException as error:      # the copy in memory names the reason (file, line)
            failed.append(error)

    writer = threading.Thread(target=write, name="store-writer")
    writer.start()
    try:
        copy = ox.Store()
        load_ntriples_file(copy, path, graph)       # refuses what rdflib's path refuses, by line
        violated = fastshacl.any_violation(checks, copy, union=True)
    finally:
        writer.join()
    if failed:
        raise InputError(f"cannot load into the store: {failed[0]}", path=str(path))
    return not violated
