"""Reaching the instance: onion names go to tor unresolved, and nothing routes around it."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests.utils

from crypto import generate_codename
from submit import transport
from submit.errors import SubmitError, TransportError
from submit.protocol import Api
from tests.submit.support import Device, stop_listening

CODENAME = generate_codename()

ONION = "http://" + "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx" + ".onion"


def test_an_onion_address_is_accepted_through_tor() -> None:
    endpoint = transport.Endpoint.parse(ONION + "/")
    assert endpoint.url == ONION
    assert not endpoint.direct


@pytest.mark.parametrize(
    ("url", "direct"),
    [
        ("http://example.org", False),
        ("http://127.0.0.1:5000", False),
        ("http://example.org", True),
        ("http://10.0.0.1:80", True),
        ("ftp://127.0.0.1", True),
        (ONION + "?x=1", False),
        ("http://user:pw@" + ONION.removeprefix("http://"), False),
    ],
    ids=[
        "clearnet",
        "loopback-through-tor",
        "direct-clearnet",
        "direct-lan",
        "ftp",
        "query",
        "user",
    ],
)
def test_other_addresses_are_refused(url: str, direct: bool) -> None:
    with pytest.raises(SubmitError):
        transport.Endpoint.parse(url, direct=direct)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost"])
def test_direct_is_for_loopback(url: str) -> None:
    assert transport.Endpoint.parse(url, direct=True).direct


def test_the_session_goes_through_socks5h_and_ignores_the_environment() -> None:
    with transport.session(("127.0.0.1", 9150)) as sess:
        proxy = sess.proxies["http"]
        assert sess.proxies == {"http": proxy, "https": proxy}
        assert re.fullmatch(r"socks5h://[0-9a-f]{32}:[0-9a-f]{32}@127\.0\.0\.1:9150", proxy)
        assert sess.trust_env is False
        assert sess.headers["User-Agent"] == "raazdar-submit"


def test_the_headers_sent_do_not_depend_on_what_this_device_has_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # requests offers every decoder it finds (brotli, zstandard): a server would tell
    # devices apart by it, and a compressed answer could expand past any limit.
    monkeypatch.setattr(requests.utils, "DEFAULT_ACCEPT_ENCODING", "gzip, deflate, br, zstd")
    with transport.session(None) as sess:
        assert dict(sess.headers) == {
            "User-Agent": "raazdar-submit",
            "Accept-Encoding": "identity",
            "Accept": "*/*",
            "Connection": "keep-alive",
        }


def test_proxy_variables_cannot_send_a_direct_request_elsewhere(
    monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    # A proxy that does not exist: had it been used, the request would fail.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with transport.session(None) as sess:
        assert Api(sess, server, timeout=(5.0, 10.0)).keyring()["in_force"] == 1


class FakeSocks:
    """A SOCKS5 server that records the credentials and host name it is given, then refuses.

    Like tor's SocksPort (IsolateSOCKSAuth), it takes any user name and password.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.asked: list[tuple[int, bytes]] = []
        # Per connection: the (user name, password) it gave, or None for no authentication.
        self.credentials: list[tuple[bytes, bytes] | None] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self._one(conn)

    def _one(self, conn: socket.socket) -> None:
        greeting = conn.recv(2)
        methods = conn.recv(greeting[1])
        if 2 in methods:
            conn.sendall(b"\x05\x02")
            _version, size = conn.recv(2)
            user = conn.recv(size) if size else b""
            size = conn.recv(1)[0]
            password = conn.recv(size) if size else b""
            conn.sendall(b"\x01\x00")
            self.credentials.append((user, password))
        else:
            conn.sendall(b"\x05\x00")
            self.credentials.append(None)
        head = conn.recv(4)
        atyp = head[3]
        size = {1: 4, 4: 16}.get(atyp) or conn.recv(1)[0]
        name = conn.recv(size)
        conn.recv(2)
        self.asked.append((atyp, name))
        # "Host unreachable", as tor says for an onion it cannot reach.
        conn.sendall(b"\x05\x04\x00\x01" + bytes(6))


@pytest.fixture
def fake_socks() -> Iterator[FakeSocks]:
    socks = FakeSocks()
    yield socks
    stop_listening(socks.listener)
    socks.thread.join(timeout=5)


def test_the_onion_name_is_handed_to_tor_unresolved(fake_socks: FakeSocks) -> None:
    with transport.session(("127.0.0.1", fake_socks.port)) as sess:
        api = Api(sess, ONION, timeout=(5.0, 5.0))
        with pytest.raises(TransportError, match="connection to the instance failed"):
            api.keyring()
    # Address type 3 is a domain name: resolved by tor, never by this device.
    assert fake_socks.asked == [(3, ONION.removeprefix("http://").encode())]


def test_each_run_asks_tor_for_circuits_of_its_own(fake_socks: FakeSocks) -> None:
    # The attack: an onion service knows which of its circuits a request came on
    # (HiddenServiceExportCircuitID; the instance paces accounts by it). Tor puts a
    # SOCKS connection on a circuit already open to the same onion unless its
    # credentials differ (IsolateSOCKSAuth), so two runs minutes apart, under two
    # codenames kept apart on purpose, came to the server on one circuit: linked.
    for _run in range(2):
        with transport.session(("127.0.0.1", fake_socks.port)) as sess:
            api = Api(sess, ONION, timeout=(5.0, 5.0))
            with pytest.raises(TransportError):
                api.keyring()
    assert None not in fake_socks.credentials, (
        f"runs reached tor without SOCKS credentials, so on one circuit: {fake_socks.credentials}"
    )
    assert len(set(fake_socks.credentials)) == 2, "two runs gave tor the same credentials"


def test_extra_tor_options_are_read_from_a_torrc(tmp_path: Path) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text(
        "# bridges for a censored network\nUseBridges 1\n"
        "Bridge obfs4 192.0.2.1:443 AAAA cert=x iat-mode=0\nBridge obfs4 192.0.2.2:443 BBBB\n\n"
    )
    assert transport.read_torrc(torrc) == {
        "UseBridges": "1",
        "Bridge": ["obfs4 192.0.2.1:443 AAAA cert=x iat-mode=0", "obfs4 192.0.2.2:443 BBBB"],
    }


@pytest.mark.parametrize(
    "line",
    ["SocksPort 0.0.0.0:9050", "DataDirectory /tmp/x", "ControlPort 9051", "NoValue", "1bad x"],
)
def test_a_torrc_may_not_override_what_the_client_sets_or_be_malformed(
    tmp_path: Path, line: str
) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text(line + "\n")
    with pytest.raises(SubmitError, match="line 1"):
        transport.read_torrc(torrc)


@pytest.mark.parametrize(
    ("text", "parsed"), [("127.0.0.1:9150", ("127.0.0.1", 9150)), ("[::1]:9050", ("::1", 9050))]
)
def test_a_socks_port_is_host_and_port(text: str, parsed: tuple[str, int]) -> None:
    assert transport.parse_socks(text) == parsed


@pytest.mark.parametrize("text", ["9050", "127.0.0.1:", "127.0.0.1:99999", ":9050"])
def test_a_malformed_socks_port_is_refused(text: str) -> None:
    with pytest.raises(SubmitError):
        transport.parse_socks(text)


def test_no_tor_at_the_socks_port_is_said_in_so_many_words(tmp_path: Path) -> None:
    """A first-time source on a phone or a laptop where tor is not running (or Tor Browser is,
    on its own port). Before: "the connection to the instance failed (ConnectionError)",
    "check that tor is running and the instance's address is right": which of the two,
    and how, was left to a frightened reader."""
    port = transport.free_port()  # nothing listens there
    onion = f"http://{'a' * 56}.onion"
    device = Device(tmp_path / "state", onion, transport=["--socks", f"127.0.0.1:{port}"])
    result = device.run("send", "-m", "first", "--codename-file", "-", pin=False, input=CODENAME)
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert f"nothing answers at 127.0.0.1:{port}" in said, said
    for way in ("--socks 127.0.0.1:9150", "--launch-tor"):
        assert way in said, said
