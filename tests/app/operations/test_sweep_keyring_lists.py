"""The sweep makes anew the keyring files an install replaces in place: subkey lists, timestamp.

A list that replaced the day's subkey splits that day's reports by the keys their
headers name; the file's times, to the nanosecond, dated the split (docs/PROTOCOL.md
§1.1.1). The sweep runs while installs may: it never puts an older file back.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.demo import DEMO_PASSPHRASE, DEMO_REVIEWER, TIMESTAMP_KEY_NAME
from app.instance import InstancePaths
from app.keyring import (
    TIMESTAMP_NAME,
    install_timestamp,
    keyring_held,
    load_keyring,
    manifest_path,
    timestamp_path,
)
from app.models import today
from app.noatime import read_quietly
from app.operations import keyring_admin, sweep
from app.operations.rotation import Promoted, finish_promotion, onion_paths, pending_signing_path
from app.services.context import services
from app.subkeys import install_lists, list_path, read_lists, subkeys_dir, superseded_path
from crypto import KeyFile, SignedManifest, SigningKey, make_timestamp
from crypto.onion import OnionServiceKey
from crypto.subkeys import Period
from tests.app.seizure import seize
from tests.app.subkeys_support import install, signed_list, without_lists
from tests.app.test_instance_keyring import listing, successor_file

CLOCK_TICK = 10_000_000  # a coarse filesystem tick, in nanoseconds


def _sweep(runner: CliRunner, instance: Path) -> None:
    result = runner.invoke(main, ["--instance", str(instance), "sweep", "--force"])
    assert result.exit_code == 0, result.output


def _timestamp_key(paths: InstancePaths) -> SigningKey:
    held = paths.demo_keys / TIMESTAMP_KEY_NAME
    key = KeyFile.from_bytes(held.read_bytes()).unlock(DEMO_PASSPHRASE).signing
    assert key is not None
    return key


def _timestamp_file(instance: Path, paths: InstancePaths, subkeys: int) -> Path:
    """A timestamp for the keyring in force, signed with the demo key, beside the instance."""
    manifest = SignedManifest.from_bytes(manifest_path(paths, 1).read_bytes()).manifest
    stamp = make_timestamp(
        manifest, _timestamp_key(paths), issued=today(), days=7, subkeys={DEMO_REVIEWER: subkeys}
    )
    path = instance.parent / f"timestamp-{subkeys}.json"
    path.write_bytes(stamp.to_bytes())
    return path


def _install_timestamp(runner: CliRunner, instance: Path, subkeys: int) -> None:
    path = _timestamp_file(instance, InstancePaths(instance), subkeys)
    command = ["--instance", str(instance), "keyring", "timestamp", str(path)]
    result = runner.invoke(main, command)
    assert result.exit_code == 0, result.output


def test_after_the_sweep_no_subkey_list_or_timestamp_dates_its_install(
    instance: Path, runner: CliRunner
) -> None:
    """A re-keyed list (and its record of the replaced keys) and a timestamp installed
    through the commands: after the sweep no time under the keyring is the install's."""
    paths = InstancePaths(instance)
    _, leaked = signed_list(without_lists(instance), Period.of(today()))
    assert install(runner, instance, leaked).exit_code == 0
    _sweep(runner, instance)  # an earlier day's install, swept
    _, rekeyed = signed_list(instance, Period.of(today()))
    stamp = _timestamp_file(
        instance, paths, 1
    )  # written before: the test's writes are not installs
    time.sleep(0.05)  # the instance was made just before, a coarse tick before `start`
    start = time.time_ns() - CLOCK_TICK
    result = install(runner, instance, rekeyed, flags=("--rekeyed",))
    assert result.exit_code == 0, result.output
    command = ["--instance", str(instance), "keyring", "timestamp", str(stamp)]
    result = runner.invoke(main, command)
    assert result.exit_code == 0, result.output
    end = time.time_ns()
    time.sleep(0.05)  # the sweep's own stamps come after the installs'
    _sweep(runner, instance)
    seized = seize(instance)
    dated = {
        f"{path.relative_to(instance)} {name}": value
        for path, stamps in seized.stamps.items()
        if path.is_relative_to(paths.keyring)
        for name, value in stamps.times().items()
        if start <= value <= end
    }
    assert superseded_path(paths, DEMO_REVIEWER) in seized.stamps
    assert dated == {}
    # `pinned.json` too, written at `init`, which a copy of the disk dated as well.
    kept = {p: s for p, s in seized.stamps.items() if p.is_relative_to(paths.keyring)}
    assert {p.name for p, s in kept.items() if s.mtime != 0} == set()
    # Made anew, not changed: the list and the timestamp in force are the ones installed.
    assert read_lists(paths)[DEMO_REVIEWER].to_bytes() == rekeyed.to_bytes()
    assert timestamp_path(paths).read_bytes() == stamp.read_bytes()


def _newer_timestamp(instance: Path) -> bytes:
    return _timestamp_file(instance, InstancePaths(instance), 2).read_bytes()


def _put_newer_timestamp(instance: Path, data: bytes) -> None:
    paths = InstancePaths(instance)
    manifest = load_keyring(paths, today()).require()
    install_timestamp(paths, data, manifest, today())


def _newer_list(instance: Path) -> bytes:
    return signed_list(instance, Period.of(today()))[1].to_bytes()


def _put_newer_list(instance: Path, data: bytes) -> None:
    paths = InstancePaths(instance)
    manifest = load_keyring(paths, today()).require()
    install_lists(paths, [data], manifest, today(), rekeyed=True)


RACES: dict[str, tuple[Callable[[Path], bytes], Callable[[Path, bytes], None]]] = {
    TIMESTAMP_NAME: (_newer_timestamp, _put_newer_timestamp),
    f"{DEMO_REVIEWER}.json": (_newer_list, _put_newer_list),
}


@pytest.mark.parametrize("name", sorted(RACES))
def test_an_install_while_the_sweep_makes_the_file_anew_is_never_undone(
    instance: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The sweep reads the file, then an install puts a newer one in place, then the sweep
    puts its copy in: the older file would win, and the keyring go back a list or a stamp."""
    paths = InstancePaths(instance)
    _, first = signed_list(without_lists(instance), Period.of(today()))
    assert install(runner, instance, first).exit_code == 0
    _install_timestamp(runner, instance, 1)
    newer, put = RACES[name]
    data = newer(instance)
    _race(runner, instance, monkeypatch, name, lambda: put(instance, data))
    target = timestamp_path(paths) if name == TIMESTAMP_NAME else list_path(paths, DEMO_REVIEWER)
    assert target.read_bytes() == data, "the sweep put the older file back over the install"


def _race(
    runner: CliRunner,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    put: Callable[[], None],
) -> None:
    """Sweep, and `put` a newer file in place once the sweep has read the file `name`."""
    read, installed = threading.Event(), threading.Event()

    def paused(path: Path) -> bytes:
        found = read_quietly(path)
        if path.name == name and not read.is_set():
            read.set()
            # Long enough for an install that is not held off to be done meanwhile.
            installed.wait(timeout=1.0)
        return found

    def install_meanwhile() -> None:
        if read.wait(timeout=30):
            put()
            installed.set()

    monkeypatch.setattr(sweep, "read_quietly", paused)
    installer = threading.Thread(target=install_meanwhile)
    installer.start()
    try:
        _sweep(runner, instance)
    finally:
        installer.join(timeout=30)
    assert read.is_set()
    assert installed.is_set()


# Files only: the database plays no part.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_key_switched_to_while_the_sweep_makes_the_old_anew_is_never_undone(
    instance: Path, tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyring install cut off before it switched keys is finished by the next export as
    the sweep copies the old key: the copy would go back over the new key, which is lost."""
    paths = InstancePaths(instance)
    command = ["--instance", str(instance)]
    assert runner.invoke(main, [*command, "rotate", "signing-key"]).exit_code == 0
    signing = SigningKey.from_text(pending_signing_path(paths).read_text().strip()).verify_key
    keyring = successor_file(instance, tmp_path, instance=listing(instance, server_keys=(signing,)))
    with monkeypatch.context() as patch:  # cut off after the manifest, before the switch
        patch.setattr(keyring_admin, "promote", lambda *_: Promoted())
        result = runner.invoke(main, [*command, "keyring", "install", str(keyring)])
    assert result.exit_code == 0, result.output
    name = paths.signing_key.name
    _race(runner, instance, monkeypatch, name, lambda: _finish(paths))
    switched = SigningKey.from_text(paths.signing_key.read_text().strip()).verify_key
    assert switched == signing, "the sweep put the retired signing key back over the new one"


def _finish(paths: InstancePaths) -> None:
    assert finish_promotion(paths, today()).signing_key


def test_a_list_a_full_disk_kept_from_being_made_anew_is_made_anew_by_the_next_sweep(
    instance: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = InstancePaths(instance)
    path = list_path(paths, DEMO_REVIEWER)
    inode = path.stat().st_ino

    def full(target: Path, data: bytes, place: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(sweep, "write_whole", full)
        _sweep(runner, instance)  # the rest of the sweep is done
    assert path.stat().st_ino == inode
    assert path.stat().st_mtime_ns != 0
    _sweep(runner, instance)
    assert path.stat().st_ino != inode
    assert path.stat().st_mtime_ns == 0
    assert not [p for p in subkeys_dir(paths).iterdir() if p.name.endswith(".part")]


def test_a_timestamp_made_anew_with_the_size_of_the_last_is_the_one_served(
    app: Flask, instance: Path, runner: CliRunner
) -> None:
    """Made anew, two timestamps of one size both have the epoch's times (and maybe one
    inode, reused): the keyring cache took the newer for the older until the day turned."""
    _install_timestamp(runner, instance, 1)
    _sweep(runner, instance)
    with app.app_context():
        served = services().keyring().timestamp
    assert served is not None
    older = served.to_bytes()
    _install_timestamp(runner, instance, 2)
    _sweep(runner, instance)
    newer = timestamp_path(InstancePaths(instance)).read_bytes()
    assert len(newer) == len(older)
    assert newer != older
    with app.app_context():
        served = services().keyring().timestamp
    assert served is not None
    assert served.to_bytes() == newer


# Files only: the database plays no part.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_after_the_sweep_no_key_a_keyring_install_switched_to_dates_it(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    """A keyring that lists a rotated signing key and onion alone switches to them as it is
    installed: the key files' change times were the install's, which the sweep now hides."""
    paths = InstancePaths(instance)
    command = ["--instance", str(instance)]
    assert runner.invoke(main, [*command, "rotate", "signing-key"]).exit_code == 0
    assert runner.invoke(main, [*command, "rotate", "onion"]).exit_code == 0
    signing = SigningKey.from_text(pending_signing_path(paths).read_text().strip()).verify_key
    onion = OnionServiceKey.from_tor(onion_paths(paths)[1].read_text()).address
    keyring = successor_file(
        instance, tmp_path, instance=listing(instance, server_keys=(signing,), onions=(onion,))
    )
    time.sleep(0.05)  # the rotations' own stamps come a coarse tick before `start`
    start = time.time_ns() - CLOCK_TICK
    result = runner.invoke(main, [*command, "keyring", "install", str(keyring)])
    assert result.exit_code == 0, result.output
    end = time.time_ns()
    time.sleep(0.05)  # the sweep's own stamps come after the install's
    _sweep(runner, instance)
    seized = seize(instance, skip=())
    keys = (paths.signing_key, onion_paths(paths)[0])
    dated = {
        f"{path.relative_to(instance)} {name}": value
        for path, stamps in seized.stamps.items()
        if path in keys or path in {p.parent for p in keys}
        for name, value in stamps.times().items()
        if start <= value <= end
    }
    assert dated == {}
    # Made anew, not changed: the server signs and publishes with the keys switched to.
    assert SigningKey.from_text(paths.signing_key.read_text().strip()).verify_key == signing
    assert OnionServiceKey.from_tor(onion_paths(paths)[0].read_text()).address == onion


def test_the_keyring_lock_taken_again_by_its_holder_is_held_and_others_wait(
    instance: Path,
) -> None:
    """A second `flock` of one process waits for its first for ever: a call under the lock
    that takes it again (an install inside the sweep's hold) would hang the server."""
    paths = InstancePaths(instance)
    order: list[str] = []

    def holder() -> None:
        with keyring_held(paths):
            with keyring_held(paths):
                order.append("again")
            other = threading.Thread(target=lambda: _take(paths, order))
            other.start()
            other.join(0.5)
            order.append("released" if other.is_alive() else "shared")
        other.join(5)

    taking = threading.Thread(target=holder, daemon=True)
    taking.start()
    taking.join(10)
    assert not taking.is_alive(), "taken again by its holder, the lock waited for itself"
    assert order == ["again", "released", "other"], "another thread took the lock held"


def _take(paths: InstancePaths, order: list[str]) -> None:
    with keyring_held(paths):
        order.append("other")
