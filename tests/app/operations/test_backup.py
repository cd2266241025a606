"""`raazdar backup`: the instance as one tar on a pipe, holding what deploy/README.md §1.7 lists.

Copied by hand as the README used to say, the database first landed on the
server's disk unencrypted (`sqlite3 raazdar.db ".backup copy.db"` makes it 0644
under the usual umask 022, and its bytes outlive `rm`), and each file kept its
times. Here nothing is written but the stream: every member is dated the epoch,
owned by 0 and private; the store gives its envelopes, the held ones under the
store's name; the database comes rebuilt, with no free page.
"""

from __future__ import annotations

import io
import os
import pty
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.instance import InstancePaths
from app.kdf_pool import SLOT_DIR
from app.operations.backup import database_image
from app.store import HOLDING_NAME
from tests.app.support import Visitor, envelope_files, login_grants, sqlite_temp_files_opened
from tests.app.test_db import crashed_writer, index_pages

# The files and SQLite (PostgreSQL: test_backup_postgres.py, test_restore_postgres.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def everything(root: Path) -> dict[str, bytes]:
    """Every regular file under `root`, by relative name."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def backup(runner: CliRunner, instance: Path) -> tuple[tarfile.TarFile, str]:
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    return tarfile.open(fileobj=io.BytesIO(result.stdout_bytes)), result.stderr


def test_a_backup_holds_the_keys_the_keyring_and_the_swept_envelopes_and_no_more(
    instance: Path, visitor: Visitor, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    visitor.filed(visitor.send(visitor.start(), "the SHO took the money"))
    held = list((paths.store / HOLDING_NAME).iterdir())
    assert held, "the report should wait in holding until a sweep"
    (paths.staging / "leftover.rze").write_bytes(b"an upload in progress")
    (paths.root / SLOT_DIR).mkdir(exist_ok=True)
    (paths.root / SLOT_DIR / "slot").write_bytes(b"a derivation's memory")

    tar, said = backup(runner, instance)
    names = tar.getnames()
    assert "backup: " in said
    for name in ("config.json", "secret_key", "server_signing_key", "raazdar.db", "restored"):
        assert name in names
    assert "keyring/manifests/000001.json" in names
    assert "tor/source-onion.key" in names
    envelopes = [n for n in names if n.startswith("store/") and n.endswith(".rze")]
    # Held ones named as the store's: the tar says nothing of which waited for the sweep.
    assert sorted(envelopes) == sorted(f"store/{p.name}" for p in held)
    assert not [n for n in names if "/." in n or n.startswith(".")], names
    assert not [n for n in names if SLOT_DIR in n or "demo-keys" in n], names
    assert names == sorted(names, key=lambda n: n.split("/"))

    on_disk = everything(instance)
    for member in tar.getmembers():
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (
            0,
            0,
            0,
            "",
            "",
        ), member.name
        assert member.mode == (0o700 if member.isdir() else 0o600), member.name
        if member.isfile() and member.name not in ("raazdar.db", "restored"):
            extracted = tar.extractfile(member)
            assert extracted is not None
            held_name = member.name.replace("store/", f"store/{HOLDING_NAME}/", 1)
            assert extracted.read() == on_disk.get(member.name, on_disk.get(held_name)), member.name


def test_the_database_in_a_backup_opens_whole_with_no_free_page(
    instance: Path, visitor: Visitor, runner: CliRunner, tmp_path: Path
) -> None:
    visitor.filed(visitor.send(visitor.start(), "a report"))
    tar, _ = backup(runner, instance)
    database = tar.extractfile("raazdar.db")
    assert database is not None
    copy = tmp_path / "restored.db"
    copy.write_bytes(database.read())
    with sqlite3.connect(copy) as restored, sqlite3.connect(instance / "raazdar.db") as live:
        assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert restored.execute("PRAGMA freelist_count").fetchone() == (0,)
        for (table,) in live.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            count = f"SELECT count(*) FROM {table}"  # noqa: S608 - names from sqlite_master
            expected = (0,) if table == "sessions" else live.execute(count).fetchone()
            assert restored.execute(count).fetchone() == expected, table


def test_a_backup_writes_nothing_to_the_disk(
    instance: Path, visitor: Visitor, runner: CliRunner
) -> None:
    visitor.filed(visitor.send(visitor.start(), "a report"))
    before = set(everything(instance))
    backup(runner, instance)
    assert set(everything(instance)) == before


def test_a_backup_writes_no_copy_of_the_database_outside_the_instance(
    instance: Path, runner: CliRunner
) -> None:
    """The copy rebuilt in memory was rebuilt by VACUUM through a temporary file in /var/tmp.

    Every row went there unencrypted (`etilqs_…`, deleted at once), freed
    unwritten: what the backup's pipe to `age` promised never to put on the disk.
    """
    with sqlite3.connect(instance / "raazdar.db") as live:
        live.executemany(
            "INSERT INTO throttle (bucket, window, failures, previous) VALUES (?, 1, 1, 0)",
            ((f"{n:05d}-{'x' * 200}",) for n in range(12_000)),
        )
    with sqlite_temp_files_opened() as seen:
        backup(runner, instance)
    assert not seen, f"the backup wrote the database to {sorted(seen)}"


def test_a_backup_is_refused_to_a_terminal(instance: Path) -> None:
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(  # noqa: S603 - this interpreter, the project's own CLI
            [
                *(sys.executable, "-c", "from app.cli.base import run; run()"),
                *("--instance", str(instance), "backup"),
            ],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "raazdar: error: refusing to write a backup to a terminal",
        "raazdar: hint: raazdar backup | age -r age1… > raazdar-backup.tar.age",
    ]


def test_a_backup_after_a_crash_deletes_no_wal_with_its_frames(database_url: str) -> None:
    """A server killed (out of memory, a power cut) leaves its last writes in the WAL.

    `raazdar backup` then opened the database and, its connection the last one,
    SQLite copied the WAL and deleted it and its index unwritten: the freed blocks
    kept the frames of the writes before the crash, in the order they came, and the
    index the pages they held. Both files are held open here to read what was deleted.
    """
    path = Path(database_url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True)
    crashed_writer(path)
    held = {
        name: os.open(f"{path}-{name}", os.O_RDONLY)
        for name in ("wal", "shm")
        if Path(f"{path}-{name}").exists()
    }
    try:
        image = database_image(path)
        deleted = {name: os.pread(fd, os.fstat(fd).st_size, 0) for name, fd in held.items()}
    finally:
        for fd in held.values():
            os.close(fd)
    assert b"CANARY-2" in image
    assert b"CANARY" not in deleted["wal"], (
        f"the backup's close deleted a WAL of {len(deleted['wal'])} bytes with its frames in it"
    )
    assert not Path(f"{path}-wal").exists()
    listed = index_pages(deleted["shm"])
    assert not listed, f"the backup's close deleted a WAL index naming pages {sorted(listed)}"


def test_a_login_ended_after_the_backup_opens_nothing_from_it(
    instance: Path, app: Flask, client: FlaskClient, visitor: Visitor, runner: CliRunner
) -> None:
    """Logging out deletes the login's row, so a copy of the cookie taken before opens nothing.

    The backup kept the row (the account, the reply-opening key, sealed under
    the cookie's key): put back, or opened on the stick it sits on for months,
    it opened again with a copy of the cookie taken before the logout.
    """
    visitor.filed(visitor.send(visitor.start(), "a report"))
    cookie = client.get_cookie("rz")
    assert cookie is not None
    assert login_grants(app, client) is not None
    tar, _ = backup(runner, instance)
    visitor.log_out()
    assert login_grants(app, client) is None
    image = tar.extractfile("raazdar.db")
    assert image is not None
    restore_database(instance, image.read())
    copied = app.test_client()
    copied.set_cookie("rz", cookie.value)
    grants = login_grants(app, copied)
    assert grants is None, f"a login ended after the backup opened again from it: {sorted(grants)}"


def restore_database(instance: Path, image: bytes) -> None:
    """Put the backup's database back over the instance's, as a restore does."""
    with sqlite3.connect(":memory:") as copy, sqlite3.connect(instance / "raazdar.db") as live:
        copy.deserialize(image)
        copy.backup(live)


def test_a_backup_splits_no_period_of_arrivals_on_the_live_disk(
    instance: Path, app: Flask, visitor: Visitor, runner: CliRunner
) -> None:
    """Every arrival of a sweep period is written into the store by the period's sweep, no other.

    The backup swept first: what came before it was written into the store then,
    what came after at the period's sweep, so the disk split the day's reports
    at the moment of the backup (a backup taken at a set hour halved each day).
    """
    sweep = ["--instance", str(instance), "sweep", "--force"]
    assert runner.invoke(main, sweep).exit_code == 0  # the period's sweep, last night
    before = {p.name for p in envelope_files(instance)}
    visitor.filed(visitor.send(visitor.start(), "before the backup"))
    tar, _ = backup(runner, instance)
    later = Visitor(app.test_client())
    later.filed(later.send(later.start(), "after the backup"))
    held = {p.name for p in envelope_files(instance)} - before
    assert len(held) == 2
    assert len([n for n in tar.getnames() if n.split("/")[-1] in held]) == 1
    started = time.time()
    assert runner.invoke(main, sweep).exit_code == 0  # the period's sweep, tonight
    written = {p.name: p.stat().st_ctime for p in envelope_files(instance) if p.name in held}
    early = sorted(n for n, ctime in written.items() if ctime < started)
    assert not early, f"the backup wrote {early} into the store at its own moment"
