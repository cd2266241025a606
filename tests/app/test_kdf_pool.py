"""The Argon2id pool: bounded across workers, busy is a calm 503, cheap checks come first."""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import re
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import kdf_pool
from app.models import Item, Source
from app.services import staff as staff_service
from app.services import staff_devices
from app.worker_turns import REQUEST_NICE
from crypto import PASSWORD_COST, generate_codename, hash_password
from tests.app.flood import Browser, worker_pids
from tests.app.live import demo_instance, live_server
from tests.app.staff_support import (
    PASSWORD,
    fresh_code,
    login,
    make_staff,
    next_code,
    page_token,
    staff_client,
    submit_login,
)
from tests.app.support import Visitor, db_session, form, shows_login, source_id
from tests.app.workers import at_once_in_workers

SLOTS = 2


@contextlib.contextmanager
def locks_held(paths: list[Path]) -> Iterator[None]:
    """Hold every lock file of `paths` from outside, as other workers would."""
    held = []
    try:
        for path in paths:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.append(fd)
        yield
    finally:
        for fd in held:
            os.close(fd)


def all_slots_taken(instance: Path, slots: int = SLOTS) -> contextlib.AbstractContextManager[None]:
    """Hold every slot of the pool from outside, as other workers' derivations would."""
    return locks_held(kdf_pool.slot_paths(instance, slots))


@pytest.fixture(autouse=True)
def no_circuit_served_lately() -> None:
    """Forget which circuits were served: the table outlives a test (as it outlives a request)."""
    kdf_pool._served[:] = memoryview(array("q", bytes(len(kdf_pool._served) * 8)))


@pytest.fixture
def pooled(make_app: Callable[..., Flask]) -> Flask:
    """The app with a small pool and a short wait."""
    return make_app(KDF_SLOTS=SLOTS, KDF_WAIT_SECONDS=0.3)


def account(app: Flask) -> tuple[Visitor, str]:
    """A source who has reported and logged out; their browser (in English) and codename."""
    visitor = Visitor(app.test_client())
    visitor.client.get("/lang/en")
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    visitor.log_out()
    return visitor, page.fields["codename"]


def test_the_pool_never_runs_more_than_its_slots(instance: Path) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def derive() -> None:
        with kdf_pool.slot(instance, SLOTS, 30, 12):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=derive) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert peak[0] == SLOTS


def test_a_full_pool_is_a_calm_503_that_says_nothing_about_the_codename(
    pooled: Flask, instance: Path
) -> None:
    visitor, codename = account(pooled)
    with all_slots_taken(instance):
        answers = [visitor.log_in(c) for c in (codename, generate_codename())]
    for response in answers:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        assert "The server is busy" in response.get_data(as_text=True)
    # Each gives back the codename typed (the request carried it): otherwise the same page.
    typed = [codename, generate_codename()]
    with all_slots_taken(instance):
        answers = [visitor.log_in(c) for c in typed]
    bodies = [
        re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", a.get_data(as_text=True))
        for a in answers
    ]
    # Padded to the source pages' one size, the padding taking up the codename's length.
    assert bodies[0].replace(typed[0], "").rstrip(" ") == bodies[1].replace(typed[1], "").rstrip(
        " "
    )
    assert len(answers[0].get_data()) == len(answers[1].get_data())
    # Free again: the right codename works at once; nothing was counted.
    assert visitor.logs_in(codename)


def test_a_login_refused_busy_gives_the_codename_typed_back(pooled: Flask, instance: Path) -> None:
    # A flood holds every slot for minutes: a busy page without the box filled had the
    # source type eight words (or 29 digits) again every minute, on a phone, afraid.
    visitor, codename = account(pooled)
    with all_slots_taken(instance):
        response = visitor.log_in(codename)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    shown = response.get_data(as_text=True)
    assert "The server is busy" in shown
    box = re.search(r'<textarea[^>]*name="codename"[^>]*>(.*?)</textarea>', shown, re.S)
    assert box is not None
    assert box.group(1).strip() == codename, "the codename typed was lost"
    sent = form(shown, "/login")
    assert (
        visitor.client.post("/login", data={**sent.fields, "codename": codename}).status_code == 303
    )


def test_a_mistyped_codename_waits_for_a_slot_as_a_wrong_one_does(
    pooled: Flask, instance: Path
) -> None:
    # Answered at once, without a derivation, a typo's timing told a person typing from
    # memory from a script guessing; it costs what a wrong codename costs, no more.
    visitor, codename = account(pooled)
    mistyped = codename.rsplit(" ", 1)[0] + " zzz"
    with all_slots_taken(instance):
        response = visitor.log_in(mistyped)
        assert response.status_code == 503, "a mistyped codename was answered without a wait"
        assert "The server is busy" in response.get_data(as_text=True)
        # Without the CSRF token: refused before the form is even read.
        assert visitor.client.post("/login", data={"codename": codename}).status_code == 400
    assert not visitor.logs_in(mistyped)


def test_submit_refuses_a_codename_it_did_not_generate_for_this_visitor(
    pooled: Flask, instance: Path
) -> None:
    _, victim = account(pooled)
    attacker = Visitor(pooled.test_client())
    attacker.client.get("/lang/en")
    page = attacker.start()
    for guess in (victim, generate_codename()):
        page.fields["codename"] = guess
        response = attacker.send(page, "in the victim's name")
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "This page was out of date" in text
        assert guess not in text
        page = form(text, "/submit")
    assert shows_login(attacker.client.get("/account"))
    with db_session(pooled) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 1
        owner = source_id(pooled, victim)
        items = session.execute(select(Item.source_id)).scalars().all()
        assert items == [owner]


def test_submit_refuses_a_foreign_codename_before_any_derivation(
    pooled: Flask, instance: Path
) -> None:
    attacker = Visitor(pooled.test_client())
    attacker.client.get("/lang/en")
    page = attacker.start()
    page.fields["codename"] = generate_codename()
    with all_slots_taken(instance):
        assert attacker.send(page, "x").status_code == 400


def test_taking_a_slot_changes_no_stamp(pooled: Flask, instance: Path) -> None:
    paths = kdf_pool.slot_paths(instance, SLOTS)
    directory = paths[0].parent

    def stamps() -> list[tuple[int, int, int]]:
        found = [os.stat(p) for p in [directory, *paths]]
        return [(s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns) for s in found]

    before = stamps()
    visitor, codename = account(pooled)
    assert visitor.log_in(codename).status_code == 303
    assert stamps() == before


@contextlib.contextmanager
def every_place_taken(instance: Path, queue: int, slots: int = SLOTS) -> Iterator[None]:
    """Hold every slot and every waiting place, as a full queue in other workers would."""
    held = []
    try:
        for path in kdf_pool.place_paths(instance, slots, queue):
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.append(fd)
        with all_slots_taken(instance, slots):
            yield
    finally:
        for fd in held:
            os.close(fd)


def test_a_full_queue_is_a_calm_503_at_once(make_app: Callable[..., Flask], instance: Path) -> None:
    app = make_app(KDF_SLOTS=SLOTS, KDF_QUEUE=3, KDF_WAIT_SECONDS=20)
    visitor, codename = account(app)
    with every_place_taken(instance, queue=3):
        started = time.monotonic()
        response = visitor.log_in(codename)
        waited = time.monotonic() - started
    # Told at once, not after the 20 s wait: no thread is held for a place it can't get.
    assert waited < 2
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "The server is busy" in response.get_data(as_text=True)
    assert visitor.logs_in(codename)


def test_the_queue_never_holds_more_than_its_places(instance: Path) -> None:
    queue, outcomes, lock = 3, [], threading.Lock()

    def derive() -> None:
        started = time.monotonic()
        try:
            with kdf_pool.slot(instance, SLOTS, 30, queue):
                time.sleep(0.3)
            outcome = "served"
        except kdf_pool.KdfBusy:
            outcome = "busy"
        with lock:
            outcomes.append((outcome, time.monotonic() - started))

    threads = [threading.Thread(target=derive) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    served = [s for o, s in outcomes if o == "served"]
    busy = [s for o, s in outcomes if o == "busy"]
    assert len(served) == SLOTS + queue
    assert len(busy) == 12 - SLOTS - queue
    assert max(busy) < 0.3  # before even the first derivation ended


def _wait_in_line(
    instance: Path, names: list[tuple[str, float]], done: Any, started: float
) -> None:
    """In a forked worker: each name joins the queue its delay after `started` (the parent's
    monotonic clock, the same in every process); report the order served."""
    threads = []

    def one(name: str) -> None:
        with kdf_pool.slot(instance, 1, 10, 8):
            done.put(name)
            time.sleep(0.05)

    for name, delay in names:
        time.sleep(max(0.0, started + delay - time.monotonic()))
        threads.append(threading.Thread(target=one, args=(name,)))
        threads[-1].start()
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_waiters_are_served_in_arrival_order_across_workers(instance: Path) -> None:
    """Two forked workers (sharing the pool's table, as gunicorn's do) interleave their waiters."""
    fork = multiprocessing.get_context("fork")
    done = fork.Queue()
    # Arrivals counted from one clock and 0.3 s apart, so that a worker forked late on a
    # loaded machine does not change the order they come in.
    started = time.monotonic()
    workers = [
        fork.Process(
            target=_wait_in_line, args=(instance, [("a1", 0.5), ("a3", 1.1)], done, started)
        ),
        fork.Process(
            target=_wait_in_line, args=(instance, [("b2", 0.8), ("b4", 1.4)], done, started)
        ),
    ]
    # Forked first: a child would inherit the slot's lock along with its descriptor.
    for worker in workers:
        worker.start()
    with all_slots_taken(instance, 1):
        time.sleep(max(0.0, started + 2.0 - time.monotonic()))  # everyone is waiting
    order = [done.get(timeout=20) for _ in range(4)]
    for worker in workers:
        worker.join(timeout=20)
    assert order == ["a1", "b2", "a3", "b4"]


def test_a_wait_the_pace_says_is_too_long_is_a_503_at_once(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recent derivations took 1 s each: four waiters ahead on two slots mean 3 s or so.
    monkeypatch.setattr(kdf_pool, "_pace", [1.0])
    stop = threading.Event()

    def wait_ahead() -> None:
        with contextlib.suppress(kdf_pool.KdfBusy), kdf_pool.slot(instance, SLOTS, 5, 8):
            stop.wait(5)

    with all_slots_taken(instance):
        ahead = [threading.Thread(target=wait_ahead) for _ in range(4)]
        for thread in ahead:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(kdf_pool.KdfBusy), kdf_pool.slot(instance, SLOTS, 2, 8):
            pass
        assert time.monotonic() - started < 0.5
    stop.set()
    for thread in ahead:
        thread.join(timeout=10)


def _nice_of_threads(pid: int) -> list[int]:
    """The nice value of each thread of process `pid` (Linux: field 19 of its stat)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.append(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))
    return found


@pytest.mark.slow
def test_request_threads_yield_the_cpu_to_derivations(tmp_path: Path) -> None:
    """In a live worker, threads that served requests run nicer than the worker's own."""
    instance = demo_instance(tmp_path / "instance")
    with live_server(instance, workers=1, log=tmp_path / "gunicorn.log") as base:
        browser = Browser(base)
        try:
            for _ in range(3):
                assert browser.get("/login")[0] == 200
        finally:
            browser.close()
        (worker,) = worker_pids(instance)
        nice = _nice_of_threads(worker)
    base_nice = os.getpriority(os.PRIO_PROCESS, 0)
    assert base_nice in nice  # the main loop and the derivation threads
    assert base_nice + REQUEST_NICE in nice  # the request threads that served the pages


def _circuit_waiters(instance: Path, waiters: list[tuple[str, int | None]]) -> list[str]:
    """With the one slot held outside, each (name, circuit) joins the queue in turn; return
    the order in which they were served, "busy" standing for any told to try again."""
    order: list[str] = []
    lock = threading.Lock()

    def one(name: str, circuit: int | None) -> None:
        try:
            with kdf_pool.slot(instance, 1, 10, 8, circuit=circuit):
                with lock:
                    order.append(name)
                time.sleep(0.05)
        except kdf_pool.KdfBusy:
            with lock:
                order.append(f"{name}:busy")

    threads = []
    with all_slots_taken(instance, 1):
        for name, circuit in waiters:
            threads.append(threading.Thread(target=one, args=(name, circuit)))
            threads[-1].start()
            time.sleep(0.1)  # each one is in line before the next arrives
    for thread in threads:
        thread.join(timeout=30)
    return order


def test_one_circuit_cannot_queue_ahead_of_another_circuits_first_login(instance: Path) -> None:
    """A flooder's many derivations on one Tor circuit wait their turn behind other circuits:
    a source arriving on another circuit is served after at most one of the flooder's."""
    order = _circuit_waiters(instance, [("f1", 7), ("f2", 7), ("source", 9)])
    assert order == ["f1", "source", "f2"]


def test_one_circuit_holds_at_most_its_share_of_the_queue(instance: Path) -> None:
    """Past PLACES_PER_CIRCUIT waiting, a circuit's next derivation is refused at once; other
    circuits, and requests whose circuit nobody knows, still queue."""
    cap = kdf_pool.PLACES_PER_CIRCUIT
    flood = [(f"f{n}", 7) for n in range(cap + 1)]
    order = _circuit_waiters(instance, [*flood, ("source", 9), ("unknown", None)])
    assert f"f{cap}:busy" in order
    assert sorted(order) == sorted(
        [*(f"f{n}" for n in range(cap)), f"f{cap}:busy", "source", "unknown"]
    )
    assert order.index("source") < order.index(f"f{cap - 1}")


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_workers_at_once_cannot_give_a_circuit_more_than_its_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker counts the places its circuit holds, then notes its own: workers that all
    counted before any noted each found room, and one circuit held a place more than its share."""
    cap, circuit = kdf_pool.PLACES_PER_CIRCUIT, 4545  # a circuit no other test uses

    def derive() -> str:
        try:
            with kdf_pool.slot(tmp_path, cap + 1, 5, cap + 1, circuit=circuit):
                time.sleep(0.5)  # every one of them holds its place at once
            return "served"
        except kdf_pool.KdfBusy as exc:
            return str(exc)

    answers = at_once_in_workers(monkeypatch, kdf_pool, "_circuit_places", derive, cap + 1)
    assert sorted(answers) == [*["served"] * cap, "this circuit holds its share of the queue"], (
        f"one circuit held more than its {cap} places: {answers}"
    )


def test_requests_without_a_circuit_are_served_in_arrival_order(instance: Path) -> None:
    order = _circuit_waiters(instance, [("a", None), ("b", None), ("c", None)])
    assert order == ["a", "b", "c"]


def test_a_circuit_just_served_waits_behind_one_that_was_not(instance: Path) -> None:
    """A flood sends again the moment it is answered: its next derivation must not stand
    first among sources that have been waiting, just because it arrived before them."""
    flood, source = 4242, 4343  # circuits no other test uses
    with kdf_pool.slot(instance, 1, 10, 8, circuit=flood):
        pass  # the flood's circuit was served a moment ago
    order = _circuit_waiters(instance, [("flood", flood), ("source", source)])
    assert order == ["source", "flood"]
    # Served long enough ago (both of them now), each is in round 0 again: by arrival.
    for circuit in (flood, source):
        kdf_pool._served[2 * (circuit % kdf_pool._RECENT) + 1] -= int(60e9)
    order = _circuit_waiters(instance, [("flood", flood), ("source", source)])
    assert order == ["flood", "source"]


def test_a_free_slot_is_taken_in_a_random_order(tmp_path: Path) -> None:
    # Every order of the places is as likely (one read of the system's randomness
    # per take); whichever is free is taken, and every place gets its turn first.
    paths = [tmp_path / f"place-{i}" for i in range(4)]
    firsts: set[int] = set()
    for _ in range(200):
        taken = kdf_pool._take_any(paths)
        assert taken is not None
        index, fd = taken
        firsts.add(index)
        os.close(fd)
    assert firsts == {0, 1, 2, 3}
    held = [kdf_pool._take_any(paths) for _ in range(4)]
    assert sorted(t[0] for t in held if t is not None) == [0, 1, 2, 3]
    assert kdf_pool._take_any(paths) is None
    for t in held:
        if t is not None:
            os.close(t[1])


def test_a_staff_login_waits_for_the_staffs_own_slot(pooled: Flask, instance: Path) -> None:
    """A staff password is checked with Argon2id at 64 MiB, as much as a derivation takes.
    Outside any pool, logins at once under as many made-up names (the throttle counts per
    name) took 64 MiB each: twenty-four took 450 MiB more than the slots allow."""
    bob = make_staff(pooled, "bob")
    client = staff_client(pooled)
    with locks_held(kdf_pool.staff_slot_paths(instance)):
        busy = submit_login(client, "nobody-at-all", PASSWORD, "000000")
    assert busy.status_code == 503
    assert submit_login(client, "bob", PASSWORD, fresh_code(pooled, bob)).status_code == 303


def test_a_full_queue_for_the_staffs_slot_is_a_503_at_once(
    make_app: Callable[..., Flask], instance: Path
) -> None:
    """Staff logins at once wait in a few places, not in every request thread a worker has."""
    app = make_app(KDF_SLOTS=SLOTS, KDF_WAIT_SECONDS=20)
    client = staff_client(app)
    with locks_held(kdf_pool.staff_place_paths(instance)):
        started = time.monotonic()
        busy = submit_login(client, "nobody-at-all", PASSWORD, "000000")
        waited = time.monotonic() - started
    assert busy.status_code == 503
    assert waited < 10, f"a full queue kept the login {waited:.1f} s of its 20"  # at once


def test_a_flood_holding_every_sources_place_refuses_no_staff_login(
    make_app: Callable[..., Flask], instance: Path
) -> None:
    """Sources' logins on the public onion can hold every place of the pool for as long as a
    flood lasts (docs/PROTOCOL.md §18.3); a staff password's check took one of those places,
    so every administrator was refused ("busy") for as long too, and could not log in to
    act on it. It takes the staff's own slot, which only authorised staff devices reach."""
    app = make_app(KDF_SLOTS=SLOTS, KDF_QUEUE=3, KDF_WAIT_SECONDS=0.3)
    admin = make_staff(app, "admin", role="admin")
    client = staff_client(app)
    with every_place_taken(instance, queue=3):
        response = submit_login(client, "admin", PASSWORD, fresh_code(app, admin))
    assert response.status_code == 303, "a flood of sources' logins refused an administrator's"


def _staff_flood_and_logins(instance: Path, flooders: list[int], logins: list[int]) -> list[str]:
    """Flood the staff's slot from `flooders` (two logins each, sent again the moment they
    are answered, as whoever holds a staff device's onion key can), then let a staff member
    log in on each circuit of `logins` in turn; return what each of theirs got."""
    config = {"INSTANCE_DIR": instance, "KDF_WAIT_SECONDS": 2.0}
    check, served = 0.02, [0]
    kdf_pool.prepare(instance, 1, 0)

    def staff_login(circuit: int) -> str:
        kdf_pool.set_circuit(circuit)  # as `app.worker` says, for this thread's request
        try:
            kdf_pool.in_staff_slot(config, lambda: time.sleep(check))
            return "in"
        except kdf_pool.KdfBusy:
            return "busy"
        finally:
            kdf_pool.set_circuit(None)

    def flood(circuit: int, stop: threading.Event) -> None:
        while not stop.is_set():
            if staff_login(circuit) == "in":
                served[0] += 1
            time.sleep(0.005)  # the answer's way back, and the next login's

    answers = _while_flooded(flood, flooders, staff_login, logins)
    assert served[0] > len(flooders)  # the flood really ran, and was served
    return answers


def _while_flooded(
    flood: Callable[[int, threading.Event], None],
    flooders: list[int],
    ask: Callable[[int], str],
    circuits: list[int],
) -> list[str]:
    """Run `flood` twice on each of `flooders` until it is over, and once every flooding
    circuit has been served and the places are all held, `ask` once on each of `circuits` in
    turn; return what each got."""
    stop = threading.Event()
    threads = [threading.Thread(target=flood, args=(c, stop)) for c in flooders for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        answers = []
        for circuit in circuits:
            answers.append(ask(circuit))
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    return answers


def test_a_staff_login_on_its_own_circuit_gets_in_while_a_device_floods_the_staffs_slot(
    tmp_path: Path,
) -> None:
    """Whoever holds one staff device's onion key (a laptop stolen, a colleague removed and
    the device not yet revoked) reaches the staff login and can send logins under any name
    on as many circuits as they like, again the moment each is answered. They held every
    place of the staff's slot, and a staff member's login was told "busy" (one in fifteen
    got in, `tests.bench.staff_slot`). The staff's slot takes circuits in turn, as the
    sources' does: a staff member on a circuit no check served lately gets in."""
    flooders = list(range(7000, 7008))  # more than enough to hold the staff's 4 places
    logins = list(range(8000, 8010))
    answers = _staff_flood_and_logins(tmp_path, flooders, logins)
    print(f"\nstaff logins let in: {answers.count('in')} of {len(answers)}")
    assert answers.count("in") == len(answers), "a device's flood refused a staff login"


# How long a staff member's own login waits in these floods: 5 s, not 2, so that a loaded
# machine's slow second is not read as "busy" (each failed once so under load 14-17, the
# flood held to its places all along); a flood that holds her place for good still refuses.
LOGIN_WAIT = 5.0


def _known_device_logins(app: Flask, circuits: str, logins: int) -> list[int]:
    """Flood the staff's slot as whoever holds one staff device's onion key can, with no
    circuit named (`circuits` "unnamed": an `ADD_ONION` staff onion) or a new one for each
    login ("fresh"), then let a staff member log in `logins` times in turn from the browser
    of their last full login; return the status of each (303: in, 503: busy)."""
    alice = make_staff(app, "alice")
    browser = staff_client(app)
    login(browser, app, alice)  # a full login: the browser keeps whatever it was given
    browser.post("/staff/logout", data={"csrf_token": page_token(browser)})
    config = {"INSTANCE_DIR": app.config["INSTANCE_DIR"], "KDF_WAIT_SECONDS": 2.0}
    stop, served, new_circuits = threading.Event(), [0], iter(range(20000, 10**6))

    def flood() -> None:
        while not stop.is_set():
            kdf_pool.set_circuit(next(new_circuits) if circuits == "fresh" else None)
            try:
                kdf_pool.in_staff_slot(config, lambda: time.sleep(0.02))
                served[0] += 1
            except kdf_pool.KdfBusy:
                pass
            time.sleep(0.005)  # the answer's way back, and the next login's

    threads = [threading.Thread(target=flood) for _ in range(16)]
    for thread in threads:
        thread.start()
    answers = []
    try:
        time.sleep(1.0)  # the places are all held
        for _ in range(logins):
            kdf_pool.set_circuit(next(new_circuits) if circuits == "fresh" else None)
            answer = submit_login(browser, "alice", PASSWORD, next_code(app, alice))
            kdf_pool.set_circuit(None)
            answers.append(answer.status_code)
            if answer.status_code == 303:
                browser.post("/staff/logout", data={"csrf_token": page_token(browser)})
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert served[0] > 16  # the flood really ran, and was served
    return answers


@pytest.mark.parametrize("circuits", ["unnamed", "fresh"])
def test_a_staff_login_from_a_known_device_gets_in_while_a_device_floods_the_staffs_slot(
    make_app: Callable[..., Flask], circuits: str
) -> None:
    """The staff onion `raazdar serve` publishes names no circuit (`ADD_ONION` cannot), and a
    flood may open a new circuit for every login: either way the staff's slot is first come,
    first served, and whoever holds one staff device's onion key held its every place, so a
    staff member's login was told "busy". A browser that made a full login (password and
    code) holds a known device's cookie, and its owner's login takes a place of its own."""
    app = make_app(KDF_WAIT_SECONDS=LOGIN_WAIT)
    answers = _known_device_logins(app, circuits, 6)
    print(f"\nknown device's logins let in: {answers.count(303)} of {len(answers)} ({circuits})")
    assert answers.count(303) == len(answers), f"a device's flood refused a staff login: {answers}"


def _known_device_confirmations(app: Flask, change: str, times: int) -> list[int]:
    """Flood the staff's slot on no named circuit (as whoever holds one staff device's onion
    key can), then let a logged-in staff member confirm with her password and a code from
    the browser of her full login, `times` times: a re-confirmation (`change` "reconfirm",
    ending her other sessions) or a new password ("password"); return each status."""
    alice = make_staff(app, "alice")
    browser = staff_client(app)
    login(browser, app, alice)  # a full login: the browser keeps its known device's cookie
    config = {"INSTANCE_DIR": app.config["INSTANCE_DIR"], "KDF_WAIT_SECONDS": 2.0}
    served, passwords = [0], iter(f"{PASSWORD} {n}" for n in range(times + 1))
    current = [PASSWORD]

    def flood(_circuit: int, stop: threading.Event) -> None:
        while not stop.is_set():
            kdf_pool.set_circuit(None)
            try:
                kdf_pool.in_staff_slot(config, lambda: time.sleep(0.02))
                served[0] += 1
            except kdf_pool.KdfBusy:
                pass
            time.sleep(0.005)  # the answer's way back, and the next check's

    def confirm(_circuit: int) -> str:
        kdf_pool.set_circuit(None)
        if change == "reconfirm":
            path = "/staff/account/sessions/end"
            data = {"reauth_password": PASSWORD, "reauth_code": next_code(app, alice)}
            data["csrf_token"] = page_token(browser, "/staff/account/password", path)
        else:
            path, new = "/staff/account/password", next(passwords)
            data = {"current": current[0], "new": new, "repeated": new}
            data["code"] = next_code(app, alice)
            data["csrf_token"] = page_token(browser, path, path)
        answer = browser.post(path, data=data)
        if answer.status_code == 303 and change == "password":
            current[0] = data["new"]
        return str(answer.status_code)

    answers = _while_flooded(flood, list(range(8)), confirm, list(range(times)))
    assert served[0] > 16  # the flood really ran, and was served
    return [int(a) for a in answers]


@pytest.mark.parametrize("change", ["reconfirm", "password"])
def test_a_staff_members_confirmation_from_a_known_device_gets_in_while_a_device_floods(
    make_app: Callable[..., Flask], change: str
) -> None:
    """A confirmation (an admin change, ending one's other sessions, the export) and a new
    password check the password in the staff's slot as a login does. Whoever holds one staff
    device's onion key (a colleague about to be removed) held its every place, and a staff
    member's confirmation from her own known device was told "busy": she could not end the
    sessions of a stolen laptop, export, or remove that colleague. It takes her device's kept
    place, as her login does."""
    app = make_app(KDF_WAIT_SECONDS=LOGIN_WAIT)
    answers = _known_device_confirmations(app, change, 3)
    print(f"\nconfirmations let in: {answers.count(303)} of {len(answers)} ({change})")
    assert answers.count(303) == len(answers), f"a device's flood refused: {answers}"


def test_a_flood_carrying_one_known_devices_cookie_holds_one_kept_place(tmp_path: Path) -> None:
    """A laptop stolen with its cookie: every flood login carries it, and it buys one of the
    places kept for known devices at a time (the others wait as logins without one do), so
    a colleague's own known device still gets in every time."""
    # Her logins in a row wait their device's pace (a second each) ahead of the flood: a
    # wait of 5 s, not 2, so that a loaded machine's slow second is not read as "busy" (CI,
    # once: one of six at 2 s, the flood held to one place all along).
    config = {"INSTANCE_DIR": tmp_path, "KDF_WAIT_SECONDS": 5.0}
    kdf_pool.prepare(tmp_path, 1, 0)
    stolen, own = 7, 8
    stop, served, most_kept = threading.Event(), [0], [0]
    kept = range(kdf_pool.STAFF_PLACES, kdf_pool.STAFF_PLACES + kdf_pool.STAFF_DEVICE_PLACES)

    def flood() -> None:
        while not stop.is_set():
            try:
                kdf_pool.in_staff_slot(config, lambda: time.sleep(0.02), device=stolen)
                served[0] += 1
            except kdf_pool.KdfBusy:
                pass
            time.sleep(0.005)

    def stolen_places() -> int:
        keys = [kdf_pool._staff_table[kdf_pool._FIELDS * place + 1] for place in kept]
        return keys.count(kdf_pool._DEVICE_KEYS + stolen + 1)

    threads = [threading.Thread(target=flood) for _ in range(16)]
    for thread in threads:
        thread.start()
    answers = []
    try:
        time.sleep(1.0)
        for _ in range(6):  # a device's logins in a row wait a second each (`_not_before`)
            most_kept[0] = max(most_kept[0], stolen_places())
            try:
                kdf_pool.in_staff_slot(config, lambda: time.sleep(0.02), device=own)
                answers.append("in")
            except kdf_pool.KdfBusy:
                answers.append("busy")
            most_kept[0] = max(most_kept[0], stolen_places())
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert most_kept[0] == 1, f"one cookie held {most_kept[0]} kept places"
    # The flood was served all along: a paced cookie's waiter ahead of every circuit kept
    # the slot idle for its pace (13 checks in 7 s, each 0.02 s).
    assert served[0] > 50, f"the slot served the flood {served[0]} checks"
    assert answers.count("in") == len(answers), f"a flood with a stolen cookie refused: {answers}"


def test_one_accounts_many_known_devices_hold_two_kept_places_at_most(
    make_app: Callable[..., Flask],
) -> None:
    """A colleague about to be removed has her password and her codes: each full login gives
    her browser a new known device's cookie, as many as she makes. Her logins under her own
    name with a wrong password (counted nowhere) each carrying another of them took one kept
    place a cookie, every one of them, and another staff member's login from her own known
    device was told "busy": so was the confirmation that would remove the colleague. One
    account's devices hold two kept places at most (its owner's browser beside a stolen one)."""
    app = make_app(KDF_WAIT_SECONDS=LOGIN_WAIT)
    alice, mallory = make_staff(app, "alice"), make_staff(app, "mallory")
    browser = staff_client(app)
    login(browser, app, alice)  # a full login: the browser keeps its known device's cookie
    browser.post("/staff/logout", data={"csrf_token": page_token(browser)})
    devices = []
    for _ in range(5):  # five full logins, one a code: five cookies, each good for 90 days
        hers = staff_client(app)
        assert submit_login(hers, "mallory", PASSWORD, next_code(app, mallory)).status_code == 303
        cookie = hers.get_cookie(staff_devices.COOKIE, path=staff_devices.PATH)
        assert cookie is not None
        with app.app_context(), db_session(app) as session:
            account = staff_service.find_account(session, "mallory")
            devices.append(staff_devices.place_key(cookie.value, account))
    assert None not in devices  # each a live cookie of her account
    assert len(set(devices)) == len(devices)
    config = {"INSTANCE_DIR": app.config["INSTANCE_DIR"], "KDF_WAIT_SECONDS": 2.0}
    stop, served, most_kept = threading.Event(), [0], [0]
    first = kdf_pool.STAFF_PLACES
    keys = {kdf_pool._DEVICE_KEYS + (d & kdf_pool._DEVICE_KEY_MASK) + 1 for d in devices if d}

    def flood(device: int | None) -> None:
        # Her logins with a wrong password: the check is the hash, in the staff's slot.
        while not stop.is_set():
            kdf_pool.set_circuit(None)
            try:
                kdf_pool.in_staff_slot(config, lambda: time.sleep(0.02), device=device)
                served[0] += 1
            except kdf_pool.KdfBusy:
                pass
            time.sleep(0.005)  # the answer's way back, and the next login's

    def hers_kept() -> int:
        held = [
            kdf_pool._staff_table[kdf_pool._FIELDS * place + 1]
            for place in range(first, first + kdf_pool.STAFF_DEVICE_PLACES)
        ]
        return sum(1 for key in held if key in keys)

    senders: list[int | None] = [*devices, *devices, *[None] * 8]
    threads = [threading.Thread(target=flood, args=(device,)) for device in senders]
    for thread in threads:
        thread.start()
    answers = []
    try:
        time.sleep(1.0)  # the places are all held
        for _ in range(4):
            most_kept[0] = max(most_kept[0], hers_kept())
            answer = submit_login(browser, "alice", PASSWORD, next_code(app, alice))
            most_kept[0] = max(most_kept[0], hers_kept())
            answers.append(answer.status_code)
            if answer.status_code == 303:
                browser.post("/staff/logout", data={"csrf_token": page_token(browser)})
            time.sleep(1.0)  # as a person logs in again: past her device's pace (`_not_before`)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    print(f"\nalice's logins let in: {answers.count(303)} of {len(answers)}; kept {most_kept[0]}")
    assert served[0] > 16  # the flood really ran, and was served
    assert answers.count(303) == len(answers), f"one account's devices refused a login: {answers}"
    assert most_kept[0] <= 2, f"one account's cookies held {most_kept[0]} kept places"


def _flood_and_newcomers(
    instance: Path, flooders: list[int], newcomers: list[int]
) -> tuple[list[str], int]:
    """Flood the pool from `flooders` (two requests each, sent again the moment they are
    answered), then let each newcomer circuit ask once in turn; return what each got, and
    how many derivations the flood had."""
    slots, queue, wait, derivation = 1, 5, 2.0, 0.02
    served = [0]

    def flood(circuit: int, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with kdf_pool.slot(instance, slots, wait, queue, circuit=circuit):
                    served[0] += 1
                    time.sleep(derivation)
            except kdf_pool.KdfBusy:
                time.sleep(0.005)  # the answer's way back, and the next request's

    def newcomer(circuit: int) -> str:
        try:
            with kdf_pool.slot(instance, slots, wait, queue, circuit=circuit):
                time.sleep(derivation)
            return "served"
        except kdf_pool.KdfBusy:
            return "busy"

    return _while_flooded(flood, flooders, newcomer, newcomers), served[0]


def test_a_flood_holding_every_place_cannot_refuse_a_new_circuit(tmp_path: Path) -> None:
    """A handful of circuits sending again the moment they are answered hold every place of
    the queue (two each). A source on a circuit never served must still get one: it takes
    the place of a waiter whose circuit was just served, which is told to try again."""
    flooders = list(range(5000, 5006))  # more than enough to hold all 6 places
    newcomers = list(range(6000, 6020))
    answers, flood_served = _flood_and_newcomers(tmp_path, flooders, newcomers)
    print(
        f"\nnew circuits served: {answers.count('served')} of {len(answers)} "
        f"during a flood of {len(flooders)} circuits ({flood_served} flood derivations)"
    )
    assert flood_served > len(flooders)  # the flood really ran, and was served
    assert answers.count("served") == len(answers), "the flood refused new circuits"


def test_a_circuit_not_served_lately_pushes_out_only_a_waiter_of_one_that_was(
    tmp_path: Path,
) -> None:
    """Two places, both held by a circuit just served: each new circuit takes one, its
    waiter told to try again; after that nobody can push the new ones out (their circuits
    were not served), nor can a request whose circuit nobody knows."""
    served, fresh = 7100, [7200, 7201, 7202]
    with kdf_pool.slot(tmp_path, 1, 5, 1, circuit=served):
        pass  # the flood's circuit was served a moment ago
    answers: dict[str, str] = {}
    lock = threading.Lock()

    def one(name: str, circuit: int | None) -> None:
        try:
            with kdf_pool.slot(tmp_path, 1, 5, 1, circuit=circuit):
                outcome = "served"
        except kdf_pool.KdfBusy:
            outcome = "busy"
        with lock:
            answers[name] = outcome

    arrivals = [
        ("flood-1", served),
        ("flood-2", served),
        ("source-1", fresh[0]),
        ("source-2", fresh[1]),
        ("source-3", fresh[2]),
        ("unknown", None),
    ]
    threads = []
    with all_slots_taken(tmp_path, 1):
        for name, circuit in arrivals:
            threads.append(threading.Thread(target=one, args=(name, circuit)))
            threads[-1].start()
            time.sleep(0.3)  # in line (or answered) before the next arrives
        with lock:
            told_busy_while_held = dict(answers)
    for thread in threads:
        thread.join(timeout=10)
    assert told_busy_while_held == {
        "flood-2": "busy",  # the last in turn goes first
        "flood-1": "busy",
        "source-3": "busy",  # both places are held by circuits not served lately
        "unknown": "busy",
    }
    assert answers["source-1"] == answers["source-2"] == "served"


def test_one_new_circuit_sending_at_once_pushes_out_one_waiter_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A circuit not served lately takes one waiter's place, and only while it holds none.
    Whether it holds one was read before it claimed, and its place noted only once the
    waiter had seen the claim and left: requests sent down the same new circuit in that
    time each found it holding none, and each pushed out another source's waiter."""
    # Waiters at the back look every 100 ms, as a worker's busy request threads may.
    monkeypatch.setattr(kdf_pool, "_RANK_POLL", 0.1)
    served, fresh = [7300, 7301, 7302], 7400  # circuits no other test uses
    for circuit in served:
        with kdf_pool.slot(tmp_path, 1, 5, 5, circuit=circuit):
            pass  # served a moment ago, as a source who signed in and now sends
    answers: list[str] = []
    lock = threading.Lock()

    def one(circuit: int) -> None:
        try:
            with kdf_pool.slot(tmp_path, 1, 3, 5, circuit=circuit):
                outcome = "served"
        except kdf_pool.KdfBusy as exc:
            outcome = str(exc)
        with lock:
            answers.append(outcome)

    waiting = [threading.Thread(target=one, args=(c,)) for c in served for _ in range(2)]
    burst = [threading.Thread(target=one, args=(fresh,)) for _ in range(4)]
    with all_slots_taken(tmp_path, 1):
        for thread in waiting:
            thread.start()
            time.sleep(0.05)  # every place is held before the new circuit comes
        for thread in burst:
            thread.start()
            time.sleep(0.005)  # one stream after another down the one circuit
        time.sleep(0.5)
        with lock:
            pushed_out = answers.count("a circuit not served lately took this place")
    for thread in waiting + burst:
        thread.join(timeout=10)
    print(f"\nwaiters pushed out by one new circuit's burst of {len(burst)}: {pushed_out}")
    assert pushed_out == 1, f"one new circuit pushed out {pushed_out} waiters"


def _waiters_behind_the_slot(
    instance: Path, circuits: list[int], seconds: float, ready: Any
) -> None:
    """In a forked worker: hold the one slot for `seconds`, a waiter of each circuit queued."""

    def one(circuit: int) -> None:
        with (
            contextlib.suppress(kdf_pool.KdfBusy),
            kdf_pool.slot(instance, 1, 20, len(circuits) - 1, circuit=circuit),
        ):
            pass

    threads = [threading.Thread(target=one, args=(circuit,)) for circuit in circuits]
    with all_slots_taken(instance, 1):
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        ready.set()
        time.sleep(seconds)
    for thread in threads:
        thread.join(timeout=20)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_two_new_circuits_at_once_each_push_out_a_waiter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sources on two new circuits come at once (two workers) while circuits just served hold
    every place: each takes one of them. Both looked before either claimed, both chose the
    same waiter, and the one whose claim was overwritten was told the queue was full."""
    served = [7500, 7500, 7501, 7501]  # circuits no other test uses
    for circuit in set(served):
        with kdf_pool.slot(tmp_path, 1, 5, len(served) - 1, circuit=circuit):
            pass  # served a moment ago
    fork = multiprocessing.get_context("fork")
    ready = fork.Event()
    holder = fork.Process(target=_waiters_behind_the_slot, args=(tmp_path, served, 4, ready))
    holder.start()
    try:
        assert ready.wait(timeout=10)

        def newcomer() -> str:
            circuit = 7600 + os.getpid() % 100  # its own, never served
            with kdf_pool.slot(tmp_path, 1, 20, len(served) - 1, circuit=circuit):
                return "served"

        answers = at_once_in_workers(monkeypatch, kdf_pool, "_served_lately", newcomer)
    finally:
        holder.join(timeout=30)
        if holder.is_alive():
            holder.kill()
    assert answers == ["served", "served"], f"a new circuit was refused: {answers}"


def test_a_circuit_whose_derivation_ends_meanwhile_pushes_nobody_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A derivation's end notes its circuit served, then clears its place: a newcomer of the
    same circuit that read "not served" before the first and the places after the second
    found its circuit neither served nor holding a place, and pushed out a waiter."""
    mine, flood = 7700, 7701  # circuits no other test uses
    with kdf_pool.slot(tmp_path, 1, 5, 1, circuit=flood):
        pass  # served a moment ago
    deriving, ended = threading.Event(), threading.Event()
    answers: dict[str, str] = {}

    def one(name: str, circuit: int, hold: threading.Event | None = None) -> None:
        try:
            with kdf_pool.slot(tmp_path, 1, 5, 1, circuit=circuit):
                if hold is not None:
                    deriving.set()
                    hold.wait(timeout=5)
            answers[name] = "served"
        except kdf_pool.KdfBusy as exc:
            answers[name] = str(exc)
        if name == "first":
            ended.set()

    served_lately = kdf_pool._served_lately

    def read_then_wait(circuit: int, now: int) -> bool:
        lately = served_lately(circuit, now)
        if circuit == mine:
            release.set()  # the first derivation ends, whole, after the read
            ended.wait(timeout=5)
        return lately

    release = threading.Event()
    first = threading.Thread(target=one, args=("first", mine, release))
    first.start()
    assert deriving.wait(timeout=5)
    waiter = threading.Thread(target=one, args=("flood", flood))
    waiter.start()
    time.sleep(0.2)  # in line for the slot the first holds
    monkeypatch.setattr(kdf_pool, "_served_lately", read_then_wait)
    one("second", mine)
    release.set()
    for thread in (first, waiter):
        thread.join(timeout=10)
    assert answers["flood"] == "served", f"a circuit just served pushed out a waiter: {answers}"


def _a_new_worker() -> None:
    """What a worker begins with: nothing the staff's login keeps in memory from before."""
    for value in vars(staff_service).values():
        if callable(getattr(type(value), "cache_clear", None)):
            value.cache_clear()


def _cpu_of_login(client: FlaskClient, username: str) -> float:
    started = time.thread_time()
    busy = submit_login(client, username, "not the password at all", "000000")
    assert busy.status_code == 503
    return time.thread_time() - started


def test_an_unknown_name_hashes_nothing_outside_the_staffs_slot(
    make_app: Callable[..., Flask], instance: Path
) -> None:
    """A name that does not exist must cost what one that does costs, and where it does.
    A worker's first unknown name hashed a placeholder password outside the staff's slot:
    with the slot busy, a known name waited and was refused, while an unknown one first
    spent an Argon2id hash (64 MiB, most of a second) of its own, so it answered later
    (a username oracle), and logins at once under unknown names each took 64 MiB."""
    # At a real cost: at the testing one a hash outside the slot would go unseen.
    app = make_app(KDF_WAIT_SECONDS=0.2, STAFF_PASSWORD_COST=PASSWORD_COST)
    make_staff(app, "bob")
    client = staff_client(app)
    _a_new_worker()
    with locks_held(kdf_pool.staff_slot_paths(instance)):
        known = _cpu_of_login(client, "bob")
        unknown = _cpu_of_login(client, "nobody-at-all")
    started = time.thread_time()
    hash_password(PASSWORD)
    one_hash = time.thread_time() - started
    assert unknown - known < one_hash / 2, "an unknown name ran a hash outside the staff's slot"


def _derive_in_a_forked_child() -> None:
    os._exit(kdf_pool.run(lambda: 42))


def test_a_process_forked_after_the_derivers_started_still_derives() -> None:
    """Its parent's derivation threads are not the child's: a report's POST in a process
    forked after they started (CI, a test's killed server) waited on a queue nobody read,
    forever ("assert None == -SIGKILL" after 120 s)."""
    kdf_pool.start_derivers(1)
    child = multiprocessing.get_context("fork").Process(target=_derive_in_a_forked_child)
    child.start()
    child.join(10)
    if child.exitcode is None:
        child.kill()
        child.join()
    assert child.exitcode == 42, "the forked child's derivation never came back"
