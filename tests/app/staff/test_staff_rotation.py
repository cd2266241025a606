"""The secret key's rotation ends every session, and locks no staff member out.

Each account's TOTP secret is sealed under a key made from the secret key
(PROTOCOL §15): rotated and the server restarted, no secret opened, so every
login, the right password and code too, was refused as a wrong code, and counted.
"""

from __future__ import annotations

import errno
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask

from app import kdf_pool, runkey
from app.cli import main
from app.errors import ConfigError
from app.instance import InstancePaths
from app.operations import rotation
from tests.app.faults import StepFaults
from tests.app.staff.test_staff_auth import logged_in
from tests.app.staff_support import (
    PASSWORD,
    fresh_code,
    known_user,
    make_staff,
    staff_client,
    submit_login,
)
from tests.app.support import refusal_to_serve


def test_a_staff_member_logs_in_with_their_authenticator_after_the_secret_keys_rotation(
    make_app: Callable[..., Flask], instance: Path, runner: CliRunner
) -> None:
    app = make_app()
    alice = make_staff(app, "alice")
    result = runner.invoke(main, ["--instance", str(instance), "rotate", "secret-key"])
    assert result.exit_code == 0, result.output
    restarted = make_app()
    assert restarted.config["SECRET_KEY"] != app.config["SECRET_KEY"]
    code = pyotp.TOTP(alice.secret).now()
    response = submit_login(staff_client(restarted), "alice", PASSWORD, code)
    assert response.status_code == 303, "the rotation locked the staff out of their logins"
    # Sealed again under the new key, not kept under the old one: a copy of the old key
    # and of the database opens no secret sealed from now on.
    assert known_user(restarted, "alice").secret == alice.secret


@pytest.mark.parametrize(
    "limit",
    [
        {"STAFF_LOGIN_FAILURES": 3},
        {"STAFF_LOGIN_FAILURES": 10, "STAFF_LOGIN_DAILY_FAILURES": 3},
    ],
    ids=["window", "day"],
)
def test_codes_guessed_before_the_secret_keys_rotation_stay_counted_after_it(
    make_app: Callable[..., Flask],
    instance: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    limit: dict[str, int],
) -> None:
    """Whoever has a password guesses codes until the account is throttled; the audit log
    says so, and the runbook for a compromised server rotates the secret key and restarts.
    The counts are kept under names keyed by the secret key: left under the old names, the
    rotation forgot them, and the guesser had a window's and a day's guesses again."""
    app = make_app(**limit)
    alice = make_staff(app, "alice")
    for _ in range(3):
        assert submit_login(staff_client(app), "alice", PASSWORD, "123456").status_code == 401
    result = runner.invoke(main, ["--instance", str(instance), "rotate", "secret-key"])
    assert result.exit_code == 0, result.output
    # The restart: a new run key too, so the count's window is one this run cannot read,
    # which lets one try through (`app.throttle`), as any restart does.
    monkeypatch.setenv(runkey.ENV, f"{secrets.token_hex(32)}:{time.time():.0f}")
    restarted = make_app(**limit)
    assert submit_login(staff_client(restarted), "alice", PASSWORD, "654321").status_code == 401
    guesser = staff_client(restarted)
    response = submit_login(guesser, "alice", PASSWORD, fresh_code(restarted, alice))
    assert response.status_code == 401, "the rotation forgot the codes guessed before it"
    assert not logged_in(guesser)


def test_a_secret_key_rotation_failing_at_any_step_is_finished_by_the_next_and_locks_no_one_out(
    make_app: Callable[..., Flask],
    instance: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key file replaced, then the second factors sealed again: a failure between the two
    (a full disk, a kill, a database that went away) lost every staff member's second factor."""
    alice = make_staff(make_app(), "alice")
    rotate = ["--instance", str(instance), "rotate", "secret-key"]
    keys = {InstancePaths(instance).secret_key.read_bytes()}

    def action() -> tuple[int, str]:
        result = runner.invoke(main, rotate)
        return result.exit_code, result.output

    def failed(step: int, result: tuple[int, str]) -> None:
        status, output = result
        # A step the app's start up takes and lets fail (emptying a WAL) stops nothing.
        if status != 0:
            assert "raazdar: error:" in output, (step, output)
            again = runner.invoke(main, rotate)
            assert again.exit_code == 0, (step, again.output)
        key = InstancePaths(instance).secret_key.read_bytes()
        assert key not in keys, f"step {step}: the key was not rotated"
        keys.add(key)
        # The secret as the server opens it, under the key on the disk now.
        assert known_user(make_app(), "alice").secret == alice.secret, step

    # The app's start up, which opens each derivation slot, is not this command's to walk.
    walker = StepFaults(
        monkeypatch,
        errno.EIO,
        after=(rotation, "rotate_secret_key"),
        outside=(kdf_pool, "prepare"),
    )
    assert walker.walk(action, failed) > 3
    code = pyotp.TOTP(alice.secret).now()
    response = submit_login(staff_client(make_app()), "alice", PASSWORD, code)
    assert response.status_code == 303, "the rotations locked the staff member out"


def test_a_server_refuses_to_start_while_a_secret_key_rotation_is_cut_off(
    make_app: Callable[..., Flask],
    instance: Path,
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Committed, then cut off before the switch: the second factors are sealed under the
    waiting key, and a server started on the old one refused every staff member's code."""
    alice = make_staff(make_app(), "alice")

    def cut_off(_paths: InstancePaths) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(rotation, "switch_secret_key", cut_off)
        result = runner.invoke(main, ["--instance", str(instance), "rotate", "secret-key"])
    assert result.exit_code == 1, result.output

    with pytest.raises(ConfigError, match="rotate secret-key") as refused:
        make_app()
    assert "again" in str(refused.value)
    assert "rotate secret-key" in str(refusal_to_serve(instance, monkeypatch))
    assert runner.invoke(main, ["--instance", str(instance), "rotate", "secret-key"]).exit_code == 0
    code = pyotp.TOTP(alice.secret).now()
    response = submit_login(staff_client(make_app()), "alice", PASSWORD, code)
    assert response.status_code == 303
