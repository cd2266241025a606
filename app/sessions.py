"""Sessions: a sealed cookie for every visitor, and a database row for every login.

The cookie is an XChaCha20-Poly1305 token under a key derived from the instance's
secret key, with its own idle deadline. For an anonymous visitor it holds only
the language and the CSRF token, so looking at pages writes nothing on the server.

A login (source or staff) is a row of `sessions`: the cookie holds the row's
random id and a random 32-byte key, the row holds what the login grants (the
account, a source's reply-opening key, the exact idle and absolute deadlines)
sealed under that key. Logging out deletes the row, so a copy of the cookie
taken before opens nothing after; a login left without one is deleted as its
deadline passes (`app.login_ends`); a seized database, even with the secret key,
holds no row it can open, since the cookie's key is nowhere on the server. A copy
of the cookie used beside its owner's ends the login for both (`_turn_held`). The
clear columns say only the day after which a row is swept, and for staff the
account (see `app.models.SessionRow`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SessionInterface
from sqlalchemy import bindparam, delete, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app import login_ends, staff_heads
from app.cross_site import cookie_withheld
from app.models import SessionRow, new_id, today
from crypto import CryptoError, TokenKey
from crypto.constants import KEY_BYTES, PERSON_SESSION_KEY, TOKEN_CONTEXT_SESSION
from crypto.encoding import b64decode, b64encode

# Where the cookie keeps the login's row id and key.
LOGIN_KEY: Final = "login"
# Set when a cookie that held a login or an offered codename ran out: the next
# /submit must not show a new codename to someone who may already have one.
LAPSED_KEY: Final = "lapsed"
_LAPSES: Final = (LOGIN_KEY, "offered")
# What a page's form needs when it is sent, kept when the cookie runs out: its CSRF
# token, and the digests of the codenames offered on first reports' pages. With
# JavaScript off nothing keeps a session alive while a source writes; a report
# written for longer than the idle deadline was refused ("the form expired") and
# lost, since Back refills no form. Neither grants anything: the token is no
# login, and an offered codename's digest lets only the page showing it send.
_FORM_KEYS: Final = ("csrf_token", "offered")
# Where a cookie that ran out keeps its login's reference, until the row is deleted:
# the row outlived its cookie, holding what the login granted, until the day's sweep.
_ENDED: Final = "ended"
_ROW_CONTEXT: Final = b"raazdar session row v1:"
# Built once: a statement is immutable, and building it costs more than running it.
_SEALED_ROW: Final = select(SessionRow.sealed).where(SessionRow.id == bindparam("id"))
# Sealed payloads are padded to a multiple of this, so sizes do not tell kinds apart.
_PAD: Final = 512
# Cookies are padded to a multiple of this: a login's reference made the cookie some
# 140 bytes longer, in the answer that set it and in every request after, so counted
# Tor cells said whether a codename had just logged in (tests/app/source/test_traffic.py).
# A source's fullest cookie (a login, four codenames offered, an ended login's
# reference, the lapsed and failed-login flags) is some 640 bytes: every one is 768.
_COOKIE_PAD: Final = 768
# Where an app notes the day its last committed sweep of ended logins ran.
_SWEPT_DAY: Final = "raazdar.logins_swept_on"
# Where an app keeps its note of the login rows it has seen (`app.login_ends`).
_ENDS: Final = "raazdar.login_ends"
# Where a request keeps its login's re-seal until its own commit (`settle_touch`).
_TOUCH: Final = "raazdar_login_touch"
# Set on a request refused for its pace, whose cookie is not re-sealed (`keep_cookie`).
_KEPT: Final = "raazdar_cookie_kept"


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
        if not isinstance(payload, dict):
            return SecureCookieSession()
        data: dict[str, Any] = payload.get("data", {})
        if not isinstance(data, dict):
            return SecureCookieSession()
        if payload.get("exp", 0) < time.time():
            # Ran out: the login goes; the language, whether a codename was in play, and
            # what a form still open needs (`_FORM_KEYS`) are kept.
            kept: dict[str, Any] = {k: data[k] for k in ("lang", _ENDED, *_FORM_KEYS) if k in data}
            if any(k in data for k in (*_LAPSES, LAPSED_KEY)):
                kept[LAPSED_KEY] = True
            if LOGIN_KEY in data:
                kept[_ENDED] = data[LOGIN_KEY]
            return SecureCookieSession(kept)
        return SecureCookieSession(data)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Re-seal the session on every response, pushing the idle deadline forward."""
        if g.get(_KEPT) and not session.modified:
            # A request refused for its pace (`keep_cookie`): its cookie stays as it came.
            return
        if cookie_withheld(app, request):
            # The browser holds back its Strict cookie from another site's request and
            # would take this one in its place: a login, or the lapsed flag, would be lost.
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if not session:
            if session.modified:
                response.delete_cookie(name, domain=domain, path=path)
            return
        deadline = int(time.time()) + int(app.config["SESSION_IDLE_SECONDS"])
        payload = json.dumps({"exp": deadline, "data": dict(session)}).encode()
        # Trailing spaces, which JSON ignores: a cookie of any earlier size still opens.
        payload += b" " * (-len(payload) % _COOKIE_PAD)
        token = self._key(app).seal(payload, TOKEN_CONTEXT_SESSION)
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


def init_app(app: Flask) -> None:
    """Note when each login row standing at this process's start ends (`app.login_ends`)."""
    if app.config.get("ADMINISTERING"):
        return  # a command's app ends with the command: the server's workers note them
    ends = app.extensions[_ENDS] = login_ends.Ends(app.extensions["raazdar.db"])
    ends.note_standing(time.time() + int(app.config["SESSION_IDLE_SECONDS"]))
    _note_staff_standing(app)


def _note_staff_standing(app: Flask) -> None:
    """Note every staff login row standing now as live (`app.staff_heads`) for the staff's
    longest login: what a process before this one noted is gone, and a logged-in staff
    member's requests would prove nothing at the head until she logged in again."""
    session = app.extensions["raazdar.db"].new_session()
    try:
        rows = session.execute(
            select(SessionRow.id).where(SessionRow.staff_id.is_not(None))
        ).scalars()
        for row_id in rows:
            staff_heads.note_live(row_id, int(app.config["STAFF_SESSION_MAX_SECONDS"]))
    except SQLAlchemyError:
        return  # no schema yet, or the database away: each logs in again
    finally:
        session.close()


@dataclass(frozen=True)
class NewLogin:
    """A login row added but not yet committed, and the key its cookie will carry."""

    row_id: str
    key: bytes
    turn: str


def start_login(
    db: Session, grants: dict[str, Any], *, lifetime: int, idle: int, staff_id: str | None = None
) -> None:
    """Create a login row for `grants` and point this visitor's cookie at it."""
    login = add_login(db, grants, lifetime=lifetime, idle=idle, staff_id=staff_id)
    db.commit()
    if staff_id is not None:
        # Its requests prove it at the staff listener's head (`app.staff_heads`).
        staff_heads.note_live(login.row_id, lifetime)
    hand_out(login)


def add_login(
    db: Session,
    grants: dict[str, Any],
    *,
    lifetime: int,
    idle: int,
    staff_id: str | None = None,
    login_tag: str | None = None,
) -> NewLogin:
    """Add a login row for `grants` to the open transaction; the caller commits it.

    `login_tag`: a source's account tag (`end_tagged_logins`).
    """
    sweep_if_due(db)
    now = int(time.time())
    row_id, key, turn = new_id(), secrets.token_bytes(KEY_BYTES), _new_turn()
    payload = {
        "sid": row_id,
        "until": now + lifetime,
        "idle": idle,
        "seen": now,
        "turn": turn,
        "taken": True,
        "data": grants,
    }
    sealed = _seal(key, row_id, payload)
    # A statement, not an object to flush: the row is written and never read back here.
    db.connection().execute(
        insert(SessionRow),
        [
            {
                "id": row_id,
                "sealed": sealed,
                "expires_day": _last_day(now, lifetime),
                "staff_id": staff_id,
                "login_tag": login_tag,
            }
        ],
    )
    _note(row_id, sealed, payload)
    return NewLogin(row_id, key, turn)


def add_decoy_login(
    db: Session, grants: dict[str, Any], *, lifetime: int, idle: int, login_tag: str | None = None
) -> None:
    """Write a login row for `grants` and delete it, in the open transaction; the caller commits.

    A failed login's work, made a right one's: the same row written (and so the same
    commit flushed, the same WAL emptied after the answer), and none left behind. A
    right codename wrote and committed a row where a wrong one wrote nothing, and its
    answer came later by that much (tests/app/source/test_login_timing.py).
    """
    login = add_login(db, grants, lifetime=lifetime, idle=idle, login_tag=login_tag)
    db.execute(delete(SessionRow).where(SessionRow.id == login.row_id))
    _ends().forget(login.row_id)


def hand_out(login: NewLogin) -> None:
    """Point this visitor's cookie at a login row, once it is committed."""
    session[LOGIN_KEY] = {"sid": login.row_id, "key": b64encode(login.key), "turn": login.turn}
    g.pop("raazdar_login", None)


def current_login(db: Session, *, defer_touch: bool = False) -> dict[str, Any] | None:
    """What this visitor's login grants, or None (ending a login that is over).

    With `defer_touch`, a re-seal of the row (its idle deadline moved) is left in the
    open transaction, for the caller's own commit to carry; `settle_touch` commits it
    at the request's end if that commit did not come (a refusal, a rollback).
    """
    if "raazdar_login" in g:
        cached: dict[str, Any] | None = g.raazdar_login
        return cached
    _end_lapsed(db)
    grants = _open_login(db, defer_touch=defer_touch)
    if grants is None and LOGIN_KEY in session:
        session.pop(LOGIN_KEY, None)
        session[LAPSED_KEY] = True
    g.raazdar_login = grants
    return grants


def regrant(
    db: Session,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    alongside: Callable[[], None] | None = None,
) -> bool:
    """Change what this visitor's live login grants, keeping its deadlines; commit.

    `change` is given the grants as the row holds them now, not as this request
    first read them: a change made meanwhile by another request is built on, not
    undone. `alongside` writes what it will in the same transaction, before the
    row (again at each attempt). Say whether there was a login to change.
    """
    ref = _reference()
    if ref is None or current_login(db) is None:
        return False
    row_id, key = ref
    for _attempt in range(3):
        opened = _opened_row(db, row_id, key)
        if opened is None:
            return False
        payload, sealed = opened
        if alongside is not None:
            alongside()
        data = payload.get("data")
        payload["data"] = grants = change(data if isinstance(data, dict) else {})
        resealed = _seal(key, row_id, payload)
        if _write_over(db, row_id, sealed, resealed):
            db.commit()
            _note(row_id, resealed, payload)
            g.pop(_TOUCH, None)
            g.raazdar_login = grants
            return True
        db.rollback()  # another request re-sealed it meanwhile: build on what it wrote
    return False


def end_login(db: Session, *, commit: bool = True) -> None:
    """Delete this visitor's login row and forget it in the cookie.

    With `commit=False` the deletion joins the open transaction and the cookie
    is left alone: the caller commits, then hands out a new login.
    """
    ended = _end_lapsed(db, commit=False)
    ref = _reference()
    deleted = ref is not None and _delete_opened(db, *ref)
    if ref is not None:
        # A copy of the cookie taken before proves nothing at the head (`app.staff_heads`).
        staff_heads.note_ended(ref[0])
    if commit:
        if deleted or ended:
            db.commit()
        session.pop(LOGIN_KEY, None)
        g.pop("raazdar_login", None)


def end_tagged_logins(db: Session, tags: Sequence[str], *, keep: str) -> int:
    """Delete every login row carrying one of `tags` but the row `keep`; return how many.

    A source's login ends the account's others (`app.services.sources.login_tags`): a
    phone taken with a live login kept it, and the reply-opening key its row holds,
    until its idle deadline, and signing in elsewhere ended nothing. No commit.
    """
    ended = db.execute(
        delete(SessionRow)
        .where(SessionRow.login_tag.in_(tags), SessionRow.id != keep)
        .returning(SessionRow.id)
    ).scalars()
    rows = list(ended)
    for row_id in rows:
        _ends().forget(row_id)
    return len(rows)


def end_staff_logins(db: Session, staff_id: str) -> None:
    """Delete every login of a staff account (new password, new second factor); no commit."""
    db.execute(delete(SessionRow).where(SessionRow.staff_id == staff_id))


def end_other_staff_logins(db: Session, staff_id: str) -> int:
    """Delete every login of a staff account but this visitor's; return how many (no commit)."""
    ref = _reference()
    query = delete(SessionRow).where(SessionRow.staff_id == staff_id)
    if ref is not None:
        query = query.where(SessionRow.id != ref[0])
    return int(db.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def end_every_login(db: Session) -> None:
    """Delete every login row (no commit): the secret key was rotated (`raazdar rotate`).

    No cookie made under the old key opens again, so none comes back to end its row.
    """
    db.execute(delete(SessionRow))


def sweep(db: Session) -> int:
    """Delete the rows of logins that ended before today; return how many (no commit)."""
    result = db.execute(delete(SessionRow).where(SessionRow.expires_day < today()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sweep_if_due(db: Session) -> None:
    """Sweep ended logins in the open transaction unless this app's sweep today committed.

    A row ends by the day (`expires_day`) and every new row ends today or later,
    so once a sweep has committed on a day, sweeping again that day finds
    nothing: one sweep a day per worker deletes what one at every login did.
    """
    day = today()
    if current_app.extensions.get(_SWEPT_DAY) == day:
        return
    sweep(db)
    if _SWEPT_DAY not in db.info:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def _committed(committed: Session) -> None:
            # A savepoint's release is not the commit that makes the sweep stick.
            if not committed.in_nested_transaction() and committed.info.get(_SWEPT_DAY):
                app.extensions[_SWEPT_DAY] = committed.info[_SWEPT_DAY]

        def _rolled_back(rolled_back: Session, _previous: object) -> None:
            # Any rollback may have undone it (a savepoint's too): the next login sweeps.
            rolled_back.info[_SWEPT_DAY] = None

        event.listen(db, "after_commit", _committed)
        event.listen(db, "after_soft_rollback", _rolled_back)
    db.info[_SWEPT_DAY] = day


def _day(timestamp: int) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date()


def _last_day(now: int, lifetime: int) -> dt.date:
    """Return the day by which every login made today has ended, the same whatever the hour.

    The day its own lifetime ends would be the next day exactly for the logins of
    the day's last hours (a source's last two, a staff member's last eight).
    """
    return _day(now) + dt.timedelta(days=1 + lifetime // 86400)


def _seal(key: bytes, row_id: str, payload: dict[str, Any]) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    text += " " * (-len(text) % _PAD)
    return TokenKey(key).seal(text.encode(), _ROW_CONTEXT + row_id.encode())


def _ends() -> login_ends.Ends:
    """This app's note of its login rows and when each ends (`app.login_ends`)."""
    ends: login_ends.Ends | None = current_app.extensions.get(_ENDS)
    if ends is None:
        ends = current_app.extensions[_ENDS] = login_ends.Ends(current_app.extensions["raazdar.db"])
    return ends


def _note(row_id: str, sealed: str, payload: dict[str, Any]) -> None:
    """Note when the login of a row, sealed as `sealed`, ends: its idle or absolute deadline."""
    _ends().note(row_id, sealed, min(payload["until"], payload["seen"] + payload["idle"]))


def _end_lapsed(db: Session, *, commit: bool = True) -> bool:
    """Delete the row of a login whose cookie ran out, if the cookie's key opens it."""
    ref = _parsed(session.pop(_ENDED, None))
    if ref is None or not _delete_opened(db, *ref):
        return False
    if commit:
        db.commit()
    return True


def _delete_opened(db: Session, row_id: str, key: bytes) -> bool:
    """Delete a login row if `key` opens it (no commit); say whether it did."""
    # Only the cookie's own key may end a row: one minted with the secret key
    # names rows (a copy of the database lists them), never their keys.
    if _opened_row(db, row_id, key) is None:
        return False
    db.execute(delete(SessionRow).where(SessionRow.id == row_id))
    _ends().forget(row_id)
    return True


def _reference() -> tuple[str, bytes] | None:
    return _parsed(session.get(LOGIN_KEY))


def login_reference() -> tuple[str, bytes] | None:
    """This visitor's login row id and key, for work that outlives the request (`kept_on`)."""
    return _reference()


def kept_on(db: Session, row_id: str, key: bytes) -> dict[str, Any] | None:
    """What a login still grants while a download it began runs on; None once it has ended.

    Its idle deadline is pushed on as a page's would be (its turn is left as it is: no
    cookie takes this answer), so that a download longer than the deadline is not cut
    by it; an account's change, a logout or "end my other sessions" deletes the row,
    and the absolute deadline ends it. Commits a re-seal only.
    """
    opened = _opened_row(db, row_id, key)
    if opened is None:
        return None
    payload, read = opened
    now = int(time.time())
    until, idle, seen = payload.get("until"), payload.get("idle"), payload.get("seen")
    if not (isinstance(until, int) and isinstance(idle, int) and isinstance(seen, int)):
        return None
    if payload.get("sid") != row_id or now >= until or now >= seen + idle:
        return None
    if now - seen >= max(1, idle // 10):
        payload["seen"] = now
        sealed = _seal(key, row_id, payload)
        # Only over the row as read: a page's re-seal meanwhile moved the deadline already.
        touched = _write_over(db, row_id, read, sealed)
        db.commit()
        if touched:
            _note(row_id, sealed, payload)
    data = payload.get("data")
    return data if isinstance(data, dict) else None


def login_stands(db: Session, row_id: str) -> bool:
    """Whether the login row `row_id` is still there (no logout or account change deleted it)."""
    return db.connection().execute(_SEALED_ROW, {"id": row_id}).scalar_one_or_none() is not None


def _parsed(ref: object) -> tuple[str, bytes] | None:
    """A login reference's row id and key, or None if it is not one."""
    if not isinstance(ref, dict):
        return None
    try:
        row_id, key = str(ref["sid"]), b64decode(str(ref["key"]), length=KEY_BYTES)
    except (KeyError, CryptoError):
        return None
    return row_id, key


def keep_cookie() -> None:
    """Send this request's cookie back as it came, unless the request changed the session: a
    request refused for its pace, which re-sealed it for nothing (its idle deadline moves
    at the next page served)."""
    g.setdefault(_KEPT, True)


def login_of(app: Flask, token: str) -> str | None:
    """The login row a session cookie names, or None (none named, or the cookie does not open,
    or ran out): read where no request is, by `app.worker`, for a staff page's head
    (`app.page_pacing.head_key`), as `open_session` reads it. Every cookie the login's pages
    were given names the same row."""
    interface = app.session_interface
    if not isinstance(interface, SealedSessionInterface):
        return None
    try:
        payload = json.loads(interface._key(app).open(token, TOKEN_CONTEXT_SESSION))
    except (CryptoError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < time.time():
        return None
    data = payload.get("data")
    ref = _parsed(data.get(LOGIN_KEY)) if isinstance(data, dict) else None
    return None if ref is None else ref[0]


def touch_pending() -> bool:
    """Say whether this request holds a deferred re-seal of its login (`settle_touch`)."""
    return _TOUCH in g


def settle_touch(db: Session) -> None:
    """Commit a deferred re-seal (`current_login`) that the request's own commit did not carry.

    Whatever else the request left open is rolled back, never committed here. Called
    before the cookie is sealed, it gives the cookie the turn the row holds if this
    re-seal does not stand (another request's re-seal came first, or the write failed):
    a cookie with a turn its row never held ends the login at its next page.
    """
    pending: tuple[str, str, str] | None = g.pop(_TOUCH, None)
    if pending is None:
        return
    row_id, read, sealed = pending
    stored: str | None = read
    try:
        db.rollback()
        # Only over the row as the request read it: written over a re-seal made meanwhile
        # (another tab's page, whose answer moved the cookie's turn on), it ended the login.
        # That re-seal moved the idle deadline already; the request's own commit, if any
        # came, wrote `sealed`.
        stored = _stored(db, row_id)
        if stored == read:
            written = _write_over(db, row_id, read, sealed)
            db.commit()
            # Another request's re-seal may land between the look and the write.
            stored = sealed if written else _stored(db, row_id)
    except SQLAlchemyError:
        # The request's answer stands; the idle deadline moves at the next request, and
        # the row, looked at again, says which turn the answer must carry.
        db.rollback()
        with contextlib.suppress(SQLAlchemyError):
            stored = _stored(db, row_id)
            db.rollback()
    if stored != sealed:
        _hold_turn_of(row_id, stored)


def _write_over(db: Session, row_id: str, read: str, sealed: str) -> int:
    """Write `sealed` into the login row only if it still holds `read`; return how many rows
    changed (0: another request changed it meanwhile, and its change stands)."""
    return db.execute(  # type: ignore[no-any-return]
        update(SessionRow)
        .where(SessionRow.id == row_id, SessionRow.sealed == read)
        .values(sealed=sealed)
    ).rowcount  # type: ignore[attr-defined]


def _stored(db: Session, row_id: str) -> str | None:
    """The row `row_id` as sealed now, or None if it is gone."""
    return db.connection().execute(_SEALED_ROW, {"id": row_id}).scalar_one_or_none()


def _hold_turn_of(row_id: str, stored: str | None) -> None:
    """Give the cookie the turn of its login's row as `stored`, if it still points at it."""
    ref = _reference()
    if stored is None or ref is None or ref[0] != row_id:
        return
    try:
        payload = json.loads(TokenKey(ref[1]).open(stored, _ROW_CONTEXT + row_id.encode()))
    except (CryptoError, ValueError):
        return
    turn = payload.get("turn") if isinstance(payload, dict) else None
    if isinstance(turn, str):
        session[LOGIN_KEY] = {**session[LOGIN_KEY], "turn": turn}


def _new_turn() -> str:
    return b64encode(secrets.token_bytes(16))


def _turn_held(payload: dict[str, Any]) -> str | None:
    """The row's current turn, if this cookie may hold it; None if the row moved past its turn.

    A login's row holds a turn, moved on at each re-seal of a page's request, and the
    answer gives the cookie the new one. A copy of the cookie used beside its owner's
    holds a turn the row has moved past: the login ends for both, as a logout ends it
    (the copy cannot be told from its owner). The turn before opens it until the new
    one first comes back (`taken`), and its request is given the new one: an answer
    lost on the way (a circuit dropped, the page sent again later), or tabs loaded at
    once, end nothing. A row of before turns (none held) takes the cookie as it comes
    (""), and has one at its next re-seal.
    """
    turn = payload.get("turn")
    if turn is None:
        return ""
    cookie = session[LOGIN_KEY].get("turn")
    if not isinstance(turn, str) or not isinstance(cookie, str):
        return None
    if hmac.compare_digest(cookie, turn):
        return turn
    prev = payload.get("prev")
    if not payload.get("taken") and isinstance(prev, str) and hmac.compare_digest(cookie, prev):
        return turn
    return None


def _opened_row(db: Session, row_id: str, key: bytes) -> tuple[dict[str, Any], str] | None:
    """The row as it stands now, opened, and as sealed; None if it is gone or unopenable.

    A statement, not an object: every request of a signed-in visitor reads the row.
    """
    sealed = db.connection().execute(_SEALED_ROW, {"id": row_id}).scalar_one_or_none()
    if sealed is None:
        return None
    try:
        payload = json.loads(TokenKey(key).open(sealed, _ROW_CONTEXT + row_id.encode()))
    except (CryptoError, ValueError):
        return None
    return (payload, sealed) if isinstance(payload, dict) else None


def _open_login(db: Session, *, defer_touch: bool = False) -> dict[str, Any] | None:
    """Open the row the cookie names; delete it if its time is up; push the idle deadline."""
    ref = _reference()
    if ref is None:
        return None
    row_id, key = ref
    opened = _opened_row(db, row_id, key)
    if opened is None:
        # Gone (a logout elsewhere, a removal): its cookie proves nothing at the head.
        staff_heads.note_ended(row_id)
        return None
    payload, sealed = opened
    if payload.get("sid") != row_id:
        return None
    now = int(time.time())
    until, idle, seen = payload.get("until"), payload.get("idle"), payload.get("seen")
    if not (isinstance(until, int) and isinstance(idle, int) and isinstance(seen, int)):
        return None
    held = _turn_held(payload)
    if now >= until or now >= seen + idle or held is None:
        # Over, or its cookie copied and used beside it (`_turn_held`): ended for every
        # copy, its row (a source's reply-opening key) deleted as at a logout.
        # Statements, not ORM deletes: a logout racing this request must not fail it.
        db.execute(delete(SessionRow).where(SessionRow.id == row_id))
        db.commit()
        _ends().forget(row_id)
        staff_heads.note_ended(row_id)
        return None
    cookie_turn = session[LOGIN_KEY].get("turn")
    # Re-sealed only when the idle deadline moves by a tenth of itself, or a turn moved on
    # comes back for the first time: a page load is not a database write every time.
    due = now - seen >= max(1, idle // 10)
    taken = bool(held) and cookie_turn == held and not payload.get("taken")
    if due or taken:
        read = sealed
        if taken:
            payload["taken"] = True  # the turn before opens nothing from now on
        if due:
            # The turn moves with the re-seal, at no write of its own, a deferred one's too:
            # a POST's re-seal that moved none kept the idle deadline fresh, so a copy sending
            # the page buttons' POSTs was never found (`settle_touch` gives the cookie the
            # row's turn if another request's re-seal is the one that stands).
            payload.update(seen=now, prev=held, turn=_new_turn(), taken=False)
        sealed = _seal(key, row_id, payload)
        # Only over the row as read: written over a change made meanwhile (a wrong
        # password counted, a confirmation given: `regrant`), it undid that change.
        touched = _write_over(db, row_id, read, sealed)
        if not defer_touch:
            db.commit()
        elif touched:
            # One commit, and one flush of the disk, with the report the request carries.
            g.setdefault(_TOUCH, (row_id, read, sealed))
        if touched:
            held = payload["turn"]
        else:
            # Another request of this browser re-sealed it meanwhile (another tab): its turn.
            payload, sealed = _opened_row(db, row_id, key) or (payload, read)
            held = payload.get("turn") or held
    if held and held != cookie_turn:
        session[LOGIN_KEY] = {**session[LOGIN_KEY], "turn": held}
    _note(row_id, sealed, payload)
    data = payload.get("data")
    return data if isinstance(data, dict) else None
