"""Checking citations against the report's text: every quote must be the report's own words, at
the lines the citation gives. The report is not part of this repository (the product and its tests
never read it), so a curator runs this with a copy of the text: `ftz-kg check-quotes --report FILE`.

The rule a quote follows: take the report's lines first..last, strip each line, drop blank lines and
join them without line breaks (the text edition breaks lines where the printed page did, mid-word
for Chinese); the quote is a substring of that. An ellipsis `…` in a quote marks words of an
interleaved figure or table left out: the pieces it separates must appear in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftz_kg.pipeline.curated import read_table, read_text
from ftz_kg.pipeline.mapping import CITATION_COLUMNS, CITATION_REQUIRED, SOURCE_COLUMNS, SOURCE_REQUIRED, TABLES

ELISION = "…"


@dataclass(frozen=True)
class QuoteProblem:
    where: str      # file:line of the citation
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def joined(lines: list[str], first: int, last: int) -> str:
    """Lines first..last (1-based) of the report, stripped and joined without line breaks."""
    return "".join(line.strip() for line in lines[first - 1:last] if line.strip())


def quote_found(text: str, quote: str) -> bool:
    at = 0
    for piece in quote.split(ELISION):
        found = text.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def check_quotes(report: Path, graph_dir: Path) -> tuple[int, list[QuoteProblem]]:
    """(citations checked, problems) for every citation of a place of the report under graph_dir."""
    lines = read_text(report).split("\n")
    external = {row.get("id") for row in read_table(graph_dir / "sources.csv", SOURCE_COLUMNS, set(SOURCE_REQUIRED))
                if row.get("kind") == "external"}
    checked, problems = 0, []
    cited: list[tuple[str, str, str, str]] = []   # where, source, lines, quote
    for path in sorted((graph_dir / "citations").glob("*.csv")):
        for row in read_table(path, CITATION_COLUMNS, set(CITATION_REQUIRED)):
            cited.append((f"{path.name}:{row.line}", row.get("source"), row.get("lines"), row.get("quote")))
    # figures and events cite their places in their own rows, as parallel |-separated lists
    for table in TABLES:
        if not table.cited_inline:
            continue
        for path in sorted(graph_dir.glob(table.pattern)):
            for row in read_table(path, table.column_names, set()):
                where = f"{path.relative_to(graph_dir)}:{row.line}"
                for source, span, quote in zip(*(row.get(c).split("|") for c in ("source", "lines", "quote"))):
                    cited.append((where, source.strip(), span.strip(), quote.strip()))
    for where, source, lines_cell, quote in cited:
        if source.partition("#")[0] in external:
            continue
        first, _, last = lines_cell.partition("-")
        if not first.isdigit() or not (last or first).isdigit():
            problems.append(QuoteProblem(where, f"lines {lines_cell!r} must be N or N-M"))
            continue
        first_n, last_n = int(first), int(last or first)
        checked += 1
        if last_n > len(lines):
            problems.append(QuoteProblem(where, f"lines {first_n}-{last_n} run past the end of the report "
                                                f"({len(lines)} lines)"))
        elif not quote_found(joined(lines, first_n, last_n), quote):
            problems.append(QuoteProblem(where, f"quote not found in lines {first_n}-{last_n}: {quote!r}"))
    return checked, problems


__all__ = ["check_quotes", "quote_found", "joined", "QuoteProblem", "ELISION"]
