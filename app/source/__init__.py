"""The source interface: what an insider sees, in Urdu and English, with JavaScript off."""

from flask import Blueprint, current_app

from app.db import db_session
from app.settings import get_setting

bp = Blueprint("source", __name__)


@bp.app_context_processor
def _site() -> dict[str, object]:
    """What every page shows about the instance: its name, limits, demo status."""
    session = db_session()
    return {
        "organisation": get_setting(session, "organisation"),
        "upload_limit_mib": int(get_setting(session, "upload_limit_mib")),
        "max_files": current_app.config["MAX_FILES"],
        "demo": current_app.config["DEMO"],
    }


_URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@bp.app_template_filter("urdu_digits")
def _urdu_digits(text: str) -> str:
    """Write Western digits as Urdu (Extended Arabic-Indic) ones."""
    return text.translate(_URDU_DIGITS)


from app.source import views  # noqa: E402, F401 - registers the routes on bp
