"""The stylesheet and other assets, read once at start and sent without time stamps.

Flask's own static view sends an ETag and a Last-Modified header built from the
file's modification time, and answers If-Modified-Since with 304: either would
tell any visitor when this server was installed or last upgraded. Reading a
file on each request would leave the time of the first one in its access time
(app/preload.py says why). Assets are small, so they are read whole when the
app is built and sent plainly from memory.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Final

from flask import Flask, Response, abort
from flask.typing import ResponseReturnValue

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"


def load(directory: Path) -> dict[str, tuple[bytes, str]]:
    """Read every file under `directory`: its path in a URL, its bytes and its media type."""
    return {
        path.relative_to(directory).as_posix(): (
            path.read_bytes(),
            mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def init_app(app: Flask) -> None:
    """Serve `/static/<file>` under the endpoint name templates use (`static`)."""
    assets = load(STATIC_DIR)

    def asset(filename: str) -> ResponseReturnValue:
        """Send one file of `app/static`, or a 404."""
        found = assets.get(filename)
        if found is None:
            abort(404)
        content, kind = found
        return Response(content, mimetype=kind)

    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=asset)
