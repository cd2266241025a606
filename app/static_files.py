"""The stylesheet and other assets, sent without the stamps Flask's static view adds.

Flask's own static view sends an ETag and a Last-Modified header built from the
file's modification time, and answers If-Modified-Since with 304: either would
tell any visitor when this server was installed or last upgraded. Assets are
small, so they are read whole and sent plainly.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Final

from flask import Flask, Response, abort
from werkzeug.security import safe_join

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"


def _asset(filename: str) -> Response:
    """Send one file of `app/static`, or a 404."""
    path = safe_join(str(STATIC_DIR), filename)
    if path is None or not Path(path).is_file():
        abort(404)
    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Response(Path(path).read_bytes(), mimetype=kind)


def init_app(app: Flask) -> None:
    """Serve `/static/<file>` under the endpoint name templates use (`static`)."""
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=_asset)
