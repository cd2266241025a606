"""A second codename on one phone: what it starts from, and what the phone then shows.

Each codename's state is sealed under it, so a new one cannot read what an
earlier one verified: its first run starts from the pins alone, as a device
that never ran does. The attack: a seized server serves the new codename a
subkey list its reviewer replaced after a leak, which the phone, under the
earlier codename, had already refused. And whoever takes the phone counts the
codenames by their state files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

from click.testing import CliRunner

from app.instance import InstancePaths
from app.subkeys import read_lists
from submit.cli import cli
from submit.sensitive import on_disk
from tests.submit.support import Device, Recorder, send_without_state
from tests.submit.test_subkeys import _rekey_on_the_server

_CLIENT: Final = (sys.executable, "-c", "from submit.cli import main; main()")
_TREE: Final = Path(__file__).parents[2]


def _carry(device: Device, old: Path, new: Path, *more: str) -> Any:
    return CliRunner().invoke(
        cli,
        [
            "--state",
            str(device.state),
            "--fast-kdf",
            "carry",
            "--codename-file",
            str(old),
            "--to-codename-file",
            str(new),
            *more,
        ],
    )


def test_a_new_codename_carried_from_the_old_refuses_a_list_the_old_one_refused(
    device: Device, codename_file: Path, recorder: Recorder, instance: Path, tmp_path: Path
) -> None:
    """Before: a new codename's first run on the phone, with the organisation's pins, sealed
    the report to the reviewer's leaked subkeys, which the phone had already seen replaced
    under the earlier codename, and there was no way to start it from what that one
    verified but writing `pins` (the onion's address) to a file on the phone."""
    leaked = read_lists(InstancePaths(instance))
    (rid,) = leaked
    _rekey_on_the_server(instance)
    first = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output

    later = tmp_path / "later"
    later.mkdir()
    new = device.new_codename(later)
    carried = _carry(device, codename_file, new)
    recorder.seen.clear()

    def replay(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "subkeys": {rid: json.loads(leaked[rid].to_bytes())}}

    recorder.keyring = replay
    # With the organisation's pins, as from the stick.
    sent = device.run("send", "-m", "second", "--codename-file", str(new))
    offered = [p for p in recorder.paths("POST") if p.endswith("/uploads")]
    assert offered == [], f"the new codename sealed to the leaked list and offered it: {offered}"
    assert carried.exit_code == 0, carried.output
    # A codename that keeps a state of its own (its reply keys) is never carried over.
    again = _carry(device, new, codename_file)
    assert again.exit_code == 1, again.output
    assert "the new codename already keeps a state here" in again.stderr
    assert sent.exit_code == 1, sent.output
    assert "than this device sealed to before" in sent.stderr


def test_carry_with_forget_leaves_the_phone_one_codename(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    """Before: the phone kept a state file for each codename used, so whoever took it saw
    that it had an earlier account; forgetting the old one lost its pins with it."""
    first = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert first.exit_code == 0, first.output
    made = CliRunner().invoke(cli, ["--state", str(device.state), "new"])
    assert made.exit_code == 0, made.output
    assert "carry --forget" in made.stderr, "the source is not told the phone shows two"
    new = tmp_path / "later.txt"
    new.write_text(made.stdout)
    carried = _carry(device, codename_file, new, "--forget")
    assert carried.exit_code == 0, carried.output
    states = sorted(p.name for p in device.state.glob("*.state"))
    assert len(states) == 1, f"the phone shows {len(states)} codenames: {states}"
    assert device.state_of(codename_file).manifest is None, "the old codename's state stays"
    assert device.state_of(new).instance == device.url
    options = ["--state", str(device.state), "--fast-kdf", *device.transport]
    sent = CliRunner().invoke(cli, [*options, "send", "-m", "next", "--codename-file", str(new)])
    assert sent.exit_code == 0, sent.output


def _printed_to_file(args: list[str], out: Path) -> str:
    """Run the client with its stdout redirected to `out`, as `> out` in a shell does: its
    stderr."""
    with out.open("wb") as sink:
        done = subprocess.run(  # noqa: S603 - our own client, fixed arguments
            [*_CLIENT, *args],
            env={**os.environ, "PYTHONPATH": str(_TREE)},
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.PIPE,
            timeout=60,
            check=True,
        )
    return done.stderr.decode()


def test_a_codename_or_pins_printed_into_a_file_on_the_phone_are_named(
    device: Device, codename_file: Path, tmp_path: Path
) -> None:
    """Before: `new > codename.txt` wrote the codename, and `pins > pins.txt` the onion's
    address, to the phone's own disk (where the state directory is) without a word: the
    very things the sealed state keeps from whoever takes it."""
    said = _printed_to_file(["--state", str(device.state), "new"], tmp_path / "codename.txt")
    # Where the tests' temporary directory is itself in memory, there is nothing to say.
    warned = "codename.txt is on a disk" in said
    assert warned == on_disk(tmp_path), f"no word of it: {said!r}"
    sent = device.run("send", "-m", "first", "--codename-file", str(codename_file))
    assert sent.exit_code == 0, sent.output
    pins = device.arguments("pins", "--codename-file", str(codename_file))
    said = _printed_to_file(pins, tmp_path / "pins.txt")
    assert device.url in (tmp_path / "pins.txt").read_text()
    assert "pins.txt is on this device's own storage" in said, f"no word of it: {said!r}"


def test_pins_of_keys_trusted_on_first_use_do_not_pass_for_the_organisations(
    device: Device, codename_file: Path, recorder: Recorder, tmp_path: Path
) -> None:
    """The attack: a server in the wrong hands at a device's first use (no pins) has its own
    authority keys trusted, with a loud warning. `pins` then printed them as plain pins, and a
    device given that file (a --no-state run, another codename, a friend) sealed to the
    server's keys without a word: "trusted on first use" was lost on the way."""
    first = device.run(
        "--trust-on-first-use",
        "send",
        "-m",
        "first",
        "--codename-file",
        str(codename_file),
        pin=False,
    )
    assert first.exit_code == 0, first.output
    assert "NO AUTHORITY FINGERPRINTS WERE GIVEN" in first.stderr
    printed = device.run("pins", "--codename-file", str(codename_file))
    assert printed.exit_code == 0, printed.output
    pins = tmp_path / "carried-pins.txt"
    pins.write_text(printed.stdout)
    result, offered = send_without_state(device, pins, codename_file, recorder)
    assert offered == [], f"pins of keys nobody checked sealed a report unwarned: {offered}"
    assert "NO AUTHORITY FINGERPRINTS WERE GIVEN" in result.stderr
    assert "trusted on first use" in printed.stdout
    # The organisation's pins, given later, vouch for them: then they are pins like any.
    vouched = device.run("replies", "--codename-file", str(codename_file))
    assert vouched.exit_code == 0, vouched.output
    again = device.run("pins", "--codename-file", str(codename_file))
    assert "trusted on first use" not in again.stdout
    assert "\nauthority " in again.stdout
