"""Languages: Urdu (right to left) and English, chosen per visitor and kept in the session."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import Babel

babel = Babel()

RTL = frozenset({"ur"})
# Set on `g` by a page shown in a language its URL names, not the session's
# (the page after logging out, when the browser holds no cookie of the site).
PAGE_LANGUAGE = "raazdar_page_language"


def current_language() -> str:
    """The visitor's chosen language, or the instance default."""
    # A language chosen since (the switch on that page) wins over the URL's.
    chosen = session.get("lang") or g.get(PAGE_LANGUAGE)
    if chosen in current_app.config["LANGUAGES"]:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and give every template `lang`, `dir` and the switch link."""
    babel.init_app(app, locale_selector=current_language)

    @app.context_processor
    def _language() -> dict[str, object]:
        lang = current_language()
        other = "en" if lang == "ur" else "ur"
        return {
            "lang": lang,
            "dir": "rtl" if lang in RTL else "ltr",
            "other_lang": other,
            "here": request.full_path.rstrip("?") if request else "/",
        }
