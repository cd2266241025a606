"""A flood of wrong codenames and garbage proofs locks nobody out (gunicorn, several workers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.page_pacing import PAGE_BURST, PAGE_SPACING_NS
from crypto import generate_codename
from tests.app.flood import (
    Browser,
    Flood,
    PageFlood,
    derivation_peak,
    inputs,
    log_in,
    new_source,
    page_after_login,
    send_more,
    signed_in,
)
from tests.app.live import demo_instance, live_server

pytestmark = pytest.mark.slow

WORKERS = 3
SOURCES = 8
LOGIN_FLOODERS = 6
PROOF_FLOODERS = 2


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh demo instance."""
    return demo_instance(tmp_path / "instance")


# Circuits: each real source comes on its own; the flood on one, or tor names none.
FLOOD_CIRCUIT = 10_000


@pytest.fixture(params=[False, True], ids=["circuits-unnamed", "flood-on-one-circuit"])
def circuits(request: pytest.FixtureRequest) -> bool:
    """Whether tor names each connection's circuit (as the tor `raazdar serve` starts does)."""
    named: bool = request.param
    return named


@pytest.fixture
def server(instance: Path, tmp_path: Path, circuits: bool) -> Iterator[str]:
    """gunicorn serving the instance with several workers."""
    env = {"RAAZDAR_TOR_CIRCUITS": "1" if circuits else "0"}
    with live_server(instance, workers=WORKERS, log=tmp_path / "gunicorn.log", env=env) as url:
        yield url


def _real_source(base: str, codename: str, circuit: int | None) -> tuple[int, int, int]:
    """Log in, send another report, get an API challenge; return the three statuses."""
    browser, login_status, _seconds = log_in(base, codename, circuit)
    try:
        sent = send_more(browser) if login_status == 303 else 0
    finally:
        browser.close()
    api = Browser(base, circuit)
    try:
        challenge = api.request("POST", "/api/v1/challenges")[0]
    finally:
        api.close()
    return login_status, sent, challenge


def test_real_sources_all_get_in_while_a_flood_runs(
    server: str, instance: Path, circuits: bool
) -> None:
    mine = [n + 1 if circuits else None for n in range(SOURCES)]
    codenames = [new_source(server, circuit) for circuit in mine]
    flood_circuits = (FLOOD_CIRCUIT,) if circuits else ()
    with (
        derivation_peak(instance) as peak,
        Flood(server, LOGIN_FLOODERS, PROOF_FLOODERS, flood_circuits) as flood,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        # Each real source starts only once the flood has had time to pile up failures.
        time.sleep(2)
        answers = list(
            pool.map(lambda c: _real_source(server, *c), zip(codenames, mine, strict=True))
        )
    print(
        f"\n{SOURCES} real sources during {flood.sent[0]} flood requests "
        f"({flood.busy[0]} told busy); peak derivations {peak[0]}"
    )
    assert answers == [(303, 200, 200)] * SOURCES
    assert flood.sent[0] > 2 * SOURCES  # the flood really ran alongside


NEW_CIRCUITS = 6


def _logged_in(base: str, codename: str, circuit: int) -> str:
    """Log in on `circuit` in a new browser; say how it went ("in", "refused" or the status)."""
    browser, status, _seconds = log_in(base, codename, circuit)
    try:
        if status != 303:
            return str(status)
        return "in" if signed_in(browser) else "refused"
    finally:
        browser.close()


def test_a_flood_holding_every_place_still_lets_a_new_circuit_in(
    instance: Path, tmp_path: Path
) -> None:
    """Three circuits sending wrong codenames again the moment they are answered hold every
    place of a small queue (1 slot, 3 waiting: two places each). Sources coming back, each
    on a circuit of its own that no derivation served lately, must still get in."""
    env = {"RAAZDAR_TOR_CIRCUITS": "1", "RAAZDAR_KDF_SLOTS": "1", "RAAZDAR_KDF_QUEUE": "3"}
    log = tmp_path / "gunicorn.log"
    with live_server(instance, workers=2, log=log, env=env) as base:
        # Each made their account on another circuit, long enough ago.
        codenames = [new_source(base, 300 + n) for n in range(NEW_CIRCUITS)]
        with Flood(base, 6, 0, (10, 11, 12)) as flood:
            time.sleep(3)  # the flood's circuits have been served, and hold the places
            answers = [_logged_in(base, c, 400 + n) for n, c in enumerate(codenames)]
    print(
        f"\nsources on new circuits let in: {answers.count('in')} of {len(answers)} "
        f"during {flood.sent[0]} flood requests ({flood.busy[0]} told busy)"
    )
    assert flood.busy[0] > 0  # the flood did fill the queue
    assert answers == ["in"] * NEW_CIRCUITS


# One attacker's account, signed in once, its cookie sent on this many circuits at once.
PAGE_FLOOD_CIRCUITS = 24
PAGE_FLOOD_SECONDS = 6.0
REAL_PAGE_SOURCES = 4


def test_one_accounts_pages_sent_down_many_circuits_share_one_budget(
    instance: Path, tmp_path: Path
) -> None:
    """Each account page opens and checks `SOURCE_REPLIES_WEIGHED` replies (some 37 ms of
    CPU): one codename of the attacker's own, its cookie sent down two dozen circuits,
    built a page on each as fast as the circuit's pace for cheap pages allowed, and took
    the workers' CPU from every real source's page, login and report."""
    env = {"RAAZDAR_TOR_CIRCUITS": "1"}
    log = tmp_path / "gunicorn.log"
    with live_server(instance, workers=2, log=log, env=env) as base:
        attacker = new_source(base, 500)
        real = [new_source(base, 600 + n) for n in range(REAL_PAGE_SOURCES)]
        browser, status, _seconds = log_in(base, attacker, 700)
        browser.close()
        assert status == 303
        circuits = range(800, 800 + PAGE_FLOOD_CIRCUITS)
        with PageFlood(base, browser.cookies, circuits) as flood:
            time.sleep(PAGE_FLOOD_SECONDS)
            answers = [page_after_login(base, c, 900 + n) for n, c in enumerate(real)]
    print(
        f"\nthe attacker's account pages built: {flood.built[0]} in {PAGE_FLOOD_SECONDS:.0f} s "
        f"and more ({flood.refused[0]} refused busy); real sources in: "
        f"{[a for a, _ in answers].count('in')} of {len(answers)}, "
        f"seconds {[round(s, 2) for _, s in answers]}"
    )
    # Its burst, one page more each spacing, and one page a circuit in flight at the end.
    seconds = PAGE_FLOOD_SECONDS + sum(s for _, s in answers) + 5
    most = PAGE_BURST + int(seconds * 1e9 // PAGE_SPACING_NS) + 1
    assert flood.built[0] <= most, f"one account built {flood.built[0]} pages (at most {most})"
    assert [a for a, _ in answers] == ["in"] * REAL_PAGE_SOURCES


def test_a_failed_logins_cookie_sent_again_down_many_circuits_builds_few_pages(
    instance: Path, tmp_path: Path
) -> None:
    """The page after a wrong codename builds an account page for nobody (as a right one's
    leads to one) and drops the failure from the cookie; but the cookie is the browser's:
    the one the failed login gave, sent again down two dozen circuits, had that page built
    on each, with no derivation more."""
    env = {"RAAZDAR_TOR_CIRCUITS": "1"}
    log = tmp_path / "gunicorn.log"
    with live_server(instance, workers=2, log=log, env=env) as base:
        browser, status, _seconds = log_in(base, generate_codename(), 700)
        browser.close()
        assert status == 303
        circuits = range(800, 800 + PAGE_FLOOD_CIRCUITS)
        with PageFlood(base, browser.cookies, circuits, replay=True) as flood:
            time.sleep(PAGE_FLOOD_SECONDS)
    print(
        f"\nfailed-login pages built from one cookie: {flood.served[0]} in "
        f"{PAGE_FLOOD_SECONDS:.0f} s and more ({flood.refused[0]} refused busy)"
    )
    most = PAGE_BURST + int((PAGE_FLOOD_SECONDS + 5) * 1e9 // PAGE_SPACING_NS) + 1
    assert flood.served[0] <= most, f"one failed login built {flood.served[0]} pages"


# Circuits loading a cheap page as fast as they are answered, and for how long.
CHEAP_FLOOD_CIRCUITS = 4
CHEAP_FLOOD_SECONDS = 8.0
# What the flood may have served, by the promise (docs/PROTOCOL.md, the flood section): each
# circuit a visit's worth at once (a visit, a reload and a report take some 46 turns:
# tests/app/test_circuit_pool.py) and two a second, and all of them together one shared
# pool of 512 and sixteen a second more.
VISIT_TURNS = 64
CIRCUIT_PER_SECOND = 2
SHARED_TURNS = 512
SHARED_PER_SECOND = 16


def _visit(base: str, codename: str, circuit: int) -> list[int]:
    """A returning source's visit on `circuit`, as Tor Browser makes it: the landing page and
    its stylesheet, the login form, the login, the account page and a reload; the statuses."""
    browser = Browser(base, circuit)
    try:
        statuses = [browser.get(path)[0] for path in ("/", "/static/style.css")]
        status, html = browser.get("/login")
        fields = {"csrf_token": inputs(html).get("csrf_token", ""), "codename": codename}
        statuses += [status, browser.post_form("/login", fields)]
        statuses += [browser.get("/account")[0] for _ in range(2)]
        return statuses
    finally:
        browser.close()


def test_a_flood_of_cheap_pages_is_held_to_a_visit_a_circuit_and_one_shared_pool(
    instance: Path, tmp_path: Path
) -> None:
    """Each circuit had 1,024 cheap pages at once (some 1.7 ms of CPU each), and new circuits
    cost an attacker little: a few loading the page about resources as fast as they were
    answered had every one served for as long as they went on (the server's whole CPU), and
    real sources' logins and reports took two to five times as long. A circuit now has a
    visit's worth at once and its pace, and past that a share of one pool for all; a
    source's visit on a circuit of its own still gets every page."""
    env = {"RAAZDAR_TOR_CIRCUITS": "1"}
    log = tmp_path / "gunicorn.log"
    with live_server(instance, workers=2, log=log, env=env) as base:
        codename = new_source(base, 1900)
        circuits = range(2000, 2000 + CHEAP_FLOOD_CIRCUITS)
        started = time.monotonic()
        with PageFlood(base, {}, circuits, "/resources") as flood:
            time.sleep(CHEAP_FLOOD_SECONDS)
            visit = _visit(base, codename, 2100)
        seconds = time.monotonic() - started
    print(
        f"\ncheap pages served to {CHEAP_FLOOD_CIRCUITS} circuits: {flood.served[0]} in "
        f"{seconds:.1f} s ({flood.refused[0]} refused busy); a source's visit: {visit}"
    )
    paced = (CHEAP_FLOOD_CIRCUITS * CIRCUIT_PER_SECOND + SHARED_PER_SECOND) * (seconds + 1)
    most = CHEAP_FLOOD_CIRCUITS * (VISIT_TURNS + 1) + SHARED_TURNS + int(paced)
    assert flood.served[0] <= most, f"the flood had {flood.served[0]} pages (at most {most})"
    assert visit == [200, 200, 200, 303, 200, 200]
