"""The `ftz-kg` command line: one sub-command per stage of the pipeline."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
from rdflib import Graph

from ftz_kg import RELEASE_DATE
from ftz_kg import __version__
from ftz_kg.errors import EXIT_OK, EXIT_VIOLATIONS, FtzKgError


def _fail(error: FtzKgError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


class _Terminated(BaseException):
    """SIGTERM while writing: unwinds like Ctrl-C does, so the temporary file is removed."""


def _on_sigterm(signum, frame):
    raise _Terminated()


@contextlib.contextmanager
def _writing(out: Path):
    """Turn unusable input, failed writes and SIGINT/SIGTERM into one clear line and exit status 2."""
    import signal

    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        previous = None
    try:
        yield
    except FtzKgError as error:
        _fail(error)
    except OSError as error:
        click.echo(f"error: cannot write {out}: {error.strerror or error}", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, _Terminated) as error:
        cause = "SIGTERM" if isinstance(error, _Terminated) else "SIGINT"
        click.echo(f"error: cannot write {out}: interrupted by {cause}", err=True)
        sys.exit(2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _load_or_build(file: Path | None):
    """A graph to work on: the given RDF file (Turtle, N-Triples, RDF/XML or JSON-LD, by its
    extension), or a fresh build of the curated sources."""
    from ftz_kg.pipeline.build import BuildResult, build
    from ftz_kg.pipeline.rdfio import parse_rdf, subject_origins

    if file is None:
        return build()
    graph = parse_rdf(file)
    return BuildResult(graph, subject_origins(file, graph))


@click.group()
@click.version_option(__version__, prog_name="ftz-kg", message=f"%(prog)s %(version)s, released {RELEASE_DATE}")
def main() -> None:
    """ftz-kg: the knowledge graph of China's pilot free trade zones."""


@main.command("build")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("build/ftz-kg.ttl"), show_default=True, help="Where to write the graph (Turtle).")
def build_command(out: Path) -> None:
    """Build the complete graph (ontology + data) from the curated sources in graph/."""
    from ftz_kg.pipeline.build import build
    from ftz_kg.pipeline.rdfio import atomic_write, serialize_turtle

    with _writing(out):
        result = build()
        atomic_write(out, serialize_turtle(result.graph))
    click.echo(f"wrote {out} ({len(result.graph)} triples)")


@main.command("validate")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True)
@click.option("--engine", type=click.Choice(["auto", "fast", "pyshacl"]), default="auto", show_default=True,
              help="fast: shapes compiled to SPARQL on Oxigraph; pyshacl: pySHACL; auto: fast unless the shapes need pySHACL")
def validate_command(file: Path | None, fmt: str, engine: str) -> None:
    """Validate FILE (default: a fresh build) against the SHACL shapes.

    Exit 0 when it conforms, 1 on violations (warnings alone do not fail), 2 on unusable input.
    """
    from ftz_kg.pipeline.validate import FORMATTERS, load_shapes, validate_graph

    try:
        result = _load_or_build(file)
        report = validate_graph(result.graph, load_shapes(), result.origins, engine=engine)
    except FtzKgError as error:
        _fail(error)
    click.echo(FORMATTERS[fmt](report), nl=False)
    sys.exit(EXIT_OK if report.conforms else EXIT_VIOLATIONS)


@main.command("check-quotes")
@click.option("--report", "report", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The report's plain text (not part of this repository).")
@click.option("--graph-dir", "graph_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="The curated folder (default: graph/ of this project).")
def check_quotes_command(report: Path, graph_dir: Path | None) -> None:
    """Check that every citation's quote is the report's words at the lines it gives.

    Exit 0 when all are found, 1 when some are not (each printed with its file and line), 2 on unusable input.
    """
    from ftz_kg import resources
    from ftz_kg.pipeline.quotes import check_quotes

    try:
        checked, problems = check_quotes(report, graph_dir or resources.graph_dir())
    except FtzKgError as error:
        _fail(error)
    for problem in problems:
        click.echo(str(problem))
    click.echo(f"{checked} quotes checked, {len(problems)} not found")
    sys.exit(EXIT_OK if not problems else EXIT_VIOLATIONS)


@main.command("stats")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stats_command(file: Path | None, fmt: str) -> None:
    """Count entities per class in FILE (default: a fresh build), beside the report's own totals."""
    from ftz_kg.pipeline import stats

    try:
        graph: Graph = _load_or_build(file).graph
        counts, totals = stats.class_counts(graph), stats.report_totals(graph)
    except FtzKgError as error:
        _fail(error)
    formatter = stats.format_json if fmt == "json" else stats.format_text
    click.echo(formatter(counts, totals), nl=False)


def _param_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        if key in values:
            raise click.BadParameter(f"parameter {key!r} given twice", param_hint="--param")
        values[key] = value
    return values


def _emit(result, fmt: str) -> None:
    from ftz_kg.query.results import write

    try:
        click.echo(write(result, fmt), nl=False)
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


FORMAT_OPTION = click.option("--format", "fmt", default="table", show_default=True,
                             type=click.Choice(["table", "csv", "tsv", "json", "sparql-json", "turtle"]))

DEFAULT_GRAPH_IRI = "https://w3id.org/ftz-kg/graph"


def remote_options(*, endpoint_help: str, endpoint_required: bool = False):
    """Options shared by every command that talks to a remote SPARQL 1.1 store."""
    def decorate(command):
        for option in reversed([
            click.option("--endpoint", required=endpoint_required, default=None, metavar="URL", help=endpoint_help),
            click.option("--graph-iri", "graph_iri", default=DEFAULT_GRAPH_IRI, show_default=True, metavar="IRI",
                         help="The named graph that holds the ftz-kg data in the remote store."),
            click.option("--user", default=None, help="User name, if the store asks for credentials."),
            click.option("--password", default=None, envvar="FTZ_KG_PASSWORD", show_envvar=True,
                         help="Password for --user (better given in the environment)."),
            click.option("--timeout", "remote_timeout", default=30.0, show_default=True, type=float,
                         help="Overall deadline in seconds for each request to the store."),
            click.option("--retries", default=3, show_default=True, type=click.IntRange(0, 10),
                         help="Retries when the store answers 429 or 503 (Retry-After honoured)."),
        ]):
            command = option(command)
        return command
    return decorate


def _transport(user, password, remote_timeout, retries):
    import os

    from ftz_kg.remote.client import Transport

    if user and password is None:
        raise click.BadParameter("--user needs a password (--password or FTZ_KG_PASSWORD)", param_hint="--user")
    # a bearer token only ever comes from the environment, never from the command line
    return Transport(timeout=remote_timeout, retries=retries, user=user, password=password,
                     token=os.environ.get("FTZ_KG_TOKEN") or None)


def _engine(endpoint, graph_iri, user, password, remote_timeout, retries):
    """The embedded store, or the remote endpoint when --endpoint is given."""
    if endpoint is None:
        from ftz_kg.query.store import default_engine
        return default_engine()
    from ftz_kg.remote.client import RemoteEngine
    return RemoteEngine(endpoint, _transport(user, password, remote_timeout, retries), graph=graph_iri or None)


@main.command("queries")
@click.option("--search", "words", default="", help="Only queries whose name, question or tags contain all WORDS.")
def queries_command(words: str) -> None:
    """List the catalogue of canned queries: name and question."""
    from ftz_kg.query.catalogue import Catalogue

    try:
        catalogue = Catalogue.load()
    except FtzKgError as error:
        _fail(error)
    chosen = catalogue.search(words) if words else list(catalogue)
    width = max((len(q.name) for q in chosen), default=0)
    for query in chosen:
        click.echo(f"{query.name:<{width}}  {query.summary}  {query.summary_zh}")
    if not chosen:
        click.echo(f"no query matches {words!r}", err=True)
        sys.exit(1)


@main.command("query")
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter value (repeatable).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language of labels (default zh).")
@FORMAT_OPTION
@remote_options(endpoint_help="Run on this remote SPARQL endpoint instead of the embedded store.")
def query_command(name: str, params: tuple[str, ...], lang: str | None, fmt: str, endpoint, graph_iri, user,
                  password, remote_timeout, retries) -> None:
    """Run canned query NAME on the embedded store (or a remote one with --endpoint)."""
    from ftz_kg.query.binding import bind
    from ftz_kg.query.catalogue import Catalogue

    values = _param_pairs(params)
    try:
        query = Catalogue.load().get(name)
        if lang is not None and query.param("lang") is not None:
            values.setdefault("lang", lang)
        engine = _engine(endpoint, graph_iri, user, password, remote_timeout, retries)
        result = engine.query(bind(query, values, engine))
    except FtzKgError as error:
        _fail(error)
    _emit(result, fmt)


@main.command("ask")
@click.argument("question")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
              help="Language of labels in the answer (default: the question's).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def ask_command(question: str, lang: str | None, fmt: str) -> None:
    """Answer QUESTION, in Chinese or English, from the catalogue of canned queries.

    Says how the question was read (query and parameters). Exit 0 when answered, 2 when it was not
    understood or can be read in several ways (the message on stderr says what to do).
    """
    import json

    from ftz_kg.ask.answer import as_json, ask, failure_message
    from ftz_kg.ask.interpret import default_interpreter
    from ftz_kg.query.results import write

    try:
        interpreter = default_interpreter()
        answer = ask(question, interpreter, lang)
    except FtzKgError as error:
        _fail(error)
    if answer.reading is None:
        found = []
        if answer.status == "not-understood":    # what its words lead to, through a text index of the graph
            from ftz_kg.ask.related import related
            from ftz_kg.query.store import default_graph
            from ftz_kg.search import TextIndex
            found = related(question, interpreter, TextIndex.from_graph(default_graph()), answer.interpretation.lang)
        if fmt == "json":
            click.echo(json.dumps({**as_json(answer, interpreter), **({"related": found} if found else {})},
                                  ensure_ascii=False, indent=2))
        click.echo(failure_message(answer, interpreter, found), err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(as_json(answer, interpreter), ensure_ascii=False, indent=2))
        return
    read_as = f"read as: {answer.explained}\nquery: {answer.links['page']}  sparql: {answer.links['sparql']}"
    if fmt == "csv":
        click.echo(read_as, err=True)
        click.echo(write(answer.result, "csv"), nl=False)
        return
    click.echo(read_as + "\n")
    if answer.count is not None:
        click.echo(f"{answer.count}\n")
    elif answer.top is not None:
        from ftz_kg.query.results import compact
        click.echo("  ".join(compact(t) for t in answer.top) + "\n")
    click.echo(write(answer.result, "table"), nl=False)


@main.command("sparql")
@click.argument("file", type=click.File("rb"))
@FORMAT_OPTION
@remote_options(endpoint_help="Run on this remote SPARQL endpoint instead of the embedded store.")
def sparql_command(file, fmt: str, endpoint, graph_iri, user, password, remote_timeout, retries) -> None:
    """Run any read-only SPARQL query from FILE (or - for standard input) on the embedded store
    (or a remote one with --endpoint)."""
    from ftz_kg.query.guard import Refused, check_query

    data = file.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:   # read as bytes: the offset counts from the start of the input
        source = "standard input" if getattr(file, "name", "<stdin>") in ("<stdin>", "-") else file.name
        click.echo(f"error: {source}: not valid UTF-8 (byte 0x{data[error.start]:02x} at byte offset "
                   f"{error.start}); save the query as UTF-8", err=True)
        sys.exit(2)
    if not text.strip():
        click.echo("error: the query is empty", err=True)
        sys.exit(2)
    try:
        # the same vetting as the endpoint: Oxigraph runs SERVICE over HTTP, and this command is read-only
        check_query(text)
    except Refused as refused:
        click.echo(f"error: {refused}", err=True)
        sys.exit(2)
    try:
        engine = _engine(endpoint, graph_iri, user, password, remote_timeout, retries)
    except FtzKgError as error:
        _fail(error)
    if endpoint is None:
        # the embedded engine recurses on the query's structure: the guard bounds that, and should
        # it still die of a signal on some query, it dies in a child process and this command says so
        reply = _in_child(lambda: _answer(engine, text, fmt))
    else:
        reply = _answer(engine, text, fmt)
    if reply[0] == "error":
        click.echo(f"error: {reply[1]}", err=True)
        sys.exit(reply[2])
    click.echo(reply[1], nl=False)


def _answer(engine, text: str, fmt: str) -> tuple:
    """Run the query and render the answer: ("ok", output) or ("error", message, exit code)."""
    from ftz_kg.query.results import write

    try:
        return ("ok", write(engine.query(text), fmt))
    except FtzKgError as error:
        return ("error", str(error), error.exit_code)
    except ValueError as error:     # a format the answer cannot take (CSV for a graph …)
        return ("error", str(error), 2)


def _in_child(work) -> tuple:
    """`work()`'s reply, computed in a forked child: a child killed by a signal (a stack overflow
    is SIGSEGV) becomes ("error", one line, 2) instead of taking this process with it. Forking
    costs a few milliseconds; the graph already loaded is shared, not copied."""
    import os
    import pickle
    import signal
    import traceback

    if not hasattr(os, "fork"):
        return work()
    reader, writer = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:    # the child: reply through the pipe, then leave without the parent's exit handlers
        status = 0
        try:
            os.close(reader)
            _die_with(parent)
            try:
                reply = work()
            except KeyboardInterrupt:
                reply = ("error", "interrupted", 130)
            except Exception as error:  # noqa: BLE001 - reported by the parent, as it would have been
                traceback.print_exc()
                reply = ("error", f"unexpected {type(error).__name__}: {error}", 1)
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(pickle.dumps(reply))
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            status = 1
        finally:
            os._exit(status)
    os.close(writer)
    try:
        with os.fdopen(reader, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    except BaseException:      # Ctrl-C (or anything else) here: the child goes too
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return ("error", f"the query engine crashed ({name}) on this query and answered nothing; "
                         f"simplify the query", 2)
    if not data:
        return ("error", "the query engine stopped without an answer", 2)
    return pickle.loads(data)


def _die_with(parent: int) -> None:
    """Have the kernel kill this child when its parent dies (Linux): a runaway query must not
    outlive a command stopped by SIGTERM or SIGKILL."""
    import ctypes
    import os
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):   # not Linux: the query ends on its own
        return
    if os.getppid() != parent:          # the parent died before the call
        os._exit(1)


@main.command("export")
@click.option("--format", "fmt", required=True,
              type=click.Choice(["ttl", "nt", "jsonld", "rdfxml", "trig", "graphml", "gexf", "cytoscape", "csv", "all"]))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="The file to write (a folder for csv, and for all: the dump bundle with void.ttl).")
@click.option("--graph", "graph_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Export this built graph (Turtle, N-Triples, RDF/XML or JSON-LD, by extension) "
                   "instead of a fresh build.")
def export_command(fmt: str, out: Path, graph_file: Path | None) -> None:
    """Write the graph as a dump, deterministically and atomically."""
    import datetime

    from ftz_kg.pipeline import export
    from ftz_kg import resources
    from ftz_kg.pipeline.rdfio import parse_turtle, serialize_turtle
    from ftz_kg.pipeline.void import describe

    with _writing(out):
        graph = _load_or_build(graph_file).graph
        ontology = parse_turtle(resources.ontology_file())
        shapes = parse_turtle(resources.shapes_file())
        if fmt == "all":   # the whole bundle, all new or all old
            created = datetime.date.today().isoformat()
            export.write_bundle(out, graph, ontology, shapes,
                                lambda sizes: serialize_turtle(describe(graph, sizes, created)))
        else:
            export.write(out, export.render(fmt, graph, ontology, shapes))
    click.echo(f"wrote {out}")


@main.command("publish")
@remote_options(endpoint_help="The store's SPARQL query endpoint (used to verify the load).", endpoint_required=True)
@click.option("--update-endpoint", default=None, metavar="URL", help="SPARQL Update endpoint (default: --endpoint).")
@click.option("--graph-store", default=None, metavar="URL",
              help="Graph Store HTTP Protocol endpoint; without it, or where it is refused, SPARQL Update is used.")
@click.option("--graph", "graph_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Publish this built graph (Turtle) instead of a fresh build.")
@click.option("--batch-size", default=None, type=click.IntRange(1, 1_000_000),
              help="Triples per request [default: 50000 to a graph store, 2000 per SPARQL Update].")
@click.option("--direct", is_flag=True,
              help="Load straight into the target graph, without a staging graph and MOVE: for graphs too "
                   "large for the store to copy in one transaction. Not atomic: on a failure the target "
                   "graph is left empty.")
def publish_command(endpoint, graph_iri, user, password, remote_timeout, retries, update_endpoint, graph_store,
                    graph_file, batch_size, direct) -> None:
    """Load the complete graph into a remote SPARQL 1.1 store, all or nothing.

    The graph goes into a staging graph, its triple count is verified, then one MOVE replaces
    the target graph (--graph-iri). On any failure the target graph is left as it was.
    With --direct the graph is loaded into the target graph itself and verified there.
    """
    from ftz_kg.remote.publish import Target, publish
    from ftz_kg.pipeline.validate import load_shapes, validate_graph

    try:
        target = Target(endpoint, update_endpoint, graph_store)
        transport = _transport(user, password, remote_timeout, retries)
        result = _load_or_build(graph_file)
        report = validate_graph(result.graph, load_shapes(), result.origins)
        if not report.conforms:
            click.echo(f"error: the graph does not validate ({report.count('Violation')} violation(s)); "
                       f"nothing was published", err=True)
            sys.exit(EXIT_VIOLATIONS)
        with click.progressbar(length=len(result.graph), label="publishing", file=sys.stderr) as bar:
            outcome = publish(result.graph, target, graph_iri, transport, batch_size, progress=bar.update,
                              direct=direct)
    except FtzKgError as error:
        _fail(error)
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"published {outcome.triples} triples to <{outcome.graph}> at {endpoint} "
               f"via {outcome.method} in {outcome.seconds:.1f} s")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--graph", "graph_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Serve this built graph (Turtle) instead of a fresh build.")
@click.option("--store", "store_url", default=None, metavar="URL",
              help="Answer from this remote SPARQL endpoint (where `ftz-kg publish` put the graph) "
                   "instead of the embedded store.")
@click.option("--store-dir", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the embedded store on disk in this directory: a restart opens it instead of loading "
                   "the graph again (it is loaded afresh when the source has changed). One server per directory.")
@click.option("--timeout", default=10.0, show_default=True, type=float, help="Seconds a query may run.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Query worker processes (queries at once; with --processes, query threads in each process)  "
                   "[default: the CPU cores + 2, at most 10]")
@click.option("--processes", default=None, type=click.IntRange(min=1),
              help="Serve HTTP from this many processes that run the queries themselves (faster on small "
                   "queries; a query over its time limit ends its process, which is replaced). Not with --store.")
@click.option("--max-rows", default=10_000, show_default=True, type=int, help="Rows (or triples) per answer.")
@click.option("--max-bytes", default=16 * 1024 * 1024, show_default=True, type=click.IntRange(min=1),
              help="Bytes per answer (16 MiB): a larger answer ends at the last whole row or triple that fits.")
@click.option("--write-timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds a client may stop reading an answer before it is disconnected.")
@click.option("--base", default="", help="Public base URL of this server, for links and the service description.")
@click.option("--graph-iri", "graph_iri", default=DEFAULT_GRAPH_IRI, show_default=True, metavar="IRI",
              help="With --store: the named graph that holds the ftz-kg data.")
@click.option("--user", default=None, help="With --store: user name, if the store asks for credentials.")
@click.option("--password", default=None, envvar="FTZ_KG_PASSWORD", show_envvar=True,
              help="With --store: password for --user.")
def serve_command(host: str, port: int, graph_file: Path | None, store_url: str | None, store_dir: Path | None,
                  timeout: float, workers: int, processes: int | None, max_rows: int, max_bytes: int,
                  write_timeout: float, base: str, graph_iri: str, user, password) -> None:
    """Serve the graph: SPARQL 1.1 Protocol at /sparql, canned queries at /api, linked-data pages (read-only).

    SIGHUP (or POST /admin/reload from this host) reloads the graph from the same source; a reload
    that fails keeps the graph being served.
    """
    import logging

    import uvicorn
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from ftz_kg.web import linkeddata
    from ftz_kg.web import reloading
    from ftz_kg import resources
    from ftz_kg.web.endpoint import Settings, create_app
    from ftz_kg.web.httpserver import uvicorn_options
    from ftz_kg.pipeline.rdfio import parse_turtle
    from ftz_kg.web.streaming import with_write_timeout

    if store_url and graph_file is not None:
        raise click.BadParameter("give either --graph or --store", param_hint="--store")
    if store_url and store_dir is not None:
        raise click.BadParameter("give either --store-dir or --store", param_hint="--store-dir")
    if store_url and processes:
        raise click.BadParameter("with --store the remote store runs the queries; give --processes without it",
                                 param_hint="--processes")
    from ftz_kg.web import workers as query_workers
    workers = workers or query_workers.default_count()
    if not store_url and not processes:    # local query workers: their fork server imports the engine meanwhile
        query_workers.prestart()
    try:
        # parsed here, not by the validation module: importing pySHACL takes a fifth of a second,
        # which a restart on a current --store-dir does not need
        shapes = parse_turtle(resources.shapes_file())
        load = _serve_loader(graph_file, store_url, graph_iri, shapes, workers, max_rows,
                             lambda: _transport(user, password, timeout, 3), store_dir, max_bytes)
        loaded = load()
        ontology = parse_turtle(resources.ontology_file())
    except FtzKgError as error:
        _fail(error)
    # without --base the server describes itself by the address it was told to listen on, never by
    # the Host header a client sends (which anyone can set)
    base = base or (f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/")
    settings = Settings(timeout=timeout, workers=workers, max_rows=max_rows, max_bytes=max_bytes, public_base=base)
    status = None
    if processes:
        from ftz_kg.web import prefork
        status = prefork.SharedStatus()

    def build(loaded):
        runner = loaded.runner
        if processes:
            runner = _in_process_runner(loaded, settings, workers)
        app = create_app(loaded.source, loaded.triples, settings, lookup_engine=loaded.lookup, runner=runner)
        linkeddata.install(app, loaded.graph, ontology, shapes, loaded.text_index_file, loaded.dashboard_file)
        reloading.install(app, load, ontology, shapes, reloader=prefork.ParentReloader(status) if processes else None)
        return app

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # the access log's lines are the message alone: skip gathering what no line shows (the logging
    # HOWTO's "Optimization"), a tenth of what the web process spends on a cheap query
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.getLogger("httpx").setLevel(logging.WARNING)
    source = f" from {store_url}" if store_url else ""
    click.echo(f"serving {loaded.triples} triples{source} at http://{host}:{port}/sparql", err=True)
    options = uvicorn_options()
    options["http"] = with_write_timeout(options.get("http", AutoHTTPProtocol), write_timeout)
    if processes:
        try:
            listener = prefork.listening_socket(host, port)
        except OSError as error:
            _fail(FtzKgError(f"cannot listen on {host}:{port}: {error.strerror or error}"))
        if loaded.settled:      # nothing reads an older store version
            loaded.settled()
        options.update(log_level="warning", timeout_graceful_shutdown=timeout + 1)
        prefork.Supervisor(listener, processes, build, load, loaded, status=status, drain_seconds=timeout + 1,
                           serve=lambda app, listener, channel: prefork.run_serving_process(
                               app, listener, channel, options, app.state.pool)).run()
        return
    app = build(loaded)
    if loaded.settled:
        app.state.startup_hooks.append(lambda app: loaded.settled())
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5, **options)


def _in_process_runner(loaded, settings, size: int):
    """serve --processes: queries on threads of each serving process, over the store loaded for
    the lookups (shared with the supervisor, copy-on-write) or, from a store directory, a handle
    each process opens for itself."""
    from ftz_kg.web.inprocess import InProcessRunner
    from ftz_kg.web.workers import _open

    source = loaded.source
    store_of = (lambda: _open(source)) if isinstance(source, str) else (lambda: loaded.lookup.store)
    return InProcessRunner(store_of, size=size, timeout=settings.timeout, max_rows=settings.max_rows,
                           max_bytes=settings.max_bytes)


class GraphNotServable(FtzKgError):
    """The graph to serve is empty or missing."""


class GraphDoesNotValidate(GraphNotServable):
    exit_code = EXIT_VIOLATIONS


def _serve_loader(graph_file, store_url, graph_iri, shapes, workers, max_rows, transport, store_dir=None,
                  max_bytes=16 * 1024 * 1024):
    """A function that loads and validates the graph to serve, from the same source every time."""
    from ftz_kg.web.reloading import Loaded

    if store_url:
        from ftz_kg.web.forwarding import ForwardingRunner
        from ftz_kg.remote.client import RemoteEngine
        lookup = RemoteEngine(store_url, transport(), graph=graph_iri)
    if store_dir is not None:
        from ftz_kg.query.ondisk import StoreDir
        directory = StoreDir(store_dir)     # locked for as long as this process serves it

    def validated(result) -> None:
        from ftz_kg.pipeline.validate import validate_graph
        report = validate_graph(result.graph, shapes, result.origins)
        if not report.conforms:
            raise GraphDoesNotValidate(f"the graph does not validate ({report.count('Violation')} violation(s)); "
                                       f"run `ftz-kg validate` for the report")

    def load() -> Loaded:
        if store_url:
            from ftz_kg.pipeline.build import BuildResult
            # the pages and dumps work on a snapshot of the published graph, taken at each (re)load
            result = BuildResult(lookup.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").graph)
            if len(result.graph) == 0:
                raise GraphNotServable(f"{store_url}: the graph <{graph_iri}> is empty or missing; "
                                       f"run `ftz-kg publish` first")
            validated(result)
            return Loaded(result.graph, b"", lookup, len(result.graph),
                          ForwardingRunner(lookup, size=workers, max_rows=max_rows, max_bytes=max_bytes))
        from ftz_kg.query.store import OxigraphEngine
        if store_dir is not None:
            wanted = _source_fingerprint(graph_file, directory.file_digest)
            stored = directory.current(wanted)
            if stored is None and graph_file is not None and graph_file.suffix.lower() == ".nt":
                # a dump: Oxigraph reads it into the store being written, checked and validated there
                stored = directory.write_with(wanted, lambda store, graph: _checked_dump(store, graph, graph_file,
                                                                                       shapes))
            if stored is None:      # first start, or the source changed: load, validate, write
                result = _load_or_build(graph_file)
                validated(result)
                stored = directory.write(wanted, result.graph.serialize(format="nt", encoding="utf-8"),
                                         len(result.graph))
            store = stored.open()
            from ftz_kg.search import TextIndex
            from ftz_kg.web import dashboard
            return Loaded(stored.view(store), str(stored.path), OxigraphEngine(store=store, union=True),
                          stored.triples, settled=lambda: directory.remove_unused(stored),
                          text_index_file=directory.root / TextIndex.file_name(stored.fingerprint),
                          dashboard_file=directory.root / dashboard.file_name(stored.fingerprint))
        result = _load_or_build(graph_file)
        validated(result)
        # serialised once: the query workers load these bytes, and so does the lookup engine, as
        # they do (in the dataset's named graph: serve --processes queries this store itself)
        ntriples = result.graph.serialize(format="nt", encoding="utf-8")
        from ftz_kg.web.workers import _open
        return Loaded(result.graph, ntriples, OxigraphEngine(store=_open(ntriples), union=True), len(result.graph))

    return load


def _checked_dump(store, graph, graph_file: Path, shapes) -> None:
    """Load an N-Triples dump into the store, refusing what `ftz-kg validate` would (ill-typed
    literals and bad IRIs by file, line and column; a graph that does not conform)."""
    from ftz_kg.pipeline import fastshacl
    from ftz_kg.pipeline.storeload import load_validated

    try:
        conforms = load_validated(store, graph, graph_file, shapes)
    except fastshacl.UnsupportedShapes:     # shapes the fast engine cannot compile: pySHACL on a parse
        from ftz_kg.pipeline.validate import validate_graph
        result = _load_or_build(graph_file)
        conforms = validate_graph(result.graph, shapes, result.origins).conforms
        import pyoxigraph
        store.bulk_load(path=str(graph_file), format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph)
    if not conforms:
        raise GraphDoesNotValidate(f"{graph_file}: the graph does not validate; run `ftz-kg validate {graph_file}` "
                                   f"for the report")


def _source_fingerprint(graph_file: Path | None, file_digest) -> str:
    """What decides a stored graph: the graph file (or the curated sources it is built from), the
    ontology and shapes it is validated against, and this version of ftz-kg."""
    from ftz_kg import __version__
    from ftz_kg import resources
    from ftz_kg.query.ondisk import files_digest, fingerprint

    rules = files_digest([p for p in resources.ontology_dir().iterdir() if p.is_file()])
    if graph_file is None:
        curated = files_digest([p for p in resources.graph_dir().rglob("*") if p.is_file()])
        return fingerprint(b"build", curated, rules, __version__.encode())
    try:
        content = file_digest(graph_file)
    except OSError as error:
        raise GraphNotServable(f"{graph_file}: cannot read: {error.strerror or error}") from None
    return fingerprint(b"file", graph_file.suffix.encode(), content, rules, __version__.encode())


if __name__ == "__main__":
    main()
