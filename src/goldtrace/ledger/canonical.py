"""Canonical JSON (RFC 8785) and strict JSON parsing for ledger bytes.

Event bodies are hashed over their RFC 8785 bytes. Two inputs that mean the same thing must produce the
same bytes, so text is normalised to NFC first (``rfc8785`` does not normalise) and floats are refused:
quantities travel as decimal strings or integers, never binary floats.
"""

from __future__ import annotations

import json
import unicodedata
from json.scanner import make_scanner
from typing import Any, cast

import msgspec
import rfc8785

from goldtrace.errors import InvalidInput

# Integers beyond this are not exactly representable in ECMAScript numbers, which RFC 8785 assumes.
MAX_SAFE_INTEGER = 2**53 - 1
# Built once: json.dumps and json.loads build a new encoder or decoder on every call with options.
_COMPACT_SORTED = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalize(value: Any) -> Any:
    """Return a copy of a JSON-like value with every string in NFC.

    Raises InvalidInput for floats, integers outside ±(2**53 - 1), non-string keys and other types.
    """
    return _normalize(value, [True])


def _normalize(value: Any, ascii_keys: list[bool]) -> Any:
    """``normalize``, clearing ``ascii_keys[0]`` when a key of the result is not ASCII."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput(
                "integer out of range for canonical JSON", code="number_out_of_range"
            )
        return value
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput("object keys must be strings", code="invalid_json")
            normal_key = unicodedata.normalize("NFC", key)
            if not normal_key.isascii():
                ascii_keys[0] = False
            result[normal_key] = _normalize(item, ascii_keys)
        if len(result) != len(value):
            raise InvalidInput("duplicate keys after normalisation", code="duplicate_key")
        return result
    if isinstance(value, list | tuple):
        return [_normalize(item, ascii_keys) for item in value]
    if isinstance(value, float):
        raise InvalidInput("floating-point numbers are not allowed", code="float_not_allowed")
    raise InvalidInput(f"value of type {type(value).__name__} is not JSON", code="invalid_json")


def canonical(value: Any) -> bytes:
    """Return the RFC 8785 bytes of ``value`` after NFC normalisation.

    Raises InvalidInput for values canonical JSON cannot represent exactly.
    """
    ascii_keys = [True]
    normal = _normalize(value, ascii_keys)
    if ascii_keys[0]:
        # With integers only and ASCII keys (sorted alike by code point and by UTF-16 unit), compact
        # sorted json.dumps is byte-for-byte RFC 8785 and an order of magnitude faster than the
        # general encoder; strings escape the same way (", \, control characters as \u00xx or
        # \b \t \n \f \r). tests/ledger/test_canonical.py holds the two equal.
        try:
            return _COMPACT_SORTED.encode(normal).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("text contains an unpaired surrogate", code="invalid_json") from None
    try:
        data: bytes = rfc8785.dumps(normal)
    except (rfc8785.CanonicalizationError, UnicodeError, ValueError) as exc:
        raise InvalidInput(f"value cannot be canonicalised: {exc}", code="invalid_json") from None
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInput(f"duplicate key {key!r} in JSON object", code="duplicate_key")
        result[key] = value
    return result


def _reject_float(text: str) -> Any:
    raise InvalidInput(f"number {text} is not an integer", code="float_not_allowed")


def _reject_constant(text: str) -> Any:
    raise InvalidInput(f"{text} is not valid JSON", code="invalid_json")


def parse_strict(data: bytes | str) -> Any:
    """Parse JSON refusing duplicate keys, non-integer numbers, NaN and Infinity.

    Raises InvalidInput with a one-line reason.
    """
    try:
        return json.loads(
            data,
            object_pairs_hook=_reject_duplicates,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"malformed JSON: {exc}", code="invalid_json") from None


def _parse_safe_int(text: str) -> int:
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise InvalidInput("integer out of range for canonical JSON", code="number_out_of_range")


# The C scanner json.loads runs, without an object hook, starting exactly at the first character.
_scan_canonical = make_scanner(
    cast(
        Any,
        json.JSONDecoder(
            parse_float=_reject_float, parse_constant=_reject_constant, parse_int=_parse_safe_int
        ),
    )
)


class _FloatFound(Exception):
    """A number with a fraction or an exponent, which the fast path leaves to the full check."""


def _refuse_float(text: str) -> Any:
    raise _FloatFound(text)


# The fast path of parse_canonical: msgspec parses and re-encodes (keys sorted, compact) several
# times faster than the standard library. Its encoding of ASCII text is RFC 8785's (a test holds
# every ASCII character to it). Integers of 16 digits or more may lie outside the safe range, so
# bytes with a run of 16 digits anywhere (found by mapping digits to "0" and the rest to " ", a
# fifth of a regular expression's time) take the full check.
_FAST_DECODER = msgspec.json.Decoder(float_hook=_refuse_float)
_FAST_ENCODER = msgspec.json.Encoder(order="sorted")
_DIGITS_ONLY = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_NUMBER = b"0" * 16


def parse_canonical(data: bytes) -> Any:
    """Return the JSON value ``data`` holds when ``data`` is exactly its canonical encoding.

    Raises InvalidInput otherwise. The value is the one ``parse_strict`` returns. Equivalent to
    ``canonical(parse_strict(data)) == data``, only faster. The fast path accepts ASCII bytes
    that msgspec's sorted compact re-encoding reproduces exactly: every string is then ASCII (a
    string with any other character would re-encode to other bytes), hence NFC, and every number
    an integer of at most 15 digits; a duplicate key cannot survive re-encoding. Everything else
    takes the full check, which gives the reason.
    """
    if data.isascii() and _LONG_NUMBER not in data.translate(_DIGITS_ONLY):
        try:
            value = _FAST_DECODER.decode(data)
        except (msgspec.DecodeError, _FloatFound, RecursionError):
            pass
        else:
            if _FAST_ENCODER.encode(value) == data:
                return value
    return _parse_canonical_fully(data)


def _parse_canonical_fully(data: bytes) -> Any:
    """``parse_canonical`` with Python's own scanner and encoder, for any input.

    Canonical bytes are UTF-8 without leading or trailing whitespace, so the scanner may start at
    the first character and must end at the last; duplicate keys need no hook, since a value
    re-encoded with one key fewer cannot equal the bytes it was read from. For ASCII text the
    sorted compact re-encoding is the canonical one when it equals the text (every string then is
    ASCII, hence NFC); other text goes through ``canonical``. tests/ledger/test_canonical.py holds
    both paths equal to the reference definition.
    """
    try:
        text = data.decode("utf-8")
        value, end = _scan_canonical(text, 0)
    except (StopIteration, ValueError, RecursionError):  # InvalidInput (floats...) passes through
        raise InvalidInput("not canonical JSON: malformed", code="not_canonical") from None
    if end != len(text):
        raise InvalidInput("not canonical JSON: trailing data", code="not_canonical")
    try:
        ascii_only = text.isascii()
        same = _COMPACT_SORTED.encode(value) == text if ascii_only else canonical(value) == data
    except RecursionError:
        same = False
    if not same:
        raise InvalidInput("not canonical JSON: bytes differ", code="not_canonical")
    return value


def is_canonical(data: bytes) -> bool:
    """Return True when ``data`` is exactly the canonical encoding of the JSON it holds."""
    try:
        parse_canonical(data)
    except InvalidInput:
        return False
    return True
