"""gunicorn's gthread worker, made patient with Tor and impatient with slow-drip clients.

Stock gthread hands a connection to a thread as soon as its first byte arrives,
and the thread then waits for the rest of the request head: ten connections
sending a byte every two seconds hold ten threads, and pages stall for everyone.
This worker reads each request head in its main loop (non-blocking, like the
keep-alive wait gthread already does there), so a connection costs a thread only
once its head is complete. A head must arrive within `HEAD_SECONDS`; a body must
keep up an average of `BODY_MIN_RATE` bytes a second after `BODY_GRACE_SECONDS`
(Apache's mod_reqtimeout defaults), else the connection is closed. Nothing is
spooled anywhere: the body is still read by the app, straight from the socket.

Its request threads run at a lower CPU priority (`REQUEST_NICE`) than its
main loop and its Argon2id derivation threads (`app.kdf_pool`): every login
waiting for a derivation slot waits on the derivations in progress, so a flood
of cheap requests (garbage API proofs, say) must not take their CPU. Pages
still get the CPU the derivations leave, and derivations are bounded by the
pool's slots (one per core), so nothing starves.

A worker whose threads are all busy stops accepting connections until one is
free, so that another worker with idle threads takes them: stock gthread lets
the first worker to wake accept a whole burst and queue it behind its own
threads while the other workers idle.

It also drops gunicorn's `Server` header, which names the software to anyone,
and answers the requests gunicorn's parser refuses itself (a malformed request
line, an oversize header, a bad Content-Length), which never reach the app,
with the app's strict headers (`app.security.HEADERS`: no-store, CSP, no
framing) and a body that repeats nothing of the request.

With RAAZDAR_TOR_CIRCUITS=1, tor starts every connection to a source listener
with a line naming the circuit it came on (HiddenServiceExportCircuitID
haproxy: `PROXY TCP6 fc00:dead:beef:4dad::AABB:CCDD ::1 ...`). The main loop
reads it with the head, keeps the circuit with the connection (for every
request on it) and hands it to `app.kdf_pool`, whose queue takes circuits in
turn. The line is never passed on (REMOTE_ADDR stays tor's loopback address)
and the circuit is never logged or stored. A connection without the line is
closed unanswered: only tor may say which circuit a request came on.

A circuit is one client, and tor lets it open any number of streams: bodies
kept just above `BODY_MIN_RATE` on forty of them would hold every thread of two
workers for as long as the bodies last (a 1 MiB body, half an hour). So a
worker serves at most `CIRCUIT_THREADS` requests of one circuit at once; the
circuit's further requests wait in the main loop, holding no thread, and are
served in turn as its requests end. At most `CIRCUIT_WAITING` wait, each for at most
`WAIT_SECONDS`; past that a kept thread reads what has come of its body and answers it
busy, as a pre-empted one (`_give_back`), and so at once a request past those waiting:
closed unanswered, a report's form was lost with it. A browser's
parallel fetches of one page wait a moment; a flood from one circuit holds a
few threads of each worker, and only more circuits (which tor's proof-of-work
prices) could hold more. Nor may one circuit hold more than
`CIRCUIT_CONNECTIONS` connections of a worker in any state (a head still
coming, kept alive, waiting its turn, served): gunicorn takes no connection at
all once a worker holds `worker_connections`, so heads never finished from one
circuit would otherwise shut everyone else out.

The share is per worker, so a few circuits, each with its share in every
worker, held every thread for as long as their bodies lasted (hours), and any
other circuit's request waited behind them. So when every thread is busy and
the head of a request of a circuit holding k threads is in, the worker
pre-empts one request for it (`_victim`) of a circuit holding k + 2 or more:
of the circuit holding the most, the one whose body has come slowest, among
those whose thread waits on the client at that moment. Its read raises
`BodyPreempted`, which the app answers 503 with Retry-After, unlogged (a report's
form given back, once its message came whole: `app.uploads.SealingRequest`); the
freed thread takes the waiting request. Shares are so evened out (a browser's
page and its parts get threads beside the flood), and a source sending one
body, however slowly, holds one thread and is never pre-empted by this rule. Waiting
requests are served the circuit holding fewest threads first (of those a thread may take
now), and a request finding every thread busy and none to pre-empt waits so too.

That rule cannot tell one slow body on each of many circuits from as many slow
sources: sixty-four circuits, one body each just above `BODY_MIN_RATE`, held every
thread of two workers (for half an hour, a 1 MiB body) and no other circuit got a
page. So a worker whose every thread is busy also pre-empts, for a request of a
circuit holding none of them, a body that has come slower than `SCARCE_BODY_RATE`
since it began (`SCARCE_GRACE_SECONDS` on): the slowest such, of the circuit holding
the most. That rate binds only while threads are scarce, and is far below what a
phone's Tor circuit carries; a source sending faster keeps its thread, and holding
every thread now costs a flood that rate on each, not `BODY_MIN_RATE`.

Nor could that rate tell a body at 4.1 KiB/s from a slow source's: one such body on each
of a few hundred circuits held every thread, and the worker accepted no other connection
while they lasted, so no page, login or short form reached it. So a worker keeps
`QUICK_THREADS` more threads for requests whose body came whole with the head (`_whole`),
which wait on no client and hold a thread a moment; while every other thread is busy such a
request takes one of them, and the worker accepts while one is free (`_quick`). A login
comes whole, and waits there for a derivation slot: at most `QUICK_DERIVING` kept threads
may (`app.kdf_pool.in_slot`), or logins from a few circuits held them all, and no page came.

A worker raises its soft limit on open files to what its connections need (`_fit_file_limit`),
and an accept() finding no descriptor free pauses accepting (`ACCEPT_PAUSE`): under systemd's
soft 1,024, heads never finished from a few dozen circuits made it fail, and the worker died.

tor's proof-of-work prices a circuit, not what is sent down it: a circuit kept open was
served every request it sent and never paid again. So each request of a named circuit takes
the circuit's turn as its head comes in (`circuits.take_circuit_turn`: 1,024 at once, then
two a second, across the host's workers); past that it is answered 503 with Retry-After
here, holding no thread (`_head_in`).

A kept-alive connection's next head is read in the main loop too, what of it came behind the
last request included (`enqueue_req`): it went straight to a thread, which waited for the rest.

Nor could the cap of `CIRCUIT_CONNECTIONS` tell thirty-two circuits, each holding 32
heads never finished, from many clients: together they held the worker's
`worker_connections` (1,000), and it took no other connection until the heads timed
out (`HEAD_SECONDS`), when they were sent again. So a worker accepts `HEAD_SLACK` more,
to read whose they are; past `worker_connections`, a connection of a circuit holding
k connections closes the oldest idle one (a head still coming, or kept alive between two
requests) of the circuit holding the most, if that one holds k + 2 or more (`_make_room`),
else it is closed itself. Kept-alive ones count since a few circuits, each asking again
every few seconds on its 32 connections, held them all and were never closed.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import ipaddress
import os
import re
import resource
import selectors
import socket
import threading
import time
from concurrent import futures
from functools import partial
from typing import Any, Final

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import TConn, ThreadWorker

# Imported here, in the gunicorn master (which loads the worker class), so that
# the pool's table of waiters, and the circuits' accounts, are mapped before the
# fork and shared by every worker.
from app import circuits, kdf_pool, report_pacing  # noqa: F401 - report_pacing for its table
from app.config import kdf_slots, staff_binds, tor_circuits
from app.errors import AppError
from app.listeners import local_address
from app.security import HEADERS

HEAD_SECONDS: Final = 20.0
BODY_GRACE_SECONDS: Final = 20.0
BODY_MIN_RATE: Final = 500.0
# The longest head the main loop reads (Tor Browser's are under 2 KiB); a longer one is
# answered 400 there (`_refuse_head`). gunicorn takes heads of fifty 8 KiB fields: handed to
# a thread, the rest of one came at the body's least rate, some ten minutes a thread.
_HEAD_LIMIT: Final = 64 * 1024
_END_OF_HEAD: Final = b"\r\n\r\n"
# Tor's line (control-spec's HiddenServiceExportCircuitID): the circuit is the
# low 32 bits of the source address; ports and the rest are tor's own.
_TOR_LINE: Final = re.compile(
    rb"PROXY TCP6 (fc00:dead:beef:4dad:[0-9a-f:]{1,24}) ::1 \d{1,5} \d{1,5}"
)
_TOR_PREFIX: Final = int(ipaddress.IPv6Address("fc00:dead:beef:4dad::")) >> 32
# Tor's line is under 80 bytes; a connection that has sent this many without one is not tor.
_TOR_LINE_LIMIT: Final = 108
# The most requests of one circuit a worker serves at once (of `threads`: 16 as deployed);
# Tor Browser opens up to six connections to a host, so a page's parts barely wait.
CIRCUIT_THREADS: Final = 4
# How many more of one circuit's requests may wait for its turn, and for how long (seconds).
CIRCUIT_WAITING: Final = 16
WAIT_SECONDS: Final = 30.0
# How much longer a request past `WAIT_SECONDS` may wait for a kept thread to answer it busy
# (`HeadFirstWorker._give_back`) before it is closed unanswered.
GIVE_BACK_SECONDS: Final = 15.0
# The most connections one circuit may hold to a worker at once, in any state.
CIRCUIT_CONNECTIONS: Final = 32
# How many connections past `worker_connections` a worker takes, to read which circuit each
# is of before it keeps it in the place of a head still coming (`_make_room`), or closes it.
HEAD_SLACK: Final = 32
# How much nicer request threads are than derivation threads: nice 10 weighs about
# a tenth of nice 0 when both want one core. At nice 5 (a third) a flood of cheap
# requests (503s, garbage proofs) slowed each derivation 2.2x on the 2-core machine
# and a flooded login took x4.3 its quiet time at p95; at nice 10, 1.3x and x2.6, with
# quiet logins unchanged (tests/bench/login.py, quiet machine, 2026-12-02).
REQUEST_NICE: Final = 10
# While every thread of a worker is busy, a body slower than this (bytes a second, since it
# began) gives its thread up to a request of a circuit holding none there (`_victim`), once it
# has had this long (seconds) to get going. 4 KiB/s is 32 kbit/s, a slow GPRS uplink's.
SCARCE_BODY_RATE: Final = 4096.0
SCARCE_GRACE_SECONDS: Final = 5.0
# When a pre-empted request's client may send it again (seconds): by then its thread is free.
PREEMPTED_RETRY_AFTER: Final = 5
# Threads beyond `threads` that serve only requests whose body came whole with the head (a
# page, its parts, a login, a short form) while every other thread is busy (`_whole`).
QUICK_THREADS: Final = 4
# How many of those may wait for (or run) a derivation at once (`app.kdf_pool.in_slot`): a
# login comes whole, and waits for a slot up to `KDF_WAIT_SECONDS`; the rest keep for pages.
QUICK_DERIVING: Final = 2
# Open files a worker keeps beyond its connections (`_fit_file_limit`): listeners, the
# database's, the log, the derivation pool's lock files, the files its threads write.
FILE_RESERVE: Final = 256
# How long a worker stops accepting after an accept() found no descriptor free (seconds).
ACCEPT_PAUSE: Final = 0.5
_NO_DESCRIPTOR: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_CONTENT_LENGTH: Final = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,19})[ \t]*\r\n")


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


class _Response(wsgi.Response):
    """gunicorn's response writer without the `Server: gunicorn` line."""

    def default_headers(self) -> list[str]:
        """Gunicorn's own headers, except the one that names it."""
        headers: list[str] = super().default_headers()
        return [h for h in headers if not h.lower().startswith("server:")]


# `wsgi.create` builds its writer from this module-level name.
wsgi.Response = _Response


def write_error(
    sock: socket.socket, status_int: int, reason: str, mesg: str, retry_after: int | None = None
) -> None:
    """Answer a request gunicorn refused itself: the app's headers, and only the status.

    gunicorn's own page had no Cache-Control, CSP or framing rule, and its text
    repeated the words of the request it refused (`mesg`, left out here).
    """
    body = f"{status_int} {reason}\n".encode("latin-1")
    lines = [
        f"HTTP/1.1 {status_int} {reason}",
        *([] if retry_after is None else [f"Retry-After: {retry_after}"]),
        "Connection: close",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in HEADERS.items()),
    ]
    util.write_nonblock(sock, "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)


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

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Read as usual, but never wait past the body's deadline."""
        deadline = self.body_deadline
        if deadline is None:
            return super().recv(bufsize, flags)
        previous = self._wait_until(deadline)
        try:
            data = super().recv(bufsize, flags)
        except BlockingIOError as exc:  # draining, and all that came is read
            self.preempted = True
            raise BodyPreempted from exc
        except TimeoutError as exc:
            raise BodyTooSlow("too-slow") from exc
        finally:
            self._waited(previous)
        self.body_deadline = deadline + len(data) / BODY_MIN_RATE
        self.body_bytes += len(data)
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Read into `buffer` as usual (the app reads bodies so), never past the body's deadline."""
        deadline = self.body_deadline
        if deadline is None:
            return super().recv_into(buffer, nbytes, flags)
        previous = self._wait_until(deadline)
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except BlockingIOError as exc:  # draining, and all that came is read
            self.preempted = True
            raise BodyPreempted from exc
        except TimeoutError as exc:
            raise BodyTooSlow("too-slow") from exc
        finally:
            self._waited(previous)
        self.body_deadline = deadline + count / BODY_MIN_RATE
        self.body_bytes += count
        return count

    def start_body(self) -> None:
        """The request's head is read: its body must keep up from now (after the grace)."""
        self.body_started = time.monotonic()
        self.body_bytes = 0
        self.body_deadline = self.body_started + BODY_GRACE_SECONDS

    def rate(self, now: float) -> float:
        """The body's bytes a second so far."""
        return self.body_bytes / max(now - self.body_started, 1e-3)

    def lagging(self, now: float) -> bool:
        """Whether the body, past its first seconds, has come slower than `SCARCE_BODY_RATE`."""
        return now - self.body_started >= SCARCE_GRACE_SECONDS and self.rate(now) < SCARCE_BODY_RATE

    def preempt(self) -> None:
        """Stop the read a thread waits in (main loop): it raises `BodyPreempted`, and the
        app answers 503 with Retry-After on the still open sending side."""
        self.preempted = True
        with contextlib.suppress(OSError):
            self.shutdown(socket.SHUT_RD)

    def _wait_until(self, deadline: float) -> float | None:
        """Let the next read wait only until `deadline`; return the timeout to restore."""
        if self.preempted:
            raise BodyPreempted
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
            raise BodyPreempted


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


def _closed(conn: Any) -> bool:
    """Say whether a connection's socket is closed (gunicorn closes it, and forgets it)."""
    return bool(conn.sock.fileno() == -1)


def _circuit_of(conn: Any) -> int | None:
    """The circuit tor named for a connection, or None (staff, or circuits not named)."""
    circuit = getattr(conn, "circuit", None)
    return circuit if isinstance(circuit, int) and circuit >= 0 else None


def _request_thread_priority() -> None:
    """Lower this request thread's CPU priority (Linux: per thread) below the derivations'."""
    me = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + REQUEST_NICE)


class HeadFirstWorker(ThreadWorker):
    """gthread with request heads read in the main loop and deadlines on heads and bodies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections = 0
        super().__init__(*args, **kwargs)
        self.reading_heads: dict[Any, float] = {}
        # Requests handed to the threads and not finished (main loop only).
        self.in_flight = 0
        # Whether tor names the circuit first on the source listeners (RAAZDAR_TOR_CIRCUITS).
        self.circuits = tor_circuits()
        # Per circuit: its requests in the threads, and those waiting for one (main loop only).
        self.circuit_load: collections.Counter[int] = collections.Counter()
        self.circuit_waiting: dict[int, collections.deque[Any]] = {}
        self.waiting_until: dict[Any, tuple[float, int]] = {}
        # Per circuit: its connections to this worker (closed ones are pruned as found).
        self.circuit_conns: dict[int, list[Any]] = {}
        # The connections of named circuits whose requests are in the threads (main loop only).
        self.serving: dict[Any, None] = {}
        # The threads kept for requests that came whole (`QUICK_THREADS`), and how many are busy.
        self.quick_pool: futures.ThreadPoolExecutor | None = None
        self.quick_in_flight = 0
        # Until when the worker accepts nothing, an accept() having found no descriptor free.
        self.accept_paused_until = 0.0
        # What a kept thread passes to wait for a derivation slot (`QUICK_DERIVING`).
        self.quick_deriving = threading.BoundedSemaphore(QUICK_DERIVING)
        self.staff_binds = frozenset(staff_binds())

    @property
    def worker_connections(self) -> int:
        """gthread accepts while it holds fewer connections: none while every thread is busy,
        unless a thread may be pre-empted for a circuit that holds none (`_victim`); none
        for a moment after an accept() found no descriptor free."""
        if time.monotonic() < self.accept_paused_until:
            return 0
        if (
            self.in_flight < self.cfg.threads
            or self.quick_in_flight < QUICK_THREADS
            or self._victim(2) is not None
        ):
            return self._connections + (HEAD_SLACK if self.circuits else 0)
        return 0

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._connections = value

    def run(self) -> None:
        """Serve as gthread does; then let the quick threads go as gthread lets its own go."""
        try:
            super().run()
        finally:
            if self.quick_pool is not None:
                self.quick_pool.shutdown(wait=False)

    def init_process(self) -> None:
        """Start the derivation threads from this (main) thread, at the worker's own priority."""
        # One more than the slots: the staff's own slot must find a thread free even
        # when every derivation on the host runs in this worker.
        kdf_pool.start_derivers(kdf_slots() + kdf_pool.STAFF_SLOTS)
        self._fit_file_limit()
        super().init_process()

    def _fit_file_limit(self) -> None:
        """Raise the soft limit on open files to what the worker's connections need (within
        the hard limit); if the hard limit is lower, take fewer connections.

        systemd starts a service with a soft limit of 1,024, and a worker takes 1,032
        connections: heads never finished from a few dozen circuits made accept() fail
        with EMFILE, and the worker died of it, every upload it was reading cut.
        """
        need = self._connections + HEAD_SLACK + FILE_RESERVE
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY or soft >= need:
            return
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(
                resource.RLIMIT_NOFILE,
                (need if hard == resource.RLIM_INFINITY else min(need, hard), hard),
            )
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < need:
            self._connections = max(
                soft - HEAD_SLACK - FILE_RESERVE, self.cfg.threads + QUICK_THREADS
            )
            self.log.warning(
                "the open-file limit (%d) lets each worker hold %d connections: raise "
                "LimitNOFILE to %d",
                soft,
                self._connections,
                need,
            )

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        """gthread's request threads, each at a lower CPU priority than the derivations; and
        the few kept for requests that came whole (`QUICK_THREADS`)."""
        self.quick_pool = futures.ThreadPoolExecutor(
            max_workers=QUICK_THREADS, initializer=_request_thread_priority
        )
        return futures.ThreadPoolExecutor(
            max_workers=self.cfg.threads, initializer=_request_thread_priority
        )

    def accept(self, listener: Any) -> None:
        """Accept as gthread does, on a paced socket."""
        try:
            client, address = listener.accept()
            self.nr_conns += 1
            paced = _paced(client)
            paced.setblocking(True)
            conn = TConn(self.cfg, paced, address, listener.getsockname())
            # None until tor's line has been read; -1 where none is expected (staff).
            conn.circuit = -1
            if self.circuits and local_address(listener) not in self.staff_binds:
                conn.circuit = None
            self.enqueue_req(conn)
        except OSError as exc:
            if exc.errno in _NO_DESCRIPTOR:
                # It killed the worker. Its connection waits in the backlog; the listener
                # stays readable, so the loop would spin on it: pause instead.
                self.accept_paused_until = time.monotonic() + ACCEPT_PAUSE
            elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def enqueue_req(self, conn: Any) -> None:
        """Read the request head here first, unless it is already here whole.

        A kept-alive connection's next head may have begun behind the last request, in the
        parser's buffer: it went to a thread, which waited for the rest of it (a few such,
        dripping, held every thread), and the one pre-empted or fallen behind was answered
        500 with a line in the log. What came of it is taken back here, and the rest read so.
        """
        if getattr(conn, "head", None) is not None:
            self._to_thread(conn)
            return
        begun = b"" if conn.parser is None else conn.parser.unreader.take_buffered()
        if _END_OF_HEAD in begun:
            conn.head = begun
            self._head_in(conn)
            return
        if len(begun) > _HEAD_LIMIT:
            self._refuse_head(conn)
            return
        conn.sock.setblocking(False)
        conn.head = None
        conn.head_bytes = bytearray(begun)
        self.reading_heads[conn] = time.monotonic() + HEAD_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: Any, _sock: Any) -> None:
        """Take what the client has sent; hand the connection on once its head is whole."""
        if conn not in self.reading_heads:
            return  # closed for another's head (`_make_room`) in this round of events
        try:
            data = conn.sock.recv(_HEAD_LIMIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.head_bytes += data
        if conn.circuit is None and not self._take_tor_line(conn):
            return
        if _END_OF_HEAD not in conn.head_bytes and len(conn.head_bytes) > _HEAD_LIMIT:
            self._refuse_head(conn)
        elif _END_OF_HEAD in conn.head_bytes:
            self.poller.unregister(conn.sock)
            del self.reading_heads[conn]
            conn.head = bytes(conn.head_bytes)
            conn.head_bytes = bytearray()
            conn.data_ready = True
            self._head_in(conn)

    def _head_in(self, conn: Any) -> None:
        """Hand on a request whose head is here, if its circuit has a turn left
        (`circuits.take_circuit_turn`); else answer it busy here, holding no thread.

        tor's proof-of-work prices a circuit, not its requests: one circuit kept open had
        every request it sent served, and never paid again."""
        wait = circuits.take_circuit_turn(_circuit_of(conn))
        if wait:
            with contextlib.suppress(OSError):
                write_error(conn.sock, 503, "Service Unavailable", "", retry_after=wait)
            self._drop(conn)
            return
        self._to_thread(conn)

    def _refuse_head(self, conn: Any) -> None:
        """Answer a head longer than `_HEAD_LIMIT` 400, as gunicorn answers one past its
        limits (`write_error`), and close it: no thread waits for the rest of it."""
        with contextlib.suppress(OSError):
            write_error(conn.sock, 400, "Bad Request", "")
        self._drop(conn)

    def _take_tor_line(self, conn: Any) -> bool:
        """Take tor's line off the front of a new connection; False while none is whole yet.

        A connection whose first line is not tor's is closed.
        """
        end = conn.head_bytes.find(b"\r\n")
        if end < 0:
            if len(conn.head_bytes) > _TOR_LINE_LIMIT:
                self._drop(conn)
            return False
        circuit = tor_circuit(bytes(conn.head_bytes[:end]))
        if circuit is None or not self._make_room(circuit) or not self._admit(circuit, conn):
            self._drop(conn)
            return False
        conn.circuit = circuit
        del conn.head_bytes[: end + 2]
        return True

    def _make_room(self, circuit: int) -> bool:
        """Past `worker_connections`, close the idle connection (a head still coming, or one
        kept alive) nearest its deadline of the circuit holding the most connections, while it
        holds two more than `circuit`; False if still past.

        Kept-alive ones count: a few circuits asking again every few seconds, each before
        `keepalive` closed its connections, held every place, and no new circuit got one.
        A client whose kept-alive connection is closed opens another."""
        while self.nr_conns > self._connections:
            mine = sum(not _closed(c) for c in self.circuit_conns.get(circuit, ()))
            idle = {c: c.timeout for c in self.keepalived_conns} | self.reading_heads
            best: tuple[int, float] | None = None
            oldest = None
            for conns in self.circuit_conns.values():
                held = sum(not _closed(c) for c in conns)
                heads = [c for c in conns if c in idle]
                if held < mine + 2 or not heads:
                    continue
                first = min(heads, key=idle.__getitem__)
                rank = (-held, idle[first])
                if best is None or rank < best:
                    best, oldest = rank, first
            if oldest is None:
                return False
            self._drop(oldest)
        return True

    def _admit(self, circuit: int, conn: Any) -> bool:
        """Count a new connection of `circuit`; False if the circuit holds its most already."""
        held = [c for c in self.circuit_conns.get(circuit, ()) if not _closed(c)]
        if len(held) >= CIRCUIT_CONNECTIONS:
            return False
        held.append(conn)
        self.circuit_conns[circuit] = held
        return True

    def _to_thread(self, conn: Any) -> None:
        """Hand a connection whose head is here to a thread, or to its circuit's queue."""
        circuit = _circuit_of(conn)
        if circuit is not None:
            load = self.circuit_load[circuit]
            if load >= CIRCUIT_THREADS:
                self._wait_turn(circuit, conn)
                return
            if self.in_flight >= self.cfg.threads and self._quick(conn):
                self.circuit_load[circuit] += 1
                self.serving[conn] = None
                return
            if self.in_flight >= self.cfg.threads:
                victim = self._victim(load + 2)
                if victim is not None:
                    # The first in the pool's queue: the victim's thread takes it as it lets go.
                    victim.sock.preempt()
                else:
                    # Holding no thread, not in the pool's queue: the worker accepts while a
                    # quick thread is free, and bodies queued there would come before anyone
                    # a victim's thread is freed for.
                    self._wait_turn(circuit, conn)
                    return
            self.circuit_load[circuit] += 1
            self.serving[conn] = None
        elif self.in_flight >= self.cfg.threads and self._quick(conn):
            return
        self.in_flight += 1
        super().enqueue_req(conn)

    def _quick_free(self, conn: Any) -> bool:
        """Whether a thread kept for requests that came whole is free, and `conn`'s did."""
        return (
            self.quick_pool is not None
            and self.quick_in_flight < QUICK_THREADS
            and _whole(getattr(conn, "head", None))
        )

    def _quick(self, conn: Any) -> bool:
        """Serve a request that came whole on a thread kept for such (every other thread being
        busy) if one is free; say whether it was.

        Bodies kept just above `SCARCE_BODY_RATE`, one from each of a few hundred circuits
        (tor's proof-of-work prices circuits, not bytes), held every thread, and no page,
        login or short form of anyone else was served while they lasted. A request whose body
        is all here waits on no client: it holds its thread a moment, however many come.
        """
        if self.quick_pool is None or self.quick_in_flight >= QUICK_THREADS:
            return False
        if not _whole(getattr(conn, "head", None)):
            return False
        self._on_quick_thread(self.quick_pool, conn)
        return True

    def _on_quick_thread(self, pool: futures.ThreadPoolExecutor, conn: Any) -> None:
        """Hand `conn` to a free kept thread (`QUICK_THREADS`, of `pool`)."""
        conn.quick = True
        self.quick_in_flight += 1
        fs = pool.submit(self.handle, conn)
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def _victim(self, least: int) -> Any:
        """The request to pre-empt for a circuit holding `least` - 2 threads, or None: of the
        circuit holding the most threads here (`least` at least, not counting those already
        pre-empted), the one whose body has come slowest, among those whose thread waits
        for the client now. Pre-empting only a circuit holding two more than the taker
        evens circuits' shares out; a circuit's one thread goes only to a circuit holding
        none, and only if its body lags (`PacedSocket.lagging`)."""
        now = time.monotonic()
        going = collections.Counter(
            c.circuit for c in self.serving if getattr(c.sock, "preempted", False)
        )
        best: tuple[int, float] | None = None
        victim = None
        for conn in self.serving:
            sock = conn.sock
            if not isinstance(sock, PacedSocket) or not sock.waiting or sock.preempted:
                continue
            load = self.circuit_load[conn.circuit] - going[conn.circuit]
            if load < least and not (least == 2 and sock.lagging(now)):
                continue
            rank = (-load, sock.rate(now))
            if best is None or rank < best:
                best, victim = rank, conn
        return victim

    def _wait_turn(self, circuit: int, conn: Any) -> None:
        """Queue a request of a circuit that has its share of threads; past `CIRCUIT_WAITING`
        of them, one already out of time, answered busy at the next round (`_give_back`).

        It was closed unanswered, a report's form with it. The circuit's connections
        (`CIRCUIT_CONNECTIONS`) bound its queue still."""
        waiting = self.circuit_waiting.setdefault(circuit, collections.deque())
        wait = WAIT_SECONDS if len(waiting) < CIRCUIT_WAITING else 0.0
        waiting.append(conn)
        self.waiting_until[conn] = (time.monotonic() + wait, circuit)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A thread is done with the request: count it free, give its circuit's next request
        the turn, then finish as gthread does."""
        if getattr(conn, "quick", False):
            conn.quick = False
            self.quick_in_flight -= 1
        else:
            self.in_flight -= 1
        circuit = _circuit_of(conn)
        if circuit is not None:
            self.serving.pop(conn, None)
            self.circuit_load[circuit] -= 1
            if self.circuit_load[circuit] <= 0:
                del self.circuit_load[circuit]
            self._serve_waiting()
        super().finish_request(conn, fs)

    def _serve_waiting(self) -> None:
        """Serve waiting requests of circuits under their share, the circuit holding fewest
        threads first, while a thread is free or one may be pre-empted for them."""
        while (turn := self._next_turn()) is not None:
            del self.waiting_until[turn]
            self._to_thread(turn)

    def _next_turn(self) -> Any:
        """Take out of its queue the waiting request to serve now, or None: of the circuit
        holding fewest threads whose first waiting request a thread may take (one free, one
        to pre-empt, or a quick one: a body still coming waits, a page goes past it)."""
        for circuit in sorted(self.circuit_waiting, key=self.circuit_load.__getitem__):
            load = self.circuit_load[circuit]
            if load >= CIRCUIT_THREADS:
                return None
            if (
                self.in_flight < self.cfg.threads
                or self._victim(load + 2) is not None
                or self._quick_free(self.circuit_waiting[circuit][0])
            ):
                return self._leave_queue(circuit)
        return None

    def _drop(self, conn: Any) -> None:
        """Forget a connection whose head never came (closed, or out of time), or kept alive."""
        self.reading_heads.pop(conn, None)
        with contextlib.suppress(ValueError):
            self.keepalived_conns.remove(conn)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self._close(conn)

    def _close(self, conn: Any) -> None:
        """Close a connection no thread has, unanswered."""
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close connections waiting for data too long, heads included, or for their turn."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, deadline in self.reading_heads.items() if deadline < now]:
            self._drop(conn)
        for conn, (deadline, circuit) in list(self.waiting_until.items()):
            if deadline < now and not self._give_back(conn, circuit, now - deadline):
                del self.waiting_until[conn]
                self._leave_queue(circuit, conn)
                self._close(conn)
        self._serve_waiting()
        for circuit, held in list(self.circuit_conns.items()):
            open_ = [c for c in held if not _closed(c)]
            if open_:
                self.circuit_conns[circuit] = open_
            else:
                del self.circuit_conns[circuit]

    def _give_back(self, conn: Any, circuit: int, late: float) -> bool:
        """Answer a request that waited its turn past `WAIT_SECONDS` on a kept thread, which
        reads only what has come of its body, then answers as to a pre-empted body (a report's
        form given back); say whether it is answered or still waits for a kept thread.

        It was closed unanswered, and a report's form with it. Reading only what has come
        waits on no client, as a request that came whole does (`_quick`).
        """
        if late > GIVE_BACK_SECONDS:
            return False
        if self.quick_pool is None or self.quick_in_flight >= QUICK_THREADS:
            return True  # a kept thread is busy a moment: it waits for the next round
        del self.waiting_until[conn]
        self._leave_queue(circuit, conn)
        conn.sock.draining = True
        self.circuit_load[circuit] += 1
        self.serving[conn] = None
        self._on_quick_thread(self.quick_pool, conn)
        return True

    def _leave_queue(self, circuit: int, conn: Any = None) -> Any:
        """Take `conn` (by default the first) out of its circuit's queue; return it."""
        waiting = self.circuit_waiting[circuit]
        if conn is None:
            conn = waiting.popleft()
        else:
            waiting.remove(conn)
        if not waiting:
            del self.circuit_waiting[circuit]
        return conn

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        """Keep the connection only if the unread rest of its body drains in time."""
        try:
            return bool(super()._keepalive_after(conn, keepalive))
        except (TimeoutError, BodyTooSlow, BodyPreempted):
            return False  # a body that fell behind or was pre-empted: close quietly

    def handle_request(self, req: Any, conn: Any) -> Any:
        """Serve one request, its circuit (if tor named one) known to the derivation pool, and
        on a kept thread, the gate it must pass to wait for a derivation."""
        circuit = getattr(conn, "circuit", -1)
        gate = self.quick_deriving if getattr(conn, "quick", False) else None
        kdf_pool.set_circuit(None if circuit is None or circuit < 0 else circuit, gate)
        try:
            return super().handle_request(req, conn)
        finally:
            kdf_pool.set_circuit(None)

    def handle(self, conn: Any) -> Any:
        """Serve one request whose head was read by the main loop, under the body's deadline."""
        head = getattr(conn, "head", None)
        conn.head = None
        if head:
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(head)
        if isinstance(conn.sock, PacedSocket):
            conn.sock.start_body()
        try:
            return super().handle(conn)
        finally:
            if isinstance(conn.sock, PacedSocket):
                conn.sock.body_deadline = None
