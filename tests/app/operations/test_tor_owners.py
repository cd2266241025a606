"""A staff device is revoked with the account it was added for, and the staff onion drops it.

The attacker is a colleague about to be removed (or locked by a keyring that drops
her reviewer key): with her laptop's client key still in the staff onion's client
list she reaches the login page and the staff's login slot after she is gone.
"""

from __future__ import annotations

import html
import os
import re
import signal
import threading
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app.cli import main
from app.operations import serve as serve_module
from app.operations.tor import owners
from app.operations.tor.clients import StaffClients, StaffOnion
from app.operations.tor.control import Tor
from app.services import staff as staff_service
from tests.app.live import demo_instance
from tests.app.operations.test_keyring_install import install_by_cli, install_by_web, successor
from tests.app.operations.test_keyring_revokes_staff import demo_reviewer_signing_key
from tests.app.operations.test_serve_demo import Gunicorn, signals  # noqa: F401 - a fixture
from tests.app.operations.test_serve_stop import _Tor
from tests.app.operations.test_tor_clients import TARGET, FakeTor
from tests.app.staff.test_staff_admin import add_account, staff_browser
from tests.app.staff_support import make_staff
from tests.app.support import audit_trail, db_session, new_reviewer


def cli(runner: CliRunner, instance: Path, *args: str) -> Result:
    return runner.invoke(main, ["--instance", str(instance), *args])


def add_device(runner: CliRunner, instance: Path, name: str, owner: str | None) -> str:
    """`raazdar staff-onion add-client NAME --for OWNER` (no owner: `--shared`); return the
    device's public key."""
    whose = ["--shared"] if owner is None else ["--for", owner]
    result = cli(runner, instance, "staff-onion", "add-client", name, *whose)
    assert result.exit_code == 0, result.output
    keys, _ = StaffClients(instance / "tor").public_keys()
    return keys[name]


def published(instance: Path) -> tuple[FakeTor, StaffOnion]:
    """The staff onion as `raazdar serve` publishes it now, through a tor that records it."""
    clients = StaffClients(instance / "tor")
    tor = FakeTor(clients)
    onion = StaffOnion(cast(Tor, tor), clients, TARGET)
    assert onion.refresh() is True
    return tor, onion


def client_list(tor: FakeTor) -> list[str]:
    """The client keys of the staff onion tor publishes now (ADD_ONION's ClientAuthV3 set)."""
    last = tor.calls[-1]
    return list(last[1]) if last[0] == "publish" else []


def test_a_removed_colleagues_device_no_longer_reaches_the_staff_onion(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    make_staff(app, "alice")
    make_staff(app, "bilal")
    hers = add_device(runner, instance, "alice-laptop", "alice")
    his = add_device(runner, instance, "bilal-laptop", "bilal")
    tor, onion = published(instance)
    assert sorted(client_list(tor)) == sorted([hers, his])

    result = cli(runner, instance, "staff", "remove", "alice")
    assert result.exit_code == 0, result.output
    assert onion.lost_devices(), "serve does not see that a published device is gone"
    onion.refresh()
    assert hers not in client_list(tor), "alice's laptop still opens the staff onion"
    assert client_list(tor) == [his]
    assert "raazdar: revoked alice-laptop, the device added for alice" in result.output
    assert audit_trail(app)[-1] == (
        "console",
        "staff-removed",
        {"username": "alice", "devices": ["alice-laptop"]},
    )


def legacy_device(instance: Path, name: str) -> str:
    """A device authorised before owners were recorded (session 40): no audit entry says whose
    it is. Returns its public key."""
    StaffClients(instance / "tor").add(name)
    keys, _ = StaffClients(instance / "tor").public_keys()
    return keys[name]


def test_a_device_of_nobody_known_is_named_and_stays(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """A shared device, or one from before owners were recorded: nobody can tell whose it is."""
    make_staff(app, "alice")
    old = legacy_device(instance, "alice-laptop")
    shared = add_device(runner, instance, "alice-desk", None)
    result = cli(runner, instance, "staff", "remove", "alice")
    assert result.exit_code == 0, result.output
    assert "alice-desk, alice-laptop can still reach the staff onion" in result.output
    keys, _ = StaffClients(instance / "tor").public_keys()
    assert keys == {"alice-laptop": old, "alice-desk": shared}


def test_an_old_device_assigned_to_an_account_goes_with_it(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    make_staff(app, "alice")
    legacy_device(instance, "laptop-7")
    result = cli(runner, instance, "staff-onion", "assign", "Laptop-7", "--for", "ALICE")
    assert result.exit_code == 0, result.output
    assert "raazdar: laptop-7 is alice's" in result.output
    assert audit_trail(app)[-1] == (
        "console",
        "staff-onion-client-assigned",
        {"device": "laptop-7", "owner": "alice"},
    )
    result = cli(runner, instance, "staff", "remove", "alice")
    assert result.exit_code == 0, result.output
    assert StaffClients(instance / "tor").names() == []


@pytest.mark.parametrize(
    ("device", "owner", "said"),
    [
        ("laptop-7", "eve", "no staff account is called 'eve'"),
        ("laptop-8", "alice", "no device named 'laptop-8' is authorised"),
    ],
)
def test_assigning_to_an_unknown_account_or_device_is_refused_and_nothing_written(
    runner: CliRunner, instance: Path, app: Flask, device: str, owner: str, said: str
) -> None:
    make_staff(app, "alice")
    legacy_device(instance, "laptop-7")
    before = audit_trail(app)
    result = cli(runner, instance, "staff-onion", "assign", device, "--for", owner)
    assert result.exit_code == 1
    assert f"raazdar: error: {said}" in result.output
    assert audit_trail(app) == before


def test_a_device_added_without_saying_whose_it_is_is_refused_and_nothing_written(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """The administrator in a hurry: `add-client alice-laptop` with neither `--for` nor
    `--shared` made a device no removal revokes, so alice's laptop outlived her account."""
    make_staff(app, "alice")
    result = cli(runner, instance, "staff-onion", "add-client", "alice-laptop")
    assert result.exit_code == 2, "a device nobody said whose it is was authorised"
    assert "--for USERNAME" in result.output
    assert "--shared" in result.output
    assert StaffClients(instance / "tor").names() == []
    assert all(e[1] != "staff-onion-client-added" for e in audit_trail(app))
    both = cli(runner, instance, "staff-onion", "add-client", "x", "--for", "alice", "--shared")
    assert both.exit_code == 2
    assert StaffClients(instance / "tor").names() == []


def test_a_device_for_an_unknown_account_is_refused_and_nothing_written(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    result = cli(runner, instance, "staff-onion", "add-client", "eve-laptop", "--for", "eve")
    assert result.exit_code == 1
    assert "raazdar: error: no staff account is called 'eve'" in result.output
    assert StaffClients(instance / "tor").names() == []
    assert all(e[1] != "staff-onion-client-added" for e in audit_trail(app))


def test_the_device_added_for_an_account_says_so_in_the_audit_log(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    make_staff(app, "alice")
    add_device(runner, instance, "alice-phone", "alice")
    assert audit_trail(app)[-1] == (
        "console",
        "staff-onion-client-added",
        {"device": "alice-phone", "owner": "alice"},
    )


def test_the_list_says_whose_each_device_is(runner: CliRunner, instance: Path, app: Flask) -> None:
    make_staff(app, "alice")
    add_device(runner, instance, "alice-laptop", "alice")
    add_device(runner, instance, "spare", None)
    legacy_device(instance, "old")
    shown = cli(runner, instance, "staff-onion", "list").output
    assert re.search(r"^alice-laptop  descriptor:x25519:[A-Z2-7]{52}  \(for alice\)$", shown, re.M)
    assert re.search(r"^spare  descriptor:\S+  \(shared: no removal revokes it\)$", shown, re.M)
    assert re.search(
        r"^old  descriptor:\S+  \(for nobody: no removal revokes it; "
        r"`raazdar staff-onion assign old --for USERNAME`\)$",
        shown,
        re.M,
    )


def test_a_device_of_an_account_removed_on_the_admin_page_is_revoked(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    admin = staff_browser(app).log_in(add_account(app, "root", "admin"))
    clerk = add_account(app, "clerk")
    hers = add_device(runner, instance, "clerk-laptop", "clerk")
    tor, onion = published(instance)
    assert client_list(tor) == [hers]
    response = admin.post(f"/staff/admin/accounts/{clerk}/remove", {"confirm": "y"})
    assert response.status_code == 303
    shown = html.unescape(admin.get(response.location))
    assert "Revoked with the account: clerk-laptop" in shown
    onion.refresh()
    assert client_list(tor) == [], "the removed clerk's laptop still opens the staff onion"
    assert onion.address is None


@pytest.mark.parametrize("door", ["console", "web"])
def test_an_install_that_locks_a_revoked_reviewers_account_revokes_her_devices(
    runner: CliRunner, instance: Path, app: Flask, door: str
) -> None:
    admin = staff_browser(app).log_in(add_account(app, "root", "admin"))
    make_staff(app, "rehana")
    make_staff(app, "kiran", actor="rehana")
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, "rehana")
        staff_service.bind_reviewer(session, "root", account, demo_reviewer_signing_key(instance))
    hers = add_device(runner, instance, "rehana-laptop", "rehana")
    his = add_device(runner, instance, "kiran-laptop", "kiran")
    tor, onion = published(instance)
    _, other = new_reviewer()
    data = successor(instance, [other]).to_bytes()

    if door == "console":
        status, shown = install_by_cli(runner, instance, data)
        assert status == 0, shown
    else:
        status, page = install_by_web(admin, data)
        assert status == 303, page
        shown = html.unescape(page)
    assert "Revoked with the account: rehana-laptop" in shown or (
        "raazdar: revoked rehana-laptop, the device added for rehana" in shown
    ), shown
    onion.refresh()
    assert hers not in client_list(tor), "the revoked reviewer's laptop opens the staff onion"
    # Kiran is locked because rehana set his password: his laptop is his, never hers.
    assert client_list(tor) == [his]
    locked = [e for e in audit_trail(app) if e[1] == "staff-locked"]
    assert locked[0][2]["devices"] == ["rehana-laptop"]
    assert "devices" not in locked[1][2]


def test_a_removal_rolled_back_puts_the_devices_back(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """A removal that never commits (a database error) loses nobody's device."""
    make_staff(app, "alice")
    key = add_device(runner, instance, "alice-laptop", "alice")
    clients = StaffClients(instance / "tor")
    with app.app_context(), db_session(app) as session:
        assert owners.revoke(session, clients, "alice") == ["alice-laptop"]
        assert clients.names() == []
        session.rollback()
    assert clients.public_keys() == ({"alice-laptop": key}, [])
    assert list(clients.directory.iterdir()) == [clients.directory / "alice-laptop.pub"]


def test_serve_republishes_at_once_for_a_device_revoked_but_waits_for_sighup_to_add(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    """A removal on the admin pages cannot send `raazdar serve` a SIGHUP: it must see it."""
    make_staff(app, "alice")
    add_device(runner, instance, "alice-laptop", "alice")
    _, onion = published(instance)
    add_device(runner, instance, "bilal-laptop", None)
    assert not onion.lost_devices()
    clients = StaffClients(instance / "tor")
    clients.remove("alice-laptop")
    assert onion.lost_devices()


def test_a_removal_goes_through_when_a_device_cannot_be_revoked_and_names_that_device(
    runner: CliRunner, instance: Path, app: Flask
) -> None:
    # Refusing the removal (as this change first did) left her the account as well as the
    # device; the keyring install that drops her reviewer would be refused the same way.
    make_staff(app, "alice")
    add_device(runner, instance, "alice-laptop", "alice")
    phone = add_device(runner, instance, "alice-phone", "alice")
    clients = StaffClients(instance / "tor")
    # Where the phone's key would be set aside stands a directory: the rename fails.
    (clients.directory / ".alice-phone.pub.revoked" / "x").mkdir(parents=True)
    result = cli(runner, instance, "staff", "remove", "alice")
    assert result.exit_code == 0, result.output
    assert "raazdar: revoked alice-laptop, the device added for alice" in result.output
    assert "alice-phone can still reach the staff onion" in result.output
    assert clients.public_keys() == ({"alice-phone": phone}, [])
    with app.app_context(), db_session(app) as session:
        assert staff_service.find_account(session, "alice") is None
    assert audit_trail(app)[-1][1] == "staff-removed"


@pytest.mark.usefixtures("signals")
def test_a_running_serve_republishes_without_a_revoked_device_unasked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin pages' removal revokes the devices' keys but sends `raazdar serve` no SIGHUP:
    until a reload, tor went on letting the removed colleague's laptop in."""
    instance = demo_instance(tmp_path / "instance")
    clients = StaffClients(instance / "tor")
    clients.add("alice-laptop")
    bob = clients.add("bob-laptop")
    tor = FakeTor(clients)
    onion = StaffOnion(cast(Tor, tor), clients, TARGET)

    def start_tor(_paths: Any, _how: Any, _ports: Any, served: Any, *_rest: Any) -> Any:
        served.staff = onion
        onion.refresh()
        return _Tor(), None, served

    monkeypatch.setattr("app.operations.serve.subprocess.Popen", Gunicorn)
    monkeypatch.setattr(serve_module, "_start_tor", start_tor)
    monkeypatch.setattr("app.operations.tor.private.load", lambda: object)
    revoke = threading.Timer(0.5, clients.remove, ("alice-laptop",))
    stop = threading.Timer(3.5, os.kill, (os.getpid(), signal.SIGINT))
    revoke.start()
    stop.start()
    said: list[str] = []
    try:
        serve_module.serve(
            instance, port=1, tor_mode="private", say=said.append, sweep_at_start=False
        )
    finally:
        revoke.cancel()
        stop.cancel()
    assert client_list(tor) == [bob.key.public_b32], "tor still lets the revoked laptop in"
    assert any("1 device(s): bob-laptop" in line for line in said), said
