"""Bundles: a signed manifest and the files it lists, carried by USB between the zones.

Layout: a version line; a 4-byte big-endian length and the manifest (canonical
JSON, listing each item's size and BLAKE2b hash in order); a 64-byte Ed25519
signature over the manifest; then the items, back to back, and nothing after.
The signature is checked before anything else is read, and each item's hash as
it streams, so a reader never trusts a byte the signer did not vouch for, and
memory use does not grow with the bundle.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b_hasher, canonical_json, parse_json_object
from crypto.errors import FormatError, UnsupportedVersionError, VerificationError
from crypto.keys import SigningKey, VerifyKey

_COPY_BLOCK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleItem:
    """One file of a bundle as its manifest lists it."""

    id: str
    size: int
    hash: bytes


# What an item's bytes are taken from: a file, or bytes already in memory (a reply
# the workstation keeps wrapped, unwrapped for the bundle and never written out).
ItemData = Path | bytes


def hash_file(path: ItemData) -> tuple[int, bytes]:
    """Return a file's (or bytes') size and BLAKE2b-256 item hash, reading it once."""
    with _open(path) as src:
        return hash_stream(src)


def hash_stream(src: BinaryIO) -> tuple[int, bytes]:
    """Return the size and BLAKE2b-256 item hash of what `src` reads to its end."""
    hasher = blake2b_hasher(person=C.PERSON_BUNDLE_ITEM)
    size = 0
    while block := src.read(_COPY_BLOCK):
        hasher.update(block)
        size += len(block)
    return size, hasher.digest()


def _open(data: ItemData) -> BinaryIO:
    return io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb")


def bundle_body(
    manifest: dict[str, Any], files: Sequence[tuple[str, ItemData]], signer: VerifyKey
) -> dict[str, Any]:
    """The manifest as `write_bundle` signs it: `items` (id, size, hash) and `signer` added."""
    if "items" in manifest or "signer" in manifest:
        raise FormatError("the bundle writer sets items and signer itself")
    items = []
    for item_id, path in files:
        size, digest = hash_file(path)
        items.append({"id": item_id, "size": size, "hash": b64encode(digest)})
    return dict(manifest, items=items, signer=signer.to_text())


def write_bundle(
    dst: BinaryIO,
    manifest: dict[str, Any],
    files: Sequence[tuple[str, ItemData]],
    signer: SigningKey,
    on_size: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write a bundle: `manifest` gains `items` (id, size, hash) and the signer's key.

    Each file is read twice (hashed, then copied) so nothing is held in memory;
    a file that changes between the two reads makes the copy fail loudly. An
    item given as bytes is written as it is. `on_size` is told the bundle's whole
    size before its first byte is written (a download names it before it streams).
    """
    body = bundle_body(manifest, files, signer.verify_key)
    items = body["items"]
    encoded = canonical_json(body)
    if len(encoded) > C.BUNDLE_MAX_MANIFEST_BYTES:
        raise FormatError("bundle manifest too large")
    if on_size is not None:
        head = len(C.BUNDLE_VERSION_LINE) + 1 + 4 + len(encoded) + C.SIGNATURE_BYTES
        on_size(head + sum(item["size"] for item in items))
    dst.write(C.BUNDLE_VERSION_LINE + b"\n")
    dst.write(struct.pack(">I", len(encoded)) + encoded)
    dst.write(signer.sign(C.SIG_CONTEXT_BUNDLE, encoded))
    for (_item_id, path), item in zip(files, items, strict=True):
        hasher = blake2b_hasher(person=C.PERSON_BUNDLE_ITEM)
        with _open(path) as src:
            while block := src.read(_COPY_BLOCK):
                hasher.update(block)
                dst.write(block)
        if b64encode(hasher.digest()) != item["hash"]:
            raise FormatError(f"item {item['id']} changed while the bundle was written")
    return body


class BundleReader:
    """Read a bundle: signature first, then each item with its hash checked."""

    def __init__(self, src: BinaryIO, trusted: Collection[VerifyKey]) -> None:
        self._src = src
        version = src.readline(64)
        if version != C.BUNDLE_VERSION_LINE + b"\n":
            if version.startswith(C.BUNDLE_MAGIC_PREFIX):
                raise UnsupportedVersionError("unsupported bundle version")
            raise FormatError("not a Raazdar bundle")
        head = _exact(src, 4)
        (length,) = struct.unpack(">I", head)
        if length > C.BUNDLE_MAX_MANIFEST_BYTES:
            raise FormatError("bundle manifest too large")
        encoded = _exact(src, length)
        signature = _exact(src, C.SIGNATURE_BYTES)
        # The signature before the manifest is parsed: anyone may write a manifest, and
        # parsing one takes some 30 times its size in memory (64 MiB: 1.9 GB and 38 s).
        signer = _signed_by(encoded, signature, trusted)
        manifest = parse_json_object(encoded, max_bytes=C.BUNDLE_MAX_MANIFEST_BYTES)
        if canonical_json(manifest) != encoded:
            raise FormatError("bundle manifest is not canonical")
        if _named_signer(manifest) != signer:
            raise VerificationError("signer", "bundle is signed by a key it does not name")
        self.manifest = manifest
        self.signer = signer
        self.items = _parse_items(manifest.get("items"))

    def iter_items(self) -> Iterator[tuple[BundleItem, Iterator[bytes]]]:
        """Yield each item with an iterator over its bytes; the hash is checked at its end."""
        for item in self.items:
            yield item, self._item_blocks(item)
        if self._src.read(1):
            raise FormatError("bytes follow the last bundle item")

    def _item_blocks(self, item: BundleItem) -> Iterator[bytes]:
        hasher = blake2b_hasher(person=C.PERSON_BUNDLE_ITEM)
        remaining = item.size
        while remaining:
            block = self._src.read(min(_COPY_BLOCK, remaining))
            if not block:
                raise FormatError("bundle is truncated")
            hasher.update(block)
            remaining -= len(block)
            yield block
        if hasher.digest() != item.hash:
            raise VerificationError("hash", f"item {item.id} does not match its hash")

    def extract(self, directory: Path) -> dict[str, Path]:
        """Copy every item into a fresh directory; all of them, verified, or none.

        Returns item id to path. On any failure the directory is removed.
        """
        directory.mkdir(mode=0o700)
        paths: dict[str, Path] = {}
        try:
            for index, (item, blocks) in enumerate(self.iter_items()):
                path = directory / f"{index:06d}.item"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    for block in blocks:
                        out.write(block)
                paths[item.id] = path
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return paths


@contextlib.contextmanager
def extracted(
    src: BinaryIO, trusted: Collection[VerifyKey], parent: Path | None = None
) -> Iterator[tuple[dict[str, Any], VerifyKey, dict[str, Path]]]:
    """Verify and unpack a bundle into a temporary directory, removed afterwards."""
    reader = BundleReader(src, trusted)
    base = Path(tempfile.mkdtemp(prefix="rz-bundle-", dir=parent))
    try:
        paths = reader.extract(base / "items")
        yield reader.manifest, reader.signer, paths
    finally:
        shutil.rmtree(base, ignore_errors=True)


# A manifest no trusted key signed is parsed, to say what is wrong with it, only when this
# small (a damaged bundle's is as large as the real one's: a few kilobytes a hundred items).
_UNSIGNED_PARSED = 256 * 1024


def _signed_by(encoded: bytes, signature: bytes, trusted: Collection[VerifyKey]) -> VerifyKey:
    """The trusted key whose signature over the manifest verifies; else why none does."""
    for key in trusted:
        try:
            key.verify(C.SIG_CONTEXT_BUNDLE, encoded, signature)
        except VerificationError:
            continue
        return key
    if len(encoded) <= _UNSIGNED_PARSED:
        manifest = parse_json_object(encoded, max_bytes=_UNSIGNED_PARSED)
        if canonical_json(manifest) != encoded:
            raise FormatError("bundle manifest is not canonical")
        named = _named_signer(manifest) in trusted
    else:
        # Not parsed: a trusted key named anywhere in it is enough to say the signature failed.
        named = any(b'"signer":"%s"' % key.to_text().encode() in encoded for key in trusted)
    if not named:
        raise VerificationError("signer", "bundle is signed by a key that is not trusted")
    raise VerificationError("signature", "signature does not verify")


def _named_signer(manifest: dict[str, Any]) -> VerifyKey:
    signer_text = manifest.get("signer")
    if not isinstance(signer_text, str):
        raise FormatError("bundle manifest names no signer")
    return VerifyKey.from_text(signer_text)


def _exact(src: BinaryIO, size: int) -> bytes:
    data = src.read(size)
    if len(data) != size:
        raise FormatError("bundle is truncated")
    return data


def _parse_items(value: Any) -> tuple[BundleItem, ...]:
    if not isinstance(value, list):
        raise FormatError("bundle items must be a list")
    items = []
    seen = set()
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"id", "size", "hash"}:
            raise FormatError("bundle item must have id, size and hash")
        item_id, size, digest = entry["id"], entry["size"], entry["hash"]
        if not isinstance(item_id, str) or not item_id or item_id in seen:
            raise FormatError("bundle item ids must be unique strings")
        if type(size) is not int or not (0 <= size <= C.BUNDLE_MAX_ITEM_BYTES):
            raise FormatError("bundle item size out of range")
        if not isinstance(digest, str):
            raise FormatError("bundle item hash must be a string")
        seen.add(item_id)
        items.append(BundleItem(item_id, size, b64decode(digest, length=32)))
    return tuple(items)
