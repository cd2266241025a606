"""The metadata record: what it may hold, its strict canonical encoding, its round trip."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import FormatError, Metadata, PrivateKey, open_bytes, seal_bytes
from crypto.encoding import canonical_json
from crypto.envelope.metadata import KeyringSeen, decode_trailer_sizes, encode_trailer

ALICE = PrivateKey(bytes(range(32)))

GOOD = {
    "message": Metadata(kind="message"),
    "text": Metadata(kind="report", content_type="text/plain; charset=utf-8"),
    "ascii-file": Metadata(kind="file", content_type="application/pdf", filename="report.pdf"),
    "urdu-file": Metadata(kind="file", content_type="image/jpeg", filename="تصویر.jpg"),
    "urdu-with-digits": Metadata(
        kind="file", content_type="text/plain", filename="رپورٹ ۲۰۲۴-۰۳.txt"
    ),
    "urdu-diacritics": Metadata(kind="file", filename="بِسْمِ اللہ.docx"),
    "mixed-scripts": Metadata(kind="file", filename="FIR نمبر 113 (copy).pdf"),
    "no-extension": Metadata(kind="file", filename="نوٹس"),
    "dots": Metadata(kind="file", filename="...a..b."),
    "longest-name": Metadata(kind="file", filename="ر" * 127 + "x"),
    "longest-type": Metadata(kind="x", content_type="a" * 127),
    "longest-kind": Metadata(kind="a" + "-" * 31),
    "reply": Metadata(kind="reply", content_type="text/markdown"),
}


@pytest.mark.parametrize("metadata", GOOD.values(), ids=GOOD)
def test_metadata_round_trips_through_its_record(metadata: Metadata) -> None:
    record = metadata.encode()

    assert Metadata.decode(record) == metadata
    assert len(record) <= 4096


@pytest.mark.parametrize("metadata", GOOD.values(), ids=GOOD)
def test_metadata_round_trips_through_an_envelope(metadata: Metadata) -> None:
    plaintext, opened = open_bytes(seal_bytes(b"content", [ALICE.public_key], metadata), [ALICE])

    assert plaintext == b"content"
    assert opened.metadata == metadata
    assert opened.metadata.filename == metadata.filename


def test_record_is_canonical_json_of_exactly_three_fields() -> None:
    record = Metadata(kind="file", content_type="image/jpeg", filename="تصویر.jpg").encode()

    assert record == '{"kind":"file","name":"تصویر.jpg","type":"image/jpeg"}'.encode()
    assert Metadata(kind="message").encode() == (
        b'{"kind":"message","name":null,"type":"application/octet-stream"}'
    )


def test_example_record_has_the_specified_length() -> None:
    """PROTOCOL.md §5.6: m = 65 for this record."""
    assert len(Metadata(kind="message", content_type="text/plain; charset=utf-8").encode()) == 65


BAD_NAMES = {
    "empty": "",
    "slash": "a/b.pdf",
    "backslash": "a\\b.pdf",
    "parent": "..",
    "self": ".",
    "absolute": "/etc/passwd",
    "traversal": "../../x",
    "nul": "a\x00b",
    "newline": "a\nb",
    "tab": "a\tb",
    "delete": "a\x7fb",
    "c1-control": "a\x85b",
    "right-to-left-override": "invoice\u202efdp.exe",
    "zero-width-space": "a\u200bb",
    "bom": "\ufeffa",
    "lone-surrogate": "a\ud800b",
    "private-use": "a\ue000b",
    "unassigned": "a\U000e0fffb",
    "256-ascii-bytes": "a" * 256,
    "256-urdu-bytes": "ر" * 128,
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES)
def test_unsafe_file_name_is_refused(name: str) -> None:
    with pytest.raises(FormatError):
        Metadata(kind="file", filename=name)


@pytest.mark.parametrize(
    "kind",
    ["", "Message", "1st", "-a", "a_b", "a b", "a" * 33, "rëport", None, 1],
    ids=[
        "empty",
        "upper",
        "digit-first",
        "dash-first",
        "underscore",
        "space",
        "33-chars",
        "non-ascii",
        "none",
        "int",
    ],
)
def test_bad_kind_is_refused(kind: Any) -> None:
    with pytest.raises(FormatError):
        Metadata(kind=kind)


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        " text/plain",
        "text/plain ",
        "text/\tplain",
        "text/plain\n",
        "a" * 128,
        "tëxt/plain",
        None,
    ],
    ids=[
        "empty",
        "leading-space",
        "trailing-space",
        "tab",
        "newline",
        "128-chars",
        "non-ascii",
        "none",
    ],
)
def test_bad_content_type_is_refused(content_type: Any) -> None:
    with pytest.raises(FormatError):
        Metadata(kind="file", content_type=content_type)


@pytest.mark.parametrize(
    "record",
    [
        b'{"kind":"file","name":null}',
        b'{"kind":"file","name":null,"type":"a/b","size":1}',
        b'{"kind": "file","name":null,"type":"a/b"}',
        b'{"name":null,"kind":"file","type":"a/b"}',
        b'{"kind":"file","name":null,"type":"a/b"}\n',
        b'{"kind":"file","kind":"file","name":null,"type":"a/b"}',
        b'{"kind":1,"name":null,"type":"a/b"}',
        b'{"kind":"file","name":1,"type":"a/b"}',
        b'{"kind":"file","name":null,"type":["a/b"]}',
        b'{"kind":"file","name":"a/b","type":"a/b"}',
        b'{"kind":"file","name":"\\u0627","type":"a/b"}',
        b'{"kind":"file","name":1.5,"type":"a/b"}',
        b'{"kind":"file","name":null,"type":"a/b"',
        b"[]",
        b"",
        b'{"kind":"file","name":"\xff","type":"a/b"}',
        b'{"kind":"file","name":"' + b"a" * 5000 + b'","type":"a/b"}',
    ],
    ids=[
        "missing-field",
        "extra-field",
        "whitespace",
        "key-order",
        "trailing-newline",
        "duplicate-key",
        "kind-not-string",
        "name-not-string",
        "type-not-string",
        "name-with-path",
        "escaped-non-ascii",
        "float",
        "unterminated",
        "list",
        "empty",
        "invalid-utf8",
        "oversized",
    ],
)
def test_record_that_is_not_canonical_or_not_valid_is_refused(record: bytes) -> None:
    with pytest.raises(FormatError):
        Metadata.decode(record)


@settings(max_examples=100, deadline=None)
@given(
    name=st.text(min_size=1, max_size=80).filter(lambda n: n not in {".", ".."}),
    kind=st.from_regex(r"[a-z][a-z0-9-]{0,31}", fullmatch=True),
)
def test_any_accepted_name_round_trips_and_any_refused_name_is_format_error(
    name: str, kind: str
) -> None:
    try:
        metadata = Metadata(kind=kind, filename=name)
    except FormatError:
        return
    assert "/" not in name
    assert "\\" not in name
    assert Metadata.decode(metadata.encode()) == metadata


@settings(max_examples=50, deadline=None)
@given(length=st.integers(min_value=0, max_value=2**64 - 1))
def test_trailer_carries_the_record_and_both_lengths(length: int) -> None:
    metadata = Metadata(kind="message")
    record = metadata.encode()
    trailer = encode_trailer(record, length)

    assert trailer[: len(record)] == record
    assert decode_trailer_sizes(trailer[-10:]) == (len(record), length)


def test_no_file_name_is_kept_once_its_record_is_encoded_or_parsed() -> None:
    # The shared records (a report, a re-sealed blob) are kept; a file's name, a source's
    # words, is held by no cache after the call, on the server that seals with it or here.
    from crypto.envelope import metadata as module

    name = "statement-of-the-sho-of-thana-saddar.pdf"
    body = Metadata("attachment", "application/pdf", name).encode()
    assert Metadata.decode(body).filename == name
    Metadata("report", "text/plain").encode()
    Metadata.decode(Metadata("report", "text/plain").encode())
    kept = [*module._PARSED, *module._PARSED.values(), repr(module._encode_plain.cache_info())]
    assert not any(name in repr(item) for item in kept)
    assert any(m.filename is None for m in module._PARSED.values())


def test_a_record_naming_the_keyring_sealed_to_round_trips() -> None:
    seen = KeyringSeen(7, bytes(range(32)))
    metadata = Metadata("report", "application/json", keyring=seen)
    record = metadata.encode()
    assert record == (
        b'{"keyring":{"digest":"' + bytes(range(32)).hex().encode() + b'","version":7},'
        b'"kind":"report","name":null,"type":"application/json"}'
    )
    assert Metadata.decode(record) == metadata
    assert Metadata.decode(record).keyring == seen


@pytest.mark.parametrize(
    "keyring",
    [
        {"digest": "00" * 32, "version": 0},
        {"digest": "00" * 32, "version": True},
        {"digest": "AB" * 32, "version": 1},
        {"digest": "00" * 31, "version": 1},
        {"digest": "00" * 32, "version": 1, "issued": "2026-12-05"},
        {"version": 1},
        "00" * 32,
    ],
    ids=["version-0", "version-bool", "upper-hex", "short", "extra-field", "no-digest", "string"],
)
def test_a_malformed_keyring_name_is_refused(keyring: Any) -> None:
    record = {"keyring": keyring, "kind": "report", "name": None, "type": "application/json"}
    with pytest.raises(FormatError):
        Metadata.decode(canonical_json(record))
