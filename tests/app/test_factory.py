"""The app factory: each app it builds is wired to its own instance alone."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app import create_app
from app.config import config_for
from app.operations.setup import initialise
from app.settings import set_setting
from crypto import KdfParams
from tests.app.support import db_session


def test_two_apps_in_one_process_keep_their_own_databases(app: Flask, tmp_path: Path) -> None:
    other_root = tmp_path / "other"
    initialise(other_root, signed=None, database_url=None, kdf=KdfParams.TESTING, demo=True)
    other = create_app(config_for(other_root))
    for each, name in [(app, "First Instance"), (other, "Second Instance")]:
        with db_session(each) as session:
            set_setting(session, "organisation", name)
            session.commit()
    assert "First Instance" in app.test_client().get("/").get_data(as_text=True)
    assert "Second Instance" in other.test_client().get("/").get_data(as_text=True)


def test_the_app_takes_its_settings_from_the_instance(app: Flask, instance: Path) -> None:
    assert app.config["INSTANCE_DIR"] == instance.resolve()
    assert app.config["DEMO"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert app.instance_path == str(instance.resolve())
