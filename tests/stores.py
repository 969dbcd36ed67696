"""Real SPARQL 1.1 stores on loopback for the remote-store tests: Oxigraph's server and Virtuoso.

Both are started by the test run itself (the test command installs them: `oxigraph` from PyPI,
Debian's `virtuoso-opensource` through scripts/install-test-deps), each in a throwaway folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from .server import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Store:
    name: str
    endpoint: str
    update_endpoint: str
    graph_store: str | None
    user: str | None = None
    password: str | None = None

    def publish_args(self) -> list[str]:
        args = ["--endpoint", self.endpoint, "--update-endpoint", self.update_endpoint]
        if self.graph_store:
            args += ["--graph-store", self.graph_store]
        if self.user:
            args += ["--user", self.user]
        return args

    def env(self) -> dict:
        return {"FTZ_KG_PASSWORD": self.password} if self.password else {}


def _wait(url: str, process: subprocess.Popen | None, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {process.returncode}")
        try:
            if httpx.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url} within {seconds:g} s")


@contextmanager
def oxigraph_server(folder: Path):
    binary = shutil.which("oxigraph")
    if binary is None:
        raise RuntimeError("Oxigraph's server is missing: the test command installs it (pip install oxigraph)")
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/query", process, 60, "oxigraph serve")
        yield Store("oxigraph", base + "/query", base + "/update", base + "/store")
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def virtuoso_server(folder: Path):
    http_port, sql_port = free_port(), free_port()
    password = "ftz-kg-test"
    env = {**os.environ, "VIRTUOSO_HTTP_PORT": str(http_port), "VIRTUOSO_SQL_PORT": str(sql_port),
           "VIRTUOSO_DBA_PASSWORD": password}
    started = subprocess.run(["bash", str(ROOT / "scripts" / "start-virtuoso"), str(folder)], env=env,
                             capture_output=True, text=True, timeout=600)
    if started.returncode != 0:
        raise RuntimeError(f"scripts/start-virtuoso failed:\n{started.stdout}\n{started.stderr}")
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait(base + "/sparql", None, 60, "virtuoso")
        # reads through the anonymous /sparql, which may not write (scripts/start-virtuoso); writes
        # authenticate (Digest) at /sparql-auth and /sparql-graph-crud-auth
        yield Store("virtuoso", base + "/sparql", base + "/sparql-auth", base + "/sparql-graph-crud-auth",
                    user="dba", password=password)
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "stop-virtuoso"), str(folder)], env=env,
                       capture_output=True, timeout=120)
