"""Staff sessions: who is logged in, for how long, and the decorators views use.

A staff session is a login row (`app.sessions`) holding the account id and the
account's epoch, with an absolute deadline of STAFF_SESSION_MAX_SECONDS. It ends
at logout (the row is deleted), when either deadline passes, or when the
account's password or second factor changes (its rows are deleted and its epoch
moves on), so changing either logs out every other device.

Between a correct password and a confirmed second factor, an account without one
has a pending enrolment: the account id, its epoch, a deadline a few minutes
away and the new TOTP secret (sealed). It grants nothing but the enrolment page.
It is a login row too, not cookie data: the cookie is sealed under a key made
from the server's secret key, so a seizer holding that key and a copy of the
database could otherwise write an enrolment of their own, with a secret of
their choosing, for any account not enrolled yet, and log in with no password.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app import kdf_pool, page_pacing, sessions
from app.db import db_session
from app.models import StaffAccount
from app.services import staff as staff_service
from app.services import staff_devices

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY: Final = "staff"
PENDING_KEY: Final = "staff_enrolment"
# Where the cookie keeps the word its login row holds as "fresh" (`keep_fresh`).
FRESH_KEY: Final = "staff_fresh"
# Set on a request refused for its account's pace: its busy page shows no menu, for which
# the account would be read (`_take_turns`).
PACED_OUT: Final = "staff_paced_out"
# Long enough to install an authenticator app and scan a code; short enough that
# a password typed on a shared machine does not stay useful.
ENROLMENT_SECONDS: Final = 10 * 60
# What survives a login: the language choice. The CSRF token does not: a new
# session gets a new one.
_KEPT: Final = ("lang",)


def begin(account: StaffAccount, *, authenticated: int | None = None) -> None:
    """Start a fresh session for `account`: after both factors were checked, or
    (`authenticated`, when they last were) in place of a session whose password changed."""
    given = int(time.time()) if authenticated is None else authenticated
    end()
    config = current_app.config
    fresh = _word()
    sessions.start_login(
        db_session(),
        {SESSION_KEY: {"id": account.id, "epoch": account.epoch, "auth": given, "fresh": fresh}},
        lifetime=int(config["STAFF_SESSION_MAX_SECONDS"]),
        idle=int(config["SESSION_IDLE_SECONDS"]),
        staff_id=account.id,
    )
    session[FRESH_KEY] = fresh
    g.pop("staff_account", None)


def known_device(response: Response, account: StaffAccount) -> Response:
    """Give the browser of a full login (password and code) a known device's cookie.

    Sent only to staff pages, never to scripts or from another site's pages; Secure is
    off as the session cookie's is, the onion being plain HTTP. It names nothing but a
    random id and its last day (`staff_devices`).
    """
    response.set_cookie(
        staff_devices.COOKIE,
        staff_devices.issue(account),
        max_age=staff_devices.LIFETIME_DAYS * 24 * 60 * 60,
        path=staff_devices.PATH,
        httponly=True,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        samesite="Strict",
    )
    return response


# The login page's query (`link=void`) when a link no longer held: the page says so.
VOID_LINK: Final = "void"


def linked_device(cookie: str) -> Response:
    """Send the browser that opened an administrator's link (`staff_devices.link`) on to the
    login page's plain address with the known device's cookie the link carries, if it is one
    of an account standing now, before its last day; else on to the page saying the link no
    longer holds (without it, a colleague handed a stale link learnt so only by being told
    busy through a flood, as a browser never linked is)."""
    live = staff_devices.live_tags(current_app)
    if staff_devices.head_place(current_app, cookie, live) is None:
        return redirect(url_for("staff.login", link=VOID_LINK), code=303)
    response = redirect(url_for("staff.login"), code=303)
    response.set_cookie(
        staff_devices.COOKIE,
        cookie,
        max_age=(staff_devices.LINK_DAYS + 1) * 24 * 60 * 60,
        path=staff_devices.PATH,
        httponly=True,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        samesite="Strict",
    )
    return response


def end() -> None:
    """End the staff session (logout): its row is deleted."""
    sessions.end_login(db_session())
    kept = {k: session[k] for k in _KEPT if k in session}
    session.clear()
    session.update(kept)
    g.pop("staff_account", None)


def begin_enrolment(account: StaffAccount, sealed_secret: str) -> None:
    """Start a fresh session holding only a pending enrolment for `account` (a login row)."""
    end()
    pending = {
        "id": account.id,
        "epoch": account.epoch,
        "until": int(time.time()) + ENROLMENT_SECONDS,
        "secret": sealed_secret,
    }
    sessions.start_login(
        db_session(),
        {PENDING_KEY: pending},
        lifetime=ENROLMENT_SECONDS,
        idle=ENROLMENT_SECONDS,
        staff_id=account.id,
    )


def pending_enrolment() -> tuple[StaffAccount, str] | None:
    """Return the account and sealed secret of a live pending enrolment, or None."""
    grants = sessions.current_login(db_session())
    data = grants.get(PENDING_KEY) if grants is not None else None
    if not isinstance(data, dict):
        return None
    until, account_id, secret = data.get("until"), data.get("id"), data.get("secret")
    if not isinstance(until, int) or until < time.time():
        return None
    if not isinstance(account_id, str) or not isinstance(secret, str):
        return None
    account = db_session().get(StaffAccount, account_id)
    if account is None or account.epoch != data.get("epoch") or account.totp_enrolled:
        return None
    return account, secret


def end_enrolment() -> None:
    """Drop a pending enrolment (expired, or no longer valid): its row is deleted.

    A login of anything else (a staff session, a source's) is no enrolment's to end.
    """
    grants = sessions.current_login(db_session())
    if grants is not None and PENDING_KEY in grants:
        end()


def current_staff() -> StaffAccount | None:
    """Return the logged-in account, or None (ending a session that is no longer valid)."""
    if "staff_account" in g:
        cached: StaffAccount | None = g.staff_account
        return cached
    account = _load()
    grants = sessions.current_login(db_session())
    if account is None and grants is not None and SESSION_KEY in grants:
        end()  # a staff login no longer valid (new epoch, account gone, 2FA reset)
    g.staff_account = account
    return account


def authenticated_at() -> int:
    """When this session's password and code were last given (0 if it says nothing)."""
    grants = sessions.current_login(db_session())
    data = grants.get(SESSION_KEY) if grants is not None else None
    given = data.get("auth") if isinstance(data, dict) else None
    return given if isinstance(given, int) else 0


def recently_authenticated() -> bool:
    """Say whether this browser gave its session's password and code within STAFF_REAUTH_SECONDS.

    This browser: its cookie holds the word the row holds as "fresh" (`keep_fresh`).
    """
    age = time.time() - authenticated_at()
    return 0 <= age < int(current_app.config["STAFF_REAUTH_SECONDS"]) and _fresh_held()


def mark_authenticated() -> bool:
    """Note in this session's row that its password and code were given again just now."""
    given, fresh = int(time.time()), _word()
    done = sessions.regrant(
        db_session(), lambda grants: _staff_change(grants, auth=given, fresh=fresh)
    )
    if done:
        session[FRESH_KEY] = fresh
    return done


def keep_fresh() -> None:
    """Give this browser a new word for its session's confirmation, or end the confirmation.

    The password and code given lately (at the login, or on the confirmation page)
    let admin changes through for STAFF_REAUTH_SECONDS: for whoever held a copy
    of the cookie too, since the server may not tell browsers apart by address
    or user agent. So while it holds, the row and the cookie share a word, new
    at every staff page: a copy has the word only until its browser's next page.
    A word that is not the row's (a copy used, or the browser's own copy used
    elsewhere) ends the confirmation for every copy: the next change asks the
    password and a code again, which only the account's owner has.
    """
    grants = sessions.current_login(db_session())
    data = grants.get(SESSION_KEY) if grants is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("fresh"), str):
        return
    if not 0 <= time.time() - authenticated_at() < int(current_app.config["STAFF_REAUTH_SECONDS"]):
        return
    held, fresh = session.get(FRESH_KEY), _word()
    kept: list[bool] = []

    def turn(grants: dict[str, Any]) -> dict[str, Any]:
        stored = grants.get(SESSION_KEY)
        word = stored.get("fresh") if isinstance(stored, dict) else None
        kept.append(_same(word, held))
        return _staff_change(grants, fresh=fresh if kept[-1] else None)

    if sessions.regrant(db_session(), turn) and kept[-1]:
        session[FRESH_KEY] = fresh
    else:
        session.pop(FRESH_KEY, None)


def _fresh_held() -> bool:
    grants = sessions.current_login(db_session())
    data = grants.get(SESSION_KEY) if grants is not None else None
    word = data.get("fresh") if isinstance(data, dict) else None
    return _same(word, session.get(FRESH_KEY))


def _same(word: object, held: object) -> bool:
    return isinstance(word, str) and isinstance(held, str) and hmac.compare_digest(word, held)


def _word() -> str:
    return secrets.token_urlsafe(16)


def _staff_change(grants: dict[str, Any], **values: object) -> dict[str, Any]:
    """The grants with `values` set in the staff session's part (unchanged without one)."""
    data = grants.get(SESSION_KEY)
    if not isinstance(data, dict):
        return grants
    return {**grants, SESSION_KEY: {**data, **values}}


class SessionGuesses:
    """This session's count of failed tries (`staff_service.PasswordGuesses`).

    Counted against the session, not the account: whoever holds a session left open
    gets a few guesses and loses it, and the account's owner is locked out of nothing.
    Each try is counted before its check, in the row (`sessions.regrant`, which builds
    on the row as it stands), and given back only once password and code were right:
    guesses sent at once each find the others counted, so no more are checked than the
    limit, and the session's end says nothing of which password was right.
    """

    def __init__(self, account: StaffAccount) -> None:
        self.account = account

    def take(self) -> bool:
        """Count a guess about to be checked; past the limit end the session, and say so."""
        counted: list[int] = []

        def count(grants: dict[str, Any]) -> dict[str, Any]:
            counted.append(_wrong(grants) + 1)
            return _staff_change(grants, wrong=counted[-1])

        db = db_session()
        taken = sessions.regrant(db, count)
        if taken and counted[-1] <= int(current_app.config["STAFF_LOGIN_FAILURES"]):
            return True
        if taken:
            # Once, by the guess past the limit: those sent with it find the session gone.
            staff_service.end_guessing_session(db, self.account)
        end()
        return False

    def settle(self, give_back: bool, alongside: Callable[[], None]) -> bool:
        """Give a try back (`give_back`) or keep it counted, with `alongside`'s writes.

        Either is a re-seal of the row: the writes do not say which it was.
        """

        def count(grants: dict[str, Any]) -> dict[str, Any]:
            wrong = _wrong(grants)
            return _staff_change(grants, wrong=max(wrong - 1, 0)) if give_back else grants

        return sessions.regrant(db_session(), count, alongside=alongside)


def _wrong(grants: dict[str, Any]) -> int:
    """The wrong passwords the session's row has counted."""
    data = grants.get(SESSION_KEY)
    wrong = data.get("wrong", 0) if isinstance(data, dict) else 0
    return wrong if isinstance(wrong, int) else 0


def reload() -> None:
    """Forget the account this request loaded: it changed under the request (removed, reset)."""
    g.pop("staff_account", None)


def _load() -> StaffAccount | None:
    grants = sessions.current_login(db_session())
    data = grants.get(SESSION_KEY) if grants is not None else None
    if not isinstance(data, dict):
        return None
    account_id = data.get("id")
    if not isinstance(account_id, str):
        return None
    account = db_session().get(StaffAccount, account_id)
    if account is None or account.epoch != data.get("epoch") or not account.totp_enrolled:
        return None
    return account


def _return_to() -> str | None:
    # Only a page can be returned to: a form sent without a session is sent again by hand.
    return request.path if request.method == "GET" else None


def costs(turns: int) -> Callable[[F], F]:
    """Mark a staff view as taking `turns` of its account's pace (`app.page_pacing`); 0 for
    one that must never wait for it (how the others stop a flooding account)."""

    def mark(view: F) -> F:
        view.staff_turns = turns  # type: ignore[attr-defined]
        return view

    return mark


def _take_turns(view: Callable[..., Any]) -> None:
    """Take the view's turns of the pace of the account this session's row names, or refuse
    it busy with Retry-After, its cookie kept as it came.

    One logged-in session loading the dashboard in a loop held the staff's threads, and
    the others could not export, read the audit log or remove it (`app.page_pacing`). Taken
    before the account is read: a refusal read it, and re-sealed the cookie, for nothing
    (`tests/bench/staff_refusals.py`), and its busy page read it again for the menu, which it
    shows without (`PACED_OUT`). The row's account is the one its login checked; one
    removed since has no row left (`current_staff` sends its session to the login page)."""
    grants = sessions.current_login(db_session())
    data = grants.get(SESSION_KEY) if grants is not None else None
    account_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(account_id, str):
        return  # no staff session: `current_staff` says so next
    turns = getattr(view, "staff_turns", 1)
    wait = page_pacing.take_staff_turns(account_id, kdf_pool.current_circuit(), turns)
    if wait:
        sessions.keep_cookie()
        g.setdefault(PACED_OUT, True)
        raise kdf_pool.paced_out(wait)


def staff_required(view: F) -> F:
    """Send a visitor without a valid staff session to the login page; refuse busy a request
    past its account's pace (`costs`)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _take_turns(view)
        account = current_staff()
        if account is None:
            return redirect(url_for("staff.login", next=_return_to()))
        keep_fresh()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Like `staff_required`, refuse (403) an account that is not an admin, and ask a change
    for the password and a code again unless they were given lately (`app.staff.reauth`)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _take_turns(view)
        account = current_staff()
        if account is None:
            return redirect(url_for("staff.login", next=_return_to()))
        if account.role != "admin":
            abort(403)
        keep_fresh()
        # Named here: the confirmation page's module builds on this one (`app.staff` loads it
        # with the blueprint, so no request imports it).
        from app.staff import reauth

        asked = reauth.gate(account)
        if asked is not None:
            return asked
        return view(*args, **kwargs)

    # Read before the body (`app.limits`): a bundle-sized body is an administrator's only.
    wrapper.admin_only = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
