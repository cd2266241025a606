"""A server put back from `raazdar backup`: it serves no one until the restore is finished.

A backup is the server on its day. Put back later, it holds the accounts that
expired and were purged since, and their codenames open them again, until a
purge takes them once more. deploy/README.md §1.7 says to purge before the
service starts; nothing made an operator who skipped it wait.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import delete, update

from app.cli import main
from app.errors import ConfigError
from app.instance import InstancePaths
from app.keyring import timestamp_path
from app.models import Item, Reply, Source, today
from app.operations.doctor import Status, diagnose
from app.services.replies import delete_own_reply
from crypto import SigningKey, make_timestamp
from tests.app.support import (
    Visitor,
    db_session,
    new_reviewer,
    refusal_to_serve,
    reply_to,
    reviewer_keys,
    source_id,
)

# The files and SQLite (PostgreSQL: test_backup_postgres.py, test_restore_postgres.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_restored_server_lets_no_purged_codename_in_before_its_purge(
    instance: Path,
    app: Flask,
    visitor: Visitor,
    runner: CliRunner,
    make_app: Callable[..., Flask],
) -> None:
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "the SHO took the money"))
    # The reviewers acknowledged the report, and the source stayed away past expiry.
    with db_session(app) as session:
        account = source_id(app, codename)
        session.execute(delete(Item).where(Item.source_id == account))
        gone = today() - dt.timedelta(days=3 * 365)
        session.execute(
            update(Source).where(Source.id == account).values(created_day=gone, active_day=gone)
        )
        session.commit()
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    purged = runner.invoke(main, ["--instance", str(instance), "purge"])
    assert purged.exit_code == 0, purged.output
    assert not Visitor(app.test_client()).logs_in(codename)

    # The disk is lost; the instance is put back from the backup. (The authorities make
    # the keyring timestamp that finishing the restore needs: the server has no key for it.)
    stamp = _stamp(instance, instance.parent, today())
    _put_back(instance, result.stdout_bytes)
    try:
        restored = make_app()
    except ConfigError as refused:
        said = str(refused)
        hint = refused.hint
    else:
        opened = Visitor(restored.test_client()).logs_in(codename)
        pytest.fail(
            "a server put back from a backup started before its purge"
            + (": the codename of an account purged since logs in again" if opened else "")
        )
    assert "put back from a backup" in said
    assert "raazdar purge" in said
    assert "deploy/README.md §1.7" in (hint or "")
    # Nor does it export before then: the bundle could not tell the workstation of it.
    exported = _cli(runner, instance, "export", "--out", str(instance.parent / "e.rzb"))
    assert exported.exit_code == 1, exported.output
    assert "put back from a backup" in exported.output
    assert not (instance.parent / "e.rzb").exists()
    # Nor applies a reply bundle: its replies would go with those the backup brought back.
    stick = instance.parent / "r.rzr"
    stick.write_bytes(b"")
    applied = _cli(runner, instance, "import-replies", str(stick))
    assert applied.exit_code == 1, applied.output
    assert "put back from a backup" in applied.output
    doctor = {check.name: check for check in diagnose(instance, today())}
    assert doctor["startup"].status is Status.FAIL, doctor["startup"]
    assert doctor["strays"].status is Status.OK, doctor["strays"]

    assert _cli(runner, instance, "keyring", "timestamp", str(stamp)).exit_code == 0
    purged = runner.invoke(main, ["--instance", str(instance), "purge"])
    assert purged.exit_code == 0, purged.output
    assert "restore: finished" in purged.output
    assert "tells the workstation of restore 1" in purged.output
    assert not InstancePaths(instance).restored.exists()
    assert not Visitor(make_app().test_client()).logs_in(codename)


def test_raazdar_serve_refuses_an_instance_put_back_and_not_purged(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    InstancePaths(instance).restored.write_bytes(b"")
    refused = refusal_to_serve(instance, monkeypatch)
    assert "put back from a backup" in str(refused)
    assert "raazdar purge" in (refused.hint or "")


def _stamp(instance: Path, where: Path, issued: dt.date) -> Path:
    """A timestamp for the keyring in force, issued on `issued`, in a file to install."""
    from tests.app.test_instance_keyring import in_force, timestamp_key

    stamp = make_timestamp(in_force(instance), timestamp_key(instance), issued=issued, days=5)
    path = where / f"timestamp-{in_force(instance).version}-{issued}.json"
    path.write_bytes(stamp.to_bytes())
    return path


def _cli(runner: CliRunner, instance: Path, *args: str) -> Result:
    return runner.invoke(main, ["--instance", str(instance), *args])


def _put_back(instance: Path, backup: bytes) -> None:
    """Lose the instance's disk, then put the backup back as deploy/README.md §1.7 says."""
    text = InstancePaths(instance).signing_key.read_text("ascii")
    pinned = str(SigningKey.from_text(text).verify_key.fingerprint)
    shutil.rmtree(instance)
    instance.mkdir(mode=0o700)
    restored = CliRunner().invoke(
        main, ["--instance", str(instance), "restore", "--signing-key", pinned], input=backup
    )
    assert restored.exit_code == 0, restored.output


def test_a_restore_finishes_only_once_the_newest_keyring_is_vouched_for_again(
    instance: Path, app: Flask, runner: CliRunner, tmp_path: Path
) -> None:
    """A backup holds the keyring of its day. A reviewer key rotated out since (lost with a
    laptop) is in force again once the server is put back: the chain to it verifies, its
    timestamp is still fresh, and the audit log that remembered the newer keyring went back
    with the database. The purge a restore needs finished it all the same."""
    from tests.app.test_instance_keyring import in_force, successor_file

    yesterday = today() - dt.timedelta(days=1)
    old = _stamp(instance, tmp_path, yesterday)
    # The demo's own, issued today, goes first: none issued before it is installed over it.
    timestamp_path(InstancePaths(instance)).unlink()
    assert _cli(runner, instance, "keyring", "timestamp", str(old)).exit_code == 0
    backup = _cli(runner, instance, "backup")
    assert backup.exit_code == 0, backup.stderr
    # A ceremony replaces the reviewer whose key was compromised: keyring v2.
    (compromised,) = (r.id for r in in_force(instance).recipients)
    _, replacement = new_reviewer()
    v2 = successor_file(instance, tmp_path, recipients=(replacement,))
    assert _cli(runner, instance, "keyring", "install", str(v2)).exit_code == 0
    fresh = _stamp(instance, tmp_path, today())
    assert _cli(runner, instance, "keyring", "timestamp", str(fresh)).exit_code == 0

    _put_back(instance, backup.stdout_bytes)
    assert in_force(instance).version == 1
    purged = _cli(runner, instance, "purge")
    if purged.exit_code == 0 and "restore: finished" in purged.output:
        pytest.fail(
            "a restore finished with the backup's keyring v1 in force, not v2: reports "
            f"would be sealed to {compromised}, whose key v2 replaced"
        )
    assert purged.exit_code == 1, purged.output
    assert InstancePaths(instance).restored.exists()
    assert "keyring timestamp" in purged.output
    # Installing the backup's own timestamp again proves nothing new either.
    assert _cli(runner, instance, "keyring", "timestamp", str(old)).exit_code == 0
    assert _cli(runner, instance, "purge").exit_code == 1

    assert _cli(runner, instance, "keyring", "install", str(v2)).exit_code == 0
    assert _cli(runner, instance, "keyring", "timestamp", str(fresh)).exit_code == 0
    purged = _cli(runner, instance, "purge")
    assert purged.exit_code == 0, purged.output
    assert "restore: finished" in purged.output
    assert not InstancePaths(instance).restored.exists()


def test_a_timestamp_issued_on_the_backups_day_does_not_finish_a_restore_made_after_a_later_keyring(
    instance: Path, app: Flask, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last night's backup holds keyring v1 and the timestamp the stick brought that day;
    today a ceremony replaces a compromised reviewer (v2); then the disk is lost and the
    backup put back. The day's timestamp, kept by the carrier (or taken from the backup
    itself), is still fresh and was issued on the backup's day, so the purge took it as
    the holder's word that v1 is the newest: it says only that v1 was the newest then."""
    from tests.app.test_instance_keyring import in_force, successor_file

    yesterday = today() - dt.timedelta(days=1)
    kept = _stamp(instance, tmp_path, yesterday)
    timestamp_path(InstancePaths(instance)).unlink()
    assert _cli(runner, instance, "keyring", "timestamp", str(kept)).exit_code == 0
    with monkeypatch.context() as night:
        night.setattr("app.operations.backup.today", lambda: yesterday)
        backup = _cli(runner, instance, "backup")
    assert backup.exit_code == 0, backup.stderr
    (compromised,) = (r.id for r in in_force(instance).recipients)
    _, replacement = new_reviewer()
    v2 = successor_file(instance, tmp_path, recipients=(replacement,))
    assert _cli(runner, instance, "keyring", "install", str(v2)).exit_code == 0
    fresh = _stamp(instance, tmp_path, today())
    assert _cli(runner, instance, "keyring", "timestamp", str(fresh)).exit_code == 0

    _put_back(instance, backup.stdout_bytes)
    assert in_force(instance).version == 1
    assert _cli(runner, instance, "keyring", "timestamp", str(kept)).exit_code == 0
    purged = _cli(runner, instance, "purge")
    if purged.exit_code == 0 and "restore: finished" in purged.output:
        pytest.fail(
            f"a timestamp issued on the backup's day ({yesterday}) finished a restore put back "
            f"today with keyring v1 in force, not v2: reports would be sealed to {compromised}"
        )
    assert purged.exit_code == 1, purged.output
    assert InstancePaths(instance).restored.exists()
    assert f"issued on {today()} or later" in purged.output
    assert "Traceback" not in purged.output

    assert _cli(runner, instance, "keyring", "install", str(v2)).exit_code == 0
    assert _cli(runner, instance, "keyring", "timestamp", str(fresh)).exit_code == 0
    purged = _cli(runner, instance, "purge")
    assert purged.exit_code == 0, purged.output
    assert "restore: finished" in purged.output


def _replied_then_backed_up(
    instance: Path, app: Flask, visitor: Visitor, runner: CliRunner, words: str
) -> tuple[str, str, Result]:
    """A source files a report, the reviewers reply `words` today, and the server is backed
    up: her codename, the reply's id and the backup command's result."""
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "the SHO took the money"))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply = reply_to(app, codename, words, signer, written=today())
    return codename, reply, _cli(runner, instance, "backup")


def test_a_reply_its_source_deleted_after_the_backup_is_not_back_after_the_restore(
    instance: Path,
    app: Flask,
    visitor: Visitor,
    runner: CliRunner,
    make_app: Callable[..., Flask],
) -> None:
    """A source reads the reviewers' reply and deletes it, so that whoever forces her codename
    out of her finds nothing. The server is then put back from last night's backup: the
    reply is back, sealed to her codename's key, and nothing tells her or the reviewers."""
    codename, reply, backup = _replied_then_backed_up(
        instance, app, visitor, runner, "meet the lawyer at the shrine"
    )
    assert backup.exit_code == 0, backup.stderr
    with app.app_context(), db_session(app) as session:
        assert delete_own_reply(session, source_id(app, codename), reply)

    stamp = _stamp(instance, instance.parent, today())
    _put_back(instance, backup.stdout_bytes)
    assert _cli(runner, instance, "keyring", "timestamp", str(stamp)).exit_code == 0
    purged = _cli(runner, instance, "purge")
    assert "restore: finished" in purged.output, purged.output

    restored = make_app()
    source = Visitor(restored.test_client())
    assert source.logs_in(codename)
    shown = source.get("/account")
    if "meet the lawyer at the shrine" in shown:
        pytest.fail(
            "a reply its source deleted after the backup is back, readable with her codename"
        )
    with db_session(restored) as session:
        assert session.get(Reply, reply) is None
    assert not list(InstancePaths(instance).store.glob(f"{reply}*"))
    assert "1 reply(ies) the backup brought back were deleted" in purged.output


def test_a_restore_that_brings_back_an_onion_key_rotated_since_says_so(
    instance: Path, app: Flask, runner: CliRunner, tmp_path: Path
) -> None:
    """The onion key was rotated after the backup (it leaked with a laptop, say): keyring v2
    lists only the new address. Put back, the instance holds the old key again, and would
    publish the address whose key the adversary has; the restore finished in silence."""
    from crypto.onion import OnionServiceKey
    from tests.app.test_instance_keyring import listing, successor_file

    backup = _cli(runner, instance, "backup")
    assert backup.exit_code == 0, backup.stderr
    moved = listing(instance, onions=(OnionServiceKey.generate().address,))
    v2 = successor_file(instance, tmp_path, instance=moved)
    assert _cli(runner, instance, "keyring", "install", str(v2)).exit_code == 0
    fresh = _stamp(instance, tmp_path, today())

    _put_back(instance, backup.stdout_bytes)
    assert _cli(runner, instance, "keyring", "install", str(v2)).exit_code == 0
    assert _cli(runner, instance, "keyring", "timestamp", str(fresh)).exit_code == 0
    purged = _cli(runner, instance, "purge")
    assert "restore: finished" in purged.output, purged.output
    said = " ".join(purged.output.split())
    if "onion" not in said:
        pytest.fail("the restore finished with an onion key the keyring no longer lists")
    assert "lists none of this host's onion addresses" in said
    assert "§1.9" in said


def test_an_older_releases_backup_loses_no_reply_to_a_purge_before_its_migration(
    instance: Path, app: Flask, visitor: Visitor, runner: CliRunner
) -> None:
    """An earlier release's backup (schema 0019, a mark with no day) put back on this one:
    a purge run before `raazdar migrate` deletes no reply and finishes nothing; after it,
    the restore finishes as any other."""
    from app.config import config_for
    from app.migrate import downgrade
    from app.operations.restore import NOTE

    _, reply, backup = _replied_then_backed_up(instance, app, visitor, runner, "meet the lawyer")
    stamp = _stamp(instance, instance.parent, today())
    _put_back(instance, backup.stdout_bytes)
    paths = InstancePaths(instance)
    paths.restored.write_text(NOTE)
    assert _cli(runner, instance, "keyring", "timestamp", str(stamp)).exit_code == 0
    downgrade(config_for(instance).DATABASE_URL, "0019")

    early = _cli(runner, instance, "purge")
    assert early.exit_code == 1, early.output
    assert "raazdar migrate" in early.output
    assert paths.restored.exists()
    assert list(paths.store.glob(f"{reply}*")), "a purge before the migration took a reply"
    assert _cli(runner, instance, "migrate").exit_code == 0
    purged = _cli(runner, instance, "purge")
    assert "restore: finished" in purged.output, purged.output
    assert "1 reply(ies) the backup brought back were deleted" in purged.output


def test_a_restore_gives_back_no_workspace_key_a_rewrap_replaced(
    instance: Path, app: Flask, runner: CliRunner, make_app: Callable[..., Flask]
) -> None:
    """A backup holds the review workspace key of its day. The reviewers rewrapped since
    (revoking a colleague who had copied the earlier key) and the administrators gave the
    new key; put back, the server held the earlier one again, and a bundle the copier
    sealed with it spoke for the reviewers there."""
    from app.models import AckKey
    from crypto import SigningKey

    earlier, rewrapped = SigningKey.generate().verify_key, SigningKey.generate().verify_key
    assert _cli(runner, instance, "set-ack-key", earlier.to_text()).exit_code == 0
    backup = _cli(runner, instance, "backup")
    assert backup.exit_code == 0, backup.stderr
    assert _cli(runner, instance, "set-ack-key", rewrapped.to_text()).exit_code == 0
    stamp = _stamp(instance, instance.parent, today())
    _put_back(instance, backup.stdout_bytes)
    assert _cli(runner, instance, "keyring", "timestamp", str(stamp)).exit_code == 0
    purged = _cli(runner, instance, "purge")
    assert "restore: finished" in purged.output, purged.output
    with db_session(make_app()) as session:  # the files put back, not the app's before
        held = session.get(AckKey, 1)
        assert held is None or held.key != earlier.to_text(), (
            "the restored server holds the workspace key a rewrap replaced: a bundle sealed "
            "by whoever copied it applies there again"
        )
    assert "raazdar set-ack-key" in purged.output
