"""Every command the README shows is run here, so the documentation cannot drift.

The README opens with two set-up commands: the main job (run here, from the checkout root) and
the test command (run by CI: .ci/run must contain it verbatim). Every other `sh` block is run
line by line, in order, in one scratch folder, and each command must succeed.

The runner (`run_blocks`) is shared with tests/test_docs.py, which runs the pages of docs/ the same
way: `sh` blocks line by line and `python` blocks as scripts, in the order the page shows them.
`ftz-kg serve` and `oxigraph serve` run in the background until the end, for the lines after them;
a page that sends requests to port 8000 without starting a server there gets one, as if the main
job were running. Every port a page names is mapped to a free one, so that the run never meets
another server on this machine.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from .helpers import installed_package
from .server import free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^[ \t]*```(sh|python)\n(.*?)^[ \t]*```", flags=re.S | re.M)
BLOCKS = [block.strip().splitlines() for kind, block in BLOCK.findall(README) if kind == "sh"]
MAIN_JOB, TEST_COMMAND = BLOCKS[0], BLOCKS[1]
# besides ftz-kg itself, the documentation shows how to run the peers it publishes to and how to
# build the documentation site
ALLOWED_PREFIXES = ("curl ", "oxigraph serve ", "bash scripts/start-virtuoso ", "bash scripts/stop-virtuoso ",
                    "mkdocs build")
MAIN_JOB_PORT = 8000
_SERVE = re.compile(r"^(?:[A-Z_]+=\S+ )*ftz-kg serve\b")
_PORTS = (re.compile(r"127\.0\.0\.1:(\d{4,5})\b"), re.compile(r"--port (\d{4,5})\b"),
          re.compile(r"start-virtuoso \S+ (\d{4,5}) (\d{4,5})"))


def blocks_of(markdown: str) -> list[tuple[str, str]]:
    """The `sh` and `python` blocks of a page, in order, as (kind, text); blocks may sit in a list item."""
    return [(kind, _dedent(text)) for kind, text in BLOCK.findall(markdown)]


def _dedent(text: str) -> str:
    lines = text.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return "\n".join(line[indent:] for line in lines).strip() + "\n"


def test_readme_opens_with_the_two_setup_commands():
    assert README.index("```sh") < README.index("## ")
    assert len(MAIN_JOB) == 1 and "ftz-kg" in MAIN_JOB[0]
    assert TEST_COMMAND == ["bash scripts/install-test-deps && python -m pytest"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND[0] in ci.splitlines()


def test_readme_stays_short_and_links_into_the_docs():
    """A newcomer reads it to the end: what ftz-kg is, how to start, what to try, where to read on."""
    assert len(README.encode("utf-8")) < 9 * 1024
    assert "docs/home.png" in README
    for page in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / page).is_file(), page


def test_main_job_command_runs_from_the_checkout():
    """The first command installs and serves: it must come up healthy, then we stop it."""
    assert MAIN_JOB[0].endswith("ftz-kg serve")
    with installed_package(reinstalling=True):
        server = subprocess.Popen(["bash", "-c", MAIN_JOB[0]], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_until_ready(MAIN_JOB_PORT, server)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)


def _wait_until_ready(port: int, server: subprocess.Popen, path: str = "/healthz") -> None:
    import httpx
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("the documented server did not become ready")


def test_every_other_readme_command_succeeds(tmp_path):
    blocks = [(kind, text) for kind, text in blocks_of(README)][2:]
    assert any("ftz-kg " in text for kind, text in blocks), "the README shows ftz-kg commands"
    run_blocks(blocks, tmp_path)


def _port_map(blocks: list[tuple[str, str]]) -> dict[str, str]:
    ports = {port for _, text in blocks for pattern in _PORTS for match in pattern.finditer(text)
             for port in match.groups()}
    return {port: str(free_port()) for port in sorted(ports)}


def _remap(text: str, ports: dict[str, str]) -> str:
    for shown, used in ports.items():
        text = re.sub(rf"\b{shown}\b", used, text)
    return text


def run_blocks(blocks: list[tuple[str, str]], folder: Path, env: dict | None = None) -> None:
    """Run the blocks in order in `folder`: each `sh` line and each `python` block must succeed (a
    `curl` or a script must also print something)."""
    with installed_package():
        _run_blocks(blocks, folder, env)


def _run_blocks(blocks: list[tuple[str, str]], folder: Path, env: dict | None = None) -> None:
    ports = _port_map(blocks)
    environment = {**os.environ, **(env or {})}
    servers: list[subprocess.Popen] = []
    virtuoso_dirs: list[Path] = []

    def background(command: str, port: int, path: str = "/healthz") -> None:
        # exec: terminating the process stops the server itself; `env` applies a leading VAR=value
        server = subprocess.Popen(["bash", "-c", "exec env " + command], cwd=folder, text=True, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        servers.append(server)
        _wait_until_ready(port, server, path)

    shown = "\n".join(text for _, text in blocks)
    if (f"127.0.0.1:{MAIN_JOB_PORT}" in shown
            and not any(_SERVE.match(line) and f"--port {MAIN_JOB_PORT}" in line for line in shown.splitlines())):
        # the page's requests go to the main job's server: start one, as `ftz-kg serve` would be
        background(f"ftz-kg serve --port {ports[str(MAIN_JOB_PORT)]}", int(ports[str(MAIN_JOB_PORT)]))
    try:
        for kind, text in blocks:
            text = _remap(text, ports)
            if kind == "python":
                result = subprocess.run([sys.executable, "-"], input=text, cwd=folder, capture_output=True,
                                        text=True, timeout=600, env=environment)
                assert result.returncode == 0, (text, result.stdout[-1000:], result.stderr[-2000:])
                assert result.stdout.strip(), text
                continue
            for command in (line.strip() for line in text.splitlines()):
                if not command:
                    continue
                assert "ftz-kg " in command or command.startswith(ALLOWED_PREFIXES), command
                if _SERVE.match(command):
                    port = re.search(r"--port (\d+)", command)
                    assert port, f"a documented server names its port: {command}"
                    background(command, int(port.group(1)))
                    continue
                if command.startswith("oxigraph serve"):
                    background(command, int(re.search(r"--bind [\d.]+:(\d+)", command).group(1)),
                               path="/query?query=ASK%7B%7D")
                    continue
                if command.startswith("bash scripts/start-virtuoso"):
                    virtuoso_dirs.append(folder / command.split()[2])
                if command.startswith("bash scripts/"):
                    command = command.replace("bash scripts/", f"bash {ROOT}/scripts/", 1)
                if command.startswith("mkdocs build"):
                    # the checkout's configuration; a relative --site-dir lands in the scratch folder
                    command = re.sub(r"--site-dir (?!/)(\S+)", rf"--site-dir {folder}/\1", command)
                    command = command.replace("mkdocs build", f"mkdocs build -f {ROOT}/mkdocs.yml", 1)
                result = subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True,
                                        timeout=600, env=environment)
                assert result.returncode == 0, (command, result.stdout[-1000:], result.stderr[-1000:])
                if command.startswith("curl "):
                    assert result.stdout.strip(), command
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)
        for virtuoso in virtuoso_dirs:  # stopped already unless a command failed in between
            subprocess.run(["bash", str(ROOT / "scripts" / "stop-virtuoso"), str(virtuoso)], capture_output=True,
                           timeout=120)
