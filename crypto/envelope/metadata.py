"""The metadata record sealed inside every envelope, and the inner framing around it."""

from __future__ import annotations

import functools
import re
import struct
import unicodedata
from dataclasses import dataclass
from typing import Final

from crypto import constants as C
from crypto.binding import SourceBinding
from crypto.encoding import canonical_json, parse_json_object
from crypto.errors import FormatError
from crypto.fields import exact_object, integer, matching

_KIND: Final = re.compile(r"[a-z][a-z0-9-]{0,31}")
_CONTENT_TYPE: Final = re.compile(r"[!-~](?:[ -~]{0,125}[!-~])?")
_MAX_NAME_BYTES: Final = 255
_DIGEST: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class KeyringSeen:
    """The keyring a sealing device verified and sealed to: its version and digest.

    The reviewers compare it with the keyring of that version they installed, so a
    server that showed a source a keyring of its own (a fork) is seen (PROTOCOL §5.6.2).
    """

    version: int
    digest: bytes

    def __post_init__(self) -> None:
        if type(self.version) is not int or self.version < 1 or len(self.digest) != 32:
            raise FormatError("a keyring is named by its version and its 32-byte digest")

    def to_json(self) -> dict[str, object]:
        """The record's `keyring` object."""
        return {"digest": self.digest.hex(), "version": self.version}

    @classmethod
    def from_json(cls, value: object) -> KeyringSeen:
        """Parse the record's `keyring` object strictly."""
        obj = exact_object(value, {"digest", "version"}, "keyring")
        digest = matching(_DIGEST, obj["digest"], "keyring digest")
        return cls(integer(obj["version"], "keyring version"), bytes.fromhex(digest))


@dataclass(frozen=True, slots=True)
class Metadata:
    """What an envelope says about its content, visible only to its recipients.

    `kind` is what the item is (`message`, `file`, `reply`, …); `content_type`
    a MIME type; `filename` the original name of an uploaded file, if any;
    `source` the reply key a `raazdar-submit` device vouches for (`crypto.binding`),
    and `keyring` the keyring it verified and sealed to: fields present only when
    set, so records without them encode as they always did.
    """

    kind: str
    content_type: str = "application/octet-stream"
    filename: str | None = None
    source: SourceBinding | None = None
    keyring: KeyringSeen | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise FormatError("metadata kind must match [a-z][a-z0-9-]{0,31}")
        if not isinstance(self.content_type, str) or not _CONTENT_TYPE.fullmatch(self.content_type):
            raise FormatError("metadata content type must be 1-127 printable ASCII characters")
        if self.filename is not None:
            _check_filename(self.filename)

    def encode(self) -> bytes:
        """Return the record as canonical JSON."""
        if self.source is None and self.filename is None and self.keyring is None:
            return _encode_plain(self.kind, self.content_type)
        record: dict[str, object] = {
            "kind": self.kind,
            "name": self.filename,
            "type": self.content_type,
        }
        if self.source is not None:
            record["source"] = self.source.to_json()
        if self.keyring is not None:
            record["keyring"] = self.keyring.to_json()
        body = canonical_json(record)
        if len(body) > C.METADATA_MAX_BYTES:
            raise FormatError("metadata record too large")
        return body

    @classmethod
    def decode(cls, body: bytes) -> Metadata:
        """Parse a record, strictly: exact fields, canonical encoding.

        Records recur (every report of the browser form carries the same one): those
        that name no file and bind no source, a few kinds and types, are kept by their
        exact bytes once parsed, and the same immutable `Metadata` is returned for the
        same bytes. A file's name is never kept past its call (it is a source's words:
        a server seals uploads with it, and holds nothing of them after the request),
        and a record that is refused is not kept, so it is refused again each time.
        """
        if cls is not Metadata:
            return cls._decode(body)
        body = bytes(body)
        meta = _PARSED.get(body)
        if meta is None:
            meta = cls._decode(body)
            plain = meta.filename is None and meta.source is None and meta.keyring is None
            if plain and len(_PARSED) < _CACHED:
                _PARSED[body] = meta
        return meta

    @classmethod
    def _decode(cls, body: bytes) -> Metadata:
        obj = parse_json_object(body, max_bytes=C.METADATA_MAX_BYTES)
        if set(obj) - {"source", "keyring"} != {"kind", "name", "type"}:
            raise FormatError("metadata record has unexpected fields")
        kind, name, ctype = obj["kind"], obj["name"], obj["type"]
        if not isinstance(kind, str) or not isinstance(ctype, str):
            raise FormatError("metadata kind and type must be strings")
        if name is not None and not isinstance(name, str):
            raise FormatError("metadata name must be a string or null")
        source = SourceBinding.from_json(obj["source"]) if "source" in obj else None
        keyring = KeyringSeen.from_json(obj["keyring"]) if "keyring" in obj else None
        meta = cls(kind=kind, content_type=ctype, filename=name, source=source, keyring=keyring)
        if meta.encode() != body:
            raise FormatError("metadata record is not canonical")
        return meta


# Records without a file's name or a source binding, parsed (by their bytes) and encoded (by
# kind and type): the same few recur, and no more than this many are kept.
_CACHED: Final = 64
_PARSED: Final[dict[bytes, Metadata]] = {}


@functools.lru_cache(maxsize=_CACHED)
def _encode_plain(kind: str, content_type: str) -> bytes:
    """A record naming no file and binding no source, as canonical JSON."""
    body = canonical_json({"kind": kind, "name": None, "type": content_type})
    if len(body) > C.METADATA_MAX_BYTES:
        raise FormatError("metadata record too large")
    return body


def _check_filename(name: str) -> None:
    if not name or len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        raise FormatError(f"file name must be 1-{_MAX_NAME_BYTES} bytes")
    if any(ch in name for ch in "/\\") or name in {".", ".."}:
        raise FormatError("file name must not contain a path")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in name):
        raise FormatError("file name must not contain control or formatting characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FormatError("file name is not valid Unicode") from exc


def encode_trailer(record: bytes, length: int) -> bytes:
    """The trailer that ends every inner plaintext: record (`Metadata.encode`), u16 record
    length, u64 length."""
    return record + struct.pack(">HQ", len(record), length)


def decode_trailer_sizes(end: bytes) -> tuple[int, int]:
    """Read the record length and the content length from the trailer's last 10 bytes."""
    record_length, length = struct.unpack(">HQ", end)
    return int(record_length), int(length)
