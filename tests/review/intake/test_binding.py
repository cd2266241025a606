"""Source bindings at import: a server cannot give a raazdar-submit source another reply key."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import (
    KdfParams,
    KeyFile,
    Metadata,
    PrivateKey,
    PublicKey,
    SigningKey,
    derive_source_keys,
    generate_codename,
    seal_bytes,
)
from crypto.binding import SourceBinding
from crypto.bundle import BundleReader
from crypto.exchange import (
    CHAIN_START,
    ChainLink,
    ExportEntry,
    ExportManifest,
    manifest_digest,
    write_export,
)
from review import workspace as ws
from review.casework.replies import queue_reply
from review.casework.triage import Filters, list_reports
from review.errors import ImportRefused, ReviewError
from review.intake.importer import import_bundle
from tests.review.support import Server

DESIGNATION = "Quiet Heron"
REPORT = "application/vnd.raazdar.report+json; version=1"
RECORD = b'{"fields":{},"format":1,"language":"en","message":"the SHO took money"}'


def _bundle(
    server: Server,
    tmp_path: Path,
    key_in_bundle: PublicKey,
    binding: SourceBinding | None,
    *,
    sequence: int = 1,
    previous: bytes = CHAIN_START,
    records: tuple[tuple[bytes, SourceBinding | None], ...] = (),
    designation: str = DESIGNATION,
) -> Path:
    """An export bundle signed with the server's key: one submission's reports, sealed on a device.

    By default one report with `binding`; `records` gives (record, binding) for each report.
    """
    pair = KeyFile.from_bytes(server.reviewer_key_file.read_bytes()).unlock(DEMO_PASSPHRASE)
    assert pair.encryption is not None
    items, entries = [], []
    submission = secrets.token_hex(16)
    for record, bound in records or ((RECORD, binding),):
        envelope = seal_bytes(
            record, [pair.encryption.public_key], Metadata("report", REPORT, source=bound)
        )
        item = tmp_path / f"{secrets.token_hex(4)}.rze"
        item.write_bytes(envelope)
        items.append(item)
        entries.append(
            ExportEntry(secrets.token_hex(16), submission, designation, "report", dt.date.today())
        )
    manifest = ExportManifest(
        secrets.token_hex(16),
        server.instance_id,
        dt.date.today(),
        1,
        tuple(entries),
        {designation: key_in_bundle},
        ChainLink(sequence, previous),
    )
    out = tmp_path / f"export-{secrets.token_hex(4)}.rzb"
    signer = SigningKey.from_text(server.paths.signing_key.read_text())
    with out.open("wb") as dst:
        write_export(dst, manifest, items, signer)
    return out


def _device() -> tuple[PublicKey, SourceBinding]:
    keys = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
    return keys.public_key, SourceBinding.make(keys.public_key, keys.signing_key)


def test_an_export_that_swaps_a_submit_sources_reply_key_gets_no_reply_to_it(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # The attack: a compromised server exports the report with a key of its own,
    # so that reviewers' replies are sealed to it. Before, the workstation took it.
    _, binding = _device()
    attacker = PrivateKey.generate().public_key
    summary = import_bundle(unlocked, _bundle(server, tmp_path, attacker, binding))
    (dispute,) = summary.disputes
    assert "sealed into the report by their device" in dispute.message()
    assert "compromised" in dispute.message()
    assert len(list_reports(unlocked, Filters(include_closed=True))) == 1
    with pytest.raises(ReviewError, match="disputed"):
        queue_reply(unlocked, 1, "To whom?", allow_codename_key=True)
    assert unlocked.conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)


def test_an_export_that_agrees_with_the_device_is_filed(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    reply_key, binding = _device()
    summary = import_bundle(unlocked, _bundle(server, tmp_path, reply_key, binding))
    assert (summary.filed, summary.problems) == (1, [])


def test_a_binding_signed_by_another_key_gets_no_reply(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    reply_key, binding = _device()
    forged = SourceBinding(reply_key, SigningKey.generate().verify_key, binding.signature)
    summary = import_bundle(unlocked, _bundle(server, tmp_path, reply_key, forged))
    (dispute,) = summary.disputes
    assert "not signed by its source" in dispute.message()
    with pytest.raises(ReviewError, match="disputed"):
        queue_reply(unlocked, 1, "To whom?", allow_codename_key=True)


def test_a_later_bundle_cannot_change_a_known_sources_key(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # Holds for browser-form sources too (no binding): the first key stays theirs.
    first = _bundle(server, tmp_path, PrivateKey.generate().public_key, None)
    import_bundle(unlocked, first)

    server_key = SigningKey.from_text(server.paths.signing_key.read_text()).verify_key
    with first.open("rb") as src:
        digest = manifest_digest(BundleReader(src, [server_key]).manifest)
    second = _bundle(
        server, tmp_path, PrivateKey.generate().public_key, None, sequence=2, previous=digest
    )
    with pytest.raises(ImportRefused, match="other than the one an earlier bundle gave them"):
        import_bundle(unlocked, second)
