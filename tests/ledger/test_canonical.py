"""Canonical JSON: our fast path must be byte-for-byte the reference RFC 8785 encoder."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from goldtrace.errors import InvalidInput
from goldtrace.ledger.canonical import canonical, is_canonical, parse_canonical, parse_strict

SAFE_INT = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20
)  # any code point but lone surrogates
KEYS = st.text(alphabet=st.characters(max_codepoint=127), max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | SAFE_INT | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)


def nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {unicodedata.normalize("NFC", k): nfc(v) for k, v in value.items()}
    return value


@settings(max_examples=400)
@given(JSON)
def test_fast_path_equals_the_reference_encoder(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(nfc(value))


@given(st.dictionaries(st.text(max_size=6), SAFE_INT, max_size=5))
def test_non_ascii_keys_take_the_reference_path(value: dict[str, int]) -> None:
    try:
        expected = rfc8785.dumps(nfc(value))
    except Exception:  # lone surrogates: both must refuse
        with pytest.raises(InvalidInput):
            canonical(value)
        return
    if len({unicodedata.normalize("NFC", k) for k in value}) == len(value):
        assert canonical(value) == expected


ANY_KEYS_JSON = st.recursive(
    st.none() | SAFE_INT | TEXT,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(TEXT.filter(lambda k: len(k) <= 6), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(ANY_KEYS_JSON)
def test_keys_anywhere_in_the_value_choose_the_path(value: Any) -> None:
    """Whatever keys a value holds, at any depth, the bytes are the reference encoder's: a key
    deep inside lists and objects that is not ASCII after NFC must send the whole value there."""
    try:
        got = canonical(value)
    except InvalidInput as exc:
        assert exc.code == "duplicate_key"  # two keys of one object with the same NFC
        return
    assert got == rfc8785.dumps(nfc(value))


@pytest.mark.parametrize(
    "value",
    [
        {"a": [{"\u212a": 1, "J": 2}]},  # NFC makes the KELVIN SIGN key ASCII "K"
        {"a": [1, {"z": {"\u00e9": 1, "\U0001f600": 2, "\uffff": 3}}]},  # UTF-16 order differs
    ],
)
def test_nested_keys_after_normalisation(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(nfc(value))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None, "ñ"]}, b'{"a":[true,null,"\xc3\xb1"],"b":1}'),
        ({"t": "tab\there\u0001"}, b'{"t":"tab\\there\\u0001"}'),
        ({"q": 'say "hi" \\'}, b'{"q":"say \\"hi\\" \\\\"}'),
        ({"n": "Nun\u0303oa"}, b'{"n":"Nu\xc3\xb1oa"}'),
    ],
)
def test_known_encodings(value: Any, expected: bytes) -> None:
    assert canonical(value) == expected


@pytest.mark.parametrize("bad", [{"x": 1.5}, {"x": 2**53}, {"x": "\ud800"}, {"x": object()}])
def test_what_canonical_json_cannot_say_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidInput):
        canonical(bad)


@pytest.mark.parametrize("data", [b'{"a":1,"a":2}', b'{"a":1.0}', b"NaN", b'{"a":', b"[1,2"])
def test_strict_parsing_refuses_duplicates_floats_and_garbage(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_strict(data)


def test_is_canonical_recognises_only_exact_bytes() -> None:
    assert is_canonical(b'{"a":1,"b":2}')
    assert not is_canonical(b'{"b":2,"a":1}')
    assert not is_canonical(b'{"a": 1}')


def reference_is_canonical(data: bytes) -> bool:
    """The definition ``parse_canonical`` and ``is_canonical`` must agree with."""
    try:
        return canonical(parse_strict(data)) == data
    except InvalidInput:
        return False


def assert_agrees_with_reference(data: bytes) -> None:
    try:
        expected = reference_is_canonical(data)
    except RecursionError:  # the reference gives up on deep nesting; the fast check must not crash
        assert isinstance(is_canonical(data), bool)
        return
    assert is_canonical(data) == expected, data
    if expected:
        assert parse_canonical(data) == parse_strict(data)
    else:
        with pytest.raises(InvalidInput):
            parse_canonical(data)


def edited(data: bytes, position: int, edit: int, byte: int) -> bytes:
    """``data`` with one byte flipped, inserted or deleted at ``position``."""
    at = position % (len(data) + 1)
    if edit == 0 and at < len(data):
        return data[:at] + bytes([data[at] ^ (byte or 1)]) + data[at + 1 :]
    if edit == 1:
        return data[:at] + bytes([byte]) + data[at:]
    return data[:at] + data[at + 1 :]


@settings(max_examples=400)
@given(JSON, st.integers(min_value=0), st.integers(0, 2), st.integers(0, 255))
def test_parse_canonical_agrees_with_the_reference_on_edited_encodings(
    value: Any, position: int, edit: int, byte: int
) -> None:
    data = canonical(value)
    assert_agrees_with_reference(data)
    assert_agrees_with_reference(edited(data, position, edit, byte))


@settings(max_examples=300)
@given(JSON, st.booleans(), st.booleans(), st.sampled_from([(",", ":"), (", ", ": ")]))
def test_parse_canonical_agrees_with_the_reference_on_other_encoders(
    value: Any, ensure_ascii: bool, sort_keys: bool, separators: tuple[str, str]
) -> None:
    text = json.dumps(value, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=separators)
    assert_agrees_with_reference(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":1}',  # duplicate keys collapse on parsing
        b'{"a":9007199254740991}',
        b'{"a":9007199254740992}',
        b'{"a":-9007199254740992}',
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":-0}',
        b'"\\u212a"',  # KELVIN SIGN: its NFC is ASCII "K", escaped it is not canonical
        b'"K"',
        '"\u212a"'.encode(),
        '"e\u0301"'.encode(),  # not NFC
        '"\u00e9"'.encode(),
        '{"\u00e9":1,"e\u0301":2}'.encode(),  # one key after NFC
        b'"\\u00e9"',
        b'"\\ud800"',
        b'"\xed\xa0\x80"',  # an encoded surrogate: not UTF-8
        b'"\\u001f"',
        b'"\\u001F"',
        b'"\x7f"',
        b"\xef\xbb\xbf{}",  # UTF-8 byte order mark
        b" {}",
        b"{} ",
        b"{}",
        b"[]",
        b"null",
        b"",
        b"9007199254740991",  # numbers alone, at and past the safe range
        b"9007199254740992",
        b"-9007199254740992",
        b"123456789012345",
        b"1234567890123456",
        b"[1,9007199254740993]",
        b'{"a":{"b":[12345678901234567890]}}',
        b'"1234567890123456789"',  # sixteen digits in a string: canonical all the same
        b'{"a":1.5}',  # a fraction re-encodes to itself, and is still refused
        b"[1E3]",
        b'{"a":1,"a":2}',
        b'"\\/"',
        b'"/"',
        b'"\\t"',
        b'"\\u0009"',
        b'"\\u007f"',
        b"[" * 600 + b"]" * 600,
        b"[" * 5000 + b"]" * 5000,
        '{"a":"ñ","b":[true,false,null]}'.encode(),
    ],
)
def test_parse_canonical_agrees_with_the_reference_on_edge_cases(data: bytes) -> None:
    assert_agrees_with_reference(data)


def ascii_encodings(char: str) -> list[bytes]:
    """Every way JSON can write ``char`` in a string: as it is, escaped in hex in either case, and
    with its short escape where it has one."""
    code = ord(char)
    ways = [b'"%c"' % code, b'"\\u%04x"' % code, b'"\\u%04X"' % code]
    for short in b'"\\/bfnrt':
        if json.loads(b'"\\%c"' % short) == char:
            ways.append(b'"\\%c"' % short)
    return ways


@pytest.mark.parametrize("code", range(128))
def test_every_ascii_character_has_exactly_one_canonical_encoding(code: int) -> None:
    """Strings, keys and the text around them: each written every way JSON allows."""
    char = chr(code)
    for way in ascii_encodings(char):
        for data in (way, b"[" + way + b",1]", b"{" + way + b":" + way + b"}"):
            assert_agrees_with_reference(data)
    accepted = [way for way in ascii_encodings(char) if is_canonical(way)]
    assert accepted == [rfc8785.dumps(char)] * len(accepted) and accepted


@settings(max_examples=300)
@given(
    st.recursive(
        st.integers(min_value=-(2**60), max_value=2**60)
        | st.text(st.characters(max_codepoint=127)),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_integers_of_any_size_are_canonical_only_in_the_safe_range(value: Any) -> None:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert_agrees_with_reference(data)
