"""The submission API (`/api/v1`): JSON for the end-to-end client, described by `openapi.json`.

Every answer under `/api/v1`, refusals and failures included, is JSON of the
form `{"error": code, "message": plain English}`: never an HTML page, never a
stack trace, never an echo of the input.
"""

from __future__ import annotations

import logging
from typing import Final

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app import csrf
from app.errors import (
    FAULT_RETRY_AFTER,
    AppError,
    KeyringUnavailable,
    ThrottledError,
    fault,
    malformed_body,
)
from app.logs import where
from app.services.api import HEADER_NEXT_CHALLENGE, MAX_JSON_BYTES, ApiError, new_challenge
from app.services.resumable import CHUNK_LIMIT

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Exempt from CSRF, and the only blueprint that is: a request here is
# authenticated by a signature over a one-time server challenge, carries no
# cookie the browser would attach on its own, and cannot be forged by a page.
csrf.exempt(bp)

_HTTP_CODES: Final = {
    400: ("bad-request", "the request is malformed"),
    401: ("unauthorized", "this request needs a valid request proof"),
    404: ("not-found", "there is nothing here"),
    405: ("method-not-allowed", "this method is not allowed here"),
    408: ("too-slow", "the request's body came too slowly: send it again"),
    411: ("length-required", "the request needs a Content-Length"),
    413: ("too-large", "the request body is too large"),
    415: ("unsupported-media-type", "the request body has the wrong content type"),
    429: ("throttled", "too many requests failed recently: wait a few minutes"),
    500: ("server-error", "the server failed; nothing was stored"),
    503: ("unavailable", "the service cannot take this now"),
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The JSON body every refusal of the API has."""
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _generic(status: int, headers: dict[str, str] | None = None) -> Response:
    code, message = _HTTP_CODES.get(status, _HTTP_CODES[400 if status < 500 else 500])
    return error_response(status, code, message, headers)


@bp.before_request
def _body_limit() -> None:
    """Chunks of uploads may be large; every other body is small JSON."""
    request.max_content_length = CHUNK_LIMIT if request.method == "PATCH" else MAX_JSON_BYTES


@bp.after_request
def _next_challenge(response: Response) -> Response:
    """Give an authenticated client its next challenge, saving a round trip over Tor."""
    if g.get("api_authenticated"):
        response.headers[HEADER_NEXT_CHALLENGE] = new_challenge()
    return response


@bp.errorhandler(Exception)
def _error(exc: Exception) -> Response:
    """Turn every failure under `/api/v1` into the JSON error shape."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, KeyringUnavailable):
        return error_response(503, "keyring-unavailable", "no keyring is in force: try later")
    if isinstance(exc, ThrottledError):
        return _generic(429)
    if isinstance(exc, AppError):
        retry_after = getattr(exc, "retry_after", None)
        return _generic(exc.status, {"Retry-After": str(retry_after)} if retry_after else None)
    if isinstance(exc, HTTPException):
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return _generic(exc.code or 500, headers)
    reason = fault(exc)
    if reason is not None:
        # Disk full, database locked or down: a machine-readable "try later" (`app.handlers`).
        log.warning("%s: %s", reason, where(exc))
        return error_response(
            503,
            reason,
            "the server cannot store this now: try again later",
            {"Retry-After": str(FAULT_RETRY_AFTER)},
        )
    if malformed_body(exc):
        return _generic(400)
    # The type and place only: a message or a traceback could quote input.
    log.error("unexpected %s", where(exc))
    return _generic(500)


from app.api import views  # noqa: E402, F401 - registers the routes on bp
