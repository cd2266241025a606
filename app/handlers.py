"""Errors become pages here, and only here: no stack trace or input ever reaches a visitor."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import FAULT_RETRY_AFTER, AppError, fault, malformed_body
from app.listeners import is_staff_listener
from app.logs import where

log = logging.getLogger(__name__)

# The kind whose page is the calm "busy, try again" (`app.kdf_pool`'s, in both languages).
BUSY_KIND = "KdfBusy"
# Set on `g` while an error page is built: nothing may read the database then
# (`app.source`'s context processor falls back to what it saw last).
NO_DATABASE = "raazdar_no_database"
_API_CODES = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}
_FAULT_MESSAGES = {
    "storage-full": "the server's storage is full: nothing was stored, try again later",
    "storage-unavailable": "the server's storage takes no writes: nothing was stored, "
    "try again later",
    "database-unavailable": "the database is busy or down: nothing was stored, try again later",
}


def _page(status: int, kind: str) -> tuple[str, int]:
    if status >= 500:
        # The database may be what failed: the page shows what was read last.
        g.setdefault(NO_DATABASE, True)
    # Staff see their own (English) error pages, but only on the staff listener:
    # anywhere else a staff URL's 404 must be the source interface's own 404.
    template = "staff/error.html" if is_staff_listener(request) else "error.html"
    return render_template(template, status=status, kind=kind), status


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _fault_answer(reason: str) -> ResponseReturnValue:
    """503 with Retry-After: JSON with its reason for the API, the busy page elsewhere."""
    headers = {"Retry-After": str(FAULT_RETRY_AFTER)}
    if _is_api():
        body = jsonify({"error": reason, "message": _FAULT_MESSAGES[reason]})
        return body, 503, headers
    page, status = _page(503, BUSY_KIND)
    return page, status, headers


def register(app: Flask) -> None:
    """Install the handlers on `app`."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> ResponseReturnValue:
        log.debug("refused: %s", type(exc).__name__)
        body, status = _page(exc.status, type(exc).__name__)
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        return body, status, headers

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> ResponseReturnValue:
        # A report's form this session gave no token for (another tab logged out, say):
        # its view gives it back (`app.source.views.gives_back`), never a bare refusal.
        view = app.view_functions.get(request.endpoint or "")
        give_back = getattr(view, "give_back", None)
        if request.method == "POST" and give_back is not None:
            return give_back()  # type: ignore[no-any-return]
        return _page(400, "CSRFError")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        # An exception outside the view (opening the session, say) reaches here as a 500.
        original = getattr(exc, "original_exception", None)
        if original is not None:
            return _unexpected(original)
        return _refused(exc.code or 500)

    @app.errorhandler(TimeoutError)
    def _too_slow(_exc: TimeoutError) -> ResponseReturnValue:
        # A body that fell behind its minimum rate (`app.worker`): nothing to log.
        return _page(408, "HTTP")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        reason = fault(exc)
        if reason is not None:
            # A fault of the machine, not of this request: the type and place only.
            log.warning("%s: %s", reason, where(exc))
            return _fault_answer(reason)
        if malformed_body(exc):
            return _refused(400)
        # The type and place only: a message or a traceback could quote input.
        log.error("unexpected %s", where(exc))
        return _refused(InternalServerError.code)

    def _refused(status: int) -> ResponseReturnValue:
        if _is_api():
            # The API's own handler answers inside it; this covers what fails around it.
            code = _API_CODES.get(status, "bad-request" if status < 500 else "server-error")
            body = jsonify(
                {"error": code, "message": "the request was not served; nothing was stored"}
            )
            return body, status
        return _page(status, "HTTP")
