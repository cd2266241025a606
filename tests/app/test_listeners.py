"""Which listener a request came in on: decided by gunicorn's socket, never by a header."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.listeners import LISTENER_KEY, SOURCE, STAFF, ListenerMiddleware

STAFF_BIND = "127.0.0.1:8081"
SOURCE_BIND = "127.0.0.1:8080"


class FakeSocket:
    """What gunicorn puts in `gunicorn.socket`: only its local address matters here."""

    def __init__(self, name: Any) -> None:
        self.name = name

    def getsockname(self) -> Any:
        if isinstance(self.name, Exception):
            raise self.name
        return self.name


def listener_of(environ: dict[str, Any], staff_binds: Iterable[str] = (STAFF_BIND,)) -> Any:
    """Run the middleware over `environ`; return what it marked."""
    seen: dict[str, Any] = {}

    def inner(env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.update(env)
        return [b""]

    ListenerMiddleware(inner, staff_binds)(environ, lambda *a: None)
    return seen.get(LISTENER_KEY)


@pytest.mark.parametrize(
    ("name", "binds", "expected"),
    [
        (("127.0.0.1", 8081), [STAFF_BIND], STAFF),
        (("127.0.0.1", 8080), [STAFF_BIND], SOURCE),
        (("127.0.0.2", 8081), [STAFF_BIND], SOURCE),
        (("::1", 8081, 0, 0), ["[::1]:8081"], STAFF),
        (("::1", 8080, 0, 0), ["[::1]:8081"], SOURCE),
        ("/run/raazdar/staff.sock", ["unix:/run/raazdar/staff.sock"], STAFF),
        (b"/run/raazdar/staff.sock", ["unix:/run/raazdar/staff.sock"], STAFF),
        ("/run/raazdar/source.sock", ["unix:/run/raazdar/staff.sock"], SOURCE),
        # With no staff listener configured, nothing is staff.
        (("127.0.0.1", 8081), [], SOURCE),
    ],
)
def test_the_socket_decides_the_listener(name: Any, binds: list[str], expected: str) -> None:
    assert listener_of({"gunicorn.socket": FakeSocket(name)}, binds) == expected


def test_a_socket_that_cannot_say_its_address_is_not_staff() -> None:
    assert listener_of({"gunicorn.socket": FakeSocket(OSError("closed"))}) == SOURCE


def test_without_gunicorn_no_listener_is_marked() -> None:
    assert listener_of({}) is None


@pytest.mark.parametrize(
    "forged",
    [
        {"HTTP_HOST": STAFF_BIND},
        {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8081"},
        {"HTTP_X_FORWARDED_HOST": STAFF_BIND, "HTTP_X_FORWARDED_PORT": "8081"},
        {LISTENER_KEY: STAFF},  # a client cannot set environ keys, but even so
    ],
)
def test_forged_headers_change_nothing(forged: dict[str, str]) -> None:
    environ = {"gunicorn.socket": FakeSocket(("127.0.0.1", 8080)), **forged}
    assert listener_of(environ) == SOURCE


def test_real_tcp_sockets_are_told_apart(tmp_path: Path) -> None:
    with socket.socket() as staff, socket.socket() as source:
        for listener in (staff, source):
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
        staff_bind = f"127.0.0.1:{staff.getsockname()[1]}"
        for listener, expected in ((staff, STAFF), (source, SOURCE)):
            with socket.create_connection(listener.getsockname()) as _client:
                accepted, _ = listener.accept()
                with accepted:
                    assert listener_of({"gunicorn.socket": accepted}, [staff_bind]) == expected


def test_real_unix_sockets_are_told_apart(tmp_path: Path) -> None:
    paths = {STAFF: tmp_path / "staff.sock", SOURCE: tmp_path / "source.sock"}
    for expected, path in paths.items():
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(str(path))
            listener.listen(1)
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(str(path))
                accepted, _ = listener.accept()
                with accepted:
                    found = listener_of({"gunicorn.socket": accepted}, [f"unix:{paths[STAFF]}"])
                    assert found == expected


@pytest.fixture
def staff_app(make_app: Callable[..., Flask]) -> Flask:
    """The app with one staff listener configured."""
    return make_app(STAFF_BINDS=(STAFF_BIND,))


@pytest.mark.parametrize(
    ("local", "host", "status"),
    [
        (("127.0.0.1", 8081), "localhost", 200),
        (("127.0.0.1", 8080), "localhost", 404),
        # The Host header is the visitor's to write: it decides nothing.
        (("127.0.0.1", 8080), STAFF_BIND, 404),
        (
            ("127.0.0.1", 8080),
            "staffxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion",
            404,
        ),
    ],
)
def test_staff_pages_answer_only_on_the_staff_socket(
    staff_app: Flask, local: tuple[str, int], host: str, status: int
) -> None:
    response = staff_app.test_client().get(
        "/staff/login",
        headers={"Host": host},
        environ_base={"gunicorn.socket": FakeSocket(local)},
    )
    assert response.status_code == status


@pytest.mark.parametrize("local", [("127.0.0.1", 8081), ("127.0.0.1", 8080)])
def test_source_pages_answer_on_both_sockets(staff_app: Flask, local: tuple[str, int]) -> None:
    response = staff_app.test_client().get("/", environ_base={"gunicorn.socket": FakeSocket(local)})
    assert response.status_code == 200
