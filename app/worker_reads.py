"""How the worker reads a connection: deadlines on heads and bodies, tor's line, answers
of its own.

The worker (`app.worker`) reads each request head in its main loop (non-blocking, like the
keep-alive wait gthread already does there), so a connection costs a thread only
once its head is complete. A head must arrive within `HEAD_SECONDS`; a body must
keep up an average of `BODY_MIN_RATE` bytes a second after `BODY_GRACE_SECONDS`
(Apache's mod_reqtimeout defaults), else the connection is closed. Nothing is
spooled anywhere: the body is still read by the app, straight from the socket.

It also drops gunicorn's `Server` header, which names the software to anyone,
and answers the requests gunicorn's parser refuses itself (a malformed request
line, an oversize header, a bad Content-Length), which never reach the app,
with the app's strict headers (`app.security.HEADERS`: no-store, CSP, no
framing) and a body that repeats nothing of the request.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import re
import socket
import time
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from babel.support import Translations
from gunicorn import util
from gunicorn.http import wsgi
from markupsafe import escape

from app.config import Config
from app.errors import AppError
from app.security import HEADERS
from app.source.sizes import wire_size

HEAD_SECONDS: Final = 20.0
# How long a write of an answer may make no progress before the request is ended (seconds).
SEND_SECONDS: Final = 10.0
BODY_GRACE_SECONDS: Final = 20.0
BODY_MIN_RATE: Final = 500.0
_END_OF_HEAD: Final = b"\r\n\r\n"
# Tor's line (control-spec's HiddenServiceExportCircuitID): the circuit is the
# low 32 bits of the source address; ports and the rest are tor's own.
_TOR_LINE: Final = re.compile(
    rb"PROXY TCP6 (fc00:dead:beef:4dad:[0-9a-f:]{1,24}) ::1 \d{1,5} \d{1,5}"
)
_TOR_PREFIX: Final = int(ipaddress.IPv6Address("fc00:dead:beef:4dad::")) >> 32
# While every thread of a worker is busy, a body slower than this (bytes a second, since it
# began) gives its thread up to a request of a circuit holding none there (`_victim`), once it
# has had this long (seconds) to get going. 4 KiB/s is 32 kbit/s, a slow GPRS uplink's.
SCARCE_BODY_RATE: Final = 4096.0
SCARCE_GRACE_SECONDS: Final = 5.0
# When a pre-empted request's client may send it again (seconds): by then its thread is free.
PREEMPTED_RETRY_AFTER: Final = 5
# The longest urlencoded form a request refused for its circuit's pace is answered with
# (`_short_form`): a login's (its token and a codename) is some 250 bytes.
_SHORT_FORM: Final = 4096
# How much of a file's answer one `sendfile` call sends (`PacedSocket.sendfile`).
_FILE_PIECE: Final = 1024 * 1024
_CONTENT_LENGTH: Final = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,19})[ \t]*\r\n")
# The interim answer to `Expect: 100-continue`, owed until the app first reads the body.
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


class BodyPreempted(AppError):
    """This request's body was the slowest of the circuit holding most of a full worker's
    threads, and a request of a circuit holding none needed a thread: send it again."""

    status = 503
    retry_after = PREEMPTED_RETRY_AFTER
    gives_form_back = True


class BodyTooSlow(AppError):
    """This request's body fell behind `BODY_MIN_RATE`: the connection goes, but a report's
    form whose message came whole goes back to the source (`app.uploads.SealingRequest`).

    Not an `OSError` (as the socket's own timeout is): Werkzeug takes any error of the
    body's reads for a client gone (400), and the form was lost with it."""

    status = 408
    gives_form_back = True


# `Connection: close` filled with the whitespace a header's value may end with (RFC 9112
# §5) to the bytes of `Connection: keep-alive`: five bytes said which, after the padding.
_CLOSE: Final = "Connection: close\r\n"
_CLOSE_AS_LONG: Final = f"Connection: close{' ' * (len('keep-alive') - len('close'))}\r\n"


class _Response(wsgi.Response):
    """gunicorn's response writer without the `Server: gunicorn` line."""

    def default_headers(self) -> list[str]:
        """Gunicorn's own headers, except the one that names it; closing or not, one size."""
        headers: list[str] = super().default_headers()
        return [
            _CLOSE_AS_LONG if h == _CLOSE else h
            for h in headers
            if not h.lower().startswith("server:")
        ]


# `wsgi.create` builds its writer from this module-level name.
wsgi.Response = _Response


# The app's words for each kind of answer built under it (app/templates/error.html), which
# `_write_page` writes in both languages: the main loop reads no cookie to choose one.
_BUSY: Final = (
    "The server is busy",
    "Too many people are using this site right now. Nothing you sent was stored. Please try"
    " again in a minute.",
)
_REFUSED: Final = ("Request refused", "The request could not be understood. Nothing was stored.")
_FAILED: Final = (
    "Something went wrong",
    "An error occurred on the server. Nothing you sent was stored in readable form. Please"
    " try again later.",
)
_URDU: Final = Translations.load(Path(__file__).resolve().parent / "translations", ["ur"])


def _page(words: tuple[str, str]) -> bytes:
    """A page saying `words` (a title, a sentence) in English, then in Urdu."""
    title, text = (escape(w) for w in words)
    ur_title, ur_text = (escape(_URDU.gettext(w)) for w in words)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>\n<h1>{title}</h1>\n<p>{text}</p>\n"
        f'<div lang="ur" dir="rtl"><h1>{ur_title}</h1>\n<p>{ur_text}</p></div>\n'
        "</body></html>\n"
    ).encode()


_PAGES: Final = {words: _page(words) for words in (_BUSY, _REFUSED, _FAILED)}


def _write_page(
    sock: socket.socket,
    status_int: int,
    reason: str,
    words: tuple[str, str],
    retry_after: int | None = None,
) -> None:
    """Answer with the page saying `words` in both languages, the app's strict headers
    (`app.security.HEADERS`), and `Retry-After` if given: one write, holding no thread, its
    body unread, and the connection closed. Padded as the app pads a source page
    (`app.source.sizes`): its status line, headers and body take `wire_size(0)` bytes, Date
    and Connection aside (gunicorn adds them to the app's pages after the padding).

    These answers were a short plain-text status in English (or a short page): their size
    on the wire, a cell or a few where every page of the app takes fifty, said to whoever
    counts cells that the source was refused, and by which rule."""
    page = _PAGES[words]
    head = [
        f"HTTP/1.1 {status_int} {reason}",
        *([] if retry_after is None else [f"Retry-After: {retry_after}"]),
        "Content-Type: text/html; charset=utf-8",
        "Content-Length: ",
        *(f"{name}: {value}" for name, value in HEADERS.items()),
    ]
    weighed = sum(len(line) + 2 for line in head) + 2  # and the blank line
    # Content-Length is weighed too: settle it with the body it announces.
    length = len(page)
    for _ in range(3):
        length = max(wire_size(0) - weighed - len(str(length)), len(page))
    head[head.index("Content-Length: ")] += str(length)
    lines = [head[0], f"Date: {util.http_date()}", "Connection: close", *head[1:]]
    body = page + b" " * (length - len(page))
    util.write_nonblock(sock, "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)


def write_error(
    sock: socket.socket, status_int: int, reason: str, mesg: str, retry_after: int | None = None
) -> None:
    """Answer a request refused under the app (gunicorn's parser, or the main loop): the
    app's page for its status (`_write_page`), and nothing of the request.

    gunicorn's own page had no Cache-Control, CSP or framing rule, and its text
    repeated the words of the request it refused (`mesg`, left out here)."""
    words = _BUSY if status_int == 503 else _REFUSED if status_int < 500 else _FAILED
    _write_page(sock, status_int, reason, words, retry_after)


# When a client answered busy for want of a place may come back (seconds).
BUSY_RETRY_AFTER: Final = 10


def write_busy(sock: socket.socket, retry_after: int = BUSY_RETRY_AFTER) -> None:
    """Answer a request busy (503, Retry-After) with the page saying nothing was stored, its
    body unread: written in the main loop, one write, holding no thread."""
    _write_page(sock, 503, "Service Unavailable", _BUSY, retry_after)


# `Worker.handle_error` writes its answer through this module-level name.
util.write_error = write_error


class PacedSocket(socket.socket):
    """A client socket whose reads fail once a request body falls behind its minimum rate,
    or once the worker pre-empts its request (`preempt`)."""

    body_deadline: float | None = None
    # When the body's reading began, and how much of it has come (for the slowest body).
    body_started: float = 0.0
    body_bytes: int = 0
    # Whether a thread is waiting in recv for the client now; whether the worker pre-empted it.
    waiting: bool = False
    preempted: bool = False
    # Whether reads take only what has come, and raise `BodyPreempted` once that is read: a
    # request that waited its turn too long is answered busy so (`HeadFirstWorker._give_back`).
    draining: bool = False
    # How many more bytes of the body reads give (None: all of it); the next read past them
    # raises `BodyPreempted`, with `retry_after` if set: a request refused for its circuit's
    # pace is answered busy so, never served (`refuse`).
    budget: int | None = None
    retry_after: int | None = None
    # When a thread began to write this request's answer (None: not yet), how much of it is out,
    # and whether the thread is blocked writing it now: a write stalled on its client gives its
    # thread up as a slow body does (`stalled`, `HeadFirstWorker._victim`).
    send_started: float | None = None
    sent_bytes: int = 0
    sending: bool = False
    # Whether the request asked `Expect: 100-continue` and its `100 Continue` is not sent yet:
    # it goes as the app first reads the body (`_pay_continue`), never before a refusal.
    continue_owed: bool = False

    def refuse(self, retry_after: int, budget: int) -> None:
        """Have this request answered busy (Retry-After `retry_after`) once `budget` bytes of
        its body, or all that has come, are read: the fields that came whole go back."""
        self.draining = True
        self.budget = budget
        self.retry_after = retry_after

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Read as usual, but never wait past the body's deadline."""
        deadline = self.body_deadline
        if deadline is None:
            return super().recv(bufsize, flags)
        self._pay_continue()
        previous = self._wait_until(deadline)
        try:
            data = super().recv(self._within_budget(bufsize), flags)
        except BlockingIOError as exc:  # draining, and all that came is read
            self.preempted = True
            raise self._preempted() from exc
        except TimeoutError as exc:
            raise BodyTooSlow("too-slow") from exc
        finally:
            self._waited(previous)
        self.body_deadline = deadline + len(data) / BODY_MIN_RATE
        self.body_bytes += len(data)
        if self.budget is not None:
            self.budget -= len(data)
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Read into `buffer` as usual (the app reads bodies so), never past the body's deadline."""
        deadline = self.body_deadline
        if deadline is None:
            return super().recv_into(buffer, nbytes, flags)
        self._pay_continue()
        previous = self._wait_until(deadline)
        try:
            count = super().recv_into(buffer, self._within_budget(nbytes or len(buffer)), flags)
        except BlockingIOError as exc:  # draining, and all that came is read
            self.preempted = True
            raise self._preempted() from exc
        except TimeoutError as exc:
            raise BodyTooSlow("too-slow") from exc
        finally:
            self._waited(previous)
        self.body_deadline = deadline + count / BODY_MIN_RATE
        self.body_bytes += count
        if self.budget is not None:
            self.budget -= count
        return count

    def owe_continue(self) -> None:
        """The request asks `Expect: 100-continue`: answer it as the body is first read."""
        self.continue_owed = True

    def _pay_continue(self) -> None:
        """Send the `100 Continue` owed (`owe_continue`) before the body's first read from the
        client, unless the request is refused: pre-empted, or only what has come of its body
        read (`refuse`, `draining`), which a `100` would have the client send for nothing.

        gunicorn sent it as it built the request, before the app had looked at it: a report
        refused for its circuit's pace, or refused unread (far over the upload limit), first
        told its client to send the body, and the refusal came after it, or the body did
        (its thread waiting for it, to keep the connection)."""
        if not self.continue_owed or self.draining or self.preempted or self.budget is not None:
            return
        self.continue_owed = False
        line = memoryview(_CONTINUE)
        while line:
            line = line[self.send(line) :]

    def sendall(self, data: Any, flags: int = 0) -> None:
        """Write as usual, but a write of an answer (a thread's, blocking) that makes no
        progress for `SEND_SECONDS` ends the request as a client gone (EPIPE).

        A client that asked and read nothing, once tor's window for its stream was full,
        held the thread in this write for as long as it liked: the worker pre-empts only
        reads. The main loop's own writes (non-blocking) are as they were."""
        if self.gettimeout() is not None:
            super().sendall(data, flags)
            return
        view = memoryview(data).cast("B")
        self._start_sending()
        try:
            while view:
                try:
                    sent = self.send(view, flags)
                except TimeoutError as exc:
                    raise BrokenPipeError(errno.EPIPE, "the client read nothing") from exc
                view = view[sent:]
                self.sent_bytes += sent
        finally:
            self.sending = False
            self.settimeout(None)

    def send(self, data: Any, flags: int = 0) -> int:
        """Send as usual, but a thread's (blocking) send that makes no progress for
        `SEND_SECONDS` ends the request as a client gone (EPIPE), as `sendall`.

        gunicorn writes its `100 Continue` with a bare send: a client that had pipelined
        answers it never read until tor's window was full, then asked with
        `Expect: 100-continue`, held the thread in it for as long as it liked."""
        if self.gettimeout() is not None:  # the main loop's, or within `sendall`
            return super().send(data, flags)
        # Not the answer's write (`stalled` counts from that): an interim line, at once.
        self.settimeout(SEND_SECONDS)
        try:
            return super().send(data, flags)
        except TimeoutError as exc:
            raise BrokenPipeError(errno.EPIPE, "the client read nothing") from exc
        finally:
            self.settimeout(None)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """Send a file's answer as usual (gunicorn's `sendfile`), but a thread's send that makes
        no progress for `SEND_SECONDS` ends the request as a client gone (EPIPE), as `sendall`.

        A file's answer (a staff export's bundle, before it was streamed) went out by
        sendfile, past `sendall`'s deadline: a client asking for one and reading nothing
        held the thread for ever."""
        if self.gettimeout() is not None:
            return super().sendfile(file, offset, count)
        # With a timeout, each wait for room to write is bounded (`socket._sendfile_use_sendfile`);
        # sent a piece at a time, so that what is out is known as it goes (`rate`).
        self._start_sending()
        total = 0
        try:
            while count is None or total < count:
                piece = _FILE_PIECE if count is None else min(_FILE_PIECE, count - total)
                sent: int = super().sendfile(file, offset + total, piece)
                if not sent:
                    break
                total += sent
                self.sent_bytes += sent
        except TimeoutError as exc:
            raise BrokenPipeError(errno.EPIPE, "the client read nothing") from exc
        finally:
            self.sending = False
            self.settimeout(None)
        return total

    def _start_sending(self) -> None:
        """A thread begins a blocking write of the answer, `SEND_SECONDS` for each step."""
        if self.send_started is None:
            self.send_started = time.monotonic()
        self.settimeout(SEND_SECONDS)
        self.sending = True

    def stalled(self, now: float) -> bool:
        """Whether a thread is blocked writing the answer, begun `SCARCE_GRACE_SECONDS` ago or
        more: its client reads it slower than the worker writes (a page takes a moment)."""
        started = self.send_started
        return self.sending and started is not None and now - started >= SCARCE_GRACE_SECONDS

    def start_body(self) -> None:
        """The request's head is read: its body must keep up from now (after the grace)."""
        self.body_started = time.monotonic()
        self.body_bytes = 0
        self.body_deadline = self.body_started + BODY_GRACE_SECONDS
        self.send_started, self.sent_bytes = None, 0

    def rate(self, now: float) -> float:
        """The body's bytes a second so far; the answer's, while a thread is blocked writing it."""
        if self.sending and self.send_started is not None:
            return self.sent_bytes / max(now - self.send_started, 1e-3)
        return self.body_bytes / max(now - self.body_started, 1e-3)

    def lagging(self, now: float) -> bool:
        """Whether the body, past its first seconds, has come slower than `SCARCE_BODY_RATE`;
        or the answer, stalled (`stalled`), has gone out slower."""
        if self.sending:
            return self.stalled(now) and self.rate(now) < SCARCE_BODY_RATE
        return now - self.body_started >= SCARCE_GRACE_SECONDS and self.rate(now) < SCARCE_BODY_RATE

    def preempt(self) -> None:
        """Stop the read a thread waits in (main loop): it raises `BodyPreempted`, and the
        app answers 503 with Retry-After on the still open sending side. A write stalled on
        its client (`stalled`) is cut, both sides: it ends as a client gone (EPIPE)."""
        self.preempted = True
        with contextlib.suppress(OSError):
            self.shutdown(socket.SHUT_RDWR if self.sending else socket.SHUT_RD)

    def _within_budget(self, size: int) -> int:
        """At most `size` bytes, and no more than the budget left (`refuse`)."""
        return size if self.budget is None else min(size, self.budget)

    def _preempted(self) -> BodyPreempted:
        """The error a pre-empted read raises, with the refusal's Retry-After if any."""
        exc = BodyPreempted()
        if self.retry_after is not None:
            exc.retry_after = self.retry_after
        return exc

    def _wait_until(self, deadline: float) -> float | None:
        """Let the next read wait only until `deadline`; return the timeout to restore."""
        if self.budget == 0:
            self.preempted = True
        if self.preempted:
            raise self._preempted()
        if self.draining:
            previous = self.gettimeout()
            self.settimeout(0.0)
            return previous
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BodyTooSlow("too-slow")
        previous = self.gettimeout()
        self.settimeout(remaining)
        self.waiting = True
        return previous

    def _waited(self, previous: float | None) -> None:
        """Restore the timeout after a read; raise if the worker pre-empted it meanwhile."""
        self.waiting = False
        self.settimeout(previous)
        if self.preempted:
            raise self._preempted()


def _paced(sock: socket.socket) -> PacedSocket:
    """The same connection as a `PacedSocket`."""
    return PacedSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())


def tor_circuit(line: bytes) -> int | None:
    """The circuit id in tor's first line of a connection (without its CRLF), or None."""
    match = _TOR_LINE.fullmatch(line)
    if match is None:
        return None
    try:
        address = int(ipaddress.IPv6Address(match.group(1).decode("ascii")))
    except ValueError:
        return None
    if address >> 32 != _TOR_PREFIX:
        return None
    return address & 0xFFFFFFFF


def _whole(head: bytes | None) -> bool:
    """Whether a request read in the main loop came with all of its body (none, or every byte
    Content-Length says), so that no thread serving it will wait on the client."""
    if not head:
        return False
    end = head.find(_END_OF_HEAD)
    if end < 0:
        return False
    fields = head[: end + 2].lower()
    if b"transfer-encoding" in fields:
        return False
    lengths = _CONTENT_LENGTH.findall(fields)
    # Any other spelling of the field (folded, spaced, twice) is read as a body to come.
    if len(lengths) != fields.count(b"content-length"):
        return False
    return not lengths or len(head) - end - len(_END_OF_HEAD) >= int(lengths[0])


_TRANSFER_ENCODING: Final = re.compile(rb"\r\ntransfer-encoding[ \t]*:")


def _framed(head: bytes | None) -> bool:
    """Whether a request read in the main loop frames its body by `Transfer-Encoding` (chunked)
    rather than by its length: it is refused there (`HeadFirstWorker._refuse_head`).

    gunicorn reads a chunked body in Python, some 4 us of CPU a chunk: 600 KB of one-byte
    chunks cost a thread half a second, as much as 1.5 GiB said by its length, and a few
    circuits sending them as fast as tor carries them took the CPU from every page. No client
    of the server frames a body so: Tor Browser and raazdar-submit each say its length."""
    end = -1 if head is None else head.find(_END_OF_HEAD)
    if head is None or end < 0:
        return False
    return _TRANSFER_ENCODING.search(head[: end + 2].lower()) is not None


# The Cookie fields of a head, together, longer than this are refused in the main loop
# (`_cookies_stuffed`): a browser keeps a cookie of 4 KiB at most, and the app sets one
# (`app.sessions`, some 1 KiB).
COOKIE_LIMIT: Final = 8 * 1024
_COOKIE_FIELD: Final = re.compile(rb"\r\ncookie[ \t]*:([^\r\n]*)")


def _cookies_stuffed(head: bytes | None) -> bool:
    """Whether a request read in the main loop has more than `COOKIE_LIMIT` bytes of cookies:
    it is refused there (`HeadFirstWorker._refuse_head`).

    gunicorn takes fifty fields of 8 KiB each, and Werkzeug parses all of a request's Cookie
    fields (as one) when the session is opened, before any check: seven of `a=b; ` (56 KiB)
    cost a thread 10 to 45 ms of CPU, a report's own sealing of 1 MiB about as much."""
    end = -1 if head is None else head.find(_END_OF_HEAD)
    if head is None or end < 0:
        return False
    fields = head[: end + 2].lower()
    if len(fields) <= COOKIE_LIMIT or b"cookie" not in fields:
        return False
    return sum(len(value) for value in _COOKIE_FIELD.findall(fields)) > COOKIE_LIMIT


_SESSION_COOKIE: Final = Config.SESSION_COOKIE_NAME.encode("ascii")


def page_request(head: bytes | None) -> tuple[bytes, bytes, bytes] | None:
    """The method, the path (decoded, as the app routes it) and the session cookie of a page
    asked for with a session (GET or HEAD, no body), or None (`app.page_pacing.head_key`).

    Read as gunicorn and Werkzeug read them: the Cookie fields joined with commas, split at
    semicolons, the first of the session's name taken; an absolute target's path."""
    if not _bodiless(head) or head is None:
        return None
    line_end = head.find(b"\r\n")
    parts = head[:line_end].split(b" ")
    if len(parts) != 3 or parts[0] not in (b"GET", b"HEAD"):
        return None
    target = parts[1].split(b"#", 1)[0].split(b"?", 1)[0]
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        slash = target.find(b"/", target.find(b"//") + 2)
        target = target[slash:] if slash >= 0 else b"/"
    cookie = cookie_of(head, _SESSION_COOKIE)
    return None if cookie is None else (parts[0], unquote_to_bytes(target), cookie)


def cookie_of(head: bytes | None, name: bytes) -> bytes | None:
    """The value of the cookie `name` a request's head sends, or None: read as gunicorn and
    Werkzeug read it, the Cookie fields joined with commas, split at semicolons, the first
    of the name taken."""
    end = -1 if head is None else head.find(_END_OF_HEAD)
    if head is None or end < 0:
        return None
    fields = head[head.find(b"\r\n") : end + 2]
    # The values as sent (a cookie's name is read as its case says), found in the lowered
    # fields, whose offsets are the same.
    cookies = b",".join(
        fields[m.start(1) : m.end(1)] for m in _COOKIE_FIELD.finditer(fields.lower())
    )
    for pair in cookies.split(b";"):
        key, equals, value = pair.partition(b"=")
        if equals and key.strip() == name:
            return value.strip()
    return None


def _form_length(head: bytes | None) -> int | None:
    """The Content-Length of a request read in the main loop whose body is a form
    (multipart/form-data, as a report's) said once and plainly, or None."""
    end = -1 if head is None else head.find(_END_OF_HEAD)
    if head is None or end < 0:
        return None
    fields = head[: end + 2].lower()
    lengths = _CONTENT_LENGTH.findall(fields)
    if (
        b"transfer-encoding" in fields
        or b"\r\ncontent-type: multipart/form-data" not in fields
        or len(lengths) != 1
        or fields.count(b"content-length") != 1
    ):
        return None
    return int(lengths[0])


def _short_form(head: bytes | None) -> bool:
    """Whether a request read in the main loop is a urlencoded form (a login's) that came whole
    with its head, and short (`_SHORT_FORM` bytes at most)."""
    if not _whole(head) or head is None:
        return False
    end = head.find(_END_OF_HEAD)
    fields = head[: end + 2].lower()
    return (
        b"\r\ncontent-type: application/x-www-form-urlencoded" in fields
        and len(head) - end - len(_END_OF_HEAD) <= _SHORT_FORM
    )


def _short_form_coming(head: bytes) -> bool:
    """Whether a request whose head the main loop has read is a short urlencoded form (a
    login's, `_short_form`) the rest of whose body is still to come: the main loop reads it
    too. Its body may come in a cell after its head's, and a login refused for its circuit's
    pace was then answered a bare 503, the codename lost."""
    end = head.find(_END_OF_HEAD)
    return end >= 0 and len(head) - end - len(_END_OF_HEAD) < short_form_body(head)


def short_form_body(head: bytes | bytearray) -> int:
    """The length of a short urlencoded form's body (a login's: `_SHORT_FORM` bytes at most,
    said once and plainly) whose head, whole, begins `head`; 0 if it is no such form."""
    end = head.find(_END_OF_HEAD)
    if end < 0:
        return 0
    fields = bytes(head[: end + 2]).lower()
    lengths = _CONTENT_LENGTH.findall(fields)
    if (
        b"\r\ncontent-type: application/x-www-form-urlencoded" not in fields
        or b"transfer-encoding" in fields
        or len(lengths) != 1
        or fields.count(b"content-length") != 1
        or int(lengths[0]) > _SHORT_FORM
    ):
        return 0
    return int(lengths[0])


def _bodiless(head: bytes | None) -> bool:
    """Whether a request read in the main loop has no body at all (a page, not a form)."""
    if not _whole(head) or head is None:
        return False
    fields = head[: head.find(_END_OF_HEAD) + 2].lower()
    return b"content-length" not in fields


def _closed(conn: Any) -> bool:
    """Say whether a connection's socket is closed (gunicorn closes it, and forgets it)."""
    return bool(conn.sock.fileno() == -1)


def _circuit_of(conn: Any) -> int | None:
    """The circuit tor named for a connection, or None (staff, or circuits not named)."""
    circuit = getattr(conn, "circuit", None)
    return circuit if isinstance(circuit, int) and circuit >= 0 else None
