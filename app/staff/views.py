"""Staff pages: login, two-factor enrolment, logout, and the dashboard."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import environment, page_pacing
from app.db import db_session
from app.errors import KeyringUnavailable, ThrottledError
from app.models import StaffAccount
from app.operations import doctor
from app.services import dashboard as dashboard_service
from app.services import staff as staff_service
from app.services import staff_devices
from app.services.context import services
from app.staff import auth, bp
from app.staff.auth import costs, current_staff, staff_required
from app.staff.forms import (
    ActionForm,
    ChangePasswordForm,
    EnrolForm,
    ExportForm,
    LoginForm,
    ReauthForm,
    ReplyUploadForm,
)
from crypto.constants import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS

F = TypeVar("F", bound=Callable[..., Any])
# How long a worker shows the tor health it last asked on the dashboard (seconds).
TOR_HEALTH_SECONDS: Final = 5.0
_tor_asked: dict[tuple[str, str, str], tuple[float, doctor.Check]] = {}
_tor_lock = threading.Lock()
# Where a login may send the browser on: a staff page of this site, nothing else.
_NEXT: Final = re.compile(r"/staff/[A-Za-z0-9/_.-]*")
_SHORT: Final = _l("A password has %(min)d to %(max)d characters. Nothing changed.")
_WRONG_FACTOR: Final = _l(
    "Your current password or the code is not right (a code is taken once: wait for the"
    " next one). Nothing changed."
)


def accepts_bundle(view: F) -> F:
    """Mark a view whose POST body may carry a bundle larger than a form (see `app.limits`)."""
    view.accepts_bundle = True  # type: ignore[attr-defined]
    return view


def _next_page() -> str:
    target = request.args.get("next", "")
    return target if _NEXT.fullmatch(target) else url_for("staff.dashboard")


def _account() -> StaffAccount:
    account = current_staff()
    if account is None:  # staff_required has run; this only satisfies the type
        abort(403)
    return account


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Username, password and code; an account without a second factor goes on to enrol one."""
    if current_staff() is not None:
        return redirect(_next_page(), code=303)
    linked = request.args.get(staff_devices.LINK_FIELD)
    if request.method == "GET" and linked is not None:
        # Out of the address at once: it stays in no bar, and the form posts without it.
        return auth.linked_device(linked)
    form = LoginForm()
    failed = False
    status = 200
    if form.validate_on_submit():
        result = staff_service.authenticate(
            db_session(),
            form.username.data or "",
            form.password.data or "",
            form.code.data or "",
            request.cookies.get(staff_devices.COOKIE),
        )
        if result is not None and result.enrolment is not None:
            auth.begin_enrolment(result.account, result.enrolment)
            return redirect(url_for("staff.enrol"), code=303)
        if result is not None:
            auth.begin(result.account)
            return auth.known_device(redirect(_next_page(), code=303), result.account)
        failed, status = True, 401
    elif request.method == "POST":
        status = 400
    return _login_page(form, failed=failed), status


def throttled(exc: ThrottledError) -> str:
    """Which lock a throttled page speaks of: "day" (up to two days) or "window" (minutes)."""
    return "day" if isinstance(exc, staff_service.LockedForTheDay) else "window"


def _login_page(form: LoginForm, *, failed: bool = False, throttled: str | None = None) -> str:
    target = request.args.get("next", "")
    action = (
        url_for("staff.login", next=target) if _NEXT.fullmatch(target) else url_for("staff.login")
    )
    return render_template(
        "staff/login.html",
        form=form,
        action=action,
        failed=failed,
        throttled=throttled,
        minutes=window_minutes(),
        void_link=request.method == "GET" and request.args.to_dict() == {"link": auth.VOID_LINK},
    )


def window_minutes() -> int:
    """How long a throttled account waits at most, in the minutes the pages speak of.

    A failure counts in its window and the next (`app.throttle`): two windows.
    """
    return 2 * int(current_app.config["STAFF_LOGIN_WINDOW_SECONDS"]) // 60


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    """Set up the second factor: the secret as text and QR code, confirmed by a first code."""
    pending = auth.pending_enrolment()
    if pending is None:
        auth.end_enrolment()
        flash(_("Log in with your username and password to set up your authenticator."), "warn")
        return redirect(url_for("staff.login"), code=303)
    account, sealed = pending
    form = EnrolForm()
    failed = False
    status = 200
    if form.validate_on_submit():
        try:
            confirmed = staff_service.confirm_enrolment(
                db_session(), account, sealed, form.code.data or ""
            )
        except ThrottledError as exc:
            auth.end_enrolment()
            return _login_page(LoginForm(formdata=None), throttled=throttled(exc)), 429
        except staff_service.AccountChanged:
            # A reset or removal came first: this enrolment is no longer the account's.
            auth.end_enrolment()
            flash(_("Log in with your username and password to set up your authenticator."), "warn")
            return redirect(url_for("staff.login"), code=303)
        if confirmed:
            auth.begin(account)
            flash(_("Your authenticator is set up. Use a fresh code from it at every login."), "ok")
            return auth.known_device(redirect(url_for("staff.dashboard"), code=303), account)
        failed, status = True, 401
    elif request.method == "POST":
        status = 400
    info = staff_service.enrolment(db_session(), account, sealed)
    page = render_template(
        "staff/enrol.html", form=form, enrolment=info, account=account, failed=failed
    )
    return page, status


@bp.get("/language/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the staff pages' language and go back to the staff page the visitor was on."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(_next_page(), code=303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (the CSRF check, global, has already run)."""
    auth.end()
    flash(_("You are logged out."), "ok")
    return redirect(url_for("staff.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required
@costs(0)  # how the owner of a stolen device ends its session: never paced
def change_password() -> ResponseReturnValue:
    """Change one's own password: every other session of the account ends, this one goes on."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        account = _account()
        # A new password is no code: the new session is as recently confirmed as this one.
        confirmed = auth.authenticated_at()
        try:
            staff_service.change_own_password(
                db_session(),
                account,
                form.current.data or "",
                form.new.data or "",
                form.code.data or "",
                auth.SessionGuesses(account),
                request.cookies.get(staff_devices.COOKIE),
            )
        except staff_service.TooManyGuesses:
            return session_ended()
        except (staff_service.WrongPassword, staff_service.WrongCode):
            # One answer for either: told apart, it said the current password typed was
            # right, without the code, to whoever sat at a session left open.
            form.current.errors = [str(_WRONG_FACTOR)]
            return _password_page(form), 403
        except staff_service.SamePassword:
            # Held against the one typed as current, before its hash: not said to be the
            # account's, which a wrong guess typed in both is not.
            form.new.errors = [
                _("The new password is the same as the current password you typed: choose another.")
            ]
            return _password_page(form), 400
        except staff_service.PasswordRefused:
            form.new.errors = [_SHORT % {"min": PASSWORD_MIN_CHARS, "max": PASSWORD_MAX_CHARS}]
            return _password_page(form), 400
        except staff_service.AccountChanged:
            # A reset or a change from another device came first, and ended this session.
            auth.end()
            flash(
                _(
                    "Your account was changed while you were changing your password (by an "
                    "administrator, or from another device). Your password is not changed: "
                    "log in again."
                ),
                "warn",
            )
            return redirect(url_for("staff.login"), code=303)
        auth.begin(account, authenticated=confirmed)  # a fresh session; the others ended
        flash(_("Your password is changed. Every other session of your account has ended."), "ok")
        # Its password and a code were just given here: this browser stays a known device,
        # under the new epoch that voided every cookie of the account.
        return auth.known_device(redirect(url_for("staff.dashboard"), code=303), account)
    if request.method == "POST":
        status = 400
    return _password_page(form), status


@bp.post("/account/sessions/end")
@staff_required
@costs(0)  # how the owner of a stolen device ends its session: never paced
def end_other_sessions() -> ResponseReturnValue:
    """Log out every other device of one's account; this one stays in.

    With the password and a fresh code each time (`app.staff.reauth.EACH_TIME`): a copy
    of the cookie, used with neither, ended its owner's every new login, over and over.
    """
    if not ActionForm().validate_on_submit():
        return redirect(url_for("staff.change_password"), code=303)
    # Named here: the confirmation page's module builds on this one.
    from app.staff import reauth

    asked = reauth.gate(_account())
    if asked is not None:
        return asked
    try:
        staff_service.end_other_sessions(db_session(), _account())
    except staff_service.NoLongerStaff:
        auth.reload()
        abort(403)
    flash(_("Every other session of your account has ended."), "ok")
    return redirect(url_for("staff.change_password"), code=303)


def session_ended() -> ResponseReturnValue:
    """Send a session ended for its failed tries to the login page, saying why.

    Every try that was not accepted counted, the right password's with a wrong code too:
    called wrong passwords, its owner looked for a typo in a password that was right.
    """
    flash(
        _(
            "Too many failed tries at the password and code: this session has ended."
            " Nothing changed."
        ),
        "warn",
    )
    return redirect(url_for("staff.login"), code=303)


def _password_page(form: ChangePasswordForm) -> str:
    return render_template(
        "staff/password.html",
        form=form,
        action_form=ActionForm(formdata=None),
        reauth_form=ReauthForm(formdata=None),
        min_chars=PASSWORD_MIN_CHARS,
    )


@bp.get("/")
@staff_required
@costs(page_pacing.STAFF_PAGE_TURNS)
def dashboard() -> ResponseReturnValue:
    """Counts of what waits, the export and upload forms, and the keyring in force."""
    return _dashboard_page()


def _dashboard_page(
    export_form: ExportForm | None = None, upload_form: ReplyUploadForm | None = None
) -> str:
    return render_template(
        "staff/dashboard.html",
        info=dashboard_service.dashboard(db_session()),
        export_form=export_form or ExportForm(formdata=None),
        upload_form=upload_form or ReplyUploadForm(formdata=None),
        action_form=ActionForm(formdata=None),
        tor=_tor_health(services().paths.root),
        server=_server_card(),
    )


def _tor_health(root: Path) -> doctor.Check:
    """tor's health for the dashboard, asked at most once each `TOR_HEALTH_SECONDS` a worker.

    Each dashboard opened tor's control socket: a session loading it in a loop had tor
    asked as often, by every worker."""
    key = (str(root), environment.get("RAAZDAR_TOR_MODE"), environment.get("RAAZDAR_TOR_CONTROL"))
    now = time.monotonic()
    with _tor_lock:
        held = _tor_asked.get(key)
        if held is not None and now - held[0] < TOR_HEALTH_SECONDS:
            return held[1]
    check = doctor.tor_check(root)
    with _tor_lock:
        _tor_asked.clear()  # one instance's, but a test process serves many
        _tor_asked[key] = (now, check)
    return check


def _server_card() -> dict[str, Any]:
    """What `raazdar server-info` prints, for the dashboard (nothing secret)."""
    from app.instance import load_config
    from app.operations.rotation import server_info

    paths = services().paths
    return server_info(paths, load_config(paths), None, ())


@bp.post("/export")
@staff_required
def export() -> ResponseReturnValue:
    """Download a signed export bundle of new items (or of every item since a day).

    With the password and a fresh code each time (`app.staff.reauth.EACH_TIME`): a copy
    of the cookie (taken while its owner sat on a page, within the ten minutes her login
    confirmed), or a laptop left logged in, took every new report in one request, and
    marked them exported, so its owner's next bundle went without them.
    """
    form = ExportForm()
    if not form.validate_on_submit():
        return _dashboard_page(export_form=form), 400
    # Named here: the confirmation page's module builds on this one.
    from app.staff import reauth

    asked = reauth.gate(_account())
    if asked is not None:
        return asked
    try:
        download = dashboard_service.export_download(db_session(), _account(), form.since.data)
    except staff_service.NoLongerStaff:
        auth.reload()
        abort(403)
    except KeyringUnavailable:
        flash(_("No keyring is in force, so no bundle can be made. See the keyring page."), "warn")
        return redirect(url_for("staff.dashboard"), code=303)
    if download is None:
        flash(_("Nothing to export: no item matches."), "ok")
        return redirect(url_for("staff.dashboard"), code=303)
    # Streamed as it is written (`BundleStream`): staged on the disk, a flood left no room.
    response = current_app.response_class(
        iter(download.stream),
        mimetype="application/octet-stream",
    )
    response.headers.set("Content-Disposition", "attachment", filename=download.name)
    response.call_on_close(download.stream.close)
    # Its size before its first byte: a download cut short is one the browser calls failed.
    response.content_length = download.size
    # A bundle must not be kept at all.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/replies")
@staff_required
@accepts_bundle
def upload_replies() -> ResponseReturnValue:
    """Apply a reply bundle, and say what was accepted, what was refused, and why."""
    form = ReplyUploadForm()
    if not form.validate_on_submit():
        return _dashboard_page(upload_form=form), 400
    try:
        outcome = dashboard_service.apply_upload(db_session(), _account(), form.bundle.data.stream)
    except staff_service.NoLongerStaff:
        auth.reload()
        abort(403)
    page = render_template("staff/replies.html", outcome=outcome)
    return page, 200 if outcome.summary is not None else 422
