"""Ceremonies with X-Wing keys: drafting keyring format 3, enrolment, rotation, upgrade, rewrap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main as app_main
from app.demo import DEMO_PASSPHRASE
from crypto import (
    AuthorityKey,
    CodenameParams,
    FormatError,
    InstanceListing,
    KdfParams,
    KeyFile,
    KeyPair,
    Manifest,
    Metadata,
    SignedManifest,
    SigningKey,
    TimestampPolicy,
    open_bytes,
    seal_bytes,
)
from crypto.hybrid import HybridPrivateKey
from crypto.onion import OnionServiceKey
from review import workspace as ws
from review.cli import cli
from review.errors import UnlockError
from review.keys import ceremony
from review.keys.ceremony import CeremonyError
from review.keys.enrolment import check_listed, enrol_key, rotate
from review.keys.rewrap import RewrapError, _check_retire
from tests.review.support import Server, init_on_first_keyring, review

PW = "a passphrase of the holder"
TODAY = dt.date(2026, 12, 2)
AUTHORITY = SigningKey(b"\x11" * 32)
LISTING = InstanceListing(
    "ab" * 16, (OnionServiceKey.generate().address,), (SigningKey(b"\x12" * 32).verify_key,)
)
CODENAME = CodenameParams(bytes(16), KdfParams.INTERACTIVE)
POLICY = TimestampPolicy(SigningKey(b"\x13" * 32).verify_key, 7)


def key_file(keys: KeyPair | None = None, label: str = "R") -> KeyFile:
    return KeyFile.create(
        keys or KeyPair.generate(), PW, kind="reviewer", label=label, params=KdfParams.TESTING
    )


ALICE, BOB = key_file(label="Alice"), key_file(label="Bob")


def keyring(*, listed: bool = True) -> Manifest:
    """A format-2 keyring (format 1 without `listed`) of Alice and Bob."""
    return Manifest(
        version=1,
        previous=None,
        issued=TODAY,
        expires=TODAY + dt.timedelta(days=365),
        threshold=1,
        authorities=(AuthorityKey("A", AUTHORITY.verify_key),),
        recipients=tuple(
            dataclasses.replace(ceremony.recipient(i, i.title(), f), hybrid_key=None)
            for i, f in (("alice", ALICE), ("bob", BOB))
        ),
        instance=LISTING if listed else None,
        codename=CODENAME if listed else None,
        timestamp=POLICY if listed else None,
    )


def forward_secret() -> Manifest:
    current = keyring()
    found = ceremony.hybrid_keys(current, [ALICE, BOB])
    return ceremony.draft(current, today=TODAY, hybrid=found).manifest


def test_a_keyring_from_key_files_with_x_wing_keys_stays_format_two_until_asked() -> None:
    current = keyring()
    assert current.format == 2
    carl = ceremony.recipient("carl", "Carl", key_file())
    assert carl.hybrid_key is not None
    drafted = ceremony.draft(current, today=TODAY, add=carl).manifest
    assert drafted.format == 2
    assert all(r.hybrid_key is None for r in drafted.recipients)


def test_forward_secrecy_drafts_format_three_and_the_diff_says_so() -> None:
    current = keyring()
    new = forward_secret()
    assert new.format == 3
    assert new.seals_to_subkeys
    assert [r.hybrid_key for r in new.recipients] == [ALICE.hybrid_public, BOB.hybrid_public]
    lines = ceremony.changes(current, new)
    assert any("format 2 -> 3" in line and "FORWARD SECRECY ON" in line for line in lines)
    assert sum("hybrid key" in line for line in lines) == 2
    assert str(ALICE.hybrid_public.fingerprint) in "\n".join(lines)  # type: ignore[union-attr]
    assert "format 3" in "\n".join(ceremony.describe(new))


def test_forward_secrecy_needs_every_reviewers_x_wing_key() -> None:
    current = keyring()
    only_alice = ceremony.hybrid_keys(current, [ALICE])
    with pytest.raises(CeremonyError, match="bob has none"):
        ceremony.draft(current, today=TODAY, hybrid=only_alice)


def test_forward_secrecy_needs_the_instance_listed_first() -> None:
    current = keyring(listed=False)
    with pytest.raises(CeremonyError, match="lists the instance"):
        ceremony.draft(current, today=TODAY, hybrid=ceremony.hybrid_keys(current, [ALICE, BOB]))


def test_a_key_file_for_nobody_listed_or_without_an_x_wing_key_is_refused() -> None:
    current = keyring()
    with pytest.raises(CeremonyError, match="lists no reviewer with these keys"):
        ceremony.hybrid_keys(current, [key_file()])
    old_alice = KeyFile.create(
        KeyPair.generate(hybrid=False), PW, kind="reviewer", label="A2", params=KdfParams.TESTING
    )
    with_old = dataclasses.replace(
        current, recipients=(ceremony.recipient("alice", "Alice", old_alice), current.recipients[1])
    )
    with pytest.raises(CeremonyError, match="no X-Wing key"):
        ceremony.hybrid_keys(with_old, [old_alice])


def test_a_swapped_x_wing_key_in_a_key_file_is_refused_by_the_ceremony() -> None:
    doc = json.loads(ALICE.to_bytes())
    doc["public"]["xwing"] = BOB.public["xwing"]
    with pytest.raises(FormatError, match="altered"):
        ceremony.hybrid_keys(keyring(), [KeyFile.from_bytes(json.dumps(doc).encode())])


def test_a_format_three_keyring_takes_a_reviewer_only_with_an_x_wing_key() -> None:
    current = forward_secret()
    old = KeyFile.create(
        KeyPair.generate(hybrid=False), PW, kind="reviewer", label="C", params=KdfParams.TESTING
    )
    with pytest.raises(CeremonyError, match="needs an X-Wing key"):
        ceremony.draft(current, today=TODAY, add=ceremony.recipient("carl", "Carl", old))
    carl = key_file()
    added = ceremony.draft(current, today=TODAY, add=ceremony.recipient("carl", "Carl", carl))
    assert added.manifest.format == 3
    assert added.manifest.recipients[-1].hybrid_key == carl.hybrid_public
    # Removing a reviewer keeps format 3 too.
    assert ceremony.draft(current, today=TODAY, remove="bob").manifest.format == 3


def test_a_rotated_reviewers_new_hybrid_key_shows_as_changed() -> None:
    current = forward_secret()
    rotated = key_file(label="Alice")
    new = ceremony.draft(
        current, today=TODAY, add=ceremony.recipient("alice", "Alice", rotated)
    ).manifest
    lines = ceremony.changes(current, new)
    text = "\n".join(lines)
    assert str(rotated.hybrid_public.fingerprint) in text  # type: ignore[union-attr]
    assert "CHANGED TO" in text
    assert not any("format" in line for line in lines)


def test_the_founding_keyring_is_format_one_whatever_the_key_files_hold(tmp_path: Path) -> None:
    signed, _ = ceremony.authority_init(
        tmp_path / "out",
        ["A"],
        [PW],
        threshold=1,
        recipients=[ceremony.recipient("alice", "Alice", ALICE)],
        today=TODAY,
        kdf=KdfParams.TESTING,
    )
    assert signed.manifest.format == 1


def test_a_key_with_an_x_wing_half_is_enrolled_after_proving_all_three(
    unlocked: ws.Unlocked, workspace: Path
) -> None:
    carl = key_file(label="Carl")
    enrol_key(unlocked, reviewer="carl", name="Carl", key_file=carl.to_bytes(), ask=lambda _: PW)
    opened = ws.Workspace.open(workspace).unlock("carl", lambda _: PW)
    try:
        assert [k.hybrid_public for k in opened.keys] == [carl.hybrid_public]
        # A v2 envelope sealed to Carl's long-term X-Wing key opens with his keys.
        hybrid = carl.hybrid_public
        assert hybrid is not None
        sealed = seal_bytes(b"for carl", [hybrid], Metadata("report"))
        assert open_bytes(sealed, opened.keys[0].decryption_keys)[0] == b"for carl"
    finally:
        opened.workspace.close()


def test_a_key_file_whose_x_wing_key_was_swapped_is_refused_before_any_passphrase(
    unlocked: ws.Unlocked,
) -> None:
    doc = json.loads(key_file().to_bytes())
    doc["public"]["xwing"] = BOB.public["xwing"]
    asked: list[str] = []

    def ask(label: str) -> str:
        asked.append(label)
        return PW

    with pytest.raises(UnlockError, match="altered"):
        enrol_key(unlocked, reviewer="eve", name="Eve", key_file=json.dumps(doc).encode(), ask=ask)
    assert asked == []


def test_rotation_gives_a_new_x_wing_key(unlocked: ws.Unlocked) -> None:
    file = rotate(unlocked, PW, kdf=KdfParams.TESTING)
    assert file.format == 3
    assert file.hybrid_public is not None
    assert file.unlock(PW).hybrid is not None


def test_keys_upgrade_add_hybrid_gives_an_old_key_file_an_x_wing_key(tmp_path: Path) -> None:
    old = KeyFile.create(
        KeyPair.generate(hybrid=False), PW, kind="reviewer", label="Old", params=KdfParams.TESTING
    )
    path = tmp_path / "old.key"
    path.write_bytes(old.to_bytes())
    result = CliRunner().invoke(
        cli, ["keys", "upgrade", "--add-hybrid", str(path)], input=f"{PW}\n"
    )
    assert result.exit_code == 0, result.output
    new = KeyFile.from_bytes(path.read_bytes())
    assert new.format == 3
    assert (new.encryption_public, new.signing_public) == (
        old.encryption_public,
        old.signing_public,
    )
    assert "added X-Wing key" in result.output
    again = CliRunner().invoke(cli, ["keys", "upgrade", "--add-hybrid", str(path)], input=f"{PW}\n")
    assert "already in the current format" in again.output
    assert KeyFile.from_bytes(path.read_bytes()).hybrid_public == new.hybrid_public


def test_a_pending_item_sealed_only_to_a_retiring_keys_x_wing_half_blocks_the_retirement(
    unlocked: ws.Unlocked,
) -> None:
    file = rotate(unlocked, PW, kdf=KdfParams.TESTING)
    seqs = dict(
        unlocked.conn.execute(
            "SELECT encryption_key, seq FROM reviewer_keys WHERE reviewer = ?", (unlocked.reviewer,)
        ).fetchall()
    )
    assert file.encryption_public is not None
    assert file.hybrid_public is not None
    new_seq = seqs[file.encryption_public.to_text()]
    sealed = seal_bytes(b"waiting", [file.hybrid_public], Metadata("report"))
    name = "pending-v2.rze"
    (unlocked.workspace.blobs / name).write_bytes(sealed)
    # A pending item as an import leaves one (its report and bundle rows are beside the point).
    unlocked.conn.execute("PRAGMA foreign_keys = OFF")
    unlocked.conn.execute(
        "INSERT INTO items (id, report, bundle, kind, status, blob)"
        " VALUES ('i1', 1, 'b1', 'report', 'pending', ?)",
        (name,),
    )
    with pytest.raises(RewrapError, match="sealed only to a key being retired"):
        _check_retire(unlocked, {new_seq})
    # Retiring the old key instead strands nothing: the new key's X-Wing half is kept.
    old_seq = next(seq for key, seq in seqs.items() if seq != new_seq)
    retiring, abandoned = _check_retire(unlocked, {old_seq})
    assert (set(retiring), abandoned) == ({old_seq}, 0)


def test_forward_secrecy_end_to_end_drafted_signed_and_installed_here_and_on_the_server(
    server_format_2: Server, tmp_path: Path
) -> None:
    """The ceremony through the commands on an instance from before v2: draft format 3, two
    holders sign, both sides install."""
    server = server_format_2
    root = init_on_first_keyring(server, tmp_path)
    draft = tmp_path / "keyring-v2.json"
    drafted = review(
        root,
        "keys",
        "forward-secrecy",
        "--key-file",
        str(server.reviewer_key_file),
        "--draft",
        str(draft),
    )
    assert drafted.exit_code == 0, drafted.output
    assert "format 2 -> 3: FORWARD SECRECY ON" in drafted.output
    assert "hybrid key" in drafted.output
    manifest = SignedManifest.from_bytes(draft.read_bytes()).manifest
    assert manifest.format == 3
    hybrid = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).hybrid_public
    assert manifest.recipients[0].hybrid_key == hybrid
    for i in (1, 2):
        digest = ceremony.digest_text(manifest)[:4]
        signed = CliRunner().invoke(
            cli,
            [
                "--workspace",
                str(root),
                "keys",
                "sign-manifest",
                str(draft),
                "--key-file",
                str(server.paths.demo_keys / f"authority-{i}.key"),
            ],
            input=f"{digest}\n{DEMO_PASSPHRASE}\n",
        )
        assert signed.exit_code == 0, signed.output
    installed = review(root, "keys", "install", str(draft))
    assert installed.exit_code == 0, installed.output
    on_server = CliRunner().invoke(
        app_main, ["--instance", str(server.instance), "keyring", "install", str(draft)]
    )
    assert on_server.exit_code == 0, on_server.output
    assert "weekly subkeys" in on_server.output
    # And from here on, no draft goes back: a reviewer without an X-Wing key is refused.
    old = KeyFile.create(
        KeyPair.generate(hybrid=False), PW, kind="reviewer", label="Old", params=KdfParams.TESTING
    )
    old_path = tmp_path / "old.key"
    old_path.write_bytes(old.to_bytes())
    refused = review(
        root,
        "keys",
        "reviewer-add",
        "--key-file",
        str(old_path),
        "--reviewer",
        "old",
        "--draft",
        str(tmp_path / "keyring-v3.json"),
    )
    assert refused.exit_code == 1
    assert "needs an X-Wing key" in refused.output
    # A key file with the listed X25519 and Ed25519 keys but another X-Wing key
    # (made by whoever holds the two, bound by them) is not what the keyring lists.
    pair = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).unlock(DEMO_PASSPHRASE)
    other = KeyFile.create(
        KeyPair(pair.encryption, pair.signing, HybridPrivateKey.generate()),
        PW,
        kind="reviewer",
        label="Demo reviewer",
        params=KdfParams.TESTING,
    )
    opened = ws.Workspace.open(root)
    try:
        with pytest.raises(UnlockError, match="does not list this key"):
            check_listed(opened, "demo-reviewer", other)
        check_listed(
            opened, "demo-reviewer", KeyFile.from_bytes(server.reviewer_key_file.read_bytes())
        )
    finally:
        opened.close()
