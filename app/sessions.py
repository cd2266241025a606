"""Sessions kept in the browser, sealed: the server stores no session, the cookie shows nothing.

The cookie is an XChaCha20-Poly1305 token under a key derived from the instance's
secret key. It carries its own idle deadline, so no time is ever written on the
server; a source's session also carries the key that opens their replies.
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SessionInterface

from crypto import CryptoError, TokenKey
from crypto.constants import PERSON_SESSION_KEY, TOKEN_CONTEXT_SESSION


class SealedSessionInterface(SessionInterface):
    """Store the session dict in an encrypted, authenticated cookie with an idle deadline."""

    def _key(self, app: Flask) -> TokenKey:
        key = app.extensions.get("raazdar.session_key")
        if key is None:
            key = TokenKey(app.config["SECRET_KEY"][:32]).derive(PERSON_SESSION_KEY)
            app.extensions["raazdar.session_key"] = key
        return key

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession:
        """Open the cookie; anything expired, altered or foreign starts a fresh session."""
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return SecureCookieSession()
        try:
            payload = json.loads(self._key(app).open(token, TOKEN_CONTEXT_SESSION))
        except (CryptoError, ValueError):
            return SecureCookieSession()
        if not isinstance(payload, dict) or payload.get("exp", 0) < time.time():
            return SecureCookieSession()
        data: dict[str, Any] = payload.get("data", {})
        return SecureCookieSession(data)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Re-seal the session on every response, pushing the idle deadline forward."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if not session:
            if session.modified:
                response.delete_cookie(name, domain=domain, path=path)
            return
        deadline = int(time.time()) + int(app.config["SESSION_IDLE_SECONDS"])
        token = self._key(app).seal(
            json.dumps({"exp": deadline, "data": dict(session)}).encode(), TOKEN_CONTEXT_SESSION
        )
        response.set_cookie(
            name,
            token,
            httponly=True,
            secure=self.get_cookie_secure(app),
            samesite="Strict",
            domain=domain,
            path=path,
        )
        response.vary.add("Cookie")
