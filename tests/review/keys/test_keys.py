"""Key ceremonies end to end: authority keys, keyrings signed one holder at a time, rotation.

An instance is set up as a real one is: reviewer and authority keys made with
`raazdar-review keys`, the server initialised from the ceremony's keyring, the
workspace pinned to it. Reports then go through the real source interface.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app import create_app
from app.cli import main as app_cli
from app.config import config_for
from app.db import db_session
from app.operations import keyring_admin
from app.operations.setup import initialise
from crypto import (
    KdfParams,
    KeyFile,
    SignedManifest,
    SignedSubkeyList,
    SigningKey,
    open_bytes,
    open_envelope,
)
from crypto.errors import DecryptionError
from crypto.workspace import WorkspaceKey
from review import workspace as ws
from review.casework import reports
from review.cli import cli
from review.keys.ceremony import digest_text
from review.keys.rewrap import SEALED
from review.workspace import audit, blobs
from review.workspace.schema import SCHEMA
from review.workspace.search import SearchIndex
from tests.review.support import Server

ALICE = "alice passphrase one"
BOB = "bob passphrase two two"
ALICE_NEW = "alice passphrase three"
# After a rotation the newest key file is asked for first, then the old one.
BOTH = f"{ALICE_NEW}\n{ALICE}\n"
HOLDERS = ("Holder One", "Holder Two", "Holder Three")
HOLDER_PASS = ("holder one secret", "holder two secret", "holder three secret")
STRANGER = "stranger passphrase"


def run(*args: str, answers: str = "", workspace: Path | None = None) -> Result:
    """Run `raazdar-review`, typing `answers` at its prompts."""
    prefix = ["--workspace", str(workspace)] if workspace is not None else []
    return CliRunner().invoke(cli, [*prefix, *args], input=answers)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@dataclass
class Ceremony:
    """What the founding ceremony made, and the instance and workspace set up from it."""

    dir: Path
    server: Server
    workspace: Path

    def holder(self, i: int) -> Path:
        return self.dir / f"authority-{i}.key"

    def sign(self, draft: Path, *holders: int) -> None:
        first = _first_group(draft)
        for i in holders:
            ok(
                run(
                    "keys",
                    "sign-manifest",
                    str(draft),
                    "--key-file",
                    str(self.holder(i)),
                    answers=f"{first}\n{HOLDER_PASS[i - 1]}\n",
                    workspace=self.workspace,
                )
            )

    def install_on_server(self, keyring: Path) -> None:
        with self.server.app.app_context():
            keyring_admin.install(db_session(), keyring.read_bytes(), actor="test")
            db_session().commit()


def _first_group(draft: Path) -> str:
    """The digest's first four characters, as a holder reads them off the screen."""
    return digest_text(SignedManifest.from_bytes(draft.read_bytes()).manifest)[:4]


def new_key(path: Path, label: str, passphrase: str) -> Path:
    """Make a reviewer key file with `keys reviewer-new`, typing the passphrase twice."""
    ok(
        run(
            "keys",
            "reviewer-new",
            "--out",
            str(path),
            "--label",
            label,
            "--fast-kdf",
            answers=f"{passphrase}\n{passphrase}\n",
        )
    )
    return path


def _server(root: Path, signed: SignedManifest) -> Server:
    instance = root / "instance"
    initialise(
        instance,
        signed=signed,
        database_url=f"sqlite:///{instance / 'raazdar.db'}",
        kdf=KdfParams.TESTING,
        demo=False,
    )
    app: Flask = create_app(config_for(instance))
    return Server(app, instance)


@pytest.fixture
def ceremony(tmp_path: Path, _close_engines: None) -> Ceremony:
    """Alice's key, three authority holders (2 of 3), an instance and a workspace."""
    alice = tmp_path / "alice.key"
    new_key(alice, "Alice", ALICE)
    out = tmp_path / "ceremony"
    args = ["keys", "authority-init", "--threshold", "2", "--out", str(out), "--fast-kdf"]
    args += [a for name in HOLDERS for a in ("--holder", name)]
    args += ["--reviewer", f"alice={alice}"]
    answers = "".join(f"{p}\n{p}\n" for p in HOLDER_PASS)
    made = ok(run(*args, answers=answers))
    assert "authority fingerprints" in made.output
    signed = SignedManifest.from_bytes((out / "keyring-v1.json").read_bytes())
    server = _server(tmp_path, signed)
    workspace = tmp_path / "workspace"
    ok(
        run(
            "init",
            "--instance-id",
            server.instance_id,
            "--server-key",
            server.signing_key_text,
            "--keyring",
            str(out / "keyring-v1.json"),
            "--key-file",
            str(alice),
            "--reviewer",
            "alice",
            answers=f"{ALICE}\n",
            workspace=workspace,
        )
    )
    return Ceremony(out, server, workspace)


def _import(c: Ceremony, tmp_path: Path, name: str, passphrase: str = ALICE) -> Result:
    bundle = c.server.export(tmp_path / name)
    return ok(run("import", str(bundle), answers=f"{passphrase}\n", workspace=c.workspace))


def _messages(c: Ceremony, passphrase: str) -> list[str]:
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: passphrase)
    try:
        nums = [n for (n,) in u.conn.execute("SELECT num FROM reports ORDER BY num")]
        return [reports.read_report(u, n).contents[0].message for n in nums]
    finally:
        u.workspace.close()


def test_the_founding_ceremony_makes_keys_a_keyring_and_a_pinned_workspace(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    files = sorted(p.name for p in ceremony.dir.iterdir())
    assert files == ["authority-1.key", "authority-2.key", "authority-3.key", "keyring-v1.json"]
    for i, name in enumerate(HOLDERS, start=1):
        file = KeyFile.from_bytes(ceremony.holder(i).read_bytes())
        assert (file.kind, file.label, file.encryption_public) == ("authority", name, None)
        assert file.unlock(HOLDER_PASS[i - 1]).signing is not None
        with pytest.raises(DecryptionError):
            file.unlock(HOLDER_PASS[i % 3])
    signed = SignedManifest.from_bytes((ceremony.dir / "keyring-v1.json").read_bytes())
    assert len(signed.valid_signers(signed.manifest.authorities)) == 3
    shown = ok(
        run("--as", "alice", "keys", "show", answers=f"{ALICE}\n", workspace=ceremony.workspace)
    ).output
    assert "keyring v1" in shown
    assert "in keyring" in shown

    ceremony.server.submit("The SHO at Kharian took money to release the agent.")
    assert "1 item(s) filed" in _import(ceremony, tmp_path, "one.rzb").output
    assert _messages(ceremony, ALICE) == ["The SHO at Kharian took money to release the agent."]


def test_a_failed_ceremony_leaves_no_files(tmp_path: Path) -> None:
    alice = tmp_path / "alice.key"
    new_key(alice, "A", ALICE)
    out = tmp_path / "ceremony"
    result = run(
        "keys",
        "authority-init",
        "--threshold",
        "3",
        "--holder",
        "One",
        "--holder",
        "Two",
        "--reviewer",
        f"alice={alice}",
        "--out",
        str(out),
        "--fast-kdf",
        answers="".join(f"{p}\n{p}\n" for p in HOLDER_PASS[:2]),
    )
    assert result.exit_code == 1
    assert "threshold must be between 1 and 2" in result.output
    assert not out.exists() or not list(out.iterdir())


def test_a_short_passphrase_is_refused_and_no_key_file_is_written(tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    result = run(
        "keys", "reviewer-new", "--out", str(out), "--label", "A", answers="short\nshort\n"
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert not out.exists()


def test_init_refuses_a_keyring_that_does_not_list_the_reviewer(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    mallory = tmp_path / "mallory.key"
    new_key(mallory, "M", BOB)
    result = run(
        "init",
        "--instance-id",
        ceremony.server.instance_id,
        "--server-key",
        ceremony.server.signing_key_text,
        "--keyring",
        str(ceremony.dir / "keyring-v1.json"),
        "--key-file",
        str(mallory),
        "--reviewer",
        "alice",
        answers=f"{BOB}\n",
        workspace=tmp_path / "other",
    )
    assert result.exit_code == 1
    assert "does not list this key" in result.output
    assert not (tmp_path / "other" / ws.DB_NAME).exists()


def _rotate(c: Ceremony, tmp_path: Path) -> Path:
    draft = tmp_path / "keyring-v2.json"
    result = ok(
        run(
            "keys",
            "rotate",
            "--draft",
            str(draft),
            "--fast-kdf",
            answers=f"{ALICE}\n{ALICE_NEW}\n{ALICE_NEW}\n",
            workspace=c.workspace,
        )
    )
    assert "~ reviewer alice" in result.output
    assert "CHANGED TO" in result.output
    return draft


def test_rotation_keeps_every_report_readable_and_rewrap_retires_the_old_key_for_good(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    c.server.submit("before rotation, imported before")
    _import(c, tmp_path, "one.rzb")
    c.server.submit("before rotation, imported after")

    draft = _rotate(c, tmp_path)
    # One signature is not enough: neither the server nor the workspace takes it.
    c.sign(draft, 1)
    refused = run("keys", "install", str(draft), answers=BOTH, workspace=c.workspace)
    assert refused.exit_code == 1
    assert "1 valid signature(s) of 2" in refused.output
    with pytest.raises(keyring_admin.KeyringInstallError):
        c.install_on_server(draft)
    c.sign(draft, 3)
    c.install_on_server(draft)
    ok(run("keys", "install", str(draft), answers=BOTH, workspace=c.workspace))

    c.server.submit("after rotation")
    bundle = c.server.export(tmp_path / "two.rzb")
    ok(run("import", str(bundle), answers=BOTH, workspace=c.workspace))
    expected = ["before rotation, imported before", "before rotation, imported after"]
    expected.append("after rotation")
    # Old and new key files open with their own passphrases: the first one prompted
    # is tried on both, then the other is asked for.
    assert sorted(_both(c)) == sorted(expected)

    keys_dir = c.workspace / "keys"
    before = {p.name for p in keys_dir.iterdir()}
    assert len(before) == 2
    result = ok(
        run(
            "keys",
            "rewrap",
            "--retire-old",
            answers=BOTH,
            workspace=c.workspace,
        )
    )
    assert "retired key" in result.output
    after = {p.name for p in keys_dir.iterdir()}
    assert len(after) == 1
    assert after < before
    # Now only the new passphrase is asked for, and every report still opens.
    assert sorted(_messages(c, ALICE_NEW)) == sorted(expected)
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE_NEW)
    assert len(SearchIndex.load(u).search("rotation")) == 3
    u.workspace.close()
    verified = ok(run("audit", "verify", workspace=c.workspace))
    assert "audit log verifies" in verified.output
    shown = ok(run("audit", "show", answers=f"{ALICE_NEW}\n", workspace=c.workspace)).output
    for action in ("init", "keyring", "rotate", "rewrap"):
        assert action in shown
    assert "reviewer=alice" in shown  # an entry sealed before the rewrap still opens

    # A reply is signed with the key the new keyring lists, so the server takes it.
    num = str(_number_of(c, "after rotation"))
    text = tmp_path / "reply.txt"
    text.write_text("Thank you.", "utf-8")
    ok(run("reply", num, "--file", str(text), answers=f"{ALICE_NEW}\n", workspace=c.workspace))
    out = tmp_path / "replies.rzr"
    ok(run("export-replies", "--out", str(out), answers=f"{ALICE_NEW}\n", workspace=c.workspace))
    # A production server lets a bundle speak for the reviewers only under the workspace
    # key an administrator set at its console (docs/PROTOCOL.md §13.6): the rewrapped one.
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE_NEW)
    try:
        key = u.key.ack_key().verify_key.to_text()
    finally:
        u.workspace.close()
    held = CliRunner().invoke(app_cli, ["--instance", str(c.server.instance), "set-ack-key", key])
    assert held.exit_code == 0, held.output
    applied = c.server.apply(out)
    assert applied.replies == 1, applied


def _both(c: Ceremony) -> list[str]:
    answers = iter([ALICE_NEW, ALICE])
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: next(answers))
    try:
        nums = [n for (n,) in u.conn.execute("SELECT num FROM reports ORDER BY num")]
        return [reports.read_report(u, n).contents[0].message for n in nums]
    finally:
        u.workspace.close()


def _number_of(c: Ceremony, message: str) -> int:
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE_NEW)
    try:
        for (n,) in u.conn.execute("SELECT num FROM reports"):
            if reports.read_report(u, n).contents[0].message == message:
                return int(n)
    finally:
        u.workspace.close()
    raise AssertionError(message)


def test_sign_manifest_refuses_a_stranger_key_and_a_keyring_that_does_not_follow(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    stranger = tmp_path / "stranger.key"
    new_key(stranger, "S", STRANGER)
    draft = _rotate(c, tmp_path)
    before = draft.read_bytes()
    result = run(
        "keys",
        "sign-manifest",
        str(draft),
        "--key-file",
        str(stranger),
        answers=f"{_first_group(draft)}\n{STRANGER}\n",
        workspace=c.workspace,
    )
    assert result.exit_code == 1
    assert "not an authority key" in result.output
    assert draft.read_bytes() == before

    # The first keyring again is a rollback: refused before anyone is asked to sign.
    old = c.dir / "keyring-v1.json"
    rollback = run(
        "keys",
        "sign-manifest",
        str(old),
        "--key-file",
        str(c.holder(1)),
        "--previous",
        str(draft),
        answers=f"y\n{HOLDER_PASS[0]}\n",
    )
    assert rollback.exit_code == 1
    assert "does not follow" in rollback.output
    again = run("keys", "install", str(old), answers=BOTH, workspace=c.workspace)
    assert again.exit_code == 1
    assert "does not follow version 1" in again.output


def test_recipients_changed_after_signing_are_refused(ceremony: Ceremony, tmp_path: Path) -> None:
    c = ceremony
    draft = _rotate(c, tmp_path)
    c.sign(draft, 1, 2)
    signed = SignedManifest.from_bytes(draft.read_bytes())
    v1 = SignedManifest.from_bytes((c.dir / "keyring-v1.json").read_bytes()).manifest
    # Swap the new recipients for the old ones, keeping the signatures.
    forged = SignedManifest(
        signed.manifest.successor(
            issued=signed.manifest.issued,
            expires=signed.manifest.expires,
            recipients=v1.recipients,
        ),
        signed.signatures,
    )
    forged_path = tmp_path / "forged.json"
    forged_path.write_bytes(forged.to_bytes())
    result = run("keys", "install", str(forged_path), answers=BOTH, workspace=c.workspace)
    assert result.exit_code == 1
    assert "keyring refused" in result.output


def _swap_alice_signing_key(c: Ceremony, tmp_path: Path) -> tuple[Path, SigningKey]:
    """A draft that keeps Alice's encryption key but lists a signing key of the carrier's."""
    v1 = SignedManifest.from_bytes((c.dir / "keyring-v1.json").read_bytes()).manifest
    mallory = SigningKey.generate()
    alice = v1.recipients[0]
    forged = dataclasses.replace(alice, signing_key=mallory.verify_key)
    draft = tmp_path / "swapped.json"
    draft.write_bytes(
        SignedManifest(
            v1.successor(issued=v1.issued, expires=v1.expires, recipients=[forged])
        ).to_bytes()
    )
    return draft, mallory


def test_a_draft_with_alices_signing_key_swapped_is_shown_as_a_change(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    draft, mallory = _swap_alice_signing_key(c, tmp_path)
    before = draft.read_bytes()

    # The holder reads it, sees the change, and stops: typing nothing signs nothing.
    result = run(
        "keys",
        "sign-manifest",
        str(draft),
        "--key-file",
        str(c.holder(1)),
        answers="\n",
        workspace=c.workspace,
    )
    assert result.exit_code == 1
    assert "~ reviewer alice" in result.output
    assert "CHANGED TO" in result.output
    assert str(mallory.verify_key.fingerprint) in result.output
    assert "encryption key" in result.output
    assert f"digest {digest_text(SignedManifest.from_bytes(before).manifest)}" in result.output
    assert draft.read_bytes() == before
    shown = ok(
        run(
            "--as", "alice", "keys", "show", str(draft), answers=f"{ALICE}\n", workspace=c.workspace
        )
    )
    assert str(mallory.verify_key.fingerprint) in shown.output


def test_a_holder_who_types_another_drafts_digest_does_not_sign(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    draft, _ = _swap_alice_signing_key(c, tmp_path)
    genuine = _rotate(c, tmp_path)
    before = draft.read_bytes()
    wrong = _first_group(genuine)
    assert wrong != _first_group(draft)

    result = run(
        "keys",
        "sign-manifest",
        str(draft),
        "--key-file",
        str(c.holder(1)),
        answers=f"{wrong}\n{HOLDER_PASS[0]}\n",
        workspace=c.workspace,
    )

    assert result.exit_code == 1
    assert "not signed" in result.output
    assert draft.read_bytes() == before


def test_keys_show_lists_every_reviewers_both_fingerprints_and_the_digest(
    ceremony: Ceremony,
) -> None:
    c = ceremony
    v1 = SignedManifest.from_bytes((c.dir / "keyring-v1.json").read_bytes()).manifest
    shown = ok(
        run("--as", "alice", "keys", "show", answers=f"{ALICE}\n", workspace=c.workspace)
    ).output

    alice = v1.recipients[0]
    assert str(alice.encryption_key.fingerprint) in shown
    assert str(alice.signing_key.fingerprint) in shown
    assert "2 of 3 authority signatures" in shown
    assert f"digest {digest_text(v1)}" in shown
    assert "admin" in shown  # alice's role here


def _add_bob(c: Ceremony, tmp_path: Path) -> Path:
    bob = tmp_path / "bob.key"
    new_key(bob, "Bob", BOB)
    draft = tmp_path / "add-bob.json"
    result = ok(
        run(
            "keys",
            "reviewer-add",
            "--key-file",
            str(bob),
            "--reviewer",
            "bob",
            "--draft",
            str(draft),
            answers=f"{ALICE}\n",
            workspace=c.workspace,
        )
    )
    assert "+ reviewer bob" in result.output
    return draft


def _enrol(
    c: Ceremony, key: Path, reviewer: str, holder_passphrase: str, *, as_: str = "alice"
) -> Result:
    """`enrol`, unlocked as `as_` (Alice's or Bob's passphrase), the holder typing theirs."""
    acting = ALICE if as_ == "alice" else BOB
    return run(
        "--as",
        as_,
        "enrol",
        "--key-file",
        str(key),
        "--reviewer",
        reviewer,
        answers=f"{acting}\n{holder_passphrase}\n",
        workspace=c.workspace,
    )


def _install_here(c: Ceremony, keyring: Path) -> Result:
    return ok(
        run(
            "--as",
            "alice",
            "keys",
            "install",
            str(keyring),
            answers=f"{ALICE}\n",
            workspace=c.workspace,
        )
    )


def _bring_in_bob(c: Ceremony, tmp_path: Path) -> None:
    """Draft Bob in, have two holders sign, install it on the server and here, enrol him."""
    draft = _add_bob(c, tmp_path)
    c.sign(draft, 2, 3)
    c.install_on_server(draft)
    installed = _install_here(c, draft)
    assert "bob is listed but not enrolled here" in installed.output
    ok(_enrol(c, tmp_path / "bob.key", "bob", BOB))


def _bob_second_admin(c: Ceremony, tmp_path: Path) -> tuple[str, ...]:
    """Make Bob an administrator (two authorities give it) and name his key file as the
    second administrator's: one alone may not retire the keys of a reviewer listed."""
    ok(
        run("--as", "bob", "keys", "admin-grant", "bob", "--key-file", str(c.holder(1)),
            "--key-file", str(c.holder(3)), answers=f"{BOB}\n{HOLDER_PASS[0]}\n{HOLDER_PASS[2]}\n",
            workspace=c.workspace)
    )  # fmt: skip
    return ("--second-admin", str(tmp_path / "bob.key"))


def _bob_enrolled(c: Ceremony) -> bool:
    workspace = ws.Workspace.open(c.workspace)
    try:
        return "bob" in workspace.reviewer_ids()
    finally:
        workspace.close()


def test_adding_a_reviewer_enrols_nobody_until_the_keyring_lists_them(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    draft = _add_bob(c, tmp_path)
    assert not _bob_enrolled(c)

    # Not yet signed and installed: the key is not in the keyring in force.
    early = _enrol(c, tmp_path / "bob.key", "bob", BOB)
    assert early.exit_code == 1
    assert "does not list this key" in early.output
    assert not _bob_enrolled(c)

    c.sign(draft, 2, 3)
    _install_here(c, draft)
    ok(_enrol(c, tmp_path / "bob.key", "bob", BOB))
    assert _bob_enrolled(c)
    actions = [e.action for e in audit.entries(_unlocked_alice(c))]
    assert actions[-1] == "enrol"


def _unlocked_alice(c: Ceremony) -> ws.Unlocked:
    return ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)


def test_a_key_file_whose_x25519_field_was_edited_in_transit_is_refused(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Mallory swaps her X25519 key into bob.key on its way to the administrator."""
    c = ceremony
    bob = new_key(tmp_path / "bob.key", "Bob", BOB)
    mallory = KeyFile.from_bytes(new_key(tmp_path / "m.key", "M", STRANGER).read_bytes())
    doc = json.loads(bob.read_bytes())
    doc["public"]["x25519"] = mallory.public["x25519"]
    edited = tmp_path / "bob-edited.key"
    edited.write_text(json.dumps(doc))

    drafted = run(
        "keys",
        "reviewer-add",
        "--key-file",
        str(edited),
        "--reviewer",
        "bob",
        "--draft",
        str(tmp_path / "d.json"),
        answers=f"{ALICE}\n",
        workspace=c.workspace,
    )
    assert drafted.exit_code == 1
    assert "altered" in drafted.output
    assert not (tmp_path / "d.json").exists()
    # Stripped down to the old format, it carries no binding: refused for that.
    public = {k: v for k, v in doc["public"].items() if k != "xwing"}
    old = {k: v for k, v in doc.items() if k != "binding"} | {"format": 1, "public": public}
    edited.write_text(json.dumps(old))
    again = run(
        "keys",
        "reviewer-add",
        "--key-file",
        str(edited),
        "--reviewer",
        "bob",
        "--draft",
        str(tmp_path / "d.json"),
        answers=f"{ALICE}\n",
        workspace=c.workspace,
    )
    assert again.exit_code == 1
    assert "old key file" in again.output
    # And enrolment itself asks the holder to open a challenge sealed to that key.
    enrolled = _enrol(c, edited, "bob", BOB)
    assert enrolled.exit_code == 1
    assert not _bob_enrolled(c)


def test_enrolment_needs_the_holder_to_prove_possession(ceremony: Ceremony, tmp_path: Path) -> None:
    c = ceremony
    draft = _add_bob(c, tmp_path)
    c.sign(draft, 2, 3)
    _install_here(c, draft)

    refused = _enrol(c, tmp_path / "bob.key", "bob", "not bobs passphrase")
    assert refused.exit_code == 1
    assert "does not unlock" in refused.output
    assert not _bob_enrolled(c)


def test_only_an_administrator_enrols_a_key(ceremony: Ceremony, tmp_path: Path) -> None:
    """Bob, about to be revoked, tries to enrol a stand-in key that the keyring lists."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    stand_in = new_key(tmp_path / "stand-in.key", "Carol", STRANGER)
    result = _enrol(c, stand_in, "carol", STRANGER, as_="bob")
    assert result.exit_code == 1
    assert "only an administrator" in result.output
    workspace = ws.Workspace.open(c.workspace)
    assert "carol" not in workspace.reviewer_ids()
    workspace.close()


def test_a_revoked_reviewer_opens_nothing_even_with_an_old_copy_of_the_workspace(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    c.server.submit("a report bob may read for now")
    _import(c, tmp_path, "one.rzb")
    _bring_in_bob(c, tmp_path)
    shown = ok(run("--as", "bob", "show", "1", answers=f"{BOB}\n", workspace=c.workspace))
    assert "bob may read" in shown.output
    # Bob keeps a copy of the workspace database, with the key wrapped to him.
    workspace = ws.Workspace.open(c.workspace)
    old_public = workspace.public_key
    stolen = workspace.conn.execute(
        "SELECT wrapped FROM reviewer_keys WHERE reviewer = 'bob'"
    ).fetchone()[0]
    workspace.close()
    # Bob, not an administrator, only drafts Alice's removal: her keys stay while listed.
    drafted = run(
        "--as",
        "bob",
        "keys",
        "reviewer-revoke",
        "alice",
        "--draft",
        str(tmp_path / "x.json"),
        answers=f"{BOB}\n",
        workspace=c.workspace,
    )
    assert drafted.exit_code == 0, drafted.output
    assert "alice keeps their keys here until that keyring is installed" in drafted.output
    assert ok(run("--as", "alice", "list", answers=f"{ALICE}\n", workspace=c.workspace))
    revoke = ok(
        run(
            "--as",
            "alice",
            "keys",
            "reviewer-revoke",
            "bob",
            "--draft",
            str(tmp_path / "revoke-bob.json"),
            *_bob_second_admin(c, tmp_path),
            answers=f"{ALICE}\n{BOB}\n",
            workspace=c.workspace,
        )
    )
    assert "- reviewer bob" in revoke.output
    assert (tmp_path / "revoke-bob.json").exists()
    locked = run("--as", "bob", "show", "1", answers=f"{BOB}\n", workspace=c.workspace)
    assert locked.exit_code == 1
    assert not any(p.name.startswith("bob-") for p in (c.workspace / "keys").iterdir())
    # The old copy still yields the old workspace key, and that opens nothing now.
    # (An X-Wing workspace key is wrapped to his X-Wing key.)
    bob_key = KeyFile.from_bytes((tmp_path / "bob.key").read_bytes()).unlock(BOB).hybrid
    assert bob_key is not None
    old = WorkspaceKey.unwrap(stolen, bob_key, old_public)
    workspace = ws.Workspace.open(c.workspace)
    assert workspace.public_key != old_public
    num, state = workspace.conn.execute("SELECT num, state FROM reports").fetchone()
    blob = workspace.conn.execute("SELECT blob FROM items").fetchone()[0]
    with pytest.raises(DecryptionError):
        old.open_record(state, f"report:{num}".encode())
    with blobs.open_blob(workspace, blob) as src, pytest.raises(DecryptionError):
        open_envelope(src, io.BytesIO(), [old.identity])
    workspace.close()
    assert "bob may read" in _messages(c, ALICE)[0]


def test_a_revoked_reviewer_opens_no_subkey_store_left_in_the_workspace(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Bob keeps his own key file; a later copy of the workspace must not give him his weeks."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    listed = tmp_path / "bob-subkeys.json"
    ok(
        run(
            "--as",
            "bob",
            "keys",
            "subkeys",
            "new",
            "--out",
            str(listed),
            answers=f"{BOB}\n",
            workspace=c.workspace,
        )
    )
    assert (c.workspace / "subkeys" / "bob.rze").exists()
    ok(
        run(
            "--as",
            "alice",
            "keys",
            "reviewer-revoke",
            "bob",
            "--draft",
            str(tmp_path / "revoke-bob.json"),
            *_bob_second_admin(c, tmp_path),
            answers=f"{ALICE}\n{BOB}\n",
            workspace=c.workspace,
        )
    )
    # The adversary: Bob's copy of his key file (made outside the workspace), and the disk.
    bob = KeyFile.from_bytes((tmp_path / "bob.key").read_bytes()).unlock(BOB)
    for store in (c.workspace / "subkeys").iterdir():
        with pytest.raises(DecryptionError):
            open_bytes(store.read_bytes(), bob.decryption_keys)
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    destroyed = [e.detail for e in audit.entries(u) if e.action == "subkeys-destroy"]
    u.workspace.close()
    assert destroyed == [
        {"reviewer": "bob", "weeks": _weeks(listed), "rule": "revoked"},
    ]


def _weeks(listed: Path) -> list[str]:
    """The weeks of a signed subkey list, as the audit log names them."""
    return [str(p) for p, _ in SignedSubkeyList.from_bytes(listed.read_bytes()).subkeys.subkeys]


def test_only_an_administrator_adds_a_reviewer(ceremony: Ceremony, tmp_path: Path) -> None:
    c = ceremony
    _bring_in_bob(c, tmp_path)
    carol = tmp_path / "carol.key"
    new_key(carol, "Carol", BOB)
    result = run(
        "--as",
        "bob",
        "keys",
        "reviewer-add",
        "--key-file",
        str(carol),
        "--reviewer",
        "carol",
        "--draft",
        str(tmp_path / "carol.json"),
        answers=f"{BOB}\n",
        workspace=c.workspace,
    )
    assert result.exit_code == 1
    assert "only an administrator" in result.output
    assert not (tmp_path / "carol.json").exists()


def test_a_rewrap_that_fails_changes_nothing(
    ceremony: Ceremony, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = ceremony
    # An attachment large enough to be a blob file, and a message small enough to be a row.
    c.server.submit("with a file", [("files", "big.bin", os.urandom(300_000), "image/png")])
    c.server.submit("small")
    _import(c, tmp_path, "one.rzb")
    before = {
        p.relative_to(c.workspace): p.read_bytes() for p in c.workspace.rglob("*") if p.is_file()
    }

    def fail(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("power cut")

    monkeypatch.setattr(audit, "append", fail)
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    from review.keys.rewrap import rewrap

    with pytest.raises(RuntimeError):
        rewrap(u)
    u.workspace.close()
    after = {
        p.relative_to(c.workspace): p.read_bytes() for p in c.workspace.rglob("*") if p.is_file()
    }
    assert after == before


def test_every_sealed_column_of_the_schema_is_rewrapped() -> None:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    covered = {(s.table, s.column) for s in SEALED}
    # BLOB columns that hold no record sealed under the workspace key's record key.
    other = {
        ("reviewer_keys", "wrapped"),  # wrapped to reviewer keys; a rewrap rewrites them
        ("blob_data", "data"),  # envelopes; a rewrap re-seals them as blobs
        ("keyrings", "signed"),  # public
        ("envelopes", "digest"),  # hashes of the envelopes the server held, as bundles name them
    }
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for _cid, column, kind, *_ in conn.execute(f"PRAGMA table_info({table})"):
            if kind.upper() == "BLOB":
                assert (table, column) in covered | other, (table, column)
    assert ("search_segments", "sealed") in covered


def test_keys_upgrade_rewrites_an_old_key_file_with_its_binding(tmp_path: Path) -> None:
    vectors = Path(__file__).parents[2] / "crypto" / "vectors" / "vectors.json"
    v1 = json.loads(vectors.read_text())["keyfile"]
    path = tmp_path / "old.key"
    path.write_text(v1["file"])
    old = KeyFile.from_bytes(path.read_bytes())

    ok(run("keys", "upgrade", str(path), answers=f"{v1['passphrase']}\n"))

    new = KeyFile.from_bytes(path.read_bytes())
    assert (old.bound, new.bound) == (False, True)
    assert new.public == old.public
    assert new.unlock(v1["passphrase"]) == old.unlock(v1["passphrase"])
