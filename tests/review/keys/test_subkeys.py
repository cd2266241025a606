"""The workstation's subkey store: issued, kept sealed, opened at import, destroyed by rule D1."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import stat
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from app.keyring import manifest_path
from crypto import (
    HybridPublicKey,
    KdfParams,
    KeyFile,
    KeyPair,
    Metadata,
    Period,
    SignedManifest,
    SignedSubkeyList,
    SigningKey,
    SubkeySecrets,
    open_bytes,
    read_header,
    seal_bytes,
    sign_subkeys,
    verify_subkeys,
)
from crypto.encoding import b64decode, b64encode, canonical_json
from crypto.envelope.version import V2
from crypto.errors import CryptoError, DecryptionError
from crypto.subkeys import SubkeyError, check_install, destroy, generate
from review import workspace as ws
from review.errors import WorkspaceError
from review.intake.importer import import_bundle
from review.keys import subkeys
from review.keys.enrolment import enrol_key, rotate
from review.keys.rewrap import RewrapError, rewrap
from review.workspace import audit
from tests.review.subkey_bundles import Chain, seal_report
from tests.review.support import Server, review

WEEK1, WEEK2 = Period(2026, 49), Period(2026, 50)
ISSUED = dt.date(2026, 12, 1)
MONDAY3, WEDNESDAY3 = dt.date(2026, 12, 14), dt.date(2026, 12, 16)


@pytest.fixture
def server(server_format_2: Server) -> Server:
    """A server from before v2: each test issues the store it needs, none adopted from the demo."""
    return server_format_2


def _subkey(u: ws.Unlocked, week: Period) -> Period | None:
    key = subkeys.load(u).get(week)
    return week if key is not None else None


def _week_key(u: ws.Unlocked, week: Period) -> HybridPublicKey:
    key = subkeys.load(u).get(week)
    assert key is not None
    return key.public_key


def _destroyed(u: ws.Unlocked) -> list[object]:
    return [e.detail for e in audit.entries(u) if e.action == "subkeys-destroy"]


@pytest.mark.parametrize(
    ("bundle_day", "today", "week", "why"),
    [
        (MONDAY3, MONDAY3, WEEK2, "imported only through 2026-W49"),
        (dt.date(2026, 12, 28), dt.date(2026, 12, 7), WEEK1, "not closed: a slow clock may seal"),
        (dt.date(2026, 12, 28), dt.date(2026, 12, 28), Period(2026, 53), "the current week"),
        (dt.date(2027, 1, 20), dt.date(2027, 1, 20), Period(2027, 3), "the current week"),
    ],
)
def test_a_week_not_yet_destroyable_is_refused(
    server: Server,
    unlocked: ws.Unlocked,
    tmp_path: Path,
    bundle_day: dt.date,
    today: dt.date,
    week: Period,
    why: str,
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    import_bundle(unlocked, Chain(server, tmp_path).bundle([], bundle_day))
    before = subkeys.store_path(unlocked).read_bytes()

    with pytest.raises(subkeys.SubkeyRefused, match=str(week)):
        subkeys.destroy_weeks(unlocked, today, [week])
    assert subkeys.store_path(unlocked).read_bytes() == before, why
    assert _destroyed(unlocked) == []
    assert week in subkeys.load(unlocked).periods


def test_an_incomplete_export_chain_destroys_nothing(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    chain = Chain(server, tmp_path)
    first = chain.bundle([seal_report("sealed in week 1", _week_key(unlocked, WEEK1))], MONDAY3)
    second = chain.bundle([], WEDNESDAY3)
    third = chain.bundle([], dt.date(2026, 12, 23))
    before = subkeys.store_path(unlocked).read_bytes()

    import_bundle(unlocked, second)  # bundle 1, which holds week 1's report, is still on a stick
    assert subkeys.imported_through(unlocked) is None
    assert subkeys.after_import(unlocked, WEDNESDAY3) == ()
    with pytest.raises(subkeys.SubkeyRefused, match="not yet imported") as refused:
        subkeys.destroy_weeks(unlocked, WEDNESDAY3, [WEEK1])
    assert "no export bundle with a complete chain" in str(refused.value.hint)
    assert subkeys.store_path(unlocked).read_bytes() == before

    import_bundle(unlocked, first)  # the chain is complete through bundle 2
    assert subkeys.imported_through(unlocked) == WEEK2
    assert subkeys.after_import(unlocked, WEDNESDAY3) == (WEEK1, WEEK2)
    assert subkeys.status(unlocked, WEDNESDAY3).destroyed == (WEEK1, WEEK2)
    assert _destroyed(unlocked) == [
        {"weeks": ["2026-W49", "2026-W50"], "rule": "D1", "imported_through": "2026-W50"}
    ]
    import_bundle(unlocked, third)
    assert subkeys.imported_through(unlocked) == Period(2026, 51)


def test_a_gap_in_the_chain_holds_destruction_at_the_bundle_before_it(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    chain = Chain(server, tmp_path)
    first = chain.bundle([], dt.date(2026, 12, 7))  # closes week 48 only
    chain.bundle([], MONDAY3)  # lost
    third = chain.bundle([], dt.date(2026, 12, 30))
    import_bundle(unlocked, first)
    import_bundle(unlocked, third)
    assert subkeys.imported_through(unlocked) == Period(2026, 48)
    assert subkeys.after_import(unlocked, dt.date(2026, 12, 30)) == ()


def test_issuing_again_extends_the_store_and_keeps_the_weeks_it_shares(
    unlocked: ws.Unlocked,
) -> None:
    first, made = subkeys.issue(unlocked, 8, ISSUED)
    assert made == tuple(WEEK1.after(i) for i in range(8))
    later = dt.date(2026, 12, 15)
    second, made = subkeys.issue(unlocked, 8, later)
    assert made == (Period(2027, 4), Period(2027, 5))
    reviewer = unlocked.signing.verify_key
    a, b = verify_subkeys(first, reviewer, ISSUED), verify_subkeys(second, reviewer, later)
    assert (b.first, b.last) == (Period(2026, 51), Period(2027, 5))
    shared = [p for p, _ in b.subkeys if p <= a.last]
    assert len(shared) == 6
    assert all(a.key_for(p) == b.key_for(p) for p in shared)
    assert subkeys.status(unlocked, later).days_left == (Period(2027, 5).last_day - later).days + 1
    assert [e.detail for e in audit.entries(unlocked) if e.action == "subkeys-new"] == [
        {"weeks": [str(p) for p, _ in a.subkeys]},
        {"weeks": ["2027-W04", "2027-W05"]},
    ]


def test_an_issued_list_names_this_instance_and_the_keyring_in_force(
    unlocked: ws.Unlocked, server: Server
) -> None:
    # A reviewer serving two instances signs each a list the other's server refuses.
    signed, _ = subkeys.issue(unlocked, 2, ISSUED)
    manifest = SignedManifest.from_bytes(manifest_path(server.paths, 1).read_bytes()).manifest
    assert manifest.instance is not None
    listed = SignedSubkeyList.from_bytes(signed.to_bytes()).subkeys
    assert (listed.format, listed.instance, listed.keyring) == (
        3,
        unlocked.workspace.pinned.instance_id,
        1,
    ), "the list names no instance: another instance's server could serve it"
    assert check_install(manifest, signed, None, ISSUED).id == "demo-reviewer"
    other = dataclasses.replace(
        manifest, instance=dataclasses.replace(manifest.instance, id="f" * 32)
    )
    with pytest.raises(SubkeyError) as caught:
        check_install(other, signed, None, ISSUED)
    assert caught.value.rule == "instance"


def test_a_store_planted_without_the_reviewers_keys_is_refused(unlocked: ws.Unlocked) -> None:
    """Whoever can write the disk but has no passphrase must not get their subkeys published."""
    subkeys.issue(unlocked, 2, ISSUED)
    theirs = generate(WEEK1, 8)
    recipients = [k for p in unlocked.keys if (k := p.hybrid_public)]  # public, in the workspace
    planted = seal_bytes(
        theirs.to_bytes(),
        recipients,
        Metadata("subkey-secrets", "application/vnd.raazdar.subkey-secrets+json"),
        signer=SigningKey.generate(),
    )
    subkeys.store_path(unlocked).write_bytes(planted)
    with pytest.raises(WorkspaceError, match="does not open"):
        subkeys.issue(unlocked, 8, ISSUED)
    unsigned = seal_bytes(
        theirs.to_bytes(),
        recipients,
        Metadata("subkey-secrets", "application/vnd.raazdar.subkey-secrets+json"),
    )
    subkeys.store_path(unlocked).write_bytes(unsigned)
    with pytest.raises(WorkspaceError, match="does not open"):
        subkeys.load(unlocked)


def test_a_crash_between_the_rename_and_the_commit_is_recorded_on_next_use(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    import_bundle(unlocked, Chain(server, tmp_path).bundle([], MONDAY3))
    store = subkeys.load(unlocked)
    # A crash before the rename leaves a part file: the store stands, the part goes next write.
    part = subkeys.store_path(unlocked).parent / ".demo-reviewer.0123456789abcdef.part"
    part.write_bytes(b"half a store")
    assert subkeys.load(unlocked) == store
    # A crash after the rename, before the commit: the store is written, nothing recorded.
    kept = destroy(store, [WEEK1], imported_through=WEEK1, today=MONDAY3)
    subkeys._write(unlocked, kept)
    assert not part.exists()
    assert _destroyed(unlocked) == []

    assert WEEK1 not in subkeys.load(unlocked).periods
    assert _destroyed(unlocked) == [{"weeks": ["2026-W49"], "rule": "D1", "late": True}]
    assert subkeys.status(unlocked, MONDAY3).destroyed == (WEEK1,)
    subkeys.load(unlocked)
    assert len(_destroyed(unlocked)) == 1
    assert audit.verify(unlocked.workspace).ok


def test_a_part_file_left_by_a_crash_is_overwritten_before_it_goes(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # A crash after the part was written whole, before the rename: it is a store, sealed to
    # the reviewer's keys, with every week it held. The next write must destroy it as it
    # destroys the old store (overwritten, then unlinked), or the blocks of a file that
    # held a week destroyed later keep it for whoever takes the disk and the passphrase.
    subkeys.issue(unlocked, 8, ISSUED)
    import_bundle(unlocked, Chain(server, tmp_path).bundle([], MONDAY3))
    whole = subkeys.store_path(unlocked).read_bytes()
    part = subkeys.store_path(unlocked).parent / ".demo-reviewer.0123456789abcdef.part"
    part.write_bytes(whole)
    fd = os.open(part, os.O_RDONLY)  # what is left of its blocks, read after the unlink
    try:
        subkeys.destroy_weeks(unlocked, MONDAY3, [WEEK1])
        assert not part.exists()
        left = os.pread(fd, len(whole), 0)
    finally:
        os.close(fd)
    assert left != whole, "the crashed part's store, week 1 with it, was unlinked unchanged"
    assert left == bytes(len(whole))


def test_a_part_file_of_a_write_that_fails_is_overwritten_before_it_goes(
    unlocked: ws.Unlocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    store = subkeys.load(unlocked)
    seen: list[tuple[int, int]] = []

    def fail(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append((os.open(src, os.O_RDONLY), os.stat(src).st_size))
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="Input/output"):
        subkeys._write(unlocked, store)
    ((fd, size),) = seen
    try:
        left = os.pread(fd, size, 0)
    finally:
        os.close(fd)
    assert list(subkeys.store_path(unlocked).parent.glob(".*.part")) == []
    assert left == bytes(size), "the part of a failed write, every week in it, was unlinked whole"


def test_a_missing_store_is_an_error_not_a_destruction(unlocked: ws.Unlocked) -> None:
    subkeys.issue(unlocked, 2, ISSUED)
    subkeys.store_path(unlocked).unlink()
    with pytest.raises(WorkspaceError, match="missing"):
        subkeys.load(unlocked)
    assert _destroyed(unlocked) == []


SECOND_PW = "second reviewer passphrase"


def _second_reviewer(unlocked: ws.Unlocked) -> tuple[ws.Unlocked, KeyFile]:
    """A second reviewer enrolled beside the demo one, unlocked, and their own key file."""
    key_file = KeyFile.create(
        KeyPair.generate(), SECOND_PW, kind="reviewer", label="Second", params=KdfParams.TESTING
    )
    enrol_key(
        unlocked,
        reviewer="second",
        name="Second",
        key_file=key_file.to_bytes(),
        ask=lambda _: SECOND_PW,
    )
    second = ws.Workspace.open(unlocked.workspace.root).unlock("second", lambda _: SECOND_PW)
    return second, key_file


def test_an_item_waiting_for_its_reviewer_keeps_its_week(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    second, _ = _second_reviewer(unlocked)
    subkeys.issue(second, 8, ISSUED)
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("for the second reviewer only", _week_key(second, WEEK1))], MONDAY3
    )
    summary = import_bundle(unlocked, bundle)  # the first reviewer cannot open it: pending
    assert summary.problems

    assert subkeys.after_import(second, MONDAY3) == ()
    assert subkeys.status(second, MONDAY3).waiting == (WEEK1,)
    with pytest.raises(subkeys.SubkeyRefused, match="waiting here"):
        subkeys.destroy_weeks(second, MONDAY3, [WEEK1])

    again = import_bundle(second, bundle)
    assert (again.filed, again.problems) == (1, [])
    assert subkeys.after_import(second, MONDAY3) == (WEEK1,)
    second.workspace.close()


def _two_admins(u: ws.Unlocked) -> ws.Unlocked:
    """`u` acting with a second administrator present, as `review.keys.witness` vouches for
    one: retiring the keys of a reviewer the keyring lists takes two."""
    return dataclasses.replace(u, second="second")


def _second_seq(u: ws.Unlocked) -> set[int]:
    return {s for (s,) in u.conn.execute("SELECT seq FROM reviewer_keys WHERE reviewer = 'second'")}


def test_revoking_a_reviewer_destroys_their_store_and_records_it(
    unlocked: ws.Unlocked,
) -> None:
    """Their own copy of their key file, and a later copy of the disk, open no week of theirs."""
    second, key_file = _second_reviewer(unlocked)
    _, made = subkeys.issue(second, 8, ISSUED)
    second.workspace.close()
    path = subkeys.store_path(unlocked, "second")

    done, _ = rewrap(_two_admins(unlocked), retire=_second_seq(unlocked))

    assert not path.exists()
    assert _destroyed(done) == [
        {"reviewer": "second", "weeks": [str(p) for p in made], "rule": "revoked"}
    ]
    assert subkeys.destroy_retired(done) == ()  # once
    assert audit.verify(done.workspace).ok
    kept = key_file.unlock(SECOND_PW).decryption_keys
    for left in (p for p in done.workspace.root.rglob("*") if p.is_file()):
        with pytest.raises(CryptoError):
            open_bytes(left.read_bytes(), kept)


def test_a_revocation_waits_for_an_item_only_the_revoked_reviewers_subkey_opens(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    """A report waiting for them is never lost in silence: they import it first, then go."""
    second, _ = _second_reviewer(unlocked)
    subkeys.issue(second, 8, ISSUED)
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("for the second reviewer only", _week_key(second, WEEK1))], MONDAY3
    )
    assert import_bundle(unlocked, bundle).problems  # pending: the demo reviewer cannot open it
    before = subkeys.store_path(second).read_bytes()

    with pytest.raises(RewrapError, match="sealed only to a key being retired"):
        rewrap(_two_admins(unlocked), retire=_second_seq(unlocked))
    assert subkeys.store_path(second).read_bytes() == before
    assert _destroyed(unlocked) == []

    assert import_bundle(second, bundle).filed == 1
    second.workspace.close()
    done, _ = rewrap(_two_admins(unlocked), retire=_second_seq(unlocked))
    assert not subkeys.store_path(done, "second").exists()
    shown = review(done.workspace.root, "--as", "demo-reviewer", "show", "1")
    assert "for the second reviewer only" in shown.output


def test_a_store_recorded_without_its_key_ids_holds_a_revocation_while_an_item_waits(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    """A record from before key ids were kept cannot say whose an item is: it may be theirs."""
    second, _ = _second_reviewer(unlocked)
    subkeys.issue(second, 8, ISSUED)
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("whose?", _week_key(second, WEEK1))], MONDAY3
    )
    import_bundle(unlocked, bundle)
    key = "subkeys:second"
    (value,) = unlocked.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    old = json.loads(unlocked.key.open_record(b64decode(value), key.encode()))
    del old["keys"]
    sealed = b64encode(unlocked.key.seal_record(canonical_json(old), key.encode()))
    unlocked.conn.execute("UPDATE meta SET value = ? WHERE key = ?", (sealed, key))
    assert subkeys.recorded_key_ids(unlocked, "second") is None

    with pytest.raises(RewrapError, match="may be sealed only to the weekly subkeys of second"):
        rewrap(_two_admins(unlocked), retire=_second_seq(unlocked))
    subkeys.load(second)  # their next use records the ids
    assert subkeys.recorded_key_ids(unlocked, "second") == frozenset(
        k.public_key.fingerprint.key_id for k in subkeys.held_keys(second)
    )
    with pytest.raises(RewrapError, match="sealed only to a key being retired"):
        rewrap(_two_admins(unlocked), retire=_second_seq(unlocked))
    second.workspace.close()


def test_a_store_left_by_an_earlier_revocation_goes_on_next_use(unlocked: ws.Unlocked) -> None:
    """A crash after the rewrap's commit, or a revocation by an older version, left the store."""
    second, _ = _second_reviewer(unlocked)
    _, made = subkeys.issue(second, 2, ISSUED)
    second.workspace.close()
    unlocked.conn.execute("UPDATE reviewer_keys SET retired = 1 WHERE reviewer = 'second'")
    path = subkeys.store_path(unlocked, "second")
    assert path.exists()

    subkeys.load(unlocked)

    assert not path.exists()
    assert _destroyed(unlocked) == [
        {"reviewer": "second", "weeks": [str(p) for p in made], "rule": "revoked"}
    ]


def test_v1_envelopes_import_beside_envelopes_sealed_to_subkeys(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    long_term = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).encryption_public
    assert long_term is not None
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("old style", long_term), seal_report("new style", _week_key(unlocked, WEEK2))],
        MONDAY3,
    )
    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.problems) == (2, [])
    assert "old style" in review(workspace, "show", "1").output
    assert "new style" in review(workspace, "show", "2").output


def test_an_envelope_sealed_v2_to_the_long_term_x_wing_key_imports(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    hybrid = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).hybrid_public
    assert hybrid is not None
    bundle = Chain(server, tmp_path).bundle([seal_report("to the X-Wing key", hybrid)], MONDAY3)
    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.problems) == (1, [])
    assert "to the X-Wing key" in review(workspace, "show", "1").output


def test_the_cli_issues_a_list_imports_destroys_and_refuses(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    # Weeks from a month ago (as if issued then); the CLI then issues this week's list.
    subkeys.issue(unlocked, 6, today - dt.timedelta(weeks=4))
    out = tmp_path / "subkeys.json"
    made = review(workspace, "keys", "subkeys", "new", "--out", str(out), "--weeks", "4")
    assert made.exit_code == 0, made.output
    assert "(2 new week(s)" in made.output
    assert "raazdar keyring subkeys install" in made.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(subkeys.store_path(unlocked).parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(subkeys.store_path(unlocked)).st_mode) == 0o600
    listed = verify_subkeys(
        SignedSubkeyList.from_bytes(out.read_bytes()), unlocked.signing.verify_key, today
    )
    assert (listed.first, listed.last) == (Period.of(today), Period.of(today).after(3))
    again = review(workspace, "keys", "subkeys", "new", "--out", str(out))
    assert again.exit_code == 1  # never over an existing file

    old_week = Period.of(today - dt.timedelta(weeks=3))
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("three weeks old", _week_key(unlocked, old_week))], today
    )
    imported = review(workspace, "exchange", "import", str(bundle))
    assert imported.exit_code == 0, imported.output
    assert "subkeys destroyed" in imported.output
    assert str(old_week) in imported.output
    assert _subkey(unlocked, old_week) is None
    shown = review(workspace, "keys", "subkeys", "status").output
    assert f"destroyed: {Period.of(today - dt.timedelta(weeks=4))}" in shown
    refused = review(workspace, "keys", "subkeys", "destroy", "--week", str(Period.of(today)))
    assert refused.exit_code == 1
    assert "error: not destroyed" in refused.output
    assert "three weeks old" in review(workspace, "show", "1").output


def test_after_a_rotation_the_store_opens_with_the_new_key_alone(unlocked: ws.Unlocked) -> None:
    subkeys.issue(unlocked, 2, ISSUED)
    rotate(unlocked, "new passphrase here", kdf=KdfParams.TESTING)
    both = ws.Workspace.open(unlocked.workspace.root).unlock("demo-reviewer", _either)
    held = subkeys.load(both)  # re-sealed to the new key beside the old
    newest = both.keys[0].hybrid
    assert newest is not None
    assert newest != unlocked.keys[0].hybrid
    plain, _ = open_bytes(subkeys.store_path(both).read_bytes(), [newest])
    assert SubkeySecrets.from_bytes(plain) == held
    both.workspace.close()


def test_retiring_the_old_key_straight_after_a_rotation_keeps_the_store(
    unlocked: ws.Unlocked,
) -> None:
    subkeys.issue(unlocked, 2, ISSUED)  # sealed to the demo key alone
    old = unlocked.keys[0]
    rotate(unlocked, "new passphrase here", kdf=KdfParams.TESTING)
    root = unlocked.workspace.root
    both = ws.Workspace.open(root).unlock("demo-reviewer", _either)
    assert old.encryption_public is not None
    (seq,) = both.conn.execute(
        "SELECT seq FROM reviewer_keys WHERE encryption_key = ?", (old.encryption_public.to_text(),)
    ).fetchone()
    rewrap(both, retire={seq})  # the store not used in between
    both.workspace.close()
    new = ws.Workspace.open(root).unlock("demo-reviewer", lambda _label: "new passphrase here")
    assert subkeys.load(new).periods == (WEEK1, WEEK2)
    # A copy of the retired key (its file is destroyed, a backup may not be) opens it no more.
    with pytest.raises(DecryptionError):
        open_bytes(subkeys.store_path(new).read_bytes(), old.decryption_keys)
    new.workspace.close()


def test_the_store_is_sealed_v2_to_the_reviewers_x_wing_keys(unlocked: ws.Unlocked) -> None:
    """Post-quantum at rest: whoever copies the store and later breaks X25519 opens nothing."""
    subkeys.issue(unlocked, 2, ISSUED)
    data = subkeys.store_path(unlocked).read_bytes()
    header = read_header(io.BytesIO(data))
    assert header.version is V2
    (pair,) = unlocked.keys
    assert pair.hybrid is not None
    assert [s.key_id for s in header.stanzas] == [pair.hybrid.public_key.fingerprint.key_id]


def test_a_store_sealed_v1_before_the_reviewer_had_an_x_wing_key_opens_and_goes_v2(
    unlocked: ws.Unlocked,
) -> None:
    _, made = subkeys.issue(unlocked, 2, ISSUED)
    held = subkeys.load(unlocked)
    (pair,) = unlocked.keys
    assert pair.encryption_public is not None
    old_store = seal_bytes(
        held.to_bytes(),
        [pair.encryption_public],
        Metadata("subkey-secrets", "application/vnd.raazdar.subkey-secrets+json"),
        signer=unlocked.signing,
    )
    subkeys.store_path(unlocked).write_bytes(old_store)
    assert subkeys.load(unlocked) == held
    again = subkeys.store_path(unlocked).read_bytes()
    assert read_header(io.BytesIO(again)).version is V2
    assert subkeys.load(unlocked).periods == made


def _either(label: str) -> str:
    return (
        DEMO_PASSPHRASE
        if "demo" in label.lower() and "from" not in label
        else "new passphrase here"
    )


def test_a_bundle_recorded_before_its_day_was_kept_is_dated_by_its_bundles_row(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    subkeys.issue(unlocked, 8, ISSUED)
    chain = Chain(server, tmp_path)
    import_bundle(
        unlocked, chain.bundle([seal_report("filed", _week_key(unlocked, WEEK1))], MONDAY3)
    )
    import_bundle(unlocked, chain.bundle([], WEDNESDAY3))
    assert subkeys.imported_through(unlocked) == WEEK2
    conn = unlocked.conn
    for key, value in conn.execute("SELECT key, value FROM meta WHERE key LIKE 'export-chain:%'"):
        old = {k: v for k, v in json.loads(value).items() if k != "created"}
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(old), key))
    # The empty bundle filed nothing, so no row dates it: the one before it counts.
    assert subkeys.imported_through(unlocked) == WEEK1


def _demo_like(u: ws.Unlocked, signer: SigningKey) -> tuple[SubkeySecrets, bytes, bytes]:
    """Secrets sealed to `u`'s X-Wing key as the demo seals them, and a list `signer` signed."""
    (pair,) = u.keys
    assert pair.hybrid_public is not None
    made = generate(WEEK1, 4)
    sealed = seal_bytes(made.to_bytes(), [pair.hybrid_public], Metadata("subkey-secrets"))
    listed = sign_subkeys(made.public_list(signer.verify_key, ISSUED), signer)
    return made, sealed, listed.to_bytes()


def test_adopting_takes_secrets_that_match_a_list_the_reviewer_signed(
    unlocked: ws.Unlocked,
) -> None:
    made, sealed, listed = _demo_like(unlocked, unlocked.signing)
    assert subkeys.adopt(unlocked, sealed, listed, ISSUED) == made.periods
    assert subkeys.load(unlocked) == made
    assert subkeys.adopt(unlocked, sealed, listed, ISSUED) == ()  # nothing twice


def test_secrets_planted_with_a_list_someone_else_signed_are_not_adopted(
    unlocked: ws.Unlocked,
) -> None:
    """Anyone may seal secrets they know to a reviewer's public key: the signed list stops them."""
    _, sealed, listed = _demo_like(unlocked, SigningKey.generate())
    with pytest.raises(subkeys.SubkeyRefused, match="not adopted"):
        subkeys.adopt(unlocked, sealed, listed, ISSUED)
    _, _, genuine = _demo_like(unlocked, unlocked.signing)  # a real list, for other secrets
    with pytest.raises(subkeys.SubkeyRefused, match="not those of a list"):
        subkeys.adopt(unlocked, sealed, genuine, ISSUED)
    assert not subkeys.store_path(unlocked).exists()


def test_a_server_dating_its_bundles_in_the_past_is_warned_of_at_import_and_in_status(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    # The attack: rule D1 trusts a bundle's date, so a server that dates every export on
    # the day a list was issued keeps each week of it from being destroyed, for good.
    today = dt.datetime.now(dt.UTC).date()
    back = today - dt.timedelta(weeks=10)
    subkeys.issue(unlocked, 8, back)
    chain = Chain(server, tmp_path)
    import_bundle(unlocked, chain.bundle([], back))
    imported = review(workspace, "exchange", "import", str(chain.bundle([], back)))
    assert imported.exit_code == 0, imported.output
    assert "subkeys destroyed" not in imported.output
    held = subkeys.load(unlocked).periods
    assert held == tuple(Period.of(back).after(i) for i in range(8))  # none could go

    for shown in (imported.output, review(workspace, "keys", "subkeys", "status").output):
        assert f"warning: the secret subkeys of {held[0]} to {held[-1]} are still held" in shown, (
            "nothing warned that the weeks' secrets are kept"
        )
        assert f"newest export bundle with its chain complete is dated {back}" in shown
        assert "the server may be dating its export bundles in the past" in shown


def test_a_bundle_dated_before_one_numbered_before_it_is_warned_of(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    subkeys.issue(unlocked, 2, today)
    chain = Chain(server, tmp_path)
    first = review(workspace, "exchange", "import", str(chain.bundle([], today)))
    assert "warning" not in first.output, first.output  # an honest bundle: no warning
    earlier = today - dt.timedelta(days=30)
    imported = review(workspace, "exchange", "import", str(chain.bundle([], earlier)))
    assert imported.exit_code == 0, imported.output
    for shown in (imported.output, review(workspace, "keys", "subkeys", "status").output):
        assert f"warning: bundle 2 is dated {earlier}, before bundle 1 ({today})" in shown, (
            "nothing warned of a bundle dated before the one numbered before it"
        )
