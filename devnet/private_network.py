"""A private Tor network on 127.0.0.1: one directory authority, three relays and a client.

For the demonstration and the tests only, so it lives beside the product, not in
it: no wheel carries it. A real server launches or attaches to a tor on the Tor
network (`app.operations.tor.control`) and never loads this module;
`raazdar serve --tor private` run from a source checkout finds it there
(`app.operations.tor.private`).

Real onion services need a real Tor network; this one lives entirely on loopback,
so the test suite and `raazdar serve --tor private` can publish and reach an
onion service on a machine with no internet. Every tor started here names our
own authority (so none of them ever contacts the public network) and binds
127.0.0.1 only. The start-up follows a recipe verified over 100 runs: keys are
made at run time, the start is aligned to the authority's voting grid, relays
that missed the first consensus are reloaded, and the client starts only once
every relay holds the full consensus and all microdescriptors.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import stem
import stem.connection
import stem.control

from app.operations.tor.control import Tor, TorError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
AUTHORITY = "auth0"
# Onion-service circuits in tor 0.4.9 need four distinct relays; the authority is one.
# Every router is an HSDir. Onionbalance 0.2.4 loops forever choosing HSDirs when it
# sees four or fewer (`hashring.get_responsible_hsdirs`), so give it more relays
# (`PrivateNetwork(relays=5)`).
RELAYS = 3
CLIENT = "client"
# The authority's first consensus comes one initial interval after the aligned start.
INITIAL_VOTING_INTERVAL = 6
# The interval of every later consensus. The least tor accepts with 2 s vote and
# distribution delays (their sum must be under half of it); tools that assume a
# test network votes every 20 s, as chutney's does (Onionbalance's testnet mode),
# need 20 (`PrivateNetwork(voting_interval=20)`).
VOTING_INTERVAL = 10
STOP_GRACE = 10.0
POLL = 0.1
# A relay that missed the first consensus backs off; RELOAD resets that, but not too often.
RELOAD_EVERY = 3.0

_ONION = re.compile(r"[a-z2-7]{56}")
_FINGERPRINT = re.compile(r"[0-9A-F]{40}")

Options = dict[str, str | list[str]]


def _tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for an error message."""
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on loopback (held together so none repeats)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _check_free(port: int) -> None:
    """Refuse a fixed port something else already listens on, before any tor starts."""
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise TorError(
                f"cannot use SOCKS port {port} on {LOOPBACK}: {exc.strerror or exc}"
            ) from exc


class StartCancelled(TorError):
    """The start was called off (Ctrl-C, SIGTERM): every tor started so far was stopped."""


def _torrc(options: Mapping[str, str | list[str]]) -> str:
    lines: list[str] = []
    for key, value in options.items():
        for item in [value] if isinstance(value, str) else value:
            lines.append(f"{key} {item}")
    return "\n".join(lines) + "\n"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _bootstrap(controller: Any) -> int:
    phase = str(controller.get_info("status/bootstrap-phase", ""))
    found = re.search(r"PROGRESS=(\d+)", phase)
    return int(found.group(1)) if found else 0


@dataclass
class _Node:
    """One tor of the network: its directory, ports, process and controller."""

    name: str
    directory: Path
    control_port: int
    or_port: int | None = None
    dir_port: int | None = None
    socks_port: int | None = None
    fingerprint: str = ""
    process: subprocess.Popen[bytes] | None = None
    controller: Any = None

    @property
    def notice_log(self) -> Path:
        return self.directory / "notice.log"

    @property
    def control_port_file(self) -> Path:
        return self.directory / "control-port"

    @property
    def output(self) -> Path:
        return self.directory / "output.log"

    def tail(self) -> str:
        """The end of the notice log, or of the output if tor died before logging."""
        source = self.notice_log if self.notice_log.exists() else self.output
        return f"last lines of {self.name}'s log ({source}):\n{_tail(source)}"


class _Deadline:
    """One deadline that bounds every wait of an operation."""

    def __init__(self, seconds: float, what: str) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds
        self.what = what

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end


class PrivateNetwork:
    """A private Tor network on loopback, and a client tor with a SOCKS port into it."""

    def __init__(
        self,
        workdir: Path,
        socks_port: int | None = None,
        *,
        voting_interval: int = VOTING_INTERVAL,
        relays: int = RELAYS,
    ) -> None:
        """The authority and `relays` relays (at least 3), voting every `voting_interval` s."""
        if voting_interval < VOTING_INTERVAL:
            raise TorError(f"the voting interval must be at least {VOTING_INTERVAL} s")
        if relays < RELAYS:
            raise TorError(f"onion services need the authority and {RELAYS} relays at least")
        self.workdir = workdir
        self.voting_interval = voting_interval
        self._relay_names = tuple(f"relay{i}" for i in range(relays))
        # A fixed SOCKS port (`serve --socks-port`); else a free one at each start.
        self._fixed_socks = socks_port
        self._cancelled: Callable[[], bool] = lambda: False
        self._tor = shutil.which("tor")
        self._gencert = shutil.which("tor-gencert")
        self._routers: list[_Node] = []
        self._client: _Node | None = None
        self._dir_authority: str | None = None
        self._started_at = 0.0

    # -- public interface -------------------------------------------------------

    @property
    def socks_port(self) -> int:
        """The client tor's SOCKS port on 127.0.0.1."""
        client = self._require_client()
        assert client.socks_port is not None  # noqa: S101 - set for the client role
        return client.socks_port

    @property
    def proxies(self) -> dict[str, str]:
        """Proxies for `requests`: socks5h, so .onion names are resolved by tor, never locally."""
        url = f"socks5h://{LOOPBACK}:{self.socks_port}"
        return {"http": url, "https": url}

    @property
    def pids(self) -> list[int]:
        """The PIDs of the network's running tors (authority, relays, client)."""
        nodes = [*self._routers, *([self._client] if self._client else [])]
        return [n.process.pid for n in nodes if n.process is not None and n.process.poll() is None]

    def join_config(self) -> Options:
        """The torrc options a tor needs to join this network (no DataDirectory or ControlPort)."""
        if self._dir_authority is None:
            raise TorError("the private Tor network has not been started")
        return {
            # Names our own authority, which replaces the public authorities and fallbacks.
            "TestingTorNetwork": "1",
            "DirAuthority": self._dir_authority,
            "PathsNeededToBuildCircuits": "0.67",
            "TestingClientMaxIntervalWithoutRequest": "1 second",
            "V3AuthNIntervalsValid": "2",
            "TestingDirAuthVoteGuard": "*",
            "TestingDirAuthVoteHSDir": "*",
            "TestingMinExitFlagThreshold": "0",
            # Give up on a circuit after 10 s, not tor's first-run 60 s: on loopback one
            # builds in milliseconds, and a create cell lost on a loaded machine otherwise
            # holds a restarted tor at "95 %: Establishing a Tor circuit" for a whole minute
            # (CI, 3 December: a restarted service tor that never published in 60 s).
            "LearnCircuitBuildTimeout": "0",
            "CircuitBuildTimeout": "10",
            # No vanguards-lite. A tor picks its layer-2 guards (the second hop of every
            # onion-service circuit) once, from the Stable relays whose descriptors it
            # holds then, and looks again only every 15 minutes (tor's
            # `manage_vglite_callback`). On four routers a service tor that joined with
            # part of the view could pin a set holding only its own guard, and then build
            # no onion circuit at all: "Failed to find node for hop #2 of our path" for
            # its whole 60 s (CI, 3 December, a service tor stuck at 95 %). Vanguards
            # defend against guard discovery on the real network; on loopback there is
            # nothing to discover.
            "VanguardsLiteEnabled": "0",
            "GeoIPFile": os.devnull,
            "GeoIPv6File": os.devnull,
            "ShutdownWaitLength": "0",
        }

    def start(
        self, timeout: float = 120.0, cancelled: Callable[[], bool] | None = None
    ) -> PrivateNetwork:
        """Make keys, start the authority and relays, gate on their views, then the client.

        `cancelled` is polled while waiting: once it says so, every tor started
        is stopped and `StartCancelled` raised.
        """
        self._cancelled = cancelled or (lambda: False)
        if self._routers:
            raise TorError("the private Tor network is already running")
        if self._tor is None or self._gencert is None:
            raise TorError("tor and tor-gencert are needed for a private Tor network")
        deadline = _Deadline(timeout, "start the private Tor network")
        self._started_at = time.monotonic()
        try:
            self._prepare(deadline)
            self._start_routers(deadline)
            self._gate(deadline)
            self._start_client(deadline)
        except BaseException:
            self.stop()
            raise
        log.info(
            "private Tor network ready in %.1f s (SOCKS on %s:%d)",
            time.monotonic() - self._started_at,
            LOOPBACK,
            self.socks_port,
        )
        return self

    def add_client_auth(self, address: str, private_key_b64: str) -> None:
        """Give the client tor the x25519 key (base64) for an onion with client authorisation."""
        service_id = address.removesuffix(".onion")
        if not _ONION.fullmatch(service_id):
            raise TorError("not a v3 onion address")
        try:
            if len(base64.b64decode(private_key_b64, validate=True)) != 32:
                raise TorError("a client authorisation key is 32 bytes")
        except binascii.Error as exc:
            raise TorError("a client authorisation key is base64") from exc
        controller = self._require_client().controller
        try:
            reply = controller.msg(f"ONION_CLIENT_AUTH_ADD {service_id} x25519:{private_key_b64}")
        except stem.ControllerError as exc:
            raise TorError(f"the client tor refused the key: {exc}") from exc
        # 251 (replaced a key) and 252 (decrypted a cached descriptor) are successes too.
        if not all(code.startswith("25") for code, _, _ in reply.content()):
            raise TorError(f"the client tor refused the key: {reply}")

    def wait_published(
        self,
        tor: Tor,
        address: str,
        timeout: float = 60.0,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        """Wait until `tor` has uploaded the descriptor of `address` to an HSDir."""
        deadline = _Deadline(timeout, f"publish {address}")
        while not tor.health().published(address):
            if cancelled is not None and cancelled():
                raise StartCancelled(f"stopped before {address} was published")
            if deadline.expired():
                health = tor.health()
                raise TorError(
                    f"the descriptor of {address} was not uploaded within {timeout:.0f} s "
                    f"(service tor bootstrapped {health.bootstrap}%: {health.summary or '?'}); "
                    + _service_tail(tor)
                )
            time.sleep(POLL)

    def consensus_interval(self) -> int:
        """Seconds from valid-after to fresh-until of the client's consensus (0 without one).

        The first consensus has the short initial interval; later ones have
        `voting_interval`, and tor derives the onion services' time periods from it.
        """
        text = self._client_consensus()
        times = dict(re.findall(r"^(valid-after|fresh-until) (\S+ \S+)$", text, re.MULTILINE))
        if len(times) != 2:
            return 0
        fresh, valid = (
            dt.datetime.strptime(times[k], "%Y-%m-%d %H:%M:%S")
            for k in ("fresh-until", "valid-after")
        )
        return int((fresh - valid).total_seconds())

    def router_flags(self) -> dict[str, frozenset[str]]:
        """Each router's flags, by nickname, in the client's consensus (empty without one)."""
        flags: dict[str, frozenset[str]] = {}
        name = None
        for line in self._client_consensus().splitlines():
            keyword, _, rest = line.partition(" ")
            if keyword == "r":
                name = rest.split(" ", 1)[0]
            elif keyword == "s" and name is not None:
                flags[name] = frozenset(rest.split())
        return flags

    def _client_consensus(self) -> str:
        """The client's current microdescriptor consensus ('' without one)."""
        try:
            return str(
                self._require_client().controller.get_info(
                    "dir/status-vote/current/consensus-microdesc", ""
                )
            )
        except stem.ControllerError:
            return ""

    def wait_voting_interval(self, timeout: float = 60.0) -> None:
        """Wait until the client holds a consensus made at `voting_interval`."""
        deadline = _Deadline(timeout, f"see a consensus of a {self.voting_interval} s interval")
        client = self._require_client()
        while self.consensus_interval() != self.voting_interval:
            self._check_deadline(deadline, client, f"interval {self.consensus_interval()} s")
            time.sleep(POLL * 5)

    def new_identity(self) -> None:
        """Ask the client for new circuits and to forget cached onion descriptors (NEWNYM)."""
        with contextlib.suppress(stem.ControllerError):
            self._require_client().controller.signal(stem.Signal.NEWNYM)

    def stop(self) -> None:
        """SIGTERM every tor by PID, SIGKILL stragglers, and only then close the controllers."""
        nodes = [*self._routers, *([self._client] if self._client else [])]
        running = [n for n in nodes if n.process is not None and n.process.poll() is None]
        for node in running:
            assert node.process is not None  # noqa: S101 - filtered above
            with contextlib.suppress(ProcessLookupError):
                node.process.send_signal(signal.SIGTERM)
        grace = _Deadline(STOP_GRACE, "stop")
        for node in running:
            assert node.process is not None  # noqa: S101 - filtered above
            try:
                node.process.wait(timeout=grace.left())
            except subprocess.TimeoutExpired:
                log.warning("tor %s did not stop within %.0f s: killing it", node.name, STOP_GRACE)
                node.process.kill()
                node.process.wait()
        # Closing an owning controller makes its tor exit, so this comes last (pitfall 8).
        for node in nodes:
            if node.controller is not None:
                with contextlib.suppress(Exception):
                    node.controller.close()
                node.controller = None
        if nodes:
            log.info("private Tor network stopped")
        self._routers = []
        self._client = None
        self._dir_authority = None

    def __enter__(self) -> PrivateNetwork:
        if not self._routers:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- start-up ----------------------------------------------------------------

    def _prepare(self, deadline: _Deadline) -> None:
        """Pick ports, make every router's keys and the authority's certificate."""
        _private_dir(self.workdir)
        for name in (AUTHORITY, *self._relay_names, CLIENT):
            # Only the directories this class creates: never anything else under workdir.
            shutil.rmtree(self.workdir / name, ignore_errors=True)
        if self._fixed_socks is not None:
            _check_free(self._fixed_socks)
        ports = iter(
            p for p in _free_ports(3 + 2 * len(self._relay_names) + 3) if p != self._fixed_socks
        )
        auth = _Node(
            AUTHORITY,
            _private_dir(self.workdir / AUTHORITY),
            control_port=next(ports),
            or_port=next(ports),
            dir_port=next(ports),
        )
        relays = [
            _Node(
                name,
                _private_dir(self.workdir / name),
                control_port=next(ports),
                or_port=next(ports),
            )
            for name in self._relay_names
        ]
        self._client = _Node(
            CLIENT,
            _private_dir(self.workdir / CLIENT),
            control_port=next(ports),
            socks_port=self._fixed_socks if self._fixed_socks is not None else next(ports),
        )
        self._routers = [auth, *relays]
        keys = _private_dir(auth.directory / "keys")
        assert self._tor is not None  # noqa: S101 - checked in start()
        assert self._gencert is not None  # noqa: S101 - checked in start()
        gencert = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                self._gencert,
                "--create-identity-key",
                "--passphrase-fd",
                "0",
                "-m",
                "12",
                "-a",
                f"{LOOPBACK}:{auth.dir_port}",
                "-i",
                str(keys / "authority_identity_key"),
                "-s",
                str(keys / "authority_signing_key"),
                "-c",
                str(keys / "authority_certificate"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        listings = {
            node.name: subprocess.Popen(  # noqa: S603 - fixed argument list
                [
                    self._tor,
                    "--ignore-missing-torrc",
                    "-f",
                    str(node.directory / "none"),
                    "--defaults-torrc",
                    os.devnull,
                    "--DataDirectory",
                    str(node.directory),
                    "--ORPort",
                    f"{LOOPBACK}:{node.or_port}",
                    "--Address",
                    LOOPBACK,
                    "--Nickname",
                    node.name,
                    # The key listing must never touch the (public) network.
                    "--DisableNetwork",
                    "1",
                    "--list-fingerprint",
                    "--quiet",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for node in self._routers
        }
        try:
            # The identity key is never needed again, so an empty passphrase will do.
            out = self._finish(gencert, deadline, "tor-gencert", input_=b"\n")
            for node in self._routers:
                listing = self._finish(listings[node.name], deadline, "tor --list-fingerprint")
                words = listing.split()
                node.fingerprint = "".join(words[1:]) if words[:1] == [node.name] else ""
                if not _FINGERPRINT.fullmatch(node.fingerprint):
                    raise TorError(f"unexpected fingerprint listing for {node.name}: {listing!r}")
        finally:
            for process in [gencert, *listings.values()]:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        certificate = (keys / "authority_certificate").read_text("ascii")
        found = re.search(r"^fingerprint ([0-9A-F]{40})$", certificate, re.MULTILINE)
        if found is None:
            raise TorError(f"tor-gencert made no usable certificate: {out!r}")
        self._dir_authority = (
            f"{AUTHORITY} orport={auth.or_port} no-v2 v3ident={found.group(1)} "
            f"{LOOPBACK}:{auth.dir_port} {auth.fingerprint}"
        )

    @staticmethod
    def _finish(
        process: subprocess.Popen[bytes],
        deadline: _Deadline,
        what: str,
        input_: bytes | None = None,
    ) -> str:
        try:
            out, _ = process.communicate(input_, timeout=deadline.left())
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.wait()
            raise TorError(f"{what} did not finish in time") from exc
        text = out.decode("utf-8", "replace").strip()
        if process.returncode != 0:
            raise TorError(f"{what} failed ({process.returncode}): {text[-500:]}")
        return text

    def _node_options(self, node: _Node) -> Options:
        """The torrc of one node: the common block, then its role's block."""
        options: Options = {
            **self.join_config(),
            "DataDirectory": str(node.directory),
            "Nickname": node.name,
            "Log": f"notice file {node.notice_log}",
            "LogTimeGranularity": "1",
            "SafeLogging": "0",
            "ControlPort": f"{LOOPBACK}:{node.control_port}",
            "ControlPortWriteToFile": str(node.control_port_file),
            "CookieAuthentication": "1",
            # tor exits if this process dies; stem then takes ownership over the controller.
            "__OwningControllerProcess": str(os.getpid()),
        }
        if node.or_port is not None:
            options.update(
                {
                    "Address": LOOPBACK,
                    "ORPort": f"{LOOPBACK}:{node.or_port}",
                    "AssumeReachable": "1",
                    "ExitRelay": "0",
                    "ExitPolicy": "reject *:*",
                    # Never read the host's resolvers.
                    "ServerDNSResolvConfFile": os.devnull,
                    "ServerDNSDetectHijacking": "0",
                    "SocksPort": "0",
                }
            )
        if node.dir_port is not None:
            options.update(
                {
                    "DirPort": f"{LOOPBACK}:{node.dir_port}",
                    "AuthoritativeDirectory": "1",
                    "V3AuthoritativeDirectory": "1",
                    "ContactInfo": f"{node.name}@test.invalid",
                    "TestingV3AuthInitialVotingInterval": str(INITIAL_VOTING_INTERVAL),
                    "TestingV3AuthInitialVoteDelay": "2",
                    "TestingV3AuthInitialDistDelay": "2",
                    "V3AuthVotingInterval": str(self.voting_interval),
                    "V3AuthVoteDelay": "2",
                    "V3AuthDistDelay": "2",
                    # Every router Stable, always. Otherwise the authority gives Stable to
                    # those at or above the median uptime or MTBF, which on four routers
                    # leaves one or two out at times (seen in CI's consensuses), and onion
                    # services choose their introduction points among Stable relays only.
                    "AuthDirVoteStableGuaranteeMTBF": "0",
                    "AuthDirVoteStableGuaranteeMinUptime": "0",
                }
            )
        if node.socks_port is not None:
            options.update(
                {
                    "SocksPort": f"{LOOPBACK}:{node.socks_port} ExtendedErrors",
                    "ClientOnionAuthDir": str(_private_dir(node.directory / "onion_auth")),
                }
            )
        return options

    def _launch(self, node: _Node, *args: str) -> None:
        torrc = node.directory / "torrc"
        torrc.write_text(_torrc(self._node_options(node)), "utf-8")
        assert self._tor is not None  # noqa: S101 - checked in start()
        with node.output.open("wb") as output:
            node.process = subprocess.Popen(  # noqa: S603 - fixed argument list
                [self._tor, "-f", str(torrc), "--defaults-torrc", os.devnull, *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Out of the terminal's process group: a Ctrl-C reaches only us, and we
                # stop every tor ourselves (a tor killed first reads as a crash).
                start_new_session=True,
            )
        log.debug("started tor %s (pid %d)", node.name, node.process.pid)

    def _connect(self, node: _Node, deadline: _Deadline) -> None:
        """Open the controller and keep it open until stop() (it owns the tor)."""
        while True:
            self._check_alive(node)
            # Written once the control port listens; connecting earlier would fail, and
            # stem leaks the socket of a refused connection.
            if node.control_port_file.exists():
                try:
                    controller = stem.control.Controller.from_port(LOOPBACK, node.control_port)
                    controller.authenticate()
                except stem.SocketError:
                    pass
                except stem.connection.AuthenticationFailure:
                    controller.close()
                else:
                    node.controller = controller
                    return
            self._check_deadline(deadline, node, "the control port did not open")
            time.sleep(0.05)

    def _start_routers(self, deadline: _Deadline) -> None:
        """Start authority and relays together, just after a whole second (section 3.3)."""
        now = time.time()
        second = math.floor(now) + 1
        time.sleep(second - now + 0.02)
        # The first consensus is then due exactly one initial interval after the start.
        offset = second % INITIAL_VOTING_INTERVAL
        self._launch(self._routers[0], "--TestingV3AuthVotingStartOffset", str(offset))
        for relay in self._routers[1:]:
            self._launch(relay)
        for node in self._routers:
            self._connect(node, deadline)

    def _gate(self, deadline: _Deadline) -> None:
        """Wait until every router holds the full consensus and all microdescriptors."""
        reloaded: dict[str, float] = {}
        routers = len(self._routers)
        while True:
            views = {node.name: self._view(node) for node in self._routers}
            lagging = [n for n in self._routers if min(views[n.name]) < routers]
            if not lagging:
                log.info(
                    "private Tor network: consensus and microdescriptors everywhere after %.1f s",
                    time.monotonic() - self._started_at,
                )
                return
            if views[AUTHORITY][0] >= routers:
                # A relay that fetched before the consensus existed is in 404 backoff.
                for node in lagging:
                    last = reloaded.get(node.name)
                    stale = last is None or time.monotonic() - last > RELOAD_EVERY
                    if node.name != AUTHORITY and views[node.name][0] < routers and stale:
                        log.debug("reloading %s to end its download backoff", node.name)
                        with contextlib.suppress(stem.ControllerError):
                            node.controller.signal(stem.Signal.RELOAD)
                        reloaded[node.name] = time.monotonic()
            for node in self._routers:
                self._check_alive(node)
            self._check_deadline(
                deadline,
                lagging[0],
                f"routers without the full consensus: {[n.name for n in lagging]} "
                f"(routers, microdescriptors) = {views}",
            )
            time.sleep(POLL)

    @staticmethod
    def _view(node: _Node) -> tuple[int, int]:
        """How many routers this node's consensus lists, and how many microdescriptors it has."""
        try:
            ns = str(node.controller.get_info("ns/all", ""))
            md = str(node.controller.get_info("md/all", ""))
        except stem.ControllerError:
            return 0, 0
        routers = sum(1 for line in ns.splitlines() if line.startswith("r "))
        micro = sum(1 for line in md.splitlines() if line.startswith("ntor-onion-key "))
        return routers, micro

    def _start_client(self, deadline: _Deadline) -> None:
        client = self._client
        assert client is not None  # noqa: S101 - made in _prepare()
        self._launch(client)
        self._connect(client, deadline)
        while _bootstrap(client.controller) < 100:
            self._check_alive(client)
            self._check_deadline(deadline, client, "the client tor did not bootstrap")
            time.sleep(POLL)

    # -- checks ------------------------------------------------------------------

    def _require_client(self) -> _Node:
        if self._client is None or self._client.controller is None:
            raise TorError("the private Tor network is not running")
        return self._client

    @staticmethod
    def _check_alive(node: _Node) -> None:
        if node.process is not None and node.process.poll() is not None:
            raise TorError(
                f"tor {node.name} exited with status {node.process.returncode}; {node.tail()}"
            )

    def _check_deadline(self, deadline: _Deadline, node: _Node, problem: str) -> None:
        if self._cancelled():
            raise StartCancelled("the start of the private Tor network was called off")
        if deadline.expired():
            raise TorError(
                f"could not {deadline.what} within {deadline.seconds:.0f} s: {problem}; "
                + node.tail()
            )


def _service_tail(tor: Tor) -> str:
    """The end of a launched service tor's notice log, if it keeps one."""
    try:
        data_dir = Path(str(tor.controller.get_conf("DataDirectory", "")))
    except stem.ControllerError:
        return "its log is unavailable"
    path = data_dir / "notice.log"
    return f"last lines of the service tor's log ({path}):\n{_tail(path)}"
