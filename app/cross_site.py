"""Requests from another site: answered without a cookie, so the one the browser holds stays.

The session cookie is `SameSite=Strict`: a browser following a link, a redirect
or a form from another site sends none, yet takes a `Set-Cookie` from the answer.
A fresh session there would replace a source's login, and the `lapsed` flag that
keeps a second codename from someone who may have one. Fetch metadata
(`Sec-Fetch-Site`), sent by Tor Browser and every current browser, says so:

- A GET or HEAD from another site that brought no cookie gets a page that sets
  none and sends the browser on to the same path from this site (`Refresh`, and
  a link for a browser that waits), which carries the cookie if there is one; a
  newcomer gets a fresh session there. The query is left behind: parameters say
  what a link wants done (`?new=1`, `?next=`), and only this site's pages may.
  `from=elsewhere` marks the retry; one that still comes from another site (an
  opaque origin) gets the link alone, so nothing loops.
- Anything else from another site is refused with 403 before its body is read:
  no form of this site is ever sent from elsewhere.

The JSON API uses no cookie and answers in its own JSON. A request without the
header (curl, an old browser, the end-to-end client) is served as always.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from flask import Flask, Request, Response, abort, current_app, render_template, request
from flask_babel import force_locale, gettext

from app.i18n import RTL

# The retry's mark: the path alone, this and nothing else in the query.
RETRY_QUERY: Final = "from=elsewhere"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD"})


def from_another_site(req: Request) -> bool:
    """Say whether a browser says it sent `req` from another site (not the API's business)."""
    return req.headers.get("Sec-Fetch-Site") == "cross-site" and not req.path.startswith("/api/")


def cookie_withheld(app: Flask, req: Request) -> bool:
    """Say whether `req` came from another site without the session cookie the browser may hold."""
    return from_another_site(req) and not req.cookies.get(app.config["SESSION_COOKIE_NAME"])


def _retry_url(req: Request) -> str:
    # One leading slash, whatever came: "//host" would be another site.
    path = quote("/" + req.path.lstrip("/"), safe="/")
    return f"{req.script_root}{path}?{RETRY_QUERY}"


def _onward(req: Request) -> Response:
    """The page that sends the browser on from this site, in every language of the site."""
    url = _retry_url(req)
    notes = []
    for code in current_app.config["LANGUAGES"]:
        with force_locale(code):
            text, link = gettext("You came here from a link on another site."), gettext("Continue")
        notes.append(
            {"lang": code, "dir": "rtl" if code in RTL else "ltr", "text": text, "link": link}
        )
    response = Response(render_template("elsewhere.html", notes=notes, url=url))
    if req.query_string.decode("latin-1") != RETRY_QUERY:
        response.headers["Refresh"] = f"0; url={url}"
    return response


def init_app(app: Flask) -> None:
    """Register the hook (after the listener checks, before the body limits and CSRF)."""

    @app.before_request
    def _from_elsewhere() -> Response | None:
        if not from_another_site(request):
            return None
        if request.method not in _SAFE_METHODS:
            abort(403)
        if not cookie_withheld(app, request):
            return None
        return _onward(request)
