"""A keyring rolled back on disk with its timestamp removed too: the database remembers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from app import create_app
from app.cli import main
from app.config import config_for
from app.demo import DEMO_PASSPHRASE
from app.errors import ConfigError, KeyringUnavailable
from app.instance import InstancePaths
from app.keyring import manifest_path, timestamp_path
from app.models import AuditEntry, today
from app.operations.doctor import Status, diagnose
from app.services import audit
from app.services.context import services
from crypto import KeyFile, SignedManifest
from tests.app.support import (
    Visitor,
    assert_clean_page,
    assert_nothing_stored,
    db_session,
    install_successor,
)


def _install_v2(instance: Path) -> Path:
    """Sign keyring v2 and install it as an administrator does (`raazdar keyring install`)."""
    paths = InstancePaths(instance)
    v1 = SignedManifest.from_bytes(manifest_path(paths, 1).read_bytes())
    v2 = install_successor(instance, v1.manifest.recipients)
    manifest_path(paths, 2).unlink()  # written by the helper: installed properly below
    carried = instance.parent / "keyring-v2.json"
    carried.write_bytes(v2.to_bytes())
    installed = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "install",
                                          str(carried)])  # fmt: skip
    assert installed.exit_code == 0, installed.output
    return carried


def test_a_keyring_rolled_back_with_its_timestamp_removed_takes_nothing(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    """Whoever can write the instance directory removes keyring v2 (which may drop a revoked
    reviewer) and the timestamp that vouched for it: the chain to v1 verifies as well as
    ever, and browser reports were sealed to v1's reviewers again."""
    carried = _install_v2(instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2
    paths = InstancePaths(instance)
    manifest_path(paths, 2).unlink()
    timestamp_path(paths).unlink(missing_ok=True)

    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503, "a browser report was sealed to the rolled-back keyring"
    assert_clean_page(response, "the SHO")
    assert_nothing_stored(app, instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] is None
    shown = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert "older than the v2 the audit log records installed here" in shown.output, shown.output
    (check,) = [c for c in diagnose(instance, today()) if c.name == "keyring"]
    assert check.status is Status.FAIL, check.message
    assert "v2" in check.message

    # Installing v2 again is the way back.
    again = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "install",
                                      str(carried)])  # fmt: skip
    assert again.exit_code == 0, again.output
    visitor.filed(visitor.send(visitor.start(), "the SHO"))


def test_production_refuses_to_start_on_a_keyring_rolled_back_with_its_timestamp(
    production: Path, offline_manifest: SignedManifest, tmp_path: Path
) -> None:
    """Config fails closed: a server whose newer keyring files were removed (timestamp and
    all) started and served pages, its files verifying as well as ever."""
    signers = [
        signing
        for path in sorted((tmp_path / "offline").glob("authority-*.key"))
        if (signing := KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE).signing)
    ]
    v2 = install_successor(production, offline_manifest.manifest.recipients, signers=signers[:2])
    paths = InstancePaths(production)
    manifest_path(paths, 2).unlink()
    carried = tmp_path / "keyring-v2.json"
    carried.write_bytes(v2.to_bytes())
    installed = CliRunner().invoke(main, ["--instance", str(production), "keyring", "install",
                                          str(carried)])  # fmt: skip
    assert installed.exit_code == 0, installed.output
    create_app(config_for(production))
    manifest_path(paths, 2).unlink()
    timestamp_path(paths).unlink(missing_ok=True)
    with pytest.raises(ConfigError, match="the audit log records installed here"):
        create_app(config_for(production))


def _locked(*_: object) -> int | None:
    """The audit log's read failing as a database locked or unreachable makes it fail."""
    raise OperationalError("SELECT detail FROM audit_log", {}, Exception("database is locked"))


def _refused(*_: object) -> int | None:
    """The audit log's read failing as a permission taken back makes it fail."""
    raise ProgrammingError(
        "SELECT detail FROM audit_log", {}, Exception("permission denied for table audit_log")
    )


@pytest.mark.parametrize("unreadable", [_locked, _refused])
def test_a_keyring_checked_while_the_audit_log_cannot_be_read_seals_nothing(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    monkeypatch: pytest.MonkeyPatch,
    unreadable: Callable[..., int | None],
) -> None:
    """Whoever removes keyring v2 and its timestamp also makes the audit log unreadable for
    the moment the files are read again (a lock held, a permission taken back): the rollback
    check added no constraint, and the keyring so checked was kept for the day."""
    _install_v2(instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2
    paths = InstancePaths(instance)
    manifest_path(paths, 2).unlink()
    timestamp_path(paths).unlink(missing_ok=True)

    with monkeypatch.context() as blip:
        blip.setattr(audit, "newest_keyring", unreadable)
        response = visitor.send(visitor.start(), "the SHO")
        assert response.status_code == 503, "a report was sealed to a keyring nothing checked"
        assert_clean_page(response, "the SHO")
    # The database answers again: the rollback is seen, though no file changed since.
    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503, "the keyring checked during the blip was kept"
    assert_nothing_stored(app, instance)


def test_a_moment_the_audit_log_cannot_be_read_locks_nobody_out(
    app: Flask, visitor: Visitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failing closed is for the moment the log cannot be read: the next request reads it again."""
    with monkeypatch.context() as blip:
        blip.setattr(audit, "newest_keyring", _refused)
        refused = visitor.send(visitor.start(), "the SHO")
        assert refused.status_code == 503
        with app.app_context(), pytest.raises(KeyringUnavailable, match="could not be read"):
            services().manifest()
        blip.setattr(audit, "newest_keyring", _locked)
        busy = visitor.send(visitor.start(), "the SHO")
        assert (busy.status_code, busy.headers.get("Retry-After")) == (503, "60")
    visitor.filed(visitor.send(visitor.start(), "the SHO"))


@pytest.mark.parametrize("how", ["deleted", "renamed"])
def test_a_keyring_rolled_back_with_its_audit_entry_taken_out_takes_nothing(
    app: Flask, instance: Path, visitor: Visitor, how: str
) -> None:
    """Whoever can write the instance directory and the database removes keyring v2, its
    timestamp, and only the `keyring-installed` entry (or renames its action), leaving the
    chain unmended: until `audit verify`, the staff audit page or the next export looked,
    browser reports were sealed to v1's reviewers again."""
    _install_v2(instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2
    paths = InstancePaths(instance)
    manifest_path(paths, 2).unlink()
    timestamp_path(paths).unlink(missing_ok=True)
    with db_session(app) as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == audit.KEYRING_INSTALLED)
        ).scalar_one()
        if how == "deleted":
            session.delete(entry)
        else:
            entry.action = "keyring-shown"
        session.commit()

    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503, "a browser report was sealed to the rolled-back keyring"
    assert_clean_page(response, "the SHO")
    assert_nothing_stored(app, instance)
    shown = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert "audit log" in shown.output, shown.output
