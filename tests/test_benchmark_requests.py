"""The load benchmarks' "uncached" requests are all distinct, so that no result cache answers them.

benchmarks/serve_load.py and benchmarks/scale.py make every request different with a wrk script.
wrk runs that script in one Lua state per thread, where math.random returns the same numbers in
every thread and every run: a counter or a random number alone repeated each request once per
thread, and a measured run repeated its warm-up's requests, which ftz-kg's result cache then
answered (its peers have none). Here wrk loads a counting HTTP server with both scripts, twice
each, as the benchmarks do (a warm-up, then the measured run), and no request may come twice.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from ftz_kg.query.guard import _shape_of  # noqa: E402
from scale import WRK_MIX_REQUESTS  # noqa: E402
from serve_load import NEW_SHAPE, WRK_SCRIPT, WRK_UNIQUE, wrk  # noqa: E402


@pytest.fixture(autouse=True)
def _wrk_installed():
    assert shutil.which("wrk"), "Debian's wrk is missing: scripts/install-test-deps installs it"


@pytest.fixture()
def counting_server():
    """An HTTP server on loopback that answers every GET with an empty 200 and counts its targets;
    yields its URL and a function giving the counts so far (a copy: a handler may still be adding
    one after wrk has returned)."""
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            with lock:
                seen[self.path] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

        def handle(self):
            try:
                super().handle()
            except ConnectionError:     # wrk drops its connections when its time is up
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        def counts() -> Counter[str]:
            with lock:
                return Counter(seen)

        yield f"http://127.0.0.1:{server.server_address[1]}", counts
    finally:
        server.shutdown()
        server.server_close()


def test_serve_load_requests_are_distinct_across_threads_and_runs(counting_server, tmp_path):
    base, counts = counting_server
    script = tmp_path / "bust.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    for _ in range(2):      # a warm-up, then the measured run
        wrk(f"{base}/sparql?query=SELECT%0A%23%20BUST", "application/sparql-results+json", 1, script, 4, 2)
    seen = counts()
    repeated = {path: count for path, count in seen.items() if count > 1}
    assert sum(seen.values()) > 100
    assert not repeated, f"{len(repeated)} requests sent more than once, e.g. {next(iter(repeated))}"
    assert all(path.startswith("/sparql?query=SELECT%0A%23%20") for path in seen)
    # each request names its run, its thread and its number: two runs, two threads each
    runs = {path.rsplit("%20", 1)[1].split("-")[0] for path in seen}
    threads = {tuple(path.rsplit("%20", 1)[1].split("-")[:2]) for path in seen}
    assert len(runs) == 2 and len(threads) == 4


def test_new_shape_requests_declare_a_prefix_of_their_own(counting_server, tmp_path):
    """serve_load's "new shape" case: the token names the prefix too, so that no two requests share
    a shape and the guard's memo of verdicts answers none of them."""
    base, counts = counting_server
    script = tmp_path / "bust.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    query = quote(NEW_SHAPE + "ASK {}" + chr(10) + "# BUST", safe="")
    wrk(f"{base}/sparql?query={query}", "application/sparql-results+json", 1, script, 4, 2)
    seen = counts()
    assert sum(seen.values()) > 50 and max(seen.values()) == 1
    texts = [unquote(path.split("?query=", 1)[1]) for path in seen]
    for text in texts:
        declared = re.fullmatch(r"PREFIX b([0-9a-f]+-\d+-\d+): <urn:ftz-kg:bench:>\nASK \{\}\n# (\S+)", text)
        assert declared and declared.group(1) == declared.group(2), text
    assert len({_shape_of(text) for text in texts}) == len(texts)


def test_scale_mix_requests_are_distinct_across_threads_and_runs(counting_server, tmp_path):
    base, counts = counting_server
    script = tmp_path / "mix.lua"
    paths = ['"/sparql?query=A%23BUST"', '"/sparql?query=B%23BUST"']
    script.write_text(WRK_UNIQUE + WRK_MIX_REQUESTS % ", ".join(paths), encoding="utf-8")
    for connections in (4, 1, 4):       # scale.py: a warm-up, then c1 and c4
        wrk(f"{base}/sparql", "application/sparql-results+json", 1, script, connections, connections)
    seen = counts()
    repeated = [path for path, count in seen.items() if count > 1]
    assert sum(seen.values()) > 100
    assert not repeated, f"{len(repeated)} requests sent more than once, e.g. {repeated[0]}"
    # both queries of the mix are asked
    assert {path.split("%23")[0] for path in seen} == {"/sparql?query=A", "/sparql?query=B"}


def test_serve_load_rounds_alternate_the_servers_and_take_the_median(monkeypatch):
    """serve_load's rounds: after one warm-up each, every round measures every server once, the
    order reversed each round; a server's figure is its median round, its errors those of all."""
    import serve_load

    calls = []
    figures = iter([100, 50, 300, 40, 200, 60, 400, 70])

    def fake_wrk(url, accept, seconds, script, *rest):
        calls.append((url, seconds))
        return {"rps": next(figures) if seconds == 5 else 0.0, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 1}
    monkeypatch.setattr(serve_load, "wrk", fake_wrk)
    samples = serve_load.interleaved({"a": "A", "b": "B"}, "text/plain", 5, 4, 2, None)
    assert calls == [("A", 2), ("B", 2), ("A", 5), ("B", 5), ("B", 5), ("A", 5), ("A", 5), ("B", 5),
                     ("B", 5), ("A", 5)]
    assert [s["rps"] for s in samples["a"]] == [100, 40, 200, 70]
    assert [s["rps"] for s in samples["b"]] == [50, 300, 60, 400]
    a = serve_load.summary(samples["a"])
    assert a["rps"] == 70 and a["errors"] == 4 and len(a["rounds"]) == 4    # the lower middle of 40, 70, 100, 200
    assert serve_load.summary(samples["b"][:3])["rps"] == 60
