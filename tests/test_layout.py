"""The package layout shows the architecture: stages in order, and no stage reaching back.

ftz_kg/pipeline (curated sources -> validated RDF -> exports) comes first, then ftz_kg/query (the
store and everything that answers queries), ftz_kg/remote (remote stores), ftz_kg/web (the app);
a module may import from its own stage and earlier ones, and from the shared top-level modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ftz_kg"
STAGES = ["pipeline", "query", "remote", "web"]
SHARED = {"errors", "resources", "vocab", "__init__"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "ftz_kg" or name.startswith("ftz_kg.")}


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_one(stage):
    later = STAGES[STAGES.index(stage) + 1:]
    for path in sorted((PACKAGE / stage).glob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            assert len(parts) < 2 or parts[1] not in later, f"{path.relative_to(PACKAGE)} imports {name}"
            assert len(parts) < 2 or parts[1] != "cli", f"{path.relative_to(PACKAGE)} imports the CLI"


def test_every_module_lives_in_a_stage():
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top == SHARED | {"cli"}, top - SHARED - {"cli"}
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").read_text(encoding="utf-8").strip(), f"{stage} says what it is"
