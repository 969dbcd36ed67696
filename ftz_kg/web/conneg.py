"""HTTP content negotiation: parse Accept with q-values and pick what we can produce."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

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
