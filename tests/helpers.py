"""Helpers for tests that run the CLI against a private copy of the project's sources."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
import tempfile
from pathlib import Path

from ftz_kg import resources


def copy_sources(tmp_path: Path) -> Path:
    """A writable copy of ontology/ and graph/ that a test may break; use it as FTZ_KG_HOME."""
    home = tmp_path / "home"
    for name in ("ontology", "graph"):
        shutil.copytree(resources.project_home() / name, home / name,
                        ignore=shutil.ignore_patterns("_staging"))
    return home


def w3c_sparql11() -> Path:
    """The W3C SPARQL 1.1 test suites the tests read: the copy in tests/data/w3c (see its README),
    or another copy of the W3C rdf-tests named by FTZ_KG_W3C_TESTS."""
    default = Path(__file__).resolve().parent / "data" / "w3c"
    return Path(os.environ.get("FTZ_KG_W3C_TESTS", default)) / "sparql" / "sparql11"


@functools.lru_cache(maxsize=None)
def built_triples() -> int:
    """How many triples a fresh build holds: what a publish, a store or a server must hold, all of it."""
    from ftz_kg.pipeline.build import build
    return len(build().graph)


_INSTALL_LOCK = Path(tempfile.gettempdir()) / "ftz-kg-tests-install.lock"


@contextlib.contextmanager
def installed_package(reinstalling: bool = False):
    """Hold while running the installed `ftz-kg` command (shared), or while reinstalling it
    (`reinstalling`: exclusive). The README's main job runs `pip install -e .`, which removes the
    package for a moment: a command started then, by a test on the other test process, failed
    with "No module named 'ftz_kg.cli'"."""
    with open(_INSTALL_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if reinstalling else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
