"""Two subkey list installs at once: each checks its list against what the other put in place.

`raazdar keyring subkeys install` checked a list against the installed one, then took
the keyring's lock (`app.keyring.keyring_held`) only to write it. Another install (a
second operator, a script run twice) between the two put its list in place unseen:
both were accepted, and the later write replaced the earlier list's keys for the same
weeks without `--rekeyed`, with no record of the keys it replaced.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import subkeys
from app.errors import InstanceError
from app.instance import InstancePaths
from app.keyring import load_keyring
from app.models import today
from crypto.subkeys import Period
from tests.app.subkeys_support import install, signed_list, without_lists

THIS_WEEK = Period.of(today())


@pytest.fixture
def hybrid(instance: Path) -> Path:
    """The demo instance, its keyring of hybrid reviewers (format 3), without a subkey list."""
    return without_lists(instance)


def test_a_list_installed_while_another_install_checks_is_checked_against_it(
    hybrid: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = InstancePaths(hybrid)
    # Two lists of the same weeks with other keys: one after the other, the second is
    # refused as disagreeing with the first.
    _, ours = signed_list(hybrid, THIS_WEEK)
    _, theirs = signed_list(hybrid, THIS_WEEK)
    manifest = load_keyring(paths, today()).manifest
    assert manifest is not None
    outcome: list[str] = []
    real_put = subkeys.put_lists
    command = threading.current_thread()

    def other_install() -> None:
        try:
            subkeys.install_lists(paths, [theirs.to_bytes()], manifest, today())
            outcome.append("installed")
        except InstanceError as exc:
            outcome.append(str(exc))

    def put_meanwhile(at: InstancePaths, checked: list[subkeys.InstalledList]) -> None:
        if threading.current_thread() is not command:
            real_put(at, checked)  # the other install's own write
            return
        # The other install runs between this one's check and its write, as far as it can
        # in a second (held up by the keyring's lock, it goes on after this one).
        other = threading.Thread(target=other_install, daemon=True)
        other.start()
        other.join(1)
        real_put(at, checked)
        waiting.append(other)

    waiting: list[threading.Thread] = []
    monkeypatch.setattr(subkeys, "put_lists", put_meanwhile)
    result = install(runner, hybrid, ours)
    for other in waiting:
        other.join(10)

    assert result.exit_code == 0, result.output
    assert len(outcome) == 1
    assert "disagrees" in outcome[0], f"both disagreeing lists were accepted: {outcome}"
    assert subkeys.read_lists(paths)[manifest.recipients[0].id].to_bytes() == ours.to_bytes()
