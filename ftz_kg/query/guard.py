"""Checks a SPARQL request must pass before anything runs.

A public endpoint refuses what it does not need: updates of any kind, `SERVICE` (Oxigraph, rdflib
and other engines make outbound requests for it), `FROM` / `FROM NAMED` naming anything but our own
graph (engines may load files or URLs), oversized and absurdly nested queries. The checks work on
a token scan that skips strings, IRIs and comments, so they are cheap and never run the query;
vet() remembers their verdicts by the query's shape, which comments and string contents do
not change.

The scan must read the text as the engine does, or a keyword it takes for part of a string, IRI or
comment reaches the engine: comments end at CR as well as LF, IRIs may hold `\\uXXXX` escapes,
prefixed names may hold `\\#` and `\\'`, and Oxigraph matches keywords without a word boundary
(`SERVICEex:x`, `trueSERVICE`, `FROMex:g` are keywords followed by a name).

The same scan admits only the functions of SPARQL 1.1 (its keyword built-ins and the XSD casts):
a store behind `serve --store` may offer far more under a function IRI — Virtuoso's `bif:` and
`sql:` reach its SQL engine, which fetches URLs and writes triples. Virtuoso's `DEFINE` pragmas and
its `bif:`/`sql:` names are refused wherever they appear. And it bounds the shape of a query:
engines evaluate operator chains, property paths and pattern sequences recursively, and Oxigraph
overflows its stack (the process dies of SIGSEGV) on chains a few thousand long, so chains
(MAX_CHAIN), paths (MAX_PATH_STEPS) and nesting (MAX_NESTING) are capped far below that.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ftz_kg.errors import FtzKgError

# The dataset's own graph IRI: FROM <this> (or default-graph-uri=this) is the default graph.
DATASET_GRAPH = "https://w3id.org/ftz-kg/graph"

MAX_QUERY_BYTES = 64 * 1024
MAX_NESTING = 48        # brackets ( { [ and quoted triples << >> open at once
# Operators chained in one expression at one level (`1+1+…`, `a && b && …`) or in a row (`!!!…x`);
# elements chained in one group (triple patterns, UNION/OPTIONAL/MINUS/GRAPH blocks, BIND, FILTER,
# path operators) or in one SELECT / GROUP BY / ORDER BY / HAVING clause. Added up through nested
# brackets, a chain may reach MAX_CHAIN + MAX_NESTING (each enclosing level may add its own item).
# Oxigraph 0.5 (pyoxigraph 0.5.13) on an 8 MiB main-thread stack dies of SIGSEGV at about 2,600
# BIND, MINUS, projections or GROUP BY expressions in a row, 6,600 UNIONs, 7,000 `+` or `*` and
# 9,300 `!`, `&&` or `||`; OPTIONAL blocks, triple patterns and path steps take minutes to plan at
# that length, and overflow a 512 KiB stack where MINUS does (about 155), so about 2,600 too. With
# 448 the engine runs on a quarter of its stack (tests/test_hardening_guard.py).
MAX_CHAIN = 400
# Steps of one property path: each `/` or `|` adds one, through nested parentheses. The engine
# plans a sequence in time growing with the cube of its length (256 steps: about a second) and
# overflows at about 2,600 steps; paths in real queries have a handful.
MAX_PATH_STEPS = 256

_UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
# The tokens that may hold a `#`, a quote or a `<`, read by the scan and by vet()'s memo key
# (_shape_of); each alternative starts with a literal character, which lets the regex engine skip
# to the next candidate without trying at every position.
_COMMENT = r"\#[^\n\r]*"
_STRING = r"""'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*\""""
_IRI = r"""<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"""
# Whitespace before a token is part of its match (one C-level step rather than a failed search at
# every blank); the token itself is the named group that matched. The scan reads the text without
# its trailing whitespace, so that every match succeeds where it starts: a long blank run at the
# end would otherwise be searched again from each of its characters.
_TOKEN = re.compile(r"""
    \s*+(?:
    (?P<comment>""" + _COMMENT + """)
  | (?P<string>""" + _STRING + """)
  | (?P<iri>""" + _IRI + r""")
  | (?P<var>[?$]\w*)
  | (?P<pname>(?:[^\W\d][\w.\-]*)?:(?:[\w.\-:%]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>\S)
    )""", re.X)
_OPAQUE = re.compile(_COMMENT + "|" + _STRING + "|" + _IRI, re.X)

MEMO_ENTRIES = 256          # verdicts vet() keeps (least recently used dropped first)
MEMO_KEY_CHARS = 8 * 1024   # the longest shape kept: 256 of them take at most 8 MiB

# Tokens after which `<` may be the engine's less-than rather than the start of an IRI.
_OPERANDS = {"var", "iri", "string", "pname", "number", "word", "close"}
# Inside such a `<...>`, these let the engine's reading part from ours (a comment, a string, a
# bracket we would not count), so that what we took for an IRI may hide a keyword from us.
_MISREAD = re.compile(r"[#'()\[\]]")


# The function-call keywords of the SPARQL 1.1 grammar (BuiltInCall and Aggregate), upper-cased:
# SPARQL keywords are case-insensitive.
BUILTINS = frozenset("""
    STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE
    ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS
    TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI
    ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE EXISTS
    COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT
""".split())
# Keywords that may stand before `(` where an expression may start, without calling anything.
_KEYWORDS_BEFORE_PAREN = frozenset({"IN", "DISTINCT", "REDUCED", "SELECT", "BY", "ASC", "DESC", "HAVING", "VALUES",
                                    "FILTER", "BIND"})
XSD = "http://www.w3.org/2001/XMLSchema#"
# The XSD datatypes a cast may name (XSD 1.1 built-in datatypes); `xsd:T(x)` casts, it calls nothing.
XSD_CASTS = frozenset("""
    string boolean decimal integer float double dateTime dateTimeStamp date time duration dayTimeDuration
    yearMonthDuration gYear gYearMonth gMonth gMonthDay gDay hexBinary base64Binary anyURI QName NOTATION
    normalizedString token language NMTOKEN NMTOKENS Name NCName ID IDREF IDREFS ENTITY ENTITIES
    nonPositiveInteger negativeInteger long int short byte nonNegativeInteger unsignedLong unsignedInt
    unsignedShort unsignedByte positiveInteger
""".split())
# Virtuoso predeclares `bif:` (its built-in functions) and `sql:` (its SQL procedures), bound to
# the IRI schemes of the same names; `xsd:` it predeclares as XSD.
_VIRTUOSO_PREFIXES = ("bif", "sql")
_VIRTUOSO_NAMESPACES = ("bif:", "sql:", "http://www.openlinksw.com/")
_NOT_ALLOWED_CALL = "only SPARQL 1.1 built-in functions and XSD casts may be called"
# Operators that chain: + - * / (arithmetic and path), ! (not, negated path), && || (each pair
# counted once), | (path alternative), ^ (inverse path; `^^` is a datatype marker, not counted).
_CHAIN_OPERATORS = frozenset("+-*/!&|^")
_GROUP_ITEMS = frozenset({"BIND", "FILTER", "VALUES"})
_RUNS = {"<": re.compile("<+"), ">": re.compile(">+")}
_LANGUAGE_TAG = re.compile(r"@[a-zA-Z]*(?:-[a-zA-Z0-9]+)*")
_IRI_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class Refused(FtzKgError):
    """A request the endpoint will not run; carries the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Checked:
    form: str            # select | ask | construct | describe


def _refuse_service(letters: str) -> None:
    """Any run of letters holding SERVICE: the engine reads `trueSERVICE` as `true SERVICE`."""
    if "SERVICE" in letters.upper():
        raise Refused(400, "SERVICE (federated query) is not allowed on this endpoint")


def _refuse_from() -> None:
    raise Refused(400, f"FROM may only name this dataset's graph <{DATASET_GRAPH}>")


def _opened(brackets: list[str], text: str, previous: tuple[str | None, str]) -> str:
    """What a bracket opens: `(` right after `{` or `)` inside braces is a row of VALUES or a
    collection (terms only); any other `(` may hold an expression, where `<` can mean less-than."""
    if text != "(":
        return text
    enclosing = brackets[-1] if brackets else None
    if enclosing == "list" or (enclosing == "{" and previous[1] in ("{", ")")):
        return "list"
    return "("


def _ambiguous_iri(query: str, start: int, text: str, brackets: list[str], previous: tuple[str | None, str]) -> bool:
    """`<...>` the engine may read as `<<` or as less-than, with a comment, quote or bracket inside."""
    if not _MISREAD.search(text):
        return False
    if query[start - 1:start] == "<":
        return True
    kind, previous_text = previous
    in_expression = bool(brackets) and brackets[-1] == "("
    return in_expression and kind in _OPERANDS and previous_text.upper() != "DISTINCT"


def _iri_value(text: str) -> str:
    """The IRI a `<...>` token names, its `\\uXXXX` / `\\UXXXXXXXX` escapes decoded."""
    def decode(match: re.Match) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):    # beyond Unicode: the engine refuses the query
            return match.group()
    if "\\" not in text:
        return text[1:-1]
    return _IRI_ESCAPE.sub(decode, text[1:-1])


def _refuse_virtuoso(name: str) -> None:
    raise Refused(400, f"{name}: Virtuoso's bif: and sql: names are not allowed (they reach its SQL engine)")


@dataclass(slots=True)
class _Level:
    """The query's top level or one open bracket, as the shape check sees it.

    kind: top; expr (an expression: FILTER(...), BIND(...), arguments, a projection); group (a graph
    pattern's { }); blank (triples in [ ]); list (a collection, or a property path in parentheses);
    data (a VALUES block); template (a CONSTRUCT template: triples to fill in, never evaluated)."""
    kind: str
    clause: str | None = None   # "select" or "modifier": within a SELECT, GROUP BY, ORDER BY or HAVING clause
    values: bool = False        # after VALUES: the next ( or { holds data
    ops: int = 0                # items chained in the current segment (expressions: between commas)
    members: int = 0            # a collection's triples, two per member
    child: int = 0              # the longest chain nested in the current segment
    best: int = 0               # the longest chain of the segments before
    path_like: bool = False     # a list holding a property path rather than a collection
    path: int = 0               # steps (/ and |) of the property path being read
    path_child: int = 0         # the longest path nested in it, in parentheses

    def length(self) -> int:
        """What this level chains by itself, in its current segment."""
        return self.ops if self.path_like else self.ops + self.members

    def chain(self) -> int:
        """The longest chain through this level and the levels nested in it."""
        return max(self.best, self.length() + self.child)


class _Shape:
    """What the scan tracks beyond SERVICE and FROM: where a function may be called (and which),
    the prefixes declared, and how long chains, paths and pattern sequences grow.

    Each level counts the items it chains: operators; in a group, its triple patterns (one per `.`,
    `;` or `,`), blocks, BIND, FILTER and VALUES; in a SELECT, GROUP BY, ORDER BY or HAVING clause,
    its bracketed items. The longest chain nested in a level adds to it: that sum is about the depth
    to which an engine recurses. The triples of a collection or of [ ] join those of the enclosing
    pattern, so they add up rather than nest."""

    def __init__(self, query: str):
        self.query = query
        self.levels = [_Level("top")]
        self.prefixes: dict[str, str | None] = {}   # None: declared twice, differently
        self.naming = False                         # after PREFIX, awaiting the prefix's name
        self.declaring: str | None = None           # the prefix declared, awaiting its IRI
        self.quoted = 0                             # quoted triples << >> open
        self.prev: tuple[str | None, str] = (None, "")
        self.prev2: tuple[str | None, str] = (None, "")
        self.skip_to = 0                            # the end of a language tag, read as one token

    def feed(self, kind: str, text: str, start: int, word: str | None = None) -> None:
        """One token: its kind, text, offset and, for a word, its upper-case form."""
        if self.skip_to and start + len(text) <= self.skip_to:     # wholly inside the tag (what straddles its end is read)
            return
        level = self.levels[-1]
        if kind == "open":
            self._open(text, level)
        elif kind == "close":
            self._close()
        elif kind == "other":
            self._other(text, start, level)
        elif kind == "word":
            self._word(word if word is not None else text.upper(), level)
        elif kind == "pname":
            self._pname(text, level)
        elif kind == "iri":
            self._iri(text, level)
        else:
            self._term(kind, text, level)
        self.prev2, self.prev = self.prev, (kind, text)

    # -- brackets

    def _open(self, text: str, parent: _Level) -> None:
        kind_prev, text_prev = self.prev
        word_prev = text_prev.upper() if kind_prev == "word" else ""
        path_like = False
        if parent.kind in ("data", "template"):
            kind = parent.kind
        elif text == "{":
            parent.clause = None        # SELECT … { and WHERE { end a clause
            self._end_path(parent)
            if parent.values:
                kind, parent.values = "data", False
            elif parent.kind == "top" and word_prev == "CONSTRUCT":
                kind = "template"
            else:
                kind = "group"          # joined, united, optional, a MINUS, an EXISTS … (or the WHERE clause)
                if parent.kind != "top":
                    self._add(parent, 1)
        elif text == "[":
            self._end_path(parent)
            kind = "expr" if parent.kind in ("expr", "top") else "blank"
            if kind == "blank":
                self._add(parent, 1, member=parent.kind == "list")
        else:
            # Oxigraph reads `FILTERex:f(` as FILTER ex:f(
            call = kind_prev in ("iri", "pname", "word") and (
                self._call_position(parent) or (kind_prev != "iri" and "FILTER" in text_prev.split(":")[0].upper()))
            if call:
                self._check_call(kind_prev, text_prev, word_prev)
            if parent.values and word_prev == "VALUES":
                kind = "data"
            elif parent.kind in ("expr", "top") or parent.clause or call or "FILTER" in word_prev \
                    or "BIND" in word_prev:
                kind = "expr"
                if parent.clause:       # one more projection, grouping, ordering or HAVING condition
                    self._add(parent, 1)
            else:
                kind = "list"
                path_like = kind_prev == "other" and text_prev in "/|^!"
                if parent.kind == "list" and not path_like:
                    self._add(parent, 1, member=True)
        self.levels.append(_Level(kind, path_like=path_like))
        self._check_nesting()

    def _close(self) -> None:
        if len(self.levels) == 1:
            return
        child = self.levels.pop()
        parent = self.levels[-1]
        cost = child.chain()
        if child.kind == "list" and child.path_like or child.kind not in ("blank", "list") \
                or parent.kind not in ("group", "blank", "list"):
            if cost > parent.child:     # nested: the longest one counts
                parent.child = cost
                self._check_chain(parent)
        else:                           # a collection's or [ ]'s triples join the enclosing pattern's
            self._add(parent, cost)
        if child.kind == "list" and parent.kind in ("group", "blank", "list"):
            parent.path_child = max(parent.path_child, child.path + child.path_child)
            self._check_path(parent)

    # -- tokens

    def _other(self, text: str, start: int, level: _Level) -> None:
        query = self.query
        if text == "`":
            raise Refused(400, "backquoted expressions (a Virtuoso extension) are not allowed")
        if text == "@":                 # "…"@zh-Hans: a language tag, not the word zh, a minus and Hans
            self.skip_to = _LANGUAGE_TAG.match(query, start).end()
            return
        if text in "<>":
            if query[start - 1:start] != text:      # the first of a run of < or >: each pair is << or >>
                pairs = (_RUNS[text].match(query, start).end() - start) // 2
                self.quoted = self.quoted + pairs if text == "<" else max(self.quoted - pairs, 0)
                self._check_nesting()
            return
        if level.kind in ("data", "template"):
            return
        if text in ",;.":
            if level.kind == "expr":
                if text != ".":         # a new argument (or GROUP_CONCAT's separator): a new segment
                    level.best, level.ops, level.members, level.child = level.chain(), 0, 0, 0
            elif level.kind in ("group", "blank"):
                self._add(level, 1)     # one more triple pattern
                self._end_path(level)
            return
        if text in _CHAIN_OPERATORS:
            if text in "&|" and query[start - 1:start] == text:
                return                  # the second half of && or ||
            if text == "^" and "^" in (query[start - 1:start], query[start + 1:start + 2]):
                return                  # ^^, before a literal's datatype
            if level.kind in ("group", "blank", "list") and text in "/|^!":
                level.path_like = level.kind == "list"
                if text in "/|":
                    level.path += 1
                    self._check_path(level)
            self._add(level, 1)

    def _word(self, word: str, level: _Level) -> None:
        if "DEFINE" in word:
            raise Refused(400, "Virtuoso's DEFINE pragmas are not allowed")
        if word == "PREFIX":
            self.naming = True
        if level.kind in ("data", "template"):
            return
        if word == "SELECT":
            level.clause = "select"
        elif word in ("WHERE", "LIMIT", "OFFSET"):
            level.clause = None
        elif word in ("GROUP", "ORDER", "HAVING"):
            level.clause = "modifier"
        elif word == "VALUES":
            level.clause, level.values = None, True
        if level.kind in ("group", "blank"):
            if word != "A":             # `a` is rdf:type, a step of a path
                self._end_path(level)
            if word in _GROUP_ITEMS:
                self._add(level, 1)
        elif level.kind == "list":
            self._add(level, 1, member=True)

    def _pname(self, text: str, level: _Level) -> None:
        prefix = text.split(":", 1)[0]
        if prefix.lower().endswith(_VIRTUOSO_PREFIXES):
            _refuse_virtuoso(text)
        if self.naming:
            self.naming, self.declaring = False, prefix     # PREFIX name: … awaiting its IRI
            return
        self._term("pname", text, level)

    def _iri(self, text: str, level: _Level) -> None:
        value = _iri_value(text)
        if value.lower().startswith(_VIRTUOSO_NAMESPACES[:2]):
            _refuse_virtuoso(f"<{value}>")
        if self.declaring is not None:
            name, self.declaring = self.declaring, None
            if value.lower().startswith(_VIRTUOSO_NAMESPACES):
                raise Refused(400, f"PREFIX {name}: binds Virtuoso's own namespace <{value}>; not allowed")
            known = self.prefixes.get(name, value)
            self.prefixes[name] = value if known == value else None
            return
        self._term("iri", text, level)

    def _term(self, kind: str, text: str, level: _Level) -> None:
        if level.kind == "list":
            self._add(level, 1, member=True)
        elif level.kind in ("group", "blank") and kind in ("var", "string", "number") and len(text) > 1:
            self._end_path(level)       # a lone `?` is a path modifier, not a variable

    # -- function calls

    def _call_position(self, level: _Level) -> bool:
        """Whether a name before `(` would be called: in an expression, a clause, or after FILTER;
        in a graph pattern it is a predicate followed by a collection (`?s ex:p (1 2)`)."""
        if level.kind in ("expr", "top") or level.clause:
            return True
        kind, text = self.prev2
        return kind == "word" and "FILTER" in text.upper()     # `trueFILTER` too: Oxigraph reads true FILTER

    def _check_call(self, kind: str, text: str, word: str) -> None:
        if kind == "word":
            if word in BUILTINS or word in _KEYWORDS_BEFORE_PAREN:
                return
            raise Refused(400, f"function {text}() is not a SPARQL 1.1 built-in: {_NOT_ALLOWED_CALL}")
        if kind == "iri":
            iri: str | None = _iri_value(text)
        else:
            prefix, _, local = text.partition(":")
            namespace = self.prefixes[prefix] if prefix in self.prefixes else XSD if prefix == "xsd" else None
            iri = namespace + re.sub(r"\\(.)", r"\1", local) if namespace is not None else None
        if iri is not None and iri.startswith(XSD) and iri[len(XSD):] in XSD_CASTS:
            return
        shown = f"<{iri}>" if iri is not None else text
        raise Refused(400, f"custom function {shown} is not supported: {_NOT_ALLOWED_CALL}")

    # -- limits

    def _add(self, level: _Level, count: int, member: bool = False) -> None:
        """Chain `count` more items at `level`; a collection member stands for two triples."""
        if member:
            level.members += 2 * count
        else:
            level.ops += count
        self._check_chain(level)

    def _check_chain(self, level: _Level) -> None:
        if level.length() > MAX_CHAIN:
            if level.kind == "expr":
                raise Refused(400, f"expression too long: more than {MAX_CHAIN} operators chained at one level "
                                   f"or in a row")
            raise Refused(400, f"query too long: more than {MAX_CHAIN} triple patterns, blocks, operators or "
                               f"clause items chained in one group or clause")
        if level.length() + level.child > MAX_CHAIN + MAX_NESTING:
            raise Refused(400, f"query too deep: more than {MAX_CHAIN + MAX_NESTING} operators, patterns or items "
                               f"chained through nested brackets")

    @staticmethod
    def _end_path(level: _Level) -> None:
        level.path = level.path_child = 0

    @staticmethod
    def _check_path(level: _Level) -> None:
        if level.path + level.path_child >= MAX_PATH_STEPS:
            raise Refused(400, f"property path longer than {MAX_PATH_STEPS} steps")

    def _check_nesting(self) -> None:
        if len(self.levels) - 1 + self.quoted > MAX_NESTING:
            raise Refused(400, f"query nested deeper than {MAX_NESTING} levels")


def _check_text(query: str) -> None:
    """What the query's text must be before it is read: Unicode, within the size limit, not blank."""
    try:
        size = len(query.encode("utf-8"))
    except UnicodeEncodeError:   # lone surrogates: no engine can take them
        raise Refused(400, "query is not valid Unicode text") from None
    if size > MAX_QUERY_BYTES:
        raise Refused(413, f"query longer than {MAX_QUERY_BYTES} bytes")
    if not query.strip():
        raise Refused(400, "empty query")


def vet(query: str) -> Checked:
    """check_query's verdict, remembered by the query's shape: its text without comments and with
    each string's content replaced (_shape_of). The checks read neither, so queries that differ
    only there (the same question asked with another literal, or another comment) share a verdict,
    and the checks (0.2-0.5 ms on a canned query) run once per shape. A query with a backslash is
    checked in full: an escape may hide a `#` or a quote in a name."""
    if "\\" in query:
        return check_query(query)
    _check_text(query)
    shape = _shape_of(query)
    if len(shape) > MEMO_KEY_CHARS or not shape.strip():    # too large to keep, or comments alone
        return check_query(query)
    verdict = _verdict(shape)
    if isinstance(verdict, Checked):
        return verdict
    raise Refused(*verdict)


@functools.lru_cache(maxsize=MEMO_ENTRIES)
def _verdict(shape: str) -> Checked | tuple[int, str]:
    try:
        return check_query(shape)
    except Refused as refused:
        return (refused.status, str(refused))


def _shape_of(query: str) -> str:
    """The query without its comments, each string's content replaced by a blank or a line break.
    Comments, strings and IRIs are matched where the scan (_TOKEN) matches them: no other token of a
    query without backslashes holds a `#`, a quote or a `<`, and a comment ends before a line break,
    so that what follows it still follows a line break."""
    return _OPAQUE.sub(_stand_in, query)


def _stand_in(match: re.Match) -> str:
    text = match.group()
    first = text[0]
    if first == "#":
        return ""
    if first == "<":
        return text
    # The content becomes a blank (short strings) or a line break (long ones, which may hold line
    # breaks): what the scan tries from an earlier `<` or lone quote and fails over the content
    # fails over its stand-in too (an IRI stops at either, a string begun at a lone quote only at
    # a line break, and the stand-in holds no quote that would close it).
    if text[:3] in ("'''", '"""'):     # only a long string starts with three quotes
        return text[:3] + "\n" + text[:3]
    return first + " " + first


def check_query(query: str) -> Checked:
    """Vet a query's text; returns its form or raises Refused."""
    _check_text(query)
    brackets: list[str] = []
    form = None
    previous: tuple[str | None, str] = (None, "")   # the last token but comments: (kind, text)
    dataset_clause = None   # after FROM: "from", then "named" after FROM NAMED
    shape = _Shape(query)
    for match in _TOKEN.finditer(query.rstrip()):
        kind = match.lastgroup
        if kind == "comment":
            continue
        text = match[kind]
        start = match.start(kind)
        word = text.upper() if kind == "word" else None
        if dataset_clause is not None:
            if dataset_clause == "from" and word == "NAMED":
                dataset_clause = "named"
                previous = (kind, text)
                continue
            if kind != "iri" or text[1:-1] != DATASET_GRAPH:
                _refuse_from()
            dataset_clause = None
        if kind == "open":
            brackets.append(_opened(brackets, text, previous))
            if len(brackets) > MAX_NESTING:
                raise Refused(400, f"query nested deeper than {MAX_NESTING} levels")
        elif kind == "close":
            if brackets:
                brackets.pop()
        elif kind == "iri" and _ambiguous_iri(query, start, text, brackets, previous):
            raise Refused(400, "ambiguous '<': put a space after '<' when comparing, and write # ' ( ) [ ] "
                               "inside IRIs as \\u0023 \\u0027 \\u0028 \\u0029 \\u005B \\u005D")
        elif kind == "pname":
            prefix = text.split(":", 1)[0]
            _refuse_service(prefix)
            if "FROM" in prefix.upper():
                _refuse_from()
        elif kind == "word":
            _refuse_service(word)
            if word == "FROM":
                dataset_clause = "from"
            elif "FROM" in word:
                _refuse_from()
            if form is None and word in _UPDATE_KEYWORDS and previous[1].upper() not in ("PREFIX", "BASE"):
                raise Refused(403, "this endpoint is read-only: SPARQL updates are refused")
            if form is None and word in _FORMS:
                form = word.lower()
        shape.feed(kind, text, start, word)
        previous = (kind, text)
    if dataset_clause is not None:
        _refuse_from()
    if form is None:
        raise Refused(400, "not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE expected)")
    return Checked(form)


def check_dataset(default_graphs: list[str], named_graphs: list[str]) -> None:
    """The protocol's default-graph-uri / named-graph-uri: only our own graph, never ignored."""
    for iri in default_graphs:
        if iri != DATASET_GRAPH:
            raise Refused(400, f"default-graph-uri must be <{DATASET_GRAPH}>; this endpoint serves one dataset")
    for iri in named_graphs:
        if iri != DATASET_GRAPH:
            raise Refused(400, f"named-graph-uri must be <{DATASET_GRAPH}>; this endpoint serves one dataset")
