"""The reference pages of the documentation, generated from the code so that they cannot drift.

Used two ways:

- as an MkDocs hook (`hooks:` in mkdocs.yml): a page of docs/ that holds a marker such as
  `<!-- generated: cli -->` gets the generated markdown in its place at build time; after each
  page is rendered, its inline scripts are moved into files of their own, so that the site runs under
  the server's Content-Security-Policy (`script-src 'self'`, no inline script); and the theme's 404
  page, which assumes the site is served from the root, is left out;
- as a script: `python scripts/gen_docs.py cli|http|queries|ontology` prints one part.

The parts: `cli` walks the click command tree of `ftz_kg.cli.main`; `http` reads the OpenAPI
document the server publishes at /api/openapi.json; `queries` reads the `#+` headers of
queries/*.rq through the catalogue; `ontology` reads ontology/ftz.ttl.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from urllib.parse import urlencode

MARKER = re.compile(r"<!--\s*generated:\s*([a-z]+)\s*-->")
BASE = "https://w3id.org/ftz-kg/"


def _cell(text) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


# --------------------------------------------------------------------------- the command line

def cli_reference() -> str:
    import click

    from ftz_kg.cli import main

    out = []
    root = click.Context(main, info_name="ftz-kg")
    out.append("## `ftz-kg`\n")
    out.append(f"```text\n{main.get_usage(root)}\n```\n")
    out.append(_help_text(main) + "\n")
    out.append(_options_table(main, root))
    for name in sorted(main.commands):
        command = main.commands[name]
        ctx = click.Context(command, info_name=name, parent=root)
        out.append(f"## `ftz-kg {name}`\n")
        out.append(f"```text\n{command.get_usage(ctx)}\n```\n")
        out.append(_help_text(command) + "\n")
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if arguments:
            out.append("| argument | type | required |\n| --- | --- | --- |")
            for argument in arguments:
                out.append(f"| `{argument.human_readable_name}` | {_cell(argument.type.name)} | "
                           f"{'yes' if argument.required else 'no'} |")
            out.append("")
        out.append(_options_table(command, ctx))
    return "\n".join(out)


def _help_text(command) -> str:
    import inspect

    text = inspect.cleandoc(command.help or "")
    return text.split("\f", 1)[0].strip()


def _options_table(command, ctx) -> str:
    import click

    rows = ["| option | description |", "| --- | --- |"]
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        flags, help_text = record
        rows.append(f"| `{_cell(flags)}` | {_cell(help_text) or '&nbsp;'} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- the HTTP API

def http_reference() -> str:
    from ftz_kg.query.catalogue import Catalogue
    from ftz_kg.web.endpoint import _openapi

    document = _openapi(Catalogue.load(), "/")
    out = [f"Generated from the OpenAPI {document['openapi']} document that the server publishes at "
           f"`/api/openapi.json` ({len(document['paths'])} operations).\n"]
    for path, methods in sorted(document["paths"].items()):
        for method, operation in methods.items():
            out.append(f"### `{method.upper()} {path}`\n")
            out.append(f"{operation['summary']}\n")
            zh, _, description = operation.get("description", "").partition("\n\n")
            out.append(f"{zh}\n")
            if description:
                out.append(f"{description}\n")
            if operation.get("tags"):
                out.append("Tags: " + ", ".join(f"`{t}`" for t in operation["tags"]) + "\n")
            parameters = operation.get("parameters", [])
            if parameters:
                out.append("| parameter | required | type | default | values | example | description |")
                out.append("| --- | --- | --- | --- | --- | --- | --- |")
                for p in parameters:
                    schema = p.get("schema", {})
                    out.append("| `{}` | {} | {} | {} | {} | {} | {} |".format(
                        p["name"], "yes" if p.get("required") else "no", schema.get("type", ""),
                        _cell(schema.get("default", "")), _cell(", ".join(map(str, schema.get("enum", [])))),
                        _cell(p.get("example", "")), _cell(p.get("description", ""))))
                out.append("")
            examples = {p["name"]: p["example"] for p in parameters if p.get("required") and "example" in p}
            out.append(f"Example: `{path}{'?' + urlencode(examples) if examples else ''}`\n")
            answers = operation["responses"]["200"].get("content", {})
            out.append("Answers (by `Accept`): " + ", ".join(f"`{t}`" for t in answers)
                       + "; `400` for a missing, unknown or ill-typed parameter.\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- the canned queries

def queries_reference() -> str:
    from ftz_kg.query.catalogue import Catalogue

    catalogue = Catalogue.load()
    queries = list(catalogue)
    out = [f"{len(queries)} questions, generated from the `#+` headers of `queries/*.rq`.\n",
           "| query | question | 问题 |", "| --- | --- | --- |"]
    for q in queries:
        out.append(f"| [`{q.name}`](#{q.name}) | {_cell(q.summary)} | {_cell(q.summary_zh)} |")
    out.append("")
    for q in queries:
        out.append(f"### {q.name}\n")
        out.append(f"**{q.summary}**  \n{q.summary_zh}\n")
        out.append(f"{q.description}\n")
        if q.tags:
            out.append("Tags: " + ", ".join(f"`{t}`" for t in q.tags) + "\n")
        if q.params:
            out.append("| parameter | type | required | default | values | example | description |")
            out.append("| --- | --- | --- | --- | --- | --- | --- |")
            for p in q.params:
                kind = p.type + (f" ({p.entity_class.rsplit('#', 1)[-1]})" if p.entity_class else "")
                out.append(f"| `{p.name}` | {_cell(kind)} | {'yes' if p.required else 'no'} | "
                           f"{_cell(p.default or '')} | {_cell(', '.join(p.enumerate))} | {_cell(p.example or '')} | "
                           f"{_cell(p.description)} |")
            out.append("")
        example = " ".join(f"--param {k}={v}" for k, v in q.example_values().items())
        out.append(f"Run it: `ftz-kg query {q.name}{' ' + example if example else ''}`, or "
                   f"`/api/{q.name}{'?' + urlencode(q.example_values()) if q.example_values() else ''}` "
                   "on a running server.\n")
        body = "\n".join(line for line in q.text.splitlines() if not line.startswith("#+")).strip()
        out.append(f"??? note \"The query\"\n\n    ```sparql\n{_indent(body)}\n    ```\n")
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())


# --------------------------------------------------------------------------- the ontology

def ontology_reference() -> str:
    from rdflib import OWL, RDF, RDFS, Graph, URIRef
    from rdflib.namespace import SKOS

    from ftz_kg import resources

    graph = Graph().parse(resources.ontology_file(), format="turtle")
    ftz = "https://w3id.org/ftz-kg/def#"

    def local(term) -> str:
        term = str(term)
        for prefix, namespace in (("ftz", ftz), ("skos", str(SKOS)), ("dcterms", "http://purl.org/dc/terms/"),
                                  ("prov", "http://www.w3.org/ns/prov#"), ("org", "http://www.w3.org/ns/org#"),
                                  ("schema", "https://schema.org/"), ("xsd", "http://www.w3.org/2001/XMLSchema#"),
                                  ("rdfs", str(RDFS)), ("owl", str(OWL))):
            if term.startswith(namespace):
                name = term[len(namespace):]
                return f"[`{prefix}:{name}`](#{name.lower()})" if prefix == "ftz" else f"`{prefix}:{name}`"
        return f"`<{term}>`"

    def text(term, predicate, lang) -> str:
        values = [str(v) for v in graph.objects(term, predicate) if getattr(v, "language", None) == lang]
        return " / ".join(sorted(values))

    def terms(kinds) -> list:
        found = {s for kind in kinds for s in graph.subjects(RDF.type, kind)
                 if isinstance(s, URIRef) and str(s).startswith(ftz)}
        return sorted(found, key=str)

    out = ["Generated from `ontology/ftz.ttl`: every class and property under "
           f"`{ftz}` (prefix `ftz:`), with its labels and definitions in English and Chinese.\n"]
    sections = (("Classes", [OWL.Class]),
                ("Object properties", [OWL.ObjectProperty]),
                ("Datatype properties", [OWL.DatatypeProperty]),
                ("Annotation properties", [OWL.AnnotationProperty]))
    for title, kinds in sections:
        found = terms(kinds)
        out.append(f"## {title}\n")
        out.append(f"{len(found)} terms.\n")
        for term in found:
            name = str(term)[len(ftz):]
            out.append(f"### {name}\n")
            out.append(f"`ftz:{name}` — **{text(term, SKOS.prefLabel, 'en')}** · {text(term, SKOS.prefLabel, 'zh')}\n")
            for lang in ("en", "zh"):
                definition = text(term, SKOS.definition, lang)
                if definition:
                    out.append(f"- {definition}")
            facts = []
            for label, predicate in (("subclass of", RDFS.subClassOf), ("subproperty of", RDFS.subPropertyOf),
                                     ("domain", RDFS.domain), ("range", RDFS.range), ("inverse of", OWL.inverseOf)):
                values = sorted(local(v) for v in graph.objects(term, predicate) if isinstance(v, URIRef))
                if values:
                    facts.append(f"- {label}: " + ", ".join(values))
            characteristics = sorted(str(t)[len(str(OWL)):] for t in graph.objects(term, RDF.type)
                                     if str(t).startswith(str(OWL)) and t not in kinds)
            if characteristics:
                facts.append("- characteristics: " + ", ".join(characteristics))
            alt = sorted(str(v) for v in graph.objects(term, SKOS.altLabel))
            if alt:
                facts.append("- also called: " + ", ".join(alt))
            out.append("\n".join(facts) + "\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- source conflicts

def conflicts_reference() -> str:
    """graph/conflicts.csv with the readings cited in graph/citations/*.csv: the list that replaced
    the hand-kept graph/SOURCE_NOTES.md."""
    from ftz_kg import resources
    from ftz_kg.pipeline.curated import read_table
    from ftz_kg.pipeline.mapping import CITATION_COLUMNS, CITATION_REQUIRED, CONFLICT_COLUMNS, CONFLICT_REQUIRED

    graph_dir = resources.graph_dir()
    readings: dict[tuple[str, str], list] = {}
    for path in sorted((graph_dir / "citations").glob("*.csv")):
        for row in read_table(path, CITATION_COLUMNS, set(CITATION_REQUIRED)):
            if row.get("conflict"):
                readings.setdefault((row.get("conflict"), row.get("reading")), []).append(row)
    kinds = {"contradiction": "contradiction", "wording": "wording variant", "misprint": "misprint",
             "extraction": "extraction artefact", "layout": "layout ambiguity"}
    conflicts = read_table(graph_dir / "conflicts.csv", CONFLICT_COLUMNS, set(CONFLICT_REQUIRED))
    out = [f"{len(conflicts)} places where the report contradicts itself, generated from "
           "`graph/conflicts.csv` and the citations of their readings in `graph/citations/`. Line numbers refer "
           "to the report's text edition. In the graph each is a `ftz:SourceConflict` at "
           f"`{BASE}conflict/<id>`; the canned query `conflicting-statements` lists them with labels.\n"]
    for row in sorted(conflicts, key=lambda r: int(r.get("id")[1:])):
        number = row.get("id")[1:]
        out.append(f"## C{number}: `{row.get('subject')}`, {row.get('property')} ({kinds[row.get('kind')]})\n")
        out.append(row.get("explanation_en") + "\n")
        out.append(row.get("explanation_zh") + "\n")
        for reading, title in (("followed", "Followed"), ("other", "Not followed")):
            for cited in readings.get((row.get("id"), reading), []):
                where = cited.get("source") + (f", lines {cited.get('lines')}" if cited.get("lines") else "")
                quote = f": 「{cited.get('quote')}」" if cited.get("quote") else ""
                out.append(f"- {title}: {_cell(cited.get('value'))} — {where}{quote}")
        out.append("")
    return "\n".join(out)


GENERATORS = {"cli": cli_reference, "http": http_reference, "queries": queries_reference,
              "ontology": ontology_reference, "conflicts": conflicts_reference}


# --------------------------------------------------------------------------- MkDocs hooks

def on_config(config):
    """Snippets (`--8<--`, for CHANGELOG.md and graph/README.md) are read from the checkout root,
    wherever mkdocs is run from."""
    root = str(Path(config.config_file_path).resolve().parent)
    config.mdx_configs.setdefault("pymdownx.snippets", {})["base_path"] = [root]
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Put each generated part in place of its marker."""
    return MARKER.sub(lambda match: GENERATORS[match.group(1)](), markdown)


_INLINE_SCRIPT = re.compile(r"<script(?P<attributes>(?:(?!\bsrc=)[^>])*)>(?P<body>.+?)</script>", re.S)


def on_post_page(output: str, page, config) -> str:
    """Move every inline script into a file of its own beside the site's assets, so that the site
    runs under the server's Content-Security-Policy, which forbids inline script. Scripts that are
    data (`type="application/json"`, as the theme's configuration) are not run and stay inline."""
    site = Path(config["site_dir"])
    depth = page.url.count("/") if page.url else 0
    prefix = "../" * depth

    def extract(match: re.Match) -> str:
        attributes, body = match.group("attributes"), match.group("body")
        if "application/json" in attributes or not body.strip():
            return match.group(0)
        name = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16] + ".js"
        target = site / "assets" / "inline" / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        return f'<script{attributes} src="{prefix}assets/inline/{name}"></script>'

    return _INLINE_SCRIPT.sub(extract, output)


def on_post_build(config) -> None:
    """Drop the theme's 404 page: it links its assets from the server's root, which is not where
    ftz-kg serves the site (/docs/), and it would carry an inline script; a missing page under
    /docs/ gets the server's plain 404 instead."""
    (Path(config["site_dir"]) / "404.html").unlink(missing_ok=True)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in GENERATORS:
        sys.exit(f"usage: python scripts/gen_docs.py {'|'.join(GENERATORS)}")
    sys.stdout.write(GENERATORS[sys.argv[1]]())
