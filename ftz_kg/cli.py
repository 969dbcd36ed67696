"""The `ftz-kg` command line: one sub-command per stage of the pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rdflib import Graph

from .errors import EXIT_OK, EXIT_VIOLATIONS, FtzKgError


def _fail(error: FtzKgError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def _load_or_build(file: Path | None):
    """A graph to work on: the given Turtle file, or a fresh build of the curated sources."""
    from .build import BuildResult, build
    from .rdfio import parse_turtle

    if file is None:
        return build()
    return BuildResult(parse_turtle(file))


@click.group()
@click.version_option(package_name="ftz-kg")
def main() -> None:
    """ftz-kg: the knowledge graph of China's pilot free trade zones."""


@main.command("build")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("build/ftz-kg.ttl"), show_default=True, help="Where to write the graph (Turtle).")
def build_command(out: Path) -> None:
    """Build the complete graph (ontology + data) from the curated sources in graph/."""
    from .build import build
    from .rdfio import atomic_write, serialize_turtle

    try:
        result = build()
        atomic_write(out, serialize_turtle(result.graph))
    except FtzKgError as error:
        _fail(error)
    except OSError as error:
        click.echo(f"error: cannot write {out}: {error.strerror}", err=True)
        sys.exit(2)
    click.echo(f"wrote {out} ({len(result.graph)} triples)")


@main.command("validate")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True)
def validate_command(file: Path | None, fmt: str) -> None:
    """Validate FILE (default: a fresh build) against the SHACL shapes.

    Exit 0 when it conforms, 1 on violations (warnings alone do not fail), 2 on unusable input.
    """
    from .validate import FORMATTERS, load_shapes, validate_graph

    try:
        result = _load_or_build(file)
        report = validate_graph(result.graph, load_shapes(), result.origins)
    except FtzKgError as error:
        _fail(error)
    click.echo(FORMATTERS[fmt](report), nl=False)
    sys.exit(EXIT_OK if report.conforms else EXIT_VIOLATIONS)


@main.command("stats")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stats_command(file: Path | None, fmt: str) -> None:
    """Count entities per class in FILE (default: a fresh build), beside the report's own totals."""
    from . import stats

    try:
        graph: Graph = _load_or_build(file).graph
        counts, totals = stats.class_counts(graph), stats.report_totals(graph)
    except FtzKgError as error:
        _fail(error)
    formatter = stats.format_json if fmt == "json" else stats.format_text
    click.echo(formatter(counts, totals), nl=False)


if __name__ == "__main__":
    main()
