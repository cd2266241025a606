"""Before a body is read: the size limit, and whether file parts are sealed or dropped.

This runs before CSRF checking (which parses the body), so a request to a view
that takes reports is refused with 503 while no keyring is in force, before a
single byte of it is read. A report declared over the upload limit, but not far
over, is read with its files dropped, so that its words go back to the source.
And it ends the request's transaction: a report's body comes over Tor for
minutes, and a connection held for it (on PostgreSQL, idle in a transaction)
per slow body let a flood take every connection the database allows.
"""

from __future__ import annotations

from typing import Final

from flask import Flask, current_app, g, request

from app import kdf_pool
from app.db import db_session
from app.listeners import is_staff_listener
from app.services.context import services
from app.settings import in_force, revision_kept
from app.uploads import OverLimit, SealedUploads

# A report's body up to this many times the upload limit is read, its files dropped, so
# that its form goes back with the words; a larger one is refused before it is read.
OVER_LIMIT_READ: Final = 4

# The methods whose requests may carry a body that comes slowly.
_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH"})


def init_app(app: Flask) -> None:
    """Register the hook (call before CSRFProtect registers its own)."""

    @app.before_request
    def _refuse_paced_out() -> None:
        """A short form refused for its circuit's pace (`app.worker`) reaches the app only
        so that a login's is answered busy with its codename (`kdf_pool.in_slot`): any
        other is refused busy here, never served."""
        refused = kdf_pool.refused_for_pace()
        if refused is not None and request.endpoint != "source.login":
            raise kdf_pool.paced_out(refused)

    @app.before_request
    def _prepare_body() -> None:
        if _limit_body():
            _let_go_of_the_database()

    def _limit_body() -> bool:
        """Set the body's limit and sinks; say whether its request may end its transaction.

        A staff member's bundle keeps it: their account, read here, is the request's
        until it ends (and the staff onion admits only the staff's own devices).
        """
        view = current_app.view_functions.get(request.endpoint or "")
        if request.method == "POST" and getattr(view, "accepts_bundle", False):
            from app.staff.auth import current_staff

            # Only a logged-in staff member on the staff listener may send a body this
            # large (to an admin page, only an administrator); anyone else keeps the form
            # limit and is refused before it is read: a staff member's 2 GiB to the keyring
            # page went to the store's scratch before its 403.
            account = current_staff() if is_staff_listener(request) else None
            admin_only = getattr(view, "admin_only", False)
            if account is not None and (account.role == "admin" or not admin_only):
                request.max_content_length = current_app.config["MAX_BUNDLE_BYTES"]
                # A bundle is ciphertext signed offline: it may wait in a temporary file.
                request.bundle_file = services().store.scratch  # type: ignore[attr-defined]
                return False
        if not getattr(view, "accepts_reports", False) or request.method != "POST":
            request.max_content_length = current_app.config["MAX_FORM_MEMORY_SIZE"]
            return True
        svc = services()
        recipients = svc.recipients()
        limit = in_force(db_session(), "upload_limit_mib") * 1024 * 1024
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
        return True

    def _let_go_of_the_database() -> None:
        """End the request's transaction, if one began, so no connection waits on the body."""
        session = g.get("db_session")
        if session is not None and request.method in _WITH_BODY:
            # Only reads came before (settings, the login): nothing is lost, and the
            # settings' revision read stands.
            with revision_kept():
                session.rollback()

    @app.teardown_request
    def _discard_uploads(_exc: BaseException | None) -> None:
        uploads = getattr(request, "sealed_uploads", None)
        if uploads is not None:
            uploads.discard_all()
