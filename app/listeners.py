"""Which listener a request came in on: the source's, or the staff's.

gunicorn binds one socket for the source onion and another for the staff onion
(which only authorised Tor clients can reach). The staff pages answer only on
the staff socket. The Host header cannot say which socket it was (a visitor
writes it), so the local address of the accepted connection decides.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any, Final

from flask import Flask, Request, abort, request

LISTENER_KEY: Final = "raazdar.listener"
STAFF: Final = "staff"
SOURCE: Final = "source"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _local_address(sock: socket.socket) -> str:
    name = sock.getsockname()
    if isinstance(name, tuple):
        host, port = name[0], name[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"unix:{name.decode() if isinstance(name, bytes) else name}"


class ListenerMiddleware:
    """Mark each request with the listener it arrived on, from gunicorn's socket."""

    def __init__(self, app: WSGIApp, staff_binds: Iterable[str]) -> None:
        self.app = app
        self.staff_binds = frozenset(staff_binds)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Set `raazdar.listener` when gunicorn tells us the socket; else leave it unset."""
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            try:
                local = _local_address(sock)
            except OSError:
                local = ""
            environ[LISTENER_KEY] = STAFF if local in self.staff_binds else SOURCE
        return self.app(environ, start_response)


def is_staff_listener(request: Request) -> bool:
    """Say whether `request` came in on the staff listener."""
    return request.environ.get(LISTENER_KEY) == STAFF


def init_app(app: Flask) -> None:
    """Answer staff URLs off the staff listener with 404 before anything reads the body.

    Registered first, so CSRF and the body limits never run for such a request:
    a staff URL reached from the source onion looks exactly like one that does
    not exist, whatever the method.
    """

    @app.before_request
    def _staff_urls_on_the_staff_listener_only() -> None:
        if request.blueprint == STAFF and not is_staff_listener(request):
            abort(404)
