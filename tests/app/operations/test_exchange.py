"""Export and reply bundles through the server: the whole round trip, and every refusal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import io
import json
import multiprocessing
import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.cli import main
from app.db import db_session
from app.demo import DEMO_PASSPHRASE
from app.instance import InstancePaths
from app.models import Item, Reply, Source
from app.store import EnvelopeStore
from crypto import (
    CryptoError,
    HybridPrivateKey,
    HybridPublicKey,
    KeyFile,
    KeyPair,
    Metadata,
    PrivateKey,
    SigningKey,
    open_bytes,
    seal_bytes,
)
from crypto.bundle import BundleReader, write_bundle
from crypto.exchange import (
    NOTICE_SEQ_MAX,
    AckSeal,
    ExportManifest,
    Notice,
    ReplyEntry,
    ReplyManifest,
    Void,
    new_bundle_id,
    read_export,
    seal_replies,
    write_replies,
)
from tests.app.support import envelope_files, reviewer_openers


@dataclass
class Review:
    """The review workstation's side of the exchange, for one demo instance."""

    instance: Path
    reviewer: KeyPair
    # The workspace's acknowledgement key: a reviewer's key file alone does not hold it.
    ack_key: SigningKey = field(default_factory=SigningKey.generate)

    @property
    def paths(self) -> InstancePaths:
        return InstancePaths(self.instance)

    @property
    def instance_id(self) -> str:
        return str(json.loads(self.paths.config.read_text())["instance_id"])

    def read(self, bundle: Path, tmp: Path) -> tuple[ExportManifest, dict[str, bytes]]:
        """Verify an export bundle with the pinned server key and decrypt every item."""
        server = SigningKey.from_text(self.paths.signing_key.read_text()).verify_key
        with bundle.open("rb") as src:
            reader, manifest = read_export(src, [server], self.instance_id)
            paths = reader.extract(tmp)
        keys = reviewer_openers(self.instance)  # the demo reviewer's, subkeys included
        return manifest, {
            item_id: open_bytes(path.read_bytes(), keys)[0] for item_id, path in paths.items()
        }

    def replies(
        self,
        out: Path,
        manifest: ExportManifest,
        text: str,
        *,
        signer: SigningKey | None = None,
        instance_id: str | None = None,
        acks: tuple[str, ...] | None = None,
        envelope_signer: SigningKey | None = None,
        seal_to: list[HybridPublicKey] | None = None,
        reply_ids: tuple[str, ...] = (),
        voids: tuple[Void, ...] = (),
        notice: tuple[str, int | None] = ("under-review", None),
        workstation: bool = True,
        earlier: tuple[SigningKey, ...] = (),
        acks_only: bool = False,
    ) -> Path:
        """Write a reply bundle answering every source of `manifest` (sealed to `seal_to`),
        with a notice (status, number) for each: sealed whole by the workspace's key
        (format 5), over its acknowledgements alone (`acks_only`, format 4), or not at all."""
        signer = signer or self.reviewer.signing
        assert signer is not None
        files, entries = [], []
        for index, (designation, key) in enumerate(sorted(manifest.sources.items())):
            envelope = seal_bytes(
                text.encode(),
                seal_to or [key],
                Metadata("reply", "text/plain; charset=utf-8"),
                signer=envelope_signer or signer,
            )
            path = out.with_suffix(f".{index}.rze")
            path.write_bytes(envelope)
            files.append(path)
            entries.append(
                ReplyEntry(reply_ids[index] if reply_ids else new_bundle_id(), designation)
            )
        bundle_id = new_bundle_id()
        instance_id = instance_id or self.instance_id
        acks = acks if acks is not None else tuple(e.id for e in manifest.entries)
        reply = ReplyManifest(
            bundle_id=bundle_id,
            instance_id=instance_id,
            created=dt.date.today(),
            acks=acks,
            replies=tuple(entries),
            notices=tuple(Notice(d, *notice) for d in manifest.sources),
            voids=voids,
        )
        if workstation and acks_only:
            seal = AckSeal.make(bundle_id, instance_id, acks, self.ack_key, earlier)
            reply = dataclasses.replace(reply, seal=seal)
        elif workstation:
            reply = seal_replies(reply, files, signer.verify_key, self.ack_key, earlier)
        with out.open("wb") as dst:
            write_replies(dst, reply, files, signer)
        return out


@pytest.fixture
def review(instance: Path) -> Review:
    data = (InstancePaths(instance).demo_keys / "reviewer.key").read_bytes()
    return Review(instance, KeyFile.from_bytes(data).unlock(DEMO_PASSPHRASE))


def submit(client: FlaskClient, message: str, file: bytes) -> None:
    """Make a first report through the source form, as a new source in a fresh session."""
    # A signed-in browser is sent away from /submit: each call is a new source.
    client.delete_cookie("rz")
    html = client.get("/submit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    codename = re.search(r'name="codename" type="hidden" value="([^"]+)"', html)
    assert token
    assert codename
    response = client.post(
        "/submit",
        data={
            "csrf_token": token.group(1),
            "codename": codename.group(1),
            "message": message,
            "files": (io.BytesIO(file), "evidence.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert 'class="filed"' in response.get_data(as_text=True)  # confirmed in place


def cli(instance: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--instance", str(instance), *args])
    return result.exit_code, result.output


@pytest.fixture
def exported(app: Flask, instance: Path, tmp_path: Path) -> tuple[FlaskClient, Path]:
    client = app.test_client()
    submit(client, "The SHO released the agent for money", b"\xff\xd8 a photo")
    bundle = tmp_path / "export.rzb"
    status, output = cli(instance, "export", "--out", str(bundle))
    assert status == 0, output
    return client, bundle


def two_reports_answered(app: Flask, instance: Path, review: Review, tmp_path: Path) -> Path:
    """Two reports filed and exported, and the reply bundle answering each ("hello")."""
    for n in range(2):
        submit(app.test_client(), f"report {n}", b"\xff\xd8 a photo")
    assert cli(instance, "export", "--out", str(tmp_path / "e.rzb"))[0] == 0
    manifest, _ = review.read(tmp_path / "e.rzb", tmp_path / "items")
    return review.replies(tmp_path / "r.rzr", manifest, "hello")


def store_files(instance: Path) -> set[str]:
    return {p.name for p in envelope_files(instance)}


def test_round_trip_reaches_the_source_and_deletes_what_was_acknowledged(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    client, bundle = exported
    manifest, plaintexts = review.read(bundle, tmp_path / "items")
    assert len(manifest.entries) == 2
    assert any(b"SHO released the agent" in p for p in plaintexts.values())
    assert b"\xff\xd8 a photo" in plaintexts.values()
    before = store_files(instance)
    replies = review.replies(tmp_path / "replies.rzr", manifest, "Which police station?")
    status, output = cli(instance, "import-replies", str(replies))
    assert status == 0, output
    assert "1 reply(ies) posted, 2 acknowledged item(s) deleted" in output
    after = store_files(instance)
    assert not ({f"{e.id}.rze" for e in manifest.entries} & after)
    assert len(after - before) == 1  # the reply
    page = client.get("/account").get_data(as_text=True)
    assert "Which police station?" in page


def test_a_second_export_holds_only_new_items(
    exported: tuple[FlaskClient, Path], instance: Path, tmp_path: Path, review: Review
) -> None:
    client, _ = exported
    status, output = cli(instance, "export", "--out", str(tmp_path / "empty.rzb"))
    assert status == 0
    assert "exported 0 item(s)" in output
    submit(client, "A second report", b"more")
    status, _ = cli(instance, "export", "--out", str(tmp_path / "second.rzb"))
    manifest, _ = review.read(tmp_path / "second.rzb", tmp_path / "second")
    assert len(manifest.entries) == 2


def test_export_never_overwrites_a_file(exported: tuple[FlaskClient, Path], instance: Path) -> None:
    _, bundle = exported
    status, output = cli(instance, "export", "--out", str(bundle))
    assert status == 1
    assert "raazdar: error:" in output


class _TailUnwritten(io.BufferedWriter):
    """A bundle file on a disk that fills as its last buffered bytes go out."""

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_an_export_whose_last_bytes_find_the_disk_full_exports_nothing(
    app: Flask, instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committed before its tail was written, the export marked items sent in no bundle."""
    submit(app.test_client(), "The SHO released the agent for money", b"\xff\xd8 a photo")
    real_open = Path.open

    def filling(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name.endswith(".part"):
            return _TailUnwritten(io.FileIO(self, mode.replace("b", "")))
        return real_open(self, mode, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "open", filling)
        status, output = cli(instance, "export", "--out", str(tmp_path / "full.rzb"))
    assert status == 1
    assert "No space left on device" in output
    assert list(tmp_path.glob("*full.rzb*")) == []
    status, output = cli(instance, "export", "--out", str(tmp_path / "again.rzb"))
    assert status == 0, output
    assert "exported 2 item(s)" in output, "the items went out in a bundle never written"
    assert "(bundle 1," in output


def test_an_export_cut_short_leaves_its_part_file_to_the_operator(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    """A `.part` a killed export left may be a bundle the server counts as exported."""
    submit(app.test_client(), "The SHO released the agent for money", b"\xff\xd8 a photo")
    left = tmp_path / ".export.rzb.part"
    left.write_bytes(b"bundle 1, killed before its rename")
    status, output = cli(instance, "export", "--out", str(tmp_path / "export.rzb"))
    assert status == 1
    assert left.read_bytes() == b"bundle 1, killed before its rename", "the leftover was deleted"
    assert "left by an export cut short" in output
    assert "--resend" in output


def test_a_reply_bundle_apply_killed_halfway_posts_each_reply_once_when_run_again(
    app: Flask, instance: Path, review: Review, tmp_path: Path
) -> None:
    """SIGKILL after the first reply's file is published, before the commit: run again,
    every reply is posted once and every acknowledged item deleted."""
    bundle = two_reports_answered(app, instance, review, tmp_path)

    def run() -> None:
        real = EnvelopeStore.publish
        calls = 0

        def dying(store: EnvelopeStore, envelope_id: str, staged: Path) -> Path:
            nonlocal calls
            calls += 1
            if calls == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(store, envelope_id, staged)

        EnvelopeStore.publish = dying  # type: ignore[method-assign,assignment]
        cli(instance, "import-replies", str(bundle))

    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    status, output = cli(instance, "import-replies", str(bundle))
    assert status == 0, output
    assert "2 reply(ies) posted, 4 acknowledged item(s) deleted" in output
    status, output = cli(instance, "import-replies", str(bundle))
    assert status == 1
    assert "it was applied before" in output
    with app.app_context():
        assert db_session().scalar(select(func.count()).select_from(Reply)) == 2
        assert db_session().scalar(select(func.count()).select_from(Item)) == 0


def _bundle_id(bundle: Path) -> str:
    """The id a reply bundle's manifest gives it (read without checking the signer)."""
    with bundle.open("rb") as src:
        src.readline()
        length = int.from_bytes(src.read(4), "big")
        return str(json.loads(src.read(length))["bundle_id"])


def test_each_export_carries_a_receipt_of_every_reply_bundle_applied_here(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    assert manifest.receipts == ()
    applied = []
    for n in range(2):
        replies = review.replies(tmp_path / f"r{n}.rzr", manifest, "hello", acks=())
        assert cli(instance, "import-replies", str(replies))[0] == 0
        applied.append(_bundle_id(replies))
    never = review.replies(tmp_path / "never.rzr", manifest, "hello", acks=())
    assert cli(instance, "export", "--out", str(tmp_path / "next.rzb"))[0] == 0
    later, _ = review.read(tmp_path / "next.rzb", tmp_path / "next")
    assert later.receipts == tuple(sorted(applied))
    assert _bundle_id(never) not in later.receipts


def test_a_notice_numbered_no_higher_than_the_one_shown_changes_nothing(
    app: Flask,
    exported: tuple[FlaskClient, Path],
    review: Review,
    instance: Path,
    tmp_path: Path,
) -> None:
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    (designation,) = manifest.sources

    def hand_in(name: str, notice: tuple[str, int | None]) -> str:
        replies = review.replies(tmp_path / name, manifest, "hi", acks=(), notice=notice)
        code, out = cli(instance, "import-replies", str(replies))
        assert code == 0, out
        with app.app_context():
            source = (
                db_session()
                .execute(select(Source).where(Source.designation == designation))
                .scalar_one()
            )
            return f"{source.notice}/{source.notice_seq}"

    assert hand_in("a.rzr", ("needs-info", 2)) == "needs-info/2"
    assert hand_in("b.rzr", ("received", 1)) == "needs-info/2"  # kept back, older
    assert hand_in("c.rzr", ("closed", 2)) == "needs-info/2"  # the same number
    assert hand_in("d.rzr", ("under-review", None)) == "needs-info/2"  # before numbering
    assert hand_in("e.rzr", ("closed", 3)) == "closed/3"


def test_a_voided_bundle_handed_in_later_is_refused_and_nothing_of_it_applied(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    # The attack: a bundle the server refused once (say, its signer's key not yet in the
    # keyring), taken back by the reviewers, handed in again by whoever kept a copy.
    client, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    taken_back = review.replies(tmp_path / "r1.rzr", manifest, "withdrawn for good", acks=())
    voids = (Void(_bundle_id(taken_back), ()),)
    later = review.replies(tmp_path / "r2.rzr", manifest, "the reply", acks=(), voids=voids)
    status, output = cli(instance, "import-replies", str(later))
    assert status == 0, output
    assert "it voided 1 bundle(s) taken back" in output
    before = store_files(instance)
    status, output = cli(instance, "import-replies", str(taken_back))
    assert status == 1
    assert "the reviewers took it back, and a later reply bundle applied here voided it" in output
    assert "nothing changed" in output
    assert store_files(instance) == before
    assert "withdrawn for good" not in client.get("/account").get_data(as_text=True)
    # A voided bundle is no receipt: the workstation must not take it for applied.
    assert cli(instance, "export", "--out", str(tmp_path / "next.rzb"))[0] == 0
    receipts, _ = review.read(tmp_path / "next.rzb", tmp_path / "next")
    assert receipts.receipts == (_bundle_id(later),)


def test_replies_a_voided_bundle_had_posted_already_are_not_posted_again(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    # Taken back although it had been applied (its receipt not home yet): sending its
    # replies again must not show the source each one twice.
    client, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    reply_id = new_bundle_id()
    first = review.replies(tmp_path / "r1.rzr", manifest, "only once", reply_ids=(reply_id,))
    assert cli(instance, "import-replies", str(first))[0] == 0
    voids = (Void(_bundle_id(first), (reply_id,)),)
    again = review.replies(
        tmp_path / "r2.rzr", manifest, "only once", reply_ids=(reply_id,), voids=voids
    )
    status, output = cli(instance, "import-replies", str(again))
    assert status == 0, output
    assert "0 reply(ies) posted" in output
    assert "1 reply(ies) not posted again" in output
    assert client.get("/account").get_data(as_text=True).count("only once") == 1


def test_replayed_reply_bundle_is_refused(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    replies = review.replies(tmp_path / "replies.rzr", manifest, "hello", acks=())
    assert cli(instance, "import-replies", str(replies))[0] == 0
    status, output = cli(instance, "import-replies", str(replies))
    assert status == 1
    assert "it was applied before: nothing changed" in output


@pytest.mark.parametrize("who", ["stranger", "revoked"])
def test_reply_bundle_signed_by_a_key_outside_the_keyring_is_refused(
    exported: tuple[FlaskClient, Path],
    review: Review,
    instance: Path,
    tmp_path: Path,
    who: str,
) -> None:
    # A revoked reviewer is, to the server, a key not in the keyring in force.
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    before = store_files(instance)
    replies = review.replies(
        tmp_path / "replies.rzr", manifest, "forged", signer=SigningKey.generate()
    )
    status, output = cli(instance, "import-replies", str(replies))
    assert status == 1
    assert "not signed by a reviewer in the keyring in force" in output
    assert store_files(instance) == before


def test_reply_bundle_for_another_instance_is_refused(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    replies = review.replies(tmp_path / "r.rzr", manifest, "hi", instance_id="0" * 32)
    status, output = cli(instance, "import-replies", str(replies))
    assert status == 1
    assert "another Raazdar instance" in output


def test_one_refused_reply_leaves_the_whole_bundle_unapplied_and_no_replay(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path, app: Flask
) -> None:
    # An authentic bundle (acks, a notice, one reply signed by someone else): before,
    # the acks deleted the items and the notice was set, the reply was dropped, and
    # the bundle counted as applied, so sending it again was a "replay".
    from app.db import db_session
    from app.models import AppliedBundle, Item, Source

    client, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    before = store_files(instance)
    replies = review.replies(
        tmp_path / "r.rzr", manifest, "smuggled", envelope_signer=SigningKey.generate()
    )
    for _attempt in range(2):
        status, output = cli(instance, "import-replies", str(replies))
        assert status == 1
        assert "refused reply" in output
        assert "not applied: nothing of it changed" in output
        assert "already applied" not in output
    assert store_files(instance) == before
    with app.app_context():
        session = db_session()
        assert {i.id for i in session.query(Item)} == {e.id for e in manifest.entries}
        assert [s.notice for s in session.query(Source)] == [None]
        assert session.query(AppliedBundle).count() == 0
    assert "smuggled" not in client.get("/account").get_data(as_text=True)


# Every byte, once: the bundle is refused as it is read, before anything is written, so the
# PostgreSQL tier would repeat the same work (some 4 minutes of CI) to prove nothing more.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_flipped_byte_of_a_reply_bundle_is_refused_and_nothing_applied(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path, app: Flask
) -> None:
    from app.db import db_session
    from app.operations.exchange import apply_reply_bundle

    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    data = review.replies(tmp_path / "r.rzr", manifest, "hello").read_bytes()
    before = store_files(instance)
    with app.app_context():
        for position in range(len(data)):
            flipped = bytearray(data)
            flipped[position] ^= 0x01
            with pytest.raises(CryptoError):
                apply_reply_bundle(db_session(), io.BytesIO(bytes(flipped)))
    assert store_files(instance) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_flipped_byte_of_an_export_bundle_is_refused(
    exported: tuple[FlaskClient, Path], review: Review, tmp_path: Path
) -> None:
    _, bundle = exported
    data = bundle.read_bytes()
    for position in range(0, len(data)):
        flipped = bytearray(data)
        flipped[position] ^= 0x80
        target = tmp_path / f"flip-{position}.rzb"
        target.write_bytes(bytes(flipped))
        with pytest.raises(CryptoError):
            review.read(target, tmp_path / f"out-{position}")
        target.unlink()


def test_reply_sealed_to_the_wrong_source_is_refused(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    wrong = ExportManifest(
        manifest.bundle_id,
        manifest.instance_id,
        manifest.created,
        manifest.keyring_version,
        manifest.entries,
        {d: PrivateKey.generate().public_key for d in manifest.sources},
    )
    replies = review.replies(tmp_path / "r.rzr", wrong, "misdirected", acks=())
    status, output = cli(instance, "import-replies", str(replies))
    assert status == 1
    assert "not sealed to that source" in output


@pytest.mark.parametrize("prekeys", [1, 2])
def test_a_reply_to_a_prekey_is_posted_only_if_sealed_to_one_key_alone(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path, prekeys: int
) -> None:
    # The server cannot know a source's reply prekeys (they travel in the sealed
    # report), so a v2 reply passes if it has one stanza, and only then.
    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    keys = [HybridPrivateKey.generate().public_key for _ in range(prekeys)]
    replies = review.replies(tmp_path / "r.rzr", manifest, "to a prekey", acks=(), seal_to=keys)
    status, output = cli(instance, "import-replies", str(replies))
    assert status == (0 if prekeys == 1 else 1), output
    if prekeys > 1:
        assert "not sealed to one reply prekey alone" in output


def test_each_export_takes_the_next_number_and_names_the_one_before(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    from crypto.exchange import CHAIN_START, manifest_digest

    client, first = exported
    submit(client, "A second report", b"more")
    status, output = cli(instance, "export", "--out", str(tmp_path / "second.rzb"))
    assert status == 0
    assert "(bundle 2," in output
    server = SigningKey.from_text(review.paths.signing_key.read_text()).verify_key
    digests, chains = [], []
    for bundle in (first, tmp_path / "second.rzb"):
        with bundle.open("rb") as src:
            reader, manifest = read_export(src, [server], review.instance_id)
        digests.append(manifest_digest(reader.manifest))
        chains.append(manifest.chain)
    assert [c.sequence for c in chains if c] == [1, 2]
    assert [c.previous for c in chains if c] == [CHAIN_START, digests[0]]


def test_each_export_carries_the_audit_head_and_its_link_where_the_one_before_ended(
    app: Flask, exported: tuple[FlaskClient, Path], review: Review, tmp_path: Path
) -> None:
    from app.services import audit

    client, first = exported
    with app.app_context():
        session = db_session()
        for n in range(3):
            audit.record(session, "console", f"test-{n}")
        session.commit()
        head = audit.proof(session, 0)
    submit(client, "A second report", b"more")
    assert cli(review.instance, "export", "--out", str(tmp_path / "second.rzb"))[0] == 0
    before, _ = review.read(first, tmp_path / "one")
    after, _ = review.read(tmp_path / "second.rzb", tmp_path / "two")
    assert before.audit is not None
    assert after.audit is not None
    assert (after.audit.entries, after.audit.head) == (head.entries, head.head)
    assert (after.audit.since, after.audit.link) == (before.audit.entries, before.audit.head)
    # The three, and the first export's own entry: an export counts the one before it.
    assert after.audit.entries == before.audit.entries + 3 + 1


def test_a_resend_holds_every_item_not_yet_acknowledged(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    client, _first = exported
    submit(client, "A second report", b"more")
    assert cli(instance, "export", "--out", str(tmp_path / "lost.rzb"))[0] == 0
    status, output = cli(instance, "export", "--resend", "--out", str(tmp_path / "resend.rzb"))
    assert status == 0, output
    manifest, _ = review.read(tmp_path / "resend.rzb", tmp_path / "resent")
    assert manifest.chain is not None
    assert (manifest.chain.sequence, manifest.chain.resend) == (3, True)
    assert len(manifest.entries) == 4


def test_a_reply_is_staged_and_stored_owner_only_whatever_the_umask(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path, app: Flask
) -> None:
    # Production's umask (0077, set by the `raazdar` command itself) hid a reply
    # file created 0644: here, called as a library under umask 0, nothing hides it.
    import os
    import stat

    from app.db import db_session
    from app.operations.exchange import apply_reply_bundle
    from app.services.context import services

    _, bundle = exported
    manifest, _ = review.read(bundle, tmp_path / "items")
    replies = review.replies(tmp_path / "r.rzr", manifest, "hello", acks=())
    before = store_files(instance)
    previous = os.umask(0)
    try:
        with app.app_context():
            _, staged = services().store.stage_ciphertext(b"ciphertext")
            staged_mode = stat.S_IMODE(staged.stat().st_mode)
            services().store.destroy(staged)
            with replies.open("rb") as src:
                assert apply_reply_bundle(db_session(), src).replies == 1
    finally:
        os.umask(previous)
    assert staged_mode == 0o600
    (published,) = store_files(instance) - before
    (path,) = [p for p in envelope_files(instance) if p.name == published]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


class _RacingFile(io.BytesIO):
    """A bundle file whose first write lets another export run to the end."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app
        self.raced = False

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if not self.raced:
            self.raced = True
            from sqlalchemy.orm import Session

            from app.operations.exchange import export_bundle

            engine = self.app.extensions["raazdar.db"].engine
            with Session(engine) as other:
                export_bundle(other, io.BytesIO())
        return super().write(data)


def test_two_exports_at_once_never_share_a_number(
    exported: tuple[FlaskClient, Path], app: Flask
) -> None:
    from app.db import db_session
    from app.models import ExportHead
    from app.operations.exchange import ConcurrentExport, export_bundle

    with app.app_context():
        racing = _RacingFile(app)
        with pytest.raises(ConcurrentExport):
            export_bundle(db_session(), racing)
        head = db_session().get(ExportHead, 1)
        assert head is not None
        assert head.sequence == 2  # the first export, then the one that won the race


def test_a_bundle_signed_with_a_reviewer_key_outside_the_workstation_deletes_no_report(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    # A colleague about to be revoked takes an export stick before it is imported
    # and signs, with their own reviewer key file (in the keyring in force), a reply
    # bundle acknowledging its items.
    client, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    answer = review.replies(tmp_path / "answer.rzr", manifest, "Which police station?")
    assert cli(instance, "import-replies", str(answer))[0] == 0
    submit(client, "The DSP takes a cut from the brick kiln", b"ledger")
    stolen = tmp_path / "stolen.rzb"
    assert cli(instance, "export", "--out", str(stolen))[0] == 0
    taken, _ = review.read(stolen, tmp_path / "taken")
    assert len(taken.entries) == 2
    forged = review.replies(tmp_path / "forged.rzr", taken, "ok", workstation=False)
    status, output = cli(instance, "import-replies", str(forged))
    kept = {f"{e.id}.rze" for e in taken.entries} & store_files(instance)
    assert len(kept) == len(taken.entries), (
        "a reply bundle signed with a reviewer's key outside the workstation deleted "
        f"{len(taken.entries) - len(kept)} report item(s) nobody imported: {output}"
    )
    assert status == 1, output
    assert "the review workspace's key did not seal this bundle whole" in output
    assert "nothing changed" in output
    sealed = review.replies(tmp_path / "sealed.rzr", taken, "Thank you")
    status, output = cli(instance, "import-replies", str(sealed))
    assert "2 acknowledged item(s) deleted" in output, output


def test_before_any_key_is_held_an_unsealed_bundle_deletes_nothing_and_its_items_come_again(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    # Just after the upgrade the server holds no workspace key: a bundle of a
    # workstation not yet upgraded (or a colleague's) is applied, its acks held.
    _, first = exported
    taken, _ = review.read(first, tmp_path / "taken")
    forged = review.replies(tmp_path / "forged.rzr", taken, "ok", workstation=False)
    status, output = cli(instance, "import-replies", str(forged))
    assert status == 0, output
    assert {f"{e.id}.rze" for e in taken.entries} <= store_files(instance)
    assert "2 acknowledged item(s) kept, not deleted" in output
    # The next export brings them to the workstation and names them held; the
    # workstation's own sealed bundle deletes them.
    assert cli(instance, "export", "--out", str(tmp_path / "next.rzb"))[0] == 0
    again, _ = review.read(tmp_path / "next.rzb", tmp_path / "next")
    ids = tuple(sorted(e.id for e in taken.entries))
    assert tuple(sorted(e.id for e in again.entries)) == ids
    assert again.acks is not None
    assert again.acks.held == ids
    assert again.acks.key is None
    sealed = review.replies(tmp_path / "sealed.rzr", again, "Thank you", acks=ids)
    status, output = cli(instance, "import-replies", str(sealed))
    assert "2 acknowledged item(s) deleted" in output, output
    assert not ({f"{e.id}.rze" for e in taken.entries} & store_files(instance))


def test_a_bundle_sealed_by_another_workspace_key_deletes_nothing_until_handed_over(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    _, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    anchor = review.replies(tmp_path / "anchor.rzr", manifest, "hello", acks=())
    assert cli(instance, "import-replies", str(anchor))[0] == 0
    ids = tuple(e.id for e in manifest.entries)
    # A colleague seals with a key of their own: the server holds the workstation's.
    colleague = Review(instance, review.reviewer)
    own = colleague.replies(tmp_path / "own.rzr", manifest, "hi", acks=ids)
    status, output = cli(instance, "import-replies", str(own))
    assert status == 1, output
    assert "this bundle is sealed by workspace key" in output
    assert {f"{i}.rze" for i in ids} <= store_files(instance)
    # A rewrapped workspace: its new key, handed over to by the one the server holds.
    new = Review(instance, review.reviewer)
    handover = new.replies(tmp_path / "h.rzr", manifest, "hi", acks=ids, earlier=(review.ack_key,))
    status, output = cli(instance, "import-replies", str(handover))
    assert "2 acknowledged item(s) deleted" in output, output
    assert cli(instance, "export", "--out", str(tmp_path / "next.rzb"))[0] == 0
    later, _ = review.read(tmp_path / "next.rzb", tmp_path / "next")
    assert later.acks is not None
    assert later.acks.key == new.ack_key.verify_key


def test_a_key_the_administrators_set_first_leaves_a_colleague_no_first_use(
    exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    _, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    status, output = cli(instance, "set-ack-key", review.ack_key.verify_key.to_text())
    assert status == 0, output
    # A colleague's bundle, sealed with a key of their own, reaches the server first.
    colleague = Review(instance, review.reviewer)
    status, output = cli(
        instance, "import-replies", str(colleague.replies(tmp_path / "c.rzr", manifest, "x"))
    )
    assert status == 1, output
    assert "this bundle is sealed by workspace key" in output
    assert {f"{e.id}.rze" for e in manifest.entries} <= store_files(instance)
    status, output = cli(instance, "set-ack-key", "rz-ed25519-public:nonsense")
    assert status == 2
    assert "not a workspace key" in output


TRAP = "Come to the Saddar police post at 4 with your papers"


def _reply_count(app: Flask) -> int:
    with app.app_context():
        return int(db_session().scalar(select(func.count()).select_from(Reply)) or 0)


def _notice(app: Flask, designation: str) -> str:
    with app.app_context():
        source = (
            db_session().execute(select(Source).where(Source.designation == designation))
        ).scalar_one()
        return f"{source.notice}/{source.notice_seq}"


def test_a_bundle_the_workspace_did_not_seal_reaches_no_source_once_the_server_holds_its_key(
    app: Flask,
    exported: tuple[FlaskClient, Path],
    review: Review,
    instance: Path,
    tmp_path: Path,
) -> None:
    # A colleague about to be revoked, with only their reviewer key file and a stick:
    # a trap for the source, a notice numbered at the top, and a void of the real
    # workstation's bundle in transit.
    client, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    (designation,) = manifest.sources
    anchor = review.replies(
        tmp_path / "anchor.rzr", manifest, "Which police station?", notice=("received", 1)
    )
    assert cli(instance, "import-replies", str(anchor))[0] == 0  # the server takes its key
    transit = review.replies(
        tmp_path / "transit.rzr", manifest, "Thank you", acks=(), notice=("under-review", 2)
    )
    before = _reply_count(app)
    rogue = {
        "unsealed": review.replies(
            tmp_path / "unsealed.rzr",
            manifest,
            TRAP,
            acks=(),
            notice=("closed", NOTICE_SEQ_MAX),
            voids=(Void(_bundle_id(transit), ()),),
            workstation=False,
        ),
        "sealed over its acknowledgements alone (format 4), by the workspace's key": (
            review.replies(
                tmp_path / "format4.rzr",
                manifest,
                TRAP,
                acks=(),
                notice=("closed", NOTICE_SEQ_MAX),
                voids=(Void(_bundle_id(transit), ()),),
                acks_only=True,
            )
        ),
        "sealed by a key of its own": Review(instance, review.reviewer).replies(
            tmp_path / "own.rzr",
            manifest,
            TRAP,
            acks=(),
            notice=("closed", NOTICE_SEQ_MAX),
            voids=(Void(_bundle_id(transit), ()),),
        ),
    }
    for how, bundle in rogue.items():
        status, output = cli(instance, "import-replies", str(bundle))
        posted = _reply_count(app) - before
        assert posted == 0, (
            f"a reply bundle {how}, signed with a reviewer's key file away from the "
            f"workstation, posted {posted} reply(ies) to sources: {output}"
        )
        assert TRAP not in client.get("/account").get_data(as_text=True)
        assert _notice(app, designation) == "received/1", f"{how}: its notice was set"
        assert status == 1, output
        assert "nothing changed" in output
    status, output = cli(instance, "import-replies", str(transit))
    assert status == 0, f"the workstation's bundle in transit was voided: {output}"
    assert "1 reply(ies) posted" in output
    assert _notice(app, designation) == "under-review/2"


def _lift_seal(bundle: Path, onto: Path, signer: SigningKey, **fields: Any) -> Path:
    """Rewrite a sealed bundle's manifest (its seal kept) under another reviewer key."""
    with bundle.open("rb") as src:
        body = dict(BundleReader(src, [signer.verify_key]).manifest)
    del body["items"], body["signer"]
    envelopes = fields.pop("envelopes", [])
    body.update(fields)
    with onto.open("wb") as dst:
        write_bundle(dst, body, envelopes, signer)
    return onto


def test_a_seal_lifted_onto_other_replies_notices_or_voids_is_refused(
    app: Flask,
    exported: tuple[FlaskClient, Path],
    review: Review,
    instance: Path,
    tmp_path: Path,
) -> None:
    # A corrupt carrier with a reviewer's key file keeps the workstation's sealed
    # bundle, and hands in its manifest (bundle id, acknowledgements and seal as
    # they were) with a trap for the source in place of the reply, and the notice
    # numbered at the top. The workstation's own bundle is then a replay.
    client, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    ((designation, key),) = manifest.sources.items()
    real = review.replies(tmp_path / "real.rzr", manifest, "Thank you", notice=("received", 1))
    signer = review.reviewer.signing
    assert signer is not None
    trap = seal_bytes(
        TRAP.encode(), [key], Metadata("reply", "text/plain; charset=utf-8"), signer=signer
    )
    reply_id = new_bundle_id()
    forged = _lift_seal(
        real,
        tmp_path / "forged.rzr",
        signer,
        replies=[{"id": reply_id, "source": designation}],
        notices=[{"source": designation, "status": "closed", "seq": NOTICE_SEQ_MAX}],
        envelopes=[(reply_id, trap)],
    )
    status, output = cli(instance, "import-replies", str(forged))
    shown = TRAP in client.get("/account").get_data(as_text=True)
    assert not shown, (
        "a seal lifted from the workstation's bundle onto a trap reply reached the "
        f"source ({_reply_count(app)} reply(ies) posted): {output}"
    )
    assert status == 1, output
    assert _notice(app, designation) == "None/None"
    status, output = cli(instance, "import-replies", str(real))
    assert status == 0, f"the workstation's own bundle was refused: {output}"
    assert "Thank you" in client.get("/account").get_data(as_text=True)


def test_a_bundle_sealed_by_the_key_a_rewrap_replaced_reaches_no_source(
    app: Flask,
    exported: tuple[FlaskClient, Path],
    review: Review,
    instance: Path,
    tmp_path: Path,
) -> None:
    # A reviewer removed by a rewrap kept the workspace key from before it: after
    # the server took the new key, the old one must speak for nobody.
    _, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    old = Review(instance, review.reviewer, review.ack_key)
    first_reply = old.replies(tmp_path / "a.rzr", manifest, "hi")
    assert cli(instance, "import-replies", str(first_reply))[0] == 0
    review.ack_key = SigningKey.generate()
    handover = review.replies(
        tmp_path / "h.rzr", manifest, "hello", acks=(), earlier=(old.ack_key,)
    )
    status, output = cli(instance, "import-replies", str(handover))
    assert status == 0, output
    before = _reply_count(app)
    late = old.replies(tmp_path / "late.rzr", manifest, TRAP, acks=())
    status, output = cli(instance, "import-replies", str(late))
    posted = _reply_count(app) - before
    assert posted == 0, (
        f"a bundle sealed by the workspace key a rewrap replaced posted {posted} reply(ies) "
        f"to sources after the server took the new key: {output}"
    )
    assert status == 1, output


def _audited(app: Flask, action: str) -> list[tuple[str, dict[str, Any]]]:
    """The actor and details of every audit entry of `action`, oldest first."""
    from app.services import audit

    with app.app_context():
        found = audit.entries(db_session(), action=action, newest_first=False)
        return [(e.actor, json.loads(e.detail)) for e in found]


def test_an_export_and_a_reply_bundle_at_the_console_are_audited_as_the_dashboards_are(
    app: Flask, exported: tuple[FlaskClient, Path], review: Review, instance: Path, tmp_path: Path
) -> None:
    """Whoever holds the server's console took every new report in a bundle of their own, and
    no administrator's page or audit entry said so: only a number missing from the dashboard's
    list of the last exports, or a gap the workstation found later."""
    from app.services.dashboard import recent_exports

    client, first = exported
    made = _audited(app, "export")
    assert made, "the console's export left no audit entry"
    ((actor, detail),) = made
    assert actor == "console"
    manifest, _ = review.read(first, tmp_path / "first")
    assert detail["sequence"] == 1
    assert detail["bundle"] == manifest.bundle_id
    assert not {"items", "sources"} & set(detail)
    with app.app_context():
        (shown,) = recent_exports(db_session())
    assert (shown.sequence, shown.actor) == (1, "console")
    submit(client, "A second report", b"more")
    assert cli(instance, "export", "--resend", "--out", str(tmp_path / "again.rzb"))[0] == 0
    assert _audited(app, "export")[-1][1]["resend"] is True
    answer = review.replies(tmp_path / "answer.rzr", manifest, "Which police station?")
    assert cli(instance, "import-replies", str(answer))[0] == 0
    ((actor, detail),) = _audited(app, "reply-bundle-applied")
    assert (actor, detail["bundle"], detail["deleted"]) == ("console", _bundle_id(answer), 2)


def _apply(app: Flask, bundle: Path) -> str:
    """Hand a reply bundle to `app` in-process: its summary, or the refusal's rule."""
    from app.operations.exchange import apply_reply_bundle

    with app.app_context(), bundle.open("rb") as src:
        try:
            summary = apply_reply_bundle(db_session(), src)
        except CryptoError as exc:
            return f"refused: {exc}"
    return f"applied: {summary.replies} posted, {summary.deleted} deleted"


def test_a_production_server_holding_no_workspace_key_lets_no_bundle_speak_for_the_reviewers(
    exported: tuple[FlaskClient, Path],
    make_app: Any,
    review: Review,
    instance: Path,
    tmp_path: Path,
) -> None:
    # Just after the upgrade, before an administrator ran `raazdar set-ack-key`: a
    # colleague about to be revoked, with their reviewer key file and the export
    # stick, seals a bundle with a key of their own and hands it in first.
    client, first = exported
    live = make_app(DEMO=False)
    manifest, _ = review.read(first, tmp_path / "first")
    colleague = Review(instance, review.reviewer)
    rogue = {
        "sealed by a key of its own": colleague.replies(tmp_path / "theirs.rzr", manifest, TRAP),
        "unsealed": review.replies(tmp_path / "bare.rzr", manifest, TRAP, workstation=False),
    }
    for how, bundle in rogue.items():
        said = _apply(live, bundle)
        kept = {f"{e.id}.rze" for e in manifest.entries} & store_files(instance)
        assert len(kept) == len(manifest.entries), (
            f"a bundle {how}, handed to a production server holding no workspace key, was "
            f"taken as the reviewers' ({said}; {len(manifest.entries) - len(kept)} of "
            f"{len(manifest.entries)} report items deleted unseen)"
        )
        assert said.startswith("refused"), said
        assert "no review workspace key" in said
        assert TRAP not in client.get("/account").get_data(as_text=True)
    assert cli(instance, "set-ack-key", review.ack_key.verify_key.to_text())[0] == 0
    own = review.replies(tmp_path / "own.rzr", manifest, "Which police station?")
    assert _apply(live, own) == "applied: 1 posted, 2 deleted"
    assert _apply(live, rogue["sealed by a key of its own"]).startswith("refused: ack-key")


def test_each_export_names_the_digest_of_the_keyring_in_force(
    app: Flask, exported: tuple[FlaskClient, Path], review: Review, tmp_path: Path
) -> None:
    from app.services.context import services

    _, first = exported
    manifest, _ = review.read(first, tmp_path / "first")
    with app.app_context():
        in_force = services().manifest()
    assert manifest.format == 9
    assert (manifest.keyring_version, manifest.keyring_digest) == (
        in_force.version,
        in_force.digest(),
    )


# Refused before anything is unpacked or written: the PostgreSQL tier would prove nothing more.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_copied_earlier_workspace_key_cannot_hand_a_production_server_over_to_its_holder(
    exported: tuple[FlaskClient, Path],
    make_app: Any,
    review: Review,
    instance: Path,
    tmp_path: Path,
) -> None:
    # A colleague about to be revoked copied the workspace key before the rewrap that
    # removed them. Before the workstation's first bundle after it arrives, they seal a
    # bundle with a key of their own and a handover to it signed by the copied key.
    client, first = exported
    live = make_app(DEMO=False)
    manifest, _ = review.read(first, tmp_path / "first")
    assert cli(instance, "set-ack-key", review.ack_key.verify_key.to_text())[0] == 0
    colleague = Review(instance, review.reviewer)
    raced = colleague.replies(tmp_path / "raced.rzr", manifest, TRAP, earlier=(review.ack_key,))
    said = _apply(live, raced)
    kept = {f"{e.id}.rze" for e in manifest.entries} & store_files(instance)
    assert len(kept) == len(manifest.entries), (
        f"a handover signed by a copied earlier workspace key was taken by a production "
        f"server ({said}; {len(manifest.entries) - len(kept)} of {len(manifest.entries)} "
        "report items deleted unseen)"
    )
    assert said.startswith("refused: ack-key"), said
    assert TRAP not in client.get("/account").get_data(as_text=True)
    # The rewrapped workstation's own bundle waits for the administrators too; no refusal
    # hands them a command with a key a bundle named (the copier's, as like as not).
    rewrapped = Review(instance, review.reviewer)
    own = rewrapped.replies(
        tmp_path / "own.rzr", manifest, "Which police station?", earlier=(review.ack_key,)
    )
    said = _apply(live, own)
    assert said.startswith("refused: ack-key"), said
    assert "the key the reviewers' rewrap printed" in said
    assert rewrapped.ack_key.verify_key.to_text() not in said
    assert colleague.ack_key.verify_key.to_text() not in _apply(live, raced)
    assert cli(instance, "set-ack-key", rewrapped.ack_key.verify_key.to_text())[0] == 0
    assert _apply(live, own) == "applied: 1 posted, 2 deleted"
    late = Review(instance, review.reviewer, review.ack_key).replies(
        tmp_path / "late.rzr", manifest, TRAP, acks=()
    )
    assert _apply(live, late).startswith("refused: ack-key")
    assert TRAP not in client.get("/account").get_data(as_text=True)
