"""Run `ftz-kg serve` in a subprocess on a free loopback port for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(base: str, process: subprocess.Popen, seconds: float, exited) -> None:
    """Poll BASE/healthz until it answers 200; `exited()` gives the message if the process ends first."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(exited())
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base} did not become ready")
        time.sleep(0.2)


@contextmanager
def running_server(*args: str, env: dict | None = None, ready_timeout: float = 120.0, cpus: set[int] | None = None):
    """`ftz-kg serve ARGS` on a free port; `cpus`: the CPUs it may run on (as `taskset` sets them)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ftz_kg.cli", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    # the server logs every request: drain its output so a busy test never fills the pipe and
    # blocks it; the lines are kept on `process.captured`
    process.captured = []
    drain = threading.Thread(target=lambda: process.captured.extend(process.stdout), daemon=True)
    drain.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, ready_timeout,
                           lambda: drain.join(5) or "server exited early:\n" + "".join(process.captured))
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
