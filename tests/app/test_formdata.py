"""The streaming multipart reader: what Werkzeug's parser reads, it reads the same; nothing else."""

from __future__ import annotations

import io
import re
import time
from typing import IO, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.http import parse_options_header

from app.formdata import (
    ESCAPED_BYTE,
    StreamingFormDataParser,
    StreamingMultiPartParser,
    _disposition,
)

BOUNDARY = b"----geckoformboundary4f1c2e"


def _sink(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> IO[bytes]:
    return io.BytesIO()


def _body(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]], boundary: bytes = BOUNDARY
) -> bytes:
    out = b""
    for name, value in fields:
        out += b"--" + boundary + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, data in files:
        out += b"--" + boundary + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def _ours(body: bytes, read_size: int = 64 * 1024, **limits: Any) -> tuple[Any, Any]:
    parser = StreamingMultiPartParser(stream_factory=_sink, read_size=read_size, **limits)
    return parser.parse(io.BytesIO(body), BOUNDARY, len(body))


def _werkzeugs(body: bytes) -> tuple[Any, Any]:
    return MultiPartParser(stream_factory=_sink).parse(io.BytesIO(body), BOUNDARY, len(body))


def _summary(parsed: tuple[Any, Any]) -> tuple[list[Any], list[Any]]:
    form, files = parsed
    return list(form.items(multi=True)), [
        (name, f.filename, f.content_type, f.stream.getvalue())
        for name, f in files.items(multi=True)
    ]


# File contents rich in what a boundary search can trip on: CR, LF, dashes and
# all but the whole of the boundary (a client picks one its content lacks).
_tricky = (
    st.lists(
        st.sampled_from(
            [b"\r", b"\n", b"\r\n", b"-", b"--", BOUNDARY[:9], b"--" + BOUNDARY[:-1], b"x"]
        )
        | st.binary(max_size=40),
        max_size=30,
    )
    .map(b"".join)
    .filter(lambda data: b"--" + BOUNDARY not in data)
)
_names = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    # At least one part: Werkzeug refuses a form with none (so do browsers never send one).
    fields=st.lists(
        st.tuples(_names, st.text(max_size=30).map(lambda s: s.replace("\r", ""))),
        min_size=1,
        max_size=3,
    ),
    files=st.lists(
        st.tuples(_names, st.sampled_from(["a.jpg", "رپورٹ.pdf", ""]), _tricky), max_size=3
    ),
    read_size=st.integers(min_value=1, max_value=200),
)
def test_the_reader_reads_what_werkzeug_reads_whatever_the_read_size(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]], read_size: int
) -> None:
    body = _body(fields, files)
    assert _summary(_ours(body, read_size)) == _summary(_werkzeugs(body))


def test_a_large_file_arrives_whole() -> None:
    data = bytes(range(256)) * 4099 + b"\r\n--" + BOUNDARY[:-1]
    form, files = _ours(_body([("message", "hello")], [("files", "big.bin", data)]))
    assert form["message"] == "hello"
    assert files["files"].stream.getvalue() == data


@pytest.mark.parametrize("cut", range(1, len(_body([("a", "b")], [("f", "x", b"yz")])) - 3))
def test_a_body_cut_short_anywhere_is_refused(cut: int) -> None:
    body = _body([("a", "b")], [("f", "x", b"yz")])
    with pytest.raises(ValueError, match="multipart"):
        _ours(body[:cut], read_size=7)


@pytest.mark.parametrize(
    "part",
    [
        b'Content-Disposition: form-data; name="a"\r\n folded: yes\r\n\r\nb\r\n',
        b"Content-Disposition: form-data\r\n\r\nno name\r\n",
        b'Content-Disposition: attachment; name="a"\r\n\r\nb\r\n',
        b"no colon here\r\n\r\nb\r\n",
        b'Content-Disposition: form-data; name="\xff"\r\n\r\nb\r\n',
        b'Content-Disposition: form-data; name="a"\r\n' + b"X: " + b"y" * 20000 + b"\r\n\r\nb\r\n",
    ],
    ids=["folded", "no-name", "not-form-data", "no-colon", "undecodable", "headers-too-long"],
)
def test_a_malformed_part_is_refused(part: bytes) -> None:
    body = b"--" + BOUNDARY + b"\r\n" + part + b"--" + BOUNDARY + b"--\r\n"
    with pytest.raises(ValueError, match=r"multipart|codec"):
        _ours(body)


def test_a_delimiter_must_end_its_line() -> None:
    body = _body([("a", "b")], []).replace(BOUNDARY + b"\r\n", BOUNDARY + b"junk\r\n", 1)
    with pytest.raises(ValueError, match="CRLF"):
        _ours(body)


def test_transport_padding_is_read_but_not_without_end() -> None:
    body = _body([("a", "b")], [])
    padded = body.replace(BOUNDARY + b"\r\n", BOUNDARY + b" \t \r\n", 1)
    assert list(_ours(padded)[0].items(multi=True)) == [("a", "b")]
    with pytest.raises(ValueError, match="CRLF"):
        _ours(body.replace(BOUNDARY + b"\r\n", BOUNDARY + b" " * 100_000 + b"\r\n", 1))


def test_a_body_without_its_boundary_is_refused() -> None:
    with pytest.raises(ValueError, match="boundary"):
        _ours(b"just some bytes\r\n" * 10)


def test_too_many_parts_are_refused() -> None:
    body = _body([("a", "1"), ("b", "2"), ("c", "3")], [])
    with pytest.raises(RequestEntityTooLarge):
        _ours(body, max_form_parts=2)


def test_a_text_field_over_the_memory_limit_is_refused_however_it_is_read() -> None:
    body = _body([("message", "x" * 5000)], [])
    with pytest.raises(RequestEntityTooLarge):
        _ours(body, read_size=100, max_form_memory_size=4096)


def test_text_fields_are_held_to_the_memory_limit_together() -> None:
    body = _body([(f"f{n}", "x" * 3000) for n in range(3)], [])
    with pytest.raises(RequestEntityTooLarge):
        _ours(body, max_form_memory_size=4096)
    form, _files = _ours(
        _body([("a", "x" * 2000), ("b", "y" * 2000)], []), max_form_memory_size=4096
    )
    assert [len(v) for v in form.values()] == [2000, 2000]


def test_a_file_part_is_not_held_to_the_text_fields_memory_limit() -> None:
    data = b"y" * 50_000
    _form, files = _ours(_body([], [("f", "a.bin", data)]), max_form_memory_size=4096)
    assert files["f"].stream.getvalue() == data


def test_a_preamble_and_an_epilogue_are_ignored() -> None:
    body = b"preamble\r\n" + _body([("a", "b")], []) + b"epilogue"
    form, _files = _ours(body)
    assert list(form.items(multi=True)) == [("a", "b")]


_FIELD_NAMES = st.text(alphabet='azAZ09_.-"\\;= %*', min_size=0, max_size=70)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        _FIELD_NAMES.map(lambda name: f'form-data; name="{name}"'),
        st.tuples(_FIELD_NAMES, _FIELD_NAMES).map(
            lambda pair: f'form-data; name="{pair[0]}"; filename="{pair[1]}"'
        ),
        st.sampled_from(['Form-Data; name="a"', 'form-data;name="a"', 'form-data; NAME="a"']),
        st.text(max_size=40),
    )
)
def test_a_parts_disposition_is_read_as_werkzeug_reads_it(value: str) -> None:
    """The plain text field's header is read without Werkzeug's parser, to its very answer."""
    disposition, options = parse_options_header(value)
    assert _disposition(value) == (disposition, options.get("name"), options.get("filename"))


def test_only_a_file_parts_disposition_goes_through_werkzeugs_general_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """13 us a part in a loop: a report's form has a dozen text fields, each parsed so."""
    from app import formdata

    parsed: list[str | None] = []

    def counted(value: str | None) -> Any:
        parsed.append(value)
        return parse_options_header(value)

    monkeypatch.setattr(formdata, "parse_options_header", counted)
    fields = [("csrf_token", "t"), ("once", "o"), ("codename", "c"), ("message", "m")]
    body = _body(fields, [("files", "a.jpg", b"data")])
    assert _summary(_ours(body)) == _summary(_werkzeugs(body))
    assert parsed == ['form-data; name="files"; filename="a.jpg"']


class _Counted(io.BytesIO):
    """A body that counts the bytes read from it."""

    read_bytes = 0

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        self.read_bytes += count
        return count


def test_part_headers_are_held_to_a_limit_together() -> None:
    """A form's part headers are parsed line by line, a Content-Disposition's parameters by
    Werkzeug's general parser: some 500 ns a byte, where a field's or a file's bytes cost
    about one. Any POST to a form's view is parsed so before its CSRF token is checked:
    64 parts, each with 16 KiB of `;a=b` parameters, 1 MiB in all (the limit of any form),
    cost a thread half a second of CPU each, and a few circuits sending them as fast as tor
    carries them took the CPU from every page. Part headers are now held to
    `MAX_HEADERS_BYTES` together: a request past it is refused having parsed no more."""
    from app import formdata

    parts = [
        b"--"
        + BOUNDARY
        + f'\r\nContent-Disposition: form-data; name="f{n}"'.encode()
        + b";a=b" * 4000
        + b"\r\n\r\nv\r\n"
        for n in range(64)
    ]
    body = b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"
    stream = _Counted(body)
    parser = StreamingMultiPartParser(stream_factory=_sink, max_form_parts=64)
    with pytest.raises(RequestEntityTooLarge):
        parser.parse(stream, BOUNDARY, len(body))
    assert stream.read_bytes <= formdata.MAX_HEADERS_BYTES + 2 * formdata.READ_SIZE, (
        f"{stream.read_bytes:,} bytes of part headers were parsed before a refusal"
    )


def test_a_reports_part_headers_stay_within_their_limit() -> None:
    """Twenty files, each named with 255 bytes of Urdu (as a browser sends it, unescaped),
    beside a report's text fields: well within `MAX_HEADERS_BYTES`."""
    name = "ثبوت" * 31 + ".pdf"
    assert len(name.encode()) <= 255
    fields = [(f"f{n}", "v") for n in range(20)]
    files = [("files", name, b"%PDF") for _ in range(20)]
    form, got = _ours(_body(fields, files), max_form_parts=64)
    assert len(form) == 20
    assert [f.filename for f in got.getlist("files")] == [name] * 20


# --- Urlencoded bodies ----------------------------------------------------------------

_FORM = "application/x-www-form-urlencoded"


def _urlencoded(body: bytes, content_type: str = _FORM, max_parts: int = 64) -> Any:
    """Parse `body` as the app's requests do (`StreamingFormDataParser`, strict as
    `app.uploads.SealingRequest` makes it), its form returned."""
    parser = StreamingFormDataParser(
        max_form_memory_size=1024 * 1024, max_form_parts=max_parts, cls=MultiDict, silent=False
    )
    mimetype, _, boundary = content_type.partition("; boundary=")
    options = {"boundary": boundary} if boundary else {}
    _stream, form, _files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    return form


def _cpu_seconds(body: bytes, content_type: str) -> float:
    """The least CPU time of three readings of `body` by the app's form parser."""
    best = float("inf")
    for _ in range(3):
        start = time.thread_time()
        _urlencoded(body, content_type)
        best = min(best, time.thread_time() - start)
    return best


def test_a_urlencoded_form_costs_about_what_the_same_form_multipart_costs() -> None:
    # A flood's 1 MiB form of `%41` (anyone may send one, no cookie needed: the body is
    # decoded before its CSRF token is checked) cost 199 times what 1 MiB of words in a
    # multipart form costs (0.16 s of CPU): `unquote` took a Python step for each escape.
    # Urdu text is mostly escapes, so it cannot be capped: the escapes are read in C.
    size = 1024 * 1024
    escapes = b"message=" + b"%41" * ((size - 8) // 3)
    words = _body([("message", "A" * (size - 200))], [])
    ratio = _cpu_seconds(escapes, _FORM) / _cpu_seconds(
        words, f"multipart/form-data; boundary={BOUNDARY.decode()}"
    )
    assert ratio < 40, f"1 MiB of escapes cost {ratio:.0f} times 1 MiB of words"
    assert _urlencoded(escapes)["message"] == "A" * ((size - 8) // 3)


_URLENCODED_TEXT = st.lists(
    st.sampled_from(
        [
            *["a", "Z", "0", "9", "f", "F", "%", "%41", "%2B", "%25", "%D8%A7", "%D8", "%A7"],
            *["%e0%a0", "+", "=", "&", "\\", "\\x41", "\\n", "\u0627", "😀", "\r\n", "\x00"],
            *["%\\", "%4", "%g1"],
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_URLENCODED_TEXT)
def test_a_urlencoded_body_is_read_as_werkzeug_reads_it_or_refused_for_a_bare_percent(
    text: str,
) -> None:
    body = text.encode()
    theirs = FormDataParser(cls=MultiDict).parse(io.BytesIO(body), _FORM, len(body), {})[1]
    fields = [value for pair in body.split(b"&") for value in pair.partition(b"=")[::2]]
    if any(re.search(rb"%(?![0-9A-Fa-f]{2})", value) for value in fields):
        # No browser sends a `%` that starts no escape (a form's `%` goes as `%25`).
        with pytest.raises(ValueError, match="starts no escape"):
            _urlencoded(body)
    else:
        assert list(_urlencoded(body).items(multi=True)) == list(theirs.items(multi=True))


def test_a_urlencoded_body_that_is_not_utf8_is_refused_as_werkzeug_refuses_it() -> None:
    with pytest.raises(UnicodeDecodeError):
        _urlencoded(b"message=\xd8")


def test_more_urlencoded_fields_than_allowed_are_refused_before_any_is_decoded() -> None:
    # 1 MiB of `a=&` (349,525 fields) cost a thread 1 to 2 s of CPU, before any check of
    # the form: a multipart body's parts were held to the limit, a urlencoded body's not.
    assert len(_urlencoded(b"&".join([b"a=%41"] * 64))) == 1
    with pytest.raises(RequestEntityTooLarge):
        _urlencoded(b"a=&" * (1024 * 1024 // 3))


def test_a_urlencoded_body_is_held_to_the_memory_limit_its_fields_escaped() -> None:
    limit = 1024 * 1024 * ESCAPED_BYTE
    assert len(_urlencoded(b"message=" + b"%41" * ((limit - 8) // 3))["message"]) < 1024 * 1024
    with pytest.raises(RequestEntityTooLarge):
        _urlencoded(b"message=" + b"A" * (limit - 7))
