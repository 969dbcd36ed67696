"""Stage 4 on disk: a validated graph kept in an Oxigraph (RocksDB) directory, for `serve --store-dir`.

A restart opens the directory instead of parsing, validating and loading the graph again: at 100×
the real graph that is a tenth of a second against half a minute. What the directory holds is
named by a fingerprint of everything that decided its content (the source graph or curated files,
the shapes it was validated against, the ftz-kg version), so a changed source is loaded afresh and
a stale store is never served.

    DIR/manifest.json       the current version: fingerprint, triple count, when it was written
    DIR/v-<fingerprint>/    an Oxigraph store; the triples in the dataset's named graph
    DIR/.lock               held by the one server using DIR, for as long as it runs

A version is written in a temporary directory beside it and renamed into place, and the manifest
is replaced atomically, so a crash leaves the previous version current. Versions no longer current
are removed once nothing reads them.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import Graph, URIRef

from ftz_kg.errors import FtzKgError
from ftz_kg.query.guard import DATASET_GRAPH
from ftz_kg.pipeline.rdfio import atomic_write, ordinary_mode

MANIFEST = "manifest.json"
LOCK = ".lock"
# Where earlier versions remembered the source's digest by its size and modification time: an edit
# that keeps both (a same-size edit, the time restored by a copy tool or `touch -r`) went unseen
# and the old store was served. Removed when found.
STALE_DIGESTS = "source-digest.json"
FORMAT = 1          # bump when the layout changes


class StoreDirError(FtzKgError):
    """The store directory cannot be used."""


@dataclass(frozen=True)
class StoredGraph:
    """One version of the graph in the store directory."""

    path: Path
    triples: int
    fingerprint: str

    def open(self) -> ox.Store:
        """A read-only handle; any number of processes may hold one."""
        try:
            return ox.Store.read_only(str(self.path))
        except OSError as error:
            raise StoreDirError(f"{self.path}: cannot open the store: {error}") from None

    def view(self, store: ox.Store) -> Graph:
        """The stored graph as an rdflib Graph, read through the store (for pages and dumps):
        nothing is parsed or copied into memory."""
        return _GraphView(store, self.triples)


class _GraphView(Graph):
    def __init__(self, store: ox.Store, triples: int):
        super().__init__(store=OxigraphStore(store=store), identifier=URIRef(DATASET_GRAPH))
        self._triples = triples

    def __len__(self) -> int:
        # known from the manifest; the store would count every triple
        return self._triples


def fingerprint(*parts: bytes) -> str:
    """A name for what a store holds, from the bytes that decided it."""
    digest = hashlib.sha256()
    for part in (str(FORMAT).encode(), *parts):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:32]


def files_digest(paths: list[Path]) -> bytes:
    """The contents and relative names of files, in a stable order (for the curated sources)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


class StoreDir:
    """A store directory, locked for this process."""

    def __init__(self, root: Path):
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
            self._lock = open(root / LOCK, "a+")
        except OSError as error:
            raise StoreDirError(f"{root}: cannot use as a store directory: {error.strerror or error}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StoreDirError(f"{root}: in use by another ftz-kg process; give each server its own "
                                f"--store-dir") from None
        with contextlib.suppress(OSError):
            (root / STALE_DIGESTS).unlink()

    def close(self) -> None:
        self._lock.close()

    def file_digest(self, path: Path) -> bytes:
        """The SHA-256 of a file's content, read in full at every start and reload: the fingerprint
        changes whenever the content does, whatever its size and modification time say (a digest
        remembered by those two missed a same-size edit whose time was restored). At 100x the real
        graph (97 MiB of N-Triples) that costs 0.15 s of a restart's 0.8 s."""
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()

    def current(self, wanted: str) -> StoredGraph | None:
        """The stored version when it holds exactly what `wanted` names, else None."""
        try:
            manifest = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise StoreDirError(f"{self.root / MANIFEST}: unreadable ({error}); remove the directory to "
                                f"start afresh") from None
        if manifest.get("format") != FORMAT or manifest.get("fingerprint") != wanted:
            return None
        path = self.root / manifest["version"]
        if not path.is_dir():
            return None
        return StoredGraph(path, int(manifest["triples"]), wanted)

    def write(self, wanted: str, ntriples: bytes, triples: int) -> StoredGraph:
        """Store N-Triples (written by us from a validated graph) as the current version."""
        def fill(store: ox.Store, graph: ox.NamedNode) -> None:
            # lenient: the N-Triples come from a graph we parsed, checked and validated
            store.bulk_load(ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=graph, lenient=True)
            stored = len(store)
            if stored != triples:
                raise StoreDirError(f"{self.root}: wrote {stored} triples, expected {triples}")
        return self.write_with(wanted, fill)

    def write_with(self, wanted: str, fill) -> StoredGraph:
        """Store a graph that `fill(store, graph)` loads into a new store (the dataset's named graph)
        and checks, raising to refuse it: nothing is current until the store is complete and
        checked, and a refused graph leaves nothing behind."""
        final = self.root / f"v-{wanted}"
        staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=self.root))
        try:
            os.chmod(staging, ordinary_mode(0o777))
            store = ox.Store(str(staging))
            fill(store, ox.NamedNode(DATASET_GRAPH))
            store.flush()
            store.optimize()
            triples = len(store)
            del store
            if final.exists():      # left by a run that stopped before updating the manifest
                shutil.rmtree(final)
            os.rename(staging, final)
        except OSError as error:
            raise StoreDirError(f"{self.root}: cannot write the store: {error.strerror or error}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self._made_current(wanted, final, triples)

    def _made_current(self, wanted: str, final: Path, triples: int) -> StoredGraph:
        manifest = {"format": FORMAT, "fingerprint": wanted, "version": final.name, "triples": triples,
                    "written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        atomic_write(self.root / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        return StoredGraph(final, triples, wanted)

    def remove_unused(self, keep: StoredGraph) -> None:
        """Remove versions other than `keep`, and what an interrupted write left."""
        for entry in self.root.iterdir():
            if entry.is_dir() and entry != keep.path and entry.name.startswith(("v-", ".writing-")):
                shutil.rmtree(entry, ignore_errors=True)
