"""The staff interface: login with two factors, the dashboard, and the admin pages.

It answers only on the staff listener (the client-authorised staff onion);
anywhere else every staff URL is a plain 404, indistinguishable from a page that
does not exist, even to a POST without a CSRF token (`app.listeners` checks
before anything reads the body).
"""

from flask import Blueprint, g, session

from app.staff.auth import PACED_OUT, current_staff

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_request
def _english_first() -> None:
    """Staff pages start in English (source pages start in Urdu); the switch offers Urdu."""
    session.setdefault("lang", "en")


@bp.context_processor
def _staff() -> dict[str, object]:
    """Give every staff page the logged-in account (or None; none to a request refused for
    its account's pace, whose busy page shows no menu: reading it was most of the refusal)."""
    return {"staff_account": None if g.get(PACED_OUT) else current_staff()}


# reauth too: loaded now, as no request may import a module (tests/app/test_preload.py).
from app.staff import admin, reauth, views  # noqa: E402, F401 - register the routes on bp
