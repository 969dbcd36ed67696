"""Stage 1: read the curated CSV sources, keeping each cell's file and line for errors."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ftz_kg.errors import InputError

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


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of an offset into a text."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def read_text(path: Path, bom_ok: bool = False) -> str:
    """Read a curated text file as strict UTF-8, refusing what a spreadsheet might sneak in.

    A byte-order mark is dropped where `bom_ok` (CSV: Excel's "CSV UTF-8" always writes one, and
    csv would otherwise read it as part of the first column's name) and refused elsewhere."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    if data.startswith(b"\xef\xbb\xbf"):
        if not bom_ok:
            raise InputError("file starts with a byte-order mark; save it as UTF-8 without BOM",
                             path=str(path), line=1)
        data = data[3:]
    if not data.strip():
        raise InputError("file is empty", path=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                         path=str(path), line=line) from None
    match = _CONTROL.search(text)
    if match:
        line, column = position(text, match.start())
        raise InputError(f"control character U+{ord(match.group()):04X} is not allowed",
                         path=str(path), line=line, column=column)
    return text


def read_table(path: Path, columns: list[str], required: set[str]) -> list[Row]:
    """Rows of a CSV file whose header must be exactly `columns` (in any order)."""
    text = read_text(path, bom_ok=True)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise _malformed(path, text, 1, exc) from None
    header = [h.strip() for h in header]
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if unknown:
            parts.append("unknown column(s) " + ", ".join(unknown))
        # point at the first unknown name, or past the last one when a column is only missing
        cells, end, _ = scan_record(text, 0)
        offset = cells[header.index(unknown[0])] if unknown else end
        raise InputError("; ".join(parts) + f"; expected: {','.join(columns)}", path=str(path), line=1,
                         column=position(text, offset)[1])
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
            raise _malformed(path, text, start, exc) from None
        if not any(cell.strip() for cell in record):
            start = reader.line_num + 1
            continue
        if len(record) != len(header):
            raise _wrong_length(path, text, start, len(record), len(header))
        row = Row(path, start, {h: cell.strip() for h, cell in zip(header, record)})
        for column in sorted(required):
            if not row.get(column):
                raise row.error("required cell is empty", column)
        rows.append(row)
        start = reader.line_num + 1
    return rows


def _line_start(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    return offset


def scan_record(text: str, i: int) -> tuple[list[int], int, int | None]:
    """Where the cells of the CSV record starting at offset `i` start, where the record ends, and
    where it goes wrong (a quote never closed, or text after a closing quote) or None. It follows
    csv's default dialect, only to point an error at a line and column."""
    starts, n = [i], len(text)
    while True:
        if i < n and text[i] == '"':
            opening, i = i, i + 1
            while True:
                close = text.find('"', i)
                if close < 0:
                    return starts, n, opening
                if text.startswith('""', close):
                    i = close + 2
                    continue
                i = close + 1
                break
            if i < n and text[i] not in ",\r\n":
                return starts, i, i
        while i < n and text[i] not in ",\r\n":
            i += 1
        if i >= n or text[i] != ",":
            return starts, i, None
        i += 1
        starts.append(i)


def _malformed(path: Path, text: str, line: int, exc: csv.Error) -> InputError:
    _, _, wrong = scan_record(text, _line_start(text, line))
    if wrong is None:
        return InputError(f"malformed CSV: {exc}", path=str(path), line=line)
    where_line, column = position(text, wrong)
    why = ("this quoted cell is never closed" if text[wrong] == '"'
           else "text after the closing quote of a cell (write a quote inside a quoted cell as \"\")")
    return InputError(f"malformed CSV: {why}", path=str(path), line=where_line, column=column)


def _wrong_length(path: Path, text: str, line: int, cells: int, expected: int) -> InputError:
    """Point at the first cell too many, or at the end of a row that is short."""
    starts, end, _ = scan_record(text, _line_start(text, line))
    offset = starts[expected] if len(starts) > expected else end
    where_line, column = position(text, offset)
    return InputError(f"row has {cells} cells but the header has {expected}", path=str(path), line=where_line,
                      column=column)
