"""The documented deployment: Debian's nginx with deploy/nginx.conf in front of `ftz-kg serve`.

The configuration is used as shipped, with only its two ports changed (and the paths of the
pid file and logs given on the command line), and each limit it promises is tried.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .server import free_port, running_server, wait_until_healthy

pytestmark = pytest.mark.hardening

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HEADER_TIMEOUT = 10     # client_header_timeout in the configuration


@contextmanager
def running_nginx(tmp: Path, upstream_port: int):
    if not Path(NGINX).exists():
        pytest.fail("Debian's nginx is not installed: run scripts/install-test-deps")
    port = free_port()
    text = CONFIG.read_text(encoding="utf-8")
    assert text.count("listen 8080;") == 1 and text.count("server 127.0.0.1:8000;") == 1
    (tmp / "logs").mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
                    .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"), encoding="utf-8")
    process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-g",
                                f"daemon off; pid {tmp}/nginx.pid; error_log {tmp}/logs/error.log;"
                                + (" user root;" if _root() else "")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, 60, lambda: "nginx exited: " + process.stdout.read())
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _root() -> bool:
    import os
    return os.geteuid() == 0


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    with running_server("--workers", "2") as (upstream, _):
        with running_nginx(tmp_path_factory.mktemp("nginx"), int(upstream.rsplit(":", 1)[1])) as base:
            yield base


def _exchange(base: str, data: bytes, timeout: float = 60) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        return received


def test_pages_queries_and_api_through_the_proxy(proxied):
    with httpx.Client(base_url=proxied, timeout=30) as http:
        count = http.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a "
                                            "<https://w3id.org/ftz-kg/def#PilotFreeTradeZone> }"},
                         headers={"Accept": "text/csv"})
        assert count.status_code == 200 and count.text.split()[1] == "21"
        page = http.get("/zone/sichuan", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "中国（四川）自由贸易试验区" in page.text
        assert "content-security-policy" in page.headers
        api = http.get("/api/zones-in-batch.csv", params={"number": "6", "lang": "en"})
        assert api.status_code == 200 and "Beijing" in api.text


def test_admin_is_not_reachable_through_the_proxy(proxied):
    assert httpx.post(proxied + "/admin/reload", timeout=30).status_code == 403


def test_a_large_body_is_refused_by_the_proxy(proxied):
    response = httpx.post(proxied + "/sparql", content=b"#" * (200 * 1024),
                          headers={"Content-Type": "application/sparql-query"}, timeout=30)
    assert response.status_code == 413


def test_a_huge_header_is_refused_by_the_proxy(proxied):
    answer = _exchange(proxied, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 494 Request Header Too Large") \
        or answer == b"", answer[:200]


def test_a_long_url_is_refused_by_the_proxy(proxied):
    assert httpx.get(proxied + "/sparql?query=" + "x" * 9000, timeout=30).status_code == 414


def test_a_dripped_head_is_cut_off_by_the_proxy(proxied):
    started = time.monotonic()
    answer = _exchange(proxied, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a", timeout=10 * HEADER_TIMEOUT)
    assert b"200 OK" not in answer
    # closed by nginx at client_header_timeout, not by our read timeout (ten times longer)
    assert time.monotonic() - started < 10 * HEADER_TIMEOUT
