"""Helpers for tests that run the CLI against a private copy of the project's sources."""

from __future__ import annotations

import shutil
from pathlib import Path

from ftz_kg import resources


def copy_sources(tmp_path: Path) -> Path:
    """A writable copy of ontology/ and graph/ that a test may break; use it as FTZ_KG_HOME."""
    home = tmp_path / "home"
    for name in ("ontology", "graph"):
        shutil.copytree(resources.project_home() / name, home / name,
                        ignore=shutil.ignore_patterns("_staging"))
    return home
