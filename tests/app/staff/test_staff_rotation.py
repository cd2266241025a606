"""The secret key's rotation ends every session, and locks no staff member out.

Each account's TOTP secret is sealed under a key made from the secret key
(PROTOCOL §15): rotated and the server restarted, no secret opened, so every
login, the right password and code too, was refused as a wrong code, and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyotp
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from tests.app.staff_support import PASSWORD, known_user, make_staff, staff_client, submit_login


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
