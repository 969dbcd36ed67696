"""HTTP content negotiation: parse Accept with q-values and pick what we can produce."""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from typing import NamedTuple

SELECT_TYPES = {  # media type -> results writer name
    "application/sparql-results+json": "sparql-json",
    "application/sparql-results+xml": "sparql-xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "sparql-json",
}
GRAPH_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "n-triples",
    "application/rdf+xml": "rdf-xml",
}
# Preference among equally acceptable types (first wins), per kind of result.
SELECT_ORDER = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values", "application/json"]
GRAPH_ORDER = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


@dataclass(frozen=True)
class Range:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """Specificity of the match (2 exact, 1 type/*, 0 */*), or -1 for no match."""
        main, sub = media_type.split("/", 1)
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type == main and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == sub:
            return 2
        return -1


def parse_accept(header: str | None) -> list[Range]:
    if not header or not header.strip():
        return [Range("*", "*", 1.0)]
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                q = _qvalue(value)
        main, sub = media.split("/", 1)
        ranges.append(Range(main, sub, q))
    return ranges


def _qvalue(text: str) -> float:
    """A q-value clamped to 0..1; anything that is not a number (`abc`, and `nan` or `inf`, which
    float() takes) makes the range not acceptable."""
    try:
        q = float(text.strip())
    except ValueError:
        return 0.0
    return max(0.0, min(1.0, q)) if math.isfinite(q) else 0.0


def negotiate(header: str | None, offered: list[str]) -> str | None:
    """The offered media type the client prefers most (None: nothing acceptable, answer 406)."""
    ranges = parse_accept(header)
    best, best_key = None, None
    for position, media_type in enumerate(offered):
        specific = [(r.matches(media_type), r.q) for r in ranges if r.matches(media_type) >= 0]
        if not specific:
            continue
        q = max(specific)[1]           # the most specific matching range decides the quality
        if q <= 0:
            continue
        key = (q, -position)
        if best_key is None or key > best_key:
            best, best_key = media_type, key
    return best


class Choice(NamedTuple):
    """The media type a request takes for each kind of answer (None: none it accepts), chosen
    before the query's form is known: the query worker vets the query, learns its form and picks."""
    select: str | None      # for SELECT and ASK
    graph: str | None       # for CONSTRUCT and DESCRIBE

    @classmethod
    def of(cls, media_type: str) -> "Choice":
        """Exactly this media type (asked for by a file suffix or a page), whatever the form."""
        return cls(media_type if media_type in SELECT_TYPES else None, media_type if media_type in GRAPH_TYPES else None)

    def pick(self, form: str) -> tuple[str, str]:
        """(media type, writer) for a query of `form`; NotAcceptable when the request takes none."""
        if form in ("construct", "describe"):
            if self.graph is None:
                raise NotAcceptable("RDF (" + ", ".join(GRAPH_ORDER) + ")")
            return self.graph, GRAPH_TYPES[self.graph]
        if self.select is None:
            raise NotAcceptable(", ".join(SELECT_ORDER))
        return self.select, SELECT_TYPES[self.select]


class NotAcceptable(Exception):
    """No media type the request accepts fits the query's form (406)."""

    def __init__(self, kinds: str):
        super().__init__(f"cannot produce the requested media type; this query answers in {kinds}")


@functools.lru_cache(maxsize=256)
def choice_for(header: str | None) -> Choice:
    """The Choice an Accept header makes (clients send the same few headers: kept, not parsed again)."""
    return Choice(negotiate(header, SELECT_ORDER), negotiate(header, GRAPH_ORDER))


def split_suffix(name: str, suffixes: dict[str, str]) -> tuple[str, str | None]:
    """`zone/sichuan.ttl` -> (`zone/sichuan`, `text/turtle`): a format asked for by file suffix."""
    for suffix, media_type in suffixes.items():
        if name.endswith(suffix):
            return name[: -len(suffix)], media_type
    return name, None


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional GET's If-None-Match names this ETag."""
    return etag in [tag.strip() for tag in (if_none_match or "").split(",")]
