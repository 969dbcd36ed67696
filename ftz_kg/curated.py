"""Stage 1: read the curated CSV sources, keeping each cell's file and line for errors."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

MULTI_SEPARATOR = "|"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Row:
    path: Path
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")

    def values(self, column: str) -> list[str]:
        """The `|`-separated values of a multi-valued cell, blanks dropped."""
        return [v.strip() for v in self.get(column).split(MULTI_SEPARATOR) if v.strip()]

    def error(self, message: str, column: str | None = None) -> InputError:
        return InputError(message, path=str(self.path), line=self.line, column=column)


def read_text(path: Path) -> str:
    """Read a curated text file as strict UTF-8, refusing what a spreadsheet might sneak in."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    if not data.strip():
        raise InputError("file is empty", path=str(path))
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError("file starts with a byte-order mark; save it as UTF-8 without BOM", path=str(path), line=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                         path=str(path), line=line) from None
    match = _CONTROL.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        raise InputError(f"control character U+{ord(match.group()):04X} is not allowed",
                         path=str(path), line=line, column=column)
    return text


def read_table(path: Path, columns: list[str], required: set[str]) -> list[Row]:
    """Rows of a CSV file whose header must be exactly `columns` (in any order)."""
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(f"malformed CSV header: {exc}", path=str(path), line=1) from None
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s) " + ", ".join(unknown))
        raise InputError("; ".join(parts) + f"; expected: {','.join(columns)}", path=str(path), line=1)
    if len(set(header)) != len(header):
        raise InputError("a column name appears twice in the header", path=str(path), line=1)
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", path=str(path), line=start) from None
        if not any(cell.strip() for cell in record):
            start = reader.line_num + 1
            continue
        if len(record) != len(header):
            raise InputError(f"row has {len(record)} cells but the header has {len(header)}",
                             path=str(path), line=start)
        row = Row(path, start, {h: cell.strip() for h, cell in zip(header, record)})
        for column in sorted(required):
            if not row.get(column):
                raise row.error("required cell is empty", column)
        rows.append(row)
        start = reader.line_num + 1
    return rows
