"""The confirmation of a report filed: drawn once per worker for each way it looks, token put in.

Drawing `source/submitted.html` for every report (Jinja's calls, Babel's look-ups,
`url_for`) took about 0.7 ms of a returning source's 6 to 8 ms of CPU, for a page whose
every byte but its logout form's CSRF token is the same for everyone shown it in one
language, with one browser warning, by one instance (docs/benchmarks.md, the uploads'
seventeenth pass). It is drawn once for each such context, with a mark where the token
goes, and each request puts its own token in. Padding (`app.source.sizes`) and the
headers are added to each response as before.

What the page may depend on is what the context processors give a template, as plain
values (`_context_key`); a page of this template that read the request, the session or
`g` itself would be drawn wrong, and tests/app/source/test_confirmation.py refuses
any name the templates read that is not such a value or a known function.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from typing import Final

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

TEMPLATE: Final = "source/submitted.html"
# Where the logout form's token goes in a page drawn once: random, so no page holds it.
_MARK: Final = f"csrf-mark-{secrets.token_hex(16)}"
# The most pages a worker keeps: contexts are few (two languages, four warnings, one
# name), and a flood of odd ones (a query string in `here`) only turns them over.
_KEPT: Final = 32
# Where each app keeps its drawn pages (tests build many apps, each with its own settings).
_EXTENSION: Final = "raazdar.confirmations"
# The template context's values a page is drawn for, as `Flask.update_template_context`
# gives them; anything else (the request, the session, `g`, the config) is no key.
_PLAIN: Final = (str, int, float, bool, type(None))


class _Drawn:
    """One app's drawn confirmations, by context, each split where the token goes."""

    def __init__(self) -> None:
        self._pages: OrderedDict[tuple[object, ...], tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> tuple[str, ...] | None:
        with self._lock:
            pieces = self._pages.get(key)
            if pieces is not None:
                self._pages.move_to_end(key)
            return pieces

    def put(self, key: tuple[object, ...], pieces: tuple[str, ...]) -> None:
        with self._lock:
            self._pages[key] = pieces
            while len(self._pages) > _KEPT:
                self._pages.popitem(last=False)


def page() -> str:
    """The confirmation page for this request, with this request's own CSRF token."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.jinja_env.auto_reload:
        return render_template(TEMPLATE)  # a template edited in development is drawn anew
    drawn: _Drawn = app.extensions.setdefault(_EXTENSION, _Drawn())
    key = _context_key(app)
    pieces = drawn.get(key)
    if pieces is None:
        pieces = tuple(_draw_marked(app).split(_MARK))
        drawn.put(key, pieces)
    return str(escape(generate_csrf())).join(pieces)


def _context_key(app: Flask) -> tuple[object, ...]:
    """What a page of the template is drawn from: the context's plain values, and the root
    `url_for` writes links under."""
    context: dict[str, object] = {}
    app.update_template_context(context)
    plain = sorted((k, v) for k, v in context.items() if isinstance(v, _PLAIN))
    return (request.script_root, *plain)


def _draw_marked(app: Flask) -> str:
    """The page drawn in this request's context, with `_MARK` for its token."""
    name = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    had = g.get(name)
    # Flask-WTF's `csrf_token()` returns what `g` holds for the request, if anything.
    setattr(g, name, _MARK)
    try:
        return render_template(TEMPLATE)
    finally:
        if had is None:
            g.pop(name, None)
        else:
            setattr(g, name, had)
