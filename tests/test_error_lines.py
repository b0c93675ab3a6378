"""Every message that quotes what a person or a client wrote stays one printable line of bounded
length: ``single_line`` (a whole message), ``quoted`` (a value inside one, ``repr``-like, so
that it can be read back exactly when it was not cut) and ``named`` (a file's name or path)."""

from __future__ import annotations

import ast

from hypothesis import example, given
from hypothesis import strategies as st

from hub.errors import MESSAGE_LIMIT, NAME_LIMIT, ClickerError, named, quoted, single_line

# Text as hostile as text gets: every code point (lone surrogates included), with the line
# breaks, controls and format characters that break a terminal or a log weighted in.
NASTY = st.sampled_from(list("\n\r\x00\x1b\x07\t\x0b\x0c\x1c\x85\u2028\u2029\u202e\u200b\ufeff\\'\" é"))
TEXT = st.lists(st.one_of(st.characters(), NASTY), max_size=200).map("".join)


def is_one_printable_line(text: str) -> bool:
    return len(text.splitlines()) <= 1 and all(ch.isprintable() for ch in text)


@given(text=TEXT, limit=st.integers(10, 600))
@example(text="\n: not JSON: Expecting value at line 2, column 1", limit=MESSAGE_LIMIT)
@example(text="a" * 10_000_000, limit=MESSAGE_LIMIT)
def test_single_line_is_one_printable_bounded_line(text, limit):
    line = single_line(text, limit)
    assert is_one_printable_line(line) and len(line) <= limit
    if len(text) <= limit and is_one_printable_line(text) and text == text.strip():
        assert line == text  # an ordinary message goes through untouched


@given(value=TEXT, limit=st.integers(8, 100))
@example(value="\n", limit=60)
@example(value="x" * 10_000_000, limit=60)
def test_quoted_reads_back_exactly_or_says_it_was_cut(value, limit):
    shown = quoted(value, limit)
    assert is_one_printable_line(shown)
    body, cut, rest = shown.partition("'… (")
    if cut:  # bounded, and what is shown is the value's beginning, its length said
        assert len(body) + 1 <= limit and rest == f"{len(value):,} characters)"
        assert value.startswith(ast.literal_eval(body + "'"))
    else:
        assert len(shown) <= limit and ast.literal_eval(shown) == value


@given(name=TEXT)
@example(name="\n")
@example(name="réunion du 12 mars.csv")
def test_named_shows_a_plain_name_as_it_is_and_any_other_quoted(name):
    shown = named(name)
    assert is_one_printable_line(shown) and named(shown) == shown  # and it can be named again
    plain = 0 < len(name) <= NAME_LIMIT and name == name.strip() and all(c.isprintable() for c in name)
    assert (shown == name) == plain


@given(text=TEXT)
def test_every_clicker_error_is_one_bounded_line(text):
    message = str(ClickerError(f"roster.json: {text}"))
    assert is_one_printable_line(message) and len(message) <= MESSAGE_LIMIT
