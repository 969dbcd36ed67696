"""Property-based tests (hypothesis) of the two parsers that take strings from anyone: the canned-query
parameter binder and the HTTP Accept parser.

Binder: whatever string is given for whatever parameter of whatever canned query, `bind` either raises
ParameterError naming that parameter, or returns a query that parses and runs on the embedded store
with the value confined to its own term; label-search answers exactly the entities one of whose labels
contains the text. Accept: `negotiate` never raises, answers an offered type or None, never a type
refused with q=0, and a plain offered type is always chosen.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ftz_kg.web import conneg
from ftz_kg.query.binding import ParameterError, bind, where_brace, with_values
from ftz_kg.query.catalogue import Catalogue
from ftz_kg.query.store import GraphResult, OxigraphEngine, SelectResult

pytestmark = pytest.mark.hardening

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CATALOGUE = Catalogue.load()
QUERY_PARAMS = [(q.name, p.name) for q in CATALOGUE for p in q.params]
BASE = "https://w3id.org/ftz-kg/"

# Pieces that try to leave a SPARQL term: quotes of both kinds (and tripled), the \u0022 escape that
# SPARQL decodes before parsing, braces, comments, IRI brackets, newlines, backslashes, keywords.
HOSTILE = ['"', "'", '"""', "'''", "\\u0022", "\\U00000022", "\\", "\\\\", "{", "}", "#", "<", ">", "\n", "\r",
           "\t", "\x00", "\x07", " ", ".", ";", ",", "?s", "$o", "@en", "^^", "<http://127.0.0.1:9/x>",
           "SERVICE", "UNION", "FILTER", "LOAD", "file:///etc/passwd", "http://127.0.0.1:9/x", "并联", "Sichuan",
           "四川", "zones-3", "https://w3id.org/ftz-kg/zone/sichuan", "6", "-1", "+7", "0" * 5]
hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=4)), max_size=10).map("".join),
)


@pytest.fixture(scope="module")
def engine(graph):
    return OxigraphEngine(graph)


@pytest.fixture(scope="module")
def labels(graph) -> dict[str, list[str]]:
    """Every instance of an ftz: class (what label-search searches; ontology terms are labelled too)
    with its preferred and alternative labels, read straight from the graph."""
    instances = {s for s, cls in graph.subject_objects(RDF.type) if str(cls).startswith(BASE + "def#")}
    found: dict[str, list[str]] = {}
    for predicate in (SKOS.prefLabel, SKOS.altLabel):
        for entity, label in graph.subject_objects(predicate):
            if entity in instances:
                found.setdefault(str(entity), []).append(str(label))
    return found


# ---------------------------------------------------------------- the parameter binder

@FUZZ
@given(data=st.data())
def test_any_value_for_any_parameter_binds_as_one_term_or_is_refused(engine, data):
    name, param = data.draw(st.sampled_from(QUERY_PARAMS), label="query, parameter")
    value = data.draw(hostile_text, label="value")
    query = CATALOGUE.get(name)
    values = {**query.example_values(), param: value}
    try:
        text = bind(query, values, engine)
    except ParameterError as error:
        assert error.parameter == param
        assert query.param(param).enumerate or query.param(param).type == "integer"
        return
    # the query around the inserted VALUES block is the catalogue's text, unchanged ...
    at = where_brace(query.text)
    assert text.startswith(query.text[:at]) and text.endswith(query.text[at:])
    block = text[at:len(text) - len(query.text) + at]
    assert block.lstrip().startswith("VALUES (") and block.rstrip().endswith(") }")
    # ... and it parses and runs (QueryError here would mean the value broke out of its term)
    result = engine.query(text)
    assert isinstance(result, (SelectResult, GraphResult))


@FUZZ
@given(value=hostile_text)
@example(value='x" } UNION { ?s ?p ?o } #')
@example(value="\\u0022 } #")
@example(value="a\nb\r\"c\"\\")
def test_a_string_value_comes_back_exactly_as_given(engine, value):
    """The strongest form of "cannot leave its term": the store reads back the very same string."""
    text = with_values("SELECT ?v WHERE { }", {"v": Literal(value)})
    assert engine.query(text).rows == [(Literal(value),)]


@FUZZ
@given(value=hostile_text)
@example(value="http://127.0.0.1:9/x>")
@example(value="http://x\n")
def test_an_iri_value_names_that_iri_or_stays_a_literal(engine, value):
    """describe's `iri` parameter takes any IRI: a value that is one comes back as that IRI;
    anything else is a literal, which matches nothing."""
    text = bind(CATALOGUE.get("describe"), {"iri": value}, engine)
    result = engine.query(text)
    assert isinstance(result, GraphResult)
    mentioned = {str(term) for triple in result.graph for term in triple if isinstance(term, URIRef)}
    if mentioned:
        assert value in mentioned and value.startswith(BASE), (value, sorted(mentioned)[:5])


LABEL_CHARS = "".join(sorted({"并", "联", "审", "批", "自", "贸", "区", "四", "川", "“", "”", "（", "）",
                              "a", "e", "i", "o", "n", "r", "s", "t", "P", "Z", "F", "T", "-", " ", "(", ")"}))
needle = st.one_of(st.text(alphabet=LABEL_CHARS + "\"'{}#<>\\\n", max_size=6),
                   st.sampled_from(["并联", "parallel", "PARALLEL", "Sichuan", "四川", "Bill of Lading", '"',
                                    "“", "}", "#", "\\", "\n", "\\u0022", "并联\"", "'"]))


@FUZZ
@given(text=needle)
@example(text='"')            # labels such as "Through bill of lading" model … contain ASCII quotes
@example(text="}")            # no label contains a brace
def test_label_search_returns_exactly_the_entities_whose_labels_contain_the_text(engine, labels, text):
    result = engine.query(bind(CATALOGUE.get("label-search"), {"text": text}, engine))
    found = {str(row[0]) for row in result.rows}
    expected = {entity for entity, names in labels.items() if any(text.lower() in n.lower() for n in names)}
    assert found == expected


def test_label_search_hand_checked_answers(engine):
    def search(text):
        result = engine.query(bind(CATALOGUE.get("label-search"), {"text": text}, engine))
        return {str(row[0]) for row in result.rows}

    assert BASE + "measure/sea-rail-through-bill-of-lading" in search('"through bill')
    assert BASE + "zone/sichuan" in search("SICHUAN")
    assert search("}") == set()
    assert search('" } UNION { ?entity ?p ?o } #') == set()
    assert search("file:///etc/passwd") == set()


@pytest.mark.parametrize("value, message", [
    ("9" * 5000, "parameter 'number' expects an integer; got '9999"),   # int() would raise ValueError
    ("6\n", "parameter 'number' expects an integer; got '6\\n'"),       # `$` matched before the newline
    ("\udcff", "parameter 'number' is not valid UTF-8 text"),           # a non-UTF-8 byte in argv
], ids=["5000-digits", "trailing-newline", "not-utf8"])
def test_integer_parameter_refuses_what_int_would_choke_on(engine, value, message):
    with pytest.raises(ParameterError) as raised:
        bind(CATALOGUE.get("zones-in-batch"), {"number": value}, engine)
    assert str(raised.value).startswith(message)
    assert len(str(raised.value)) < 200   # one line, not the value echoed back


def test_text_that_is_not_utf8_is_a_parameter_error_not_a_store_failure(engine):
    with pytest.raises(ParameterError, match="parameter 'text' is not valid UTF-8 text"):
        bind(CATALOGUE.get("label-search"), {"text": "abc\udcff"}, engine)


# ---------------------------------------------------------------- the Accept parser

OFFERS = [list(conneg.SELECT_ORDER), list(conneg.GRAPH_ORDER), ["text/html", "text/turtle", "application/ld+json"]]
ALL_TYPES = sorted({t for offer in OFFERS for t in offer})
Q_VALUES = ["1", "0.5", "0.001", "1.0", ".5", "0.9", "2", "-1", "abc", "", "nan", "inf", "1e-3", "0.5000"]
media = st.one_of(st.sampled_from(ALL_TYPES + ["*/*", "*", "text/*", "application/*", "image/png", "*/turtle",
                                               "text/", "/", "", ";", "TEXT/TURTLE"]),
                  st.text(max_size=12))
param = st.one_of(st.sampled_from(["q=" + q for q in Q_VALUES] + ["charset=utf-8", "q", "level=1", 'x="a,b"']),
                  st.text(max_size=8))
accept_range = st.tuples(media, st.lists(param, max_size=3))


def _render(ranges, spaces=" ") -> str:
    return ("," + spaces).join(";".join([m, *ps]) for m, ps in ranges)


@settings(max_examples=300, deadline=None)
@given(header=st.one_of(st.none(), st.text(), st.lists(accept_range, max_size=6).map(_render)),
       offered=st.sampled_from(OFFERS))
def test_negotiate_never_raises_and_answers_an_offered_type_or_none(header, offered):
    chosen = conneg.negotiate(header, offered)
    assert chosen is None or chosen in offered


@settings(max_examples=300, deadline=None)
@given(data=st.data(), offered=st.sampled_from(OFFERS), others=st.lists(accept_range, max_size=5),
       zero=st.sampled_from(["q=0", "q=0.0", "q=0.000", " q = 0 ", "Q=0"]))
def test_a_type_refused_with_q0_is_never_chosen(data, offered, others, zero):
    refused = data.draw(st.sampled_from(offered), label="refused")
    spelled = data.draw(st.sampled_from([refused, refused.upper(), f" {refused} "]), label="spelled")
    # the other ranges may say anything (wildcards included) except name the refused type itself
    others = [(m, ps) for m, ps in others if m.strip().lower() != refused]
    position = data.draw(st.integers(0, len(others)), label="position")
    ranges = others[:position] + [(spelled, [zero])] + others[position:]
    assert conneg.negotiate(_render(ranges), offered) != refused


@settings(max_examples=300, deadline=None)
@given(data=st.data(), offered=st.sampled_from(OFFERS),
       noise=st.lists(st.sampled_from(["image/png", "text/plain;q=0.9", "application/xml;q=0.1", "video/*",
                                       "junk", ";;", "q=0", ""]), max_size=4))
def test_a_plain_offered_type_is_chosen(data, offered, noise):
    wanted = data.draw(st.sampled_from(offered), label="wanted")
    spelled = data.draw(st.sampled_from([wanted, wanted.upper(), f"  {wanted}  ", f"{wanted};charset=utf-8",
                                         f"{wanted};q=1", f"{wanted} ; q=0.7"]), label="spelled")
    header = ", ".join([*noise, spelled])
    assert conneg.negotiate(header, offered) == wanted


@settings(max_examples=200, deadline=None)
@given(data=st.data(), offered=st.sampled_from(OFFERS),
       qs=st.tuples(st.integers(1, 999), st.integers(1, 999)).filter(lambda qs: qs[0] != qs[1]))
def test_the_higher_q_wins(data, offered, qs):
    first, second = data.draw(st.permutations(offered), label="order")[:2]
    header = f"{first};q=0.{qs[0]:03d}, {second};q=0.{qs[1]:03d}"
    assert conneg.negotiate(header, offered) == (first if qs[0] > qs[1] else second)


@pytest.mark.parametrize("header, offered, expected", [
    ("*/*;q=0", ["text/turtle"], None),
    ("text/*;q=0, */*", ["text/turtle", "application/ld+json"], "application/ld+json"),
    ("text/turtle;q=0, text/*", ["text/turtle", "text/html"], "text/html"),
    ("text/turtle;q=nan", ["text/turtle"], None),           # not a qvalue: not acceptable, like q=abc
    ("text/turtle;q=abc", ["text/turtle"], None),
    ("text/turtle;q=2", ["text/turtle"], "text/turtle"),
    ("", ["text/turtle", "text/html"], "text/turtle"),
    (None, ["text/html", "text/turtle"], "text/html"),
    ("\x00\udcff,,;;==", ["text/turtle"], None),
])
def test_negotiate_hand_checked(header, offered, expected):
    assert conneg.negotiate(header, offered) == expected


def test_fuzz_strategies_reach_the_interesting_inputs():
    """Guard against a strategy that quietly stops generating hostile values."""
    assert any(re.search(r"[\"'{}#<>\n\\]", h) for h in HOSTILE)
    assert len(QUERY_PARAMS) >= 40 and ("label-search", "text") in QUERY_PARAMS
