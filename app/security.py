"""Response headers for every page, and the warning for visitors not on Tor Browser.

The user agent and forwarding headers are read only to decide whether to show a
warning on the page being rendered; they are never stored or logged.
"""

from __future__ import annotations

import re
from typing import Final

from flask import Flask, Request, Response, abort, request

CSP: Final = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "X-Robots-Tag": "noindex, nofollow",
}

# Tor Browser reports one of a few uniform user agents (Firefox ESR on
# "Windows NT 10.0", or "Android 10; Mobile"), whatever the real platform.
_TOR_BROWSER_UA: Final = re.compile(
    r"Mozilla/5\.0 \((?:Windows NT 10\.0|Android 10; Mobile); rv:\d+\.0\) "
    r"Gecko/(?:20100101|\d+\.0) Firefox/\d+\.0"
)
_TOR2WEB_HEADERS: Final = ("X-Tor2web", "X-Forwarded-Host", "X-Forwarded-For", "Via")


def browser_warning(req: Request) -> str | None:
    """Say which warning the visitor needs: `tor2web`, `not-onion`, `not-tor-browser` or none."""
    if any(h in req.headers for h in _TOR2WEB_HEADERS):
        return "tor2web"
    host = (req.host or "").split(":")[0]
    if not host.endswith(".onion"):
        return "not-onion"
    if not _TOR_BROWSER_UA.fullmatch(req.headers.get("User-Agent", "")):
        return "not-tor-browser"
    return None


def init_app(app: Flask) -> None:
    """Add the strict headers to every response and the warning to every template."""

    @app.before_request
    def _refuse_tor2web() -> None:
        # A Tor2web proxy sees everything the visitor sends and receives, and
        # tells the visitor's address to nobody but itself: refuse, as SecureDrop does.
        if "X-Tor2web" in request.headers:
            abort(403)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.pop("Server", None)
        return response

    @app.context_processor
    def _warning() -> dict[str, str | None]:
        return {"browser_warning": browser_warning(request)}
