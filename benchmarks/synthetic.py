"""Synthetic graphs shaped like ours, FACTOR times its size, deterministic from a seed.

The real graph is the template: the ontology is kept once, and every instance (zone, sub-area,
measure, innovation concept, source reference ...) is copied FACTOR times under a suffixed IRI
(`measure/abc` -> `measure/abc-x7`), with its labels marked "[k]" in both languages. A copy keeps its
links inside the copy, so classes, properties, label languages, taxonomy depth and fan-out are
those of the real graph; a seeded tenth of the links to strategies, themes and agencies point
into another copy instead, so the copies form one connected graph rather than FACTOR islands.
The concept schemes stay one, so the taxonomy grows in breadth. The result validates.

    python benchmarks/synthetic.py --factor 100 --out build/synthetic-100.nt [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rdflib import Graph, Literal, URIRef  # noqa: E402
from rdflib.namespace import RDFS, SKOS  # noqa: E402

from ftz_kg.vocab import FTZ  # noqa: E402

BASE = "https://w3id.org/ftz-kg/"
LABELS = {SKOS.prefLabel, SKOS.altLabel, RDFS.label}
REWIRE = 0.1
# links to these kinds carry no cross-entity rule (unlike measure -> zone -> sub-area), so a
# rewired link keeps the graph valid
REWIRABLE = ("strategy/", "theme/", "agency/")


SINGLETONS = ("def", "scheme/", "graph")   # the ontology, the concept schemes and the dataset stay one


def _instance(term) -> bool:
    return isinstance(term, URIRef) and term.startswith(BASE) and term.count("/") >= 4 \
        and not term[len(BASE):].startswith(SINGLETONS)


def _copy(term: URIRef, k: int) -> URIRef:
    if k == 0:
        return term
    kind, _, rest = term[len(BASE):].partition("/")
    head, sep, tail = rest.partition("/")
    return URIRef(f"{BASE}{kind}/{head}-x{k}{sep}{tail}")


def _label(literal: Literal, k: int) -> Literal:
    if k == 0:
        return literal
    # a prefix, so that patterns on a label's ending (…自贸试验区) still hold
    return Literal(f"[{k}] {literal}", lang=literal.language, datatype=literal.datatype)


def _rewired(s, p, o, k: int, factor: int, seed: int) -> int:
    """The copy a link of copy k points into: its own, or for a seeded tenth of the links to a
    strategy, theme or agency another one. Decided by the link itself (not by the order links are
    written in), so that a statement about the link (ftz:statementSubject/Property/Value) is
    rewired with it and still states a triple of the graph."""
    if not o[len(BASE):].startswith(REWIRABLE):
        return k
    draw = zlib.crc32(f"{seed}|{s}|{p}|{o}|{k}".encode("utf-8"))
    return draw // 1000 % factor if draw % 1000 < REWIRE * 1000 else k


def synthetic_lines(template: Graph, factor: int, seed: int = 7) -> Iterator[str]:
    """N-Triples lines of the synthetic graph (ontology once, instances `factor` times)."""
    schema, instance = [], []
    for triple in sorted(template):
        (instance if _instance(triple[0]) else schema).append(triple)
    # the link each statement node is about: its value follows that link's rewiring
    stated = {s: (template.value(s, FTZ.statementSubject), template.value(s, FTZ.statementProperty))
              for s in template.subjects(FTZ.statementValue, None)}
    for s, p, o in schema:
        yield f"{s.n3()} {p.n3()} {o.n3()} ."
    for k in range(factor):
        for s, p, o in instance:
            subject = _copy(s, k)
            if _instance(o):
                if s in stated:     # a statement stays with its copy's subject; its value follows the link
                    target = _rewired(*stated[s], o, k, factor, seed) if p == FTZ.statementValue else k
                else:
                    target = _rewired(s, p, o, k, factor, seed)
                obj = _copy(o, target)
            elif isinstance(o, Literal) and (p in LABELS or (p == FTZ.statementValue and s in stated
                                                           and stated[s][1] in LABELS and _instance(stated[s][0]))):
                obj = _label(o, k)      # a label, and the statement that cites it, marked alike
            else:
                obj = o
            yield f"{subject.n3()} {p.n3()} {obj.n3()} ."


def template_graph() -> Graph:
    from ftz_kg.pipeline.build import build
    return build().graph


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_name(args.out.name + ".tmp")
    count = 0
    with temporary.open("w", encoding="utf-8") as out:
        for line in synthetic_lines(template_graph(), args.factor, args.seed):
            out.write(line + "\n")
            count += 1
    temporary.replace(args.out)
    print(f"wrote {args.out} ({count} triples, {args.factor}x, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
