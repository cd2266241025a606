"""Strict base64url, canonical JSON and strict JSON parsing: one encoding per value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import FormatError
from crypto.encoding import (
    b64decode,
    b64encode,
    blake2b,
    blake2b_hasher,
    canonical_json,
    parse_json_object,
)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=100))
def test_base64url_round_trips_without_padding(data: bytes) -> None:
    text = b64encode(data)

    assert "=" not in text
    assert b64decode(text) == data
    assert b64decode(text.encode("ascii")) == data


@pytest.mark.parametrize(
    "text",
    ["AA==", "AA=", "A", "AB", "AAA ", " AAA", "AA\nA", "+/8", "AA.A", "Ã", "AAB"],
    ids=[
        "padded",
        "half-padded",
        "one-character",
        "unused-bits-set",
        "trailing-space",
        "leading-space",
        "newline",
        "standard-alphabet",
        "dot",
        "non-ascii",
        "unused-bits-set-16",
    ],
)
def test_non_canonical_base64url_is_refused(text: str) -> None:
    with pytest.raises(FormatError):
        b64decode(text)


def test_base64url_length_is_checked() -> None:
    assert b64decode(b64encode(bytes(8)), length=8) == bytes(8)
    with pytest.raises(FormatError, match="expected 9 bytes"):
        b64decode(b64encode(bytes(8)), length=9)


def test_canonical_json_sorts_keys_and_has_no_whitespace() -> None:
    value = {"b": [1, True, None], "a": {"d": "x", "c": -2}}

    assert canonical_json(value) == b'{"a":{"c":-2,"d":"x"},"b":[1,true,null]}'


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("\u0000\u001f", b'"\\u0000\\u001f"'),
        ("\b\t\n\f\r", b'"\\b\\t\\n\\f\\r"'),
        ('"\\', b'"\\"\\\\"'),
        ("/\u007f\u2028", '"/\u007f\u2028"'.encode()),
        ("راز دار", '"راز دار"'.encode()),
    ],
    ids=["controls-lower-hex", "short-escapes", "quote-backslash", "not-escaped", "urdu-as-utf8"],
)
def test_canonical_json_escapes_strings_as_rfc_8785_does(text: str, encoded: bytes) -> None:
    assert canonical_json(text) == encoded


@pytest.mark.parametrize(
    "value",
    [1.0, {"a": 0.5}, [float("nan")], 2**53 + 1, -(2**53) - 1, {"é": 1}, {1: 1}, b"x", "\ud800"],
    ids=[
        "float",
        "nested-float",
        "nan",
        "big-int",
        "big-negative-int",
        "non-ascii-key",
        "int-key",
        "bytes",
        "lone-surrogate",
    ],
)
def test_canonical_json_refuses_what_has_no_canonical_form(value: Any) -> None:
    with pytest.raises(FormatError):
        canonical_json(value)


def test_parsed_json_accepts_whitespace_and_any_key_order() -> None:
    assert parse_json_object(b' {\n "b": 1,  "a" : [ ] }\n', max_bytes=100) == {"b": 1, "a": []}


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":2}',
        b'{"x":{"a":1,"a":1}}',
        b'{"x":[{"a":1,"a":1}]}',
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b"[1]",
        b'"x"',
        b"1",
        b"null",
        b"",
        b'{"a":"\xff"}',
        b'\xef\xbb\xbf{"a":1}',
        b'{"a":' + b"1" * 5000 + b"}",
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a":1',
        b'{"a":1}{}',
    ],
    ids=[
        "duplicate-key",
        "nested-duplicate",
        "duplicate-in-list",
        "float",
        "exponent",
        "nan",
        "infinity",
        "minus-infinity",
        "list",
        "string",
        "number",
        "null",
        "empty",
        "invalid-utf8",
        "bom",
        "5000-digit-integer",
        "deep-nesting",
        "unterminated",
        "two-objects",
    ],
)
def test_strict_parser_refuses_malformed_json(data: bytes) -> None:
    with pytest.raises(FormatError):
        parse_json_object(data, max_bytes=1_000_000)


def test_strict_parser_refuses_oversized_input() -> None:
    with pytest.raises(FormatError, match="too large"):
        parse_json_object(b'{"a":"' + b"x" * 100 + b'"}', max_bytes=100)


# Known answers, checked against libsodium's crypto_generichash (PyNaCl's
# nacl.hashlib.blake2b with the label zero-padded to 16 bytes) on 2 December 2026.
@pytest.mark.parametrize(
    ("size", "key", "digest"),
    [
        (32, b"", "e9947d83a4661a6b1298ef302288321731bf9be92a9490e0ab3d07c5516e9dfd"),
        (16, b"key", "b0b420e2a5e048e2ce59b9942b89fbb7"),
    ],
)
def test_blake2b_under_a_label_gives_libsodiums_answer(size: int, key: bytes, digest: str) -> None:
    assert blake2b(b"abc", person=b"rz-test", size=size, key=key).hex() == digest
    hasher = blake2b_hasher(person=b"rz-test", size=size, key=key)
    hasher.update(b"a")
    hasher.update(b"bc")
    assert hasher.hexdigest() == digest


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**6, 0])
def test_integers_up_to_2_to_the_53_are_canonical(value: int) -> None:
    assert canonical_json({"n": value}) == b'{"n":%d}' % value


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1])
def test_integers_past_2_to_the_53_are_refused(value: int) -> None:
    with pytest.raises(FormatError, match="interoperable range"):
        canonical_json({"n": value})


def test_a_document_of_exactly_the_limit_is_accepted() -> None:
    data = b'{"a":"' + b"x" * 92 + b'"}'
    assert len(data) == 100
    assert parse_json_object(data, max_bytes=100) == {"a": "x" * 92}


def test_blake2b_defaults_to_32_bytes_and_no_key() -> None:
    digest = "e9947d83a4661a6b1298ef302288321731bf9be92a9490e0ab3d07c5516e9dfd"
    assert blake2b(b"abc", person=b"rz-test").hex() == digest
    hasher = blake2b_hasher(person=b"rz-test")
    hasher.update(b"abc")
    assert hasher.hexdigest() == digest


def test_base64url_keeps_a_final_x() -> None:
    # "X" is a base64 digit: only "=" may be stripped from the end.
    assert b64encode(b"\x00\x00\x17") == "AAAX"
    assert b64decode("AAAX") == b"\x00\x00\x17"


def test_padded_base64url_is_refused_as_padded() -> None:
    with pytest.raises(FormatError, match="must not be padded"):
        b64decode("AA==")
