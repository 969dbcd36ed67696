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


# Remote stores (ftz-kg publish, --endpoint, serve --store): one code per kind of failure.
EXIT_REMOTE_FAILED = 10        # the store answered with a server error (5xx)
EXIT_REMOTE_UNREACHABLE = 11   # down, DNS failure, connection refused or reset
EXIT_REMOTE_TIMEOUT = 12       # no complete answer before the deadline
EXIT_REMOTE_REFUSED = 13       # a 4xx answer: not retried
EXIT_REMOTE_BUSY = 14          # 429/503 still after the capped retries
EXIT_REMOTE_BAD_RESPONSE = 15  # malformed, truncated, or an HTML page instead of results
EXIT_UNSAFE_URL = 16           # file:// or a redirect to another host or scheme
EXIT_PUBLISH_UNVERIFIED = 17   # the staging graph did not hold what was sent
