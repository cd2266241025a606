"""How a worker gives its threads out: circuits take turns, bodies holding threads may be
pre-empted, and a few threads are kept for requests that came whole (`app.worker`).

A circuit is one client, and tor lets it open any number of streams: bodies
kept just above `BODY_MIN_RATE` on forty of them would hold every thread of two
workers for as long as the bodies last (a 1 MiB body, half an hour). So a
worker serves at most `CIRCUIT_THREADS` requests of one circuit at once; the
circuit's further requests wait in the main loop, holding no thread, and are
served in turn as its requests end. At most `CIRCUIT_WAITING` wait, each for at most
`WAIT_SECONDS`; past that a kept thread reads what has come of its body and answers it
busy, as a pre-empted one (`_give_back`), and so at once a request past those waiting
(closed unanswered, a report's form was lost with it); one with no body is answered busy
in the main loop. A browser's
parallel fetches of one page wait a moment; a flood from one circuit holds a
few threads of each worker, and only more circuits (which tor's proof-of-work
prices) could hold more.

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

Its request threads run at a lower CPU priority (`REQUEST_NICE`) than its
main loop and its Argon2id derivation threads (`app.kdf_pool`): every login
waiting for a derivation slot waits on the derivations in progress, so a flood
of cheap requests (garbage API proofs, say) must not take their CPU. Pages
still get the CPU the derivations leave, and derivations are bounded by the
pool's slots (one per core), so nothing starves.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import socket
import threading
import time
from concurrent import futures
from functools import partial
from typing import Any, Final

from gunicorn.workers.gthread import ThreadWorker

from app import kdf_pool, page_pacing
from app.worker_reads import (
    PREEMPTED_RETRY_AFTER,
    PacedSocket,
    _bodiless,
    _circuit_of,
    _whole,
    write_error,
)

# The most requests of one circuit a worker serves at once (of `threads`: 16 as deployed);
# Tor Browser opens up to six connections to a host, so a page's parts barely wait.
CIRCUIT_THREADS: Final = 4
# How many more of one circuit's requests may wait for its turn, and for how long (seconds).
CIRCUIT_WAITING: Final = 16
WAIT_SECONDS: Final = 30.0
# How much longer a request past `WAIT_SECONDS` may wait for a kept thread to answer it busy
# (`HeadFirstWorker._give_back`) before it is answered busy in the main loop, its body unread.
GIVE_BACK_SECONDS: Final = 15.0
# How much nicer request threads are than derivation threads: nice 10 weighs about
# a tenth of nice 0 when both want one core. At nice 5 (a third) a flood of cheap
# requests (503s, garbage proofs) slowed each derivation 2.2x on the 2-core machine
# and a flooded login took x4.3 its quiet time at p95; at nice 10, 1.3x and x2.6, with
# quiet logins unchanged (tests/bench/login.py, quiet machine, 2026-12-02).
REQUEST_NICE: Final = 10
# Threads beyond `threads` that serve only requests whose body came whole with the head (a
# page, its parts, a login, a short form) while every other thread is busy (`_whole`).
QUICK_THREADS: Final = 4
# How many of those may wait for (or run) a derivation at once (`app.kdf_pool.in_slot`): a
# login comes whole, and waits for a slot up to `KDF_WAIT_SECONDS`; the rest keep for pages.
QUICK_DERIVING: Final = 2
# The key under which the staff listener's requests, where tor names circuits, take turns
# for threads as one circuit's (`_share`): no circuit id is negative.
STAFF_SHARE: Final = -2
# How long a connection closed after its answer waits for its client to close its end, and how
# much of what the client still sends is read meanwhile (`_linger`): gunicorn's own, in
# `util.close_graceful` (RFC 9112 §9.6), which waited in the main loop.
LINGER_SECONDS: Final = 2.0
LINGER_BYTES: Final = 64 * 1024


def _closing(fs: futures.Future[Any]) -> bool:
    """Whether a thread's request ended with its connection to be closed (not kept alive, not
    given back to wait for data, not failed: gthread closes a failed one at once)."""
    return not fs.cancelled() and fs.exception() is None and not fs.result()


def _share(conn: Any) -> int | None:
    """The key under which `conn`'s requests take turns for threads: its circuit; the staff
    listener's `STAFF_SHARE` where tor names circuits (`HeadFirstWorker.accept`); else None.

    The staff listener's requests named no circuit, so took turns with none: slow bodies on
    its 32 connections (a colleague about to be revoked still holds the staff onion's client
    key) held every thread, were never pre-empted, and sources' reports waited until busy."""
    circuit = _circuit_of(conn)
    if circuit is None and getattr(conn, "staff", False):
        # A live login's or a known device's own (`app.staff_heads`): none waits behind
        # requests proving nothing, which a device with no session sent without end.
        share = getattr(conn, "staff_share", None)
        return STAFF_SHARE if share is None else int(share)
    return circuit


def _request_thread_priority() -> None:
    """Lower this request thread's CPU priority (Linux: per thread) below the derivations'."""
    me = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + REQUEST_NICE)


class TurnTakingWorker(ThreadWorker):
    """gthread whose requests of named circuits take turns for its threads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests handed to the threads and not finished (main loop only).
        self.in_flight = 0
        # Per circuit: its requests in the threads, and those waiting for one (main loop only).
        self.circuit_load: collections.Counter[int] = collections.Counter()
        self.circuit_waiting: dict[int, collections.deque[Any]] = {}
        self.waiting_until: dict[Any, tuple[float, int]] = {}
        # The connections of named circuits whose requests are in the threads (main loop only).
        self.serving: dict[Any, None] = {}
        # Every connection whose request is in the threads, named circuit or not (main loop).
        self.in_threads: dict[Any, None] = {}
        # The threads kept for requests that came whole (`QUICK_THREADS`), and how many are busy.
        self.quick_pool: futures.ThreadPoolExecutor | None = None
        self.quick_in_flight = 0
        # What a kept thread passes to wait for a derivation slot (`QUICK_DERIVING`).
        self.quick_deriving = threading.BoundedSemaphore(QUICK_DERIVING)
        # Connections closed after their answer, waiting for their client to close its end
        # (`_linger`): until when, and how much of what it sent since has been read.
        self.lingering: dict[Any, list[float]] = {}

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        """gthread's request threads, each at a lower CPU priority than the derivations; and
        the few kept for requests that came whole (`QUICK_THREADS`)."""
        self.quick_pool = futures.ThreadPoolExecutor(
            max_workers=QUICK_THREADS, initializer=_request_thread_priority
        )
        return futures.ThreadPoolExecutor(
            max_workers=self.cfg.threads, initializer=_request_thread_priority
        )

    def run(self) -> None:
        """Serve as gthread does; then let the quick threads go as gthread lets its own go."""
        try:
            super().run()
        finally:
            if self.quick_pool is not None:
                self.quick_pool.shutdown(wait=False)

    def _to_thread(self, conn: Any) -> None:
        """Hand a connection whose head is here to a thread, or to its circuit's queue."""
        circuit = _share(conn)
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
        self.in_threads[conn] = None
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
        self.in_threads[conn] = None
        fs = pool.submit(self.handle, conn)
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def _victim(self, least: int) -> Any:
        """The request to pre-empt for a circuit holding `least` - 2 threads, or None: of the
        circuit holding the most threads here (`least` at least, not counting those already
        pre-empted), the one whose body has come slowest, among those whose thread waits
        for the client now: reading its body, or writing its answer past its first seconds
        (`PacedSocket.stalled`). Pre-empting only a circuit holding two more than the taker
        evens circuits' shares out; a circuit's one thread goes only to a circuit holding
        none, and only if its body, or answer, lags (`PacedSocket.lagging`).

        Writes were never pre-empted: clients reading a little every few seconds (tor: a
        stream's SENDME every few seconds) held their threads while their answers lasted,
        pipelining the next, and five circuits held every thread of a worker."""
        now = time.monotonic()
        going = collections.Counter(
            _share(c) for c in self.serving if getattr(c.sock, "preempted", False)
        )
        best: tuple[int, float] | None = None
        victim = None
        for conn in self.serving:
            sock = conn.sock
            if not isinstance(sock, PacedSocket) or sock.preempted:
                continue
            # A write stalled on its client (`PacedSocket.stalled`) as a slow body, but not on
            # a kept thread: its taker goes to the pool's queue, for a thread of the pool.
            if not sock.waiting and (getattr(conn, "quick", False) or not sock.stalled(now)):
                continue
            share = _share(conn)
            if share is None:
                continue
            load = self.circuit_load[share] - going[share]
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
        (`CIRCUIT_CONNECTIONS`) bound its queue still. One with no body to give back (a page)
        is answered busy here instead: served on a kept thread, the circuit had one more
        request served past its share at every round of the main loop."""
        waiting = self.circuit_waiting.setdefault(circuit, collections.deque())
        if len(waiting) >= CIRCUIT_WAITING and _bodiless(getattr(conn, "head", None)):
            with contextlib.suppress(OSError):
                write_error(
                    conn.sock, 503, "Service Unavailable", "", retry_after=PREEMPTED_RETRY_AFTER
                )
            self._close(conn)
            return
        wait = WAIT_SECONDS if len(waiting) < CIRCUIT_WAITING else 0.0
        waiting.append(conn)
        self.waiting_until[conn] = (time.monotonic() + wait, circuit)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A thread is done with the request: count it free, give its circuit's next request
        the turn, then finish as gthread does."""
        self.in_threads.pop(conn, None)
        if getattr(conn, "quick", False):
            conn.quick = False
            self.quick_in_flight -= 1
        else:
            self.in_flight -= 1
        circuit = _share(conn)
        if circuit is not None:
            self.serving.pop(conn, None)
            self.circuit_load[circuit] -= 1
            if self.circuit_load[circuit] <= 0:
                del self.circuit_load[circuit]
            self._serve_waiting()
        if _closing(fs):
            self._linger(conn)
            return
        super().finish_request(conn, fs)

    def _linger(self, conn: Any) -> None:
        """Close a connection whose answer is written, as gthread does (its sending side
        first, then what the client still sends read until it closes its end, for
        `LINGER_SECONDS` or `LINGER_BYTES` at most), but waiting in the poller: its place
        counted until it is closed.

        gthread waited so in the main loop (`util.close_graceful`): a circuit asking with
        `Connection: close` on each of its threads' connections, and closing none, stopped the
        worker's main loop 2 s for each, no head read and no connection accepted meanwhile."""
        sock = conn.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._read_linger, conn))
        except (OSError, ValueError, KeyError):
            self._close(conn)
            return
        self.lingering[conn] = [time.monotonic() + LINGER_SECONDS, 0]

    def _read_linger(self, conn: Any, _sock: Any) -> None:
        """Read what a lingering connection's client sent; close it at its end, or past
        `LINGER_BYTES`."""
        held = self.lingering.get(conn)
        if held is None:
            return
        try:
            data = conn.sock.recv(LINGER_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        held[1] += len(data)
        if not data or held[1] >= LINGER_BYTES:
            self._end_linger(conn)

    def _end_linger(self, conn: Any) -> None:
        """Close a lingering connection now."""
        del self.lingering[conn]
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self._close(conn)

    def murder_pending(self) -> None:
        """Close what gthread closes for time, and connections lingering past `LINGER_SECONDS`."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, (until, _read) in self.lingering.items() if until < now]:
            self._end_linger(conn)

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
        self._drain(conn, circuit)
        return True

    def _drain(self, conn: Any, circuit: int) -> bool:
        """Have a kept thread read only what has come of `conn`'s body and answer it busy, as
        a pre-empted body (its form given back); False if none is free now."""
        if self.quick_pool is None or self.quick_in_flight >= QUICK_THREADS:
            return False
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

    def _close(self, conn: Any) -> None:
        """Close a connection no thread has, unanswered."""
        self.nr_conns -= 1
        conn.close()

    def handle_request(self, req: Any, conn: Any) -> Any:
        """Serve one request, its circuit (if tor named one) known to the derivation pool, and
        on a kept thread, the gate it must pass to wait for a derivation."""
        circuit = getattr(conn, "circuit", -1)
        if circuit is not None and circuit < 0:
            # A staff connection's, where the staff onion names circuits (`HeadFirstWorker`).
            circuit = getattr(conn, "staff_circuit", -1)
        gate = self.quick_deriving if getattr(conn, "quick", False) else None
        # A short form refused for its circuit's pace (`HeadFirstWorker._give_form_back`):
        # answered busy, never served, and its connection not kept.
        refused = getattr(conn, "paced_out", None)
        conn.paced_out = None
        # gunicorn's `100 Continue` goes as the app first reads the body, not as the request
        # is built (`PacedSocket.owe_continue`); a body never asked for is never waited for.
        owed = bool(req._expected_100_continue) and isinstance(conn.sock, PacedSocket)
        if owed:
            req._expected_100_continue = False
            conn.sock.owe_continue()
        kdf_pool.set_circuit(None if circuit is None or circuit < 0 else circuit, gate, refused)
        # A staff page refused for its account's pace notes its head, refused again in the
        # main loop until its Retry-After is out (`app.worker.HeadFirstWorker._refused_again`).
        page_pacing.set_head_key(getattr(conn, "head_key", None))
        try:
            kept = bool(super().handle_request(req, conn)) and refused is None
            return kept and not (owed and conn.sock.continue_owed)
        finally:
            kdf_pool.set_circuit(None)
            page_pacing.set_head_key(None)
            if owed:
                conn.sock.continue_owed = False
