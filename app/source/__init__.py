"""The source interface: what an insider sees, in Urdu and English, with JavaScript off."""

from typing import Any

from flask import Blueprint, current_app, g
from sqlalchemy.exc import SQLAlchemyError

from app.db import db_session
from app.settings import DEFAULTS, get_setting, in_force

bp = Blueprint("source", __name__)


def _settings() -> dict[str, Any]:
    """The settings pages show; error pages never read the database (it may be what failed)."""
    from app.handlers import NO_DATABASE

    # What the pages showed last, for error pages and when a read fails.
    last_seen: dict[str, Any] = current_app.extensions.setdefault(
        "raazdar.site", {key: DEFAULTS[key] for key in ("organisation", "upload_limit_mib")}
    )
    if not g.get(NO_DATABASE):
        session = db_session()
        try:
            last_seen["organisation"] = get_setting(session, "organisation")
            last_seen["upload_limit_mib"] = in_force(session, "upload_limit_mib")
        except SQLAlchemyError:
            session.rollback()
    return dict(last_seen)


@bp.app_context_processor
def _site() -> dict[str, object]:
    """What every page shows about the instance: its name, limits, demo status."""
    settings = _settings()
    return {
        "organisation": settings["organisation"],
        "upload_limit_mib": int(settings["upload_limit_mib"]),
        "max_files": current_app.config["MAX_FILES"],
        "demo": current_app.config["DEMO"],
    }


_URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@bp.app_template_filter("urdu_digits")
def _urdu_digits(text: str) -> str:
    """Write Western digits as Urdu (Extended Arabic-Indic) ones."""
    return text.translate(_URDU_DIGITS)


from app.source import views  # noqa: E402, F401 - registers the routes on bp
