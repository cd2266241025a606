"""Replies on the workstation: kept where only a reviewer opens them, sent byte for byte.

The attack: a reply is sealed to its source's key, a one-time prekey or, for a
browser source, the key the codename derives. Whoever takes the disk (no
reviewer's passphrase) and later learns the codename, or seizes the source's
device before it read the reply, holds that key. Queued or exported, the reply
must open from the workspace for nobody but a reviewer; and the bundle must still
carry the envelope the source opens, after a take-back too, with nothing lost
when a step fails halfway.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import CryptoError, HybridPrivateKey, PrivateKey, derive_source_keys
from crypto.binding import SourceBinding
from crypto.bundle import BundleReader
from crypto.envelope.metadata import KeyringSeen
from crypto.manifest import SignedManifest
from crypto.reply import ReplyText
from review import workspace as ws
from review.casework import replies
from review.errors import ReviewError, UnlockError
from review.intake.importer import import_bundle
from review.keys.rewrap import rewrap
from review.workspace import audit, head, outbox
from review.workspace.schema import transaction
from tests.review.casework import test_conflicts
from tests.review.casework.test_conflicts import Team
from tests.review.casework.test_prekeys import _keys, _prekeys, _record
from tests.review.intake.test_binding import _bundle
from tests.review.support import Server, Source, opens_with, reply_text, review

# An administrator and two reviewers, for who may take back what.
team = test_conflicts.team

REPLY = "Meet the lawyer at the court gate. وکیل سے ملیں"


def _codename_keys(server: Server, source: Source) -> list[PrivateKey | HybridPrivateKey]:
    """What a seizer derives from a browser source's codename (salt and KDF are public)."""
    config = server.app.config
    return [
        derive_source_keys(
            source.codename, config["CODENAME_SALT"], config["CODENAME_KDF"]
        ).private_key
    ]


def _reply_items(bundle: Path, u: ws.Unlocked) -> list[bytes]:
    """The reply envelopes a reply bundle carries, as the server reads them."""
    with bundle.open("rb") as src:
        reader = BundleReader(src, [u.signing.verify_key])
        return [b"".join(blocks) for _, blocks in reader.iter_items()]


@pytest.fixture
def browser(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> Source:
    """A browser source whose report is filed, as report 1."""
    source = server.submit("The SHO sold the girls to the agent.")
    assert import_bundle(unlocked, server.export(tmp_path / "e.rzb")).filed == 1
    return source


@pytest.mark.parametrize("prekeyed", [False, True], ids=["codename-key", "one-time-prekey"])
def test_no_source_key_opens_a_reply_from_the_seized_workspace(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path, prekeyed: bool
) -> None:
    source = _keys()
    secrets, public = _prekeys()
    binding = (
        SourceBinding.make(source.public_key, source.signing_key, public) if prekeyed else None
    )
    record = _record(public if prekeyed else None)
    bundle = _bundle(server, tmp_path, source.public_key, None, records=((record, binding),))
    assert import_bundle(unlocked, bundle).filed == 1
    assert replies.queue_reply(unlocked, 1, REPLY).forward_secret is prekeyed
    seized: list[PrivateKey | HybridPrivateKey] = [source.private_key, *secrets]
    assert opens_with(unlocked.workspace.root, seized) == []  # queued

    out = tmp_path / "r.rzr"
    replies.export_replies(unlocked, out)
    assert opens_with(unlocked.workspace.root, seized) == []  # and exported
    # The control: these keys are the source's, and open what the bundle carries.
    (item,) = _reply_items(out, unlocked)
    assert reply_text(item, seized).text == REPLY


def test_an_exported_reply_is_the_envelope_sealed_to_the_source_and_the_server_posts_it(
    server: Server, unlocked: ws.Unlocked, browser: Source, tmp_path: Path
) -> None:
    # A keyring in force here (this workspace pins other authorities than the demo's, so
    # its row is put in place, as `keys install` keeps it).
    newest = sorted(server.paths.manifests.glob("*.json"))[-1]
    signed = SignedManifest.from_bytes(newest.read_bytes())
    with unlocked.conn:
        unlocked.conn.execute(
            "INSERT INTO keyrings VALUES (?, ?)", (signed.manifest.version, signed.to_bytes())
        )
    queued = replies.queue_reply(unlocked, 1, REPLY)
    (name,) = unlocked.conn.execute(
        "SELECT envelope FROM replies WHERE id = ?", (queued.reply_id,)
    ).fetchone()
    kept = outbox.envelope(unlocked, name)
    out = tmp_path / "r.rzr"
    replies.export_replies(unlocked, out)
    assert _reply_items(out, unlocked) == [kept]
    # Sealed with it, the day the workstation wrote it (UTC), which the server cannot see,
    # and the keyring in force here, so a device its server showed another sees it.
    assert reply_text(kept, _codename_keys(server, browser)) == ReplyText(
        REPLY,
        dt.datetime.now(dt.UTC).date(),
        KeyringSeen(signed.manifest.version, signed.manifest.digest()),
    )
    assert server.apply(out).replies == 1
    assert REPLY in browser.account_page()
    assert opens_with(unlocked.workspace.root, _codename_keys(server, browser)) == []


@pytest.mark.parametrize("after_rewrap", [False, True], ids=["same-key", "after-rewrap"])
def test_a_bundle_taken_back_is_sent_again_and_the_source_reads_the_reply(
    server: Server, unlocked: ws.Unlocked, browser: Source, tmp_path: Path, after_rewrap: bool
) -> None:
    """A bundle refused, or lost on its way: taken back, its reply goes out in the next."""
    replies.queue_reply(unlocked, 1, REPLY)
    first = replies.export_replies(unlocked, tmp_path / "lost.rzr")
    (tmp_path / "lost.rzr").unlink()  # the stick is lost
    u = rewrap(unlocked)[0] if after_rewrap else unlocked  # the envelope is re-sealed too
    back = replies.take_back(u, first.bundle_id)
    assert back.replies == 1
    again = tmp_path / "again.rzr"
    assert replies.export_replies(u, again).replies == 1
    assert server.apply(again).replies == 1
    assert REPLY in browser.account_page()
    assert opens_with(u.workspace.root, _codename_keys(server, browser)) == []


def test_a_withdrawn_reply_leaves_no_envelope_behind(
    unlocked: ws.Unlocked, browser: Source, tmp_path: Path
) -> None:
    queued = replies.queue_reply(unlocked, 1, REPLY)
    sent = replies.export_replies(unlocked, tmp_path / "r.rzr")
    (name,) = unlocked.conn.execute(
        "SELECT envelope FROM replies WHERE id = ?", (queued.reply_id,)
    ).fetchone()
    replies.take_back(unlocked, sent.bundle_id, withdraw_replies=[queued.reply_id[:8]])
    assert (
        unlocked.conn.execute("SELECT 1 FROM blob_data WHERE name = ?", (name,)).fetchone() is None
    )
    assert unlocked.conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)


def _fail(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("power cut")


def test_a_reply_that_fails_to_queue_leaves_nothing(
    unlocked: ws.Unlocked, browser: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = unlocked.conn.execute("SELECT count(*) FROM blob_data").fetchone()
    monkeypatch.setattr(audit, "append", _fail)
    with pytest.raises(RuntimeError):
        replies.queue_reply(unlocked, 1, REPLY)
    assert unlocked.conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)
    assert unlocked.conn.execute("SELECT count(*) FROM blob_data").fetchone() == blobs


def test_an_export_that_fails_halfway_loses_no_reply(
    server: Server,
    unlocked: ws.Unlocked,
    browser: Source,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replies.queue_reply(unlocked, 1, REPLY)
    with monkeypatch.context() as patched:
        patched.setattr(audit, "append", _fail)  # the bundle is written, its record fails
        with pytest.raises(RuntimeError):
            replies.export_replies(unlocked, tmp_path / "r.rzr")
    assert list(tmp_path.glob("*r.rzr*")) == []
    out = tmp_path / "r.rzr"
    assert replies.export_replies(unlocked, out).replies == 1
    assert server.apply(out).replies == 1
    assert REPLY in browser.account_page()


@contextlib.contextmanager
def _commit_fails(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction whose COMMIT fails (the disk filled as SQLite wrote its journal)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
    raise sqlite3.OperationalError("database or disk is full")


def test_an_export_whose_commit_fails_leaves_no_bundle_to_carry(
    server: Server,
    unlocked: ws.Unlocked,
    browser: Source,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bundle in place whose export was not recorded would carry its replies a second time."""
    replies.queue_reply(unlocked, 1, REPLY)
    with monkeypatch.context() as patched:
        patched.setattr(replies, "transaction", _commit_fails)
        with pytest.raises(sqlite3.OperationalError):
            replies.export_replies(unlocked, tmp_path / "r.rzr")
    assert list(tmp_path.glob("*r.rzr*")) == [], "a bundle the workspace never recorded is left"
    out = tmp_path / "again.rzr"
    assert replies.export_replies(unlocked, out).replies == 1
    assert server.apply(out).replies == 1
    assert browser.account_page().count(REPLY) == 1


def test_a_tampered_wrapped_envelope_stops_the_export_and_writes_nothing(
    unlocked: ws.Unlocked, browser: Source, tmp_path: Path
) -> None:
    queued = replies.queue_reply(unlocked, 1, REPLY)
    (name,) = unlocked.conn.execute(
        "SELECT envelope FROM replies WHERE id = ?", (queued.reply_id,)
    ).fetchone()
    (data,) = unlocked.conn.execute("SELECT data FROM blob_data WHERE name = ?", (name,)).fetchone()
    flipped = bytearray(data)
    flipped[-1] ^= 1
    unlocked.conn.execute("UPDATE blob_data SET data = ? WHERE name = ?", (bytes(flipped), name))
    with pytest.raises(CryptoError):
        replies.export_replies(unlocked, tmp_path / "r.rzr")
    assert list(tmp_path.glob("*r.rzr*")) == []
    assert unlocked.conn.execute("SELECT exported_in FROM replies").fetchone() == (None,)


def test_only_its_writer_or_an_administrator_takes_a_reply_bundle_back(
    team: Team, tmp_path: Path
) -> None:
    """Taking back withdraws replies and voids the bundle: another reviewer's work."""
    queued = replies.queue_reply(team.second, 3, REPLY)
    sent = replies.export_replies(team.second, tmp_path / "r.rzr")
    with pytest.raises(UnlockError, match="only an administrator"):
        replies.take_back(team.third, sent.bundle_id, withdraw_replies=[queued.reply_id])
    assert team.admin.conn.execute(
        "SELECT exported_in FROM replies WHERE id = ?", (queued.reply_id,)
    ).fetchone() == (sent.bundle_id,)
    assert replies.take_back(team.second, sent.bundle_id).replies == 1
    again = replies.export_replies(team.second, tmp_path / "again.rzr")
    assert replies.take_back(team.admin, again.bundle_id).replies == 1


def test_a_reply_bundle_killed_before_its_record_is_destroyed_by_the_next_export(
    server: Server, workspace: Path, unlocked: ws.Unlocked, browser: Source, tmp_path: Path
) -> None:
    """Killed between its last byte and its record, the export leaves a whole bundle of
    replies still queued: carried, they go twice; left, they lie unwrapped beside it."""
    replies.queue_reply(unlocked, 1, REPLY)
    stick = tmp_path / "stick"
    stick.mkdir()

    def run() -> None:
        u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)

        def killed(_conn: object) -> None:
            os.kill(os.getpid(), signal.SIGKILL)

        replies.transaction = killed  # type: ignore[attr-defined,assignment]
        replies.export_replies(u, stick / "r.rzr")

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    (left,) = stick.iterdir()
    assert REPLY.encode() not in left.read_bytes()  # sealed, to the source
    again = replies.export_replies(unlocked, stick / "again.rzr")
    assert again.replies == 1
    assert [p.name for p in stick.iterdir()] == ["again.rzr"], "the unrecorded bundle is left"
    assert server.apply(stick / "again.rzr").replies == 1
    assert browser.account_page().count(REPLY) == 1


def test_a_recorded_reply_bundle_left_under_its_part_name_is_kept_and_named(
    unlocked: ws.Unlocked, browser: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies.queue_reply(unlocked, 1, REPLY)
    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", _fail_os)
        with pytest.raises(ReviewError, match="recorded as written"):
            replies.export_replies(unlocked, tmp_path / "r.rzr")
    (left,) = tmp_path.glob(".r.rzr.*.part")
    replies.queue_reply(unlocked, 1, "a second reply")
    assert replies.export_replies(unlocked, tmp_path / "again.rzr").left == (left,)
    assert left.exists()


def _fail_os(*_args: object) -> None:
    raise OSError(errno.EIO, "Input/output error")


def test_a_reply_written_while_the_clock_is_behind_the_servers_days_says_so(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("The SHO sold the girls to the agent.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    today = dt.datetime.now(dt.UTC).date()
    ahead = today + dt.timedelta(days=40)
    # The server made the newest export on a day this workstation's clock has not reached,
    # as an import of it records the day: under the head's tag (one written on the disk alone
    # is refused at unlock).
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        with transaction(u.conn):
            u.conn.execute("UPDATE bundles SET created = ?", (ahead.isoformat(),))
            head.put(u.conn, u.key)
    finally:
        u.workspace.close()
    (tmp_path / "reply.txt").write_text(REPLY, "utf-8")
    written = review(workspace, "reply", "1", "--file", str(tmp_path / "reply.txt"))
    assert written.exit_code == 0, written.output
    assert (
        f"this workstation's clock says {today} (UTC), before {ahead}, the day the server made "
        "the newest export bundle imported here" in written.output
    ), written.output
