"""A text index over the graph, in SQLite FTS5: built once per loaded graph, then queried by /search,
the type-ahead and (later) the question interpreter.

What is indexed, per entity (an IRI of ours that is not a statement, citation or conflict):
names (skos:prefLabel, rdfs:label), alternative names (skos:altLabel, skos:hiddenLabel),
definitions and descriptions (skos:definition, dcterms:description, titles, notes), and the report's
quotes (ftz:quote of the citations about the entity), in Chinese and English. Each distinct string
is indexed once and linked to every entity that carries it: the same quote backs many citations.

How a word of the query is matched (the text and query are folded alike: NFKC, case-folded,
traditional characters as simplified ones, one character for one, so offsets stay valid):
- three characters or more, any script: a substring, by the trigram tokenizer;
- one or two Chinese characters (trigrams cannot): a table of Chinese character unigrams and bigrams;
- a Latin word: English words by the Porter stemmer (approvals ~ approval; a prefix, for typing),
  and the pinyin of Chinese names, whole or by initials (sichuan, sc → 四川), from a syllable on;
- a run of Chinese characters with no space that does not occur as a whole (四川的海关监管举措)
  is cut into the longest pieces that occur in the names, 的/和/与/及/或 only joining them
  (四川 / 海关 / 监管 / 举措); as the cut is a guess, a piece found nowhere is dropped and the hits
  are the entities with the most of the pieces.
Every word the user separated is required (AND), anywhere in the entity's indexed texts. Ranking: an
exact name, then names, then alternative names, then descriptions and quotes; within a rank the
shorter text first, then the IRI.

Speed on a large graph: texts are numbered best first (names, then shorter), and FTS5 returns
matches in that order, so `search` reads the best matches first and stops once it has `limit`
hits (words found together in one text first, by an AND inside FTS5); `search_counted`, for a
result page that says how many there are, reads every match.

    index = TextIndex.from_graph(graph)                       # in memory
    index = TextIndex.open_or_build(graph, directory / TextIndex.file_name(version))   # on disk
    hits = index.search("四川 海关", lang="zh", limit=50)
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sqlite3
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from ftz_kg.ask.normalise import STOPWORDS, stem, to_simplified
from ftz_kg.errors import FtzKgError
from ftz_kg.pipeline.export import CLAIM_PATHS
from ftz_kg.pipeline.rdfio import ordinary_mode
from ftz_kg.vocab import BASE, ELI, FTZ

FORMAT = "5"        # bump when the schema or what is indexed changes: a stored index is then rebuilt
FILE_PREFIX = "text-index-"

NAME, ALTERNATIVE_NAME, DESCRIPTION, QUOTE = 1, 2, 3, 4
FIELD_NAMES = {NAME: "name", ALTERNATIVE_NAME: "alternative name", DESCRIPTION: "description", QUOTE: "quote"}
EXACT_NAME_RANK = 0
FIELDS = (
    (NAME, (SKOS.prefLabel, RDFS.label)),
    (ALTERNATIVE_NAME, (SKOS.altLabel, SKOS.hiddenLabel)),
    (DESCRIPTION, (SKOS.definition, DCTERMS.description, DCTERMS.title, ELI.title, SKOS.scopeNote, SKOS.note,
                   FTZ.explanation)),
)
CITATION_PATH = BASE + "citation/"
NAME_CANDIDATES = 500       # more candidates than this: label-search scans the labels instead (and a
#                             query naming them all would near the guard's 64 KiB)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR = re.compile(f"[{_HAN}]")
_HAN_RUN = re.compile(f"[{_HAN}]+")
# a query word: a run of Chinese characters, or a run of other letters and digits
_QUERY_WORD = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_OTHER_WORD = re.compile(rf"[^\W_{_HAN}]+")     # letters and digits of any script but Chinese
_NOT_KEY = re.compile(r"[\W_]+")
# characters that join words rather than belong to them, where a Chinese run is cut into words
_JOINERS = frozenset("的和与及或")
MAX_PIECE = 8            # the longest piece of a name kept for cutting a Chinese run into words
MAX_SYLLABLES = 12       # pinyin is matched from any syllable of a name on, over this many syllables
MMAP_BYTES = 1 << 32
READ_PER_HIT = 20        # matching texts read first per hit wanted (when not counting them all)
SIZE_SCALE = 1 << 20     # field and text size packed in one integer, so that SQLite's MIN picks both


class TextIndexError(FtzKgError):
    """The stored text index cannot be used."""


@dataclass(frozen=True)
class Hit:
    """An entity found, with the passage that matched best, cut into (text, matched) segments."""

    iri: str
    types: tuple[str, ...]      # its rdf:type IRIs
    type: str                   # the one of them the pages group it under
    rank: int                   # 0 exact name, 1 name, 2 alternative name, 3 description or quote
    field: str                  # where the passage is: "name", "alternative name", "description", "quote"
    passage: str
    lang: str | None
    words: tuple[str, ...]      # the query's words, folded, that the passage is highlighted for

    @property
    def node(self) -> URIRef:
        return URIRef(self.iri)

    @functools.cached_property
    def segments(self) -> tuple[tuple[str, bool], ...]:
        """The passage cut into (text, matched) pieces; computed when asked (the type-ahead does not)."""
        return tuple(highlight(self.passage, list(self.words)))


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).casefold()
    if len(folded) == 1:
        return folded
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


def fold(text: str) -> str:
    """NFKC, case-folded, traditional → simplified, one character for one (offsets carry over)."""
    if text.isascii():
        return text.lower()
    whole = unicodedata.normalize("NFKC", text).casefold()
    if len(whole) != len(text):     # a character became several, or several one: fold them one by one
        whole = "".join(map(_fold_char, text))
    return to_simplified(whole)


def _key(text: str) -> str:
    """What two names must share to be the same name: folded letters and digits only."""
    return _NOT_KEY.sub("", fold(text))


@functools.lru_cache(maxsize=65536)
def _syllables(run: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin
    # one syllable per character: pypinyin keeps unknown characters whole, which would shift offsets
    syllables = lazy_pinyin(run, errors=lambda chars: ["" for _ in chars])
    return tuple(s.replace("ü", "v") for s in syllables) if len(syllables) == len(run) else ("",) * len(run)


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return stem(word)


@functools.lru_cache(maxsize=65536)
def _spelled(run: str) -> tuple[str, str, tuple[int, ...]]:
    """A Chinese run's pinyin and initials, run together, and where each syllable starts in the pinyin."""
    syllables = _syllables(run)
    starts, at = [], 0
    for syllable in syllables:
        starts.append(at)
        at += len(syllable)
    return "".join(syllables), "".join(s[:1] for s in syllables), tuple(starts)


@functools.lru_cache(maxsize=65536)
def _run_pinyin_tokens(run: str) -> tuple[str, ...]:
    """For a Chinese run, from each syllable on: the pinyin, and the initials (a 100x graph repeats
    its runs: each is spelled once)."""
    syllables = _syllables(run)
    tokens = []
    for start in range(len(syllables)):
        span = syllables[start:start + MAX_SYLLABLES]
        tokens.append("".join(span))
        tokens.append("".join(s[:1] for s in span))
    return tuple(tokens)


@functools.lru_cache(maxsize=65536)
def _run_grams(run: str) -> str:
    """A Chinese run's characters alone and in pairs, as space-separated tokens."""
    return " ".join([*run, *(run[i:i + 2] for i in range(len(run) - 1))])


def _phrase(word: str) -> str:
    """A word as an FTS5 string: whatever it holds ('"', '*', 'NEAR(', '-') is text, not syntax."""
    return '"' + word.replace('"', '""') + '"'


SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
-- type: the one the pages group it under (graph.value(entity, rdf:type)), of its types in entity_types
CREATE TABLE entities(id INTEGER PRIMARY KEY, iri TEXT NOT NULL, type TEXT);
CREATE TABLE entity_types(entity INTEGER NOT NULL, type TEXT NOT NULL);
-- each entity's name per language as the pages show it: skos:prefLabel, else rdfs:label
CREATE TABLE labels(iri TEXT NOT NULL, lang TEXT, label TEXT NOT NULL, PRIMARY KEY (iri, lang)) WITHOUT ROWID;
CREATE TABLE texts(id INTEGER PRIMARY KEY, body TEXT NOT NULL, lang TEXT, key TEXT);
-- best: field * SIZE_SCALE + the text's length, so that MIN() picks the best field, then the shortest text
CREATE TABLE postings(text INTEGER NOT NULL, entity INTEGER NOT NULL, best INTEGER NOT NULL);
CREATE TABLE vocabulary(piece TEXT PRIMARY KEY) WITHOUT ROWID;
-- the names (and alternative names), searched first, and the other texts, each way of matching
CREATE VIRTUAL TABLE text_trigrams USING fts5(body, tokenize='trigram', content='', detail='full');
CREATE VIRTUAL TABLE text_han_grams USING fts5(grams, tokenize='unicode61', content='');
CREATE VIRTUAL TABLE text_english USING fts5(body, tokenize='porter unicode61 remove_diacritics 2', content='',
                                             prefix='2 3');
CREATE VIRTUAL TABLE name_trigrams USING fts5(body, tokenize='trigram', content='', detail='full');
CREATE VIRTUAL TABLE name_han_grams USING fts5(grams, tokenize='unicode61', content='');
CREATE VIRTUAL TABLE name_english USING fts5(body, tokenize='porter unicode61 remove_diacritics 2', content='',
                                             prefix='2 3');
CREATE VIRTUAL TABLE pinyin USING fts5(tokens, tokenize='unicode61', content='', detail='none', prefix='2 3');
"""
FTS_TABLES = {"text_trigrams": "body", "text_han_grams": "grams", "text_english": "body", "name_trigrams": "body",
              "name_han_grams": "grams", "name_english": "body", "pinyin": "tokens"}    # table: its column
INDEXES = """
CREATE INDEX postings_by_text ON postings(text, entity, best);
CREATE INDEX names_by_key ON texts(key) WHERE key IS NOT NULL;
CREATE INDEX types_by_entity ON entity_types(entity);
CREATE INDEX entities_by_type ON entity_types(type);
"""


def _pairs(graph: Graph, predicate: URIRef) -> Iterator[tuple[str | None, str, str | None, bool]]:
    """(subject IRI or None for a blank node, object's text, its language, whether it is a literal)
    for every triple with the predicate. A graph read through an Oxigraph store (serve --store-dir)
    is read from the store directly: through rdflib's terms a 100x graph takes minutes."""
    store = getattr(graph.store, "_store", None)
    if isinstance(store, ox.Store) and isinstance(graph.identifier, URIRef):
        for quad in store.quads_for_pattern(None, ox.NamedNode(str(predicate)), None,
                                            ox.NamedNode(str(graph.identifier))):
            subject, value = quad.subject, quad.object
            yield (subject.value if isinstance(subject, ox.NamedNode) else None, value.value,
                   value.language if isinstance(value, ox.Literal) else None, isinstance(value, ox.Literal))
        return
    for subject, value in graph.subject_objects(predicate):
        yield (str(subject) if isinstance(subject, URIRef) else None, str(value),
               getattr(value, "language", None), isinstance(value, Literal))


def _entries(graph: Graph) -> Iterator[tuple[str, int, str, str | None]]:
    """(entity IRI, field, text, language) for every indexed text of the graph."""
    for field, predicates in FIELDS:
        for predicate in predicates:
            for subject, value, lang, is_literal in _pairs(graph, predicate):
                if is_literal and subject is not None and subject.startswith(BASE) \
                        and not subject.startswith(CLAIM_PATHS):
                    yield subject, field, value, lang
    # a quote is about the entity its citation is under: citation/measure/x/<hash> → measure/x
    for citation, quote, lang, is_literal in _pairs(graph, FTZ.quote):
        if is_literal and citation is not None and citation.startswith(CITATION_PATH):
            about = citation[len(CITATION_PATH):].rsplit("/", 1)[0]
            if "/" in about:
                yield BASE + about, QUOTE, quote, lang


class TextIndex:
    """The text index of one graph. Thread-safe: one query at a time on its connection."""

    def __init__(self, connection: sqlite3.Connection):
        # a stored index is read through the OS's page cache (mmap), not SQLite's small default cache
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self._db = connection
        self._lock = threading.Lock()
        self._memo: dict = {}       # per search: what a word matched, by where and how many were read

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_graph(cls, graph: Graph) -> "TextIndex":
        """The index of a (validated) graph, in memory."""
        db = sqlite3.connect(":memory:", check_same_thread=False)
        _fill(db, graph)
        return cls(db)

    @staticmethod
    def file_name(version: str) -> str:
        """The index file for a version of the graph (its store fingerprint, say)."""
        if not re.fullmatch(r"[0-9A-Za-z_-]+", version):
            raise ValueError(f"version: {version!r} is not a plain name (letters, digits, - and _)")
        return f"{FILE_PREFIX}{version}.sqlite"

    @classmethod
    def open_or_build(cls, graph: Graph, path: Path) -> "TextIndex":
        """The index kept in `path` (named by the graph's version, see file_name): opened when it is
        there and of this format, else built from the graph and written atomically (a temporary
        file renamed into place). Index files of other versions beside it are removed."""
        path = Path(path)
        index = cls._open(path)
        if index is None:
            built = sqlite3.connect(":memory:")
            _fill(built, graph)
            fd, staging = tempfile.mkstemp(prefix=".writing-" + FILE_PREFIX, suffix=".sqlite", dir=path.parent)
            os.close(fd)
            try:
                os.chmod(staging, ordinary_mode(0o666))     # not mkstemp's private 0600
                disk = sqlite3.connect(staging)
                built.backup(disk)
                disk.close()
                os.replace(staging, path)
            except (OSError, sqlite3.Error) as error:
                raise TextIndexError(f"{path}: cannot write the text index: {error}") from None
            finally:
                built.close()
                with contextlib.suppress(OSError):
                    os.unlink(staging)
            index = cls._open(path)
            if index is None:
                raise TextIndexError(f"{path}: the text index just written cannot be read")
        for other in path.parent.glob(FILE_PREFIX + "*.sqlite"):
            if other != path:
                with contextlib.suppress(OSError):
                    other.unlink()     # an open reader (the graph being replaced) keeps its copy until done
        return index

    @classmethod
    def _open(cls, path: Path) -> "TextIndex | None":
        if not path.is_file():
            return None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            found = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.Error:
            return None          # unreadable or of another layout: rebuilt
        if found is None or found[0] != FORMAT:
            db.close()
            return None
        return cls(db)

    # -- querying -------------------------------------------------------------------------

    def search(self, text: str, lang: str | None = None, limit: int = 50,
               types: Iterable[str] | None = None) -> list[Hit]:
        """Entities matching every word of `text`, best first (see the module's docstring); the
        passage shown is preferably in `lang`. `types`: only entities of one of these class IRIs."""
        return self._search(text, lang, limit, types, counted=False)[0]

    def search_counted(self, text: str, lang: str | None = None, limit: int = 50,
                       types: Iterable[str] | None = None) -> tuple[list[Hit], int]:
        """As search, with the number of all the hits (beyond `limit`): slower on a large graph, as
        every matching text is looked at."""
        return self._search(text, lang, limit, types, counted=True)

    def _search(self, text: str, lang: str | None, limit: int, types: Iterable[str] | None,
                counted: bool) -> tuple[list[Hit], int]:
        if limit < 0:
            raise ValueError(f"limit: {limit} is negative")
        with self._lock:
            self._memo.clear()
            try:
                return self._search_locked(text, lang, limit, types, counted)
            finally:
                self._memo.clear()

    def _search_locked(self, text: str, lang: str | None, limit: int, types: Iterable[str] | None,
                       counted: bool) -> tuple[list[Hit], int]:
        required, optional = self._words(text)
        if not required and not optional:
            return [], 0
        allowed = None
        if types is not None:
            wanted = list(types)
            allowed = {row[0] for row in self._db.execute(
                "SELECT entity FROM entity_types WHERE type IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),))}
        candidates = None
        if not counted:
            candidates = self._quickly(required, optional, allowed, limit)
        if candidates is None:
            candidates = self._candidates(required, optional, allowed, {})
        if not candidates:
            return [], 0
        words = required + optional
        exact = {row[0] for row in self._db.execute(
            "SELECT entity FROM postings JOIN texts ON id = text WHERE key = ? AND best < ?",
            (_key(text), (NAME + 1) * SIZE_SCALE))}
        # entity ids follow the IRIs' order: the IRI breaks ties, whatever the order of loading
        ranked = sorted(((EXACT_NAME_RANK if entity in exact else min(field, DESCRIPTION), size, entity)
                         for entity, (field, size, _) in candidates.items()))
        top = ranked[:limit]
        if not top:
            return [], len(ranked)
        chosen = [entity for _, _, entity in top]
        iris = self._iris(chosen)
        kinds = self._types(chosen)
        passages = self._passages({entity: candidates[entity][2] for entity in chosen}, words, lang)
        hits = []
        for rank, _, entity in top:
            body, field, passage_lang = passages[entity]
            iri, kind = iris[entity]
            hits.append(Hit(iri, kinds.get(entity, ()), kind, rank, FIELD_NAMES[field], body, passage_lang,
                            tuple(words)))
        return hits, len(ranked)

    def _quickly(self, required: list[str], optional: list[str], allowed: set[int] | None,
                 limit: int) -> dict | None:
        """The best `limit` hits read without reading every match, or None. Texts are numbered best
        first (names, then shorter) and FTS5 returns matches in that order, so each step reads the
        best matches first. The steps: the words together in one name (an AND inside FTS5); each
        word in some name, among the best names of each word; the words together in one other text
        (a description, a quote); each word anywhere, among the best texts of each. Only the first
        two are exact; the order among descriptions and quotes is approximate (shorter texts first),
        and an entity whose names hold the words apart but not among the best names of each word
        may come after descriptions (search_counted reads everything)."""
        words = required + optional
        few, more = limit * 2, limit * READ_PER_HIT
        if len(words) > 1:
            found = self._in_one_text(words, allowed, limit, "name_")
            if found is not None:
                return found
        names: dict = {}
        if not optional:
            for scope in ({"texts": False, "names_cap": few},) if len(words) > 1 else \
                    ({"texts": False, "names_cap": few}, {"texts": False, "names_cap": more}, {"texts": False}):
                names = self._candidates(required, [], allowed, scope)
                if len(names) >= limit:
                    return names
        if len(words) > 1:
            found = self._in_one_text(words, allowed, limit - len(names), "text_", set(names))
            if found is not None:
                return {**found, **names}
        if not optional:
            for scope in ({"texts_cap": more}, {"texts_cap": more * 16}):
                candidates = self._candidates(required, [], allowed, scope)
                if len(candidates) >= limit:
                    return {**candidates, **names}
        return None

    def _in_one_text(self, required: list[str], allowed: set[int] | None, limit: int, prefix: str,
                     known: set[int] = frozenset()) -> dict | None:
        """Entities (other than `known`) one of whose names (prefix "name_") or other texts ("text_")
        has every word, found by FTS5 itself (an AND in one table), best first; None when fewer
        than `limit` are found this way (or the words need different tables)."""
        if all(_HAN_RUN.fullmatch(w) for w in required):
            family = "han_grams"    # a longer word as its character pairs, checked whole below
            query = " AND ".join(_phrase(w) if len(w) <= 2 else " AND ".join(_phrase(w[i:i + 2])
                                 for i in range(len(w) - 1)) for w in required)
        elif all(_OTHER_WORD.fullmatch(w) for w in required):
            family = "english"
            query = " AND ".join(_phrase(w) + ("*" if len(w) > 1 else "") for w in required)
        else:
            return None
        held: dict = {}
        exhausted = False
        steps = ((limit * 2, limit * READ_PER_HIT, None) if prefix == "name_" else
                 (10, limit * 2, limit * READ_PER_HIT))    # a quote may be about many entities: few first
        for cap in steps:
            if exhausted:
                break
            table = prefix + family
            limited = "" if cap is None else f" ORDER BY rowid LIMIT {int(cap)}"
            rows = self._db.execute(
                f"SELECT id, body FROM texts WHERE id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?{limited})",
                (query,)).fetchall()
            exhausted = cap is None or len(rows) < cap      # all read: a larger cap would read the same
            texts = [text for text, body in rows if family != "han_grams" or all(w in fold(body) for w in required)]
            for entity, best, text in self._db.execute(
                    "SELECT entity, best, text FROM postings WHERE text IN (SELECT value FROM json_each(?))",
                    (json.dumps(texts),)):
                if (allowed is None or entity in allowed) and entity not in known \
                        and (entity not in held or best < held[entity][0]):
                    held[entity] = (best, text)
            if len(held) >= limit:
                return {entity: (best // SIZE_SCALE, best % SIZE_SCALE, ((text, best // SIZE_SCALE),))
                        for entity, (best, text) in held.items()}
        return None

    def _candidates(self, required: list[str], optional: list[str], allowed: set[int] | None,
                    scope: dict) -> dict[int, tuple[int, int, tuple[int, ...]]]:
        """Entity → (weakest field any word needed, longest of the texts, (best text, field) per word)
        for the entities that have every required word and the most of the optional ones."""
        candidates: dict[int, tuple] | None = None
        for word in required:
            found = self._best_texts(word, scope)
            if candidates is None:
                candidates = {entity: (best // SIZE_SCALE, best % SIZE_SCALE, ((text, best // SIZE_SCALE),))
                              for entity, (best, text) in found.items() if allowed is None or entity in allowed}
            else:
                narrowed = {}
                for entity, (field, size, texts) in candidates.items():
                    other = found.get(entity)
                    if other is not None:
                        best, text = other
                        narrowed[entity] = (max(field, best // SIZE_SCALE), max(size, best % SIZE_SCALE),
                                            texts + ((text, best // SIZE_SCALE),))
                candidates = narrowed
            if not candidates:
                return {}
        if optional:
            # the pieces of a cut Chinese run: the entities that match the most of them
            covered: dict[int, list] = {}
            for word in optional:
                for entity, (best, text) in self._best_texts(word, scope).items():
                    if (candidates is None or entity in candidates) and (allowed is None or entity in allowed):
                        held = covered.get(entity)
                        if held is None:
                            held = covered[entity] = [0, *(candidates[entity] if candidates else (0, 0, ()))]
                        held[0] += 1
                        held[1] = max(held[1], best // SIZE_SCALE)
                        held[2] = max(held[2], best % SIZE_SCALE)
                        held[3] = held[3] + ((text, best // SIZE_SCALE),)
            most = max((held[0] for held in covered.values()), default=0)
            candidates = {entity: tuple(held[1:]) for entity, held in covered.items() if held[0] == most}
        return candidates or {}

    def words(self, text: str) -> tuple[list[str], list[str]]:
        """The words a query is matched by (folded): those required, and the pieces of Chinese runs
        cut as explained above, of which a hit has as many as any other hit."""
        with self._lock:
            return self._words(text)

    def _words(self, text: str) -> tuple[list[str], list[str]]:
        required: list[str] = []
        optional: list[str] = []
        for word in _QUERY_WORD.findall(fold(text)):
            if _HAN_CHAR.match(word) and len(word) > 2 and not self._occurs(word):
                pieces = [p for p in self._cut(word) if self._occurs(p)]
                if len(pieces) > 1:
                    optional.extend(pieces)
                else:
                    required.extend(pieces or [word])     # nothing known: the whole run, which finds nothing
            else:
                required.append(word)
        # English stop words only narrow a query that has other words (the, of, and ...)
        if len(required) + len(optional) > 1 and any(w not in STOPWORDS for w in required + optional):
            required = [w for w in required if w not in STOPWORDS]
        required = list(dict.fromkeys(required))
        return required, [w for w in dict.fromkeys(optional) if w not in required]

    def _best_texts(self, word: str, scope: dict) -> dict[int, tuple[int, int]]:
        """Entity → (best field * SIZE_SCALE + length, the text that has it) over the texts matching a
        word, among the names and (unless scope["texts"] is False) the other texts, at most
        scope["names_cap"] / scope["texts_cap"] of each (the best first)."""
        found = dict(self._best_in(word, "names", scope.get("names_cap")))
        if scope.get("texts", True):
            for entity, (best, text) in self._best_in(word, "texts", scope.get("texts_cap")).items():
                if entity not in found or best < found[entity][0]:
                    found[entity] = (best, text)
        return found

    def _best_in(self, word: str, family: str, cap: int | None) -> dict[int, tuple[int, int]]:
        key = (word, family, cap)
        if key not in self._memo:       # a search reads a word's names again with more texts
            sql, params = _matching_texts(word, names=family == "names", texts=family == "texts",
                                          names_cap=cap, texts_cap=cap)
            names = f" AND best < {(ALTERNATIVE_NAME + 1) * SIZE_SCALE}" if family == "names" else ""
            # SQLite takes a bare column (text) from the row that gives MIN()
            self._memo[key] = {entity: (best, text) for entity, best, text in self._db.execute(
                f"SELECT entity, MIN(best), text FROM postings WHERE text IN ({sql}){names} GROUP BY entity",
                params)}
        return self._memo[key]

    def _occurs(self, word: str) -> bool:
        sql, params = _matching_texts(word, names_cap=1, texts_cap=1)
        return self._db.execute(f"SELECT 1 FROM ({sql}) LIMIT 1", params).fetchone() is not None

    def _cut(self, run: str) -> list[str]:
        """A Chinese run cut into the longest pieces that occur in names, greedily from the left; a
        character of no piece stands alone, unless it only joins words (的, 和 ...)."""
        pieces: list[str] = []
        start = 0
        while start < len(run):
            for end in range(min(len(run), start + MAX_PIECE), start + 1, -1):
                if run[start] in _JOINERS or run[end - 1] in _JOINERS:
                    continue
                if self._db.execute("SELECT 1 FROM vocabulary WHERE piece = ?", (run[start:end],)).fetchone():
                    pieces.append(run[start:end])
                    start = end
                    break
            else:
                if run[start] not in _JOINERS:
                    pieces.append(run[start])
                start += 1
        return pieces

    def _iris(self, entities: list[int]) -> dict[int, tuple[str, str]]:
        return {entity: (iri, kind) for entity, iri, kind in self._db.execute(
            "SELECT id, iri, type FROM entities WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(entities),))}

    def _types(self, entities: list[int]) -> dict[int, tuple[str, ...]]:
        found: dict[int, list[str]] = {}
        for entity, kind in self._db.execute(
                "SELECT entity, type FROM entity_types WHERE entity IN (SELECT value FROM json_each(?)) "
                "ORDER BY entity, type", (json.dumps(entities),)):
            found.setdefault(entity, []).append(kind)
        return {entity: tuple(kinds) for entity, kinds in found.items()}

    def _passages(self, texts: dict[int, tuple], words: list[str], lang: str | None) -> dict[int, tuple]:
        """Per entity, of the texts that matched its words best, the one with the most of the words,
        in the best field, in `lang` if it can, shortest: (body, field, lang)."""
        ids = sorted({text for held in texts.values() for text, _ in held})
        bodies = {text: (body, text_lang) for text, body, text_lang in self._db.execute(
            "SELECT id, body, lang FROM texts WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))}
        chosen = {}
        for entity, held in texts.items():
            options = dict(held)     # text → field
            if len(options) == 1:
                (text, field), = options.items()
                chosen[entity] = (*bodies[text][:1], field, bodies[text][1])
                continue
            def order(item):
                text, field = item
                body, text_lang = bodies[text]
                folded = fold(body)
                covered = sum(word in folded or any(marked for _, marked in highlight(body, [word]))
                              for word in words)
                return -covered, field, text_lang != lang, len(body), body
            text, field = min(options.items(), key=order)
            chosen[entity] = (bodies[text][0], field, bodies[text][1])
        return chosen

    def name_candidates(self, text: str, cap: int = NAME_CANDIDATES) -> list[str] | None:
        """Every entity with a name (preferred, alternative or hidden label) that contains `text`,
        ignoring case, and perhaps a few more: what `label-search` has to look at, found through the
        index instead of a scan of every label. None when the index cannot say (one or two letters
        that are not Chinese, whose trigrams do not exist) or when more than `cap` entities match (a
        scan is then as fast). Folding (case, width, traditional → simplified) only ever adds
        candidates, so the SPARQL query still decides exactly."""
        word = fold(text)
        if len(word) >= 3:
            table, query = "name_trigrams", _phrase(word)
        elif word and all(_HAN_CHAR.match(c) for c in word):
            table, query = "name_han_grams", _phrase(word)
        else:
            return None
        with self._lock:
            rows = self._db.execute(
                f"SELECT DISTINCT e.iri FROM {table} AS t JOIN postings AS p ON p.text = t.rowid "
                f"JOIN entities AS e ON e.id = p.entity WHERE {table} MATCH ? LIMIT ?", (query, cap + 1)).fetchall()
        return None if len(rows) > cap else [row[0] for row in rows]

    def labels(self, iris: Iterable[str], lang: str) -> dict[str, str]:
        """The names the pages show (pages.label): in `lang`, else the other language, else an
        untagged one, else the IRI's last segment; from the index, not the graph (which, read
        through the store of serve --store-dir, is slower to ask)."""
        wanted = sorted({str(iri) for iri in iris})
        found: dict[str, dict] = {}
        with self._lock:
            for iri, label_lang, label in self._db.execute(
                    "SELECT iri, lang, label FROM labels WHERE iri IN (SELECT value FROM json_each(?))",
                    (json.dumps(wanted),)):
                found.setdefault(iri, {})[label_lang] = label
        other = "en" if lang == "zh" else "zh"
        return {iri: (found.get(iri, {}).get(lang) or found.get(iri, {}).get(other) or found.get(iri, {}).get(None)
                      or iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]) for iri in wanted}

    def close(self) -> None:
        self._db.close()


def _matching_texts(word: str, names: bool = True, texts: bool = True, names_cap: int | None = None,
                    texts_cap: int | None = None) -> tuple[str, list]:
    """SQL selecting the ids of the texts a folded query word matches, among the names and (or) the
    other texts, at most so many of each way of matching (the best first), and its parameters."""
    ways: list[tuple[str, str]] = []        # (table family, FTS5 query)
    if len(word) >= 3:
        ways.append(("trigrams", _phrase(word)))
    elif _HAN_CHAR.match(word):
        ways.append(("han_grams", _phrase(word)))
    if _OTHER_WORD.fullmatch(word):
        # one letter: as a word, not as the start of every word that has it
        ways.append(("english", _phrase(word) + ("*" if len(word) > 1 else "")))
    selects: list[str] = []
    params: list = []

    def add(table: str, query: str, cap: int | None) -> None:
        select = f"SELECT rowid FROM {table} WHERE {table} MATCH ?"
        # FTS5 returns rows in rowid order (texts are numbered best first): LIMIT stops it early
        selects.append(select if cap is None else f"SELECT rowid FROM ({select} ORDER BY rowid LIMIT {int(cap)})")
        params.append(query)

    for family, query in ways:
        if names:
            add("name_" + family, query, names_cap)
        if texts:
            add("text_" + family, query, texts_cap)
    if names and word.isascii() and word.isalpha() and len(word) > 1:
        add("pinyin", _phrase(word) + "*", names_cap)
    if not selects:
        return "SELECT NULL WHERE 0", []
    return " UNION ".join(selects), params


def _fill(db: sqlite3.Connection, graph: Graph) -> None:
    """Create and fill the index tables from the graph."""
    db.executescript(SCHEMA)
    db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
    entries = list(_entries(graph))
    # a quote's entity must be one of ours with a type (citations of the dataset's editorial notes are not)
    mentioned = {iri for iri, _, _, _ in entries}
    typed: dict[str, list[str]] = {}
    for subject, kind, _, _ in _pairs(graph, RDF.type):
        if subject in mentioned:
            typed.setdefault(subject, []).append(kind)
    # numbered in the IRIs' order, so that ranking can break ties by number
    entity_ids = {iri: number for number, iri in enumerate(sorted(typed), start=1)}
    # texts numbered best first (by the best field they are in, then shortest): the search reads the
    # matches of a frequent word in that order and stops when it has enough
    best_field: dict[tuple[str, str | None], int] = {}
    for iri, field, value, lang in entries:
        if iri in entity_ids:
            best_field[value, lang] = min(field, best_field.get((value, lang), field))
    text_ids = {key: number for number, key in enumerate(
        sorted(best_field, key=lambda key: (best_field[key], len(key[0]), key[0], key[1] or "")), start=1)}
    name_texts = {text_ids[key] for key, field in best_field.items() if field <= ALTERNATIVE_NAME}
    postings: dict[tuple[int, int], int] = {}
    for iri, field, value, lang in entries:
        entity = entity_ids.get(iri)
        if entity is None:
            continue
        text = text_ids[value, lang]
        best = field * SIZE_SCALE + min(len(value), SIZE_SCALE - 1)
        postings[text, entity] = min(best, postings.get((text, entity), best))
    def shown_type(iri: str) -> str:
        kinds = typed[iri]
        return kinds[0] if len(set(kinds)) == 1 else str(graph.value(URIRef(iri), RDF.type))

    db.executemany("INSERT INTO entities VALUES (?, ?, ?)",
                   ((i, iri, shown_type(iri)) for iri, i in entity_ids.items()))
    labels: dict[tuple[str, str | None], str] = {}
    for iri, field, value, lang in entries:     # skos:prefLabel comes before rdfs:label
        if field == NAME and iri in entity_ids:
            labels.setdefault((iri, lang), value)
    # and the classes' names, ours or not (qb:Observation is named by our ontology)
    for kind in sorted({kind for kinds in typed.values() for kind in kinds} - set(entity_ids)):
        for predicate in (SKOS.prefLabel, RDFS.label):
            for value in graph.objects(URIRef(kind), predicate):
                if isinstance(value, Literal):
                    labels.setdefault((kind, value.language), str(value))
    db.executemany("INSERT INTO labels VALUES (?, ?, ?)", ((iri, lang, value) for (iri, lang), value in labels.items()))
    db.executemany("INSERT INTO entity_types VALUES (?, ?)",
                   ((entity_ids[iri], kind) for iri, kinds in typed.items() for kind in sorted(set(kinds))))
    db.executemany("INSERT INTO postings VALUES (?, ?, ?)",
                   sorted((text, entity, best) for (text, entity), best in postings.items()))
    vocabulary: set[str] = set()
    tables: dict[str, list] = {name: [] for name in FTS_TABLES}
    texts = []
    for (body, lang), text in text_ids.items():
        folded = fold(body)
        is_name = text in name_texts
        texts.append((text, body, lang, _key(body) if is_name else None))
        prefix = "name_" if is_name else "text_"
        tables[prefix + "trigrams"].append((text, folded))
        if _HAN_CHAR.search(folded):
            runs = _HAN_RUN.findall(folded)
            grams = " ".join(_run_grams(run) for run in runs)
            tables[prefix + "han_grams"].append((text, grams))
            if is_name:
                tables["pinyin"].append((text, " ".join(dict.fromkeys(
                    token for run in runs for token in _run_pinyin_tokens(run)))))
                vocabulary.update(runs)     # cut into pieces below, each distinct run once
        if _OTHER_WORD.search(folded):
            tables[prefix + "english"].append((text, folded))
    db.executemany("INSERT INTO texts VALUES (?, ?, ?, ?)", texts)
    for table, rows in tables.items():
        db.executemany(f"INSERT INTO {table}(rowid, {FTS_TABLES[table]}) VALUES (?, ?)", rows)
    pieces = {run[i:j] for run in vocabulary for i in range(len(run))
              for j in range(i + 2, min(len(run), i + MAX_PIECE) + 1)}
    db.executemany("INSERT INTO vocabulary VALUES (?)", ((piece,) for piece in pieces))
    db.executescript(INDEXES)
    for table in FTS_TABLES:
        db.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    db.commit()
    db.execute("ANALYZE")
    db.commit()


def _covers(text: str, word: str) -> bool:
    """Whether a folded query word matches the text (as highlight marks it)."""
    folded = fold(text)
    if (len(word) >= 3 or _HAN_CHAR.match(word)) and word in folded:
        return True
    if not _OTHER_WORD.fullmatch(word):
        return False
    # an English word with the word's stem has the stem in it; pinyin needs Chinese characters
    if _stem(word) not in folded and not (word.isascii() and _HAN_CHAR.search(folded)):
        return False
    return any(marked for _, marked in highlight(text, [word]))


def highlight(text: str, words: list[str]) -> list[tuple[str, bool]]:
    """`text` cut into (segment, matched) pieces for the query's folded words: where a word occurs
    (substring), where an English word has the query word's stem, and the Chinese characters whose
    pinyin or initials spell a Latin word. Plain strings: the template escapes them."""
    folded = fold(text)
    marks = [False] * len(text)

    def mark(start: int, end: int) -> None:
        for i in range(start, min(end, len(marks))):
            marks[i] = True

    for word in words:
        # what the trigrams and character grams match: the word anywhere; a short Latin word is
        # matched as the start of a word instead (below)
        start = folded.find(word) if len(word) >= 3 or _HAN_CHAR.match(word) else -1
        while start >= 0:
            mark(start, start + len(word))
            start = folded.find(word, start + 1)
        if not _LATIN_WORD.fullmatch(word):
            continue
        stemmed = _stem(word)
        for found in _LATIN_WORD.finditer(folded):
            if found.group() == word or (len(word) > 1 and (found.group().startswith(stemmed)
                                                           or _stem(found.group()).startswith(stemmed))):
                mark(found.start(), found.end())
        if word.isalpha() and len(word) > 1:       # ASCII here: pinyin, whole or by initials
            for run in _HAN_RUN.finditer(folded):
                spelled, initials, starts = _spelled(run.group())
                at = initials.find(word)
                while at >= 0:
                    mark(run.start() + at, run.start() + at + len(word))
                    at = initials.find(word, at + 1)
                at = spelled.find(word)
                while at >= 0:
                    if at in starts:        # from the start of a syllable, as the index matches
                        first = starts.index(at)
                        last = first
                        while last < len(starts) and starts[last] < at + len(word):
                            last += 1
                        mark(run.start() + first, run.start() + last)
                    at = spelled.find(word, at + 1)
    pieces: list[tuple[str, bool]] = []
    for char, marked in zip(text, marks):
        if pieces and pieces[-1][1] == marked:
            pieces[-1] = (pieces[-1][0] + char, marked)
        else:
            pieces.append((char, marked))
    return pieces
