"""Remote-store faults: each one gives one line naming the endpoint and the cause, and its own exit code.

The faults come from a small misbehaving server on loopback (tests/faulty_server.py); the
commands are run as a user runs them, through the CLI.
"""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from ftz_kg.cli import main
from ftz_kg.errors import (EXIT_REMOTE_BAD_RESPONSE, EXIT_REMOTE_BUSY, EXIT_REMOTE_FAILED, EXIT_REMOTE_REFUSED,
                           EXIT_REMOTE_TIMEOUT, EXIT_REMOTE_UNREACHABLE, EXIT_UNSAFE_URL, EXIT_UNUSABLE_INPUT)
from ftz_kg.remote.client import USER_AGENT

from .faulty_server import faulty_server
from .server import free_port

pytestmark = pytest.mark.hardening

QUERY = "SELECT ?n WHERE { ?s ?p ?n } LIMIT 1\n"


@pytest.fixture(scope="module")
def server():
    with faulty_server() as running:
        yield running


def run(endpoint: str, *extra: str):
    runner = CliRunner()
    started = time.monotonic()
    result = runner.invoke(main, ["sparql", "-", "--endpoint", endpoint, "--format", "csv", *extra], input=QUERY)
    return result, time.monotonic() - started


def one_line_error(result, endpoint: str, *words: str) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {endpoint}: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def requests_to(requests, path: str) -> int:
    return sum(1 for p, _, _ in requests if p == path)


def test_healthy_answer_and_user_agent(server):
    base, requests = server
    result, _ = run(base + "/ok")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "区"]
    assert requests[-1][2] == USER_AGENT and USER_AGENT.startswith("ftz-kg/")


def test_endpoint_down():
    endpoint = f"http://127.0.0.1:{free_port()}/sparql"
    result, _ = run(endpoint)
    assert result.exit_code == EXIT_REMOTE_UNREACHABLE
    one_line_error(result, endpoint, "connection refused")


def test_dns_failure():
    endpoint = "http://no-such-store.invalid/sparql"
    result, _ = run(endpoint)
    assert result.exit_code == EXIT_REMOTE_UNREACHABLE
    one_line_error(result, endpoint, "cannot resolve")


def test_connection_reset(server):
    base, _ = server
    result, _ = run(base + "/reset")
    assert result.exit_code == EXIT_REMOTE_UNREACHABLE
    one_line_error(result, base + "/reset", "connection")


@pytest.mark.parametrize("path, timeout, words", [
    # every byte arrives well within any per-read timeout; only an overall deadline stops it
    ("/slow-drip", "1.5", "deadline"),
    ("/silent", "1", "within 1 s"),
])
def test_slow_or_silent_server_hits_the_deadline(server, path, timeout, words):
    base, _ = server
    result, took = run(base + path, "--timeout", timeout)
    assert result.exit_code == EXIT_REMOTE_TIMEOUT
    one_line_error(result, base + path, words)
    # the overall deadline stopped it: about the --timeout (1-1.5 s) on an idle machine, where the
    # drip would go on for a minute; ten times generous
    assert took < 15


def test_retry_after_is_honoured_then_answer(server):
    base, requests = server
    result, took = run(base + "/busy-then-ok")
    assert result.exit_code == 0, result.output
    assert requests_to(requests, "/busy-then-ok") == 2
    assert took >= 1.0      # waited the Retry-After: 1 before trying again


def test_busy_gives_up_after_capped_retries(server):
    base, requests = server
    result, _ = run(base + "/busy", "--retries", "2")
    assert result.exit_code == EXIT_REMOTE_BUSY
    one_line_error(result, base + "/busy", "busy (429)", "3 attempt(s)")
    assert requests_to(requests, "/busy") == 3


@pytest.mark.parametrize("path, code", [("/forbidden", EXIT_REMOTE_REFUSED), ("/bad-request", EXIT_UNUSABLE_INPUT)])
def test_client_errors_are_not_retried(server, path, code):
    base, requests = server
    before = requests_to(requests, path)
    result, _ = run(base + path)
    assert result.exit_code == code
    assert requests_to(requests, path) == before + 1
    assert base + path in result.output


def test_bad_query_says_the_store_rejected_it(server):
    base, _ = server
    result, _ = run(base + "/bad-request")
    assert "rejected the query" in result.output and "Parse error" in result.output


def test_server_error(server):
    base, _ = server
    result, _ = run(base + "/server-error")
    assert result.exit_code == EXIT_REMOTE_FAILED
    one_line_error(result, base + "/server-error", "server error (500)")


@pytest.mark.parametrize("path, words", [
    ("/malformed", ("malformed",)),
    ("/truncated", ("truncated",)),
    ("/html", ("HTML page",)),
])
def test_bad_answers(server, path, words):
    base, _ = server
    result, _ = run(base + path)
    assert result.exit_code == EXIT_REMOTE_BAD_RESPONSE
    one_line_error(result, base + path, *words)


@pytest.mark.parametrize("path, words", [
    ("/redirect-other-host", ("other.example", "refused")),
    ("/redirect-file", ("file:///etc/passwd", "refused")),
])
def test_unsafe_redirects_refused(server, path, words):
    base, _ = server
    result, _ = run(base + path)
    assert result.exit_code == EXIT_UNSAFE_URL
    one_line_error(result, base + path, *words)


def test_redirect_on_same_server_followed(server):
    base, _ = server
    result, _ = run(base + "/redirect-same")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "区"]


@pytest.mark.parametrize("endpoint", ["file:///etc/passwd", "ftp://127.0.0.1/sparql", "/etc/passwd"])
def test_non_http_endpoints_refused(endpoint):
    result, _ = run(endpoint)
    assert result.exit_code == EXIT_UNSAFE_URL
    one_line_error(result, endpoint, "http:// or https://")


def test_canned_query_through_the_same_transport(server):
    base, _ = server
    result = CliRunner().invoke(main, ["query", "provinces", "--endpoint", base + "/html"])
    assert result.exit_code == EXIT_REMOTE_BAD_RESPONSE
    one_line_error(result, base + "/html", "HTML page")


def test_update_through_a_query_command_refused(server):
    base, requests = server
    before = len(requests)
    result = CliRunner().invoke(main, ["sparql", "-", "--endpoint", base + "/ok"],
                                input="DROP ALL")
    assert result.exit_code == EXIT_UNUSABLE_INPUT
    assert "read-only" in result.output
    assert len(requests) == before
