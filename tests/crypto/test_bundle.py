"""Bundles: what is written reads back item by item, and every malformed or forged bundle fails.

A bundle crosses the air gap on a USB stick anyone may have handled; each test
below is a way to tamper with one, and the reader must refuse it before it
yields a byte the signer did not vouch for.
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import struct
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from crypto import constants as C
from crypto.bundle import BundleReader, extracted, hash_file, write_bundle
from crypto.encoding import b64encode, canonical_json
from crypto.errors import CryptoError, FormatError, UnsupportedVersionError, VerificationError
from crypto.keys import SigningKey, VerifyKey

SIGNER = SigningKey.generate()
TRUSTED = [SIGNER.verify_key]


def files(tmp_path: Path, *contents: bytes) -> list[tuple[str, Path]]:
    """Write each content to a file; return (item id, path) pairs."""
    pairs = []
    for index, content in enumerate(contents):
        path = tmp_path / f"f{index}"
        path.write_bytes(content)
        pairs.append((f"item-{index}", path))
    return pairs


def bundle(tmp_path: Path, *contents: bytes) -> bytes:
    """A well-formed bundle of `contents`, signed by SIGNER."""
    out = io.BytesIO()
    write_bundle(out, {"kind": "test"}, files(tmp_path, *contents), SIGNER)
    return out.getvalue()


def forged(manifest: dict[str, Any], payload: bytes = b"", signer: SigningKey = SIGNER) -> bytes:
    """A bundle of any manifest, validly signed: what a holder of a trusted key could write."""
    encoded = canonical_json(manifest)
    return (
        C.BUNDLE_VERSION_LINE
        + b"\n"
        + struct.pack(">I", len(encoded))
        + encoded
        + signer.sign(C.SIG_CONTEXT_BUNDLE, encoded)
        + payload
    )


def item(item_id: str = "a", size: int = 1, digest: bytes = bytes(32)) -> dict[str, Any]:
    return {"id": item_id, "size": size, "hash": b64encode(digest)}


def read_all(data: bytes) -> list[tuple[str, bytes]]:
    reader = BundleReader(io.BytesIO(data), TRUSTED)
    return [(entry.id, b"".join(blocks)) for entry, blocks in reader.iter_items()]


def test_a_bundle_reads_back_its_manifest_and_items(tmp_path: Path) -> None:
    data = bundle(tmp_path, b"first", b"", b"x" * 3000)
    reader = BundleReader(io.BytesIO(data), TRUSTED)
    assert reader.manifest["kind"] == "test"
    assert reader.signer == SIGNER.verify_key
    assert [(i.id, i.size) for i in reader.items] == [
        ("item-0", 5),
        ("item-1", 0),
        ("item-2", 3000),
    ]
    assert read_all(data) == [("item-0", b"first"), ("item-1", b""), ("item-2", b"x" * 3000)]


def test_items_given_as_bytes_make_the_very_bundle_their_files_make(tmp_path: Path) -> None:
    """The workstation unwraps reply envelopes in memory: the bundle must not differ by a byte."""
    contents = (b"first", b"", b"x" * (3 * 1024 * 1024 + 7))  # more than one copy block
    in_memory = io.BytesIO()
    write_bundle(
        in_memory, {"kind": "test"}, [(f"item-{i}", c) for i, c in enumerate(contents)], SIGNER
    )
    assert in_memory.getvalue() == bundle(tmp_path, *contents)
    assert hash_file(contents[0]) == hash_file(tmp_path / "f0")


@pytest.mark.parametrize("contents", [(), (b"",), (b"first", b"x" * (1024 * 1024 + 7))])
def test_the_size_told_before_the_first_byte_is_the_bundles_size(
    tmp_path: Path, contents: tuple[bytes, ...]
) -> None:
    """A download names its size before it streams: a size told wrong cuts it or pads it."""
    out, told = io.BytesIO(), []
    write_bundle(
        out,
        {"kind": "test"},
        files(tmp_path, *contents),
        SIGNER,
        on_size=lambda size: told.append((size, out.tell())),
    )
    assert told == [(len(out.getvalue()), 0)]


def test_hash_file_matches_what_the_manifest_lists(tmp_path: Path) -> None:
    data = bundle(tmp_path, b"first")
    listed = BundleReader(io.BytesIO(data), TRUSTED).items[0]
    assert hash_file(tmp_path / "f0") == (listed.size, listed.hash)


def test_extracted_unpacks_every_item_and_removes_them_afterwards(tmp_path: Path) -> None:
    data = bundle(tmp_path, b"one", b"two")
    with extracted(io.BytesIO(data), TRUSTED, parent=tmp_path) as (manifest, signer, paths):
        assert manifest["kind"] == "test"
        assert signer == SIGNER.verify_key
        assert {k: p.read_bytes() for k, p in paths.items()} == {"item-0": b"one", "item-1": b"two"}
        base = paths["item-0"].parent.parent
    assert not base.exists()


@pytest.mark.parametrize(
    ("data", "error", "says"),
    [
        (b"", FormatError, "not a Raazdar bundle"),
        (b"PK\x03\x04 a zip file\n", FormatError, "not a Raazdar bundle"),
        (C.BUNDLE_MAGIC_PREFIX + b"99\n", UnsupportedVersionError, "unsupported"),
        (C.BUNDLE_VERSION_LINE + b"\n\x00\x00", FormatError, "truncated"),
        (
            C.BUNDLE_VERSION_LINE + b"\n" + struct.pack(">I", C.BUNDLE_MAX_MANIFEST_BYTES + 1),
            FormatError,
            "too large",
        ),
        (C.BUNDLE_VERSION_LINE + b"\n" + struct.pack(">I", 10) + b"{}", FormatError, "truncated"),
    ],
    ids=["empty", "zip", "future-version", "short-length", "huge-manifest", "short-manifest"],
)
def test_a_malformed_head_is_refused(data: bytes, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says):
        BundleReader(io.BytesIO(data), TRUSTED)


def test_a_manifest_that_is_not_canonical_is_refused() -> None:
    encoded = b'{ "signer": "x" }'
    data = (
        C.BUNDLE_VERSION_LINE
        + b"\n"
        + struct.pack(">I", len(encoded))
        + encoded
        + SIGNER.sign(C.SIG_CONTEXT_BUNDLE, encoded)
    )
    with pytest.raises(FormatError, match="not canonical"):
        BundleReader(io.BytesIO(data), TRUSTED)


def test_a_manifest_naming_no_signer_is_refused() -> None:
    with pytest.raises(FormatError, match="no signer"):
        BundleReader(io.BytesIO(forged({"items": []})), TRUSTED)


def test_a_bundle_signed_by_an_untrusted_key_is_refused() -> None:
    stranger = SigningKey.generate()
    manifest = {"items": [], "signer": stranger.verify_key.to_text()}
    with pytest.raises(VerificationError, match="not trusted"):
        BundleReader(io.BytesIO(forged(manifest, signer=stranger)), TRUSTED)


def test_a_trusted_signer_named_over_a_strangers_signature_is_refused() -> None:
    stranger = SigningKey.generate()
    manifest = {"items": [], "signer": SIGNER.verify_key.to_text()}
    with pytest.raises(VerificationError):
        BundleReader(io.BytesIO(forged(manifest, signer=stranger)), TRUSTED)


def _refused_growth(data: bytes, trusted: list[VerifyKey], answer: Connection) -> None:
    """In a child: how the reader refuses `data`, and by how many bytes its peak memory grew."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        BundleReader(io.BytesIO(data), trusted)
        said = "read"
    except CryptoError as exc:
        said = f"{type(exc).__name__}: {exc}"
    answer.send((said, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024))


@pytest.mark.parametrize("named", ["a stranger", "the trusted key"])
def test_a_large_manifest_no_trusted_key_signed_is_refused_before_it_is_parsed(
    named: str,
) -> None:
    """Attack: whoever carries a stick (or uploads a reply bundle to the staff pages) writes
    a manifest of up to 64 MiB and signs nothing: it was parsed and written out again whole
    before its signature was looked at, and a manifest of empty objects, 3 bytes each in
    the file, took some 30 times its size in memory (64 MiB: 38 s and 1.9 GB, on the
    server for each upload, or on the review workstation) only to be refused."""
    stranger = SigningKey.generate()
    signer = stranger if named == "a stranger" else SIGNER
    padding = b"{}," * (8 * 1024 * 1024 // 3)
    encoded = b'{"items":[],"padding":[' + padding + b'{}],"signer":"'
    encoded += signer.verify_key.to_text().encode() + b'"}'
    data = (
        C.BUNDLE_VERSION_LINE
        + b"\n"
        + struct.pack(">I", len(encoded))
        + encoded
        + stranger.sign(C.SIG_CONTEXT_BUNDLE, encoded)
    )
    mine, theirs = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_refused_growth, args=(data, TRUSTED, theirs)
    )
    child.start()
    ready = mine.poll(60)
    said, grown = mine.recv() if ready else ("still reading after 60 s", -1)
    child.join(5)
    assert 0 <= grown < 48 * 1024 * 1024, (
        f"refusing {len(encoded) >> 20} MiB no trusted key signed grew the reader's memory"
        f" by {grown >> 20} MiB ({said})"
    )
    rule = "not trusted" if named == "a stranger" else "does not verify"
    assert said.startswith("VerificationError"), said
    assert rule in said


def test_a_manifest_changed_after_signing_is_refused(tmp_path: Path) -> None:
    data = bytearray(bundle(tmp_path, b"pay 100"))
    at = data.index(b'"kind":"test"') + len('"kind":"t')
    data[at] = ord("x")
    with pytest.raises(VerificationError):
        BundleReader(io.BytesIO(bytes(data)), TRUSTED)


@pytest.mark.parametrize(
    ("items", "says"),
    [
        (None, "must be a list"),
        ({"a": 1}, "must be a list"),
        (["a"], "id, size and hash"),
        ([{"id": "a", "size": 1}], "id, size and hash"),
        ([{**item(), "extra": 1}], "id, size and hash"),
        ([item(item_id="")], "unique strings"),
        ([{**item(), "id": 7}], "unique strings"),
        ([item(), item()], "unique strings"),
        ([item(size=-1)], "out of range"),
        ([item(size=C.BUNDLE_MAX_ITEM_BYTES + 1)], "out of range"),
        ([{**item(), "size": True}], "out of range"),
        ([{**item(), "hash": 5}], "must be a string"),
        ([{**item(), "size": "1"}], "out of range"),
        ([item(digest=bytes(31))], "expected 32 bytes"),
    ],
)
def test_a_signed_manifest_with_bad_items_is_refused(items: Any, says: str) -> None:
    manifest = {"signer": SIGNER.verify_key.to_text()}
    if items is not None:
        manifest["items"] = items
    with pytest.raises(FormatError, match=says):
        BundleReader(io.BytesIO(forged(manifest)), TRUSTED)


def test_an_item_that_does_not_match_its_hash_is_refused() -> None:
    manifest = {"items": [item(size=3)], "signer": SIGNER.verify_key.to_text()}
    with pytest.raises(VerificationError, match="does not match its hash"):
        read_all(forged(manifest, b"abc"))


@pytest.mark.parametrize("cut", [1, 10])
def test_a_truncated_item_is_refused(tmp_path: Path, cut: int) -> None:
    data = bundle(tmp_path, b"0123456789")
    with pytest.raises(FormatError, match="truncated"):
        read_all(data[:-cut])


def test_bytes_after_the_last_item_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="bytes follow"):
        read_all(bundle(tmp_path, b"abc") + b"!")


def test_a_failed_extraction_leaves_no_items_behind(tmp_path: Path) -> None:
    data = bundle(tmp_path, b"good", b"also good")[:-1]
    target = tmp_path / "out"
    with pytest.raises(FormatError):
        BundleReader(io.BytesIO(data), TRUSTED).extract(target)
    assert not target.exists()


@pytest.mark.parametrize("key", ["items", "signer"])
def test_the_writer_sets_items_and_signer_itself(tmp_path: Path, key: str) -> None:
    with pytest.raises(FormatError, match="sets items and signer"):
        write_bundle(io.BytesIO(), {key: []}, files(tmp_path, b"x"), SIGNER)


def test_the_writer_refuses_a_manifest_too_large_to_read_back(tmp_path: Path) -> None:
    manifest = {"padding": "x" * C.BUNDLE_MAX_MANIFEST_BYTES}
    with pytest.raises(FormatError, match="too large"):
        write_bundle(io.BytesIO(), manifest, [], SIGNER)


def test_a_file_changed_while_the_bundle_is_written_fails_loudly(tmp_path: Path) -> None:
    pairs = files(tmp_path, b"before")

    class Changing(io.BytesIO):
        """The destination; the source file changes once the signature is written."""

        def write(self, data: Any) -> int:
            if len(data) == C.SIGNATURE_BYTES:
                pairs[0][1].write_bytes(b"after!")
            return super().write(data)

    with pytest.raises(FormatError, match="changed while the bundle was written"):
        write_bundle(Changing(), {}, pairs, SIGNER)


def _with_manifest(encoded: bytes, signer: SigningKey) -> bytes:
    """A bundle whose manifest is `encoded` as it stands, signed by `signer`."""
    return (
        C.BUNDLE_VERSION_LINE
        + b"\n"
        + struct.pack(">I", len(encoded))
        + encoded
        + signer.sign(C.SIG_CONTEXT_BUNDLE, encoded)
    )


def test_a_manifest_a_trusted_key_signed_naming_another_key_is_refused() -> None:
    other = SigningKey.generate()
    manifest = {"items": [], "signer": other.verify_key.to_text()}
    with pytest.raises(VerificationError, match="does not name"):
        BundleReader(io.BytesIO(forged(manifest)), [*TRUSTED, other.verify_key])


def test_an_unsigned_manifest_not_canonical_is_refused_as_such() -> None:
    encoded = b'{ "items": [], "signer": "%s" }' % SIGNER.verify_key.to_text().encode()
    with pytest.raises(FormatError, match="not canonical"):
        BundleReader(io.BytesIO(_with_manifest(encoded, SigningKey.generate())), TRUSTED)


@pytest.mark.parametrize("named", ["a stranger", "the trusted key"])
def test_a_manifest_too_large_to_parse_unsigned_says_which_signature_failed(named: str) -> None:
    """Past 256 KiB an unsigned manifest is not parsed: naming a trusted key, it is refused
    as a signature that does not verify; naming none, as a key not trusted."""
    stranger = SigningKey.generate()
    signer = stranger if named == "a stranger" else SIGNER
    encoded = b'{"items":[],"padding":"' + b"x" * (300 * 1024) + b'","signer":"'
    encoded += signer.verify_key.to_text().encode() + b'"}'
    with pytest.raises(VerificationError, match="not trusted" if signer is stranger else "verify"):
        BundleReader(io.BytesIO(_with_manifest(encoded, stranger)), TRUSTED)
