"""Uploads sealed as they stream in: Werkzeug's spooling is replaced for every request.

Werkzeug normally spools file parts over 500 KB to a temporary file. Here every
file part goes to a `StagedEnvelope` (which seals each 64 KiB chunk as it arrives)
when the view accepts reports, and to a sink that drops it otherwise. No plaintext
byte of an upload ever reaches a disk.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from typing import Any, BinaryIO, Final

from flask import Request, current_app, request
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from wtforms import ValidationError

from app.errors import AppError, BodyCutShort, malformed_body
from app.formdata import StreamingFormDataParser
from app.store import EnvelopeStore, SealingKey, StagedEnvelope
from crypto import Metadata

_DEFAULT_TYPE = "application/octet-stream"
# The field a report's form must have brought whole for the form to go back when the
# server cuts its body short (`SealingRequest.cut_short`): what the source wrote.
REPORT_MESSAGE: Final = "message"


def clean_filename(name: str | None) -> str | None:
    """Keep a file's own name (Urdu included) but never a path or control characters."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    while len(name.encode("utf-8")) > 255:
        name = name[:-1]
    return None if name in {"", ".", ".."} else name


def clean_content_type(value: str | None) -> str:
    """Keep a printable ASCII MIME type, or fall back to octet-stream."""
    value = (value or "").strip()
    if not value or len(value) > 127 or not all(" " <= ch <= "~" for ch in value):
        return _DEFAULT_TYPE
    return value


class SealedUploads:
    """Seal every file part of one request into staging, to the keyring's recipients."""

    def __init__(self, store: EnvelopeStore, recipients: list[SealingKey], max_files: int) -> None:
        self._store = store
        self._recipients = recipients
        self._max_files = max_files
        self.staged: list[StagedEnvelope] = []

    def open(self, content_type: str | None, filename: str | None) -> StagedEnvelope:
        """Start sealing one file part."""
        if sum(1 for s in self.staged if s.started) >= self._max_files:
            raise RequestEntityTooLarge("too many files")
        metadata = Metadata(
            kind="file",
            content_type=clean_content_type(content_type),
            filename=clean_filename(filename),
        )
        staged = self._store.stage(self._recipients, metadata)
        self.staged.append(staged)
        return staged

    def files(self) -> list[StagedEnvelope]:
        """The parts that received any bytes (an empty file field sends none)."""
        return [s for s in self.staged if s.started]

    def discard_all(self) -> None:
        """Remove everything staged (called on every request that did not commit)."""
        for staged in self.staged:
            staged.discard()
        self.staged.clear()


class OverLimit(SealedUploads):
    """The file parts of a report whose body is over the upload limit: dropped, never sealed.

    The body is read anyway, so that its form goes back with what the source
    wrote (`app.limits`); its files are neither sealed nor written anywhere.
    """

    def open(self, content_type: str | None, filename: str | None) -> Any:
        """Drop one file part as it arrives."""
        return _Drop()


class FilesBeforeToken(AppError):
    """A report's files came with no valid CSRF token before them: dropped, never sealed.

    Browsers send the form's token first (it is the form's first field). A form
    whose token fails would be refused once read whole; sealing and writing its
    files first gave a flood the server's disk to spend, envelope by envelope,
    with no token at all. Its words go back to the source, as for a body cut short.
    """

    status = 400
    gives_form_back = True


class TokenRefused(SealedUploads):
    """The file parts of a report whose form's CSRF token failed before them: named, dropped.

    Nothing is sealed or written; each part's name and type are kept, so the page
    giving the form back can name the files to attach again.
    """

    def __init__(self, max_files: int) -> None:
        self._max_files = max_files
        self.staged = []

    def open(self, content_type: str | None, filename: str | None) -> Any:
        """Drop one file part as it arrives, keeping its name."""
        if sum(1 for s in self.staged if s.started) >= self._max_files:
            raise RequestEntityTooLarge("too many files")
        dropped = _NamedDrop(
            Metadata(
                kind="file",
                content_type=clean_content_type(content_type),
                filename=clean_filename(filename),
            )
        )
        self.staged.append(dropped)  # type: ignore[arg-type]
        return dropped


class _Drop:
    """A sink for file parts sent where no upload is expected: the bytes go nowhere."""

    def write(self, data: bytes) -> int:
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def read(self, size: int = -1) -> bytes:
        return b""


class _NamedDrop(_Drop):
    """A dropped file part that keeps its name, and whether any byte of it came."""

    def __init__(self, metadata: Metadata) -> None:
        self.metadata = metadata
        self.started = False

    def write(self, data: bytes) -> int:
        self.started = self.started or len(data) > 0
        return len(data)

    def discard(self) -> None:
        """Nothing was kept."""


def _token_holds(fields: list[tuple[str, str]]) -> bool:
    """Say whether the CSRF token the form sent before its files is one Flask-WTF will take.

    Found as `CSRFProtect` finds it once the form is read (the field, a prefixed field,
    then the headers), and checked by the same `validate_csrf`.
    """
    config = current_app.config
    if not config.get("WTF_CSRF_ENABLED", True) or not config.get("WTF_CSRF_CHECK_DEFAULT", True):
        return True  # nobody checks it, so nothing waits on it
    name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = next((v for k, v in fields if k == name and v), None)
    token = token or next((v for k, v in fields if k.endswith(name) and v), None)
    headers = config.get("WTF_CSRF_HEADERS", ())
    token = token or next((request.headers[h] for h in headers if request.headers.get(h)), None)
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True


class _LargeReads:
    """Serve small reads of a request body out of 1 MiB reads of the server's stream.

    For a body `_SocketBody` cannot take (chunked, or not from gunicorn): gunicorn's
    body reader answers each 64 KiB read by copying everything it has read ahead,
    so a large upload was copied many times over. One large read, sliced here, is cheap.
    """

    _SIZE = 1024 * 1024

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._data = b""
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            rest = self._data[self._pos :] + self._stream.read()
            self._data, self._pos = b"", 0
            return bytes(rest)
        if self._pos >= len(self._data):
            self._data, self._pos = self._stream.read(max(size, self._SIZE)), 0
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return bytes(chunk)

    def readinto(self, target: memoryview | bytearray) -> int:
        """Copy the next bytes into `target` (Werkzeug's limited stream prefers this to `read`)."""
        if self._pos >= len(self._data):
            self._data, self._pos = self._stream.read(max(len(target), self._SIZE)), 0
        count = min(len(target), len(self._data) - self._pos)
        target[:count] = memoryview(self._data)[self._pos : self._pos + count]
        self._pos += count
        return count

    def readline(self, size: int = -1) -> bytes:
        # Multipart parsing never calls this; keep the stream's own semantics.
        rest = self._data[self._pos :]
        self._data, self._pos = b"", 0
        return bytes(rest) + bytes(self._stream.readline(size))


class _SocketBody:
    """A body of known length, read from gunicorn's socket straight into the reader's buffer.

    gunicorn's own reader copies every block twice, into two buffers it allocates
    afresh, before the app sees it: 1.2 to 1.6 ms of CPU per MiB, four times what
    the socket's own read costs (docs/benchmarks.md, the uploads' sixth pass).
    Here the bytes gunicorn read with the head are taken from its buffer first
    and the rest comes with `recv_into`, which the worker paces as it paces
    `recv` (`app.worker_reads.PacedSocket`). gunicorn's count of what is left of the
    body is kept, so after the response it drains exactly what the app did not
    read, and a read that fails or ends early marks the body failed, so the
    connection is not used again.
    """

    def __init__(self, body: Any, reader: Any, unreader: Any) -> None:
        self._body = body
        self._reader = reader
        self._sock = unreader.sock
        with unreader.buf.getbuffer() as held:
            # What gunicorn holds beyond the body belongs to the next request.
            self._held = min(held.nbytes, reader.length)
        # Set once `readline` hands reading back to gunicorn's body.
        self._handed_back = False

    def readinto(self, target: memoryview | bytearray) -> int:
        """Read the next bytes of the body into `target`; 0 at its end."""
        if self._handed_back:
            data: bytes = self._body.read(len(target))
            target[: len(data)] = data
            return len(data)
        want = min(len(target), self._reader.length)
        if want <= 0:
            return 0
        try:
            if self._held:
                # No more than gunicorn holds, which it hands over without reading the
                # socket (its reader counts them off itself).
                data = self._reader.read(min(want, self._held))
                count = len(data)
                self._held -= count
                target[:count] = data
            else:
                count = self._sock.recv_into(target, want)
                self._reader.length -= count
        except BaseException:
            self._body.failed = True
            raise
        if not count:
            self._body.failed = True  # the client went away before the body's end
        return count

    def read(self, size: int = -1) -> bytes:
        """Read `size` bytes (all that is left if negative), fewer only at the body's end."""
        if self._handed_back:
            data: bytes = self._body.read(size)
            return data
        left = self._reader.length
        out = bytearray(left if size is None or size < 0 else min(size, left))
        view, got = memoryview(out), 0
        while got < len(out) and (count := self.readinto(view[got:])):
            got += count
        return bytes(out[:got])

    def readline(self, size: int = -1) -> bytes:
        """A line, read by gunicorn's body, which then reads the rest (it may read ahead)."""
        # Multipart parsing never calls this.
        self._handed_back = True
        data: bytes = self._body.readline(size)
        return data


def _socket_body(stream: Any) -> _SocketBody | None:
    """A `_SocketBody` for gunicorn's body of a known length not read yet, else None."""
    try:
        from gunicorn.http.body import Body, LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:  # served by something else
        return None
    if type(stream) is not Body or type(stream.reader) is not LengthReader:
        return None
    reader = stream.reader
    if reader.length <= 0 or stream.buf.tell() or not isinstance(reader.unreader, SocketUnreader):
        return None
    return _SocketBody(stream, reader, reader.unreader)


class LargeReadsMiddleware:
    """WSGI middleware giving the app a body stream that reads in large blocks, or in place."""

    def __init__(self, wsgi_app: Any) -> None:
        self._wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = _socket_body(stream) or _LargeReads(stream)
        return self._wsgi_app(environ, start_response)


class SealingRequest(Request):
    """A request whose file parts are sealed as they stream in, or dropped."""

    form_data_parser_class = StreamingFormDataParser
    sealed_uploads: SealedUploads | None = None
    # Why the server stopped reading a report's body (a pre-empted one): the form came
    # back with the fields that came whole, and nothing of it may be filed.
    cut_short: AppError | None = None
    # Opens the file a part of a bundle upload waits in (set by `app.limits`), or None.
    bundle_file: Callable[[], BinaryIO] | None = None

    def make_form_data_parser(self) -> FormDataParser:
        """Parse strictly: Werkzeug would read a malformed or truncated body as an empty form."""
        parser = super().make_form_data_parser()
        parser.silent = False
        if isinstance(parser, StreamingFormDataParser):
            parser.before_file = self._before_file
        return parser

    def _before_file(self, fields: list[tuple[str, str]]) -> None:
        """Before a report's first file part, drop its files unless its CSRF token holds."""
        uploads = self.sealed_uploads
        if type(uploads) is not SealedUploads or uploads.staged or _token_holds(fields):
            return  # no report's files; dropped already; checked at the first file; or good
        self.sealed_uploads = TokenRefused(uploads._max_files)
        self.cut_short = FilesBeforeToken("files-before-token")

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except BodyCutShort as cut:
            # A report's form, its message whole, goes back to the source with the answer
            # (`cut_short`); anything else is answered as the reason says.
            if self.sealed_uploads is None or REPORT_MESSAGE not in cut.fields:
                raise cut.cause from None
            self.cut_short = cut.cause
            d = self.__dict__
            d["stream"], d["form"], d["files"] = io.BytesIO(), cut.fields, MultiDict()
        except Exception as exc:
            # gunicorn's own word for a bad chunked body (InvalidChunkSize…) is no ValueError.
            if isinstance(exc, ValueError) or malformed_body(exc):
                raise BadRequest() from exc
            raise

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        if self.bundle_file is not None:
            return self.bundle_file()
        if self.sealed_uploads is None:
            return _Drop()
        return self.sealed_uploads.open(content_type, filename)
