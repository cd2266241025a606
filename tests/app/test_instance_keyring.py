"""The keyring lists the instance; replies trust its reviewers only; the server's keys rotate."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.demo import DEMO_KEYRING_FORMAT, DEMO_PASSPHRASE
from app.instance import InstancePaths, load_config
from app.keyring import manifest_path, timestamp_path
from app.models import today
from app.operations.rotation import finish_promotion, onion_paths, pending_signing_path
from crypto import (
    CodenameParams,
    InstanceListing,
    KdfParams,
    KeyFile,
    Manifest,
    SignedManifest,
    SignedTimestamp,
    SigningKey,
    make_timestamp,
    verify_timestamp,
)
from crypto.onion import OnionServiceKey
from tests.app.staff.test_staff_admin import Staff, add_account, staff_browser
from tests.app.support import (
    Visitor,
    audit_trail,
    demo_authorities,
    holds_login,
    install_successor,
    new_reviewer,
    reply_to,
    reviewer_keys,
    shows_login,
)


def in_force(instance: Path) -> Manifest:
    newest = sorted(InstancePaths(instance).manifests.glob("*.json"))[-1]
    return SignedManifest.from_bytes(newest.read_bytes()).manifest


def successor_file(root: Path, tmp_path: Path, **changes: Any) -> Path:
    """The next keyring, signed by two demo authorities, in a file to install."""
    current = in_force(root)
    manifest = dataclasses.replace(
        current, version=current.version + 1, previous=current.digest(), **changes
    )
    signed = SignedManifest(manifest)
    for key in demo_authorities(root)[:2]:
        signed = signed.sign(key)
    path = tmp_path / f"keyring-v{manifest.version}.json"
    path.write_bytes(signed.to_bytes())
    return path


def raazdar(runner: CliRunner, instance: Path, *args: str) -> Any:
    return runner.invoke(main, ["--instance", str(instance), *args])


def listing(instance: Path, **changes: Any) -> InstanceListing:
    current = in_force(instance).instance
    assert current is not None
    return dataclasses.replace(current, **changes)


def timestamp_key(instance: Path) -> SigningKey:
    path = InstancePaths(instance).demo_keys / "timestamp.key"
    key = KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE).signing
    assert key is not None
    return key


# -- the demo keyring lists its instance -------------------------------------------


def test_the_demo_keyring_lists_the_instance_as_it_is(instance: Path) -> None:
    paths = InstancePaths(instance)
    config = load_config(paths)
    manifest = in_force(instance)
    assert manifest.format == DEMO_KEYRING_FORMAT
    assert manifest.instance is not None
    assert manifest.instance.id == config.instance_id
    server = SigningKey.from_text(paths.signing_key.read_text().strip()).verify_key
    assert manifest.instance.server_keys == (server,)
    onion = OnionServiceKey.from_tor(onion_paths(paths)[0].read_text()).address
    assert manifest.instance.onions == (onion,)
    assert manifest.codename == CodenameParams(config.salt, config.kdf)


def test_the_keyring_document_carries_a_fresh_timestamp(
    client: FlaskClient, instance: Path
) -> None:
    doc = client.get("/api/v1/keyring").get_json()
    stamp = SignedTimestamp.from_json(doc["timestamp"])
    assert verify_timestamp(stamp, in_force(instance), today()).version == 1


def test_a_demo_instance_renews_its_timestamp_for_a_new_keyring(
    client: FlaskClient, instance: Path
) -> None:
    install_successor(instance, [new_reviewer()[1]])
    stamp = SignedTimestamp.from_json(client.get("/api/v1/keyring").get_json()["timestamp"])
    assert verify_timestamp(stamp, in_force(instance), today()).version == 2


# -- point 5 on the server: only the keyring in force's reviewers ------------------


def test_a_reply_by_a_reviewer_the_keyring_in_force_dropped_is_not_shown(
    visitor: Visitor, app: Flask, instance: Path
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "a report"))
    revoked = reviewer_keys(instance).signing
    assert revoked is not None
    install_successor(instance, [new_reviewer()[1]])
    reply_to(app, page.fields["codename"], "Send your CNIC number to 0300-1234567", revoked)
    html = visitor.get("/account")
    assert "0300-1234567" not in html
    assert html.count('<p class="error">') == 1


# -- installing: the keyring must describe this instance ---------------------------


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda i: {"instance": listing(i, id="f" * 32)}, "another instance"),
        (
            lambda i: {"instance": listing(i, server_keys=(SigningKey.generate().verify_key,))},
            "bundle-signing keys",
        ),
        (
            lambda i: {"codename": CodenameParams(bytes(16), KdfParams.TESTING)},
            "lock every source out",
        ),
    ],
    ids=["instance-id", "server-key", "salt"],
)
def test_a_keyring_describing_another_instance_is_refused(
    instance: Path,
    tmp_path: Path,
    runner: CliRunner,
    change: Callable[[Path], dict[str, Any]],
    why: str,
) -> None:
    result = raazdar(
        runner,
        instance,
        "keyring",
        "install",
        str(successor_file(instance, tmp_path, **change(instance))),
    )
    assert result.exit_code == 1
    assert why in result.stderr
    assert in_force(instance).version == 1


# -- rotation ----------------------------------------------------------------------


def test_a_rotated_signing_key_is_used_once_a_keyring_lists_it(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    old = paths.signing_key.read_text()
    result = raazdar(runner, instance, "rotate", "signing-key")
    assert result.exit_code == 0, result.output
    new = SigningKey.from_text(pending_signing_path(paths).read_text().strip()).verify_key
    assert new.to_text() in result.output
    assert paths.signing_key.read_text() == old  # still the old one: the keyring lists only it
    info = json.loads(raazdar(runner, instance, "keyring", "instance-info").stdout)
    assert new.to_text() in info["instance"]["server_keys"]

    installed = raazdar(
        runner,
        instance,
        "keyring",
        "install",
        str(successor_file(instance, tmp_path, instance=listing(instance, server_keys=(new,)))),
    )
    assert installed.exit_code == 0, installed.output
    assert SigningKey.from_text(paths.signing_key.read_text().strip()).verify_key == new
    assert not pending_signing_path(paths).exists()


def test_a_second_signing_key_rotation_does_not_lose_the_pending_key(
    instance: Path, runner: CliRunner
) -> None:
    assert raazdar(runner, instance, "rotate", "signing-key").exit_code == 0
    pending = pending_signing_path(InstancePaths(instance)).read_text()
    again = raazdar(runner, instance, "rotate", "signing-key")
    assert again.exit_code == 1
    assert "already pending" in again.stderr
    assert pending_signing_path(InstancePaths(instance)).read_text() == pending


def test_rotating_the_secret_key_ends_every_session(
    visitor: Visitor,
    app: Flask,
    make_app: Callable[..., Flask],
    instance: Path,
    runner: CliRunner,
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "a report"))
    assert visitor.get("/account")
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = visitor.client.get_cookie(name)
    assert cookie is not None
    # A restart under the same key keeps the session: the cookie is what ends it.
    before = make_app().test_client()
    before.set_cookie(name, cookie.value)
    assert holds_login(before.get("/account"))
    result = raazdar(runner, instance, "rotate", "secret-key")
    assert result.exit_code == 0, result.output
    restarted = make_app().test_client()
    restarted.set_cookie(name, cookie.value)
    assert shows_login(restarted.get("/account"))


def test_an_onion_changeover_lists_both_then_retires_the_old(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    old = listing(instance).onions[0]
    result = raazdar(runner, instance, "rotate", "onion")
    assert result.exit_code == 0, result.output
    new = OnionServiceKey.from_tor(onion_paths(paths)[1].read_text()).address
    assert new in result.output
    info = json.loads(raazdar(runner, instance, "keyring", "instance-info").stdout)
    assert info["instance"]["onions"] == [old, new]

    both = successor_file(instance, tmp_path, instance=listing(instance, onions=(old, new)))
    assert raazdar(runner, instance, "keyring", "install", str(both)).exit_code == 0
    assert onion_paths(paths)[1].exists()  # the changeover: both published

    only_new = successor_file(instance, tmp_path, instance=listing(instance, onions=(new,)))
    assert raazdar(runner, instance, "keyring", "install", str(only_new)).exit_code == 0
    assert OnionServiceKey.from_tor(onion_paths(paths)[0].read_text()).address == new
    assert not onion_paths(paths)[1].exists()


def held(path: Path) -> int:
    """A descriptor on a key file's inode, as a seizer of freed blocks would read them."""
    return os.open(path, os.O_RDONLY)


def read_held(fd: int) -> bytes:
    try:
        return os.pread(fd, 4096, 0)
    finally:
        os.close(fd)


# Files only: the database plays no part.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_promoting_a_rotated_signing_key_overwrites_the_old_one_in_place(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    old = paths.signing_key.read_bytes()
    assert raazdar(runner, instance, "rotate", "signing-key").exit_code == 0
    new = SigningKey.from_text(pending_signing_path(paths).read_text().strip()).verify_key
    fd = held(paths.signing_key)
    keyring = successor_file(instance, tmp_path, instance=listing(instance, server_keys=(new,)))
    assert raazdar(runner, instance, "keyring", "install", str(keyring)).exit_code == 0
    assert SigningKey.from_text(paths.signing_key.read_text().strip()).verify_key == new
    left = read_held(fd)
    assert left == bytes(len(old)), "the retired signing key's bytes are still on the disk"


# Files only: the database plays no part.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_retiring_the_old_onion_overwrites_its_key_in_place(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    current, following = onion_paths(paths)
    assert raazdar(runner, instance, "rotate", "onion").exit_code == 0
    new = OnionServiceKey.from_tor(following.read_text()).address
    old = current.read_bytes()
    fd = held(current)
    only_new = successor_file(instance, tmp_path, instance=listing(instance, onions=(new,)))
    assert raazdar(runner, instance, "keyring", "install", str(only_new)).exit_code == 0
    assert OnionServiceKey.from_tor(current.read_text()).address == new
    left = read_held(fd)
    assert left == bytes(len(old)), "the retired onion's key is still on the disk"


# Files only: the database plays no part.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rotating_the_secret_key_overwrites_the_old_one_in_place(
    instance: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    old = paths.secret_key.read_bytes()
    fd = held(paths.secret_key)
    assert raazdar(runner, instance, "rotate", "secret-key").exit_code == 0
    assert paths.secret_key.read_bytes() != old
    assert len(paths.secret_key.read_bytes()) == 32
    left = read_held(fd)
    assert left == bytes(len(old)), "the old secret key's bytes are still on the disk"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_promotion_a_crash_cut_off_is_finished_by_the_next_export(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    assert raazdar(runner, instance, "rotate", "signing-key").exit_code == 0
    new = SigningKey.from_text(pending_signing_path(paths).read_text().strip()).verify_key
    keyring = successor_file(instance, tmp_path, instance=listing(instance, server_keys=(new,)))
    # `keyring install` writes the manifest, then switches the key: the power failed between.
    version = SignedManifest.from_bytes(keyring.read_bytes()).manifest.version
    manifest_path(paths, version).write_bytes(keyring.read_bytes())
    assert in_force(instance).instance == listing(instance, server_keys=(new,))
    result = raazdar(runner, instance, "export", "--out", str(tmp_path / "bundle.rzb"))
    assert result.exit_code == 0, result.output
    signing = SigningKey.from_text(paths.signing_key.read_text().strip()).verify_key
    assert signing == new, "exports are signed with a key the keyring in force no longer lists"
    assert not pending_signing_path(paths).exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_onion_retirement_a_crash_cut_off_is_finished_before_tor_starts(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    paths = InstancePaths(instance)
    current, following = onion_paths(paths)
    assert raazdar(runner, instance, "rotate", "onion").exit_code == 0
    new = OnionServiceKey.from_tor(following.read_text()).address
    keyring = successor_file(instance, tmp_path, instance=listing(instance, onions=(new,)))
    version = SignedManifest.from_bytes(keyring.read_bytes()).manifest.version
    manifest_path(paths, version).write_bytes(keyring.read_bytes())
    # What `raazdar serve` does before it starts tor.
    assert finish_promotion(paths, today()).onion
    assert OnionServiceKey.from_tor(current.read_text()).address == new
    assert not following.exists()
    assert not finish_promotion(paths, today()).onion  # once only


# -- the timestamp ceremony, server side -------------------------------------------


def test_keyring_timestamp_installs_a_timestamp_for_the_keyring_in_force(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    stamp = make_timestamp(in_force(instance), timestamp_key(instance), issued=today(), days=5)
    path = tmp_path / "timestamp.json"
    path.write_bytes(stamp.to_bytes())
    result = raazdar(runner, instance, "keyring", "timestamp", str(path))
    assert result.exit_code == 0, result.output
    assert timestamp_path(InstancePaths(instance)).read_bytes() == stamp.to_bytes()


def test_keyring_timestamp_refuses_one_for_another_version(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    old = in_force(instance)
    install_successor(instance, [new_reviewer()[1]])
    before = timestamp_path(InstancePaths(instance)).read_bytes()
    path = tmp_path / "timestamp.json"
    path.write_bytes(
        make_timestamp(old, timestamp_key(instance), issued=today(), days=5).to_bytes()
    )
    result = raazdar(runner, instance, "keyring", "timestamp", str(path))
    assert result.exit_code == 1
    assert "another keyring version" in result.stderr
    assert timestamp_path(InstancePaths(instance)).read_bytes() == before


@pytest.mark.parametrize(
    ("command", "action"),
    [
        ("signing-key", "server-signing-key-rotated"),
        ("secret-key", "secret-key-rotated"),
        ("onion", "source-onion-rotated"),
    ],
)
def test_each_rotation_is_in_the_audit_log(
    app: Flask, instance: Path, runner: CliRunner, command: str, action: str
) -> None:
    assert raazdar(runner, instance, "rotate", command).exit_code == 0
    assert audit_trail(app)[-1][:2] == ("console", action)


def test_keyring_show_warns_when_the_keyring_lists_another_onion(
    instance: Path, tmp_path: Path, runner: CliRunner
) -> None:
    elsewhere = listing(instance, onions=(OnionServiceKey.generate().address,))
    drafted = successor_file(instance, tmp_path, instance=elsewhere)
    assert raazdar(runner, instance, "keyring", "install", str(drafted)).exit_code == 0
    shown = raazdar(runner, instance, "keyring", "show")
    assert "lists none of this host's onion addresses" in shown.stderr


@pytest.fixture
def admin(app: Flask) -> Staff:
    """An administrator, logged in on the staff listener."""
    return staff_browser(app).log_in(add_account(app, "root", "admin"))


def test_the_keyring_page_warns_when_the_timestamp_is_stale(instance: Path, admin: Staff) -> None:
    assert "Renew it" not in admin.get("/staff/admin/keyring")
    (InstancePaths(instance).demo_keys / "timestamp.key").unlink()  # no more self-renewal
    install_successor(instance, [new_reviewer()[1]])
    assert "There is no fresh keyring timestamp" in admin.get("/staff/admin/keyring")
