"""Errors become pages here, and only here: no stack trace or input ever reaches a visitor."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import AppError
from app.listeners import is_staff_listener

log = logging.getLogger(__name__)


def _page(status: int, kind: str) -> tuple[str, int]:
    # Staff see their own (English) error pages, but only on the staff listener:
    # anywhere else a staff URL's 404 must be the source interface's own 404.
    template = "staff/error.html" if is_staff_listener(request) else "error.html"
    return render_template(template, status=status, kind=kind), status


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
        return _page(400, "CSRFError")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        return _page(status, "HTTP")

    @app.errorhandler(TimeoutError)
    def _too_slow(_exc: TimeoutError) -> ResponseReturnValue:
        # A body that fell behind its minimum rate (`app.worker`): nothing to log.
        return _page(408, "HTTP")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        # The type and place only: a message or a traceback could quote input.
        frame = exc.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "?"
        log.error("unexpected %s at %s", type(exc).__name__, where)
        return _page(InternalServerError.code, "HTTP")
