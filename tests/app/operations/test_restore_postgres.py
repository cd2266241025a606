"""A PostgreSQL instance put back from its backup: the database with the files, only the server's.

deploy/README.md had the operator load a `pg_dump` lying beside the backup with
`psql`: a dump the seizer planted there (a source's public key of their own) was
loaded as it came
(before the fix: "the seizer's dump was loaded: a source's public key is theirs").
Now the dump is a member of the backup, which `age` seals whole, and is loaded only
once the backup's signing key has the pinned fingerprint, into an empty database, in
one transaction (`app.operations.pg_backup`).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.cli import main
from app.config import config_for
from app.db import Base
from app.instance import InstancePaths
from app.models import SessionRow, today
from app.operations import pg_backup, put_back
from app.services.audit import record
from app.settings import set_setting
from crypto import Fingerprint, PrivateKey, SigningKey
from tests.app.support import Visitor, db_session, reply_to, reviewer_keys
from tests.postgres import postgres_admin_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

Rows = dict[str, list[tuple[Any, ...]]]


def _fingerprint(instance: Path) -> str:
    text_ = InstancePaths(instance).signing_key.read_text("ascii")
    return str(SigningKey.from_text(text_).verify_key.fingerprint)


def _backup(runner: CliRunner, instance: Path) -> bytes:
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    assert "and the database" in result.stderr
    return result.stdout_bytes


def _restore(instance: Path, backup: bytes, fingerprint: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--instance", str(instance), "restore", "--signing-key", fingerprint], input=backup
    )
    return result.exit_code, result.output


def _lost(url: str) -> None:
    """The PostgreSQL server is lost: the operator makes the database again, empty."""
    name = make_url(url).database
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _fresh(instance: Path) -> Path:
    """The lost disk: the instance directory as a fresh host has it, empty."""
    for path in sorted(instance.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    return instance


def _rows(url: str) -> Rows:
    """Every row of every table the models declare, in key order; {} for an empty database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if connection.execute(text("SELECT to_regclass('public.sources')")).scalar() is None:
                return {}
            return {
                table.name: sorted(tuple(row) for row in connection.execute(table.select()))
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _comments(url: str) -> list[str]:
    """Every comment on a relation of the database (the load's mark is one)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = text(
                "SELECT d.description FROM pg_catalog.pg_description d"
                " JOIN pg_catalog.pg_class c ON c.oid = d.objoid"
                " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public'"
            )
            return list(connection.execute(query).scalars())
    finally:
        engine.dispose()


def _transactions(url: str) -> set[str]:
    """The transaction ids the rows of every table of the models carry."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                xmin
                for table in Base.metadata.sorted_tables
                for xmin in connection.execute(
                    text(f"SELECT DISTINCT xmin::text FROM {table.name}")  # noqa: S608 - a model's
                ).scalars()
            }
    finally:
        engine.dispose()


def _members(backup: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(backup)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _rewritten(backup: bytes, changed: dict[str, bytes], extra: dict[str, bytes]) -> bytes:
    """The backup as a seizer writes it again: members changed, and more after them."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(backup)) as src,
        tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst,
    ):
        for info in src.getmembers():
            data = src.extractfile(info).read() if info.isfile() else b""  # type: ignore[union-attr]
            data = changed.get(info.name, data)
            info.size = len(data) if info.isfile() else 0
            dst.addfile(info, io.BytesIO(data) if info.isfile() else None)
        for name, data in extra.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            dst.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _with_a_reply(app: Flask, instance: Path, visitor: Visitor) -> tuple[str, str]:
    """A source with a report and a reply; its codename and the reply's text."""
    page = visitor.start()
    codename = page.fields["codename"]
    visitor.filed(visitor.send(page, "the SHO took the money"))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    said = "We read it: tell us the name of the station"
    reply_to(app, codename, said, signer)
    return codename, said


def test_a_postgresql_backup_puts_back_the_database_the_app_serves(
    app: Flask, instance: Path, visitor: Visitor, runner: CliRunner, database_url: str
) -> None:
    codename, said = _with_a_reply(app, instance, visitor)
    with db_session(app) as session:
        set_setting(session, "organisation", "Insaf Watch")
        record(session, "admin", "settings-changed", keys=["organisation"])
        session.commit()
    backup = _backup(runner, instance)
    before = _rows(database_url)
    for table in ("sources", "replies", "audit_log", "settings"):
        assert before[table], table
    pinned = _fingerprint(instance)
    _lost(database_url)

    status, output = _restore(_fresh(instance), backup, pinned)

    assert status == 0, output
    assert "and its PostgreSQL database" in output
    after = _rows(database_url)
    # The logins went with the backup (a restore logs everyone out); all else came back.
    assert after == {**before, SessionRow.__tablename__: []}
    assert _comments(database_url) == [], "the load's mark stayed in the restored database"
    assert len(_transactions(database_url)) == 1, "rows restored in more than one transaction"
    assert not (instance / pg_backup.DUMP_NAME).exists()
    # The app serves it (the purge that finishes a restore is test_restore.py's concern).
    InstancePaths(instance).restored.unlink()
    restored = create_app(config_for(instance))
    source = Visitor(restored.test_client())
    source.client.get("/lang/en")
    response = source.log_in(codename)
    assert response.status_code == 303
    assert said in source.get(response.headers["Location"])


@pytest.mark.parametrize("whose", ["planted", "altered"])
def test_a_dump_the_servers_key_does_not_vouch_for_is_refused_and_nothing_is_loaded(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    runner: CliRunner,
    database_url: str,
    whose: str,
) -> None:
    _with_a_reply(app, instance, visitor)
    backup = _backup(runner, instance)
    pinned = _fingerprint(instance)
    genuine = _rows(database_url)
    (source,) = genuine["sources"]
    dump = _members(backup)[pg_backup.DUMP_NAME]
    assert source[0].encode() in dump
    theirs = PrivateKey.generate().public_key.to_text()
    # The seizer's key: the genuine one is sealed in the backup, which `age` keeps whole.
    changed = {"server_signing_key": SigningKey.generate().to_text().encode()}
    if whose == "altered":
        # A genuine backup's dump (a seized replica's) with a source's key swapped.
        public_key = next(v for v in source if isinstance(v, str) and v.startswith("rz-x25519"))
        changed[pg_backup.DUMP_NAME] = dump.replace(public_key.encode(), theirs.encode())
    else:
        # A dump of the seizer's own making, where one source's key is theirs.
        changed[pg_backup.DUMP_NAME] = dump.replace(source[0].encode(), b"f" * 32)
    _lost(database_url)

    status, output = _restore(_fresh(instance), _rewritten(backup, changed, {}), pinned)

    assert _rows(database_url) == {}, f"the seizer's dump was loaded: {output}"
    assert sorted(instance.iterdir()) == [], output
    assert status == 1, output
    assert "signing key" in output
    assert "nothing was written" in output


def test_a_dump_that_comes_twice_is_refused_and_nothing_is_loaded(
    instance: Path, runner: CliRunner, database_url: str
) -> None:
    backup = _backup(runner, instance)
    pinned = _fingerprint(instance)
    _lost(database_url)
    extra = {pg_backup.DUMP_NAME: b"DROP TABLE IF EXISTS public.sources;\n"}

    status, output = _restore(_fresh(instance), _rewritten(backup, {}, extra), pinned)

    assert (status, _rows(database_url)) == (1, {}), output
    assert "comes twice" in output
    assert sorted(instance.iterdir()) == [], output


def test_a_backup_is_not_put_back_over_a_database_that_holds_tables(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    runner: CliRunner,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with_a_reply(app, instance, visitor)
    backup = _backup(runner, instance)
    pinned = _fingerprint(instance)
    other = Visitor(app.test_client())
    other.filed(other.send(other.start(), "a report after the backup"))
    live = _rows(database_url)

    def written(*_: object) -> None:
        pytest.fail("the restore wrote into the instance before it refused the database")

    # The dump and config come before the key: the database is checked before any write.
    monkeypatch.setattr(put_back._Reader, "_start", written)

    status, output = _restore(_fresh(instance), backup, pinned)

    assert status == 1, output
    assert "holds tables already" in output
    assert "nothing was written" in output
    assert _rows(database_url) == live
    assert sorted(instance.iterdir()) == [], output


def _killed_after_load(target: Path, backup: bytes, pinned: str) -> None:
    """Run the restore in a child that SIGKILLs itself once the database's load committed."""

    def run() -> None:
        real = pg_backup.load

        def load(*args: Any, **kwargs: Any) -> None:
            real(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)

        pg_backup.load = load
        put_back.put_back(InstancePaths(target), io.BytesIO(backup), Fingerprint.parse(pinned))

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL, "the restore was not killed"


def test_a_restore_killed_after_its_load_is_finished_by_the_next(
    app: Flask, instance: Path, visitor: Visitor, runner: CliRunner, database_url: str
) -> None:
    _with_a_reply(app, instance, visitor)
    backup = _backup(runner, instance)
    pinned = _fingerprint(instance)
    before = _rows(database_url)
    _lost(database_url)
    _killed_after_load(_fresh(instance), backup, pinned)
    assert _rows(database_url) == {**before, SessionRow.__tablename__: []}
    assert not InstancePaths(instance).config.exists()

    status, output = _restore(instance, backup, pinned)

    assert status == 0, output
    assert _rows(database_url) == {**before, SessionRow.__tablename__: []}
    assert _comments(database_url) == []
    assert InstancePaths(instance).config.exists()
    assert not [p for p in instance.iterdir() if p.name.startswith(".restore")]


def test_a_load_cut_short_commits_nothing_and_the_restore_runs_again(
    instance: Path, runner: CliRunner, database_url: str
) -> None:
    backup = _backup(runner, instance)
    pinned = _fingerprint(instance)
    dump = _members(backup)[pg_backup.DUMP_NAME]
    before = _rows(database_url)
    _lost(database_url)
    script = pg_backup.load_script(dump)
    # The restore killed while psql read: its input ends halfway, between two statements.
    cut = script[: script.index(b"\nCOPY ")]
    target, env = pg_backup.libpq(database_url)
    done = subprocess.run(  # noqa: S603 - psql as the restore runs it, on the test's database
        [*pg_backup.PSQL, "--dbname", target],
        input=cut,
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert _rows(database_url) == {}, "a load cut short left tables behind"

    status, output = _restore(_fresh(instance), backup, pinned)

    assert status == 0, output
    assert _rows(database_url) == {**before, SessionRow.__tablename__: []}


def test_a_restore_killed_while_moving_is_finished_and_its_purge_removes_the_mark(
    app: Flask, instance: Path, visitor: Visitor, runner: CliRunner, database_url: str
) -> None:
    from tests.app.operations.test_restore import _stamp

    _with_a_reply(app, instance, visitor)
    backup = _backup(runner, instance)
    pinned = _fingerprint(instance)
    stamp = _stamp(instance, instance.parent, today())
    _lost(database_url)
    _fresh(instance)

    def run() -> None:
        real, moves = os.rename, [0]

        def rename(*args: Any, **kwargs: Any) -> None:
            moves[0] += 1
            if moves[0] == 2:  # after the load and the checked directory's rename
                os.kill(os.getpid(), signal.SIGKILL)
            real(*args, **kwargs)

        os.rename = rename
        put_back.put_back(InstancePaths(instance), io.BytesIO(backup), Fingerprint.parse(pinned))

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL, "the restore was not killed"
    assert _rows(database_url)["sources"]
    # Another command than `raazdar restore` finishes the moves, and leaves the mark.
    keyring = runner.invoke(main, ["--instance", str(instance), "keyring", "timestamp", str(stamp)])
    assert keyring.exit_code == 0, keyring.output
    assert len(_comments(database_url)) == 1

    purged = runner.invoke(main, ["--instance", str(instance), "purge"])

    assert purged.exit_code == 0, purged.output
    assert "restore: finished" in purged.output
    assert _comments(database_url) == [], "the load's mark outlived the restore's purge"
