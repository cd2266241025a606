"""The Raazdar server: an app factory that only wires config, extensions and blueprints."""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

from app import (
    cross_site,
    handlers,
    i18n,
    kdf_pool,
    limits,
    listeners,
    logs,
    preload,
    security,
    sessions,
    static_files,
)
from app.config import Config, config_for
from app.db import Database
from app.listeners import ListenerMiddleware
from app.services import context
from app.sessions import SealedSessionInterface
from app.uploads import LargeReadsMiddleware, SealingRequest

csrf = CSRFProtect()


def create_app(config: Config | None = None) -> Flask:
    """Build the app for an instance (from `RAAZDAR_INSTANCE` unless `config` is given)."""
    config = config if config is not None else config_for()
    config.validate()
    # No built-in static view: `app.static_files` sends assets without time stamps.
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR), static_folder=None)
    app.config.from_object(config)
    app.request_class = SealingRequest
    app.wsgi_app = LargeReadsMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = ListenerMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, app.config["STAFF_BINDS"]
    )
    app.session_interface = SealedSessionInterface()
    logs.configure()
    kdf_pool.prepare(config.INSTANCE_DIR, app.config["KDF_SLOTS"], app.config["KDF_QUEUE"])
    # One per app: a shared instance would move every app to the last one's database.
    Database().init_app(app)
    sessions.init_app(app)
    context.init_app(app)
    listeners.init_app(app)  # first: staff URLs off the staff listener are plain 404s
    cross_site.init_app(app)  # before the body is read: another site's POST is refused unread
    limits.init_app(app)  # before CSRF: it must run before the body is parsed
    csrf.init_app(app)
    i18n.init_app(app)
    from app.source import sizes as source_sizes

    source_sizes.init_app(app)  # before security: the headers it adds are weighed
    security.init_app(app)
    static_files.init_app(app)
    from app.api import bp as api_bp
    from app.source import bp as source_bp
    from app.staff import bp as staff_bp

    app.register_blueprint(source_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    handlers.register(app)
    preload.init_app(app)  # last: the templates of every blueprint
    return app
