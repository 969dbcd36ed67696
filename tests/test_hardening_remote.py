"""Remote stores, adversarial: what a hostile or broken store (or a mistyped URL) sends must end in
one line naming the endpoint and a documented exit code, never a traceback, and under
`serve --store` in a 502, never a 500.

Each case here ended in a traceback (or a wrong answer, or gigabytes of memory) before
remote.py read URLs, redirects, SPARQL JSON results and compressed bodies strictly. The faults
come from tests/faulty_server.py; the commands run as a user runs them, through the CLI.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from ftz_kg.cli import main
from ftz_kg.errors import (EXIT_REMOTE_BAD_RESPONSE, EXIT_REMOTE_FAILED, EXIT_UNSAFE_URL, EXIT_UNUSABLE_INPUT,
                           FtzKgError)
from ftz_kg.web.forwarding import ForwardingRunner
from ftz_kg.query.guard import Refused
from ftz_kg.remote.client import MAX_RESULT_BYTES, MAX_RESULT_BYTES_ENV, BadResponse, Transport

from .faulty_server import faulty_server
from .server import free_port, running_server
from .test_remote_faults import one_line_error, requests_to

pytestmark = pytest.mark.hardening

SELECT = "SELECT ?n WHERE { ?s ?p ?n } LIMIT 1\n"
ASK = "ASK { ?s ?p ?n }\n"


@pytest.fixture(scope="module")
def server():
    with faulty_server() as running:
        yield running


def run(endpoint: str, query: str = SELECT, *extra: str, env: dict | None = None):
    return CliRunner().invoke(main, ["sparql", "-", "--endpoint", endpoint, "--format", "csv", *extra],
                              input=query, env=env)


# --- URLs given by the user ---------------------------------------------------------------

MALFORMED_ENDPOINTS = [
    ("http://[::1/query", "Invalid IPv6 URL"),
    ("http://127.0.0.1:abc/q", "integer"),
    ("http://127.0.0.1:70000/q", "out of range"),
    ("http://127.0.0.1:0/q", "port 0"),
    ("http://a b/q", "invalid host name"),
]
# look-alikes of the faulty server's address: before, `127。0。0。1` reached it (httpx maps the
# ideographic full stops to dots) and the others ended in httpx's InvalidURL traceback
LOOKALIKE_ENDPOINTS = [
    ("http://ｌｏｃａｌｈｏｓｔ:{port}/ok", "look-alike of 'localhost'"),
    ("http://127。0。0。1:{port}/ok", "look-alike of '127.0.0.1'"),
    ("http://１２７.０.０.１:{port}/ok", "look-alike of '127.0.0.1'"),
    ("http://127.0.0.1：{port}/ok", "NFKC"),
    ("http://ex\u200bample.org/q", "not a valid international domain name"),
]


@pytest.mark.parametrize("endpoint, words", MALFORMED_ENDPOINTS + LOOKALIKE_ENDPOINTS)
def test_malformed_or_lookalike_endpoint_refused(server, endpoint, words):
    base, requests = server
    endpoint = endpoint.format(port=base.rsplit(":", 1)[1])
    before = len(requests)
    result = run(endpoint)
    assert result.exit_code == EXIT_UNSAFE_URL, result.output
    one_line_error(result, endpoint, "not a usable http:// or https:// URL", words)
    assert len(requests) == before      # refused before any request


def test_lookalike_endpoint_refused_by_the_query_command(server):
    base, requests = server
    endpoint = f"http://127。0。0。1:{base.rsplit(':', 1)[1]}/ok"
    result = CliRunner().invoke(main, ["query", "provinces", "--endpoint", endpoint])
    assert result.exit_code == EXIT_UNSAFE_URL, result.output
    one_line_error(result, endpoint, "look-alike")


@pytest.mark.parametrize("endpoint", ["http://[::1/query", "http://ｌｏｃａｌｈｏｓｔ:{port}/q"])
def test_serve_refuses_a_malformed_store_url(endpoint):
    # a closed port: were the URL taken, loading the snapshot would fail at once (no server starts)
    endpoint = endpoint.format(port=free_port())
    result = CliRunner().invoke(main, ["serve", "--store", endpoint, "--port", str(free_port())])
    assert result.exit_code == EXIT_UNSAFE_URL, result.output
    one_line_error(result, endpoint, "not a usable http:// or https:// URL")


def test_plain_international_host_names_still_accepted():
    # NFKC-stable, valid IDNA: a real (if unreachable here) host, not a look-alike
    result = run("http://bücher.invalid/sparql")
    assert result.exit_code != EXIT_UNSAFE_URL, result.output
    one_line_error(result, "http://bücher.invalid/sparql", "cannot resolve")


# --- redirects sent by the store -------------------------------------------------------------

@pytest.mark.parametrize("path, code, words", [
    # a Location that does not parse makes the answer malformed
    ("/redirect-port", EXIT_REMOTE_BAD_RESPONSE, ("invalid URL", "70000", "out of range")),
    ("/redirect-bad-ipv6", EXIT_REMOTE_BAD_RESPONSE, ("invalid URL", "Invalid IPv6 URL")),
    # one that names this very server in look-alike characters is a redirect to another host
    ("/redirect-fullwidth", EXIT_UNSAFE_URL, ("ｌｏｃａｌｈｏｓｔ", "look-alike", "refused")),
    ("/redirect-dots", EXIT_UNSAFE_URL, ("127。0。0。1", "look-alike", "refused")),
    ("/redirect-colon", EXIT_UNSAFE_URL, ("NFKC", "refused")),
])
def test_bad_redirects_end_in_one_line(server, path, code, words):
    base, requests = server
    before = requests_to(requests, "/ok")
    result = run(base + path)
    assert result.exit_code == code, result.output
    one_line_error(result, base + path, *words)
    assert requests_to(requests, "/ok") == before      # not followed


# --- SPARQL JSON results ---------------------------------------------------------------------

@pytest.mark.parametrize("path, query, words", [
    ("/bad-lang", SELECT, ("invalid language tag 'not a tag!'",)),
    ("/lang-number", SELECT, ("language tag that is not a string",)),
    ("/deep", SELECT, ("nested too deeply",)),
    ("/bad-vars", SELECT, ("head.vars",)),
    # "false" is a non-empty string, so it was read as true
    ("/ask-string", ASK, ("ASK answer", "not true or false")),
    ("/ask-null", ASK, ("ASK answer 'null'",)),
])
def test_malformed_results_end_in_one_line(server, path, query, words):
    base, _ = server
    result = run(base + path, query)
    assert result.exit_code == EXIT_REMOTE_BAD_RESPONSE, result.output
    one_line_error(result, base + path, "malformed SPARQL JSON results", *words)


def test_canned_query_with_malformed_results(server):
    base, _ = server
    result = CliRunner().invoke(main, ["query", "provinces", "--endpoint", base + "/bad-lang"])
    assert result.exit_code == EXIT_REMOTE_BAD_RESPONSE, result.output
    one_line_error(result, base + "/bad-lang", "invalid language tag")


def test_json_booleans_still_read(server):
    base, _ = server
    result = run(base + "/ask-false", ASK, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "false"


# --- compressed bodies -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/gzip-ok", "/deflate-ok", "/raw-deflate-ok"])
def test_compressed_answers_are_decoded(server, path):
    base, _ = server
    result = run(base + path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["n", "区"]


@pytest.mark.parametrize("path, words", [
    ("/gzip-truncated", ("compressed answer truncated",)),
    ("/brotli", ("encoding not asked for", "'br'")),
])
def test_bad_compressed_answers(server, path, words):
    base, _ = server
    result = run(base + path)
    assert result.exit_code == EXIT_REMOTE_BAD_RESPONSE, result.output
    one_line_error(result, base + path, *words)


# Runs the CLI and writes its own peak RSS (VmHWM of its memory after exec) to the file named first.
# Not the child's rusage: on Linux that keeps the high-water mark of the pre-exec process, which is
# a copy of this (pytest) process and, late in a full run, larger than anything measured here.
_MEASURED = """
import atexit, runpy, sys
path = sys.argv.pop(1)
def report():
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(str(peak * 1024))
atexit.register(report)
sys.argv[0] = "ftz-kg"
runpy.run_module("ftz_kg.cli", run_name="__main__")
"""


def run_measured(endpoint: str, tmp_path) -> tuple[int, list[str], int]:
    """Run `ftz-kg sparql` on `endpoint` in a child process: its exit code, output lines and peak RSS
    in bytes, with the default result cap."""
    output, peak_file = tmp_path / "output", tmp_path / "peak"
    env = {key: value for key, value in os.environ.items() if key != MAX_RESULT_BYTES_ENV}
    with output.open("w") as sink:
        process = subprocess.run([sys.executable, "-c", _MEASURED, str(peak_file), "sparql", "-", "--endpoint",
                                  endpoint, "--timeout", "600"],
                                 input=SELECT.encode(), stdout=sink, stderr=subprocess.STDOUT, env=env)
    lines = [line for line in output.read_text().splitlines() if line.strip()]
    peak = int(peak_file.read_text())
    print(f"peak RSS of the client on {endpoint}: {peak / 1024 ** 2:.0f} MiB")
    return process.returncode, lines, peak


def test_gzip_bomb_stops_at_the_cap_with_bounded_memory(server, tmp_path):
    """1 MB on the wire, 1 GiB of (valid) SPARQL JSON once inflated: before, the client read it all
    into memory (about 2 GB at its peak) and answered. Now it stops at the cap, near which it stays."""
    base, _ = server
    code, lines, peak = run_measured(base + "/bomb", tmp_path)
    assert code == EXIT_REMOTE_BAD_RESPONSE, lines
    assert lines == [f"error: {base}/bomb: answer larger than {MAX_RESULT_BYTES} bytes decompressed "
                     f"(the cap; {MAX_RESULT_BYTES_ENV} sets it)"]
    # expected: the 256 MiB cap plus the interpreter and its libraries (about 60 MiB, 310 MiB in
    # all); the bound leaves 200 MiB more for allocator slack, and is a quarter of the peak before
    assert peak < 2 * MAX_RESULT_BYTES


def test_error_page_bomb_read_only_as_far_as_its_first_line(server, tmp_path):
    """A 500 whose error page is the bomb: only its start is read (64 KiB), and the store's error
    is reported. Before, up to 1 GiB of it was read, to show its first line."""
    base, _ = server
    code, lines, peak = run_measured(base + "/error-bomb", tmp_path)
    assert code == EXIT_REMOTE_FAILED, lines
    assert len(lines) == 1 and lines[0].startswith(f"error: {base}/error-bomb: server error (500)"), lines
    # expected: the interpreter and its libraries, about 60 MiB; before, over 1 GiB
    assert peak < MAX_RESULT_BYTES


def test_result_cap_set_from_the_environment(server):
    base, _ = server
    small = {MAX_RESULT_BYTES_ENV: "4096"}
    assert run(base + "/ok", env=small).exit_code == 0
    result = run(base + "/bomb", env=small)
    assert result.exit_code == EXIT_REMOTE_BAD_RESPONSE, result.output
    one_line_error(result, base + "/bomb", "larger than 4096 bytes decompressed")
    result = run(base + "/ok", env={MAX_RESULT_BYTES_ENV: "lots"})
    assert result.exit_code == EXIT_UNUSABLE_INPUT
    assert result.output.strip() == (f"error: {MAX_RESULT_BYTES_ENV} must be a positive whole number of bytes; "
                                     f"got 'lots'")


def test_result_cap_set_where_the_transport_is_built(server):
    base, _ = server
    transport = Transport(max_body=10_000)
    try:
        with pytest.raises(BadResponse, match="larger than 10000 bytes decompressed"):
            transport.request("GET", base + "/bomb")
        assert transport.request("GET", base + "/ok").body.startswith(b'{"head"')
    finally:
        transport.close()


# --- serve --store: a 502, never a 500 -------------------------------------------------------

@pytest.fixture(scope="module")
def served(server):
    """`ftz-kg serve --store` on the faulty server's /store: its snapshot is one triple, and a query
    holding "fault:NAME" gets what /NAME sends."""
    base, _ = server
    with running_server("--store", base + "/store", "--timeout", "60") as (url, process):
        yield url, process


def _faulty_query(fault: str, form: str = "SELECT ?n") -> str:
    return f'{form} WHERE {{ ?s ?p ?n FILTER(?n != "fault:{fault}") }}'


@pytest.mark.parametrize("fault, form, words", [
    ("redirect-port", "SELECT ?n", ("invalid URL", "out of range")),
    ("redirect-bad-ipv6", "SELECT ?n", ("invalid URL",)),
    ("redirect-fullwidth", "SELECT ?n", ("look-alike",)),
    ("redirect-dots", "SELECT ?n", ("look-alike",)),
    ("redirect-colon", "SELECT ?n", ("NFKC",)),
    ("bad-lang", "SELECT ?n", ("invalid language tag",)),
    ("lang-number", "SELECT ?n", ("language tag",)),
    ("deep", "SELECT ?n", ("nested too deeply",)),
    ("bad-vars", "SELECT ?n", ("head.vars",)),
    ("ask-string", "ASK", ("not true or false",)),
    ("ask-null", "ASK", ("not true or false",)),
])
def test_serve_store_answers_502_for_a_bad_store_answer(served, fault, form, words):
    url, process = served
    response = httpx.post(url + "/sparql", data={"query": _faulty_query(fault, form)}, timeout=120)
    assert response.status_code == 502, response.text
    for word in words:
        assert word in response.text, response.text
    assert not any("Traceback" in line for line in process.captured), "".join(process.captured)


@pytest.mark.parametrize("fault", ["deep", "bad-vars", "redirect-port"])
def test_serve_store_parameter_lookup_answers_502(served, fault):
    """/api looks an entity parameter's name up in the store: a bad answer there is a 502 too."""
    url, process = served
    response = httpx.get(url + "/api/measures-by-zone.json", params={"zone": f"fault:{fault}"}, timeout=120)
    assert response.status_code == 502, response.text
    assert "the store could not answer" in response.text
    assert not any("Traceback" in line for line in process.captured), "".join(process.captured)


def test_serve_store_answers_502_when_the_answer_cannot_be_written(served):
    # the store's graph has a property IRI that RDF/XML cannot write (it ends in a digit)
    url, process = served
    query = 'CONSTRUCT { ?s ?p ?n } WHERE { ?s ?p ?n FILTER(?n != "fault:unwritable-iri") }'
    response = httpx.post(url + "/sparql", data={"query": query}, headers={"Accept": "application/rdf+xml"},
                          timeout=120)
    assert response.status_code == 502, response.text
    assert "cannot be written as rdf-xml" in response.text
    # in a format that can write it, the same answer is served
    response = httpx.post(url + "/sparql", data={"query": query}, headers={"Accept": "application/n-triples"},
                          timeout=120)
    assert response.status_code == 200, response.text
    assert "<https://example.org/1>" in response.text


def test_serve_store_still_answers(served):
    url, _ = served
    response = httpx.post(url + "/sparql", data={"query": SELECT}, headers={"Accept": "text/csv"}, timeout=120)
    assert response.status_code == 200, response.text
    assert response.text.splitlines() == ["n", "区"]


class _Unforeseen:
    """An engine whose reading of the answer fails in a way remote.py does not know."""

    endpoint = "http://store.invalid/sparql"

    class transport:
        timeout = 5.0

        @staticmethod
        def close():
            pass

    def query(self, sparql):
        raise KeyError("something nobody foresaw")


def test_forwarding_turns_an_unforeseen_failure_into_a_502():
    runner = ForwardingRunner(_Unforeseen())

    async def forward():
        runner.start()
        return await runner.run(SELECT, "json")

    with pytest.raises(Refused) as refused:
        asyncio.run(forward())
    assert refused.value.status == 502
    assert "could not be read (KeyError)" in str(refused.value)
    assert isinstance(refused.value, FtzKgError)
