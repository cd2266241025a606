"""Read at start what a request would otherwise read from the code's files on first use.

The code (/opt/raazdar) sits on a mount that records access times, and the
service user cannot open root's files with O_NOATIME: a template, the codename
word list or a catalog first read by a request would keep the time of that
request (under `relatime`, of the first one after each start or each day). Each
worker reads them all while the app is built, so their access times say only
when the server started, which its database files say already. The assets and
the API's description are read by their own modules (`app.static_files`,
`app.api.views`); tests/app/test_preload.py watches a worker for any other read.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale, get_translations
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from crypto.codename import wordlist


class _CompiledTemplates(BytecodeCache):
    """Each template's compiled code, kept by the process for the next app it builds.

    A worker builds one app, but the tests build thousands: compiling every
    template each time would add a tenth of a second to each. Jinja still reads
    the source, and compiles it again if it changed. Every app of a process comes
    from the one factory, with the same Jinja settings, so one code serves them all.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill `bucket` with the code compiled before, if any."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled."""
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def _templates(app: Flask) -> None:
    """Compile every template of the app and its blueprints, and keep them all."""
    env = app.jinja_env
    env.bytecode_cache = _COMPILED
    # Unbounded: Jinja's default cache keeps 400, and one dropped would be read again.
    env.cache = {}
    for name in env.list_templates():
        env.get_template(name)


def _catalogs(app: Flask) -> None:
    """Load each language's catalog; Flask-Babel keeps it for the process."""
    for language in app.config["LANGUAGES"]:
        with app.app_context(), force_locale(language):
            get_translations()


def init_app(app: Flask) -> None:
    """Read the templates, the catalogs and the codename word list now, not on a request."""
    _templates(app)
    _catalogs(app)
    wordlist()
