"""A backup planted where the operator keeps them, or swapped on its stick, put back.

`age` authenticates nothing: whoever knows the backup's recipient (the shell
history of the backup's command holds it) writes a backup that decrypts. The
seizer lacks one thing a genuine backup holds: the server's signing key, whose
fingerprint the review workspace pinned. So a restore checks the backup's signing
key against the fingerprint the operator gives, and every member's kind, name and
size, before it writes anything (PROTOCOL §13.7.1).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.errors import ConfigError, InstanceError
from app.instance import InstancePaths
from app.models import today
from app.operations.restore import put_back_line
from crypto import SigningKey

# The files and SQLite (PostgreSQL: test_backup_postgres.py, test_restore_postgres.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _backup(runner: CliRunner, instance: Path) -> bytes:
    result = runner.invoke(main, ["--instance", str(instance), "backup"])
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def _fingerprint(instance: Path) -> str:
    text = InstancePaths(instance).signing_key.read_text("ascii")
    return str(SigningKey.from_text(text).verify_key.fingerprint)


def _rewritten(
    backup: bytes,
    change: Callable[[tarfile.TarInfo, bytes], tuple[tarfile.TarInfo, bytes] | None],
    extra: tuple[tuple[tarfile.TarInfo, bytes], ...] = (),
) -> bytes:
    """The backup as a seizer rewrites it: each member changed (or left out), and more."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(backup)) as src,
        tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst,
    ):
        for info in src.getmembers():
            data = src.extractfile(info).read() if info.isfile() else b""  # type: ignore[union-attr]
            changed = change(info, data)
            if changed is not None:
                dst.addfile(changed[0], io.BytesIO(changed[1]) if changed[0].isfile() else None)
        for info, data in extra:
            dst.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return out.getvalue()


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **more: object
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o600
    for key, value in more.items():
        setattr(info, key, value)
    return info, data


def _restore(instance: Path, backup: bytes, fingerprint: str) -> tuple[int, str]:
    """Put the backup back as deploy/README.md §1.7 says (a fresh host: no instance yet)."""
    result = CliRunner().invoke(
        main, ["--instance", str(instance), "restore", "--signing-key", fingerprint], input=backup
    )
    return result.exit_code, result.output


def _fresh(instance: Path) -> Path:
    """The lost disk: the instance directory as a fresh host has it, empty."""
    for path in sorted(instance.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    return instance


def test_a_backup_holding_another_signing_key_is_refused_and_nothing_is_written(
    instance: Path, app: Flask, runner: CliRunner, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    # The seizer's backup: its own signing key (the onion keys, staff and secret key of its
    # own follow), the database somewhere of its choosing, no `restored` mark to finish.
    genuine = _backup(runner, instance)
    pinned = _fingerprint(instance)
    theirs = SigningKey.generate().to_text().encode()

    def planted(info: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes] | None:
        if info.name == "restored":
            return None
        if info.name == "server_signing_key":
            data = theirs
        if info.name == "config.json":
            config = json.loads(data)
            config["DATABASE_URL"] = f"sqlite:///{tmp_path / 'elsewhere.db'}"
            data = json.dumps(config).encode()
        info.size = len(data)
        return info, data

    status, output = _restore(_fresh(instance), _rewritten(genuine, planted), pinned)

    assert sorted(instance.iterdir()) == [], (
        f"a planted backup was written into the instance ({status}: {output})"
    )
    assert status == 1, output
    assert "signing key" in output
    assert pinned in output
    with pytest.raises(InstanceError, match="no instance"):
        make_app()


_OUTSIDE = "/etc/hostname"
_PLANTS = {
    "symlink": _member("secret_key", tarfile.SYMTYPE, linkname=_OUTSIDE),
    "hard-link": _member("store/aaaa.rze", tarfile.LNKTYPE, linkname="config.json"),
    "device": _member("tor/stolen.key", tarfile.CHRTYPE, devmajor=1, devminor=3),
    "fifo": _member("keyring/pipe", tarfile.FIFOTYPE),
    "climbing-out": _member("store/../../escaped", data=b"planted"),
    "absolute": _member("/tmp/raazdar-escaped", data=b"planted"),
    "unknown-name": _member("cron.d/job", data=b"* * * * * root sh"),
    "set-uid": _member("store/bbbb.rze", data=b"#!/bin/sh\n", mode=0o4755),
}


@pytest.mark.parametrize("plant", list(_PLANTS), ids=list(_PLANTS))
def test_a_backup_holding_a_link_a_device_or_a_name_outside_is_refused_and_nothing_is_written(
    instance: Path, app: Flask, runner: CliRunner, plant: str
) -> None:
    genuine = _backup(runner, instance)
    pinned = _fingerprint(instance)
    # After every genuine member, the signing key among them: what came before it was
    # written when the plant is met, and the refusal takes it all back.
    planted = _rewritten(genuine, lambda info, data: (info, data), (_PLANTS[plant],))

    status, output = _restore(_fresh(instance), planted, pinned)

    assert sorted(instance.iterdir()) == [], (
        f"a backup with a planted {plant} was written into the instance ({status}: {output})"
    )
    assert not Path("/tmp/raazdar-escaped").exists()
    assert not (instance.parent / "escaped").exists()
    assert status == 1, output
    assert "nothing was written" in output


def test_a_member_claiming_a_huge_size_is_refused_before_it_is_read(
    instance: Path, app: Flask, runner: CliRunner
) -> None:
    pinned = _fingerprint(instance)
    info, _ = _member("store/cccc.rze")
    info.size = 64 << 30  # the stream ends long before: a disk filled, or memory
    header = info.tobuf(tarfile.PAX_FORMAT)

    status, output = _restore(_fresh(instance), header + bytes(4096), pinned)

    assert sorted(instance.iterdir()) == [], f"a part of it was written ({status}: {output})"
    assert status == 1, output
    assert "'store/cccc.rze'" in output
    assert "nothing was written" in output


def test_a_backup_cut_short_between_two_members_is_refused_and_nothing_is_written(
    instance: Path, app: Flask, runner: CliRunner
) -> None:
    # `age -d` writes what it decrypted before it finds the file cut short, and a pipe
    # hides its failure: cut after the signing key, the envelopes and tor's keys are gone.
    genuine = _backup(runner, instance)
    pinned = _fingerprint(instance)
    with tarfile.open(fileobj=io.BytesIO(genuine)) as tar:
        names = [m.name for m in tar]
        after_key = tar.getmembers()[names.index("server_signing_key") + 1]

    status, output = _restore(_fresh(instance), genuine[: after_key.offset], pinned)

    assert sorted(instance.iterdir()) == [], f"a part of it was written ({status}: {output})"
    assert status == 1, output
    assert "stops before its end" in output


def test_an_instance_that_holds_files_takes_no_backup_and_keeps_them(
    instance: Path, app: Flask, runner: CliRunner
) -> None:
    genuine = _backup(runner, instance)
    pinned = _fingerprint(instance)
    before = {p: p.read_bytes() for p in instance.rglob("*") if p.is_file()}

    status, output = _restore(instance, genuine, pinned)

    assert status == 1, output
    assert "holds files already" in output
    assert {p: p.read_bytes() for p in instance.rglob("*") if p.is_file()} == before


def test_a_restore_killed_halfway_is_taken_again_and_its_files_go(
    instance: Path, app: Flask, runner: CliRunner
) -> None:
    genuine = _backup(runner, instance)
    pinned = _fingerprint(instance)
    killed = _fresh(instance) / ".restore-k1ll3d"
    (killed / "keyring").mkdir(parents=True)
    (killed / "keyring" / "pinned.json").write_bytes(b"{}")

    status, output = _restore(instance, genuine, pinned)

    assert status == 0, output
    assert not killed.exists()
    assert (instance / "server_signing_key").exists()


def test_a_genuine_backup_is_put_back_whole_and_the_server_waits_for_its_purge(
    instance: Path, app: Flask, runner: CliRunner, make_app: Callable[..., Flask]
) -> None:
    genuine = _backup(runner, instance)
    pinned = _fingerprint(instance)
    with tarfile.open(fileobj=io.BytesIO(genuine)) as tar:
        expected = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    # The restore adds the day it put the backup back: its purge wants a timestamp since.
    expected["restored"] += put_back_line(today())

    # The histories a fresh host sends to /dev/null (deploy/README.md §1.2) stay as they are.
    (_fresh(instance) / ".bash_history").symlink_to(os.devnull)
    status, output = _restore(instance, genuine, pinned)

    assert status == 0, output
    assert "put back from the backup of" in output
    assert (instance / ".bash_history").is_symlink()
    found = {
        str(p.relative_to(instance)): p.read_bytes()
        for p in instance.rglob("*")
        if p.is_file() and not p.is_symlink()
    }
    assert found == expected
    assert all(
        (p.stat().st_mode & 0o777) in (0o600, 0o700) and p.stat().st_mtime == 0
        for p in instance.rglob("*")
        if not p.is_symlink()
    )
    assert os.stat(instance).st_mode & 0o077 == 0
    with pytest.raises(ConfigError, match="put back from a backup"):
        make_app()
