"""Before a body is read: the size limit, and whether file parts are sealed or dropped.

This runs before CSRF checking (which parses the body), so a request to a view
that takes reports is refused with 503 while no keyring is in force, before a
single byte of it is read. A report declared over the upload limit, but not far
over, is read with its files dropped, so that its words go back to the source.
"""

from __future__ import annotations

from typing import Final

from flask import Flask, current_app, request

from app.db import db_session
from app.listeners import is_staff_listener
from app.services.context import services
from app.settings import get_setting
from app.uploads import OverLimit, SealedUploads

# A report's body up to this many times the upload limit is read, its files dropped, so
# that its form goes back with the words; a larger one is refused before it is read.
OVER_LIMIT_READ: Final = 4


def init_app(app: Flask) -> None:
    """Register the hook (call before CSRFProtect registers its own)."""

    @app.before_request
    def _prepare_body() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        if request.method == "POST" and getattr(view, "accepts_bundle", False):
            from app.staff.auth import current_staff

            # Only a logged-in staff member on the staff listener may send a body this
            # large; anyone else keeps the form limit and is refused before it is read.
            if is_staff_listener(request) and current_staff() is not None:
                request.max_content_length = current_app.config["MAX_BUNDLE_BYTES"]
                # A bundle is ciphertext signed offline: it may wait in a temporary file.
                request.bundle_file = services().store.scratch  # type: ignore[attr-defined]
                return
        if not getattr(view, "accepts_reports", False) or request.method != "POST":
            request.max_content_length = current_app.config["MAX_FORM_MEMORY_SIZE"]
            return
        svc = services()
        recipients = svc.recipients()
        limit = int(get_setting(db_session(), "upload_limit_mib")) * 1024 * 1024
        declared = request.content_length
        uploads = SealedUploads
        if declared is not None and limit < declared <= limit * OVER_LIMIT_READ:
            # A phone's video is over the limit more often than not. Refused unread, the
            # report was lost (Back refills no form); read with its files dropped, its
            # form goes back with the words (`app.source.views`). Far over, unread.
            limit, uploads = declared, OverLimit
        request.max_content_length = limit
        request.sealed_uploads = uploads(  # type: ignore[attr-defined]
            svc.store, recipients, current_app.config["MAX_FILES"]
        )

    @app.teardown_request
    def _discard_uploads(_exc: BaseException | None) -> None:
        uploads = getattr(request, "sealed_uploads", None)
        if uploads is not None:
            uploads.discard_all()
