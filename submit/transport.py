"""How the client reaches the instance: through tor's SOCKS port, never around it.

Names are resolved by tor (`socks5h`), so an onion address never reaches the
device's resolver, and each session gives tor SOCKS credentials of its own, so
it shares no circuit with an earlier run. The session ignores proxy variables
and netrc files in the environment, which could otherwise send requests around
tor. Tor is either one
already running (Tor Browser's or the system's) or one the client starts with
stem, bound to loopback, exiting with the client. A direct connection is allowed
only to a loopback address, for testing the client against a local server.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import requests
import requests.adapters

from submit.errors import SubmitError, TransportError
from submit.noatime import read_text_quietly

DEFAULT_SOCKS: Final = "127.0.0.1:9050"
LOOPBACK: Final = "127.0.0.1"
USER_AGENT: Final = "raazdar-submit"
# Tor circuits are slow to build and may stall: generous, but bounded.
TIMEOUT: Final = (90.0, 300.0)
TOR_START_TIMEOUT: Final = 300.0
_ONION: Final = re.compile(r"(?:[a-z0-9-]+\.)*[a-z2-7]{56}\.onion")
# Options of the tor we start that the client sets itself and a torrc may not change.
_RESERVED: Final = frozenset({"datadirectory", "socksport", "controlport", "controlsocket"})

TorOptions = dict[str, str | list[str]]


@dataclass(frozen=True)
class Endpoint:
    """The instance's base URL, and whether it is reached through tor or on loopback."""

    url: str
    direct: bool = False

    @classmethod
    def parse(cls, url: str, *, direct: bool = False) -> Endpoint:
        """Accept an onion URL (through tor), or a loopback one only when `direct`."""
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise SubmitError(f"{url!r} is not an http:// or https:// address")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise SubmitError("the instance address must not carry a user, query or fragment")
        if direct:
            if not _is_loopback(host):
                raise SubmitError(
                    "--direct connects without tor, so only to a loopback address",
                    hint="leave out --direct to go through tor",
                )
        elif not _ONION.fullmatch(host):
            raise SubmitError(
                f"{host} is not an onion address: the client talks to instances only over Tor",
                hint="use the instance's .onion address, as shown on its /keys page",
            )
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        if ":" in host:
            netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
        return cls(f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}", direct)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_socks(text: str) -> tuple[str, int]:
    """Read `HOST:PORT` of a SOCKS port; tor's SOCKS port should be on loopback."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SubmitError(f"{text!r} is not HOST:PORT", hint="for example 127.0.0.1:9050")
    return host, int(port)


# How long a running tor's SOCKS port, on this device, has to take a connection.
SOCKS_PROBE_SECONDS: Final = 5.0


def check_socks(address: tuple[str, int]) -> None:
    """Say so, before anything is asked of the instance, when nothing listens at the SOCKS port.

    Otherwise the first request fails as any lost connection does, and whether tor
    is missing or the onion unreachable is left to a frightened reader to guess.
    """
    host, port = address
    try:
        with socket.create_connection(address, timeout=SOCKS_PROBE_SECONDS):
            pass
    except OSError as exc:
        raise TransportError(
            f"nothing answers at {host}:{port}, the SOCKS port this run uses to reach tor",
            hint="start tor, or Tor Browser and give its port (--socks 127.0.0.1:9150 while it "
            "runs), or let this run start a tor of its own (--launch-tor); nothing was sent",
        ) from exc


class Exchange:
    """One request and its answer, which must be over by a deadline: past it, its socket is shut.

    Every read and write waits at most the session's timeout, but a server that
    sends a byte a little more often than that (or one "100 Continue" after
    another, which http.client skips without end) would otherwise hold the client
    for as long as it liked. A timer shuts the connection's socket at the
    deadline, which ends whatever read or write waits on it.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._done = False
        self._connection: Any = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Within the block, the connection a request goes out on is the one to shut."""
        _watching.exchange = self
        try:
            yield
        finally:
            _watching.exchange = None

    def attach(self, connection: Any) -> None:
        """Watch `connection` (a urllib3 connection, which has its socket once connected)."""
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def close(self) -> None:
        """The exchange is over: the timer stops, and shuts nothing afterwards."""
        with self._lock:
            self._done = True
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            _shut(self._connection)


_watching = threading.local()


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        # The plain socket's shutdown, under a TLS or SOCKS wrapper's, ends a read in any thread.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watched:
    """A urllib3 connection that gives itself to the exchange under way when it sends a request."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        exchange: Exchange | None = getattr(_watching, "exchange", None)
        if exchange is not None:
            exchange.attach(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]


_WATCHED: dict[type, type] = {}


def _watched(cls: type) -> type:
    if issubclass(cls, _Watched):
        return cls
    if cls not in _WATCHED:
        _WATCHED[cls] = type(f"Watched{cls.__name__}", (_Watched, cls), {})
    return _WATCHED[cls]


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter, whose connections (direct or through SOCKS) an `Exchange` can shut."""

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        pool.ConnectionCls = _watched(pool.ConnectionCls)
        return pool


def session(socks: tuple[str, int] | None) -> requests.Session:
    """A requests session through tor's SOCKS port, or direct (loopback) when `socks` is None."""
    sess = requests.Session()
    for prefix in ("http://", "https://"):
        sess.mount(prefix, _Adapter())
    # HTTP_PROXY, NO_PROXY and ~/.netrc must not route or label requests.
    sess.trust_env = False
    sess.headers["User-Agent"] = USER_AGENT
    # requests offers whichever decoders are installed here, which tells devices apart;
    # answers are read as they are sent (`protocol.Api._read`), never expanded.
    sess.headers["Accept-Encoding"] = "identity"
    if socks is not None:
        host, port = socks
        # Credentials of this session's own: tor (IsolateSOCKSAuth, on by default) gives
        # them circuits of their own, so no circuit an earlier run opened to the onion,
        # under another codename, carries this one's requests to a server that can tell
        # its circuits apart. Tor takes any name and password; they mean nothing else.
        user, password = secrets.token_hex(16), secrets.token_hex(16)
        proxy = f"socks5h://{user}:{password}@{f'[{host}]' if ':' in host else host}:{port}"
        sess.proxies = {"http": proxy, "https": proxy}
    return sess


def read_torrc(path: Path) -> TorOptions:
    """Read extra options for the tor the client starts (`Key value` lines, e.g. bridges)."""
    try:
        lines = read_text_quietly(path).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmitError(f"cannot read the tor configuration {path}") from exc
    options: TorOptions = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) or not value.strip():
            raise SubmitError(f"{path}, line {number}: expected `Option value`")
        if key.lower() in _RESERVED:
            raise SubmitError(f"{path}, line {number}: {key} is set by raazdar-submit itself")
        value = value.strip()
        existing = options.get(key)
        if existing is None:
            options[key] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            options[key] = [existing, value]
    return options


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def launched_tor(
    data_dir: Path, extra: Mapping[str, str | list[str]] | None = None, *, timeout: float
) -> Iterator[tuple[str, int]]:
    """Start a tor of our own with a SOCKS port on loopback; yield it, then stop that tor.

    Its data directory (guards, consensus) lives in the state directory, so a
    later run bootstraps faster and keeps its guards. Tor is told who owns it,
    so it exits by itself if the client dies.
    """
    import stem.process

    binary = shutil.which("tor")
    if binary is None:
        raise TransportError(
            "tor is not installed", hint="install tor, or use a running one with --socks"
        )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    port = free_port()
    config: TorOptions = {
        "DataDirectory": str(data_dir),
        "SocksPort": f"{LOOPBACK}:{port}",
        "ControlPort": "0",
        "ClientOnly": "1",
        "AvoidDiskWrites": "1",
        **(extra or {}),
    }
    try:
        process: subprocess.Popen[bytes] = stem.process.launch_tor_with_config(
            config=config,
            tor_cmd=binary,
            completion_percent=100,
            timeout=timeout,
            take_ownership=True,
        )
    except OSError as exc:
        raise TransportError(
            f"the tor started for this run did not connect: {exc}",
            hint="if Tor is blocked where you are, give bridges with --tor-config",
        ) from exc
    try:
        yield LOOPBACK, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
