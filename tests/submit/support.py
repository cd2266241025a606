"""Helpers for the client's tests: a real HTTP server in-process, a proxy that cuts, the CLI."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from PIL import Image
from werkzeug.serving import WSGIRequestHandler, make_server

from crypto import check_codename
from submit.cli import cli
from submit.masked import stream_of, unmasked
from submit.state import PendingItem, State, device_vault

KEYRING_PATH = "/api/v1/keyring"


@dataclass
class Seen:
    """One request as the server was handed it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """WSGI middleware: keeps every request the server gets, and can play a hostile server.

    `keyring` (when set) rewrites the keyring document the API serves, as a
    server in the wrong hands could.
    """

    app: Any
    seen: list[Seen] = field(default_factory=list)
    keyring: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:]: str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        path = environ.get("PATH_INFO", "")
        self.seen.append(Seen(environ["REQUEST_METHOD"], path, headers, body))
        if self.keyring is not None and path == KEYRING_PATH:
            return self._rewritten(environ, start_response)
        return self.app(environ, start_response)

    def _rewritten(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.keyring is not None
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            captured["status"] = status
            return lambda _data: None

        original = b"".join(self.app(environ, keep))
        body = json.dumps(self.keyring(json.loads(original))).encode()
        start_response(
            captured["status"],
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def paths(self, method: str) -> list[str]:
        """The paths requested with `method`."""
        return [s.path for s in self.seen if s.method == method]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def loopback_server(app: Any) -> Iterator[str]:
    """Serve a WSGI app over real HTTP on a loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class CuttingProxy:
    """A TCP proxy on loopback that can drop a connection mid-request, or drop an answer.

    Nothing is simulated: the server really gets a request cut short (or
    answers into a closed socket), and the client really sees its connection
    reset.
    """

    def __init__(self, target: str) -> None:
        host, _, port = target.removeprefix("http://").rpartition(":")
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._upstream_budget: int | None = None
        self._drop_answer = False
        self._stay_down = False
        self.down = False
        self.cuts = 0
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, upstream_bytes: int, *, stay_down: bool = False) -> None:
        """Forward this many more bytes towards the server, then drop the connection.

        With `stay_down`, every connection after the cut is refused too, as when
        the network is gone for longer than the client retries.
        """
        with self._lock:
            self._upstream_budget = upstream_bytes
            self._stay_down = stay_down

    def drop_next_answer(self) -> None:
        """Let the request through, but drop the connection instead of passing on the answer."""
        with self._lock:
            self._drop_answer = True

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(self._target)
            self._sockets += [client, upstream]
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        while data := _recv(client):
            with self._lock:
                budget = self._upstream_budget
                if budget is not None and len(data) >= budget:
                    self._upstream_budget = None
                    self.cuts += 1
                    self.down = self._stay_down
                    with contextlib.suppress(OSError):
                        upstream.sendall(data[:budget])
                    _drop(client, upstream)
                    return
                if budget is not None:
                    self._upstream_budget = budget - len(data)
            try:
                upstream.sendall(data)
            except OSError:
                break
        _drop(client, upstream)

    def _down(self, upstream: socket.socket, client: socket.socket) -> None:
        while data := _recv(upstream):
            with self._lock:
                if self._drop_answer:
                    self._drop_answer = False
                    self.cuts += 1
                    _drop(client, upstream)
                    return
            try:
                client.sendall(data)
            except OSError:
                break
        _drop(client, upstream)

    def close(self) -> None:
        stop_listening(self._listener)
        for sock in self._sockets:
            _drop(sock)
        self._thread.join(timeout=5)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _drop(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


@dataclass
class Device:
    """A source's device: a state directory, and how it reaches the instance."""

    state: Path
    url: str
    authorities: list[str] = field(default_factory=list)
    transport: list[str] = field(default_factory=lambda: ["--direct", "--insecure-test-kdf"])
    # A `keyring VERSION DIGEST` pins line, as `raazdar init` prints it (None: no such line).
    keyring: str | None = None

    def arguments(self, *args: str, pin: bool = True) -> list[str]:
        """`raazdar-submit`'s arguments on this device: its options, then `args`. The pins
        are written to a file, as documented."""
        pins = self.state.parent / f"{self.state.name}-pins.txt"
        lines = [f"instance {self.url}"]
        lines += [f"authority {fp}" for fp in (self.authorities if pin else [])]
        lines += [f"keyring {self.keyring}"] if pin and self.keyring else []
        pins.write_text("\n".join(lines) + "\n")
        options = ["--state", str(self.state), "--fast-kdf", "--pins-file", str(pins)]
        return [*options, *self.transport, *args]

    def run(self, *args: str, input: str | None = None, pin: bool = True) -> Result:
        """Run `raazdar-submit` in this process with this device's options."""
        return CliRunner().invoke(cli, self.arguments(*args, pin=pin), input=input)

    def new_codename(self, directory: Path) -> Path:
        """Make a codename with `new` and keep it in a file, as a script would."""
        result = CliRunner().invoke(cli, ["--state", str(self.state), "new"])
        assert result.exit_code == 0, result.output
        path = directory / "codename.txt"
        path.write_text(result.stdout)
        return path

    def state_of(self, codename: Path) -> State:
        """What this device remembers under the codename in a file (unsealed with it)."""
        return open_state(self.state, codename)


def carried_pins(device: Device, codename: Path, directory: Path) -> tuple[Path, str]:
    """Send a first report, then keep what `pins` prints in a file, as a source carries it
    to a device that keeps nothing: the file, and what was printed."""
    sent = device.run("send", "-m", "first", "--codename-file", str(codename))
    assert sent.exit_code == 0, sent.output
    carried = device.run("pins", "--codename-file", str(codename))
    assert carried.exit_code == 0, carried.output
    pins = directory / "carried-pins.txt"
    pins.write_text(carried.stdout)
    return pins, carried.stdout


def send_without_state(
    device: Device, pins: Path, codename: Path, recorder: Recorder
) -> tuple[Result, list[str]]:
    """`send -m secret` under --no-state with `pins`: the result, and the uploads offered."""
    recorder.seen.clear()
    options = ["--no-state", "--fast-kdf", "--pins-file", str(pins), *device.transport]
    result = CliRunner().invoke(
        cli, [*options, "send", "-m", "secret", "--codename-file", str(codename)]
    )
    return result, [p for p in recorder.paths("POST") if p.endswith("/uploads")]


def open_state(root: Path, codename: Path | str) -> State:
    """Unseal the state a codename keeps in `root`, as the client does."""
    text = codename.read_text("utf-8") if isinstance(codename, Path) else codename
    return State.load(root, device_vault(root, check_codename(text), fast=True))


class RawServer:
    """A hostile HTTP server on loopback: `answer(conn, method, path)` writes whatever it likes.

    It counts the bytes it managed to send, so a test can tell how much of an
    endless answer the client actually took in before it gave up.
    """

    def __init__(self, answer: Callable[[socket.socket, str, str], None]) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.sent = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def send(self, conn: socket.socket, data: bytes) -> None:
        """Send and count; raises OSError once the client has hung up."""
        conn.sendall(data)
        self.sent += len(data)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = _recv(conn)
                if not data:
                    return
                head += data
            method, path = head.split(b" ", 2)[:2]
            with contextlib.suppress(OSError):
                self._answer(conn, method.decode(), path.decode())

    def close(self) -> None:
        """Stop accepting; connections still open end with their threads."""
        stop_listening(self._listener)
        self._thread.join(timeout=5)


class SocksRelay:
    """A SOCKS5 port on loopback, taking any credentials as tor does, relaying where asked.

    The client's connections through it are made as through tor's (`socks5h`), so a
    test can tell that what holds for a direct connection holds through SOCKS too.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(client,), daemon=True).start()

    def _one(self, client: socket.socket) -> None:
        try:
            _version, count = client.recv(2)
            if 2 in client.recv(count):
                # A user name and password, which tor takes whatever they are (isolation).
                client.sendall(b"\x05\x02")
                _version, size = client.recv(2)
                client.recv(size)
                client.recv(client.recv(1)[0])
                client.sendall(b"\x01\x00")
            else:
                client.sendall(b"\x05\x00")
            _version, _command, _reserved, kind = client.recv(4)
            if kind == 1:
                host = socket.inet_ntoa(client.recv(4))
            else:
                host = client.recv(client.recv(1)[0]).decode()
            port = int.from_bytes(client.recv(2), "big")
            upstream = socket.create_connection((host, port), timeout=10)
            upstream.settimeout(None)
            client.sendall(b"\x05\x00\x00\x01" + bytes(6))
        except (OSError, ValueError):
            _drop(client)
            return
        threading.Thread(target=_relay, args=(client, upstream), daemon=True).start()
        threading.Thread(target=_relay, args=(upstream, client), daemon=True).start()

    def close(self) -> None:
        stop_listening(self._listener)
        self._thread.join(timeout=5)


def stop_listening(listener: socket.socket) -> None:
    """Close a listening socket so that a thread blocked in its accept() wakes now.

    Closing alone does not wake it on Linux: the accepting thread went on waiting
    until its join's bound (5 s in every test that started one).
    """
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


def _relay(source: socket.socket, target: socket.socket) -> None:
    while data := _recv(source):
        try:
            target.sendall(data)
        except OSError:
            break
    _drop(source, target)


SERIAL = "R58N30ABCDE"
OWNER = "Constable Imran Qureshi"
MAKER = "Samsung"
TAKEN = "2026:12:03 09:15:42"


def camera_photo(size: tuple[int, int] = (64, 48)) -> bytes:
    """A phone's photo: GPS, make and model, serial, owner, time, XMP and a comment."""
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = MAKER
    exif[0x0110] = "SM-A515F"
    exif[0x0132] = TAKEN
    exif[0x0112] = 6  # rotated: the camera held sideways
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = TAKEN
    sub[0xA431] = SERIAL
    sub[0xA430] = OWNER
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (31.0, 33.0, 21.6)
    gps[3], gps[4] = "E", (74.0, 20.0, 38.4)
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><tiff:Make>Samsung</tiff:Make></x:xmpmeta>'
    img.save(out, "JPEG", exif=exif, comment=OWNER.encode(), xmp=xmp)
    return out.getvalue()


def pending_envelope(state: State, item: PendingItem) -> bytes:
    """A pending envelope as sealed (and uploaded): on the disk it is masked."""
    assert state.pending is not None
    path = state.pending_dir / item.name
    with path.open("rb") as raw:
        # Only its size: random bytes fill it on the disk (`submit.uploads.disk_size`).
        return unmasked(raw, state.pending.mask, stream_of(path)).read(item.size)
