"""HTTP throughput and latency of `ftz-kg serve` against its peers, in one run.

Serves the same graph from `ftz-kg serve`, from rdflib-endpoint (rdflib's engine) and from
Oxigraph's own server (`oxigraph serve-read-only`), all on loopback, and loads each with wrk
(Debian's `wrk`; concurrency 4) on the same canned queries:

- uncached: every request carries a distinct trailing comment, so no result cache can answer it;
- cached: the same request repeated, the realistic case of many users asking the catalogue's
  questions (only ftz-kg caches; the peers answer it like any other request);
- new shape (ftz-kg and Oxigraph): every request also declares a prefix of its own name, so that
  each is a query of another shape and the guard's memo of verdicts (guard.vet), which answers
  queries differing only in comments and string contents, checks each in full.

Needs: `apt-get install wrk`, `pip install rdflib-endpoint oxigraph`. Prints requests/s and p50/p99
per server and the ratios the issues target (≥ 8x rdflib-endpoint; ≥ 1x Oxigraph uncached, issue
21; ≥ 1x Oxigraph cached; p99 < 10 ms). `ftz-kg serve` runs twice: as it starts by default (one
web process, `--workers` query workers), and with `--processes N` (N serving processes that run
their queries themselves; N: --processes, by default the CPU cores + 2, as many as the default
server starts query workers).

Each case runs in --rounds rounds of --seconds (by default 3 of 5 s): in every round both ftz-kg
servers and Oxigraph's server take turns, the order reversed each round, and a ratio to Oxigraph's
server is the median of the rounds' ratios. On this VM a single 10-second figure moved by a fifth
from one run to the next, more than the margin on the cheapest queries; rounds taken moments apart
share the machine's spells. rdflib-endpoint, a hundred times slower, is measured once, for as long
as the rounds together.

    python benchmarks/serve_load.py [--seconds 5] [--rounds 3] [--queries parallel-approval,measures-by-zone,...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from ftz_kg.query.binding import bind  # noqa: E402
from ftz_kg.pipeline.build import build  # noqa: E402
from ftz_kg.query.catalogue import Catalogue  # noqa: E402
from ftz_kg.query.store import OxigraphEngine  # noqa: E402

DEFAULT_QUERIES = ["parallel-approval", "measures-by-zone", "experiences-by-agency", "agencies-ranked",
                   "zones-by-batch", "label-search"]
# Every request distinct, across wrk's threads and across runs: wrk's threads each run this
# script in a Lua state of their own, where math.random gives every thread (and every run) the
# same numbers, so a counter or a random number alone repeats requests a result cache answers.
# Each run passes a token of its own (wrk(): `-- TOKEN`); each thread numbers its requests.
WRK_UNIQUE = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  run_id = args[1]
  counter = 0
end
"""
# The "new shape" case: wrk's script puts the request's token in the prefix's name as well.
NEW_SHAPE = "PREFIX bBUST: <urn:ftz-kg:bench:>\n"
WRK_SCRIPT = WRK_UNIQUE + """
function request()
  counter = counter + 1
  local path = string.gsub(wrk.path, "BUST", run_id .. "-" .. thread_id .. "-" .. counter)
  return wrk.format("GET", path)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {url}")
        try:
            if httpx.get(url, params={"query": "ASK {}"}, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"not ready: {url}")


def stop_servers(processes, work: Path) -> None:
    """Terminate the servers (killed after 10 s) and remove their working folder."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(work, ignore_errors=True)


def wrk(url: str, accept: str, seconds: int, script: Path | None, connections: int = 4, threads: int = 2) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Accept: {accept}"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url, "--", uuid.uuid4().hex], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"), "errors": int(non_2xx.group(1)) if non_2xx else 0}


INTERLEAVED = ("ftz-kg", "ftz-kg processes", "oxigraph")    # measured round by round against each other


def interleaved(urls: dict[str, str], accept: str, seconds: int, rounds: int, warmup: int,
                script: Path | None) -> dict[str, list[dict]]:
    """Each server's wrk figures in `rounds` rounds: every round measures every server once, in turn,
    the order reversed each round, so that a slower or faster spell of the machine falls on all of
    them and a ratio is taken between figures measured moments apart. Each server is loaded for
    `warmup` seconds first, unmeasured."""
    if warmup:
        for url in urls.values():
            wrk(url, accept, warmup, script)
    samples: dict[str, list[dict]] = {server: [] for server in urls}
    for number in range(rounds):
        for server in (list(urls) if number % 2 == 0 else list(urls)[::-1]):
            samples[server].append(wrk(urls[server], accept, seconds, script))
    return samples


def summary(samples: list[dict]) -> dict:
    """The round with the median requests/s (its p50 and p99), the errors of all, and every round."""
    middle = sorted(samples, key=lambda sample: sample["rps"])[(len(samples) - 1) // 2]
    return {**middle, "errors": sum(sample["errors"] for sample in samples), "rounds": samples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="seconds of each measured round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per case: ftz-kg (both ways) and Oxigraph's server take turns, and a ratio "
                             "is the median of the rounds' ratios; on this VM a single 10-second figure moves by "
                             "a fifth from one run to the next")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of load before each measured case, discarded: on this VM a freshly started "
                             "process runs at about half speed for its first seconds, whatever the server")
    parser.add_argument("--queries", default=",".join(DEFAULT_QUERIES), help="comma-separated, or 'all'")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workers", type=int, default=None, help="ftz-kg serve --workers (default: its own)")
    parser.add_argument("--processes", type=int, default=None,
                        help="ftz-kg serve --processes of the second ftz-kg server (default: the CPU cores + 2)")
    args = parser.parse_args()
    for tool in ("wrk", "oxigraph", "rdflib-endpoint"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install wrk; pip install rdflib-endpoint oxigraph")

    graph = build().graph
    catalogue = Catalogue.load()
    lookup = OxigraphEngine(graph)
    names = [q.name for q in catalogue] if args.queries == "all" else args.queries.split(",")
    work = Path(tempfile.mkdtemp(prefix="ftz-bench-"))
    (work / "graph.nt").write_bytes(graph.serialize(format="nt", encoding="utf-8"))
    (work / "graph.ttl").write_bytes(graph.serialize(format="turtle", encoding="utf-8"))
    script = work / "bust.lua"
    script.write_text(WRK_SCRIPT)
    subprocess.run(["oxigraph", "load", "--location", str(work / "oxigraph"), "--file", str(work / "graph.nt")],
                   check=True, capture_output=True)

    from ftz_kg.web.workers import default_count
    processes = args.processes or default_count()
    ports = {name: free_port() for name in ("ftz-kg", "ftz-kg processes", "oxigraph", "rdflib-endpoint")}
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    workers = ["--workers", str(args.workers)] if args.workers else []
    servers = {
        "ftz-kg": subprocess.Popen([sys.executable, "-m", "ftz_kg.cli", "serve", "--graph", str(work / "graph.ttl"),
                                    "--port", str(ports["ftz-kg"]), *workers], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env),
        "ftz-kg processes": subprocess.Popen(
            [sys.executable, "-m", "ftz_kg.cli", "serve", "--graph", str(work / "graph.ttl"), "--port",
             str(ports["ftz-kg processes"]), "--processes", str(processes), *workers], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env),
        "oxigraph": subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(work / "oxigraph"),
                                      "--bind", f"127.0.0.1:{ports['oxigraph']}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL),
        "rdflib-endpoint": subprocess.Popen(["rdflib-endpoint", "serve", str(work / "graph.ttl"), "--host", "127.0.0.1",
                                             "--port", str(ports["rdflib-endpoint"])], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, env=env),
    }
    paths = {"ftz-kg": "/sparql", "ftz-kg processes": "/sparql", "oxigraph": "/query",
             "rdflib-endpoint": "/"}   # each server's query path
    endpoints = {name: f"http://127.0.0.1:{port}{paths[name]}" for name, port in ports.items()}
    rows = []
    try:
        for name, process in servers.items():
            wait_ready(endpoints[name], process)
        for name in names:
            query = catalogue.get(name)
            text = bind(query, query.example_values(), lookup)
            accept = "text/turtle" if query.form in ("construct", "describe") else "application/sparql-results+json"
            row = {"query": name, "ratios": {}}
            for server, endpoint in endpoints.items():   # every server must answer before it is measured
                check = httpx.get(endpoint, params={"query": text}, headers={"Accept": accept}, timeout=120)
                if check.status_code != 200:
                    raise RuntimeError(f"{server} answers {check.status_code} to {name}: {check.text[:200]}")
            texts = {"cached": text, "uncached": text + "\n# BUST", "new shape": NEW_SHAPE + text + "\n# BUST"}
            for case, case_text in texts.items():
                urls = {server: f"{endpoints[server]}?query={quote(case_text, safe='')}" for server in INTERLEAVED}
                measure = interleaved(urls, accept, args.seconds, args.rounds, args.warmup,
                                      None if case == "cached" else script)
                for server, samples in measure.items():
                    row[f"{server} {case}"] = summary(samples)
                for server in ("ftz-kg", "ftz-kg processes"):
                    row["ratios"][f"{server} {case}"] = statistics.median(
                        ours["rps"] / peer["rps"] for ours, peer in zip(measure[server], measure["oxigraph"]))
            # rdflib-endpoint once, last: it goes on working through its backlog after wrk stops, so we
            # wait for it to answer again before measuring anything else
            busted = f"{endpoints['rdflib-endpoint']}?query={quote(texts['uncached'], safe='')}"
            if args.warmup:
                wrk(busted, accept, args.warmup, script)
            # as long as the others' rounds together: in one round's seconds it may answer nothing
            row["rdflib-endpoint uncached"] = wrk(busted, accept, args.seconds * args.rounds, script)
            httpx.get(endpoints["rdflib-endpoint"], params={"query": "ASK {}"}, timeout=600)
            time.sleep(args.seconds)
            rows.append(row)
            print(f"measured {name}", file=sys.stderr)
    finally:
        stop_servers(servers.values(), work)

    errors = sum(r[c]["errors"] for r in rows for c in r if c not in ("query", "ratios"))
    print(f"{len(graph)} triples; wrk -t2 -c4, {args.rounds} interleaved rounds of {args.seconds} s per case "
          f"(rdflib-endpoint: one as long as the rounds); loopback; requests/s, the median round's (p50 / p99 ms); "
          f"{errors} non-2xx responses in all; `ftz-kg processes`: serve --processes {processes}; "
          f"ratios: the median of the rounds' ratios")
    columns = ["ftz-kg uncached", "ftz-kg processes uncached", "oxigraph uncached", "rdflib-endpoint uncached",
               "ftz-kg cached", "ftz-kg processes cached", "oxigraph cached",
               "ftz-kg new shape", "ftz-kg processes new shape", "oxigraph new shape"]
    width = max(len(r["query"]) for r in rows)
    print(f"{'query':<{width}}  " + "  ".join(f"{c:>26}" for c in columns)
          + "  vs rdflib  vs oxigraph  cached vs ox  new shape vs ox  (with --processes: vs ox, new shape vs ox)")
    for r in rows:
        cells = "  ".join(f"{r[c]['rps']:>8.0f} ({r[c]['p50_ms']:>5.1f} / {r[c]['p99_ms']:>6.1f})" for c in columns)
        ratio_rdflib = r["ftz-kg uncached"]["rps"] / max(r["rdflib-endpoint uncached"]["rps"], 0.01)
        ratios = r["ratios"]
        print(f"{r['query']:<{width}}  {cells}  {ratio_rdflib:>8.1f}x  {ratios['ftz-kg uncached']:>9.2f}x"
              f"  {ratios['ftz-kg cached']:>11.2f}x  {ratios['ftz-kg new shape']:>14.2f}x"
              f"  {ratios['ftz-kg processes uncached']:>9.2f}x  {ratios['ftz-kg processes new shape']:>9.2f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
