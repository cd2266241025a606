"""Recent authentication: an administrator's change needs the password and a code again.

A staff session lasts hours; a laptop left unlocked, or a session taken, must not
make an administrator of someone else, reset a colleague's second factor or
install a keyring for that long. So every change an admin page makes (a POST)
needs the password and a fresh code given within STAFF_REAUTH_SECONDS: at the
login, or on the page this module shows in the change's place. That page carries
the change's fields along, so nothing typed is lost, and sends them again with
the password and code; a file chosen is asked for again (a page cannot carry
one). The time is kept in the session's own row, so it holds for that login
only; each confirmation is audited, and spends its code as a login does.
"""

from __future__ import annotations

from typing import Final

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.db import db_session
from app.models import StaffAccount
from app.services import staff as staff_service
from app.services import staff_devices
from app.staff import auth, views
from app.staff.forms import ReauthForm

# The confirmation's own fields: never carried along again.
_OWN: Final = frozenset({"reauth_password", "reauth_code", "csrf_token"})
# The changes of the highest harm, which a recent confirmation does not let through: each
# asks the password and a fresh code. A copy of the cookie used before its browser's next
# page had the confirmation for one change (`auth.keep_fresh`): the legal-aid page sources
# go to for a lawyer rewritten with a number the accused answer; a colleague's account
# taken over with a new passphrase shown to the copy, its owner shut out, or removed; an
# account of its own added, which outlived the copied session; or a term of the submission
# form added or relabelled, its label (shown to every source) saying what that page says, or
# moved or removed (the agency a source accuses gone from the form, or sunk below the rest:
# what sources can say changed for all of them); or a colleague made an administrator (the
# thief herself, at the next desk); or the organisation's name, which heads every source
# page, made "moved: use <an onion>"; or the dashboard's export: a copy taken while its
# owner sat on a page downloaded every new report within the window, and marked them
# exported, so her own next bundle went without them (the workstation heard of them only
# by a resend). What a confirmation still lets through for STAFF_REAUTH_SECONDS: a
# keyring install (which needs the authorities' signatures anyway).
# And any staff member's "Log out every other device": a copy of the cookie ended with it
# every session its owner logged in with again, and kept its own.
EACH_TIME: Final = frozenset(
    {
        "staff.end_other_sessions",
        "staff.admin_settings_general",
        "staff.admin_settings_resources",
        "staff.admin_account_reset_password",
        "staff.admin_account_reset_2fa",
        "staff.admin_account_create",
        "staff.admin_account_remove",
        "staff.admin_term_add",
        "staff.admin_term_labels",
        "staff.admin_term_move",
        "staff.admin_term_remove",
        "staff.admin_account_role",
        "staff.export",
    }
)


def gate(account: StaffAccount) -> ResponseReturnValue | None:
    """Let a change through if its session authenticated lately or confirms now; else a page."""
    if request.method in ("GET", "HEAD"):
        return None
    if request.endpoint not in EACH_TIME and auth.recently_authenticated():
        return None
    form = ReauthForm()
    if "reauth_password" not in request.form:
        return _page(form), 401
    if not form.validate():
        return _page(form), 400
    try:
        confirmed = staff_service.reauthenticate(
            db_session(),
            account,
            form.reauth_password.data or "",
            form.reauth_code.data or "",
            auth.SessionGuesses(account),
            request.cookies.get(staff_devices.COOKIE),
        )
    except staff_service.TooManyGuesses:
        return views.session_ended()
    except staff_service.WrongPassword:
        return _page(form, failed=True), 401
    except staff_service.NoLongerStaff:
        auth.reload()
        abort(403)
    if not confirmed:
        return _page(form, failed=True), 401
    if not auth.mark_authenticated():
        # The session's row is gone: ended meanwhile (a removal, a reset, its owner's
        # "end my other sessions"). Nothing is done in the name of a session that ended.
        auth.reload()
        abort(403)
    return None


def _page(form: ReauthForm, *, failed: bool = False) -> str:
    carried = [(k, v) for k, v in request.form.items(multi=True) if k not in _OWN]
    files = sorted({name for name, f in request.files.items(multi=True) if f.filename})
    return render_template(
        "staff/confirm.html",
        form=form,
        carried=carried,
        files=files,
        failed=failed,
        each_time=request.endpoint in EACH_TIME,
        minutes=int(current_app.config["STAFF_REAUTH_SECONDS"]) // 60,
    )
