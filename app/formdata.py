"""A multipart/form-data reader that hands file parts to their sinks as it reads.

Werkzeug's parser keeps every byte of a file part in a growing buffer, copies
it out twice per 64 KiB block and compiles two regular expressions for each
request's boundary: for a report's files that cost about as much as sealing
them. This reader reads the body into one buffer, finds each delimiter with
`bytearray.find`, and writes views of that buffer straight into the part's
sink (the sealer copies only what it must keep). Text fields, headers and the
limits are Werkzeug's: the same `stream_factory`, `max_form_memory_size`,
`max_form_parts`, charset rule and `FileStorage` results, except that
`max_form_memory_size` bounds the text fields of a request together, not each,
and the parts' header blocks are bounded together too (`MAX_HEADERS_BYTES`).
Before each file part, `before_file` (if given) is shown the text fields that
came before it, so a request can decide what its files' sink is from them (a
report's form whose CSRF token fails has its files dropped, never sealed:
`app.uploads.SealingRequest`).

A urlencoded body (the language switch posts a report's form so, and a login's form is
so) is decoded as Werkzeug decodes it (`urllib.parse.parse_qsl`), but in C rather than a
Python step per escape (`parse_urlencoded`); a `%` that starts no escape, which no browser
sends, is refused rather than kept, and the fields are held to `max_form_parts`.

It is strict where RFC 7578 is: lines end in CRLF, the body ends with the
closing delimiter, header lines are not folded, and a part without a
form-data Content-Disposition and a name is refused.
Any malformed or truncated body raises `ValueError`, which the request turns
into a 400 (`app.uploads.SealingRequest`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import IO, Any, Final

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import File

from app.errors import AppError, BodyCutShort

# Bytes read at once: one envelope chunk, so a part's data reaches the sealer in
# blocks it can mostly encrypt in place.
READ_SIZE: Final = 64 * 1024
# A part's header block larger than this is refused (browsers send a few hundred bytes).
MAX_HEADER_BYTES: Final = 16 * 1024
# A request whose parts' header blocks together are larger than this is refused (413) before
# the block past it is parsed: a report's twenty files, each named with 255 bytes, and its
# fields, take some 10 KiB. Header lines and a Content-Disposition's parameters cost some
# 500 ns a byte to parse (a field's or a file's bytes, about one): 64 parts of 16 KiB of
# `;a=b`, 1 MiB (any form's limit), cost a thread half a second of CPU, before its CSRF check.
MAX_HEADERS_BYTES: Final = 32 * 1024
# The bytes a field's byte takes in a urlencoded body at most (`%XX`): its limit is the
# multipart text fields' (`max_form_memory_size`) this many times.
ESCAPED_BYTE: Final = 3
# Spaces and tabs allowed between a delimiter and its CRLF.
_MAX_PADDING: Final = 64
_CRLF: Final = b"\r\n"
_BLANK_LINE: Final = b"\r\n\r\n"
# A text field's Content-Disposition as browsers send it, read without Werkzeug's general
# parser (13 us a part in a loop, a form's every part), to the same answer (`_disposition`).
_PLAIN_FIELD: Final = re.compile(r'form-data; name="([A-Za-z0-9_.-]{1,64})"')

Readinto = Callable[[memoryview], int | None]
# Shown the text fields so far before each file part is streamed (`StreamingMultiPartParser`).
BeforeFile = Callable[[list[tuple[str, str]]], None]


class _Body:
    """The request body in one buffer: `data[start:end]` is what is read and not yet used."""

    def __init__(self, stream: IO[bytes], read_size: int, keep: int) -> None:
        self._readinto = _readinto_of(stream)
        self._read_size = read_size
        self.data = bytearray(read_size + max(keep, MAX_HEADER_BYTES) + 2)
        self.view = memoryview(self.data)
        self.start = 0
        self.end = 0
        self.eof = False

    def more(self) -> bool:
        """Read another block after what is unused (moved to the front); False at the end."""
        if self.eof:
            return False
        unused = self.end - self.start
        if self.start:
            self.data[:unused] = self.view[self.start : self.end]
            self.start, self.end = 0, unused
        room = len(self.data) - self.end
        if room <= 0:
            raise ValueError("a multipart preamble or header is too long")
        count = self._readinto(self.view[self.end : self.end + min(room, self._read_size)])
        if not count:
            self.eof = True
            return False
        self.end += count
        return True

    def find(self, needle: bytes, limit: int | None = None) -> int:
        """The offset of `needle` in the unused bytes (reading more as needed), or -1 at the end.

        Gives up (-1) once `limit` bytes are unused without it.
        """
        searched = self.start
        while True:
            found = self.data.find(needle, searched, self.end)
            if found >= 0:
                return found
            if limit is not None and self.end - self.start > limit:
                return -1
            searched = max(self.start, self.end - len(needle) + 1)
            before = self.start
            if not self.more():
                return -1
            searched -= before - self.start  # the unused bytes moved to the front

    def need(self, size: int) -> bool:
        """Make at least `size` unused bytes available; False if the body ends first."""
        while self.end - self.start < size:
            if not self.more():
                return False
        return True


def _readinto_of(stream: IO[bytes]) -> Readinto:
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto  # type: ignore[no-any-return]

    def read_into(target: memoryview) -> int:
        data = stream.read(len(target))
        target[: len(data)] = data
        return len(data)

    return read_into


class StreamingMultiPartParser(MultiPartParser):
    """Werkzeug's `MultiPartParser` with `parse` replaced by a reader that does not copy."""

    def __init__(
        self,
        *args: Any,
        read_size: int = READ_SIZE,
        before_file: BeforeFile | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.read_size = read_size
        self.before_file = before_file
        self.text_bytes = 0
        self.header_bytes = 0

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        """Read the whole body; return its text fields and its files, as Werkzeug does."""
        delimiter = _CRLF + b"--" + boundary
        body = _Body(stream, self.read_size, len(delimiter) + 4)
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        _skip_preamble(body, delimiter)
        # Werkzeug holds each text field to the limit; here all of them together are:
        # 64 parts each under it held 64 times it (four times that once decoded).
        self.text_bytes = 0
        self.header_bytes = 0
        try:
            self._parts(body, delimiter, content_length, fields, files)
        except AppError as exc:
            if not exc.gives_form_back:
                raise
            # Cut short by the server (a pre-empted body): the fields that came whole go back.
            raise BodyCutShort(self.cls(fields), exc) from exc
        return self.cls(fields), self.cls(files)

    def _parts(
        self,
        body: _Body,
        delimiter: bytes,
        content_length: int | None,
        fields: list[tuple[str, str]],
        files: list[tuple[str, FileStorage]],
    ) -> None:
        """Read the parts into `fields` and `files`, each as it comes whole."""
        parts = 0
        while _next_part(body):
            parts += 1
            if self.max_form_parts is not None and parts > self.max_form_parts:
                raise RequestEntityTooLarge()
            headers, size = _read_headers(body, MAX_HEADERS_BYTES - self.header_bytes)
            self.header_bytes += size
            disposition, name, filename = _disposition(headers.get("content-disposition"))
            if disposition != "form-data" or name is None:
                raise ValueError("a multipart part without a form-data name")
            if filename is None:
                value = self._read_field(body, delimiter, headers)
                fields.append((name, value))
            else:
                if self.before_file is not None:
                    self.before_file(fields)
                sink = self.start_file_streaming(File(name, filename, headers), content_length)
                _copy_part(body, delimiter, sink.write)
                sink.seek(0)
                files.append((name, FileStorage(sink, filename, name, headers=headers)))

    def _read_field(self, body: _Body, delimiter: bytes, headers: Headers) -> str:
        """A text field's value, while the text fields so far stay within `max_form_memory_size`."""
        pieces: list[bytes] = []
        limit = self.max_form_memory_size

        def keep(piece: memoryview) -> None:
            self.text_bytes += len(piece)
            if limit is not None and self.text_bytes > limit:
                raise RequestEntityTooLarge()
            pieces.append(bytes(piece))

        _copy_part(body, delimiter, keep)
        return b"".join(pieces).decode(self.get_part_charset(headers), "replace")


def _disposition(value: str | None) -> tuple[str, str | None, str | None]:
    """A part's Content-Disposition: its type, `name` and `filename`, as Werkzeug reads them."""
    if value is not None:
        plain = _PLAIN_FIELD.fullmatch(value)
        if plain is not None:
            return "form-data", plain[1], None
    disposition, options = parse_options_header(value)
    return disposition, options.get("name"), options.get("filename")


def _skip_preamble(body: _Body, delimiter: bytes) -> None:
    """Move past the first delimiter (a body may start with it, without the CRLF)."""
    opening = delimiter[2:]
    if body.need(len(opening)) and body.data.startswith(opening, body.start):
        body.start += len(opening)
        return
    found = body.find(delimiter)
    if found < 0:
        raise ValueError("a multipart body without its boundary")
    body.start = found + len(delimiter)


def _next_part(body: _Body) -> bool:
    """After a delimiter: True if a part follows (its CRLF consumed), False at the close."""
    if not body.need(2):
        raise ValueError("a multipart body cut short")
    if body.data.startswith(b"--", body.start):
        body.start = body.end  # the epilogue, ignored
        while body.more():
            body.start = body.end
        return False
    # Transport padding (spaces, tabs) may precede the line's CRLF (RFC 2046);
    # a few bytes of it, not a body's worth spent a byte at a time.
    for _padding in range(_MAX_PADDING + 1):
        if not body.need(2):
            raise ValueError("a multipart body cut short")
        if body.data.startswith(_CRLF, body.start):
            body.start += 2
            return True
        if body.data[body.start] not in b" \t":
            break
        body.start += 1
    raise ValueError("a multipart delimiter not followed by CRLF")


def _read_headers(body: _Body, left: int) -> tuple[Headers, int]:
    """Read a part's header lines up to the blank line (the part may have none), and their
    size; refused (413) unparsed if larger than `left`, what the request's parts have left of
    `MAX_HEADERS_BYTES`."""
    if body.need(2) and body.data.startswith(_CRLF, body.start):
        body.start += 2
        return Headers(), 0
    end = body.find(_BLANK_LINE, MAX_HEADER_BYTES)
    if end < 0 or end - body.start > MAX_HEADER_BYTES:
        raise ValueError("a multipart part's headers do not end")
    if end - body.start > left:
        raise RequestEntityTooLarge()
    block = bytes(body.view[body.start : end])
    body.start = end + len(_BLANK_LINE)
    headers = Headers()
    for line in block.split(_CRLF):
        text = line.decode("utf-8")  # UnicodeDecodeError is a ValueError
        key, colon, value = text.partition(":")
        # A folded line (obsolete, RFC 7230) starts with a space: refused, as is a bare name.
        if not colon or not key or key[0] in " \t":
            raise ValueError("a malformed multipart header line")
        headers.add(key.strip(" \t"), value.strip(" \t"))
    return headers, len(block)


def _copy_part(body: _Body, delimiter: bytes, write: Callable[[memoryview], Any]) -> None:
    """Hand a part's data to `write` in views of the buffer, up to and past its delimiter."""
    # The last len(delimiter) - 1 bytes may be the start of the delimiter: kept back.
    hold = len(delimiter) - 1
    while True:
        found = body.data.find(delimiter, body.start, body.end)
        if found >= 0:
            if found > body.start:
                write(body.view[body.start : found])
            body.start = found + len(delimiter)
            return
        safe = body.end - hold
        if safe > body.start:
            write(body.view[body.start : safe])
            body.start = safe
        if not body.more():
            raise ValueError("a multipart body cut short")


class StreamingFormDataParser(FormDataParser):
    """Werkzeug's form parser, reading multipart bodies with `StreamingMultiPartParser`."""

    # Passed on to the multipart parser (`StreamingMultiPartParser.before_file`).
    before_file: BeforeFile | None = None

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("a multipart body without a boundary")
        parser = StreamingMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            before_file=self.before_file,
        )
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files

    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, Any], MultiDict[str, Any]]:
        """Werkzeug's reading of a urlencoded body (`parse_urlencoded`), its fields held to
        `max_form_parts` as a multipart body's are, and its size to what the same fields take
        multipart (`max_form_memory_size`), each byte escaped (`ESCAPED_BYTE`).

        Werkzeug holds it to nothing but the request's own limit: a report's form, posted
        urlencoded (as the language switch posts it), was read whole into memory and decoded
        up to four times the upload limit (`app.limits`), 2,000 MiB, from a flood with no
        cookie. A report's longest message, 200,000 characters of Urdu, takes 1.2 MB."""
        limit = self.max_form_memory_size
        if limit is not None:
            limit *= ESCAPED_BYTE
        if limit is not None and content_length is not None and content_length > limit:
            raise RequestEntityTooLarge()
        data = stream.read()
        if limit is not None and len(data) > limit:
            raise RequestEntityTooLarge()  # a body of no declared length
        fields = parse_urlencoded(data, self.max_form_parts)
        return stream, self.cls(fields), self.cls()


def _unquote(value: bytes) -> str:
    """`urllib.parse.unquote_plus` as `parse_qsl` calls it for Werkzeug, in C: each escape
    becomes a `\\x` one (the value's own backslashes doubled) and `codecs.escape_decode`
    reads them all at once. A `%` that starts no escape (a `%` and two hex digits) raises
    `ValueError`: no browser sends one (a form's `%` goes as `%25`).

    `unquote` takes a Python step for every escape: 1 MiB of `%41` (a urlencoded form's limit)
    cost a thread 0.2 to 0.3 s of CPU, before any check of the form; Urdu text is mostly
    escapes, so the cost could not be capped away. A `%` kept as it is took a regular
    expression's step each (1 MiB of `%zz`: 0.2 s), so a body with one is refused instead."""
    value = value.replace(b"+", b" ")
    if b"%" in value:
        escaped = value.replace(b"\\", b"\\\\").replace(b"%", b"\\x")
        try:
            value = codecs.escape_decode(escaped)[0]
        except ValueError:  # "invalid \x escape": a `%` without its two hex digits
            raise ValueError("a urlencoded `%` that starts no escape") from None
    # Werkzeug's handler (registered by `werkzeug.urls`) writes a byte no UTF-8 takes as its
    # escape, as `parse_qsl` does for Werkzeug.
    return value.decode("utf-8", "werkzeug.url_quote")


def parse_urlencoded(data: bytes, max_fields: int | None = None) -> list[tuple[str, str]]:
    """A urlencoded body's fields, as `parse_qsl(data.decode(), keep_blank_values=True,
    errors="werkzeug.url_quote")` reads them (Werkzeug's `_parse_urlencoded`); a body that is
    not UTF-8, or has a `%` that starts no escape, raises `ValueError` (a 400), and one of
    more than `max_fields` fields is refused (413).
    """
    data.decode("utf-8")  # Werkzeug decodes the body strictly first: UnicodeDecodeError
    if max_fields is not None and data.count(b"&") + 1 > max_fields:
        # Counted as `parse_qsl`'s `max_num_fields` counts them, before any is split: a form's
        # fields are a few (a report's, its files' names included, some 25). 1 MiB of `a=&`
        # cost a thread 1 to 2 s of CPU, before any check of the form.
        raise RequestEntityTooLarge()
    fields = []
    for pair in data.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            fields.append((_unquote(name), _unquote(value)))
    return fields
