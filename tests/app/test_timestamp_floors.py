"""The server takes no timestamp naming a reviewer's list older than the one installed.

The attack: a reviewer's store leaks and she re-keys; the re-keyed list (numbered
after the leaked one) is installed on the server. A corrupt carrier hands the
timestamp holder the leaked list in its place, or a timestamp signed for it: the
timestamp names the leaked list's number, and every `raazdar-submit` device without
state then takes the leaked list from a seized server (docs/PROTOCOL.md §5A.8).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.demo import DEMO_PASSPHRASE, DEMO_REVIEWER, TIMESTAMP_KEY_NAME
from app.instance import InstancePaths
from app.keyring import manifest_path, timestamp_path
from app.models import today
from app.operations.doctor import Status, diagnose
from app.subkeys import read_lists
from crypto import KeyFile, SignedManifest, SignedSubkeyList, make_timestamp, sign_subkeys
from crypto.subkeys import Period, generate
from tests.app.subkeys_support import install, without_lists
from tests.app.support import Visitor, assert_clean_page, assert_nothing_stored, reviewer_keys


def _numbered_list(instance: Path, sequence: int) -> bytes:
    """A list of the demo reviewer for this week on, bound to the instance, numbered."""
    manifest = SignedManifest.from_bytes(
        manifest_path(InstancePaths(instance), 1).read_bytes()
    ).manifest
    assert manifest.instance is not None
    signing = reviewer_keys(instance).signing
    assert signing is not None
    public = generate(Period.of(today())).public_list(
        signing.verify_key, today(), manifest.instance.id, manifest.version, sequence
    )
    return sign_subkeys(public, signing).to_bytes()


def _timestamp_naming(
    instance: Path, number: int | None, issued: dt.date | None = None, days: int = 7
) -> Path:
    """A timestamp by the demo key naming list `number` (None: none), issued `issued`,
    holding `days`."""
    paths = InstancePaths(instance)
    manifest = SignedManifest.from_bytes(manifest_path(paths, 1).read_bytes()).manifest
    key = KeyFile.from_bytes((paths.demo_keys / TIMESTAMP_KEY_NAME).read_bytes())
    signing = key.unlock(DEMO_PASSPHRASE).signing
    assert signing is not None
    named = {DEMO_REVIEWER: number} if number is not None else {}
    day = issued or today()
    stamp = make_timestamp(manifest, signing, issued=day, days=days, subkeys=named)
    path = instance.parent / f"timestamp-{number}-{day}-{days}.json"
    path.write_bytes(stamp.to_bytes())
    return path


def test_a_timestamp_naming_a_list_older_than_the_one_installed_is_refused(
    instance: Path, runner: CliRunner
) -> None:
    rekeyed = SignedSubkeyList.from_bytes(_numbered_list(without_lists(instance), 7))
    assert install(runner, instance, rekeyed).exit_code == 0
    before = timestamp_path(InstancePaths(instance)).read_bytes()
    command = ["--instance", str(instance), "keyring", "timestamp"]

    taken = runner.invoke(main, [*command, str(_timestamp_naming(instance, 6))])

    assert taken.exit_code == 1, f"a timestamp naming list 6 went in beside list 7: {taken.output}"
    assert "list 7" in taken.output
    assert "Traceback" not in taken.output
    assert timestamp_path(InstancePaths(instance)).read_bytes() == before
    # The list installed, or a later one, is named as before.
    for number in (7, 8):
        named = runner.invoke(main, [*command, str(_timestamp_naming(instance, number))])
        assert named.exit_code == 0, named.output
    assert read_lists(InstancePaths(instance))[DEMO_REVIEWER] == rekeyed


def test_a_later_timestamp_naming_no_list_does_not_replace_one_that_named_them(
    instance: Path, runner: CliRunner
) -> None:
    """A holder who forgets `--subkeys`, or a carrier who swaps in such a file, signed a
    day later: taken, it left devices without state no floor, and the leaked list a re-key
    replaced was taken again."""
    rekeyed = SignedSubkeyList.from_bytes(_numbered_list(without_lists(instance), 7))
    assert install(runner, instance, rekeyed).exit_code == 0
    command = ["--instance", str(instance), "keyring", "timestamp"]
    named = runner.invoke(main, [*command, str(_timestamp_naming(instance, 7))])
    assert named.exit_code == 0, named.output
    before = timestamp_path(InstancePaths(instance)).read_bytes()
    tomorrow = today() + dt.timedelta(days=1)

    taken = runner.invoke(main, [*command, str(_timestamp_naming(instance, None, tomorrow))])

    assert taken.exit_code == 1, f"a timestamp naming no list replaced one naming 7: {taken.output}"
    assert "names no subkey list of demo-reviewer" in taken.output
    assert "--subkeys" in taken.output
    assert "Traceback" not in taken.output
    assert timestamp_path(InstancePaths(instance)).read_bytes() == before
    # A later one naming the list in force, or a later one, replaces it as before.
    again = runner.invoke(main, [*command, str(_timestamp_naming(instance, 7, tomorrow))])
    assert again.exit_code == 0, again.output


def test_the_floor_of_a_lapsed_timestamp_still_stands_for_its_keyring(
    instance: Path, runner: CliRunner
) -> None:
    """Waiting for the timestamp naming the re-keyed list to lapse, then installing one
    naming none, would take the floor away as well."""
    rekeyed = SignedSubkeyList.from_bytes(_numbered_list(without_lists(instance), 7))
    assert install(runner, instance, rekeyed).exit_code == 0
    lapsed = _timestamp_naming(instance, 7, today() - dt.timedelta(days=10))
    timestamp_path(InstancePaths(instance)).write_bytes(lapsed.read_bytes())
    command = ["--instance", str(instance), "keyring", "timestamp"]

    taken = runner.invoke(main, [*command, str(_timestamp_naming(instance, None))])

    assert taken.exit_code == 1, f"a timestamp naming no list followed a lapsed one: {taken.output}"
    assert "names no subkey list of demo-reviewer" in taken.output
    assert timestamp_path(InstancePaths(instance)).read_bytes() == lapsed.read_bytes()
    named = runner.invoke(main, [*command, str(_timestamp_naming(instance, 7))])
    assert named.exit_code == 0, named.output


def test_a_timestamp_issued_before_a_lapsed_one_does_not_replace_it(
    instance: Path, runner: CliRunner
) -> None:
    """A re-key's timestamp names list 8 while the carrier keeps list 8 back, so list 7
    stays installed; once that timestamp lapsed, one issued before it, naming list 7 and
    holding longer, was compared with no installed one (only a fresh one was looked at)
    and went in: the floor fell back to the leaked list 7, which devices without state
    and the server's own sealing then took again."""
    listed = SignedSubkeyList.from_bytes(_numbered_list(without_lists(instance), 7))
    assert install(runner, instance, listed).exit_code == 0
    rekeyed = _timestamp_naming(instance, 8, today() - dt.timedelta(days=5), days=3)
    timestamp_path(InstancePaths(instance)).write_bytes(rekeyed.read_bytes())
    command = ["--instance", str(instance), "keyring", "timestamp"]
    older = _timestamp_naming(instance, 7, today() - dt.timedelta(days=6), days=7)

    taken = runner.invoke(main, [*command, str(older)])

    assert taken.exit_code == 1, f"a timestamp issued before the lapsed one went in: {taken.output}"
    assert "older than the one installed" in taken.output
    assert "Traceback" not in taken.output
    assert timestamp_path(InstancePaths(instance)).read_bytes() == rekeyed.read_bytes()
    # The workstation's next one, issued today and naming list 8, goes in as before.
    named = runner.invoke(main, [*command, str(_timestamp_naming(instance, 8))])
    assert named.exit_code == 0, named.output


def test_a_timestamp_naming_no_list_is_refused_while_a_numbered_one_is_installed(
    instance: Path, runner: CliRunner
) -> None:
    """A timestamp of format 1 names no list, so it skipped the floor check format 2's
    numbers meet: signed without `--subkeys` where no workspace is (the first of a new
    keyring version, or after a re-key whose timestamp never named the new list), it was
    taken beside the re-keyed list 7, and devices without state had no floor."""
    rekeyed = SignedSubkeyList.from_bytes(_numbered_list(without_lists(instance), 7))
    assert install(runner, instance, rekeyed).exit_code == 0
    before = timestamp_path(InstancePaths(instance)).read_bytes()
    command = ["--instance", str(instance), "keyring", "timestamp"]
    tomorrow = today() + dt.timedelta(days=1)

    taken = runner.invoke(main, [*command, str(_timestamp_naming(instance, None, tomorrow))])

    assert taken.exit_code == 1, f"a timestamp naming no list went in beside list 7: {taken.output}"
    assert "names no subkey list of demo-reviewer" in taken.output
    assert "list 7" in taken.output
    assert "Traceback" not in taken.output
    assert timestamp_path(InstancePaths(instance)).read_bytes() == before
    named = runner.invoke(main, [*command, str(_timestamp_naming(instance, 7, tomorrow))])
    assert named.exit_code == 0, named.output


def test_a_browser_report_is_not_sealed_to_a_list_numbered_below_the_timestamps(
    instance: Path, app: Flask, visitor: Visitor, runner: CliRunner
) -> None:
    """A reviewer's store leaks; she re-keys (list 8), and the timestamp holder names list
    8. The carrier hands the server the timestamp and keeps the re-keyed list back (or the
    server is put back from a backup holding list 7, and the stick brings only the
    timestamp its purge asks for): every `raazdar-submit` device refuses list 7, as the
    timestamp says, and the server sealed each browser report to its leaked subkey."""
    leaked = SignedSubkeyList.from_bytes(_numbered_list(without_lists(instance), 7))
    assert install(runner, instance, leaked).exit_code == 0
    command = ["--instance", str(instance), "keyring", "timestamp"]
    named = runner.invoke(main, [*command, str(_timestamp_naming(instance, 8))])
    assert named.exit_code == 0, named.output

    response = visitor.send(visitor.start(), "the SHO took the money")

    assert response.status_code == 503, (
        f"a browser report was sealed to subkey list 7 under a timestamp naming list 8 "
        f"({response.status_code})"
    )
    assert_clean_page(response, "the SHO took the money")
    assert_nothing_stored(app, instance)
    shown = runner.invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert "list 8" in shown.output, shown.output
    doctor = {check.name: check for check in diagnose(instance, today())}
    assert doctor["subkeys"].status is Status.FAIL, doctor["subkeys"]
    assert "list 8" in doctor["subkeys"].message
    # The re-keyed list, once installed, takes reports again.
    rekeyed = SignedSubkeyList.from_bytes(_numbered_list(instance, 8))
    assert install(runner, instance, rekeyed, flags=("--rekeyed",)).exit_code == 0
    visitor.filed(visitor.send(visitor.start(), "the SHO took the money"))
