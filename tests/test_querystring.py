"""The endpoint's query-string parser answers as urllib's parse_qs does (strict UTF-8), on
generated strings and on the cases where the fast path would go wrong if it were taken."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftz_kg.web import querystring


def _reference(raw: bytes):
    try:
        return parse_qs(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return UnicodeDecodeError


def _ours(raw: bytes):
    try:
        return querystring.parse(raw)
    except UnicodeDecodeError:
        return UnicodeDecodeError


# the characters that mean something to either decoder, and some that do not
_ALPHABET = st.sampled_from(list("%=&+;#?aZ09fF_-. \r\n") + ["%3D", "%25", "%2B", "%26", "%e4%b8%ad", "%FF",
                                                               "%C3", "%c3%a9", "=3D", "==", "%%", "%4", "中"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_ALPHABET, max_size=24).map("".join))
def test_same_as_parse_qs_on_generated_strings(text):
    raw = text.encode("utf-8")
    assert _ours(raw) == _reference(raw)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40))
def test_same_as_parse_qs_on_any_bytes(raw):
    assert _ours(raw) == _reference(raw)


@pytest.mark.parametrize("raw, expected", [
    # written out by hand: what a client sending these means
    (b"query=" + quote("SELECT * { ?s ?p '中=%' }", safe="").encode(), {"query": ["SELECT * { ?s ?p '中=%' }"]}),
    (b"query=a+b%2Bc", {"query": ["a b+c"]}),
    (b"query=x%3Dy=z", {"query": ["x=y=z"]}),         # a literal = after the first stays itself
    (b"query=%=3D", {"query": ["%=3D"]}),              # a stray % leaves everything literal
    (b"query=100%", {"query": ["100%"]}),
    (b"a&&b=&=c", {"a": [""], "b": [""], "": ["c"]}),
    (b"query=1&query=2", {"query": ["1", "2"]}),
])
def test_cases_written_out(raw, expected):
    assert querystring.parse(raw) == expected


@pytest.mark.parametrize("raw", [b"query=%FF", b"query=%e4%b8", b"query=\xff"])
def test_not_utf8_is_refused(raw):
    with pytest.raises(UnicodeDecodeError):
        querystring.parse(raw)
