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
(`INITIAL_CALLBACK_DELAY`, a constant with no switch), which dominates the
time to the first answer.
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import stem
from sqlalchemy import create_engine, text

from app.operations.setup import initialise
from app.operations.tor.control import Tor, TorError
from crypto import KdfParams
from devnet.private_network import PrivateNetwork
from tests.app.live import _stop as stop_process
from tests.app.live import free_port, stored_envelopes
from tests.app.support import envelope_files
from tests.tor.conftest import _require_tor
from tests.tor.test_onion import TOR_BROWSER_UA, assert_is_landing_page, get, inputs

pytestmark = pytest.mark.tor

BIN = Path(sys.executable).parent
# Onionbalance's testnet mode assumes a consensus every 20 s (see the docstring).
ONIONBALANCE_VOTING_INTERVAL = 20
# Onionbalance 0.2.4 loops forever choosing HSDirs when it sees 4 or fewer; with the
# authority, 6 routers leave a margin for one whose microdescriptor it lacks.
RELAYS = 5
FIRST_ANSWER_WITHIN = 120.0  # after onionbalance starts: 45 s delay, publish, fetch
LOAD_BEFORE_KILL = 15.0
LOAD_AFTER_KILL = 15.0
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
    rendezvous: set[str] = field(default_factory=set)


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
    while not hostname.exists() and time.monotonic() < deadline:
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
                        str(BIN / "onionbalance"),
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
    """Counts each backend's rendezvous circuits (one per connection a client made to it)."""

    def __init__(self, backends: list[Backend]) -> None:
        self.backends = backends
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.3):
            for backend in self.backends:
                with contextlib.suppress(stem.ControllerError, stem.SocketError, OSError):
                    for circuit in backend.tor.controller.get_circuits([]):
                        if circuit.purpose == "HS_SERVICE_REND":
                            backend.rendezvous.add(circuit.id)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


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
    return answer.status_code == 303 and answer.headers["Location"].endswith("/submitted")


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

        def source() -> None:
            while not done.is_set():
                nonce = uuid.uuid4().hex
                started = time.monotonic()
                # A SOCKS user per source: tor isolates its circuits, so each source
                # picks its own introduction point, and so either backend.
                proxy = f"socks5h://source{next(circuits)}:x@127.0.0.1:{network.socks_port}"
                accepted = submit(url, proxy, nonce)
                attempts.append(Attempt(nonce, started, time.monotonic(), accepted))

        threads = [threading.Thread(target=source, daemon=True) for _ in range(SUBMITTERS)]
        for thread in threads:
            thread.start()
        time.sleep(LOAD_BEFORE_KILL)
        served_before = {b.name: len(b.rendezvous) for b in backends}
        kill_at = time.monotonic()
        kill_backend(backends[0])
        survivor_before = len(backends[1].rendezvous)
        time.sleep(LOAD_AFTER_KILL)
        done.set()
        for thread in threads:
            thread.join(timeout=2 * sum(REQUEST_TIMEOUT) + 5)
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
            f"reports accepted: {before} before the kill, {after} after "
            f"({len(attempts) - before - after} not accepted of {len(attempts)}; "
            f"{len(cut)} in flight at the kill, {sum(a.accepted for a in cut)} of them accepted); "
            f"rendezvous per backend before the kill: {served_before}, "
            f"on the survivor after it: {len(backends[1].rendezvous) - survivor_before}; "
            f"test time {time.monotonic() - began:.1f} s"
        )
        # Both backends served sources, so the kill cut off real traffic.
        assert all(served_before.values()), served_before
        assert before > 0
        assert after > 0
        assert len(backends[1].rendezvous) > survivor_before

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
