"""Every command the README shows is run here, so the documentation cannot drift.

The README opens with two set-up commands: the main job (run here, from the checkout root) and
the test command (run by CI: .ci/run must contain it verbatim). Every other `sh` block is run
line by line, in order, in one scratch folder, and each command must succeed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S)]
MAIN_JOB, TEST_COMMAND = BLOCKS[0], BLOCKS[1]
OTHER_COMMANDS = [line.strip() for block in BLOCKS[2:] for line in block if line.strip()]   # blocks may sit in a list item
# besides ftz-kg itself, the README shows how to run the peers it publishes to
ALLOWED_PREFIXES = ("curl ", "oxigraph serve ", "bash scripts/start-virtuoso ", "bash scripts/stop-virtuoso ")


def test_readme_opens_with_the_two_setup_commands():
    assert README.index("```sh") < README.index("## ")
    assert len(MAIN_JOB) == 1 and "ftz-kg" in MAIN_JOB[0]
    assert TEST_COMMAND == ["bash scripts/install-test-deps && python -m pytest"]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND[0] in ci.splitlines()


def test_main_job_command_runs_from_the_checkout():
    """The first command installs and serves: it must come up healthy, then we stop it."""
    assert MAIN_JOB[0].endswith("ftz-kg serve")
    server = subprocess.Popen(["bash", "-c", MAIN_JOB[0]], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_ready(8000, server)
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
    raise AssertionError("the README's server did not become ready")


def test_every_other_readme_command_succeeds(tmp_path):
    """Run in order; `ftz-kg serve` runs in the background until the end, for the curl lines after it."""
    assert OTHER_COMMANDS, "the README shows ftz-kg commands"
    servers = []
    virtuoso_dirs = []
    try:
        for command in OTHER_COMMANDS:
            assert "ftz-kg " in command or command.startswith(ALLOWED_PREFIXES), command
            if command.startswith("ftz-kg serve"):
                server = subprocess.Popen(["bash", "-c", "exec " + command], cwd=tmp_path, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                servers.append(server)
                _wait_until_ready(int(re.search(r"--port (\d+)", command).group(1)), server)
                continue
            if command.startswith("oxigraph serve"):
                server = subprocess.Popen(["bash", "-c", "exec " + command], cwd=tmp_path, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                servers.append(server)
                _wait_until_ready(int(re.search(r"--bind [\d.]+:(\d+)", command).group(1)), server,
                                  path="/query?query=ASK%7B%7D")
                continue
            if command.startswith("bash scripts/start-virtuoso"):
                virtuoso_dirs.append(tmp_path / command.split()[2])
            if command.startswith("bash scripts/"):
                command = command.replace("bash scripts/", f"bash {ROOT}/scripts/", 1)
            result = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                                    timeout=600)
            assert result.returncode == 0, (command, result.stdout[-1000:], result.stderr[-1000:])
            if command.startswith("curl "):
                assert result.stdout.strip(), command
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        for folder in virtuoso_dirs:  # stopped already unless a command failed in between
            subprocess.run(["bash", str(ROOT / "scripts" / "stop-virtuoso"), str(folder)], capture_output=True,
                           timeout=120)
