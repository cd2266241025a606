"""`raazdar doctor`: a healthy demo instance passes; each unsafe state is named and fails or warns.

A demo instance passes with exactly one demo-specific warning (`mode`: its
reviewer keys lie beside it). Tor is replaced by a fake that has bootstrapped,
so that the verdict does not depend on whether this machine runs a tor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Engine, create_engine, delete, event, text, update
from sqlalchemy.orm import Session

from app import db as app_db
from app.cli import main
from app.demo import DEMO_PASSPHRASE, TIMESTAMP_KEY_NAME
from app.instance import InstancePaths
from app.keyring import load_keyring, timestamp_path
from app.models import AuditEntry, Item, Source, Throttle, today
from app.operations.doctor import Check, Status, Surroundings, diagnose, failed
from app.operations.serve import GUNICORN_CONF
from app.operations.sweep import compact
from app.operations.tor.clients import StaffClients
from app.operations.tor.control import Health, Tor
from app.services import audit, settings_admin
from app.services import staff as staff_service
from app.settings import SOURCE_EXPIRY_DELAY_DAYS
from app.store import EnvelopeStore
from app.subkeys import read_lists
from crypto.keyfile import KeyFile
from crypto.keys import SigningKey
from crypto.timestamp import make_timestamp
from tests.app.operations.test_keyring_revokes_staff import demo_reviewer_signing_key
from tests.app.operations.test_sweep import autovacuum_visits
from tests.app.staff_support import make_staff
from tests.app.support import db_session, free_blocks, install_successor, new_reviewer
from tests.app.test_database_space import database_disk_at

CHECKS = [
    "permissions",
    "strays",
    "mode",
    "database",
    "startup",
    "keyring",
    "timestamp",
    "subkeys",
    "secure-delete",
    "commit-times",
    "vacuum-times",
    "table-counts",
    "statement-log",
    "server-log",
    "wal-times",
    "audit",
    "retention",
    "acknowledgement",
    "ack-key",
    "item-files",
    "resources",
    "staff-reviewers",
    "staff-devices",
    "staging",
    "sweep",
    "space",
    "store",
    "atime",
    "code",
    "swap",
    "journal",
    "gunicorn",
    "tor",
]


SWAPS_HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"


JOURNAL_AS_ASKED = "[Journal]\nStorage=volatile\nMaxRetentionSec=2day\n"
# Debian 12's /etc/systemd/journald.conf: every setting commented out, at its default.
DEBIAN_JOURNALD_CONF = "[Journal]\n#Storage=auto\n#Compress=yes\n#MaxRetentionSec=0\n"


class FakeTor:
    """A tor that says how far it has bootstrapped."""

    bootstrap = 100

    def health(self) -> Health:
        return Health(bootstrap=self.bootstrap, summary="Loading relay descriptors")

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _no_debug_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask reads FLASK_DEBUG from the process environment itself."""
    for name in ("FLASK_DEBUG", "GUNICORN_CMD_ARGS", "RAAZDAR_TOR_CONTROL", "RAAZDAR_BIND"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_tor(monkeypatch: pytest.MonkeyPatch) -> FakeTor:
    fake = FakeTor()
    monkeypatch.setattr(Tor, "attach", classmethod(lambda cls, control: fake))
    return fake


@pytest.fixture
def mounts(tmp_path: Path) -> Path:
    path = tmp_path / "mounts"
    path.write_text("/dev/sda1 / ext4 rw,noatime 0 0\n")
    return path


@pytest.fixture
def swaps(tmp_path: Path) -> Path:
    """The kernel's table of swap areas: none, the header only."""
    path = tmp_path / "swaps"
    path.write_text(SWAPS_HEADER)
    return path


@pytest.fixture
def system(tmp_path: Path) -> Path:
    """The host's root, with journald set as deploy/README.md §1.1 asks."""
    root = tmp_path / "system"
    drop_in = root / "etc/systemd/journald.conf.d"
    drop_in.mkdir(parents=True)
    (drop_in / "raazdar.conf").write_text(JOURNAL_AS_ASKED)
    return root


@pytest.fixture
def where(
    fake_tor: FakeTor, mounts: Path, swaps: Path, system: Path, tmp_path: Path
) -> Surroundings:
    """A host with a tor that has bootstrapped and nothing unsafe in the environment."""
    return Surroundings(
        environ={"RAAZDAR_TOR_CONTROL": "127.0.0.1:9051"},
        tor_binary="/usr/sbin/tor",
        gunicorn_conf=GUNICORN_CONF,
        mounts=mounts,
        swaps=swaps,
        block_devices=tmp_path / "sys-block",
        system=system,
        kernel="6.1.0-37-amd64",
    )


def verdicts(checks: list[Check]) -> dict[str, Status]:
    """The worst status of each check."""
    order = [Status.OK, Status.WARN, Status.FAIL]
    worst: dict[str, Status] = {}
    for check in checks:
        if order.index(check.status) >= order.index(worst.get(check.name, Status.OK)):
            worst[check.name] = check.status
    return worst


def message(checks: list[Check], name: str) -> str:
    return " ".join(c.message for c in checks if c.name == name)


def expiry(instance: Path) -> dt.date:
    manifest = load_keyring(InstancePaths(instance), today()).manifest
    assert manifest is not None
    return manifest.expires


def test_a_healthy_demo_instance_passes_with_only_the_demo_warning(
    instance: Path, where: Surroundings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    free_blocks(monkeypatch, 2560, 2560 // 2)  # half free, whatever this host's own disk holds
    checks = diagnose(instance, today(), where)
    assert [c.name for c in checks] == CHECKS
    # The legal-aid page warns until an administrator reviews it (no demo does), and
    # the workspace key until it is set (a demo's reviewer keys lie beside it).
    expected = {"mode": Status.WARN, "resources": Status.WARN, "ack-key": Status.WARN}
    if not database_url.startswith("sqlite"):
        # The test cluster's role may not turn its table statistics off (a superuser's act),
        # nor let the WAL go, and the cluster logs checkpoints and errors as installed.
        expected |= {n: Status.WARN for n in ("table-counts", "server-log", "wal-times")}
    assert {n: s for n, s in verdicts(checks).items() if s is not Status.OK} == expected
    assert not failed(checks)
    assert "100%" in message(checks, "tor")


@pytest.mark.parametrize(
    "name",
    [
        # The instance is the raazdar user's home (deploy/README.md §1.2): what a tool run
        # as that user keeps there is seized with the rest.
        ".sqlite_history",  # `sudo -u raazdar sqlite3 raazdar.db`: every query typed
        ".bash_history",
        ".python_history",
        ".psql_history",
        ".lesshst",
        ".viminfo",  # an edit of config.json: searches, registers, marks
        ".config.json.swp",
        "config.json~",
        ".cache",
        ".secret_key.0123456789abcdef.part",  # a key half-written when the power failed
        "raazdar-copy.db",  # a hand-made copy of the database
        "raazdar.db.bak",
        "backup.tar",
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_what_a_tool_or_a_crash_leaves_in_the_instance_fails(
    instance: Path, where: Surroundings, name: str
) -> None:
    path = instance / name
    # Owner-only, as under umask 077 or after `chmod go=` (what the permissions check asks):
    # the bytes are still there for whoever seizes the disk.
    if name == ".cache":
        (path / "pip").mkdir(mode=0o700, parents=True)
        path.chmod(0o700)
    else:
        path.write_bytes(b"SELECT codename_hash FROM sources WHERE id = 7;\n")
        path.chmod(0o600)
    checks = diagnose(instance, today(), where)
    failing = " ".join(c.message for c in checks if c.status is Status.FAIL)
    assert name in failing, f"doctor passes an instance holding {name}"
    assert failed(checks)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_histories_sent_to_dev_null_as_the_readme_says_pass(
    instance: Path, where: Surroundings
) -> None:
    for name in (".bash_history", ".sqlite_history", ".python_history", ".lesshst", ".viminfo"):
        (instance / name).symlink_to(os.devnull)
    (instance / ".psql_history").symlink_to(instance / "secret_key")  # not nowhere: fails
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["strays"] is Status.FAIL
    said = message(checks, "strays")
    assert ".psql_history (a tool's history)" in said
    assert not [n for n in (".bash_history", ".sqlite_history", ".viminfo") if n in said]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_name_raazdar_does_not_use_in_the_instance_warns(
    instance: Path, where: Surroundings
) -> None:
    (instance / "notes.txt").write_text("rotate the onion on Monday\n")
    (instance / "notes.txt").chmod(0o600)
    (instance / ".pgpass").write_text("db:5432:raazdar:raazdar:s3cret\n")  # §2.1 puts it here
    (instance / ".pgpass").chmod(0o600)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["strays"] is Status.WARN
    assert "notes.txt" in message(checks, "strays")
    assert ".pgpass" not in message(checks, "strays")


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("secret_key", 0o644),
        ("server_signing_key", 0o640),
        ("config.json", 0o604),
        ("store", 0o755),
        (".", 0o750),
        ("demo-keys/reviewer.key", 0o644),
    ],
)
def test_a_file_others_can_read_fails(
    instance: Path, where: Surroundings, name: str, mode: int
) -> None:
    (instance / name).chmod(mode)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["permissions"] is Status.FAIL
    shown = instance.name if name == "." else Path(name).name
    assert shown in message(checks, "permissions")
    assert failed(checks)


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        # A rotation's pending bundle-signing key: once promoted, it signs what reviewers trust.
        ("server_signing_key.next", 0o644),
        # The next source onion's key, and the current one in tor's form (`--tor launch`).
        ("tor/source-onion.next.key", 0o644),
        ("tor/source-service/hs_ed25519_secret_key", 0o640),
        # The demo reviewer's weekly subkey secrets.
        ("demo-keys/subkeys/demo-reviewer.secrets.rze", 0o644),
        ("tor/staff-clients", 0o755),
        ("store/.arrivals", 0o755),
    ],
)
def test_any_file_of_the_instance_others_can_use_fails(
    instance: Path, where: Surroundings, name: str, mode: int
) -> None:
    """A restore (`cp -r`, `tar x` under root's umask) or a hand's `chmod`: wherever it lies."""
    path = instance / name
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        if "." in path.name or path.name.startswith("hs_"):
            path.write_bytes(b"secret\n")
            path.chmod(0o600)
        else:
            path.mkdir(mode=0o700)
    path.chmod(mode)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["permissions"] is Status.FAIL, (
        f"doctor passes {name} at {mode:o}: {message(checks, 'permissions')}"
    )
    assert name in message(checks, "permissions")


# SQLite only: a PostgreSQL database has no file in the instance.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_world_readable_sqlite_database_fails(
    instance: Path, where: Surroundings, database_url: str
) -> None:
    (instance / "raazdar.db").chmod(0o644)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["permissions"] is Status.FAIL
    assert "raazdar.db" in message(checks, "permissions")


def test_an_expired_keyring_fails(instance: Path, where: Surroundings) -> None:
    checks = diagnose(instance, expiry(instance) + dt.timedelta(days=1), where)
    assert verdicts(checks)["keyring"] is Status.FAIL
    assert "no valid keyring" in message(checks, "keyring")


def test_a_keyring_about_to_expire_warns(instance: Path, where: Surroundings) -> None:
    checks = diagnose(instance, expiry(instance) - dt.timedelta(days=10), where)
    assert verdicts(checks)["keyring"] is Status.WARN
    assert "10 day(s) left" in message(checks, "keyring")


def stamped(
    instance: Path, issued: dt.date | None, days: int = 7, subkeys: dict[str, int] | None = None
) -> None:
    """Install a timestamp signed with the demo key (none if `issued` is None), then take the key
    away: a real server holds no timestamp key and cannot renew its own."""
    paths = InstancePaths(instance)
    key_file = paths.demo_keys / TIMESTAMP_KEY_NAME
    if issued is not None:
        key = KeyFile.from_bytes(key_file.read_bytes()).unlock(DEMO_PASSPHRASE).signing
        manifest = load_keyring(paths, today()).manifest
        assert key is not None
        assert manifest is not None
        stamp = make_timestamp(manifest, key, issued=issued, days=days, subkeys=subkeys)
        timestamp_path(paths).write_bytes(stamp.to_bytes())
    else:
        timestamp_path(paths).unlink(missing_ok=True)
    key_file.unlink()


def test_a_demo_instance_renews_its_own_timestamp(instance: Path, where: Surroundings) -> None:
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["timestamp"] is Status.OK
    assert "re-signs" in message(checks, "timestamp")


def test_a_fresh_timestamp_passes(instance: Path, where: Surroundings) -> None:
    stamped(instance, today())
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["timestamp"] is Status.OK
    assert "(7 day(s) left)" in message(checks, "timestamp")


def test_a_timestamp_about_to_lapse_warns_with_the_ceremony(
    instance: Path, where: Surroundings
) -> None:
    stamped(instance, today() - dt.timedelta(days=5))
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["timestamp"] is Status.WARN
    assert "2 day(s) left" in message(checks, "timestamp")
    assert "raazdar keyring timestamp FILE" in message(checks, "timestamp")


def test_a_lapsed_timestamp_fails_because_clients_refuse_the_keyring(
    instance: Path, where: Surroundings
) -> None:
    issued = today() - dt.timedelta(days=10)
    stamped(instance, issued)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["timestamp"] is Status.FAIL
    said = message(checks, "timestamp")
    assert f"expired on {(issued + dt.timedelta(days=7)).isoformat()}" in said
    assert "`raazdar-submit` refuses" in said
    assert failed(checks)


def test_a_timestamp_naming_a_subkey_list_above_the_installed_one_fails(
    instance: Path, where: Surroundings
) -> None:
    """The timestamp says list N or later of a reviewer is in force; the list installed is
    numbered lower (the re-keyed list not installed yet, or a timestamp for another's):
    every `raazdar-submit` refuses to seal, and doctor said the timestamp was fine."""
    ((rid, listed),) = read_lists(InstancePaths(instance)).items()
    number = listed.subkeys.sequence or 0  # the demo's is unnumbered: any floor is above it
    stamped(instance, today(), subkeys={rid: number + 1})
    checks = diagnose(instance, today(), where)
    said = message(checks, "timestamp")
    assert verdicts(checks)["timestamp"] is Status.FAIL, (
        f"doctor passed a timestamp naming list {number + 1} of {rid}, "
        f"whose installed list is {number or 'unnumbered'}: {said}"
    )
    assert f"list {number + 1}" in said
    assert "`raazdar-submit` refuses" in said


def test_a_missing_timestamp_fails(instance: Path, where: Surroundings) -> None:
    stamped(instance, None)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["timestamp"] is Status.FAIL
    assert "is missing" in message(checks, "timestamp")


def test_a_broken_audit_chain_fails(app: Flask, instance: Path, where: Surroundings) -> None:
    with db_session(app) as session:
        for n in range(3):
            audit.record(session, audit.CONSOLE, "test", n=n)
        session.commit()
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(detail="{}"))
        session.commit()
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["audit"] is Status.FAIL
    assert "entry 2 was altered" in message(checks, "audit")


def test_a_broken_audit_chain_fails_the_keyring_line_too(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    """With the chain broken the server seals nothing (it cannot tell which keyring the log
    installed), but the doctor's keyring line said OK and named the version on disk: an
    operator reading it took the 503s for something else, and a rolled-back file for sound."""
    with db_session(app) as session:
        for n in range(3):
            audit.record(session, audit.CONSOLE, "test", n=n)
        session.commit()
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
        session.commit()
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["keyring"] is Status.FAIL, message(checks, "keyring")
    assert "hash chain is broken" in message(checks, "keyring")
    # Nor does a line that reads the keyring's files beside it say all is well.
    assert verdicts(checks)["subkeys"] is Status.FAIL, message(checks, "subkeys")
    assert verdicts(checks)["timestamp"] is Status.FAIL, message(checks, "timestamp")


def test_an_intact_audit_chain_passes(app: Flask, instance: Path, where: Surroundings) -> None:
    with db_session(app) as session:
        audit.record(session, audit.CONSOLE, "test")
        session.commit()
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["audit"] is Status.OK
    assert "1 entries" in message(checks, "audit")


@pytest.mark.parametrize("value", ["1", "true"])
def test_debug_mode_fails(
    instance: Path, where: Surroundings, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", value)
    where = Surroundings(**{**where.__dict__, "environ": {"FLASK_DEBUG": value}})
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["startup"] is Status.FAIL
    assert "debug mode is on" in message(checks, "startup")


def test_an_access_log_in_the_gunicorn_config_fails(
    instance: Path, where: Surroundings, tmp_path: Path
) -> None:
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(GUNICORN_CONF.read_text() + '\naccesslog = "-"\n')
    where = Surroundings(**{**where.__dict__, "gunicorn_conf": conf})
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["gunicorn"] is Status.FAIL
    assert "access log" in message(checks, "gunicorn")


def test_an_access_log_flag_in_the_environment_fails(instance: Path, where: Surroundings) -> None:
    environ = {**where.environ, "GUNICORN_CMD_ARGS": "--workers 2 --access-logfile=-"}
    checks = diagnose(instance, today(), Surroundings(**{**where.__dict__, "environ": environ}))
    assert verdicts(checks)["gunicorn"] is Status.FAIL


def test_sqlite_without_secure_delete_fails(
    instance: Path, where: Surroundings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("sqlite"):
        checks = diagnose(instance, today(), where)
        assert verdicts(checks)["secure-delete"] is Status.OK
        assert "PostgreSQL" in message(checks, "secure-delete")
        return
    engines: list[Engine] = []

    def without_secure_delete(url: str) -> Engine:
        # As on a build whose default is off, with nothing turning it on.
        engine = create_engine(url)
        event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA secure_delete = OFF"))
        engines.append(engine)
        return engine

    monkeypatch.setattr(app_db, "make_engine", without_secure_delete)
    try:
        checks = diagnose(instance, today(), where)
    finally:
        for engine in engines:
            engine.dispose()
    assert verdicts(checks)["secure-delete"] is Status.FAIL


def _one_item(app: Flask, **fields: Any) -> None:
    """One source with one message item of `fields` (its other columns the plain ones)."""
    with db_session(app) as session:
        source = Source(
            lookup_tag=secrets.token_bytes(32), designation="Test Source", public_key="x"
        )
        session.add(source)
        session.flush()
        session.add(
            Item(
                source_id=source.id,
                submission_id=secrets.token_hex(16),
                kind="message",
                size=1,
                **fields,
            )
        )
        session.commit()


def test_unexported_items_near_retention_warn(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    _one_item(
        app,
        received_day=today() - dt.timedelta(days=80),
    )
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["retention"] is Status.WARN
    assert "1 item(s) not yet exported" in message(checks, "retention")


def test_items_exported_but_never_acknowledged_warn(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    # A lost stick: the items went out 20 days ago and nothing came back. Before,
    # the doctor counted only items never exported, and said all was well.
    _one_item(
        app,
        received_day=today() - dt.timedelta(days=100),
        exported=True,
        exported_day=today() - dt.timedelta(days=20),
    )
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["acknowledgement"] is Status.WARN
    said = message(checks, "acknowledgement")
    assert "1 item(s) exported 14 or more days ago were never acknowledged" in said
    assert "1 item(s) past retention are kept" in said
    assert "--resend" in said
    assert "--include-unacknowledged" in said


def test_leftovers_in_staging_warn(instance: Path, where: Surroundings) -> None:
    (InstancePaths(instance).staging / "upload.rze").write_bytes(b"partial")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["staging"] is Status.WARN


@pytest.mark.parametrize(
    ("free", "status", "said"),
    [
        (2560 // 100, Status.FAIL, "no source's report"),
        (2560 // 20, Status.WARN, "later reports"),
        (2560 // 10, Status.WARN, "API uploads"),
        (2560 // 2, Status.OK, "MiB free"),
    ],
)
def test_a_disk_a_flood_filled_is_named_by_the_stop_it_reached(
    instance: Path,
    where: Surroundings,
    monkeypatch: pytest.MonkeyPatch,
    free: int,
    status: Status,
    said: str,
) -> None:
    """Sources' uploads stop at three shares of the disk left free, and a flood of them takes
    it down to each in turn: the doctor said nothing, and the first an administrator heard
    of it was sources unable to send anything."""
    free_blocks(monkeypatch, 2560, free)
    checks = diagnose(instance, today(), where)
    assert "space" in verdicts(checks), "the doctor said nothing of the disk's free space"
    assert verdicts(checks)["space"] is status
    assert said in message(checks, "space")


def test_a_disk_out_of_inodes_with_its_bytes_free_is_named_at_its_stop(
    instance: Path, where: Surroundings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of tiny reports uses up ext4's inodes with most of the bytes free: the doctor
    counted bytes alone and said all was well while no file could be made."""
    real = os.statvfs

    def statvfs(path: Any) -> Any:
        fields = list(real(path))
        fields[0] = fields[1] = 4096
        fields[2], fields[3], fields[4] = 2560, 2560 // 2, 2560 // 2
        fields[5], fields[6], fields[7] = 10_000, 10_000 // 100, 10_000 // 100
        return os.statvfs_result(fields)

    monkeypatch.setattr(os, "statvfs", statvfs)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["space"] is Status.FAIL, message(checks, "space")
    assert "100 of 10000 inodes (files) free" in message(checks, "space")


def test_a_store_larger_than_the_free_space_is_no_warning_as_the_pages_export_needs_none(
    instance: Path, where: Surroundings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staff pages' export is written as it is sent, and takes no room on the server:
    more envelopes held than space free is no reason to warn, nor to send the
    administrator to a shell (`raazdar export --out`), as the doctor did before."""
    free_blocks(monkeypatch, 2560, 2560 // 2)  # 5 MiB free
    held = InstancePaths(instance).store / f"{secrets.token_hex(16)}.rze"
    with held.open("wb") as f:
        f.truncate(6 * 1024 * 1024)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["space"] is Status.OK, message(checks, "space")
    assert "the store holds 6 MiB of envelopes" in message(checks, "space")


def test_a_disk_at_its_floor_says_the_pages_export_still_frees_it(
    instance: Path, where: Surroundings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the floor the doctor names what frees the disk, and that the staff pages' export
    needs no room for it."""
    free_blocks(monkeypatch, 2560, 2560 // 100)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["space"] is Status.FAIL
    said = message(checks, "space")
    assert "the staff pages' export needs no free space" in said
    assert "acknowledgements" in said


def test_a_copy_on_write_filesystem_warns(
    instance: Path, where: Surroundings, mounts: Path
) -> None:
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        f"/dev/sdb1 {instance.parent} btrfs rw 0 0\n"
        "/dev/sdc1 /srv xfs rw 0 0\n"
    )
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["store"] is Status.WARN
    assert "btrfs" in message(checks, "store")


def test_a_filesystem_whose_log_the_sweep_cannot_wrap_warns(
    instance: Path, where: Surroundings, mounts: Path
) -> None:
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 {instance.parent} xfs rw 0 0\n")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["store"] is Status.WARN
    assert "use ext4" in message(checks, "store")


@pytest.mark.parametrize(
    "kernel", ["5.10.0-32-amd64", "5.4.0-216-generic", "4.18.0-553.el8.x86_64"]
)
def test_an_ext4_store_under_a_kernel_that_keeps_deleted_names_warns(
    instance: Path, where: Surroundings, kernel: str
) -> None:
    """Before 5.14 ext4 left a deleted entry's name in its directory's block.

    The sweep moves every held envelope out of holding and frees that folder: its
    block, freed unwritten, named the period's arrivals in the order they came.
    """
    checks = diagnose(instance, today(), dataclasses.replace(where, kernel=kernel))
    assert verdicts(checks)["store"] is Status.WARN
    assert "5.14" in message(checks, "store")


@pytest.mark.parametrize("kernel", ["5.14.0-503.el9.x86_64", "6.1.0-37-amd64", "10.0", "unknown"])
def test_an_ext4_store_under_a_kernel_that_wipes_deleted_names_passes(
    instance: Path, where: Surroundings, kernel: str
) -> None:
    """A release the doctor cannot read is not held against the instance."""
    checks = diagnose(instance, today(), dataclasses.replace(where, kernel=kernel))
    assert verdicts(checks)["store"] is Status.OK


@pytest.mark.parametrize("options", ["rw,relatime", "rw,strictatime", "rw"])
def test_a_filesystem_that_records_access_times_warns(
    instance: Path, where: Surroundings, mounts: Path, options: str
) -> None:
    mounts.write_text(f"/dev/sda1 / ext4 {options} 0 0\n")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["atime"] is Status.WARN
    assert "noatime" in message(checks, "atime")


@pytest.mark.parametrize("options", ["rw,relatime", "rw,strictatime", "rw"])
def test_code_on_a_filesystem_that_records_access_times_warns(
    instance: Path, where: Surroundings, mounts: Path, options: str
) -> None:
    # The instance noatime as deploy/README.md asks, the code on the system's default.
    mounts.write_text(f"/dev/sda1 / ext4 rw,noatime 0 0\n/dev/sda2 /opt ext4 {options} 0 0\n")
    checks = diagnose(instance, today(), dataclasses.replace(where, code=Path("/opt/raazdar")))
    assert verdicts(checks)["atime"] is Status.OK
    assert verdicts(checks)["code"] is Status.WARN
    assert "/opt/raazdar" in message(checks, "code")
    assert "noatime or read-only" in message(checks, "code")


@pytest.mark.parametrize("options", ["ro,relatime", "rw,noatime", "ro"])
def test_code_mounted_read_only_or_noatime_passes(
    instance: Path, where: Surroundings, mounts: Path, options: str
) -> None:
    mounts.write_text(f"/dev/sda1 / ext4 rw,noatime 0 0\n/dev/sda2 /opt ext4 {options} 0 0\n")
    checks = diagnose(instance, today(), dataclasses.replace(where, code=Path("/opt/raazdar")))
    assert verdicts(checks)["code"] is Status.OK


def test_the_code_checked_is_where_the_app_package_lies(where: Surroundings) -> None:
    assert (where.code / "app" / "db.py").samefile(app_db.__file__)


def test_envelopes_waiting_for_a_sweep_that_never_ran_warn(
    instance: Path, where: Surroundings
) -> None:
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    staged = paths.staging / "x.rze"
    staged.write_bytes(b"an envelope")
    store.publish(secrets.token_hex(16), staged)
    assert verdicts(diagnose(instance, today(), where))["sweep"] is Status.WARN
    sweep_now(instance)
    assert verdicts(diagnose(instance, today(), where))["sweep"] is Status.OK


def test_a_missed_sweep_warns(instance: Path, where: Surroundings) -> None:
    sweep_now(instance)
    later = Surroundings(**{**where.__dict__, "clock": lambda: time.time() + 27 * 3600})
    checks = diagnose(instance, today(), later)
    assert verdicts(checks)["sweep"] is Status.WARN
    assert "overdue" in message(checks, "sweep")


def sweep_now(instance: Path) -> None:
    result = CliRunner().invoke(main, ["--instance", str(instance), "sweep", "--force"])
    assert result.exit_code == 0, result.output


def test_tor_still_bootstrapping_warns(
    instance: Path, where: Surroundings, fake_tor: FakeTor
) -> None:
    fake_tor.bootstrap = 45
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["tor"] is Status.WARN
    assert "45%" in message(checks, "tor")


# stem leaves its socket unclosed when a connection is refused.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tor_that_cannot_be_reached_fails(
    instance: Path, where: Surroundings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real Tor.attach
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {"RAAZDAR_TOR_CONTROL": f"127.0.0.1:{port}"}
    checks = diagnose(instance, today(), Surroundings(**{**where.__dict__, "environ": environ}))
    assert verdicts(checks)["tor"] is Status.FAIL
    assert "cannot attach" in message(checks, "tor")


@pytest.mark.parametrize(
    ("binary", "says"),
    [("/usr/sbin/tor", "not running for this instance"), (None, "loopback only")],
)
def test_tor_without_a_control_port_warns(
    instance: Path, where: Surroundings, binary: str | None, says: str
) -> None:
    where = Surroundings(environ={}, tor_binary=binary, mounts=where.mounts)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["tor"] is Status.WARN
    assert says in message(checks, "tor")


def test_a_missing_instance_fails_without_crashing(tmp_path: Path, where: Surroundings) -> None:
    checks = diagnose(tmp_path / "nowhere", today(), where)
    assert verdicts(checks)["mode"] is Status.FAIL
    assert verdicts(checks)["permissions"] is Status.FAIL
    assert "raazdar init" in message(checks, "mode")


def test_doctor_command_passes_a_healthy_instance_and_fails_a_readable_key(
    instance: Path, runner: CliRunner
) -> None:
    result = runner.invoke(main, ["--instance", str(instance), "doctor"])
    assert result.exit_code == 0, result.output
    assert "raazdar: doctor: 0 failed" in result.output
    assert "warn  mode" in result.output
    (instance / "secret_key").chmod(0o644)
    result = runner.invoke(main, ["--instance", str(instance), "doctor"])
    assert result.exit_code == 1
    assert "FAIL  permissions" in result.output
    assert "secret_key" in result.output


def test_postgresql_keeping_commit_times_fails(
    instance: Path, where: Surroundings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that keeps each transaction's commit time dates every submission."""
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["commit-times"] is Status.OK
    if database_url.startswith("sqlite"):
        return
    assert "track_commit_timestamp" in message(checks, "commit-times")
    real = Session.execute

    def kept(self: Session, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if "track_commit_timestamp" in str(statement):
            statement = text("SELECT 'on'")
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "execute", kept)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["commit-times"] is Status.FAIL
    assert "set it off" in message(checks, "commit-times")


def _pg_settings(monkeypatch: pytest.MonkeyPatch, settings: dict[str, str]) -> None:
    """PostgreSQL answers as if postgresql.conf set `settings` (the test's role may not)."""
    real = Session.execute
    rows = ", ".join(f"('{name}', '{value}')" for name, value in settings.items())

    def configured(self: Session, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if "pg_settings" in str(statement):
            # The test's own fixed names and values, never input.
            statement = text(f"SELECT * FROM (VALUES {rows}) AS s(name, setting)")  # noqa: S608
            return real(self, statement)
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "execute", configured)


@pytest.mark.parametrize(
    ("settings", "status"),
    [
        # Every INSERT (a submission, a login's row) with its parameters and its time.
        ({"log_statement": "mod"}, Status.FAIL),
        ({"log_statement": "all"}, Status.FAIL),
        ({"log_min_duration_statement": "0"}, Status.FAIL),
        ({"log_duration": "on"}, Status.FAIL),
        ({"log_transaction_sample_rate": "0.5"}, Status.FAIL),
        # Each connection the pool opens as a burst of sources comes, to the millisecond.
        ({"log_connections": "on"}, Status.WARN),
        ({"log_disconnections": "on"}, Status.WARN),
        ({"log_min_duration_statement": "250"}, Status.WARN),
    ],
)
def test_postgresql_logging_statements_or_connections_is_named(
    instance: Path,
    where: Surroundings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: dict[str, str],
    status: Status,
) -> None:
    """deploy/README.md §2.1: PostgreSQL's own log keeps what the app never logs."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite keeps no log of statements or connections")
    with monkeypatch.context() as patch:
        _pg_settings(patch, settings)
        checks = diagnose(instance, today(), where)
    assert verdicts(checks).get("statement-log") is status, (
        f"doctor passes PostgreSQL with {settings}: {message(checks, 'statement-log')}"
    )
    assert next(iter(settings)) in message(checks, "statement-log")
    # The test cluster's own settings: none of these.
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["statement-log"] is Status.OK, message(checks, "statement-log")


def test_postgresql_keeping_autovacuum_times_warns(
    instance: Path, where: Surroundings, database_url: str
) -> None:
    """pg_stat_user_tables says when autovacuum came, within a minute of a burst of writes.

    On an instance that ran before the sweep turned autovacuum off, nothing said
    so, and the app's role cannot clear them.
    """
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["vacuum-times"] is Status.OK
    if database_url.startswith("sqlite"):
        return
    engine = app_db.make_engine(database_url)
    try:
        for _ in range(200):  # autovacuum still on: no sweep has run here
            with Session(engine) as session:
                session.add(Throttle(bucket=secrets.token_hex(8), window=1, failures=1))
                session.commit()
        assert autovacuum_visits(engine, "throttle")["throttle"]
    finally:
        engine.dispose()
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["vacuum-times"] is Status.WARN
    assert "throttle" in message(checks, "vacuum-times")
    assert "pg_stat_reset" in message(checks, "vacuum-times")


def test_a_lowered_source_expiry_warns_until_it_is_in_force(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    """One administrator can lower source expiry to a day, and demote every colleague who
    would see it on the admin pages: the console's doctor said retention was fine."""
    with db_session(app) as session:
        settings_admin.update(session, {"source_expiry_days": 1}, actor="rogue")
        session.commit()
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["retention"] is Status.WARN, message(checks, "retention")
    assert "lowered source expiry from 365 to 1 days" in message(checks, "retention")
    due = today() + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)
    assert verdicts(diagnose(instance, due, where))["retention"] is Status.OK


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"upload_limit_mib": 1}, "lowered the upload limit from 500 to 1 MiB"),
        ({"retention_days": 3650}, "raised retention from 90 to 3650 days"),
    ],
    ids=["upload-limit", "retention"],
)
def test_a_harmful_setting_not_yet_in_force_warns(
    app: Flask, instance: Path, where: Surroundings, change: dict[str, int], said: str
) -> None:
    """The console, where no admin page is read, hears of what one administrator set."""
    with db_session(app) as session:
        settings_admin.update(session, change, actor="rogue")
        session.commit()
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["retention"] is Status.WARN, message(checks, "retention")
    assert said in message(checks, "retention")
    due = today() + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)
    assert said not in message(diagnose(instance, due, where), "retention")


def test_a_purge_overdue_warns(app: Flask, instance: Path, where: Surroundings) -> None:
    """A purge that stopped (its timer off, or a clock that jumped, which it refuses) keeps
    everything past its days; the doctor said retention was fine."""
    result = CliRunner().invoke(main, ["--instance", str(instance), "purge"])
    assert result.exit_code == 0, result.output
    assert verdicts(diagnose(instance, today(), where))["retention"] is Status.OK
    checks = diagnose(instance, today() + dt.timedelta(days=10), where)
    assert verdicts(checks)["retention"] is Status.WARN, message(checks, "retention")
    assert "the last purge ran 10 days ago" in message(checks, "retention")


def _device_mapper(where: Surroundings, name: str, uuid: str, *below: str) -> None:
    """A device-mapper device in /sys/block: its uuid names its target, `below` its slaves."""
    dm = where.block_devices / name / "dm"
    dm.mkdir(parents=True)
    (dm / "uuid").write_text(uuid + "\n")
    (where.block_devices / name / "slaves").mkdir()
    for slave in below:
        (where.block_devices / name / "slaves" / slave).mkdir()


@pytest.mark.parametrize(
    ("area", "kind"),
    [("/dev/sda3", "partition"), ("/swapfile", "file"), ("/dev/dm-1", "partition")],
)
def test_a_swap_area_that_is_not_encrypted_warns(
    instance: Path, where: Surroundings, swaps: Path, area: str, kind: str
) -> None:
    """deploy/README.md §1.1: encrypted swap or none; a worker's memory, swapped, outlives it."""
    _device_mapper(where, "dm-1", "LVM-k3Xq")  # an LVM volume on a plain disk
    swaps.write_text(f"{SWAPS_HEADER}{area}\t{kind}\t2097148\t0\t-2\n")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks).get("swap") is Status.WARN, "doctor says nothing of an open swap"
    assert area in message(checks, "swap")
    assert "encrypt" in message(checks, "swap")


def test_swap_on_dm_crypt_or_in_memory_passes(
    instance: Path, where: Surroundings, swaps: Path
) -> None:
    _device_mapper(where, "dm-0", "CRYPT-PLAIN-cryptswap")  # crypttab's `swap`: a random key
    _device_mapper(where, "dm-3", "CRYPT-LUKS2-0f3c-sda5_crypt")
    _device_mapper(where, "dm-4", "LVM-k3Xq", "dm-3")  # an LVM volume inside LUKS
    swaps.write_text(
        f"{SWAPS_HEADER}/dev/dm-0\tpartition\t2097148\t0\t-2\n"
        "/dev/dm-4\tpartition\t2097148\t0\t-3\n/dev/zram0\tpartition\t524284\t0\t100\n"
    )
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["swap"] is Status.OK, message(checks, "swap")


def test_no_swap_passes(instance: Path, where: Surroundings) -> None:
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["swap"] is Status.OK
    assert "no swap" in message(checks, "swap")


def _journald(system: Path, main: str | None, drop_ins: dict[str, str], kept: bool) -> None:
    """Set the host's journald: its main file, its drop-ins (only these), /var/log/journal."""
    etc = system / "etc/systemd"
    for old in (etc / "journald.conf.d").glob("*.conf"):
        old.unlink()
    if main is not None:
        (etc / "journald.conf").write_text(main)
    for name, setting in drop_ins.items():
        (etc / "journald.conf.d" / name).write_text(setting)
    if kept:
        (system / "var/log/journal").mkdir(parents=True)


@pytest.mark.parametrize(
    ("main", "drop_ins", "kept", "said"),
    [
        # Debian 12 as installed: `auto`, and the package makes /var/log/journal: on disk.
        (DEBIAN_JOURNALD_CONF, {}, True, "on disk"),
        ("[Journal]\nStorage=persistent\n", {}, False, "on disk"),
        # Volatile, but kept until the next reboot, which may be months away.
        (DEBIAN_JOURNALD_CONF, {"raazdar.conf": "[Journal]\nStorage=volatile\n"}, True, "2day"),
        (
            None,
            {"raazdar.conf": "[Journal]\nStorage=volatile\nMaxRetentionSec=1month\n"},
            False,
            "2day",
        ),
        # A later drop-in undoes ours.
        (
            None,
            {"raazdar.conf": JOURNAL_AS_ASKED, "zz-keep.conf": "[Journal]\nStorage=auto\n"},
            True,
            "on disk",
        ),
    ],
)
def test_a_journal_kept_on_disk_or_for_long_warns(
    instance: Path,
    where: Surroundings,
    system: Path,
    main: str | None,
    drop_ins: dict[str, str],
    kept: bool,
    said: str,
) -> None:
    """deploy/README.md §1.1: every journal line carries a time, and a fault a source's request
    meets is logged then; kept on disk, the journal dates that visit for months."""
    _journald(system, main, drop_ins, kept)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks).get("journal") is Status.WARN, "doctor says nothing of the journal"
    assert said in message(checks, "journal")


@pytest.mark.parametrize("daemon", ["etc/rsyslog.conf", "etc/syslog-ng/syslog-ng.conf"])
def test_a_syslog_daemon_beside_a_volatile_journal_warns(
    instance: Path, where: Surroundings, system: Path, daemon: str
) -> None:
    """rsyslog (installed by default before Debian 12) writes every line the journal gets
    to /var/log/syslog, on disk with its time, whatever Storage=volatile says."""
    (system / daemon).parent.mkdir(parents=True, exist_ok=True)
    (system / daemon).write_text("# installed\n")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["journal"] is Status.WARN, "doctor passes a syslog daemon's copy"
    assert "syslog" in message(checks, "journal")


@pytest.mark.parametrize(
    ("main", "drop_ins", "kept"),
    [
        (DEBIAN_JOURNALD_CONF, {"raazdar.conf": JOURNAL_AS_ASKED}, True),
        ("[Journal]\nStorage=volatile\nMaxRetentionSec=36h\n", {}, True),
        ("[Journal]\nStorage=none\n", {}, True),
        # `auto` with no /var/log/journal keeps the journal in /run, for up to two days here.
        (None, {"raazdar.conf": "[Journal]\nMaxRetentionSec=2d\n"}, False),
    ],
)
def test_a_journal_kept_in_memory_for_two_days_passes(
    instance: Path,
    where: Surroundings,
    system: Path,
    main: str | None,
    drop_ins: dict[str, str],
    kept: bool,
) -> None:
    _journald(system, main, drop_ins, kept)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["journal"] is Status.OK, message(checks, "journal")


def _mode(instance: Path, mode: str) -> None:
    config = InstancePaths(instance).config
    config.write_text(config.read_text().replace('"mode": "demo"', f'"mode": "{mode}"'))


def test_an_instance_with_reviewers_and_no_workspace_key_fails_until_one_is_set(
    instance: Path, where: Surroundings
) -> None:
    # Until the server holds the review workspace's key it refuses every reply
    # bundle: no reply reaches a source until an administrator gives it.
    _mode(instance, "testing")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks).get("ack-key") is Status.FAIL, (
        "doctor passed an instance whose keyring lists reviewers while the server holds no "
        f"workspace key: {message(checks, 'ack-key')}"
    )
    assert "raazdar set-ack-key" in message(checks, "ack-key")
    key = SigningKey.generate().verify_key
    ran = CliRunner().invoke(main, ["--instance", str(instance), "set-ack-key", key.to_text()])
    assert ran.exit_code == 0, ran.output
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["ack-key"] is Status.OK
    assert str(key.fingerprint) in message(checks, "ack-key")


def test_a_demo_instance_without_a_workspace_key_warns(instance: Path, where: Surroundings) -> None:
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["ack-key"] is Status.WARN
    assert "raazdar set-ack-key" in message(checks, "ack-key")


def test_items_an_unsealed_bundle_acknowledged_warn(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    ran = CliRunner().invoke(
        main,
        ["--instance", str(instance), "set-ack-key", SigningKey.generate().verify_key.to_text()],
    )
    assert ran.exit_code == 0, ran.output
    _one_item(
        app,
        ack_held=True,
    )
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["ack-key"] is Status.WARN
    assert "1 item(s)" in message(checks, "ack-key")


def test_postgresql_counting_the_rows_written_and_deleted_warns(
    instance: Path, where: Surroundings, database_url: str
) -> None:
    """pg_stat_user_tables counts each table's inserts and deletes since its last reset.

    A seizer read there every row ever written, the ones deleted since included
    (a purge's reports, a day's logins), and the sweep's rewrite (CLUSTER) resets
    nothing; the app's role cannot turn the counting off, and nothing said so.
    """
    if database_url.startswith("sqlite"):
        assert verdicts(diagnose(instance, today(), where))["table-counts"] is Status.OK
        return
    engine = app_db.make_engine(database_url)
    try:
        compact(engine)
        counted = table_writes(engine, "throttle")
        with Session(engine) as session:
            session.add_all(Throttle(bucket=f"gone-{n}", window=1, failures=1) for n in range(5))
            session.commit()
            session.execute(text("DELETE FROM throttle WHERE bucket LIKE 'gone-%'"))
            session.commit()
        compact(engine)  # the sweep rewrites the table
        engine.dispose()  # each backend reports its counts as it ends
        later = table_writes(engine, "throttle", beyond=counted[0] + 4)
    finally:
        engine.dispose()
    # What a seizer reads: the rows deleted, counted through the sweep (the app cannot help it).
    assert min(later[0] - counted[0], later[1] - counted[1]) >= 5, (counted, later)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["table-counts"] is Status.WARN
    assert "track_counts = off" in message(checks, "table-counts")


def table_writes(engine: Engine, table: str, beyond: int = -1) -> tuple[int, int]:
    """A table's inserts and deletes as PostgreSQL's statistics count them (once past `beyond`)."""
    query = text("SELECT n_tup_ins, n_tup_del FROM pg_stat_user_tables WHERE relname = :t")
    deadline = time.monotonic() + 15
    while True:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            found = connection.execute(query, {"t": table}).one()
        writes = (int(found[0]), int(found[1]))
        if writes[0] > beyond or time.monotonic() > deadline:
            return writes
        time.sleep(0.2)


def test_staff_accounts_bound_to_no_reviewer_or_to_a_dropped_one_are_warned_of(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    make_staff(app, "bound", actor=audit.CONSOLE)
    make_staff(app, "unbound", actor=audit.CONSOLE)
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "bound")
        staff_service.bind_reviewer(
            session, audit.CONSOLE, account, demo_reviewer_signing_key(instance)
        )
    said = message(diagnose(instance, today(), where), "staff-reviewers")
    assert "bound to no reviewer: unbound;" in said
    assert "does not list" not in said

    # Written in place, not installed: nothing locked the account bound to the reviewer dropped.
    install_successor(instance, [new_reviewer()[1]])
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["staff-reviewers"] is Status.WARN
    assert "the keyring in force does not list: bound;" in message(checks, "staff-reviewers")


def test_staff_accounts_each_bound_to_a_listed_reviewer_pass(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    make_staff(app, "bound", actor=audit.CONSOLE)
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "bound")
        staff_service.bind_reviewer(
            session, audit.CONSOLE, account, demo_reviewer_signing_key(instance)
        )
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["staff-reviewers"] is Status.OK


def test_staff_devices_that_would_outlive_their_holders_are_warned_of(
    app: Flask, instance: Path, where: Surroundings
) -> None:
    """A device no removal revokes reaches the staff onion after its holder is gone."""
    make_staff(app, "alice", actor=audit.CONSOLE)
    make_staff(app, "bilal", actor=audit.CONSOLE)
    clients = StaffClients(instance / "tor")
    clients.add("old")  # before owners were recorded: no entry says whose it is
    with app.app_context(), db_session(app) as session, session.begin():
        for device, whose in (("alice-laptop", "alice"), ("bilal-laptop", "bilal")):
            clients.add(device)
            audit.record(session, audit.CONSOLE, audit.DEVICE_ADDED, device=device, owner=whose)
        clients.add("desk")
        audit.record(session, audit.CONSOLE, audit.DEVICE_ADDED, device="desk", shared=True)
        # bilal's account gone without his laptop: a revocation that could not be made.
        session.delete(staff_service.get_account(session, "bilal"))
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["staff-devices"] is Status.WARN
    said = message(checks, "staff-devices")
    assert "whose nobody said: old; `raazdar staff-onion assign NAME --for USERNAME`" in said
    assert "of an account removed or locked: bilal-laptop (bilal);" in said
    assert "alice-laptop" not in said
    assert "desk" not in said

    clients.remove("old")
    clients.remove("bilal-laptop")
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["staff-devices"] is Status.OK
    assert message(checks, "staff-devices") == (
        "each of 2 staff device(s) goes with its account's removal, or is shared (desk)"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_space_check_fails_a_database_disk_at_its_last_hundredth(
    instance: Path, where: Surroundings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the SQLite database on a disk of its own, the doctor looked at the store's alone
    and said all was well while the database's filled to its last byte."""
    database_disk_at(monkeypatch, InstancePaths(instance).store, 100_000 // 100)
    checks = diagnose(instance, today(), where)
    assert verdicts(checks)["space"] is Status.FAIL, message(checks, "space")
    assert "the database's disk" in message(checks, "space")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_the_space_check_says_a_postgresql_databases_disk_is_not_watched(
    instance: Path, where: Surroundings
) -> None:
    """The server cannot see where PostgreSQL keeps its files: the doctor says it watches only
    the store's disk, so that the administrator watches the database's."""
    checks = diagnose(instance, today(), where)
    assert "not watched" in message(checks, "space")
