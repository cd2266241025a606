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

# Tor Browser sends one user agent per platform family, the same for all its
# users there: Firefox ESR's "rv:N.0" (no minor version), and since Tor Browser
# 13.5 the desktop family itself - e.g. Tor Browser 14.5 (ESR 128):
#   Windows  Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0
#   Linux    Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0
#   macOS    Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0
#   Android  Mozilla/5.0 (Android 10; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0
# (desktop strings as reported in github.com/lexiforest/curl-impersonate/issues/142;
# Android is Gecko's resistFingerprinting form, which always says "Android 10").
# Older Tor Browsers sent "Windows NT 10.0; rv:" on every desktop, still accepted.
# Firefox ESR on the same platform sends the same string: this is a hint, not a check.
_TOR_BROWSER_UA: Final = re.compile(
    r"Mozilla/5\.0 \((?:Windows NT 10\.0(?:; Win64; x64)?|X11; Linux x86_64"
    r"|Macintosh; Intel Mac OS X 10\.15|Android 10; Mobile); rv:(\d+)\.0\) "
    r"Gecko/(?:20100101|\1\.0) Firefox/\1\.0"
)
_TOR2WEB_HEADERS: Final = ("X-Tor2web", "X-Forwarded-Host", "X-Forwarded-For", "Via")
# The same, by lower-case name, for one pass over a response's headers.
_BY_NAME: Final = {name.lower(): (name, value) for name, value in HEADERS.items()}


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
        # A header the view set stays; the rest are added in one pass, not one scan each.
        headers = response.headers
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers, not a dict
        if "server" in present:
            del headers["Server"]
        headers.extend([item for key, item in _BY_NAME.items() if key not in present])
        return response

    @app.context_processor
    def _warning() -> dict[str, str | None]:
        return {"browser_warning": browser_warning(request)}
