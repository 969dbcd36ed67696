"""Canned queries that look for text in names, answered through the text index: the index names the
entities that can match, the query (unchanged otherwise) decides which do.

`label-search` scans every label with CONTAINS: at 100x the real graph that is seconds, in any
SPARQL store (Oxigraph has no text index). Given the candidates first, as a VALUES block at the
start of the query's group, the store reads only their labels. The answer is the same: the
candidates are every entity with a name containing the text, and perhaps a few more
(TextIndex.name_candidates), and the query's own filter keeps exactly those it kept before.
"""

from __future__ import annotations

# query name → (the parameter holding the text, the variable of the entities it names)
NARROWED = {"label-search": ("text", "?entity")}


def narrowed(query_name: str, values: dict, sparql: str, index) -> str:
    """The bound query with the index's candidates joined first, or the query as it was when the
    index cannot narrow it (no index, a query it does not serve, text too short, too many matches)."""
    how = NARROWED.get(query_name)
    if index is None or how is None:
        return sparql
    param, variable = how
    text = values.get(param)
    if not text:
        return sparql
    candidates = index.name_candidates(str(text))
    at = sparql.find("WHERE {")
    if candidates is None or at < 0:
        return sparql
    at += len("WHERE {")
    listed = " ".join(f"<{iri}>" for iri in candidates)
    return f"{sparql[:at]}\n  VALUES {variable} {{ {listed} }}{sparql[at:]}"
