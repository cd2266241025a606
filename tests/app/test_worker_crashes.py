"""What crashed a gunicorn worker under a flood, every connection it held dropped unanswered.

The attack (session 43, a clean-clone CI run): a stolen staff session's flood of forms, and
a colleague's login and export on the same worker answered with a reset connection, not a
page. Two faults, each raised in the worker's main loop, ended the worker:

- `fcntl.lockf` refused a `HostLock` with EDEADLK ("Resource deadlock avoided"). The
  kernel looks for deadlocks between processes, not threads: a worker whose one thread
  holds one host lock while another waits for a second lock, held by a worker that waits
  for the first, is a cycle to the kernel, though the first thread lets its lock go
  without waiting for anything.
- A kept-alive connection closed to make room for another's head (`_make_room`), in the
  round of events that had found it readable: gunicorn's own callback then unregistered
  its closed socket, and the selector raised "Invalid file descriptor: -1".
"""

from __future__ import annotations

import collections
import multiprocessing
import selectors
import socket
import threading
import time
from typing import Any

from app.hostlock import HostLock
from app.worker import HeadFirstWorker


def test_a_host_lock_a_thread_waits_for_while_its_process_holds_another_is_taken() -> None:
    first, second = HostLock("test-first"), HostLock("test-second")
    context = multiprocessing.get_context("fork")
    second_held, parent_waits = context.Event(), context.Event()

    def other_worker() -> None:
        with second:
            second_held.set()
            parent_waits.wait(10)
            time.sleep(0.2)  # the parent's thread is waiting for `second` by now
            with first:  # the parent holds `first`: to the kernel, a cycle
                pass

    child = context.Process(target=other_worker)
    child.start()
    assert second_held.wait(10)
    taken = threading.Event()
    with first:

        def wait_for_second() -> None:
            with second:
                taken.set()

        waiter = threading.Thread(target=wait_for_second, daemon=True)
        waiter.start()
        parent_waits.set()
        time.sleep(0.5)  # the child now waits for `first`, which this thread lets go
    child.join(20)
    waiter.join(20)
    assert child.exitcode == 0, (
        f"the other worker's wait for a host lock ended with status {child.exitcode}: "
        "EDEADLK, which ended a worker's main loop"
    )
    assert taken.is_set()


def test_a_kept_alive_connection_closed_in_the_round_that_found_it_readable_is_passed_over() -> (
    None
):
    worker: Any = HeadFirstWorker.__new__(HeadFirstWorker)
    worker.poller = selectors.DefaultSelector()
    worker.keepalived_conns = collections.deque()
    ours, theirs = socket.socketpair()
    try:

        class Conn:
            sock = ours

        conn = Conn()
        worker.keepalived_conns.append(conn)
        worker.poller.register(ours, selectors.EVENT_READ)
        theirs.send(b"GET / HTTP/1.1\r\n")  # readable: the round's events hold it
        ready = [key for key, _ in worker.poller.select(1)]
        assert ready
        # Closed for another's head in this round, as `_drop` does.
        worker.keepalived_conns.remove(conn)
        worker.poller.unregister(ours)
        ours.close()
        worker.enqueue_req = lambda _conn: (_ for _ in ()).throw(AssertionError("served"))
        worker.on_client_socket_readable(conn, ours)  # on the old code: ValueError, fd -1
    finally:
        theirs.close()
        worker.poller.close()
