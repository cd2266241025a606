"""A keyring planted on the workstation's disk, or in a backup of the workspace.

The attack: whoever can write where the workspace lies (a seized and returned
laptop, or the backup stick in the safe, docs/review-workstation.md §5) adds a
keyring of their own to the `keyrings` table, or pins an authority of their
own in `meta` and writes a chain it signs. Both are in the clear. The
workstation verified each keyring once, when it installed it, and read the
newest row as the keyring in force ever after: the planted one then named
the server keys exports are checked with, the reviewers' anchored keys, the
digest `keys show` hands out for the sources' pins, and the keyring `keys
timestamp` vouches for. The workstation must refuse what it did not install.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.demo import DEMO_PASSPHRASE
from crypto import AuthorityKey, SignedManifest, SigningKey
from crypto.encoding import b64encode, canonical_json
from crypto.manifest import digest_text
from review import workspace as ws
from review.cli import cli
from review.workspace import head, roster
from review.workspace.schema import transaction
from tests.review.keys.test_instance_keyring import export_signed_by, first_keyring, init
from tests.review.support import Server, on_the_disk, review

ALTERED = "what is on the disk is not what this workspace's tool last wrote"


def _planted(server: Server, root: Path, intruder: SigningKey, *, pins: bool) -> None:
    """Write a keyring naming `intruder` as the server's key into the workspace on the disk.

    Without `pins`, as the next version, signed by nobody the workspace pins; with
    `pins`, the attacker's own authority pinned and the whole chain theirs.
    """
    with on_the_disk(root) as conn:
        (blob,) = conn.execute("SELECT signed FROM keyrings WHERE version = 1").fetchone()
        real = SignedManifest.from_bytes(blob).manifest
        assert real.instance is not None
        listing = dataclasses.replace(real.instance, server_keys=(intruder.verify_key,))
        authority = SigningKey.generate()
        if pins:
            planted = dataclasses.replace(
                real,
                instance=listing,
                threshold=1,
                authorities=(AuthorityKey("Theirs", authority.verify_key),),
            )
            fingerprint = str(authority.verify_key.fingerprint)
            conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'authorities'", (json.dumps([fingerprint]),)
            )
            conn.execute("UPDATE meta SET value = '1' WHERE key = 'authority_threshold'")
            conn.execute("DELETE FROM keyrings")
        else:
            planted = dataclasses.replace(real, version=2, previous=real.digest(), instance=listing)
        signed = SignedManifest(planted).sign(authority)
        conn.execute("INSERT INTO keyrings VALUES (?, ?)", (planted.version, signed.to_bytes()))


@pytest.mark.parametrize("pins", [False, True], ids=["successor-row", "pins-and-chain"])
def test_a_keyring_planted_on_the_disk_is_refused_at_unlock(
    server: Server, tmp_path: Path, pins: bool
) -> None:
    root = tmp_path / "workspace"
    made = init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    assert made.exit_code == 0, made.output
    intruder = SigningKey.generate()
    _planted(server, root, intruder, pins=pins)
    server.submit("a report")
    imported = review(root, "import", str(export_signed_by(server, intruder, tmp_path / "x.rzb")))
    assert imported.exit_code == 1, (
        f"an export signed by the key a planted keyring names was imported: {imported.output}"
    )
    assert ALTERED in imported.output, imported.output
    assert "Traceback" not in imported.output


def _digest_shown(signed: bytes) -> str:
    return digest_text(SignedManifest.from_bytes(signed).manifest)


def _workspace_with_planted_successor(server: Server, tmp_path: Path) -> tuple[Path, str]:
    """A workspace holding keyring v1, with a v2 of nobody's planted; the v2's digest."""
    root = tmp_path / "workspace"
    made = init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    assert made.exit_code == 0, made.output
    _planted(server, root, SigningKey.generate(), pins=False)
    with on_the_disk(root) as conn:
        (planted,) = conn.execute("SELECT signed FROM keyrings WHERE version = 2").fetchone()
    return root, digest_text(SignedManifest.from_bytes(planted).manifest)


def test_a_keyring_planted_on_the_disk_is_not_shown_for_the_sources_pins(
    server: Server, tmp_path: Path
) -> None:
    """`keys show` gives the digest the organisation hands out as the sources' pin."""
    root, planted = _workspace_with_planted_successor(server, tmp_path)
    shown = review(root, "keys", "show")
    assert planted not in shown.output, f"a planted keyring shown: {shown.output}"
    assert shown.exit_code == 1, shown.output
    assert ALTERED in shown.output, shown.output


def test_a_keyring_planted_on_the_disk_gets_no_timestamp(server: Server, tmp_path: Path) -> None:
    """`keys timestamp` has the timestamp key vouch for the keyring in force (PROTOCOL §8.8)."""
    root, _planted_digest = _workspace_with_planted_successor(server, tmp_path)
    stamp = tmp_path / "timestamp.json"
    key = str(server.paths.demo_keys / "timestamp.key")
    made = CliRunner().invoke(
        cli,
        ["--workspace", str(root), "keys", "timestamp", "--key-file", key, "--out", str(stamp)],
        input=f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}\n",
    )
    assert not stamp.exists(), f"the timestamp key vouched for a planted keyring: {made.output}"
    assert made.exit_code == 1, made.output
    assert ALTERED in made.output, made.output


def _as_the_tool_before_left_it(root: Path, form: int) -> str:
    """Tag the head in `form`, its roster and schema as the tool of that form left them; the tag."""
    u = ws.Workspace.open(root).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        before = b64encode(head._tag(u.conn, u.key, head.stored(u.conn), form=form))
        stored = json.loads(
            u.conn.execute("SELECT value FROM meta WHERE key = 'roster'").fetchone()[0]
        )
        listed = {"keys": stored["keys"], "reviewers": stored["reviewers"], roster.HEAD_KEPT: True}
        kept = {**listed, "tag": b64encode(u.key.roster_tag(canonical_json(listed)))}
        with transaction(u.conn):
            u.conn.execute("UPDATE meta SET value = ? WHERE key = ?", (before, head.TAG))
            u.conn.execute("UPDATE meta SET value = ? WHERE key = 'roster'", (json.dumps(kept),))
            u.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(11 + form),))
    finally:
        u.workspace.close()
    return before


@pytest.mark.parametrize("form", [1, 2], ids=["schema-12", "schema-13"])
def test_a_tag_the_tool_before_made_is_taken_once_then_covers_the_keyrings(
    server: Server, tmp_path: Path, form: int
) -> None:
    """A workspace of schema 12 or 13 (its head's tag without the pins and keyrings, or
    without the rule, bodies and sources) opens, and from its first unlock by this tool
    on, a keyring planted in it is refused."""
    root = tmp_path / "workspace"
    made = init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    assert made.exit_code == 0, made.output
    _as_the_tool_before_left_it(root, form)
    listed = review(root, "list")
    assert listed.exit_code == 0, listed.output
    _planted(server, root, SigningKey.generate(), pins=True)
    listed = review(root, "list")
    assert listed.exit_code == 1, (
        f"a keyring planted after the first unlock passed: {listed.output}"
    )
    assert ALTERED in listed.output, listed.output


@pytest.mark.parametrize("form", [1, 2], ids=["schema-12", "schema-13"])
@pytest.mark.parametrize("schema", ["kept", "put-back"])
def test_a_tag_the_tool_before_made_is_never_taken_again_once_the_head_was_tagged_anew(
    server: Server, tmp_path: Path, form: int, schema: str
) -> None:
    """A copy of the disk from before the upgrade holds a tag of the tool before: put back
    beside a planted keyring and pins (nothing appended to the log since), it must not be
    taken, nor the plant tagged anew with it."""
    root = tmp_path / "workspace"
    made = init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    assert made.exit_code == 0, made.output
    copied = _as_the_tool_before_left_it(root, form)
    listed = review(root, "list")  # the upgrade: the tool before's tag taken, the head tagged anew
    assert listed.exit_code == 0, listed.output
    _planted(server, root, SigningKey.generate(), pins=True)
    with on_the_disk(root) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (copied, head.TAG))
        if schema == "put-back":
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(11 + form),))
    listed = review(root, "list")
    assert listed.exit_code == 1, (
        f"the tool before's tag was taken again beside a planted keyring: {listed.output}"
    )
    assert ALTERED in listed.output, listed.output


def test_a_keyring_file_swapped_on_the_stick_gets_no_timestamp(
    server: Server, tmp_path: Path
) -> None:
    """`keys timestamp --keyring FILE` signed for whatever FILE held: a carrier swapping it
    for a fork of the same version (its reviewers theirs) had the timestamp key vouch for
    the fork, which is what keeps forks by rotated-out holders from devices (PROTOCOL §8.8)."""
    root = tmp_path / "workspace"
    made = init(root, server, "--keyring", str(first_keyring(server, tmp_path)))
    assert made.exit_code == 0, made.output
    real = SignedManifest.from_bytes(first_keyring(server, tmp_path).read_bytes()).manifest
    fork = dataclasses.replace(real, issued=real.issued - dt.timedelta(days=1))
    swapped = tmp_path / "keyring-v1-swapped.json"
    swapped.write_bytes(SignedManifest(fork).to_bytes())
    stamp = tmp_path / "timestamp.json"
    key = str(server.paths.demo_keys / "timestamp.key")
    given = ["--key-file", key, "--keyring", str(swapped), "--out", str(stamp)]
    made = CliRunner().invoke(
        cli,
        ["--workspace", str(root), "keys", "timestamp", *given],
        input=f"{DEMO_PASSPHRASE}\n{DEMO_PASSPHRASE}\n",
    )
    assert not stamp.exists(), f"the timestamp key vouched for a swapped keyring: {made.output}"
    assert made.exit_code == 1, made.output
    assert "is not the keyring v1 installed here" in made.output, made.output
