"""Views of the source interface: build the form, validate, call one service, render."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import refresh

from app import kdf_pool, page_pacing, sessions
from app.db import db_session
from app.errors import (
    FAULT_RETRY_AFTER,
    AppError,
    KeyringUnavailable,
    PassingFault,
    ReportTooLarge,
    SubmissionError,
    fault,
)
from app.i18n import PAGE_LANGUAGE, current_language
from app.kdf_pool import KdfBusy
from app.logs import where
from app.models import Source, new_id
from app.services import keys as keys_service
from app.services import replies as replies_service
from app.services import sources as sources_service
from app.services import submissions as submissions_service
from app.settings import get_setting, taxonomy
from app.source import bp, confirmation, paging
from app.source.forms import (
    EVERY_REPLY,
    ActionForm,
    DeleteReplyForm,
    LoginForm,
    NewSourceForm,
    ResumeForm,
    SubmissionForm,
)
from app.uploads import OverLimit
from crypto import generate_codename, generate_digit_codename, normalize_codename

F = TypeVar("F", bound=Callable[..., Any])
# The keyed digests of the codenames generated for this visitor (a few, for tabs).
_OFFERED = "offered"
_MAX_OFFERS = 4
_ONCE_PERSON = b"raazdar submission once v1:"
# Set by a login whose codename named no account, for the page its redirect leads to.
_LOGIN_FAILED = "login_failed"
# The most a failed login's codename may take in the cookie, as JSON (`_failed_login`).
_MAX_TYPED = 128
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")

log = logging.getLogger(__name__)


def accepts_reports(view: F) -> F:
    """Mark a view whose POST body may carry files to seal (see `app.limits`)."""
    view.accepts_reports = True  # type: ignore[attr-defined]
    return view


def gives_back(page: Callable[[], ResponseReturnValue]) -> Callable[[F], F]:
    """Name the page that gives a view's report back when its form's CSRF token is refused.

    (Or that does what the form asked, where that is safe from anywhere: `logout`.)

    Another tab logging out (or in) replaces the cookie, and with it the token a
    report's form was shown with: the bare "form expired" page lost what the
    source wrote (Back refills no form). `app.handlers` shows `page` instead.
    """

    def mark(view: F) -> F:
        view.give_back = page  # type: ignore[attr-defined]
        return view

    return mark


def _signed_in(*, defer_touch: bool = False) -> sources_service.SignedIn | None:
    """The signed-in source, checked against their account's public key on every request.

    `defer_touch`: see `sessions.current_login` (committed by `_settle_touch`).
    """
    db = db_session()
    grants = sessions.current_login(db, defer_touch=defer_touch)
    if grants is None:
        return None
    who = sources_service.resume(db, grants.get("source"))
    if who is None:
        sessions.end_login(db)
    return who


def _sign_in(who: sources_service.SignedIn) -> None:
    db = db_session()
    login = _add_login(who)
    db.commit()
    _hand_out(login)


def _add_login(who: sources_service.SignedIn) -> sessions.NewLogin:
    """Replace this visitor's login row, in the open transaction (see `_hand_out`)."""
    db = db_session()
    sessions.end_login(db, commit=False)
    config = current_app.config
    tags = sources_service.login_tags(who)
    login = sessions.add_login(
        db,
        {"source": who.to_session()},
        lifetime=int(config["SOURCE_SESSION_MAX_SECONDS"]),
        idle=int(config["SESSION_IDLE_SECONDS"]),
        login_tag=tags[0],
    )
    # The account's other logins end: a phone taken with one opens nothing once its
    # owner signs in elsewhere (docs/PROTOCOL.md §18.1).
    sessions.end_tagged_logins(db, tags, keep=login.row_id)
    return login


def _sign_in_nobody() -> None:
    """Do a login's work for a codename that opened nothing: its row written, and deleted.

    A right codename's login row is written and committed; a wrong one's answer, with
    nothing written, came back sooner by that commit and the WAL's emptying after it.
    """
    db = db_session()
    config = current_app.config
    nobody = sources_service.SignedIn.decoy()
    tags = sources_service.login_tags(nobody)
    sessions.add_decoy_login(
        db,
        {"source": nobody.to_session()},
        lifetime=int(config["SOURCE_SESSION_MAX_SECONDS"]),
        idle=int(config["SESSION_IDLE_SECONDS"]),
        login_tag=tags[0],
    )
    sessions.end_tagged_logins(db, tags, keep="")
    db.commit()


def _hand_out(login: sessions.NewLogin) -> None:
    """Give the cookie a committed login; nothing else of the old session but what is kept."""
    # The CSRF token and the codenames offered survive: a report still open in
    # another tab must not be refused.
    kept = {k: session[k] for k in ("lang", "csrf_token", _OFFERED) if k in session}
    session.clear()
    session.update(kept)
    sessions.hand_out(login)


def _offer_codename(form: NewSourceForm) -> None:
    """Put a new codename in the form and bind it to this visitor's session."""
    # Urdu pages offer digits, which Pakistanis handle daily (CNICs, phone numbers).
    urdu = current_language() == "ur"
    codename = generate_digit_codename() if urdu else generate_codename()
    form.codename.data = codename
    offered = session.get(_OFFERED)
    kept = offered[-(_MAX_OFFERS - 1) :] if isinstance(offered, list) else []
    session[_OFFERED] = [*kept, sources_service.offer_digest(codename)]


def _was_offered(codename: str) -> bool:
    offered = session.get(_OFFERED)
    return isinstance(offered, list) and any(
        sources_service.was_offered(codename, digest) for digest in offered
    )


def _give_once(form: SubmissionForm) -> None:
    """Put a fresh one-time token in a form that has none yet."""
    if not form.once.data:
        form.once.data = secrets.token_urlsafe(24)


def _once_id(form: SubmissionForm, report: submissions_service.Report) -> str | None:
    """The submission id of this form with this content: a keyed digest, not the token.

    The same form sent again with the same content is the same submission; a form
    changed after Back (another message, other files) is a new one.
    """
    token = (form.once.data or "").strip()
    if not token:
        return None
    files = sorted((f.metadata.filename or "", f.metadata.content_type) for f in _uploads())
    content = json.dumps([token, report.encode().decode(), files], ensure_ascii=False)
    key = hashlib.blake2b(current_app.config["SECRET_KEY"], digest_size=32).digest()
    return hmac.new(key, _ONCE_PERSON + content.encode(), hashlib.sha256).hexdigest()[:32]


def _over_limit() -> bool:
    """Say whether this report's files were over the upload limit, and dropped (`app.limits`)."""
    return isinstance(getattr(request, "sealed_uploads", None), OverLimit)


def _uploads() -> list[Any]:
    staged = getattr(request, "sealed_uploads", None)
    return staged.files() if staged is not None else []


def _drop_uploads() -> None:
    """Discard the files of a form already filed: they are sealed copies of stored ones."""
    for upload in _uploads():
        upload.discard()


def _report(form: SubmissionForm, terms: dict[str, Any]) -> submissions_service.Report:
    cut = getattr(request, "cut_short", None)
    if cut is not None:
        raise cut  # never filed: its files, and perhaps fields, never came whole
    return submissions_service.Report(
        message=(form.message.data or "").replace("\r\n", "\n"),
        fields=form.fields_for_report(terms),
        language=current_language(),
    )


@bp.after_request
def _settle_touch(response: Response) -> Response:
    """Commit a login's re-seal that no commit of the request carried (`_signed_in`).

    Before the cookie is sealed: a re-seal that does not stand gives it the row's turn.
    """
    if sessions.touch_pending():
        sessions.settle_touch(db_session())
    return response


@bp.teardown_request
def _settle_touch_left(_exc: BaseException | None) -> None:
    """Commit a re-seal that `_settle_touch` never came to (a request ended by an error)."""
    if sessions.touch_pending():
        sessions.settle_touch(db_session())


@bp.get("/")
def index() -> ResponseReturnValue:
    """The landing page: what this is, who reads it, how to stay safe."""
    return render_template("source/index.html")


def _first_report_given_back() -> ResponseReturnValue:
    """A first report whose form's token was refused: its words back, under a new codename.

    The codename the old page carried was offered to a session that is gone, and
    only a codename offered to this one may make an account. A signed-in visitor
    has a codename already: the form goes back as a later report's.
    """
    if _signed_in() is not None:
        return _report_after_login_ended(token_refused=True)
    form = NewSourceForm()
    form.set_choices(taxonomy(db_session()), current_language())
    if _filed_already(form):
        return _confirmed()
    _offer_codename(form)
    return _stale_codename_page(form)


def _stale_codename_page(form: NewSourceForm) -> ResponseReturnValue:
    """A first report's form under a new codename, naming the files it carried to attach again.

    Its files were dropped (unsealed behind a refused token, `app.uploads.TokenRefused`) or
    are not filed: the page named none, and the report went again without its photo.
    """
    page = render_template(
        "source/submit.html", form=form, refusal="stale-codename", attach_again=_files_named()
    )
    return page, 400


@bp.route("/submit", methods=["GET", "POST"])
@accepts_reports
@gives_back(_first_report_given_back)
def submit() -> ResponseReturnValue:
    """First visit: a codename shown once, and the form that creates the account."""
    terms = taxonomy(db_session())
    # Someone who has, or may have, a codename is never shown another one: they would
    # memorise the wrong one, or report twice under two. A signed-in source is shown her
    # report form in place (a redirect said "has a live login"), built instead of this one.
    if request.method == "GET" and _signed_in() is not None:
        return _report_form_in_place(terms)
    form = NewSourceForm()
    form.set_choices(terms, current_language())
    if request.method == "GET":
        if session.get(sessions.LAPSED_KEY):
            if request.args.get("new") != "1":
                return render_template("source/lapsed.html")
            session.pop(sessions.LAPSED_KEY, None)
        _offer_codename(form)
        _give_once(form)
    elif _switched_language():
        return _switched_first_report(form, terms)
    elif (cut := getattr(request, "cut_short", None)) is not None:
        return _refused_first_report(form, cut)
    elif form.validate_on_submit():
        codename = form.codename.data or ""
        if not _was_offered(codename):
            # Not a codename this server gave this visitor: /submit never signs
            # anyone in, and refuses before any key derivation is spent on it.
            _offer_codename(form)
            return _stale_codename_page(form)
        try:
            return _file_first_report(form, _report(form, terms), codename)
        except submissions_service.AlreadyFiled as exc:
            _sign_in(exc.who)
            return _confirmed()
        except (SubmissionError, KdfBusy, KeyringUnavailable) as exc:
            return _refused_first_report(form, exc)
        except Exception as exc:
            if fault(exc) is None:
                raise
            return _refused_first_report(form, _passing(exc))
    else:
        _first_report_for_nobody(form, terms)
    return render_template("source/submit.html", form=form)


def _first_report_for_nobody(form: NewSourceForm, terms: dict[str, Any]) -> None:
    """A first report's filing, done for one its form refused and kept nowhere.

    Filed, a report takes a derivation, its sealing forced to disk and a commit; refused
    by its form (a codename written in it, a choice not offered) it was given back at
    once, some 50 ms sooner with the test derivation and Argon2id's 0.2-1 s sooner on a
    real instance, and the time said it was not filed where its answer no longer does
    (tests/app/source/test_login_timing.py). A busy pool or a full disk is not waited out.
    """
    # A choice not offered has no label to seal: its fields' few bytes are left out.
    offered = not any(name in form.errors for name in ("agency", "province", "when", "complicity"))
    report = submissions_service.Report(
        message=(form.message.data or "").replace("\r\n", "\n"),
        fields=form.fields_for_report(terms) if offered else {},
        language=current_language(),
    )
    try:
        sources_service.derive(generate_codename())
        submissions_service.file_for_nobody(report, _uploads())
        _sign_in_nobody()
    except (SubmissionError, KdfBusy, KeyringUnavailable):
        pass  # a report filed would be given back for it too
    except Exception as exc:
        if fault(exc) is None:
            raise
        _passing(exc)  # logged and rolled back: the form goes back all the same


def _account_in_place(who: sources_service.SignedIn, terms: dict[str, Any]) -> ResponseReturnValue:
    """The account page, as `/account` shows it, for a signed-in source who asked for another."""
    form = SubmissionForm(formdata=None)
    form.set_choices(terms, current_language())
    _give_once(form)
    return _account_page(form, who)


def _report_form_in_place(terms: dict[str, Any]) -> ResponseReturnValue:
    """The account's report form, its replies left to `/account`, for a signed-in source.

    The whole account page at `/submit` (every reply opened and weighed, `_account_page`) took
    125 ms to a new visitor's form's 28, and the time said the browser held a login. This
    is built as that form is: one render of the report form, nothing opened, no page turn
    taken (tests/app/source/test_login_timing.py).
    """
    form = SubmissionForm(formdata=None)
    form.set_choices(terms, current_language())
    _give_once(form)
    page = render_template(
        "source/account.html",
        form=form,
        action=ActionForm(),
        refusal=None,
        attach_again=[],
        notice=None,
        pieces=[],
        page=1,
        pages=0,
        replies_elsewhere=True,
    )
    return page, 200


def _file_first_report(
    form: NewSourceForm, report: submissions_service.Report, codename: str
) -> ResponseReturnValue:
    """File a first report under the codename offered, or send back what filed it already.

    The form's submission is looked for once, under the account's lock (`submit`): the same
    form again (its answer lost, or Back and send) finds the codename's account and is
    `AlreadyFiled`; one filed under another codename is filed anew.
    """
    if _over_limit():
        return _refused_first_report(form, ReportTooLarge())
    logins: list[sessions.NewLogin] = []
    keys = sources_service.derive(codename)
    submissions_service.submit(
        db_session(),
        report=report,
        files=_uploads(),
        keys=keys,
        submission_id=_once_id(form, report),
        # The login row commits with the submission: one flush of the database, not two.
        before_commit=lambda who: logins.append(_add_login(who)),
    )
    _hand_out(logins[0])
    return _confirmed()


def _filed_already(form: SubmissionForm) -> bool:
    """Say whether this form, as sent, was filed already: its words are then not given back.

    A report confirmed in place leaves its POST in the tab's history. On a phone taken
    before New Identity, Back to it and the browser's offer to send it again, once the
    login had ended (the cookie gone, its token stale), gave the report's words back.
    """
    if request.method != "POST" or getattr(request, "cut_short", None) is not None:
        return False
    submission = _once_id(form, _report(form, taxonomy(db_session())))
    return (
        submission is not None
        and submissions_service.filed_by(db_session(), submission) is not None
    )


def _confirmed() -> ResponseReturnValue:
    """The confirmation of a report filed, in place of the form that sent it.

    A redirect to `/submitted` and a second answer, where a report refused is given back
    in one, told whoever counts the answers (a guard relay, the source's ISP) which it was.
    In place, it takes what the form given back would (`app.source.sizes`). Sent again (a
    reload, Back and Send), the form's one-time token files nothing twice (`_once_id`).
    Drawn once per worker for each way it looks, with this request's token (`confirmation`).
    """
    return confirmation.page(), 200


def _switched_language() -> bool:
    """Switch the language if this POST is its report form's switch (`_switch.html`).

    The switch was a link, and following it loaded the page again, empty: what the
    source had written was lost (Back refills no form). Sent as the form's button,
    it gives the form back in the other language and files nothing.
    """
    code = request.form.get("switch_lang")
    if request.method != "POST" or code not in current_app.config["LANGUAGES"]:
        return False
    session["lang"] = code
    refresh()
    return True


def _files_named() -> list[str]:
    """The names of the files a form carried: sealed as they came, or, sent by the language
    switch (urlencoded, where a file input sends its name alone), only named."""
    names = [upload.metadata.filename for upload in _uploads()]
    return [n for n in [*names, *request.form.getlist("files")] if n]


def _switched_first_report(form: NewSourceForm, terms: dict[str, Any]) -> ResponseReturnValue:
    """A first report's form in the language just chosen, under the codename it showed."""
    form.set_choices(terms, current_language())
    refusal = "switched"
    if not _was_offered(form.codename.data or ""):
        _offer_codename(form)  # only a codename offered to this session may make an account
        refusal = "stale-codename"
    return render_template(
        "source/submit.html", form=form, refusal=refusal, attach_again=_files_named()
    )


def _passing(exc: Exception) -> PassingFault:
    """The refusal a full disk or a busy database (`fault`) makes of a report, logged as the
    app's handler logs one: the report's form goes back to the source, not a busy page."""
    reason = fault(exc)
    log.warning("%s: %s", reason, where(exc))
    db_session().rollback()
    return PassingFault(reason)


def _refused_first_report(form: NewSourceForm, exc: AppError) -> ResponseReturnValue:
    """The form as it was sent, the same codename in it, and why nothing was stored."""
    refused = _Refused.of(exc)
    page = render_template(
        "source/submit.html", form=form, refusal=refused.kind, attach_again=refused.files
    )
    return page, refused.status, refused.headers


@dataclass(frozen=True)
class _Refused:
    """What a page gives back with a refused report's form: why, which files, status, headers.

    A report refused because the server is busy (its circuit made an account a
    moment ago, every derivation slot stayed taken, the keyring changed while
    it streamed in) must not cost the source what they wrote: an error page in
    the form's place would, and Back refills no form (autocomplete is off). A
    browser never fills a file input again, so the page names the files to
    attach anew.
    """

    kind: str
    files: list[str]
    status: int
    headers: dict[str, str]

    @classmethod
    def of(cls, exc: AppError) -> _Refused:
        """Read the refusal `exc` makes of the report this request carried."""
        names = [upload.metadata.filename for upload in _uploads()]
        if exc.status != 503:
            # Cut short by the server (a body that fell behind): its files came in part.
            dropped = names if exc.gives_form_back else []
            return cls(str(exc), [n for n in dropped if n], exc.status, {})
        retry_after = getattr(exc, "retry_after", None) or FAULT_RETRY_AFTER
        return cls("busy", [n for n in names if n], 503, {"Retry-After": str(retry_after)})


@bp.get("/submitted")
def submitted() -> ResponseReturnValue:
    """The confirmation page, for a source who reloads it or comes back to it."""
    if _signed_in() is None:
        return _login_in_place()
    return render_template("source/submitted.html")


def _login_in_place() -> ResponseReturnValue:
    """The login page, for a visitor with no login at a page that needs one.

    A `302` to `/login` and a second answer, where a signed-in source got one, told
    whoever counts the answers that this browser held no login. The form posts to `/login`.
    """
    return render_template("source/login.html", form=LoginForm(), failed=False)


def _login_given_back() -> ResponseReturnValue:
    """A login whose form's token was refused: the codename typed back, not "form expired".

    Another tab logging out (or in) replaces the cookie, and with it the token the login
    form was shown with: the bare refusal lost eight words, or 29 digits, typed on a phone.
    Nothing is tried (no derivation): the page says so, and Continue sends it again.
    """
    return render_template("source/login.html", form=LoginForm(), failed=False, stale=True), 400


@bp.route("/login", methods=["GET", "POST"])
@gives_back(_login_given_back)
def login() -> ResponseReturnValue:
    """Coming back with a codename."""
    form = LoginForm()
    if _switched_language():
        return render_template("source/login.html", form=form, failed=False)
    if form.validate_on_submit():
        try:
            who = sources_service.log_in(db_session(), form.codename.data or "")
        except KdfBusy as exc:
            # The busy page had the source type the codename again each minute of a flood.
            page = render_template("source/login.html", form=form, failed=False, busy=True)
            return page, exc.status, {"Retry-After": str(exc.retry_after)}
        if who is not None:
            _sign_in(who)
        else:
            _sign_in_nobody()
            session[_LOGIN_FAILED] = _failed_login(form)
        # Right, wrong or mistyped, the same answer, the same next request and a page of the
        # same size after it (`account`, padded): the cells a guard relay counts said which.
        return redirect(url_for("source.account"), code=303)
    return render_template("source/login.html", form=form, failed=False)


def _failed_login(form: LoginForm) -> dict[str, object]:
    """What the page after a failed login says: why, and the codename typed, to correct.

    Kept in the cookie for that one redirect (`_forget_failed_login`), and only if short
    enough to leave the cookie its one size (`app.sessions`): a codename is some 80
    characters at most, and a page that lost it had the source type eight words again.
    """
    failure: dict[str, object] = {"typo": form.mistyped()}
    typed = normalize_codename(form.codename.data or "")
    # A visitor still signed in is shown the account, not the codename.
    if sessions.LOGIN_KEY not in session and len(json.dumps(typed)) <= _MAX_TYPED:
        failure["typed"] = typed
    return failure


@bp.before_request
def _forget_failed_login() -> None:
    """Drop a failed login's codename from the cookie on any page but the one that shows it."""
    if request.endpoint != "source.account" and _LOGIN_FAILED in session:
        session.pop(_LOGIN_FAILED)


def _login_failed_page(failure: object) -> ResponseReturnValue:
    """The login page after a wrong or mistyped codename, the codename typed in its box.

    An account page is built first, for nobody, and thrown away: a right codename's
    redirect leads to one, its report form rendered with every category and district,
    and the small login page came back sooner by that much (a median of 28 ms against
    11, tests/app/source/test_login_timing.py).
    """
    _account_page_for_nobody()
    form = LoginForm(formdata=None)
    failed = "unknown"
    if isinstance(failure, dict):
        failed = "typo" if failure.get("typo") else "unknown"
        typed = failure.get("typed")
        form.codename.data = typed if isinstance(typed, str) else ""
    return render_template("source/login.html", form=form, failed=failed)


def _account_page_for_nobody() -> None:
    """Build an account page for nobody, as a signed-in source's is built, and throw it away."""
    nobody = replace(sources_service.SignedIn.decoy(), source_id=_nobody_of_this_browser())
    sources_service.resume(db_session(), nobody.to_session())  # as `_signed_in` asks
    _account_in_place(nobody, taxonomy(db_session()))


def _nobody_of_this_browser() -> str:
    """The id whose pages the page after this browser's failed logins is paced as.

    The cookie that page was asked with can be sent again, down any number of circuits,
    each time building an account page for nobody (`_login_failed_page`): a random id
    each time gave each a budget of its own (`app.page_pacing`), and one wrong codename
    had 308 built in six seconds. Its CSRF token, which the cookie carries, names the
    browser; a new one takes a new session and a derivation more to fail again.
    """
    token = session.get("csrf_token")
    if not isinstance(token, str):
        return new_id()
    # The form of an id, and nothing of the token.
    return hashlib.blake2b(token.encode(), digest_size=16, person=b"raazdar-nobody").hexdigest()


@bp.route("/account", methods=["GET", "POST"])
@accepts_reports
@gives_back(lambda: _report_after_login_ended(token_refused=True))
def account() -> ResponseReturnValue:
    """Replies, and the form to send more."""
    # A report's commit carries the login's re-seal too, if one is due.
    who = _signed_in(defer_touch=request.method == "POST")
    failed_login = request.method == "GET" and session.pop(_LOGIN_FAILED, False)
    if who is None:
        if request.method == "POST":
            return _report_after_login_ended()
        if failed_login:
            # Where a right codename's login leads, padded as the account page is.
            return _login_failed_page(failed_login)
        # Built in 2 ms to a signed-in source's account page's 100 or more, the login page
        # in place said by its time that this browser held no login (test_login_timing.py).
        _account_page_for_nobody()
        return _login_in_place()
    terms = taxonomy(db_session())
    form = SubmissionForm()
    if _switched_language():
        form.set_choices(terms, current_language())
        return _account_page(form, who, _Refused("switched", _files_named(), 200, {}))
    form.set_choices(terms, current_language())
    if (number := _turned_page()) is not None:
        return _account_page(form, who, _written_so_far(), number=number)
    if request.method == "POST" and (cut := getattr(request, "cut_short", None)) is not None:
        return _account_page(form, who, _Refused.of(cut))
    if form.validate_on_submit():
        return _file_later_report(form, who, _report(form, terms))
    _give_once(form)
    return _account_page(form, who)


def _turned_page() -> int | None:
    """The page of replies a POST of the account page's "Earlier" or "Later" button asks for.

    They were links to `/account?page=N`, and a browser's history, on a phone taken at a
    checkpoint, kept each: "page=3" said the account held three pages of replies. The
    number now goes in the body of the report form they send (`account.html`), as the
    language switch's does, and the address stays `/account`.
    """
    if request.method != "POST" or "page" not in request.form:
        return None
    # Any page is a turn, never a report: one that is no number shows the newest.
    number = request.form.get("page", type=int)
    return -1 if number is None else number


def _written_so_far() -> _Refused | None:
    """What the page given back by a page turn says: nothing, unless a report was begun."""
    if (request.form.get("message") or "").strip() or _files_named():
        return _Refused("switched", _files_named(), 200, {})
    return None


def _file_later_report(
    form: SubmissionForm,
    who: sources_service.SignedIn,
    report: submissions_service.Report,
    *,
    sized_as: int | None = None,
) -> ResponseReturnValue:
    """File a signed-in source's report, or give its form back with why nothing was stored.

    With `sized_as`, the report filed is confirmed in place, on a page of that many bytes,
    not by a redirect (`_report_after_login_ended`).
    """
    if _over_limit():
        return _account_page(form, who, _Refused.of(ReportTooLarge()))
    try:
        # The form's submission is looked for once, under the account's lock: the
        # same form sent again (its answer lost, or Back and send) files nothing.
        submissions_service.submit(
            db_session(),
            report=report,
            files=_uploads(),
            signed_in=who,
            submission_id=_once_id(form, report),
        )
    except submissions_service.AlreadyFiled:
        pass  # this form was filed already, by an earlier request or one sent at once
    except (SubmissionError, KeyringUnavailable) as exc:
        return _account_page(form, who, _Refused.of(exc))
    except Exception as exc:
        if fault(exc) is None:
            raise
        return _account_page(form, who, _Refused.of(_passing(exc)))
    if sized_as is not None:
        page = confirmation.page()
        return page + " " * (sized_as - len(page.encode())), 200
    return _confirmed()


def _report_after_login_ended(*, token_refused: bool = False) -> ResponseReturnValue:
    """A later report sent once its login had ended: given back, to send with the codename.

    With JavaScript off nothing keeps a login alive while a source writes: past
    its idle or absolute deadline, a report was answered with the login page and
    lost (Back refills no form). Nothing is stored until the codename written in
    the page given back logs in; then the report is filed as from the account page.
    A form whose CSRF token was refused (`token_refused`) is only given back.
    """
    terms = taxonomy(db_session())
    form = ResumeForm()
    form.set_choices(terms, current_language())
    if _filed_already(form):
        return _confirmed()
    failed: str | None = None
    if token_refused:
        form.codename.data = ""  # a first report's form carries the codename its page showed
    elif _switched_language():
        form.set_choices(terms, current_language())
    elif "codename" in request.form and form.validate_on_submit():
        try:
            who = sources_service.log_in(db_session(), form.codename.data or "")
        except KdfBusy as exc:
            return _resume_page(form, _Refused.of(exc))
        if who is not None:
            # Filed, it is confirmed on a page the size of a wrong codename's, and answered
            # as that one is: a redirect and a small page said "that codename worked".
            sized_as = len(_resume_html(form, None, "unknown").encode())
            _sign_in(who)
            form.codename.data = ""
            return _file_later_report(form, who, _report(form, terms), sized_as=sized_as)
        failed = "typo" if form.mistyped() else "unknown"
        _file_for_nobody(form, terms)
    page = _resume_html(form, None, failed)
    # A codename tried is answered 200, as a filed report's confirmation in its place is.
    return page, 200 if failed else 401


def _file_for_nobody(form: ResumeForm, terms: dict[str, Any]) -> None:
    """A right codename's login and filing, done for a wrong one and kept nowhere.

    Its report and files are sealed, forced to disk and retired, and a login row is
    written and deleted in a commit: a right codename's report was filed in 99 ms, and a
    wrong one's given back in 29 (tests/app/source/test_login_timing.py).
    """
    try:
        if getattr(request, "cut_short", None) is None:  # a right one's is never filed
            submissions_service.file_for_nobody(_report(form, terms), _uploads())
    except (SubmissionError, KeyringUnavailable):
        pass  # a right codename's report would be given back for it too
    except Exception as exc:
        if fault(exc) is None:
            raise
    _sign_in_nobody()


def _resume_page(form: ResumeForm, refused: _Refused) -> ResponseReturnValue:
    """The page giving back a report whose login ended, refused for a while."""
    return _resume_html(form, refused, None), refused.status, refused.headers


def _resume_html(form: ResumeForm, refused: _Refused | None, failed: str | None) -> str:
    """The page giving back a report whose login ended, with a box for the codename."""
    return render_template(
        "source/resume.html",
        form=form,
        failed=failed,
        refusal=refused.kind if refused else "logged-out",
        attach_again=_files_named(),
    )


def _account_page(
    form: SubmissionForm,
    who: sources_service.SignedIn,
    refused: _Refused | None = None,
    *,
    number: int | None = None,
) -> ResponseReturnValue:
    """The account page: page `number` of the replies (None or -1: the newest), and the form."""
    # Every page opens as many replies, some 30 ms of CPU: one account's cookie sent down
    # many circuits took the workers' CPU from everyone (`app.page_pacing`).
    paced = page_pacing.take_page_turn(who.source_id, kdf_pool.current_circuit())
    if paced and request.method != "POST":
        raise kdf_pool.paced_out(paced)
    if paced and (refused is None or refused.kind == "switched"):
        # A report's form is given back with what it carried, told to send again later.
        refused = _Refused.of(kdf_pool.paced_out(paced))
    replies = [] if paced else replies_service.read_replies(db_session(), who)
    weighed = 0 if paced else int(current_app.config["SOURCE_REPLIES_WEIGHED"])
    stand_ins = replies_service.open_stand_ins(max(0, weighed - len(replies)))
    account = db_session().get(Source, who.source_id)
    action = ActionForm()

    def frame(pieces: list[paging.Piece], page: int, pages: int) -> int:
        return len(render(pieces=pieces, page=page, pages=pages).encode())

    def card(piece: paging.Piece) -> int:
        # And the line break the page's loop puts after each.
        return len(render_template("source/_reply.html", piece=piece, action=action).encode()) + 1

    def render(**shown: object) -> str:
        return render_template(
            "source/account.html",
            form=form,
            action=action,
            refusal=refused.kind if refused else None,
            attach_again=refused.files if refused else [],
            notice=account.notice if account is not None else None,
            **shown,
        )

    # The newest page unless a button asked for another: what came last is read in one
    # request. An address's `?page=N` is not read: no link leads there any more.
    newest = number is None or number < 0
    shown = paging.page_of(
        replies, None if newest else number, frame=frame, card=card, stand_ins=stand_ins
    )
    page = render(pieces=shown.pieces, page=shown.page, pages=shown.pages)
    if refused is None:
        return page, 200
    return page, refused.status, refused.headers


@bp.post("/replies/delete")
def delete_reply() -> ResponseReturnValue:
    """Delete a reply for real, or every reply of the source: files and rows."""
    who = _signed_in()
    if who is None:
        # Where a deletion leads, which shows the login page in place: a `302` to `/login`
        # was ten bytes short of the `303` to `/account`, and said the login had ended.
        return redirect(url_for("source.account"), code=303)
    form = DeleteReplyForm()
    if not form.validate_on_submit():
        abort(400)
    if form.reply.data == EVERY_REPLY:
        replies_service.delete_every_reply(db_session(), who)
    else:
        # A reply not there (deleted by a press before, in this tab or another) or not hers
        # is answered as one deleted: a `404` page, where a deletion takes a `303` and the
        # account page, told whoever counts the answers that it was gone already. The
        # account page after it shows what is left.
        replies_service.delete_reply(db_session(), who, form.reply.data or "")
    return redirect(url_for("source.account"), code=303)


def _logout_of_a_stale_tab() -> ResponseReturnValue:
    """A "Log out" whose form's token was refused: the login ends, if this site's page sent it.

    Pressed in a tab whose token another tab's logout (and login again) replaced, it was
    refused as a form expired, and the login it was pressed to end stayed live on the
    phone. Ending a login is nothing another site may make a browser do, and none can:
    its POSTs are refused before any view (`app.cross_site`), its forms carry no cookie
    (`SameSite=Strict`), and this asks the browser's word that the form was this site's.
    """
    if request.headers.get("Sec-Fetch-Site") != "same-origin":
        # No word of where it came from: refused as any form's stale token is (`app.handlers`).
        return render_template("error.html", status=400, kind="CSRFError"), 400
    return _log_out()


@bp.post("/logout")
@gives_back(_logout_of_a_stale_tab)
def logout() -> ResponseReturnValue:
    """End the session and advise Tor Browser's New Identity."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return _log_out()


def _log_out() -> ResponseReturnValue:
    """End this browser's login and session; show the advice in the language it read."""
    sessions.end_login(db_session())
    lang = current_language()
    session.clear()
    # Shown in place, in the language of the page it came from: a `303` to
    # `/logged-out?lang=ur` left in the browser's history an address no visitor but a
    # source's holds, naming the language. The switch leads to the landing page,
    # which anyone's may hold (a GET of `/logout` is not found).
    g.setdefault(PAGE_LANGUAGE, lang)
    refresh()
    page = render_template("source/logged_out.html", language_from_url=True, here="/")
    # A phone taken before New Identity keeps no cookie, cache or storage of the site.
    return page, 200, {"Clear-Site-Data": '"cache", "cookies", "storage"'}


@bp.get("/logged-out")
def logged_out() -> ResponseReturnValue:
    """Advice after logging out (in the language `?lang=` names): Tor Browser's New Identity.

    Logging out shows it in place now (`logout`); this address is kept for a browser
    that reloads an older one.
    """
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        g.setdefault(PAGE_LANGUAGE, lang)
        refresh()
    return render_template("source/logged_out.html", language_from_url=PAGE_LANGUAGE in g)


@bp.get("/resources")
def resources() -> ResponseReturnValue:
    """Legal-aid and victim-support contacts, as administrators wrote them."""
    key = "resources_ur" if current_language() == "ur" else "resources_en"
    return render_template("source/resources.html", text=get_setting(db_session(), key))


@bp.get("/keys")
def keys() -> ResponseReturnValue:
    """The keyring in force and the pinned authority fingerprints, for sources who check."""
    return render_template("source/keys.html", info=keys_service.public_keys())


@bp.get("/keys.json")
def keys_json() -> ResponseReturnValue:
    """The same as `/keys`, for programs."""
    return keys_service.public_keys_json()


@bp.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the interface language and go back to the page the visitor was on."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    target = request.args.get("next", "")
    # A path on this site only: no scheme, no "//host", and no backslash, control
    # character or space that a browser would drop or fold into "//host".
    if not _LOCAL_PATH.fullmatch(target):
        target = url_for("source.index")
    return redirect(target, code=303)
