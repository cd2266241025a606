"""Forward secrecy end to end: once week 1 is destroyed, nothing a seizure yields opens it.

Through the real path: the demo instance's keyring is format 3 and its server
holds the demo reviewer's signed subkey list (`raazdar init --demo`); sources
submit through the browser form, the server seals to the week's subkey and
exports its bundle; the workstation, which adopted the demo's subkey secrets,
imports it and destroys week 1 under rule D1. The adversary of
docs/PROTOCOL.md §5A.8 then takes the reviewer's long-term key file and its
passphrase, a copy of every envelope and bundle ever made, the instance
directory and the workspace (its sealed subkey store and workspace key
included), opens every envelope those keys open, and tries every key found on
every envelope of week 1.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE, DEMO_REVIEWER, subkeys_paths
from app.operations import exchange
from app.services import context
from crypto import (
    CryptoError,
    DecryptionError,
    HybridPrivateKey,
    KeyFile,
    Period,
    PrivateKey,
    SubkeySecrets,
    VerifyKey,
    open_bytes,
)
from crypto.exchange import read_export
from review import workspace as ws
from review.intake.importer import import_bundle
from review.keys import subkeys
from review.workspace import audit
from tests.app.support import envelope_files
from tests.app.test_keyring import Clock
from tests.review.support import Server, review

Identity = PrivateKey | HybridPrivateKey


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Move the server's day (sealing and export) as the test says."""
    fake = Clock()
    monkeypatch.setattr(context, "today", fake)
    monkeypatch.setattr(exchange, "today", fake)
    return fake


def _envelopes_in(bundle: Path, server: Server) -> list[bytes]:
    """Every envelope a copy of a bundle holds."""
    with bundle.open("rb") as src:
        reader, _ = read_export(
            src, [VerifyKey.from_text(server.signing_key_text)], server.instance_id
        )
        return [b"".join(blocks) for _, blocks in reader.iter_items()]


def _files(*roots: Path) -> list[bytes]:
    return [p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file()]


def _seized_keys(long_term: list[Identity], unlocked: ws.Unlocked, *roots: Path) -> list[Identity]:
    """Every key the seizure yields: the key file's, the workspace key, and any subkey store
    or secrets file under `roots` that the key file's keys open."""
    keys: list[Identity] = [*long_term, unlocked.key.identity]
    for data in _files(*roots):
        try:
            plain, _ = open_bytes(data, long_term)
            found = SubkeySecrets.from_bytes(plain)
        except CryptoError:
            continue
        keys.extend(key for _, key in found.keys)
    return keys


def _opens(envelope: bytes, keys: Iterable[Identity]) -> bool:
    """Whether any key, tried alone, opens the envelope."""
    for key in keys:
        try:
            open_bytes(envelope, [key])
        except DecryptionError:
            continue
        return True
    return False


def test_after_week_1_is_destroyed_nothing_seized_opens_it(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path, clock: Clock
) -> None:
    week1 = Period.of(clock.day)
    week2 = week1.after()
    # The workstation adopted the demo's secrets and destroyed the file they came in.
    assert subkeys.load(unlocked).get(week1) is not None
    assert not subkeys_paths(server.paths.demo_keys, DEMO_REVIEWER)[1].exists()

    server.submit("week one, report 0", [("files", "ledger.txt", b"ledger page", "text/plain")])
    server.submit("week one, report 1")
    week1_copies = [p.read_bytes() for p in envelope_files(server.instance)]
    assert len(week1_copies) == 3
    clock.day = week2.first_day
    server.submit("week two")
    week2_copies = [
        d
        for d in (p.read_bytes() for p in envelope_files(server.instance))
        if d not in week1_copies
    ]
    assert len(week2_copies) == 1
    clock.day = week2.first_day + dt.timedelta(days=1)  # week 1 closed (a day's grace)
    bundle = server.export(tmp_path / "export-1.rzb")

    store_before = tmp_path / "store-before.rze"
    shutil.copyfile(subkeys.store_path(unlocked), store_before)
    summary = import_bundle(unlocked, bundle)
    assert (summary.filed, summary.problems) == (4, [])
    assert subkeys.after_import(unlocked, clock.day) == (week1,)

    pair = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).unlock(DEMO_PASSPHRASE)
    long_term = pair.decryption_keys
    assert len(long_term) == 2  # X25519 and X-Wing
    in_bundle = _envelopes_in(bundle, server)
    week1_everywhere = [*week1_copies, *(e for e in in_bundle if e not in week2_copies)]
    assert len(week1_everywhere) == 6
    # Control: with a copy of the store from before the destruction, the attack succeeds.
    before = _seized_keys(long_term, unlocked, store_before.parent)
    assert all(_opens(e, before) for e in week1_everywhere)
    store_before.unlink()

    keys = _seized_keys(long_term, unlocked, server.instance, workspace, tmp_path)
    assert not any(_opens(e, keys) for e in week1_everywhere)
    # Week 2 is not closed yet: its subkey is kept, and its report still opens with it.
    assert all(_opens(e, keys) for e in week2_copies)
    # What the workspace re-sealed at import is still there for its reviewer (numbered in
    # the bundle's order, which is not the order of arrival).
    shown = "".join(review(workspace, "show", str(n)).output for n in (1, 2, 3))
    assert "week one, report 0" in shown
    assert "week one, report 1" in shown

    destroyed = [e.detail for e in audit.entries(unlocked) if e.action == "subkeys-destroy"]
    assert destroyed == [
        {"weeks": [str(week1)], "rule": "D1", "imported_through": str(week1)},
    ]
    assert review(workspace, "audit", "verify").exit_code == 0


def test_no_subkey_secret_reaches_the_disk_in_the_clear(
    server: Server, unlocked: ws.Unlocked, workspace: Path
) -> None:
    held = subkeys.load(unlocked).keys
    assert len(held) == 8  # adopted from the demo
    written = b"".join(_files(workspace, server.instance))
    for _, key in held:
        assert key.secret_bytes() not in written
        assert key.to_text().split(":")[1].encode() not in written
