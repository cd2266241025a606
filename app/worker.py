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

A worker whose threads are all busy stops accepting connections until one is
free, so that another worker with idle threads takes them: stock gthread lets
the first worker to wake accept a whole burst and queue it behind its own
threads while the other workers idle.

With RAAZDAR_TOR_CIRCUITS=1, tor starts every connection to a source listener
with a line naming the circuit it came on (HiddenServiceExportCircuitID
haproxy: `PROXY TCP6 fc00:dead:beef:4dad::AABB:CCDD ::1 ...`). The main loop
reads it with the head, keeps the circuit with the connection (for every
request on it) and hands it to `app.kdf_pool`, whose queue takes circuits in
turn. The line is never passed on (REMOTE_ADDR stays tor's loopback address)
and the circuit is never logged or stored. A connection without the line is
closed unanswered: only tor may say which circuit a request came on. With
RAAZDAR_TOR_STAFF_CIRCUITS=1 the same holds on the staff listeners, and the circuit
goes to the staff's own slot only (`kdf_pool.staff_slot`): the staff's connections
and threads are counted as before, as one share.

A circuit is one client, and tor lets it open any number of streams: a worker serves a few
of its requests at once (`app.worker_turns`), and one circuit may hold no more than
`CIRCUIT_CONNECTIONS` connections of a worker in any state (a head still coming, kept
alive, waiting its turn, served): gunicorn takes no connection at all once a worker holds
`worker_connections`, so heads never finished from one circuit would otherwise shut
everyone else out.

A worker raises its soft limit on open files to what its connections need (`_fit_file_limit`),
and an accept() finding no descriptor free pauses accepting (`ACCEPT_PAUSE`): under systemd's
soft 1,024, heads never finished from a few dozen circuits made it fail, and the worker died.

tor's proof-of-work prices a circuit, not what is sent down it: a circuit kept open was
served every request it sent and never paid again. So each request of a named circuit (a
staff circuit's too, apart from the sources': `_paced_as`) takes
the circuit's turn as its head comes in (`circuits.take_circuit_turn`: 64 at once, then
two a second, across the host's workers, and past them a share of one pool all source
circuits draw on; a staff circuit 1,024 of its own); past that it is answered 503 with Retry-After
here, holding no thread (`_head_in`), except a form, which is answered busy with its fields
given back (`_give_form_back`): a report refused bare was lost; a login's short form is
answered busy with its codename so too, its body read here even when it comes after its
head (`_short_form_coming`). A circuit refused
`circuits.CLOSE_AFTER_REFUSALS` times (less 8 a turn served) is asked closed to tor
(`circuits.ask_to_close`, read by `app.operations.tor.closer`): it must pay for a new
introduction.

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
every few seconds on its 32 connections, held them all and were never closed. Failing that,
the connection kept alive idle the longest of a circuit holding k + 1 or more is closed
(`_idlest_kept_alive`): a thousand circuits of one kept-alive connection each held every
place, none holding two more than a newcomer. Where nothing can make room, the newcomer is
answered busy here, its body unread (`write_busy`): closed unanswered, a report sent on it
ended in a connection error, which said nothing of whether it was stored.

A body framed by `Transfer-Encoding` (chunked) is refused 400 here (`_framed`): gunicorn
reads one in Python, some 4 us a chunk, and no client of the server sends one; so is a head
whose cookies are longer than `COOKIE_LIMIT` (`_cookies_stuffed`), which Werkzeug would parse
at some 0.8 us a byte before any check. The staff
listener's requests, where tor names circuits, take turns for threads as one circuit's
(`worker_turns.STAFF_SHARE`); a thread's write stalled on its client is pre-empted as a slow
body is (`PacedSocket.stalled`); and a connection closed after its answer lingers in the
poller, not in the main loop (`worker_turns.TurnTakingWorker._linger`). gunicorn's `100 Continue`
goes as the app first reads the body (`PacedSocket.owe_continue`), never before a refusal.
A staff page its account's pace refused lately (`app.page_pacing`) is answered busy here
until its Retry-After is out, the same page of the same login only (`_refused_again`). Before
that, a staff request's head is sorted by what it proves (`_staff_turn`, `app.staff_heads`): a
live login's and a known device's requests take turns under shares of their own, and those
proving nothing take turns of one small budget of the host's, past it answered busy here.

How requests take turns for threads is `app.worker_turns`; how a connection is read,
`app.worker_reads`.
"""

from __future__ import annotations

import contextlib
import errno
import resource
import selectors
import threading
import time
from functools import partial
from typing import Any, Final

from flask import Flask
from gunicorn.workers.gthread import TConn
from sqlalchemy.exc import SQLAlchemyError

# Imported here, in the gunicorn master (which loads the worker class), so that
# the pool's table of waiters, and the circuits' accounts, are mapped before the
# fork and shared by every worker.
# (report_pacing and page_pacing for their tables alone.)
from app import circuits, kdf_pool, page_pacing, report_pacing, sessions, staff_heads  # noqa: F401
from app.config import kdf_slots, staff_binds, tor_circuits, tor_staff_circuits
from app.listeners import local_address
from app.services import staff_devices
from app.worker_reads import (
    _END_OF_HEAD,
    _SESSION_COOKIE,
    BODY_GRACE_SECONDS,
    HEAD_SECONDS,
    BodyPreempted,
    BodyTooSlow,
    PacedSocket,
    _circuit_of,
    _closed,
    _cookies_stuffed,
    _form_length,
    _framed,
    _paced,
    _short_form,
    _short_form_coming,
    cookie_of,
    page_request,
    short_form_body,
    tor_circuit,
    write_busy,
    write_error,
)
from app.worker_turns import GIVE_BACK_SECONDS, QUICK_THREADS, TurnTakingWorker

# The longest head the main loop reads (Tor Browser's are under 2 KiB: the server's cookie
# some 1 KiB, cookies held to `COOKIE_LIMIT`, a login's short form read with its head); a
# longer one is answered 400 there (`_refuse_head`). gunicorn takes heads of fifty 8 KiB
# fields: handed to a thread, the rest of one came at the body's least rate, some ten
# minutes a thread. And a head still coming holds its bytes until `HEAD_SECONDS`: at 64 KiB,
# 1,000 circuits each holding 60 KB of one held 58 MiB more of the workers.
_HEAD_LIMIT: Final = 16 * 1024
# The bytes at the end of a form refused for its circuit's pace that the app never reads
# (`_give_form_back`): `--` and CRLF, after its last delimiter.
_WITHHELD: Final = 4
# Tor's line is under 80 bytes; a connection that has sent this many without one is not tor.
_TOR_LINE_LIMIT: Final = 108
# The most connections one circuit may hold to a worker at once, in any state.
CIRCUIT_CONNECTIONS: Final = 32
# How many connections past `worker_connections` a worker takes, to read which circuit each
# is of before it keeps it in the place of a head still coming (`_make_room`), or closes it.
HEAD_SLACK: Final = 32
# Open files a worker keeps beyond its connections (`_fit_file_limit`): listeners, the
# database's, the log, the derivation pool's lock files, the files its threads write.
FILE_RESERVE: Final = 256
# How long a worker stops accepting after an accept() found no descriptor free (seconds).
ACCEPT_PAUSE: Final = 0.5
# How long before the graceful stop's end (`graceful_timeout`) a stopping worker pre-empts
# the bodies still coming, to answer each busy before the master kills it (`_stop_bodies`).
STOP_MARGIN_SECONDS: Final = 5.0
# The most connections the staff listener's clients, all of them together, may hold to a worker.
STAFF_CONNECTIONS: Final = 32
# How many forms refused for its circuit's pace one circuit may have given back or waiting to
# be at once (`_give_form_back`): a source's tabs; past them, a bare 503.
FORMS_GIVEN_BACK: Final = 4
_DEVICE_COOKIE: Final = staff_devices.COOKIE.encode("ascii")
_LOGIN_PATH: Final = f"{staff_devices.PATH}/login".encode("ascii")
_LINK_FIELD: Final = staff_devices.LINK_FIELD.encode("ascii")
_NO_DESCRIPTOR: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class HeadFirstWorker(TurnTakingWorker):
    """gthread with request heads read in the main loop and deadlines on heads and bodies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections = 0
        super().__init__(*args, **kwargs)
        self.reading_heads: dict[Any, float] = {}
        # Whether tor names the circuit first on the source listeners (RAAZDAR_TOR_CIRCUITS).
        self.circuits = tor_circuits()
        # Per circuit: its connections to this worker (closed ones are pruned as found).
        self.circuit_conns: dict[int, list[Any]] = {}
        # Until when the worker accepts nothing, an accept() having found no descriptor free.
        self.accept_paused_until = 0.0
        # When the worker was first seen stopping (`_stop_bodies`), or None.
        self.stopping_since: float | None = None
        # Each circuit's requests refused for its pace (`circuits.Refusals`), and the pipe
        # through which one refused too often is asked closed (`tor.closer`), if any.
        self.refusals = circuits.Refusals()
        self.closer = circuits.closer_fd()
        # Forms refused for their circuit's pace waiting for a kept thread to give them back
        # (`_give_forms_back`), in the order they came: when, and their circuit.
        self.forms_back: dict[Any, tuple[float, int]] = {}
        # The staff listener's connections, where tor names circuits (`_staff_room`).
        self.staff_conns: list[Any] = []
        self.staff_binds = frozenset(staff_binds())
        # Whether tor names the circuit first on the staff listeners (RAAZDAR_TOR_STAFF_CIRCUITS).
        self.staff_circuits = tor_staff_circuits()
        # The head tags of the accounts standing now (`staff_devices.live_tags`), read again
        # every `staff_heads.TAGS_SECONDS` by a thread of its own (`_read_live_tags`); None
        # until first read.
        self.live_tags: frozenset[bytes] | None = None

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

    def init_process(self) -> None:
        """Start the derivation threads from this (main) thread, at the worker's own priority."""
        # One more than the slots: the staff's own slot must find a thread free even
        # when every derivation on the host runs in this worker.
        kdf_pool.start_derivers(kdf_slots() + kdf_pool.STAFF_SLOTS)
        self._fit_file_limit()
        super().init_process()

    def run(self) -> None:
        """Read the accounts' head tags before serving, and again every few seconds after."""
        app = getattr(self, "wsgi", None)
        if isinstance(app, Flask):
            self.live_tags = self._live_tags_now(app)
            threading.Thread(
                target=self._read_live_tags, args=(app,), name="raazdar-live-tags", daemon=True
            ).start()
        super().run()

    def _read_live_tags(self, app: Flask) -> None:
        """Read the accounts' head tags every `staff_heads.TAGS_SECONDS` while the worker lives.

        The main loop cannot wait on the database; a removal may be made by another worker
        or by `raazdar staff remove`, which no table of this host's hears."""
        while self.alive:
            time.sleep(staff_heads.TAGS_SECONDS)
            try:
                self.live_tags = self._live_tags_now(app)
            except Exception:  # a thread ended here would keep a removed account's tag for good
                self.log.warning("the staff accounts' head tags could not be read again")

    def _live_tags_now(self, app: Flask) -> frozenset[bytes]:
        """The accounts' head tags now; if the database cannot say, those read last (none at
        first: every device's cookie then proves nothing until it can)."""
        try:
            return staff_devices.live_tags(app)
        except SQLAlchemyError:
            self.log.warning("the staff accounts could not be read for the staff listener's heads")
            return self.live_tags or frozenset()

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
            # The same on a staff listener, kept apart: the sources' accounts of circuits
            # (connections, pace, threads) are not the staff's (`_take_staff_line`).
            staff = local_address(listener) in self.staff_binds
            conn.staff_circuit = None if staff and self.staff_circuits else -1
            # Its pages refused for their account's pace are refused here again (`_head_in`).
            conn.on_staff = staff
            if self.circuits and not staff:
                conn.circuit = None
            elif self.circuits:
                if not self._staff_room(conn):
                    return
                # Its requests share one circuit's threads (`worker_turns.STAFF_SHARE`).
                conn.staff = True
            self.enqueue_req(conn)
        except OSError as exc:
            if exc.errno in _NO_DESCRIPTOR:
                # It killed the worker. Its connection waits in the backlog; the listener
                # stays readable, so the loop would spin on it: pause instead.
                self.accept_paused_until = time.monotonic() + ACCEPT_PAUSE
            elif exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def _staff_room(self, conn: Any) -> bool:
        """Count a new connection to the staff listener among the staff's, at most
        `STAFF_CONNECTIONS`: past them, the staff connection idle the longest (a head still
        coming, or kept alive) is closed for it; if none is idle, it is answered busy, and
        closed; say whether it is kept.

        The staff listener's connections name no circuit: none was ever closed to make room,
        nor capped, and a colleague about to be revoked, still holding the staff onion's
        client key, trickling heads there held every place of a worker: each source's new
        connection was answered busy."""
        self.staff_conns = [c for c in self.staff_conns if not _closed(c)]
        if len(self.staff_conns) >= STAFF_CONNECTIONS:
            idle = {c: c.timeout for c in self.keepalived_conns} | self.reading_heads
            held = [c for c in self.staff_conns if c in idle]
            if not held:
                with contextlib.suppress(OSError):
                    write_busy(conn.sock)
                self._close(conn)
                return False
            self._drop(min(held, key=idle.__getitem__))
            self.staff_conns = [c for c in self.staff_conns if not _closed(c)]
        self.staff_conns.append(conn)
        return True

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
        if _END_OF_HEAD in begun and not _short_form_coming(begun):
            conn.head = begun
            self._head_in(conn)
            return
        if len(begun) > _HEAD_LIMIT:
            self._refuse_head(conn)
            return
        conn.sock.setblocking(False)
        conn.head = None
        conn.form_coming = False
        conn.head_bytes = bytearray(begun)
        conn.head_searched, conn.head_whole_at = 0, None
        self.reading_heads[conn] = time.monotonic() + HEAD_SECONDS
        if _END_OF_HEAD in begun:  # a login's short body still to come
            self._form_coming(conn)
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
        if getattr(conn, "staff_circuit", -1) is None and not self._take_staff_line(conn):
            return
        whole = self._whole_at(conn)
        if whole is None and len(conn.head_bytes) > _HEAD_LIMIT:
            self._refuse_head(conn)
        elif whole is not None and len(conn.head_bytes) < whole:
            self._form_coming(conn)
        elif whole is not None:
            self.poller.unregister(conn.sock)
            del self.reading_heads[conn]
            conn.head = bytes(conn.head_bytes)
            conn.head_bytes = bytearray()
            conn.data_ready = True
            self._head_in(conn)

    def _whole_at(self, conn: Any) -> int | None:
        """How many bytes of what the connection sends make its request as the main loop
        reads it (its head, and a login's short body: `_short_form_coming`), or None while
        its head's end has not come; searching only what came since the last look.

        Each look searched all that had come, three times, and a login's head was lowered and
        matched again for each piece of its body: a head of 60 KB of short fields trickled a
        byte at a time cost the main loop some 4 s of CPU within its 20 s."""
        if conn.head_whole_at is None:
            found = conn.head_bytes.find(_END_OF_HEAD, max(conn.head_searched - 3, 0))
            conn.head_searched = len(conn.head_bytes)
            if found >= 0:
                end = found + len(_END_OF_HEAD)
                conn.head_whole_at = end + short_form_body(conn.head_bytes[:end])
        return conn.head_whole_at

    def _form_coming(self, conn: Any) -> None:
        """A login's head is whole, its short body still coming (`_short_form_coming`): give
        the body a body's grace (`BODY_GRACE_SECONDS`) from now, once.

        It had what was left of the head's `HEAD_SECONDS` from when the connection opened: a
        source on a slow phone whose head took most of them was closed unanswered as her
        body's cell came, and typed her codename again."""
        if not getattr(conn, "form_coming", False):
            conn.form_coming = True
            self.reading_heads[conn] = time.monotonic() + BODY_GRACE_SECONDS

    def _head_in(self, conn: Any) -> None:
        """Hand on a request whose head is here, if its circuit has a turn left
        (`circuits.take_circuit_turn`); else answer it busy here, holding no thread.

        tor's proof-of-work prices a circuit, not its requests: one circuit kept open had
        every request it sent served, and never paid again."""
        if _framed(conn.head) or _cookies_stuffed(conn.head):
            self._refuse_head(conn)
            return
        circuit = _circuit_of(conn)
        wait = 0
        if getattr(conn, "turn_taken", False):  # by its connection, to make room
            conn.turn_taken = False
        else:
            # A staff circuit's too, where the staff onion names them: one staff circuit sent
            # requests without end, each reaching one of the staff's threads.
            wait = circuits.take_circuit_turn(_paced_as(conn))
            if self.refusals.note(circuit, bool(wait)) and circuit is not None:
                circuits.ask_to_close(self.closer, circuit)
        if not wait and getattr(conn, "on_staff", False):
            wait = self._staff_turn(conn)
        if wait and not self._give_form_back(conn, wait):
            with contextlib.suppress(OSError):
                write_error(conn.sock, 503, "Service Unavailable", "", retry_after=wait)
            self._drop(conn)
            return
        if not wait:
            self._to_thread(conn)

    def _staff_turn(self, conn: Any) -> int:
        """Sort a staff request's head by what it proves (`app.staff_heads`), give it its share
        of threads, and return the seconds it is refused for, or 0: a live login's, its head
        refused again lately (`_refused_again`); a known device's, past its budget; one proving
        nothing, past the budget every such request of the host shares.

        Where tor names no staff circuit nothing paced a request without a live session: a
        device with no session loading the login page (or the dashboard with an ended login's
        cookie) on four dozen connections held the staff's threads and places to wait, and a
        logged-in colleague's dashboard was answered busy."""
        conn.head_key = None
        conn.staff_share = None
        app = getattr(self, "wsgi", None)
        if not isinstance(app, Flask):
            return 0
        cookie = cookie_of(conn.head, _SESSION_COOKIE)
        login = None if cookie is None else sessions.login_of(app, cookie.decode("latin-1"))
        if login is not None and staff_heads.live(login):
            conn.staff_share = staff_heads.login_share(login)
            return self._refused_again(conn, login)
        place = self._device_place(app, cookie_of(conn.head, _DEVICE_COOKIE))
        if place is None:  # an administrator's link for a new browser (`staff_devices.link`)
            place = self._device_place(app, _linked_device(conn.head))
        if place is not None:
            conn.staff_share = staff_heads.device_share(place)
            return staff_heads.take_device_turn(place)
        return staff_heads.take_anonymous_turn()

    def _device_place(self, app: Flask, device: bytes | None) -> int | None:
        """The known device `device` (a cookie's value) names at the head, or None."""
        if device is None:
            return None
        if self.live_tags is None:  # a worker not run (a test's): read once, here
            self.live_tags = self._live_tags_now(app)
        return staff_devices.head_place(app, device.decode("latin-1"), self.live_tags)

    def _refused_again(self, conn: Any, login: str) -> int:
        """The seconds a staff page's head is refused for, its account's pace having refused the
        same head lately (`page_pacing.refused_at_head`), or 0; its key noted for the app.

        A refusal took one of the staff's threads: one stolen session sending the dashboard on
        many connections held the staff's share of them, and its places to wait, with refusals,
        and a colleague's login, dashboard and export were answered busy at once."""
        asked = page_request(conn.head)
        if asked is None:
            return 0
        method, path, _cookie = asked
        # Keyed by the login the cookie names, not by the cookie: each answer gives the login
        # a new cookie, and each new one reached the app again.
        conn.head_key = page_pacing.head_key(method, path, login.encode())
        return page_pacing.refused_at_head(conn.head_key)

    def _give_form_back(self, conn: Any, wait: int) -> bool:
        """Have a form refused for its circuit's pace answered busy with its fields, as a
        pre-empted one (`_give_back`), or a login's short form busy with its codename
        (`_short_form`); False if it is neither, or its circuit has `FORMS_GIVEN_BACK`
        being given back or waiting to be already.

        It was answered a bare 503 here and closed: a source's report was lost with it. The
        last `_WITHHELD` bytes of its body never reach the app, so it is never filed (a
        report's form ends `--boundary--` and CRLF: its last part is whole without them).
        One form a circuit at a time takes a kept thread, a moment each: a circuit past its
        pace sending forms as fast as it could would hold them all. The others wait in the
        main loop, holding no thread, and are given back in turn (`_give_forms_back`): a
        second tab's form, sent while the first was given back, was answered a bare 503.
        """
        circuit = _circuit_of(conn)
        length = _form_length(conn.head)
        short = _short_form(conn.head)
        if circuit is None or (not short and (length is None or length <= _WITHHELD)):
            return False
        held = self.circuit_conns.get(circuit, ())
        if sum(getattr(c, "refused", False) and not _closed(c) for c in held) >= FORMS_GIVEN_BACK:
            return False
        if length is None or short:
            # A login's: read whole, and answered busy, the codename in its box, where it
            # would derive (`kdf_pool.in_slot`); any other short form is refused busy before
            # its view (`app.limits`). It was answered a bare 503: the codename typed again.
            conn.paced_out = wait
        else:
            end = conn.head.find(_END_OF_HEAD) + len(_END_OF_HEAD)
            conn.head = conn.head[: end + length - _WITHHELD]
            conn.sock.refuse(wait, length - _WITHHELD - (len(conn.head) - end))
        conn.refused = True
        self.forms_back[conn] = (time.monotonic(), circuit)
        self._give_forms_back(time.monotonic())
        return True

    def _give_forms_back(self, now: float) -> None:
        """Hand each form waiting to be given back (`_give_form_back`) to a kept thread, in
        the order they came, while one is free and none of its circuit's is being given back
        now; one that waited past `GIVE_BACK_SECONDS` is answered busy here, its body unread."""
        giving = {c.circuit for c in self.in_threads if getattr(c, "refused", False)}
        for conn, (since, circuit) in list(self.forms_back.items()):
            if _closed(conn):
                del self.forms_back[conn]
            elif circuit not in giving and self._drain(conn, circuit):
                del self.forms_back[conn]
                giving.add(circuit)
            elif now - since > GIVE_BACK_SECONDS:
                del self.forms_back[conn]
                with contextlib.suppress(OSError):
                    write_busy(conn.sock)
                self._close(conn)

    def _refuse_head(self, conn: Any) -> None:
        """Answer a head longer than `_HEAD_LIMIT`, one framing its body otherwise than by
        its length (`_framed`), or one stuffed with cookies (`_cookies_stuffed`), 400, as
        gunicorn answers one past its limits (`write_error`), and close it: no thread waits
        for the rest of it, or reads it."""
        with contextlib.suppress(OSError):
            write_error(conn.sock, 400, "Bad Request", "")
        self._drop(conn)

    def _take_tor_line(self, conn: Any) -> bool:
        """Take tor's line off the front of a new connection; False while none is whole yet.

        A connection whose first line is not tor's is closed.
        """
        if (line := self._tor_line(conn)) is None:
            return False
        circuit, end = line
        if self.nr_conns > self._connections and not self._room_paced(circuit, conn):
            return False
        if not self._make_room(circuit) or not self._admit(circuit, conn):
            # Closed unanswered, a source's report sent on it ended in a connection error,
            # which said nothing of whether it was stored.
            with contextlib.suppress(OSError):
                write_busy(conn.sock)
            self._drop(conn)
            return False
        conn.circuit = circuit
        del conn.head_bytes[: end + 2]
        return True

    def _take_staff_line(self, conn: Any) -> bool:
        """Take tor's line off the front of a new staff connection, for the staff's slot alone
        (`worker_turns.TurnTakingWorker.handle_request`); False while none is whole yet.

        A connection whose first line is not tor's is closed: whoever holds one staff
        device's key would otherwise name a new circuit at each login, one the staff's
        slot never served, and so first in its queue.
        """
        if (line := self._tor_line(conn)) is None:
            return False
        conn.staff_circuit, end = line
        del conn.head_bytes[: end + 2]
        return True

    def _tor_line(self, conn: Any) -> tuple[int, int] | None:
        """The circuit tor's line at the front of `conn` names, and where the line ends;
        None while none is whole yet, or if the connection was closed for its first line
        not being tor's (or longer than any of tor's)."""
        end = conn.head_bytes.find(b"\r\n")
        if end < 0:
            if len(conn.head_bytes) > _TOR_LINE_LIMIT:
                self._drop(conn)
            return None
        circuit = tor_circuit(bytes(conn.head_bytes[:end]))
        if circuit is None:
            self._drop(conn)
            return None
        return circuit, end

    def _room_paced(self, circuit: int, conn: Any) -> bool:
        """Take a turn of `circuit`'s pace for a new connection that would close another to
        make room (`_make_room`); past the pace, answer it busy and close it, no one else.

        A connection sending no request took no turn: one circuit past its pace, opening a
        connection and closing it again, closed a source's idle kept-alive one each time,
        every source's in turn (her browser opening another, which pushed out the next
        source's). The turn taken serves the connection's first request (`_head_in`)."""
        wait = circuits.take_circuit_turn(circuit)
        if self.refusals.note(circuit, bool(wait)):
            circuits.ask_to_close(self.closer, circuit)
        if wait:
            with contextlib.suppress(OSError):
                write_busy(conn.sock, retry_after=wait)
            self._drop(conn)
            return False
        conn.turn_taken = True
        return True

    def _make_room(self, circuit: int) -> bool:
        """Past `worker_connections`, close the idle connection (a head still coming, or one
        kept alive) nearest its deadline of the circuit holding the most connections, while it
        holds two more than `circuit`; False if still past.

        Kept-alive ones count: a few circuits asking again every few seconds, each before
        `keepalive` closed its connections, held every place, and no new circuit got one.
        A client whose kept-alive connection is closed opens another. Failing that, the one
        kept alive idle the longest of a circuit holding `circuit`'s + 1 (`_idlest_kept_alive`)."""
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
                oldest = self._idlest_kept_alive(mine + 1)
            if oldest is None:
                return False
            self._drop(oldest)
        return True

    def _idlest_kept_alive(self, least: int) -> Any:
        """The connection kept alive idle the longest of a circuit holding `least` or more,
        or None.

        A thousand circuits each holding one kept alive (asking again every few seconds)
        held every place, none two more than a newcomer, and a new circuit's connection was
        closed unanswered for as long as they went on. Its browser opens another (as after
        `keepalive`); a head still coming is never closed for it.
        """
        for conn in self.keepalived_conns:  # in the order they were last answered
            circuit = _circuit_of(conn)
            if circuit is None or _closed(conn):
                continue
            if sum(not _closed(c) for c in self.circuit_conns.get(circuit, ())) >= least:
                return conn
        return None

    def _admit(self, circuit: int, conn: Any) -> bool:
        """Count a new connection of `circuit`; False if the circuit holds its most already."""
        held = [c for c in self.circuit_conns.get(circuit, ()) if not _closed(c)]
        if len(held) >= CIRCUIT_CONNECTIONS:
            return False
        held.append(conn)
        self.circuit_conns[circuit] = held
        return True

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection's next request: one closed for another's head
        (`_make_room`) in the round of events that found it readable is passed over.

        gunicorn unregistered its closed socket, and the selector's "Invalid file
        descriptor: -1" ended the worker and every connection it held.
        """
        if _closed(conn):
            return
        super().on_client_socket_readable(conn, client)

    def _drop(self, conn: Any) -> None:
        """Forget a connection whose head never came (closed, or out of time), or kept alive."""
        self.reading_heads.pop(conn, None)
        with contextlib.suppress(ValueError):
            self.keepalived_conns.remove(conn)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self._close(conn)

    def murder_pending(self) -> None:
        """Close connections waiting for data too long, heads included, or for their turn."""
        super().murder_pending()
        now = time.monotonic()
        self._stop_bodies(now)
        for conn in [c for c, deadline in self.reading_heads.items() if deadline < now]:
            if getattr(conn, "form_coming", False):
                # A login whose body never came: answered, not reset (which says nothing).
                with contextlib.suppress(OSError):
                    write_error(conn.sock, 408, "Request Timeout", "")
            self._drop(conn)
        for conn, (deadline, circuit) in list(self.waiting_until.items()):
            if deadline < now and not self._give_back(conn, circuit, now - deadline):
                # No kept thread came free to give it back: it was closed unanswered, and a
                # report sent on it ended in a connection error. Busy, its body unread.
                del self.waiting_until[conn]
                self._leave_queue(circuit, conn)
                with contextlib.suppress(OSError):
                    write_busy(conn.sock)
                self._close(conn)
        self._give_forms_back(now)
        self._serve_waiting()
        for circuit, held in list(self.circuit_conns.items()):
            open_ = [c for c in held if not _closed(c)]
            if open_:
                self.circuit_conns[circuit] = open_
            else:
                del self.circuit_conns[circuit]

    def _stop_bodies(self, now: float) -> None:
        """While the worker stops (a restart, a reload), `STOP_MARGIN_SECONDS` before its
        `graceful_timeout` is out: pre-empt every request whose body is still coming, and
        give back every one still waiting its turn, so that each is answered busy, a
        report's form with what the source wrote, before the master kills the worker.

        A body still coming then was cut with the worker, unanswered: a source uploading a
        report over a slow circuit during a restart lost it."""
        if self.alive:
            return
        if self.stopping_since is None:
            self.stopping_since = now
        if now < self.stopping_since + self.cfg.graceful_timeout - STOP_MARGIN_SECONDS:
            return
        for conn in self.in_threads:
            sock = conn.sock
            if isinstance(sock, PacedSocket) and sock.body_deadline is not None:
                sock.preempt()
        for conn, (deadline, circuit) in list(self.waiting_until.items()):
            self.waiting_until[conn] = (min(deadline, now - 0.001), circuit)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A thread is done: the next form of its circuit waiting to be given back goes."""
        super().finish_request(conn, fs)
        if getattr(conn, "refused", False):
            self._give_forms_back(time.monotonic())

    def _keepalive_after(self, conn: Any, keepalive: bool) -> bool:
        """Keep the connection only if the unread rest of its body drains in time."""
        try:
            return bool(super()._keepalive_after(conn, keepalive))
        except (TimeoutError, BodyTooSlow, BodyPreempted):
            return False  # a body that fell behind or was pre-empted: close quietly

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


def _linked_device(head: bytes) -> bytes | None:
    """The known device's cookie an administrator's link carries in the login page's address
    (`staff_devices.link`), or None: any other request."""
    line = head[: head.find(b"\r\n")].split(b" ")
    if len(line) != 3 or line[0] != b"GET":
        return None
    path, _, query = line[1].partition(b"?")
    if path != _LOGIN_PATH:
        return None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == _LINK_FIELD:
            return value
    return None


def _paced_as(conn: Any) -> int | None:
    """The key of `conn`'s circuit in `app.circuits`' pace: the circuit tor named on a source
    listener, or one named on the staff listener kept apart (`circuits.staff_key`)."""
    circuit = _circuit_of(conn)
    if circuit is not None:
        return circuit
    staff = getattr(conn, "staff_circuit", -1)
    return circuits.staff_key(staff if isinstance(staff, int) and staff >= 0 else None)
