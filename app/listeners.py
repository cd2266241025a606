"""Which listener a request came in on: the source's, or the staff's.

gunicorn binds one socket for the source onion and another for the staff onion
(which only authorised Tor clients can reach). The staff pages answer only on
the staff socket. The Host header cannot say which socket it was (a visitor
writes it), so the local address of the accepted connection decides.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from typing import Any, Final

from flask import Flask, Request, abort, request

LISTENER_KEY: Final = "raazdar.listener"
BAD_HOST_KEY: Final = "raazdar.bad_host"
STAFF: Final = "staff"
SOURCE: Final = "source"

# A DNS name (labels of 1 to 63 letters, digits or hyphens), an IPv4 address or a
# bracketed IPv6 address, with an optional port. Anything else (a 64-character
# label, "a..b") would make URL building fail inside the error page itself.
_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST: Final = re.compile(
    rf"(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]{{2,45}}\])(?::[0-9]{{1,5}})?"
)
_PLACEHOLDER_HOST: Final = "localhost"
_STAFF_PREFIX: Final = "/staff"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def local_address(sock: socket.socket) -> str:
    """The listener's own address as binds are written: IP:PORT, [IP]:PORT or unix:PATH."""
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
        """Set `raazdar.listener` when gunicorn tells us the socket; else leave it unset.

        A malformed Host header is replaced before Flask sees it, and the request
        marked to be refused with a plain 400 (see `init_app`).
        """
        host = environ.get("HTTP_HOST")
        if host is not None and (len(host) > 260 or not _HOST.fullmatch(host)):
            environ["HTTP_HOST"] = _PLACEHOLDER_HOST
            environ[BAD_HOST_KEY] = True
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            try:
                local = local_address(sock)
            except OSError:
                local = ""
            environ[LISTENER_KEY] = STAFF if local in self.staff_binds else SOURCE
        return self.app(environ, start_response)


def is_staff_listener(request: Request) -> bool:
    """Say whether `request` came in on the staff listener."""
    return request.environ.get(LISTENER_KEY) == STAFF


def is_staff_path(path: str) -> bool:
    """Say whether `path` is under the staff pages' prefix (`/staff`, `/staff/...`)."""
    return path == _STAFF_PREFIX or path.startswith(_STAFF_PREFIX + "/")


def init_app(app: Flask) -> None:
    """Refuse a bad Host, and answer staff URLs off the staff listener with 404, first.

    Registered first, so CSRF and the body limits never run for such a request.
    The staff check goes by path, not by the matched route: before-request hooks
    run before routing errors are raised, so a wrong method (405) or a missing
    slash (a 308 built from the Host header) on a staff URL becomes the same 404
    as a URL that does not exist.
    """

    @app.before_request
    def _refuse_bad_host() -> None:
        if request.environ.get(BAD_HOST_KEY):
            abort(400)

    @app.before_request
    def _staff_urls_on_the_staff_listener_only() -> None:
        if is_staff_path(request.path) and not is_staff_listener(request):
            abort(404)
