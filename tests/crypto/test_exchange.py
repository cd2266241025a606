"""Export manifests: the chain fields of format 2, the receipts of format 3, the audit head
of format 4, the notice counts of format 5, the unheld prekeys of format 6, the held
acknowledgements of format 7, and older formats still read without them; reply manifests,
the voids of their format 2 and the acknowledgement seal of their formats 4 and 5."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from crypto import PrivateKey, SigningKey
from crypto.binding import UnheldPrekey
from crypto.bundle import BundleReader, write_bundle
from crypto.errors import FormatError, UnsupportedVersionError, VerificationError
from crypto.exchange import (
    CHAIN_START,
    NOTICE_SEQ_MAX,
    AckSeal,
    AckState,
    AuditProof,
    ChainLink,
    ExportEntry,
    ExportManifest,
    Notice,
    ReplyEntry,
    ReplyManifest,
    RestoreSeen,
    RestoreState,
    Void,
    manifest_digest,
    new_bundle_id,
    read_export,
    read_replies,
    seal_replies,
    write_export,
    write_replies,
)

INSTANCE = "1" * 32


def _manifest(chain: ChainLink | None) -> ExportManifest:
    return ExportManifest("0" * 32, INSTANCE, dt.date(2026, 1, 2), 1, (), {}, chain)


def _signed(obj: dict[str, Any]) -> dict[str, Any]:
    return dict(obj, items=[], signer="x")


def test_a_chained_manifest_round_trips_and_its_digest_is_what_the_writer_returned() -> None:
    key = SigningKey.generate()
    link = ChainLink(2, b"\x07" * 32, resend=True)
    out = io.BytesIO()
    digest = write_export(out, _manifest(link), [], key)
    reader, manifest = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert manifest.chain == link
    assert manifest_digest(reader.manifest) == digest
    assert reader.manifest["format"] == 2


def test_receipts_make_format_3_and_round_trip() -> None:
    key = SigningKey.generate()
    receipts = ("a" * 32, "b" * 32)
    manifest = dataclasses.replace(_manifest(ChainLink(2, b"\x07" * 32)), receipts=receipts)
    out = io.BytesIO()
    write_export(out, manifest, [], key)
    reader, read = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 3
    assert read == manifest


def test_a_format_2_export_without_receipts_is_still_read_and_has_none() -> None:
    obj = _signed(_manifest(ChainLink(3, b"\x01" * 32)).to_json())
    assert obj["format"] == 2
    assert "receipts" not in obj
    assert ExportManifest.from_json(obj).receipts is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"receipts": ["a" * 32, "a" * 32]}, FormatError),
        ({"receipts": ["XYZ"]}, FormatError),
        ({"receipts": "a" * 32}, FormatError),
        ({"format": 2}, FormatError),
    ],
    ids=["twice", "not-an-id", "not-a-list", "format-2-with-receipts"],
)
def test_bad_receipts_are_refused(change: dict[str, Any], error: type[Exception]) -> None:
    manifest = dataclasses.replace(_manifest(ChainLink(3, b"\x01" * 32)), receipts=("c" * 32,))
    with pytest.raises(error):
        ExportManifest.from_json(_signed(manifest.to_json()) | change)


def test_a_format_3_manifest_without_receipts_is_refused() -> None:
    manifest = dataclasses.replace(_manifest(ChainLink(3, b"\x01" * 32)), receipts=())
    obj = _signed(manifest.to_json())
    del obj["receipts"]
    with pytest.raises(FormatError):
        ExportManifest.from_json(obj)


AUDIT = AuditProof(7, b"\x02" * 32, 5, b"\x03" * 32)


def _audited() -> ExportManifest:
    return dataclasses.replace(_manifest(ChainLink(3, b"\x01" * 32)), receipts=(), audit=AUDIT)


def test_an_audit_head_makes_format_4_and_round_trips() -> None:
    key = SigningKey.generate()
    out = io.BytesIO()
    write_export(out, _audited(), [], key)
    reader, read = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 4
    assert reader.manifest["audit"] == {
        "entries": 7,
        "head": "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI",
        "since": 5,
        "link": "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM",
    }
    assert read == _audited()


def test_a_format_3_export_without_an_audit_head_is_still_read_and_has_none() -> None:
    obj = _signed(dataclasses.replace(_audited(), audit=None).to_json())
    assert obj["format"] == 3
    assert ExportManifest.from_json(obj).audit is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"format": 3}, FormatError),
        ({"audit": None}, FormatError),
        ({"audit": AUDIT.to_json() | {"entries": -1}}, FormatError),
        ({"audit": AUDIT.to_json() | {"since": True}}, FormatError),
        ({"audit": AUDIT.to_json() | {"head": "AAAA"}}, FormatError),
        ({"audit": AUDIT.to_json() | {"more": 1}}, FormatError),
        ({"audit": {"entries": 7, "head": AUDIT.to_json()["head"], "since": 5}}, FormatError),
    ],
    ids=["format-3-with-audit", "null", "negative", "bool", "short-head", "extra", "no-link"],
)
def test_a_bad_audit_head_is_refused(change: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        ExportManifest.from_json(_signed(_audited().to_json()) | change)


def test_a_format_4_manifest_without_an_audit_head_is_refused() -> None:
    obj = _signed(_audited().to_json())
    del obj["audit"]
    with pytest.raises(FormatError):
        ExportManifest.from_json(obj)


def test_notice_counts_make_format_5_and_round_trip() -> None:
    key = SigningKey.generate()
    manifest = dataclasses.replace(_audited(), notice_counts={"Source Two": 3, "Source One": 1})
    out = io.BytesIO()
    write_export(out, manifest, [], key)
    reader, read = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 5
    assert reader.manifest["notices"] == [
        {"source": "Source One", "seq": 1},
        {"source": "Source Two", "seq": 3},
    ]
    assert read == manifest


def test_a_format_4_export_without_notice_counts_is_still_read_and_has_none() -> None:
    obj = _signed(_audited().to_json())
    assert obj["format"] == 4
    assert ExportManifest.from_json(obj).notice_counts is None


COUNTED = dataclasses.replace(_audited(), notice_counts={"Source One": 2})


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"format": 4}, FormatError),
        ({"notices": [{"source": "Source One", "seq": 2}] * 2}, FormatError),
        ({"notices": [{"source": "Source One", "seq": 0}]}, FormatError),
        ({"notices": [{"source": "Source One", "seq": NOTICE_SEQ_MAX + 1}]}, FormatError),
        ({"notices": [{"source": "Source One", "seq": True}]}, FormatError),
        ({"notices": [{"source": "Source One"}]}, FormatError),
        ({"notices": {"Source One": 2}}, FormatError),
    ],
    ids=["format-4-with-counts", "twice", "zero", "past-the-column", "bool", "no-seq", "object"],
)
def test_bad_notice_counts_are_refused(change: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        ExportManifest.from_json(_signed(COUNTED.to_json()) | change)


def test_a_format_5_manifest_without_notice_counts_is_refused() -> None:
    obj = _signed(COUNTED.to_json())
    del obj["notices"]
    with pytest.raises(FormatError):
        ExportManifest.from_json(obj)


def _unheld(key_id: bytes = b"\x05" * 8) -> UnheldPrekey:
    return UnheldPrekey.make(key_id, SigningKey.generate())


def test_unheld_prekeys_make_format_6_and_round_trip() -> None:
    key = SigningKey.generate()
    statements = (_unheld(b"\x09" * 8), _unheld(b"\x01" * 8))
    manifest = dataclasses.replace(COUNTED, unheld=statements)
    out = io.BytesIO()
    write_export(out, manifest, [], key)
    reader, read = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 6
    assert [u["key_id"] for u in reader.manifest["unheld"]] == ["01" * 8, "09" * 8]
    assert set(read.unheld or ()) == set(statements)
    for statement in read.unheld or ():
        statement.verify()


def test_a_format_5_export_without_unheld_prekeys_is_still_read_and_has_none() -> None:
    obj = _signed(COUNTED.to_json())
    assert obj["format"] == 5
    assert ExportManifest.from_json(obj).unheld is None


UNHELD = _unheld().to_json()


@pytest.mark.parametrize(
    "change",
    [
        {"format": 5},
        {"unheld": [UNHELD, UNHELD]},
        {"unheld": [UNHELD | {"key_id": "05" * 7}]},
        {"unheld": [UNHELD | {"key_id": "0A" * 8}]},
        {"unheld": [UNHELD | {"more": 1}]},
        {"unheld": [UNHELD | {"signature": "AAAA"}]},
    ],
    ids=["format-5-with-unheld", "twice", "short-key-id", "upper-hex", "extra", "short-signature"],
)
def test_bad_unheld_prekeys_are_refused(change: dict[str, Any]) -> None:
    manifest = dataclasses.replace(COUNTED, unheld=(_unheld(),))
    with pytest.raises(FormatError):
        ExportManifest.from_json(_signed(manifest.to_json()) | change)


def test_an_unheld_prekey_signed_by_another_key_does_not_verify() -> None:
    statement = _unheld()
    forged = dataclasses.replace(statement, signer=SigningKey.generate().verify_key)
    with pytest.raises(VerificationError):
        forged.verify()


def test_notice_counts_need_an_audit_head() -> None:
    with pytest.raises(FormatError, match="audit head"):
        dataclasses.replace(_audited(), audit=None, notice_counts={})


def test_an_audit_head_needs_receipts() -> None:
    with pytest.raises(FormatError, match="receipts"):
        dataclasses.replace(_manifest(ChainLink(3, b"\x01" * 32)), audit=AUDIT)


def test_receipts_need_a_chain() -> None:
    with pytest.raises(FormatError, match="chained"):
        dataclasses.replace(_manifest(None), receipts=())


def test_an_unchained_manifest_is_format_1_and_reads_back_without_a_chain() -> None:
    obj = _manifest(None).to_json()
    assert obj["format"] == 1
    assert "sequence" not in obj
    assert ExportManifest.from_json(_signed(obj)).chain is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"format": 10}, UnsupportedVersionError),
        ({"format": True}, UnsupportedVersionError),
        ({"sequence": 0}, FormatError),
        ({"sequence": True}, FormatError),
        ({"resend": 1}, FormatError),
        ({"previous": "AAAA"}, FormatError),
    ],
)
def test_bad_chain_fields_are_refused(change: dict[str, Any], error: type[Exception]) -> None:
    obj = _signed(_manifest(ChainLink(3, b"\x01" * 32)).to_json()) | change
    with pytest.raises(error):
        ExportManifest.from_json(obj)


@pytest.mark.parametrize("field", ["sequence", "previous", "resend"])
def test_a_format_2_manifest_without_a_chain_field_is_refused(field: str) -> None:
    obj = _signed(_manifest(ChainLink(3, b"\x01" * 32)).to_json())
    del obj[field]
    with pytest.raises(FormatError):
        ExportManifest.from_json(obj)


def test_a_format_1_manifest_with_chain_fields_is_refused() -> None:
    obj = _signed(_manifest(ChainLink(3, b"\x01" * 32)).to_json()) | {"format": 1}
    with pytest.raises(FormatError):
        ExportManifest.from_json(obj)


def test_the_first_bundle_follows_no_other() -> None:
    assert ChainLink(1, CHAIN_START).sequence == 1
    with pytest.raises(FormatError):
        ChainLink(1, b"\x01" * 32)


def test_extracted_items_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    # Reply bundles are unpacked into the server's store (`app.operations.exchange`).
    key = SigningKey.generate()
    envelope = tmp_path / "e.rze"
    envelope.write_bytes(b"ciphertext")
    out = io.BytesIO()
    write_bundle(out, {"type": "t"}, [("a", envelope)], key)
    previous = os.umask(0)
    try:
        paths = BundleReader(io.BytesIO(out.getvalue()), [key.verify_key]).extract(tmp_path / "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o700
    assert [stat.S_IMODE(p.stat().st_mode) for p in paths.values()] == [0o600]


# --- Entries, replies, and what a reader refuses ------------------------------

SOURCE = PrivateKey.generate().public_key


def _entry(item_id: str = "a" * 32, source: str = "Source One") -> ExportEntry:
    return ExportEntry(item_id, "b" * 32, source, "message", dt.date(2026, 1, 2))


def _with_entries(*entries: ExportEntry) -> ExportManifest:
    return ExportManifest(
        "0" * 32, INSTANCE, dt.date(2026, 1, 2), 1, entries, {"Source One": SOURCE}, None
    )


def _replies(*replies: ReplyEntry) -> ReplyManifest:
    notices = (Notice("Source One", "in-review"),)
    return ReplyManifest("2" * 32, INSTANCE, dt.date(2026, 1, 3), ("c" * 32,), replies, notices)


def test_an_export_with_entries_round_trips_with_its_envelopes(tmp_path: Path) -> None:
    key = SigningKey.generate()
    envelope = tmp_path / "e.rze"
    envelope.write_bytes(b"ciphertext")
    out = io.BytesIO()
    write_export(out, _with_entries(_entry()), [envelope], key)
    reader, manifest = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert manifest == _with_entries(_entry())
    assert [(i.id, b"".join(blocks)) for i, blocks in reader.iter_items()] == [
        ("a" * 32, b"ciphertext")
    ]


def test_a_reply_bundle_round_trips(tmp_path: Path) -> None:
    key = SigningKey.generate()
    envelope = tmp_path / "r.rze"
    envelope.write_bytes(b"reply")
    manifest = _replies(ReplyEntry("d" * 32, "Source One"))
    out = io.BytesIO()
    write_replies(out, manifest, [envelope], key)
    reader, read = read_replies(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert read == manifest
    assert [i.id for i in reader.items] == ["d" * 32]


def test_a_reply_bundle_with_nothing_to_void_is_format_1_and_one_with_voids_format_2(
    tmp_path: Path,
) -> None:
    key = SigningKey.generate()
    assert _replies().to_json()["format"] == 1
    manifest = dataclasses.replace(
        _replies(), voids=(Void("e" * 32, ("d" * 32,)), Void("f" * 32, ()))
    )
    out = io.BytesIO()
    write_replies(out, manifest, [], key)
    reader, read = read_replies(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 2
    assert read == manifest


def test_a_reply_bundle_with_numbered_notices_is_format_3_and_round_trips() -> None:
    key = SigningKey.generate()
    manifest = dataclasses.replace(_replies(), notices=(Notice("Source One", "closed", 7),))
    assert manifest.to_json()["voids"] == []
    out = io.BytesIO()
    write_replies(out, manifest, [], key)
    reader, read = read_replies(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 3
    assert read == manifest
    assert read.notices[0].seq == 7


@pytest.mark.parametrize(
    ("notices", "says"),
    [
        ([{"source": "Source One", "status": "closed"}], "exactly the fields"),
        ([{"source": "Source One", "status": "closed", "seq": True}], "integer"),
        ([{"source": "Source One", "status": "closed", "seq": 0}], "positive"),
        ([{"source": "Source One", "status": "closed", "seq": "2"}], "integer"),
        # The server keeps it in a 32-bit column: past that, PostgreSQL would refuse the
        # bundle's transaction with a crash, not a refusal.
        ([{"source": "Source One", "status": "closed", "seq": 2**31}], "at most"),
    ],
    ids=["unnumbered", "boolean", "zero", "text", "past-the-column"],
)
def test_bad_notice_numbers_are_refused(notices: list[dict[str, Any]], says: str) -> None:
    manifest = dataclasses.replace(_replies(), notices=(Notice("Source One", "closed", 1),))
    obj = dict(manifest.to_json(), items=[], signer="x", notices=notices)
    with pytest.raises(FormatError, match=says):
        ReplyManifest.from_json(obj)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"format": 1}, "unexpected fields"),
        ({"voids": [{"bundle": "e" * 32}]}, "entry"),
        ({"voids": [{"bundle": "e" * 32, "replies": ["d" * 32, "d" * 32]}]}, "twice"),
        ({"voids": [{"bundle": "2" * 32, "replies": []}]}, "itself"),
        ({"voids": [{"bundle": "e" * 32, "replies": []}] * 2}, "voided twice"),
    ],
    ids=["format-1-with-voids", "no-replies", "reply-twice", "itself", "bundle-twice"],
)
def test_bad_voids_are_refused(change: dict[str, Any], says: str) -> None:
    manifest = dataclasses.replace(_replies(), voids=(Void("e" * 32, ()),))
    obj = dict(manifest.to_json(), items=[], signer="x")
    with pytest.raises(FormatError, match=says):
        ReplyManifest.from_json(obj | change)


def test_a_bundle_for_another_instance_is_refused() -> None:
    key = SigningKey.generate()
    out = io.BytesIO()
    write_replies(out, _replies(), [], key)
    with pytest.raises(VerificationError, match="another instance"):
        read_replies(io.BytesIO(out.getvalue()), [key.verify_key], "9" * 32)


def test_a_writer_needs_one_file_per_entry(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="one file per entry"):
        write_export(io.BytesIO(), _with_entries(_entry()), [], SigningKey.generate())


@pytest.mark.parametrize(
    ("change", "error", "says"),
    [
        ({"type": "replies"}, FormatError, "not a raazdar-export bundle"),
        ({"format": 10}, UnsupportedVersionError, "unsupported"),
        ({"surprise": 1}, FormatError, "unexpected fields"),
        ({"items": [{"id": "f" * 32}]}, FormatError, "do not match"),
        ({"keyring_version": 0}, FormatError, "positive integer"),
        ({"bundle_id": "XYZ"}, FormatError, ""),
    ],
    ids=["type", "format", "extra-field", "items", "keyring-version", "bundle-id"],
)
def test_a_bad_export_manifest_is_refused(
    change: dict[str, Any], error: type[Exception], says: str
) -> None:
    obj = dict(_with_entries(_entry()).to_json(), items=[{"id": "a" * 32}], signer="x")
    with pytest.raises(error, match=says or None):
        ExportManifest.from_json(obj | change)


def test_an_entry_whose_source_key_is_missing_is_refused() -> None:
    obj = dict(_with_entries(_entry()).to_json(), items=[{"id": "a" * 32}], signer="x")
    obj["sources"] = []
    with pytest.raises(FormatError, match="whose key is not in the bundle"):
        ExportManifest.from_json(obj)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"acks": ["c" * 32, "c" * 32]}, "acknowledged twice"),
        ({"notices": [{"source": "Source One", "status": "Bad Status"}]}, "status"),
        ({"replies": [{"id": "d" * 32}]}, "entry"),
        ({"type": "export"}, "not a raazdar-replies bundle"),
    ],
)
def test_a_bad_reply_manifest_is_refused(change: dict[str, Any], says: str) -> None:
    obj = dict(_replies().to_json(), items=[], signer="x")
    with pytest.raises(FormatError, match=says):
        ReplyManifest.from_json(obj | change)


def test_a_later_bundle_needs_a_32_byte_predecessor_and_a_positive_sequence() -> None:
    with pytest.raises(FormatError, match="32 bytes"):
        ChainLink(2, b"\x01" * 31)
    with pytest.raises(FormatError, match="positive integer"):
        ChainLink(0, CHAIN_START)


def test_bundle_ids_are_random_128_bit_hex() -> None:
    ids = {new_bundle_id() for _ in range(8)}
    assert len(ids) == 8
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_held_acknowledgements_make_format_7_and_round_trip() -> None:
    key = SigningKey.generate()
    held = AckState(SigningKey.generate().verify_key, ("b" * 32, "a" * 32))
    manifest = dataclasses.replace(COUNTED, unheld=(), acks=held)
    out = io.BytesIO()
    write_export(out, manifest, [], key)
    reader, read = read_export(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 7
    assert reader.manifest["acks"]["held"] == ["a" * 32, "b" * 32]
    assert read.acks is not None
    assert read.acks.key == held.key
    assert set(read.acks.held) == set(held.held)
    unkeyed = dataclasses.replace(manifest, acks=AckState(None, ()))
    assert ExportManifest.from_json(_signed(unkeyed.to_json())).acks == AckState(None, ())


def test_a_format_6_export_without_held_acknowledgements_is_still_read_and_has_none() -> None:
    obj = _signed(dataclasses.replace(COUNTED, unheld=()).to_json())
    assert obj["format"] == 6
    assert ExportManifest.from_json(obj).acks is None


@pytest.mark.parametrize(
    "change",
    [
        {"format": 6},
        {"acks": {"key": None, "held": ["a" * 32, "a" * 32]}},
        {"acks": {"key": None, "held": ["A" * 32]}},
        {"acks": {"key": "rz-ed25519-public:nope", "held": []}},
        {"acks": {"key": None}},
    ],
    ids=["format-6-with-acks", "twice", "upper-hex", "bad-key", "no-held"],
)
def test_bad_held_acknowledgements_are_refused(change: dict[str, Any]) -> None:
    manifest = dataclasses.replace(COUNTED, unheld=(), acks=AckState(None, ()))
    with pytest.raises(FormatError):
        ExportManifest.from_json(_signed(manifest.to_json()) | change)


def test_a_restore_mark_makes_format_8_and_round_trips() -> None:
    acked = dataclasses.replace(COUNTED, unheld=(), acks=AckState(None, ()))
    for restore in (RestoreState(0, None), RestoreState(2, "e" * 32)):
        obj = _signed(dataclasses.replace(acked, restore=restore).to_json())
        assert obj["format"] == 8
        assert ExportManifest.from_json(obj).restore == restore
    assert _signed(acked.to_json())["format"] == 7
    assert ExportManifest.from_json(_signed(acked.to_json())).restore is None


@pytest.mark.parametrize(
    "change",
    [
        {"format": 7},
        {"restore": {"count": 1, "epoch": None}},
        {"restore": {"count": 0, "epoch": "e" * 32}},
        {"restore": {"count": -1, "epoch": None}},
        {"restore": {"count": 1, "epoch": "E" * 32}},
        {"restore": {"count": True, "epoch": "e" * 32}},
        {"restore": {"count": 1}},
    ],
    ids=["format-7-with-restore", "no-id", "id-unrestored", "negative", "upper", "bool", "short"],
)
def test_bad_restore_marks_are_refused(change: dict[str, Any]) -> None:
    manifest = dataclasses.replace(
        COUNTED, unheld=(), acks=AckState(None, ()), restore=RestoreState(1, "e" * 32)
    )
    with pytest.raises(FormatError):
        ExportManifest.from_json(_signed(manifest.to_json()) | change)


def _sealed(workspace: SigningKey, earlier: tuple[SigningKey, ...] = ()) -> ReplyManifest:
    plain = _replies()
    seal = AckSeal.make(plain.bundle_id, INSTANCE, plain.acks, workspace, earlier)
    return dataclasses.replace(plain, seal=seal)


def test_a_sealed_reply_bundle_is_format_4_and_round_trips() -> None:
    key, workspace, earlier = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    manifest = _sealed(workspace, (earlier, workspace))
    assert [h.key for h in (manifest.seal.handovers if manifest.seal else ())] == [
        earlier.verify_key
    ]
    out = io.BytesIO()
    write_replies(out, manifest, [], key)
    reader, read = read_replies(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert reader.manifest["format"] == 4
    assert reader.manifest["voids"] == []
    assert read == manifest


@pytest.mark.parametrize(
    "change",
    [
        {"acks": ["d" * 32]},
        {"acks": []},
        {"bundle_id": "9" * 32},
    ],
    ids=["another-ack", "acks-removed", "another-bundle"],
)
def test_a_seal_that_does_not_cover_the_bundle_s_acknowledgements_is_refused(
    change: dict[str, Any],
) -> None:
    # A colleague cannot lift the workstation's seal off one bundle onto other acknowledgements.
    obj = dict(_sealed(SigningKey.generate()).to_json(), items=[], signer="x") | change
    with pytest.raises(VerificationError, match="seal"):
        ReplyManifest.from_json(obj)


def test_a_handover_not_signed_by_the_key_it_names_is_refused() -> None:
    obj = dict(_sealed(SigningKey.generate(), (SigningKey.generate(),)).to_json())
    obj["seal"]["handovers"][0]["key"] = SigningKey.generate().verify_key.to_text()
    with pytest.raises(VerificationError, match="seal"):
        ReplyManifest.from_json(dict(obj, items=[], signer="x"))


def test_a_format_3_reply_bundle_with_a_seal_is_refused() -> None:
    obj = dict(_sealed(SigningKey.generate()).to_json(), items=[], signer="x", format=3)
    with pytest.raises(FormatError):
        ReplyManifest.from_json(obj)


def _bound(
    signer: SigningKey, workspace: SigningKey, earlier: tuple[SigningKey, ...] = ()
) -> tuple[ReplyManifest, bytes]:
    """A reply bundle sealed whole (format 5), and its bytes."""
    plain = dataclasses.replace(
        _replies(ReplyEntry("d" * 32, "Source One")),
        notices=(Notice("Source One", "in-review", 3),),
        voids=(Void("e" * 32, ()),),
    )
    manifest = seal_replies(plain, [b"reply"], signer.verify_key, workspace, earlier)
    out = io.BytesIO()
    write_replies(out, manifest, [b"reply"], signer)
    return manifest, out.getvalue()


def test_a_reply_bundle_sealed_whole_is_format_5_and_round_trips() -> None:
    signer, workspace, earlier = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    manifest, data = _bound(signer, workspace, (earlier, workspace))
    assert manifest.seal is not None
    assert manifest.seal.binds_bundle
    assert [h.key for h in manifest.seal.handovers] == [earlier.verify_key]
    reader, read = read_replies(io.BytesIO(data), [signer.verify_key], INSTANCE)
    assert reader.manifest["format"] == 5
    assert read == manifest


@pytest.mark.parametrize(
    "change",
    [
        {"replies": [{"id": "f" * 32, "source": "Source One"}]},
        {"replies": [{"id": "d" * 32, "source": "Source Two"}]},
        {"items": [{"id": "d" * 32, "size": 5, "hash": "A" * 43}]},
        {"notices": [{"source": "Source One", "status": "closed", "seq": 3}]},
        {"notices": [{"source": "Source One", "status": "in-review", "seq": 9}]},
        {"voids": []},
        {"voids": [{"bundle": "9" * 32, "replies": []}]},
        {"created": "2026-01-04"},
        {"acks": []},
        {"bundle_id": "9" * 32},
        {"instance_id": "8" * 32},
        {"signer": SigningKey.generate().verify_key.to_text()},
        {"format": 4},
    ],
    ids=[
        "another-reply",
        "another-source",
        "another-envelope",
        "another-notice",
        "notice-renumbered",
        "void-removed",
        "void-added",
        "another-day",
        "acks-removed",
        "another-bundle",
        "another-instance",
        "another-signer",
        "format-4",
    ],
)
def test_a_seal_lifted_onto_any_other_part_of_a_bundle_is_refused(change: dict[str, Any]) -> None:
    # Whoever holds a reviewer's key file and the workstation's sealed bundle cannot
    # keep its seal over a trap reply, another notice, a void, or another server.
    signer = SigningKey.generate()
    _, data = _bound(signer, SigningKey.generate())
    reader, _ = read_replies(io.BytesIO(data), [signer.verify_key], INSTANCE)
    obj = dict(reader.manifest) | change
    if obj["items"][0]["id"] != obj["replies"][0]["id"]:  # the container lists it alike
        obj["items"] = [dict(obj["items"][0], id=obj["replies"][0]["id"])]
    with pytest.raises(VerificationError, match="seal"):
        ReplyManifest.from_json(obj)


def test_a_format_5_handover_not_signed_by_the_key_it_names_is_refused() -> None:
    signer = SigningKey.generate()
    _, data = _bound(signer, SigningKey.generate(), (SigningKey.generate(),))
    reader, _ = read_replies(io.BytesIO(data), [signer.verify_key], INSTANCE)
    obj = dict(reader.manifest)
    seal = dict(obj["seal"])
    seal["handovers"] = [dict(seal["handovers"][0], key=SigningKey.generate().verify_key.to_text())]
    with pytest.raises(VerificationError, match="seal"):
        ReplyManifest.from_json(obj | {"seal": seal})


def _confirming(workspace: SigningKey, imported: int, signer: SigningKey) -> ReplyManifest:
    """A reply bundle sealed whole, saying the exports through `imported` arrived."""
    return seal_replies(_replies(), [], signer.verify_key, workspace, imported=imported)


def test_a_reply_bundle_confirming_exports_is_format_5_and_round_trips() -> None:
    key = SigningKey.generate()
    manifest = _confirming(SigningKey.generate(), 7, key)
    out = io.BytesIO()
    write_replies(out, manifest, [], key)
    reader, read = read_replies(io.BytesIO(out.getvalue()), [key.verify_key], INSTANCE)
    assert (reader.manifest["format"], reader.manifest["imported"]) == (5, 7)
    assert read == manifest


@pytest.mark.parametrize(
    "change",
    [{"imported": 8}, {"imported": 0}, {"format": 4}],
    ids=["raised", "lowered", "downgraded"],
)
def test_exports_confirmed_outside_the_seal_are_refused(change: dict[str, Any]) -> None:
    # A courier cannot say a bundle they kept arrived, nor strip the word to format 4.
    signer = SigningKey.generate()
    body = dict(
        _confirming(SigningKey.generate(), 7, signer).to_json(),
        items=[],
        signer=signer.verify_key.to_text(),
    )
    assert ReplyManifest.from_json(body).imported == 7  # as sealed, it reads
    with pytest.raises((VerificationError, FormatError)):  # the seal, or fields 4 lacks
        ReplyManifest.from_json(body | change)


@pytest.mark.parametrize("imported", [-1, True, "7"])
def test_a_bad_count_of_exports_imported_is_refused(imported: Any) -> None:
    signer = SigningKey.generate()
    body = dict(
        _confirming(SigningKey.generate(), 7, signer).to_json(),
        items=[],
        signer=signer.verify_key.to_text(),
    )
    with pytest.raises((VerificationError, FormatError)):
        ReplyManifest.from_json(body | {"imported": imported})


def test_exports_are_confirmed_only_under_a_seal_over_the_whole_bundle() -> None:
    with pytest.raises(FormatError):
        dataclasses.replace(_replies(), imported=3)
    acks_only = AckSeal.make("a" * 32, INSTANCE, (), SigningKey.generate())  # format 4's seal
    with pytest.raises(FormatError):
        dataclasses.replace(_replies(), seal=acks_only, imported=3)


def _naming(restore: str | None, signer: SigningKey) -> dict[str, Any]:
    """A reply bundle's manifest sealed whole, naming the server's last restore it knew of."""
    manifest = seal_replies(
        _replies(),
        [],
        signer.verify_key,
        SigningKey.generate(),
        imported=3,
        restore=RestoreSeen(restore),
    )
    return dict(manifest.to_json(), items=[], signer=signer.verify_key.to_text())


@pytest.mark.parametrize("restore", [None, "c" * 32], ids=["none-yet", "one"])
def test_a_reply_bundle_naming_the_server_s_restore_is_format_6_and_round_trips(
    restore: str | None,
) -> None:
    body = _naming(restore, SigningKey.generate())
    assert (body["format"], body["restore"]) == (6, restore)
    read = ReplyManifest.from_json(body)
    assert read.restore == RestoreSeen(restore)
    assert read.imported == 3


@pytest.mark.parametrize(
    "change",
    [{"restore": "d" * 32}, {"restore": None}, {"format": 5}],
    ids=["another-restore", "none", "downgraded"],
)
def test_a_restore_named_outside_the_seal_is_refused(change: dict[str, Any]) -> None:
    # A carrier cannot make a bundle written before a restore name the one after it.
    body = _naming("c" * 32, SigningKey.generate())
    with pytest.raises((VerificationError, FormatError)):  # the seal, or fields 5 lacks
        ReplyManifest.from_json(body | change)


def test_a_reply_format_newer_than_this_reader_is_refused_as_such() -> None:
    body = _naming(None, SigningKey.generate())
    with pytest.raises(UnsupportedVersionError, match="format 7"):
        ReplyManifest.from_json(body | {"format": 7})
    with pytest.raises(FormatError):
        dataclasses.replace(_replies(), restore=RestoreSeen(None))  # only under a seal
