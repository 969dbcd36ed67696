"""Error types shared by every stage; each maps to a CLI exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_UNUSABLE_INPUT = 2


class FtzKgError(Exception):
    """Base class for errors the CLI reports as one clear line and an exit code."""

    exit_code = EXIT_UNUSABLE_INPUT


class InputError(FtzKgError):
    """Input that cannot be used at all: unreadable file, syntax error, unknown reference.

    The message always names the file, and the line and column or CSV column where known.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 column: int | str | None = None):
        self.path = path
        self.line = line
        self.column = column
        where = ""
        if path:
            where = str(path)
            if line is not None:
                where += f":{line}"
                if isinstance(column, int):
                    where += f":{column}"
            if isinstance(column, str):
                where += f" (column {column!r})"
            where += ": "
        super().__init__(where + message)
        self.bare_message = message
