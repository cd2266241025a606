"""Control of tor through stem: the onion services' keys live in the instance directory.

A service's key is created by tor the first time (`ADD_ONION NEW:ED25519-V3`) and
kept in a 0600 file, so the address survives restarts. Services are added over
the control connection and vanish when it closes, so a crashed server never
leaves an onion pointing at nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stem
import stem.connection
import stem.control
import stem.process
from stem.control import EventType

from app.errors import AppError
from app.noatime import read_quietly
from crypto import FormatError
from crypto.onion import OnionServiceKey

log = logging.getLogger(__name__)

# What may go into an ADD_ONION line: a key file or a client key file holding a
# space or a line break could otherwise smuggle words or commands to tor.
_KEY_SPEC = re.compile(r"ED25519-V3:[A-Za-z0-9+/]{86}==")
_CLIENT_KEY = re.compile(r"[A-Z2-7]{52}")
_TARGET = re.compile(r"(?:127\.0\.0\.1|\[::1\]):\d{1,5}|unix:/[^\s\"]+")
_SERVICE_ID = re.compile(r"[a-z2-7]{56}")
# The longest path a unix socket may have (sun_path holds 108 bytes, NUL included).
_SOCKET_PATH_MAX = 107

# Streams one rendezvous circuit may hold open to an onion of ours at once; tor
# tears down a circuit that asks for more. A browser opens a handful of
# connections to a site, so only a flood reaches it. Where the app cannot
# tell circuits apart (an attached tor, which does not name them), this is the
# only bound on what one circuit takes of the workers' connections.
MAX_STREAMS = 32


def _remove(directory: Path | None) -> None:
    """Remove a control socket's own directory, if tor was given one."""
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


class TorError(AppError):
    """Tor could not be started, reached or asked to publish a service."""


@dataclass
class Health:
    """What tor says about itself and our services."""

    bootstrap: int = 0
    summary: str = ""
    uploaded: set[str] = field(default_factory=set)

    def published(self, address: str) -> bool:
        """Say whether a descriptor for `address` has been uploaded."""
        return address.removesuffix(".onion") in self.uploaded


def _service_key(key_file: Path) -> OnionServiceKey:
    """The onion service key in `key_file` (0600), made now if there is none."""
    if key_file.exists():
        try:
            return OnionServiceKey.from_tor(read_quietly(key_file).decode("ascii"))
        except (FormatError, UnicodeDecodeError) as exc:
            raise TorError(f"{key_file} does not hold an ED25519-V3 onion service key") from exc
    key = OnionServiceKey.generate()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key.to_tor() + "\n")
    return key


def _status(reply: Any) -> str:
    """The status code of tor's reply to a command ("250", "512", …; "" if it had none)."""
    content = reply.content()
    return str(content[0][0]) if content else ""


def _write_service_dir(service_dir: Path, key: OnionServiceKey) -> None:
    """Give tor the key in its own form, in a 0700 HiddenServiceDir (as tor insists)."""
    service_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(service_dir, 0o700)
    secret = service_dir / "hs_ed25519_secret_key"
    content = key.to_tor_file()
    if secret.exists() and read_quietly(secret) == content:
        return
    # A key that differs (the key file was replaced): tor's derived files go with it.
    for stale in ("hs_ed25519_public_key", "hostname"):
        (service_dir / stale).unlink(missing_ok=True)
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)


class Tor:
    """A controller connection to a tor we started or attached to."""

    def __init__(self, controller: stem.control.Controller, process: Any = None) -> None:
        self.controller = controller
        self.process = process
        # Whether the last service published took tor's proof-of-work defence.
        self.pow_enabled = False
        self._uploaded: set[str] = set()
        self._lock = threading.Lock()
        # Where the control socket is when the data directory's path is too long for one.
        self.socket_dir: Path | None = None
        controller.add_event_listener(self._on_hs_desc, EventType.HS_DESC)

    def _on_hs_desc(self, event: Any) -> None:
        if getattr(event, "action", None) == "UPLOADED":
            with self._lock:
                self._uploaded.add(str(event.address))

    @classmethod
    def launch(cls, data_dir: Path, *, extra: Mapping[str, str | list[str]] | None = None) -> Tor:
        """Start a tor of our own, its state and control socket in `data_dir`."""
        binary = shutil.which("tor")
        if binary is None:
            raise TorError("tor is not installed")
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        socket = data_dir / "control.sock"
        socket_dir = None
        if len(os.fsencode(socket)) > _SOCKET_PATH_MAX:
            # An instance deep in the tree: tor could bind no socket there ("Failed to
            # bind one of the listener ports"). A private directory of our own instead.
            socket_dir = Path(tempfile.mkdtemp(prefix="raazdar-tor-"))
            socket = socket_dir / "control.sock"
        config: dict[str, str | list[str]] = {
            "DataDirectory": str(data_dir),
            "ControlSocket": str(socket),
            "CookieAuthentication": "1",
            "SocksPort": "0",
            # Not stderr: stem closes tor's output pipes once it has started.
            "Log": f"notice file {data_dir / 'notice.log'}",
            # The log is under the instance. tor's heartbeat wrote in it every six hours,
            # to the second, how many introductions its onions had had and the bytes it
            # had moved: two lines apart said how many sources came in that quarter of
            # the day, and how much they sent. Any other line is stamped with its day.
            "HeartbeatPeriod": "0",
            "LogTimeGranularity": "1 day",
            "AvoidDiskWrites": "1",
            "__OwningControllerProcess": str(os.getpid()),
        }
        config.update(extra or {})
        try:
            process = stem.process.launch_tor_with_config(
                config=config,
                tor_cmd=binary,
                completion_percent=0,
                timeout=90,
                take_ownership=True,
            )
        except OSError as exc:
            _remove(socket_dir)
            raise TorError(f"tor did not start: {exc}") from exc
        try:
            controller = stem.control.Controller.from_socket_file(str(socket))
            controller.authenticate()
        except (stem.SocketError, stem.connection.AuthenticationFailure) as exc:
            process.terminate()
            process.wait()
            _remove(socket_dir)
            raise TorError(f"cannot reach the tor we started: {exc}") from exc
        tor = cls(controller, process)
        tor.socket_dir = socket_dir
        if socket_dir is not None:
            # Where `raazdar doctor` and the staff pages look for it (they follow the link).
            link = data_dir / "control.sock"
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            link.symlink_to(socket)
        return tor

    @classmethod
    def attach(cls, control: str) -> Tor:
        """Attach to a running tor by `host:port` or a control socket path (cookie auth)."""
        if control.startswith("/") and not Path(control).is_socket():
            # Checked here: stem leaks its socket object when the path is not there.
            raise TorError(f"cannot attach to tor at {control}: no control socket there")
        try:
            if control.startswith("/"):
                controller = stem.control.Controller.from_socket_file(control)
            else:
                host, _, port = control.rpartition(":")
                controller = stem.control.Controller.from_port(host or "127.0.0.1", int(port))
            controller.authenticate()
        except (stem.SocketError, ValueError, stem.connection.AuthenticationFailure) as exc:
            raise TorError(f"cannot attach to tor at {control}: {exc}") from exc
        return cls(controller)

    def publish(
        self,
        key_file: Path,
        target: str,
        *,
        client_keys: Iterable[str] = (),
        pow_defence: bool = True,
    ) -> str:
        """Publish an onion service on port 80 to `target`; return its .onion address.

        `target` is `127.0.0.1:PORT` or `unix:/path`. The key comes from `key_file`
        (created on first use). `client_keys` are base32 x25519 public keys for v3
        client authorisation; with any, only those clients can reach the service.
        """
        new = not key_file.exists()
        key_spec = "NEW:ED25519-V3" if new else read_quietly(key_file).decode("ascii").strip()
        if not new and not _KEY_SPEC.fullmatch(key_spec):
            raise TorError(f"{key_file} does not hold an ED25519-V3 onion service key")
        if not _TARGET.fullmatch(target):
            raise TorError(
                f"an onion service may only point at loopback or a unix socket: {target}"
            )
        keys = list(client_keys)
        if not all(_CLIENT_KEY.fullmatch(k) for k in keys):
            raise TorError("a client authorisation key is 52 characters of base32")
        flags = ["MaxStreamsCloseCircuit", *(["V3Auth"] if keys else [])]
        words = [
            f"ADD_ONION {key_spec}",
            f"Port=80,{target}",
            f"MaxStreams={MAX_STREAMS}",
            f"Flags={','.join(flags)}",
            *(f"ClientAuthV3={k}" for k in keys),
        ]
        # Proof-of-work is the one defence against an anonymous flood of
        # introductions: the app never sees circuits, so it cannot tell one
        # flooder from many sources. Tor 0.4.9.2 and later take it in ADD_ONION;
        # an older tor answers 512 (syntax), and the service is published without.
        reply = None
        if pow_defence and self._supports_pow():
            reply = self._add_onion([*words, "PoWDefensesEnabled=1"])
            self.pow_enabled = reply.is_ok()
            if not reply.is_ok() and _status(reply) not in ("512", "513"):
                raise TorError(f"tor refused to publish the onion service: {reply}")
        if reply is None or not reply.is_ok():
            reply = self._add_onion(words)
        if not reply.is_ok():
            raise TorError(f"tor refused to publish the onion service: {reply}")
        fields = dict(line.split("=", 1) for line in str(reply).splitlines() if "=" in line)
        service_id = fields.get("ServiceID")
        if not service_id:
            raise TorError("tor did not say which onion service it created")
        if new and "PrivateKey" in fields:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(fields["PrivateKey"] + "\n")
        return f"{service_id}.onion"

    def publish_naming_circuits(
        self, services: Iterable[tuple[Path, Path]], target: str, *, pow_defence: bool = True
    ) -> list[str]:
        """Publish onion services on port 80 to `target` whose tor names each circuit first.

        Each service is (its key file, in ADD_ONION's form and created on first
        use; a HiddenServiceDir for tor). With HiddenServiceExportCircuitID tor
        starts every connection with a line naming the circuit it came on
        (`app.worker`). ADD_ONION cannot ask for that (tor 0.4.9 refuses the
        keyword), so these are configured services, set with SETCONF. SETCONF
        replaces every configured onion service of the tor it is sent to, so
        only a tor of our own may be asked. Returns the addresses, in order.
        """
        if self.process is None:
            raise TorError("only a tor raazdar started may be given configured onion services")
        if not _TARGET.fullmatch(target):
            raise TorError(
                f"an onion service may only point at loopback or a unix socket: {target}"
            )
        pow_lines = pow_defence and self._supports_pow()
        options: list[tuple[str, str]] = []
        addresses = []
        for key_file, service_dir in services:
            key = _service_key(key_file)
            _write_service_dir(service_dir, key)
            addresses.append(key.address)
            # Each option belongs to the HiddenServiceDir before it.
            options += [
                ("HiddenServiceDir", str(service_dir)),
                ("HiddenServicePort", f"80 {target}"),
                ("HiddenServiceExportCircuitID", "haproxy"),
                ("HiddenServiceMaxStreams", str(MAX_STREAMS)),
                ("HiddenServiceMaxStreamsCloseCircuit", "1"),
            ]
            if pow_lines:
                options.append(("HiddenServicePoWDefensesEnabled", "1"))
        try:
            self.controller.set_options(options)
        except stem.ControllerError as exc:
            raise TorError(f"tor refused to publish the onion service: {exc}") from exc
        self.pow_enabled = pow_lines
        return addresses

    def _add_onion(self, words: list[str]) -> Any:
        """Send one ADD_ONION line; return tor's reply (a refusal is returned, not raised)."""
        try:
            return self.controller.msg(" ".join(words))
        except stem.ControllerError as exc:
            raise TorError(f"tor refused to publish the onion service: {exc}") from exc

    def withdraw(self, address: str) -> None:
        """Take an onion service of this connection down (DEL_ONION); its circuits close."""
        service_id = address.removesuffix(".onion")
        if not _SERVICE_ID.fullmatch(service_id):
            raise TorError(f"not a v3 onion address: {address}")
        try:
            reply = self.controller.msg(f"DEL_ONION {service_id}")
        except stem.ControllerError as exc:
            raise TorError(f"tor refused to remove the onion service: {exc}") from exc
        if not reply.is_ok():
            raise TorError(f"tor refused to remove the onion service: {reply}")
        with self._lock:
            self._uploaded.discard(service_id)

    def on_testing_network(self) -> bool:
        """Whether this tor is on a private testing network (TestingTorNetwork), not Tor's."""
        with contextlib.suppress(stem.ControllerError):
            return bool(self.controller.get_conf("TestingTorNetwork", "0") == "1")
        return False

    def _supports_pow(self) -> bool:
        with contextlib.suppress(stem.ControllerError):
            modules = self.controller.get_info("config/names", "")
            return "HiddenServicePoWDefensesEnabled" in modules
        return False

    def health(self) -> Health:
        """Bootstrap progress and which of our descriptors were uploaded."""
        health = Health()
        with contextlib.suppress(stem.ControllerError):
            phase = self.controller.get_info("status/bootstrap-phase", "")
            for part in phase.split():
                if part.startswith("PROGRESS="):
                    health.bootstrap = int(part.split("=", 1)[1])
                if part.startswith("SUMMARY="):
                    health.summary = phase.split("SUMMARY=", 1)[1].strip('"')
        with self._lock:
            health.uploaded = set(self._uploaded)
        return health

    def close(self) -> None:
        """Stop a tor we started (by its PID), then close the control connection."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()
        with contextlib.suppress(Exception):
            self.controller.close()
        _remove(self.socket_dir)
