"""Export manifests: the chain fields of format 2, and format 1 still read without them."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from crypto import SigningKey
from crypto.bundle import BundleReader, write_bundle
from crypto.errors import FormatError, UnsupportedVersionError
from crypto.exchange import (
    CHAIN_START,
    ChainLink,
    ExportManifest,
    manifest_digest,
    read_export,
    write_export,
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


def test_an_unchained_manifest_is_format_1_and_reads_back_without_a_chain() -> None:
    obj = _manifest(None).to_json()
    assert obj["format"] == 1
    assert "sequence" not in obj
    assert ExportManifest.from_json(_signed(obj)).chain is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"format": 3}, UnsupportedVersionError),
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
    # Reply bundles are unpacked into the server's store (`app.services.exchange`).
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
