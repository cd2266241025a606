"""Two app hosts behind one onion address: deploy/README.md's scale-out recipe, run for real.

Two `raazdar serve --tor off` backends share one PostgreSQL database and one
store directory (a symlink stands in for the network mount) and copies of the
instance's config, secret key, signing key and keyring; each has its own tor
with its own source onion declared as an Onionbalance instance
(`HiddenServiceOnionbalanceInstance 1` and `ob_config`). Onionbalance, on a
third tor that alone holds the master key, publishes the front address. Sources
submit through the front address over SOCKS; one backend is killed (SIGKILL,
its tor and its processes) in the middle of it. Every report that was accepted
must then be stored exactly once, and the front address must still answer.

Onionbalance's testnet mode (`--is-testnet`, its one supported switch for a
test network) assumes chutney's 20 s voting interval when it works out time
periods, so this test runs its own private network voting every 20 s, and
with more relays than the others: Onionbalance 0.2.4 loops forever choosing
HSDirs when it sees four or fewer.
Its first fetch of the backends' descriptors comes 45 s after it starts
(`INITIAL_CALLBACK_DELAY`, a constant with no switch): time it gives its tor
to bootstrap. Here that tor knows every router before Onionbalance starts, so
the test starts it with the constant set to a few seconds (a fetch that comes
too early is made again 20 s later, as any failed fetch is).

No step waits a fixed time for something to happen: each waits for what it
needs (a descriptor, both backends serving, a report accepted after the kill)
under a deadline, because on a loaded machine Onionbalance's timing drifts. In
testnet mode it fetches the backends' descriptors every 20 s and counts one
older than 20 s as offline, so a late fetch drops a live backend from the front
descriptor now and then, and the client tor keeps whichever front descriptor it
fetched. So while a backend has served no one, the client is told to forget it
(NEWNYM), as new sources with tors of their own would not have it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import stem
from sqlalchemy import create_engine, text
from stem.control import EventType

from app.operations.setup import initialise
from app.operations.tor.control import Tor, TorError
from crypto import KdfParams
from devnet.private_network import PrivateNetwork
from tests.app.live import _stop as stop_process
from tests.app.live import stored_envelopes
from tests.app.support import envelope_files
from tests.ports import free_port
from tests.tor.conftest import _require_tor
from tests.tor.test_onion import TOR_BROWSER_UA, assert_is_landing_page, get, inputs

pytestmark = pytest.mark.tor

BIN = Path(sys.executable).parent
# Onionbalance's testnet mode assumes a consensus every 20 s (see the docstring).
ONIONBALANCE_VOTING_INTERVAL = 20
# Onionbalance 0.2.4 loops forever choosing HSDirs when it sees 4 or fewer; with the
# authority, 6 routers leave a margin for one whose microdescriptor it lacks.
RELAYS = 5
FIRST_ANSWER_WITHIN = 120.0  # after onionbalance starts: its first fetch, publish, fetch
# Seconds before Onionbalance's first fetch and publish, for its 45 (see the docstring).
INITIAL_CALLBACK_DELAY = 5
# `onionbalance`, its console script, with that one constant changed before it runs.
ONIONBALANCE = (
    "import sys; from onionbalance.hs_v3 import params; "
    f"params.INITIAL_CALLBACK_DELAY = {INITIAL_CALLBACK_DELAY}; "
    "from onionbalance.manager import main; sys.argv[0] = 'onionbalance'; sys.exit(main())"
)
# Load runs at least this long on each side of the kill, and until what that side must
# show has happened (both backends served; the survivor served and a report accepted),
# for at most LOAD_WITHIN: Onionbalance refreshes the front descriptor every 20 s or so.
LOAD_BEFORE_KILL = 15.0
LOAD_AFTER_KILL = 15.0
LOAD_WITHIN = 180.0
# How long no progress goes on before the client tor forgets the front's descriptor.
NUDGE_EVERY = 20.0
SUBMITTERS = 3
REQUEST_TIMEOUT = (20, 20)  # connect (SOCKS: descriptor, introduction, rendezvous), read


@dataclass
class Backend:
    """One app host: `raazdar serve --tor off`, and its own tor publishing its own onion."""

    name: str
    instance: Path
    serve: subprocess.Popen[bytes]
    tor: Tor
    address: str
    # Each rendezvous circuit's id, and when it was first seen (time.monotonic()).
    rendezvous: dict[str, float] = field(default_factory=dict)

    def served(self, since: float = 0.0) -> int:
        """How many connections (rendezvous circuits) reached this backend since `since`."""
        return sum(seen >= since for seen in list(self.rendezvous.values()))


@dataclass
class Attempt:
    nonce: str
    started: float
    ended: float
    accepted: bool


def shared_instances(root: Path, database_url: str) -> tuple[Path, Path]:
    """Two hosts' instance directories: one database, one store, the same keys; no onion keys."""
    first = root / "host-1"
    initialise(first, signed=None, database_url=database_url, kdf=KdfParams.TESTING, demo=True)
    shared = root / "shared-store"
    (first / "store").rename(shared)
    (first / "store").symlink_to(shared, target_is_directory=True)
    second = root / "host-2"
    # config.json, secret_key, server_signing_key, keyring/ (and the demo keys): the same;
    # store/ the same mount; tor/ (the host's own onion keys) not copied.
    shutil.copytree(first, second, symlinks=True, ignore=shutil.ignore_patterns("tor"))
    return first, second


def start_backend(
    name: str, instance: Path, network: PrivateNetwork, front: str, work: Path, *, sweeps: bool
) -> Backend:
    """One host; only the host that `sweeps` runs the arrival sweep at start."""
    port = free_port()
    log = (work / f"{name}-serve.log").open("wb")
    with log:
        serve = subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
            [
                str(BIN / "raazdar"),
                "--instance",
                str(instance),
                "serve",
                "--tor",
                "off",
                "--port",
                str(port),
                "--staff-port",
                str(free_port()),
                "--workers",
                "1",
                "--sweep" if sweeps else "--no-sweep",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A session of its own: the kill takes serve, gunicorn and its workers at once.
            start_new_session=True,
        )
    onion_dir = work / f"{name}-onion"
    onion_dir.mkdir(mode=0o700)
    (onion_dir / "ob_config").write_text(f"MasterOnionAddress {front}\n", "ascii")
    try:
        tor = Tor.launch(
            work / f"{name}-tor",
            extra={
                **network.join_config(),
                "HiddenServiceDir": str(onion_dir),
                "HiddenServicePort": f"80 127.0.0.1:{port}",
                "HiddenServicePoWDefensesEnabled": "1",
                "HiddenServiceOnionbalanceInstance": "1",
            },
        )
    except BaseException:
        stop_process(serve)
        raise
    hostname = onion_dir / "hostname"
    deadline = time.monotonic() + 30
    while not hostname.exists():
        assert time.monotonic() < deadline, f"{name}'s tor wrote no onion hostname in 30 s"
        time.sleep(0.1)
    address = hostname.read_text("ascii").strip()
    return Backend(name, instance, serve, tor, address)


def kill_backend(backend: Backend) -> None:
    """The host dies: SIGKILL its serve, gunicorn and workers (its session) and its tor."""
    os.killpg(backend.serve.pid, signal.SIGKILL)
    assert backend.tor.process is not None
    backend.tor.process.kill()
    backend.serve.wait(timeout=10)
    backend.tor.process.wait(timeout=10)


@contextlib.contextmanager
def onionbalance(work: Path, network: PrivateNetwork) -> Iterator[tuple[str, Any]]:
    """Make the master key with onionbalance-config; yield the front address and a starter."""
    config_dir = work / "onionbalance"
    made = subprocess.run(  # noqa: S603 - our own dependency, fixed arguments
        [str(BIN / "onionbalance-config"), "--no-interactive", "-n", "2", "--output", config_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    keys = list(config_dir.glob("*.key"))
    assert made.returncode == 0, made.stdout + made.stderr
    assert len(keys) == 1, made.stdout + made.stderr
    key = keys[0]
    front = f"{key.stem}.onion"
    # Its own tor, on the same private network; the master key stays here only.
    tor = Tor.launch(work / "onionbalance-tor", extra=network.join_config())
    processes: list[subprocess.Popen[bytes]] = []

    def start(backends: list[Backend]) -> None:
        # Onionbalance builds its HSDir ring from the routers its tor has microdescriptors
        # for; with four or fewer it would hang (see the docstring), so wait for all.
        deadline = time.monotonic() + 30
        while known_routers(tor) < 1 + RELAYS:
            assert time.monotonic() < deadline, f"Onionbalance's tor knows {known_routers(tor)}"
            time.sleep(0.2)
        config = config_dir / "config.yaml"  # JSON is YAML
        config.write_text(
            json.dumps(
                {
                    "services": [
                        {
                            "key": str(key),
                            "instances": [{"address": b.address, "name": b.name} for b in backends],
                        }
                    ]
                }
            ),
            "utf-8",
        )
        with (work / "onionbalance.log").open("wb") as log:
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own dependency, fixed arguments
                    [
                        sys.executable,
                        "-c",
                        ONIONBALANCE,
                        "--is-testnet",
                        "--config",
                        str(config),
                        "--socket",
                        str(work / "onionbalance-tor" / "control.sock"),
                        "--verbosity",
                        "info",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    try:
        yield front, start
    finally:
        for process in processes:
            stop_process(process)
        tor.close()


def known_routers(tor: Tor) -> int:
    """How many routers' microdescriptors a tor holds."""
    try:
        described = str(tor.controller.get_info("md/all", ""))
    except stem.ControllerError:
        return 0
    return sum(line.startswith("ntor-onion-key ") for line in described.splitlines())


def onionbalance_log(work: Path) -> str:
    """The end of Onionbalance's log, for a failure message."""
    path = work / "onionbalance.log"
    text = path.read_text("utf-8", "replace") if path.exists() else "(no log)"
    return "onionbalance.log ends:\n" + "\n".join(text.splitlines()[-20:])


class Monitor:
    """Notes each backend's rendezvous circuits (one per connection a client made to it).

    From the tors' circuit events, so that no circuit is missed however short it lives.
    """

    def __init__(self, backends: list[Backend]) -> None:
        self.listeners = [(b, self._listener(b)) for b in backends]
        for backend, listener in self.listeners:
            backend.tor.controller.add_event_listener(listener, EventType.CIRC)

    @staticmethod
    def _listener(backend: Backend) -> Callable[[Any], None]:
        def on_circuit(event: Any) -> None:
            if event.purpose == "HS_SERVICE_REND":
                backend.rendezvous.setdefault(event.id, time.monotonic())

        return on_circuit

    def close(self) -> None:
        for backend, listener in self.listeners:
            with contextlib.suppress(stem.ControllerError, stem.SocketError, OSError):
                backend.tor.controller.remove_event_listener(listener)


def wait_for(
    what: str,
    done: Callable[[], bool],
    *,
    at_least: float,
    within: float,
    state: Callable[[], object],
    nudge: Callable[[], None] | None = None,
) -> float:
    """Wait at least `at_least` s and until `done()`, failing after `within` s; return the wait.

    While not done, `nudge()` is called every NUDGE_EVERY s; a failure says `state()`.
    """
    started = nudged = time.monotonic()
    while True:
        now = time.monotonic()
        finished = done()
        if finished and now - started >= at_least:
            return now - started
        assert now - started < within, f"{what}: not within {within:.0f} s ({state()})"
        if not finished and nudge is not None and now - nudged >= NUDGE_EVERY:
            nudge()
            nudged = now
        time.sleep(0.5)


def submit(url: str, proxy: str, nonce: str) -> bool:
    """One source's report through the front address; True when it was accepted (303)."""
    proxies = {"http": proxy, "https": proxy}
    headers = {"User-Agent": TOR_BROWSER_UA}
    try:
        with requests.Session() as session:
            page = session.get(
                f"{url}/submit", proxies=proxies, headers=headers, timeout=REQUEST_TIMEOUT
            )
            if page.status_code != 200:
                return False
            form = {"agency": "", "province": "", "district": "", "when": ""}
            form.update(inputs(page.text))
            form["message"] = f"Report {nonce}: the district office sold the tender."
            answer = session.post(
                f"{url}/submit",
                data=form,
                proxies=proxies,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
                allow_redirects=False,
            )
    except requests.RequestException:
        return False
    return answer.status_code == 200 and 'class="filed"' in answer.text  # confirmed in place


def first_answer(network: PrivateNetwork, url: str, within: float) -> requests.Response:
    """GET the front address until it answers (once Onionbalance has posted its descriptor)."""
    give_up = time.monotonic() + within
    while True:
        try:
            return get(network, f"{url}/")  # itself retried with new circuits for a minute
        except requests.ConnectionError:
            if time.monotonic() > give_up:
                raise


def test_two_backends_behind_one_onionbalance_address_survive_losing_one(
    tmp_path: Path, postgres_url: str
) -> None:
    _require_tor()
    began = time.monotonic()
    first, second = shared_instances(tmp_path, postgres_url)
    network = PrivateNetwork(
        tmp_path / "net", voting_interval=ONIONBALANCE_VOTING_INTERVAL, relays=RELAYS
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(network.start(timeout=120))
        front, start_onionbalance = stack.enter_context(onionbalance(tmp_path, network))
        # Backends' descriptors must be made under the time periods Onionbalance assumes.
        network.wait_voting_interval(timeout=60)
        backends = []
        for name, instance in (("host-1", first), ("host-2", second)):
            backend = start_backend(
                name, instance, network, front, tmp_path, sweeps=name == "host-1"
            )
            stack.callback(stop_process, backend.serve)
            stack.callback(backend.tor.close)  # first: its connections to gunicorn close
            backends.append(backend)
        for backend in backends:
            network.wait_published(backend.tor, backend.address, timeout=60)
        start_onionbalance(backends)
        ob_started = time.monotonic()
        url = f"http://{front}"
        try:
            assert_is_landing_page(first_answer(network, url, FIRST_ANSWER_WITHIN))
        except requests.ConnectionError as exc:
            why = f"no answer through {front}; {onionbalance_log(tmp_path)}"
            raise AssertionError(why) from exc
        answered = time.monotonic()

        monitor = Monitor(backends)
        stack.callback(monitor.close)
        attempts: list[Attempt] = []
        done = threading.Event()
        circuits = itertools.count()
        socks_port = network.socks_port

        def source() -> None:
            while not done.is_set():
                nonce = uuid.uuid4().hex
                started = time.monotonic()
                # A SOCKS user per source: tor isolates its circuits, so each source
                # picks its own introduction point, and so either backend.
                proxy = f"socks5h://source{next(circuits)}:x@127.0.0.1:{socks_port}"
                accepted = submit(url, proxy, nonce)
                attempts.append(Attempt(nonce, started, time.monotonic(), accepted))

        def stop_sources() -> None:
            done.set()
            for thread in threads:
                thread.join(timeout=2 * sum(REQUEST_TIMEOUT) + 5)

        def state() -> str:
            served = {b.name: b.served() for b in backends}
            accepted = sum(a.accepted for a in attempts)
            return f"rendezvous {served}, {accepted} of {len(attempts)} reports accepted"

        threads = [threading.Thread(target=source, daemon=True) for _ in range(SUBMITTERS)]
        for thread in threads:
            thread.start()
        # On a failure too: no source may outlive the network it talks through.
        stack.callback(stop_sources)
        loaded = wait_for(
            "both backends serving sources and a report accepted",
            lambda: all(b.served() for b in backends) and any(a.accepted for a in attempts),
            at_least=LOAD_BEFORE_KILL,
            within=LOAD_WITHIN,
            state=state,
            nudge=network.new_identity,
        )
        served_before = {b.name: b.served() for b in backends}
        kill_at = time.monotonic()
        kill_backend(backends[0])
        survivor = backends[1]
        recovered = wait_for(
            "the survivor serving sources and a report accepted after the kill",
            lambda: (
                survivor.served(kill_at) > 0
                and any(a.accepted and a.started >= kill_at for a in attempts)
            ),
            at_least=LOAD_AFTER_KILL,
            within=LOAD_WITHIN,
            state=state,
        )
        stop_sources()
        assert not any(t.is_alive() for t in threads)
        monitor.close()
        # The front address still answers, with one backend gone.
        assert_is_landing_page(first_answer(network, url, 60))

        before = sum(a.accepted and a.started < kill_at for a in attempts)
        after = sum(a.accepted and a.started >= kill_at for a in attempts)
        cut = [a for a in attempts if a.started < kill_at < a.ended]
        print(
            f"\nonionbalance: first answer through the front address "
            f"{answered - began:.1f} s after the test began "
            f"({answered - ob_started:.1f} s after onionbalance started); "
            f"load {loaded:.1f} s before the kill, {recovered:.1f} s after; "
            f"reports accepted: {before} before the kill, {after} after "
            f"({len(attempts) - before - after} not accepted of {len(attempts)}; "
            f"{len(cut)} in flight at the kill, {sum(a.accepted for a in cut)} of them accepted); "
            f"rendezvous per backend before the kill: {served_before}, "
            f"on the survivor after it: {survivor.served(kill_at)}; "
            f"test time {time.monotonic() - began:.1f} s"
        )
        # Both backends served sources, so the kill cut off real traffic.
        assert all(served_before.values()), served_before
        assert before > 0
        assert after > 0
        assert survivor.served(kill_at) > 0

        # Every accepted report is stored exactly once; nothing is stored twice.
        stored = Counter(
            json.loads(e.plaintext)["message"].split()[1].rstrip(":")
            for e in stored_envelopes(first)
            if e.metadata.kind == "report"
        )
        accepted = {a.nonce for a in attempts if a.accepted}
        assert all(stored[n] == 1 for n in accepted), [n for n in accepted if stored[n] != 1]
        assert max(stored.values()) == 1
        # The database and the store agree: a row per file, a file per row.
        engine = create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                rows = {r[0] for r in connection.execute(text("SELECT id FROM items"))}
        finally:
            engine.dispose()
        assert rows == {p.stem for p in envelope_files(second)}
        assert len(rows) == sum(stored.values())
        # And the surviving host exports every one of them.
        bundle = tmp_path / "export.rzb"
        exported = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [str(BIN / "raazdar"), "--instance", str(second), "export", "--out", str(bundle)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert exported.returncode == 0, exported.stdout + exported.stderr
        print(exported.stdout.strip())


def test_a_network_tor_would_refuse_or_too_small_for_onions_is_refused_at_once(
    tmp_path: Path,
) -> None:
    with pytest.raises(TorError, match="voting interval must be at least 10 s"):
        PrivateNetwork(tmp_path, voting_interval=5)
    with pytest.raises(TorError, match="the authority and 3 relays at least"):
        PrivateNetwork(tmp_path, relays=2)
    assert not any(tmp_path.iterdir())
