"""Forward secrecy end to end: once week 1 is destroyed, nothing a seizure yields opens it.

The adversary of docs/PROTOCOL.md §5A.8 takes, after the destruction, the
reviewer's long-term key file and its passphrase, a copy of every envelope and
every bundle ever made, and the workspace (its sealed subkey store and its
workspace key included), and tries every key they hold on every envelope.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from crypto import (
    DecryptionError,
    HybridPrivateKey,
    KeyFile,
    Period,
    PrivateKey,
    SubkeySecrets,
    VerifyKey,
    open_bytes,
    open_with_subkeys,
    verify_subkeys,
)
from crypto.exchange import read_export
from review import workspace as ws
from review.intake.importer import import_bundle
from review.keys import subkeys
from review.workspace import audit
from tests.review.subkey_bundles import Chain, record, seal_report
from tests.review.support import Server, review

WEEK1, WEEK2 = Period(2026, 49), Period(2026, 50)
ISSUED = dt.date(2026, 12, 1)  # a Tuesday of week 1
WEEK3_MONDAY = dt.date(2026, 12, 14)  # week 1 is closed, week 2 not yet (a day's grace)
WEEK3_WEDNESDAY = dt.date(2026, 12, 16)

Identity = PrivateKey | HybridPrivateKey


def _seized_store(store_file: Path, long_term: PrivateKey) -> SubkeySecrets:
    """What the adversary reads from a copy of the sealed store with the reviewer's key file."""
    plain, _ = open_bytes(store_file.read_bytes(), [long_term])
    return SubkeySecrets.from_bytes(plain)


def _envelopes_in(bundle: Path, server: Server) -> list[bytes]:
    """Every envelope a copy of a bundle holds."""
    with bundle.open("rb") as src:
        reader, _ = read_export(
            src, [VerifyKey.from_text(server.signing_key_text)], server.instance_id
        )
        return [b"".join(blocks) for _, blocks in reader.iter_items()]


def _opens(envelope: bytes, keys: list[Identity], store: SubkeySecrets) -> bool:
    """Whether any key, tried alone, or the store as a whole opens the envelope."""
    for key in keys:
        try:
            open_bytes(envelope, [key])
        except DecryptionError:
            continue
        return True
    try:
        open_with_subkeys(io.BytesIO(envelope), io.BytesIO(), store)
    except DecryptionError:
        return False
    return True


def _every_key(workspace: Path, unlocked: ws.Unlocked, store: SubkeySecrets) -> list[Identity]:
    """Every key the seizure yields: each key file's keys, the workspace key, every subkey."""
    keys: list[Identity] = [unlocked.key.identity]
    for path in (workspace / "keys").iterdir():
        pair = KeyFile.from_bytes(path.read_bytes()).unlock(DEMO_PASSPHRASE)
        assert pair.encryption is not None
        keys.append(pair.encryption)
    keys.extend(key for _, key in store.keys)
    return keys


def test_after_week_1_is_destroyed_nothing_seized_opens_it(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    signed, _ = subkeys.issue(unlocked, 8, ISSUED)
    listed = verify_subkeys(signed, unlocked.signing.verify_key, ISSUED)
    week1_key, week2_key = listed.key_for(WEEK1), listed.key_for(WEEK2)
    assert week1_key is not None
    assert week2_key is not None
    week1 = [seal_report(f"week one, report {i}", week1_key) for i in range(3)]
    week2 = [seal_report("week two", week2_key)]
    chain = Chain(server, tmp_path)
    first = chain.bundle([*week1, *week2], WEEK3_MONDAY)
    store_file = subkeys.store_path(unlocked)
    before = tmp_path / "store-before.rze"
    shutil.copyfile(store_file, before)

    summary = import_bundle(unlocked, first)
    assert (summary.filed, summary.problems) == (4, [])
    assert "week one, report 0" in review(workspace, "show", "1").output
    assert subkeys.after_import(unlocked, WEEK3_MONDAY) == (WEEK1,)

    long_term = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).unlock(DEMO_PASSPHRASE)
    assert long_term.encryption is not None
    # Control: the same attack on a copy of the store from before the destruction succeeds.
    old = _seized_store(before, long_term.encryption)
    assert all(_opens(e, _every_key(workspace, unlocked, old), old) for e in week1)

    seized = _seized_store(store_file, long_term.encryption)
    assert WEEK1 not in seized.periods
    keys = _every_key(workspace, unlocked, seized)
    copies = [*week1, *_envelopes_in(first, server)]
    assert not any(_opens(e, keys, seized) for e in copies if e not in week2)
    # Week 2 is closed only on Tuesday of week 3: its material still opens.
    assert _opens(week2[0], keys, seized)
    week2_secret = seized.get(WEEK2)
    assert week2_secret is not None
    assert open_bytes(week2[0], [week2_secret])[0] == record("week two")

    # A later bundle (empty: nothing new) dated Wednesday completes week 2 as well.
    second = chain.bundle([], WEEK3_WEDNESDAY)
    import_bundle(unlocked, second)
    assert subkeys.after_import(unlocked, WEEK3_WEDNESDAY) == (WEEK2,)
    seized = _seized_store(store_file, long_term.encryption)
    keys = _every_key(workspace, unlocked, seized)
    assert not any(_opens(e, keys, seized) for e in [*copies, *week2])
    # What the workspace re-sealed at import is still there for its reviewers.
    assert "week one, report 2" in review(workspace, "show", "3").output

    destroyed = [e for e in audit.entries(unlocked) if e.action == "subkeys-destroy"]
    assert [e.detail for e in destroyed] == [
        {"weeks": ["2026-W49"], "rule": "D1", "imported_through": "2026-W49"},
        {"weeks": ["2026-W50"], "rule": "D1", "imported_through": "2026-W50"},
    ]
    assert review(workspace, "audit", "verify").exit_code == 0


def test_no_subkey_secret_reaches_the_disk_in_the_clear(
    unlocked: ws.Unlocked, workspace: Path
) -> None:
    _, made = subkeys.issue(unlocked, 8, ISSUED)
    held = subkeys.load(unlocked).keys
    assert len(made) == len(held) == 8
    written = b"".join(p.read_bytes() for p in workspace.rglob("*") if p.is_file())
    for _, key in held:
        assert key.secret_bytes() not in written
        assert key.to_text().split(":")[1].encode() not in written
