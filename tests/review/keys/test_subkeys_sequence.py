"""A re-keyed subkey list outranks the leaked one it replaced, even when both bear one day.

The attack: a reviewer's store leaks and she re-keys the same day
(`keys subkeys new --rekey`). The server refuses the replaced keys, but a seized
server serves whatever it likes to `raazdar-submit`: the leaked list, signed
the same day in the same format as the re-keyed one. A device that sealed to the
re-keyed list must refuse it, or its next report is sealed to keys the thief holds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path, timestamp_path
from crypto import SignedManifest, SignedSubkeyList, SignedTimestamp
from review import workspace as ws
from review.keys import subkeys
from submit.errors import TrustError
from submit.state import State
from submit.trust import Verified, _check_not_rolled_back
from tests.review.support import Server, review

ISSUED = dt.date(2026, 12, 1)


def _device_sees(
    server: Server, state: State, unlocked: ws.Unlocked, listed: SignedSubkeyList
) -> None:
    """As `raazdar-submit` does once the keyring verified: the list served for the reviewer."""
    signed = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes())
    (rid,) = (
        r.id for r in signed.manifest.recipients if r.signing_key == unlocked.signing.verify_key
    )
    _check_not_rolled_back(state, Verified(signed, (signed.manifest,), {rid: listed}), ISSUED)


def test_a_device_that_saw_the_re_keyed_list_refuses_the_leaked_one_replayed_the_same_day(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    leaked, _ = subkeys.issue(unlocked, 8, ISSUED)
    rekeyed, _ = subkeys.issue(unlocked, 8, ISSUED, rekey=True)
    state = State(tmp_path)
    _device_sees(server, state, unlocked, rekeyed)
    with pytest.raises(TrustError) as caught:
        _device_sees(server, state, unlocked, leaked)
    # On the old code the leaked list was taken: both were issued that day, in one format.
    assert "older subkey list" in str(caught.value), (
        "a device that sealed to the re-keyed list accepted the leaked list replayed the "
        "same day, and would seal to keys the thief holds"
    )
    assert caught.value.hint is not None
    # The re-keyed list itself, served again, is still taken.
    _device_sees(server, state, unlocked, rekeyed)


def test_each_list_issued_is_numbered_after_the_last_and_past_any_earlier_days(
    unlocked: ws.Unlocked,
) -> None:
    first, _ = subkeys.issue(unlocked, 4, ISSUED)
    again, _ = subkeys.issue(unlocked, 4, ISSUED)
    # The re-key rewrites the record before the list is numbered: the number must stay.
    rekeyed, _ = subkeys.issue(unlocked, 4, ISSUED, rekey=True)
    later, _ = subkeys.issue(unlocked, 4, ISSUED + dt.timedelta(days=1))
    numbers = [s.subkeys.sequence for s in (first, again, rekeyed, later)]
    floor = ISSUED.toordinal() * subkeys.SEQUENCES_PER_DAY
    assert numbers == [floor, floor + 1, floor + 2, floor + subkeys.SEQUENCES_PER_DAY]
    assert all(s.subkeys.format == 3 for s in (first, again, rekeyed, later))


def test_a_workspace_restored_from_an_earlier_days_backup_spends_no_number_again() -> None:
    """A backup of Monday restored on Wednesday: its record names Monday's number, not the ones
    spent since; Wednesday's list must still be numbered after them all."""
    monday = ISSUED - dt.timedelta(days=1)
    spent_tuesday = ISSUED.toordinal() * subkeys.SEQUENCES_PER_DAY + 3
    wednesday = subkeys.next_sequence(
        monday.toordinal() * subkeys.SEQUENCES_PER_DAY, ISSUED + dt.timedelta(days=1)
    )
    assert wednesday > spent_tuesday


def test_a_timestamp_given_the_re_keyed_list_names_its_number_and_the_server_serves_it(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """After a re-key, the timestamp holder names the new list: a device that never saw it
    (first run, `--no-state`) then refuses the leaked one (tests/submit/test_subkeys.py)."""
    leaked, rekeyed = tmp_path / "leaked.json", tmp_path / "rekeyed.json"
    assert review(workspace, "keys", "subkeys", "new", "--out", str(leaked)).exit_code == 0
    made = review(workspace, "keys", "subkeys", "new", "--rekey", "--out", str(rekeyed))
    assert made.exit_code == 0, made.output
    number = SignedSubkeyList.from_bytes(rekeyed.read_bytes()).subkeys.sequence
    key = str(server.paths.demo_keys / "timestamp.key")
    stamp = tmp_path / "timestamp.json"
    ring = str(manifest_path(server.paths, 1))
    given = ("--key-file", key, "--keyring", ring, "--subkeys", str(rekeyed), "--out", str(stamp))
    twice = f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}"  # the reviewer's, then the key file's
    signed = review(workspace, "keys", "timestamp", *given, passphrase=twice)
    assert signed.exit_code == 0, signed.output
    assert f"it names subkey list {number} of demo-reviewer" in signed.output
    installed = CliRunner().invoke(
        main, ["--instance", str(server.instance), "keyring", "timestamp", str(stamp)]
    )
    assert installed.exit_code == 0, installed.output
    served = SignedTimestamp.from_bytes(timestamp_path(server.paths).read_bytes())
    assert served.timestamp.subkeys == (("demo-reviewer", number),)


def test_a_timestamp_is_not_made_to_name_an_unnumbered_or_foreign_list(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger.json"
    stranger.write_bytes(b'{"subkeys": {}, "signature": ""}')
    key = str(server.paths.demo_keys / "timestamp.key")
    stamp = tmp_path / "timestamp.json"
    ring = str(manifest_path(server.paths, 1))
    given = ("--key-file", key, "--keyring", ring, "--subkeys", str(stranger), "--out", str(stamp))
    refused = review(workspace, "keys", "timestamp", *given)
    assert refused.exit_code == 1
    assert "is not a subkey list" in refused.output
    assert "Traceback" not in refused.output
    assert not stamp.exists()


def test_a_timestamp_is_not_made_to_name_a_list_older_than_the_one_issued_here(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The carrier swaps the re-keyed list on the stick for the leaked one, also signed and
    numbered: named in the timestamp, its number let every device take the leaked list."""
    leaked, rekeyed = tmp_path / "leaked.json", tmp_path / "rekeyed.json"
    assert review(workspace, "keys", "subkeys", "new", "--out", str(leaked)).exit_code == 0
    made = review(workspace, "keys", "subkeys", "new", "--rekey", "--out", str(rekeyed))
    assert made.exit_code == 0, made.output
    number = SignedSubkeyList.from_bytes(rekeyed.read_bytes()).subkeys.sequence
    key = str(server.paths.demo_keys / "timestamp.key")
    stamp = tmp_path / "timestamp.json"
    ring = str(manifest_path(server.paths, 1))
    given = ("--key-file", key, "--keyring", ring, "--subkeys", str(leaked), "--out", str(stamp))
    # Two passphrases: the reviewer's, to read what the workspace issued, and the key file's.
    twice = f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}"
    signed = review(workspace, "keys", "timestamp", *given, passphrase=twice)
    assert signed.exit_code == 1, f"the timestamp named the leaked list: {signed.output}"
    assert f"number {number}" in signed.output
    assert "Traceback" not in signed.output
    assert not stamp.exists()


def test_a_timestamp_is_not_made_naming_no_list_once_a_numbered_one_was_issued_here(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """The holder forgets `--subkeys` after a re-key: the timestamp named no list, devices
    without state had no floor, and the leaked list was taken again."""
    rekeyed = tmp_path / "rekeyed.json"
    made = review(workspace, "keys", "subkeys", "new", "--rekey", "--out", str(rekeyed))
    assert made.exit_code == 0, made.output
    number = SignedSubkeyList.from_bytes(rekeyed.read_bytes()).subkeys.sequence
    key = str(server.paths.demo_keys / "timestamp.key")
    stamp = tmp_path / "timestamp.json"
    ring = str(manifest_path(server.paths, 1))
    twice = f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}"  # the reviewer's, then the key file's
    given = ("--key-file", key, "--keyring", ring, "--out", str(stamp))

    forgotten = review(workspace, "keys", "timestamp", *given, passphrase=twice)

    assert forgotten.exit_code == 1, f"a timestamp naming no list was signed: {forgotten.output}"
    assert f"issued subkey list {number}" in forgotten.output
    assert "--subkeys" in forgotten.output
    assert "Traceback" not in forgotten.output
    assert not stamp.exists()
    named = review(
        workspace, "keys", "timestamp", *given, "--subkeys", str(rekeyed), passphrase=twice
    )
    assert named.exit_code == 0, named.output
