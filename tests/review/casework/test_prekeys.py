"""Reply prekeys on the workstation: filed only as signed, each sealed to once, never a server's.

A `raazdar-submit` report brings four one-time X-Wing keys in its record, and
its binding commits to them. The attacks: a compromised server swaps, strips or
adds prekeys; files a report of its own, under the source's designation, whose
binding it signed with a key of its own, so that replies go to prekeys it holds;
or gets two replies sealed to one prekey.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from crypto import (
    DecryptionError,
    HybridPrivateKey,
    KdfParams,
    PublicKey,
    SourceKeys,
    derive_source_keys,
    generate_codename,
    open_bytes,
    read_header,
)
from crypto.binding import ReplyPrekeys, SourceBinding
from crypto.bundle import BundleReader
from crypto.exchange import manifest_digest
from crypto.keys import SigningKey
from review import workspace as ws
from review.casework import prekeys, replies
from review.errors import ReviewError
from review.intake.importer import import_bundle
from review.workspace import outbox
from tests.review.intake.test_binding import RECORD, _bundle
from tests.review.support import Server, reply_text


def _keys() -> SourceKeys:
    return derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)


def _prekeys() -> tuple[list[HybridPrivateKey], ReplyPrekeys]:
    secrets = [HybridPrivateKey.generate() for _ in range(4)]
    return secrets, ReplyPrekeys(tuple(k.public_key for k in secrets))


def _record(keys: ReplyPrekeys | None, message: str = "the SHO took money") -> bytes:
    record: dict[str, object] = json.loads(RECORD)
    record["message"] = message
    if keys is not None:
        record["reply_prekeys"] = keys.to_json()
    return json.dumps(record).encode()


def _digest(bundle: Path, server: Server) -> bytes:
    key = SigningKey.from_text(server.paths.signing_key.read_text()).verify_key
    with bundle.open("rb") as src:
        return manifest_digest(BundleReader(src, [key]).manifest)


def _envelope(u: ws.Unlocked, reply_id: str) -> bytes:
    name = u.conn.execute("SELECT envelope FROM replies WHERE id = ?", (reply_id,)).fetchone()[0]
    return outbox.envelope(u, str(name))


def _sealed_to(u: ws.Unlocked, reply_id: str) -> bytes:
    (stanza,) = read_header(io.BytesIO(_envelope(u, reply_id))).stanzas
    return stanza.key_id


def test_each_reply_takes_a_fresh_prekey_newest_first_until_none_is_left(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    source = _keys()
    secrets, public = _prekeys()
    binding = SourceBinding.make(source.public_key, source.signing_key, public)
    bundle = _bundle(
        server, tmp_path, source.public_key, None, records=((_record(public), binding),)
    )
    assert import_bundle(unlocked, bundle).filed == 1

    used, ids = [], []
    for n in range(4):
        queued = replies.queue_reply(unlocked, 1, f"Question {n}?")
        assert (queued.forward_secret, queued.prekeys_left) == (True, 3 - n)
        used.append(_sealed_to(unlocked, queued.reply_id))
        ids.append(queued.reply_id)
    # Never two replies to one prekey; the newest first.
    assert used == [k.fingerprint.key_id for k in reversed(public.keys)]
    # Each opens with its prekey's secret, and not with the codename key.
    # (The first written: rows' rowids are drawn at random, so no longer the lowest.)
    assert reply_text(_envelope(unlocked, ids[0]), [secrets[3]]).text == "Question 0?"

    with pytest.raises(prekeys.NoPrekeyLeft, match="NOT forward-secret") as none_left:
        replies.queue_reply(unlocked, 1, "One more?")
    assert "--allow-codename-key" in str(none_left.value.hint)
    assert unlocked.conn.execute("SELECT count(*) FROM replies").fetchone() == (4,)

    queued = replies.queue_reply(unlocked, 1, "One more?", allow_codename_key=True)
    assert not queued.forward_secret
    with pytest.raises(DecryptionError):
        open_bytes(_envelope(unlocked, queued.reply_id), [secrets[0]])
    assert _sealed_to(unlocked, queued.reply_id) == source.public_key.fingerprint.key_id


def test_a_server_report_under_the_sources_designation_never_gets_their_replies(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # The attack: the server seals a report of its own under the source's designation,
    # with the source's reply key but its own signer and prekeys. Its prekeys are newer.
    source = _keys()
    _, real = _prekeys()
    first = _bundle(
        server,
        tmp_path,
        source.public_key,
        None,
        records=((_record(real), SourceBinding.make(source.public_key, source.signing_key, real)),),
    )
    import_bundle(unlocked, first)
    attacker = SigningKey.generate()
    _, forged = _prekeys()
    second = _bundle(
        server,
        tmp_path,
        source.public_key,
        None,
        sequence=2,
        previous=_digest(first, server),
        records=((_record(forged), SourceBinding.make(source.public_key, attacker, forged)),),
    )
    import_bundle(unlocked, second)

    forged_ids = {k.fingerprint.key_id for k in forged.keys}
    for n in range(4):
        queued = replies.queue_reply(unlocked, 1, f"To the real source {n}")
        assert _sealed_to(unlocked, queued.reply_id) not in forged_ids
    with pytest.raises(prekeys.NoPrekeyLeft):
        replies.queue_reply(unlocked, 1, "And again")


def test_a_second_signer_for_one_report_disputes_its_source(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    source = _keys()
    _, real = _prekeys()
    _, forged = _prekeys()
    records = (
        (_record(real), SourceBinding.make(source.public_key, source.signing_key, real)),
        (_record(forged), SourceBinding.make(source.public_key, SigningKey.generate(), forged)),
    )
    bundle = _bundle(server, tmp_path, source.public_key, None, records=records)
    (dispute,) = import_bundle(unlocked, bundle).disputes
    assert "second key" in dispute.message()
    assert unlocked.conn.execute("SELECT count(*) FROM reply_prekeys").fetchone() == (0,)
    with pytest.raises(ReviewError, match="disputed"):
        replies.queue_reply(unlocked, 1, "To whom?", allow_codename_key=True)


def _swapped(keys: ReplyPrekeys) -> ReplyPrekeys:
    return ReplyPrekeys((HybridPrivateKey.generate().public_key, *keys.keys[1:]))


@pytest.mark.parametrize("tamper", ["swapped", "stripped", "v1-binding"])
def test_prekeys_other_than_the_signed_ones_are_never_sealed_to(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path, tamper: str
) -> None:
    source = _keys()
    _, public = _prekeys()
    binding = SourceBinding.make(source.public_key, source.signing_key, public)
    if tamper == "swapped":
        record = _record(_swapped(public))
    elif tamper == "stripped":
        record = _record(None)
    else:
        binding = SourceBinding.make(source.public_key, source.signing_key)
        record = _record(public)
    bundle = _bundle(server, tmp_path, source.public_key, None, records=((record, binding),))
    (dispute,) = import_bundle(unlocked, bundle).disputes
    assert "prekeys" in dispute.message()
    assert "signed" in dispute.message()
    assert unlocked.conn.execute("SELECT count(*) FROM reply_prekeys").fetchone() == (0,)
    with pytest.raises(ReviewError, match="disputed"):
        replies.queue_reply(unlocked, 1, "To whom?", allow_codename_key=True)


@pytest.mark.parametrize("value", [[], "x", ["rz-xwing-public:AAAA"] * 4])
def test_malformed_prekeys_in_a_report_dispute_its_source(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path, value: object
) -> None:
    source = _keys()
    _, public = _prekeys()
    record = json.loads(_record(public))
    record["reply_prekeys"] = value
    binding = SourceBinding.make(source.public_key, source.signing_key, public)
    bundle = _bundle(
        server, tmp_path, source.public_key, None, records=((json.dumps(record).encode(), binding),)
    )
    (dispute,) = import_bundle(unlocked, bundle).disputes
    assert "malformed" in dispute.message()
    assert unlocked.conn.execute("SELECT count(*) FROM reply_prekeys").fetchone() == (0,)
    with pytest.raises(ReviewError, match="disputed"):
        replies.queue_reply(unlocked, 1, "To whom?", allow_codename_key=True)


def test_a_report_replayed_as_new_does_not_silently_get_a_codename_key_reply(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # The same sealed report exported again as a new submission brings no prekeys
    # of its own (they are filed once): a reply to it must not quietly lose them.
    source = _keys()
    _, public = _prekeys()
    records = (
        (_record(public), SourceBinding.make(source.public_key, source.signing_key, public)),
    )
    first = _bundle(server, tmp_path, source.public_key, None, records=records)
    import_bundle(unlocked, first)
    again = _bundle(
        server,
        tmp_path,
        source.public_key,
        None,
        sequence=2,
        previous=_digest(first, server),
        records=records,
    )
    import_bundle(unlocked, again)
    assert unlocked.conn.execute("SELECT count(*) FROM reply_prekeys").fetchone() == (4,)
    with pytest.raises(prekeys.NoPrekeyLeft, match="brought no one-time reply keys"):
        replies.queue_reply(unlocked, 2, "Hello?")
    assert replies.queue_reply(unlocked, 1, "Hello?").forward_secret


def test_a_browser_source_still_gets_a_codename_key_reply_without_asking(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    key: PublicKey = _keys().public_key
    import_bundle(unlocked, _bundle(server, tmp_path, key, None))
    queued = replies.queue_reply(unlocked, 1, "Which district?")
    assert (queued.forward_secret, queued.prekeys_left) == (False, None)
