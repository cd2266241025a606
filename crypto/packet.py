"""Escalation packets: content sealed to an oversight body, signed by reviewers.

A packet is a version line, the signatures, and an envelope (§5) sealed to the
body's X25519 key. Each signature is over a digest of the exact envelope bytes,
so anyone can check who signed without decrypting, a countersignature can be
added without decrypting, and a packet re-sealed to anyone else carries no
valid signature. The content names its author, the number of countersignatures
it needs and the body it is for, so a signature stripped in transit, or a
packet opened by the wrong body, is refused. The two-person rule is the
opener's: it counts distinct people (several keys of one person are one), and a
packet declaring fewer countersignatures than the opener's policy is refused.
`open_packet` returns nothing until every check has passed. docs/PROTOCOL.md §17
specifies the format.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b, canonical_json, parse_json_object
from crypto.envelope import Metadata, open_bytes, read_header, seal_bytes
from crypto.errors import FormatError, UnsupportedVersionError, VerificationError
from crypto.fields import date, exact_object, integer, list_of, matching, string
from crypto.keys import PrivateKey, PublicKey, SigningKey, VerifyKey

_PACKET_ID: Final = re.compile(r"[0-9a-f]{32}")
_FILE_NAME: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]|\.(?!\.)){0,63}")
_CONTENT_TYPE: Final = re.compile(r"[!-~](?:[ -~]{0,125}[!-~])?")
_SIGNATURE_ENTRY: Final = C.KEY_BYTES + C.SIGNATURE_BYTES
_INDEX_FIELDS: Final = frozenset(
    {
        "type",
        "format",
        "packet",
        "created",
        "recipient",
        "author",
        "countersignatures",
        "document",
        "files",
    }
)
_METADATA: Final = Metadata(C.PACKET_METADATA_KIND, C.PACKET_METADATA_TYPE)


@dataclass(frozen=True, slots=True)
class PacketFile:
    """One file carried in a packet, under a name chosen by its writer (never the original)."""

    name: str
    content_type: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        matching(_FILE_NAME, self.name, "packet file name")
        matching(_CONTENT_TYPE, self.content_type, "packet file type")

    @property
    def hash(self) -> bytes:
        """BLAKE2b-256 of the file's bytes, for recipients to cite."""
        return file_hash(self.data)


@dataclass(frozen=True, slots=True)
class PacketContent:
    """What a packet says: who wrote it, for whom, a JSON document and files."""

    packet_id: str
    created: dt.date
    recipient: PublicKey
    author: VerifyKey
    countersignatures: int
    document: dict[str, Any]
    files: tuple[PacketFile, ...] = ()

    def __post_init__(self) -> None:
        matching(_PACKET_ID, self.packet_id, "packet id")
        if not 0 <= self.countersignatures < C.PACKET_MAX_SIGNATURES:
            raise FormatError("countersignatures out of range")
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise FormatError("two packet files have the same name")

    def index(self) -> dict[str, Any]:
        """The index record: every field, and each file's name, type, size and hash."""
        return {
            "type": C.PACKET_CONTENT_TYPE,
            "format": C.PACKET_FORMAT,
            "packet": self.packet_id,
            "created": self.created.isoformat(),
            "recipient": self.recipient.to_text(),
            "author": self.author.to_text(),
            "countersignatures": self.countersignatures,
            "document": self.document,
            "files": [
                {
                    "name": f.name,
                    "type": f.content_type,
                    "size": len(f.data),
                    "hash": b64encode(f.hash),
                }
                for f in self.files
            ],
        }

    def encode(self) -> bytes:
        """The inner plaintext: u32be(n), the canonical index, then each file's bytes."""
        index = canonical_json(self.index())
        if len(index) > C.PACKET_MAX_INDEX_BYTES:
            raise FormatError("packet index too large")
        return b"".join([struct.pack(">I", len(index)), index, *(f.data for f in self.files)])

    @classmethod
    def decode(cls, data: bytes) -> PacketContent:
        """Parse an inner plaintext strictly: canonical index, exact sizes and hashes."""
        if len(data) < 4:
            raise FormatError("packet content is truncated")
        (length,) = struct.unpack(">I", data[:4])
        if length > C.PACKET_MAX_INDEX_BYTES or 4 + length > len(data):
            raise FormatError("packet index length out of range")
        raw = data[4 : 4 + length]
        obj = parse_json_object(raw, max_bytes=C.PACKET_MAX_INDEX_BYTES)
        if obj.get("type") != C.PACKET_CONTENT_TYPE:
            raise FormatError("not a packet index")
        if type(obj.get("format")) is not int or obj.get("format") != C.PACKET_FORMAT:
            raise UnsupportedVersionError(f"unsupported packet format {obj.get('format')!r}")
        if set(obj) != _INDEX_FIELDS:
            raise FormatError("packet index has missing or unexpected fields")
        if canonical_json(obj) != raw:
            raise FormatError("packet index is not canonical")
        if not isinstance(obj["document"], dict):
            raise FormatError("packet document must be an object")
        files = []
        offset = 4 + length
        for entry in list_of(obj["files"], "files"):
            fields = exact_object(entry, {"name", "type", "size", "hash"}, "packet file")
            size = integer(fields["size"], "size")
            if size < 0 or offset + size > len(data):
                raise FormatError("packet file size out of range")
            item = PacketFile(
                string(fields["name"], "name"),
                string(fields["type"], "type"),
                data[offset : offset + size],
            )
            if item.hash != b64decode(string(fields["hash"], "hash"), length=32):
                raise FormatError(f"packet file {item.name} does not match its hash")
            files.append(item)
            offset += size
        if offset != len(data):
            raise FormatError("bytes follow the last packet file")
        return cls(
            packet_id=matching(_PACKET_ID, obj["packet"], "packet id"),
            created=date(obj["created"], "created"),
            recipient=PublicKey.from_text(string(obj["recipient"], "recipient")),
            author=VerifyKey.from_text(string(obj["author"], "author")),
            countersignatures=integer(obj["countersignatures"], "countersignatures"),
            document=obj["document"],
            files=tuple(files),
        )


@dataclass(frozen=True, slots=True)
class Signature:
    """One reviewer's signature over a packet's envelope digest."""

    key: VerifyKey
    signature: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SealedPacket:
    """A packet as carried: its envelope and the signatures, author's first.

    `from_bytes` verifies every signature; nothing is decrypted here.
    """

    envelope: bytes = field(repr=False)
    signatures: tuple[Signature, ...]

    @property
    def digest(self) -> bytes:
        """What every signature is over: BLAKE2b-512 of the exact envelope bytes."""
        return packet_digest(self.envelope)

    @property
    def signers(self) -> tuple[VerifyKey, ...]:
        """The signing keys, author first."""
        return tuple(s.key for s in self.signatures)

    def countersign(self, key: SigningKey) -> SealedPacket:
        """Add a signature by another key (the packet's content is not read)."""
        if key.verify_key in self.signers:
            raise FormatError("this key has already signed the packet")
        if len(self.signatures) >= C.PACKET_MAX_SIGNATURES:
            raise FormatError("a packet has at most 16 signatures")
        signature = Signature(key.verify_key, key.sign(C.SIG_CONTEXT_PACKET, self.digest))
        return SealedPacket(self.envelope, (*self.signatures, signature))

    def to_bytes(self) -> bytes:
        """Serialise: version line, u8 count, (key, signature) pairs, envelope."""
        if not 1 <= len(self.signatures) <= C.PACKET_MAX_SIGNATURES:
            raise FormatError("a packet has 1-16 signatures")
        parts = [C.PACKET_VERSION_LINE + b"\n", bytes([len(self.signatures)])]
        parts += [s.key.raw + s.signature for s in self.signatures]
        return b"".join([*parts, self.envelope])

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedPacket:
        """Parse the frame and verify every signature over the envelope's digest."""
        if len(data) > C.PACKET_MAX_BYTES:
            raise FormatError("packet too large")
        line = C.PACKET_VERSION_LINE + b"\n"
        if not data.startswith(line):
            if data.startswith(C.PACKET_MAGIC_PREFIX):
                raise UnsupportedVersionError("unsupported packet version")
            raise FormatError("not a Raazdar escalation packet")
        pos = len(line)
        if len(data) <= pos:
            raise FormatError("packet is truncated")
        count = data[pos]
        pos += 1
        if not 1 <= count <= C.PACKET_MAX_SIGNATURES:
            raise FormatError("a packet has 1-16 signatures")
        if len(data) < pos + count * _SIGNATURE_ENTRY:
            raise FormatError("packet is truncated")
        signatures = []
        for _ in range(count):
            key = VerifyKey(data[pos : pos + C.KEY_BYTES])
            sig = data[pos + C.KEY_BYTES : pos + _SIGNATURE_ENTRY]
            signatures.append(Signature(key, sig))
            pos += _SIGNATURE_ENTRY
        if len({s.key for s in signatures}) != count:
            raise FormatError("a key signs a packet at most once")
        packet = cls(data[pos:], tuple(signatures))
        digest = packet.digest
        for s in signatures:
            s.key.verify(C.SIG_CONTEXT_PACKET, digest, s.signature)
        return packet


@dataclass(frozen=True, slots=True)
class OpenedPacket:
    """A packet that verified and opened: its content and who signed it."""

    content: PacketContent
    signers: tuple[VerifyKey, ...]
    people: tuple[str, ...] = ()  # who signed, author first, each person once

    @property
    def author(self) -> VerifyKey:
        """The reviewer who wrote the packet."""
        return self.signers[0]

    @property
    def countersigners(self) -> tuple[VerifyKey, ...]:
        """The reviewers who countersigned it."""
        return self.signers[1:]


def packet_digest(envelope: bytes) -> bytes:
    """BLAKE2b-512(person="rz-packet-v1", envelope): what packet signatures are over."""
    return blake2b(envelope, person=C.PERSON_PACKET_DIGEST, size=64)


def file_hash(data: bytes) -> bytes:
    """BLAKE2b-256(person="rz-packet-file1", data): a packet file's hash."""
    return blake2b(data, person=C.PERSON_PACKET_FILE, size=32)


def seal_packet(
    content: PacketContent, author: SigningKey, *, also: Iterable[PublicKey] = ()
) -> SealedPacket:
    """Seal `content` to its recipient (and `also`, e.g. the sender's own key) and sign it."""
    if author.verify_key != content.author:
        raise FormatError("the packet must be signed by the author it names")
    envelope = seal_bytes(content.encode(), [content.recipient, *also], _METADATA)
    digest = packet_digest(envelope)
    signature = Signature(author.verify_key, author.sign(C.SIG_CONTEXT_PACKET, digest))
    return SealedPacket(envelope, (signature,))


def read_content(packet: SealedPacket, identity: PrivateKey) -> PacketContent:
    """Decrypt a verified packet with any key it was sealed to; check its author signed it.

    This is for the sender's own copy (a draft awaiting countersignatures);
    recipients use `open_packet`, which checks far more.
    """
    if _is_signed(packet.envelope):
        raise FormatError("a packet's envelope is unsigned")
    plaintext, opened = open_bytes(packet.envelope, [identity])
    if opened.metadata != _METADATA:
        raise FormatError("the envelope does not hold a packet")
    content = PacketContent.decode(plaintext)
    if content.author != packet.signatures[0].key:
        raise VerificationError("author", "the first signature is not the packet's author's")
    return content


def open_packet(
    data: bytes,
    body_key: PrivateKey,
    trusted_signers: Mapping[VerifyKey, str] | Collection[VerifyKey] | None = None,
    *,
    min_signers: int = 1,
    countersignatures: int = 0,
) -> OpenedPacket:
    """Verify every signature, then decrypt with the body's key and check the content.

    With `trusted_signers`, every signer must be one of them; given as a mapping
    from key to person, several keys of one person count once. The packet must
    be addressed to `body_key`, carry its author's signature first, and be
    countersigned by as many other people as the opener's `countersignatures`
    policy and its own content require (and be signed by `min_signers` people).
    """
    packet = SealedPacket.from_bytes(data)
    if trusted_signers is not None:
        for key in packet.signers:
            if key not in trusted_signers:
                raise VerificationError("signer", "the packet is signed by a key not trusted")
    people = trusted_signers if isinstance(trusted_signers, Mapping) else None
    if len({_person(k, people) for k in packet.signers}) < min_signers:
        raise VerificationError("signers", f"the packet has fewer than {min_signers} signers")
    content = read_content(packet, body_key)
    if content.recipient != body_key.public_key:
        raise VerificationError("recipient", "the packet is addressed to another key")
    who = check_countersignatures(packet, content, people, countersignatures)
    return OpenedPacket(content, packet.signers, who)


def check_countersignatures(
    packet: SealedPacket,
    content: PacketContent,
    people: Mapping[VerifyKey, str] | None,
    countersignatures: int,
) -> tuple[str, ...]:
    """Refuse unless people other than the author countersigned, as many as the policy says.

    The policy (`countersignatures`) is the opener's, never the packet's: a
    packet declaring fewer is refused, and one declaring more needs them all.
    `people` maps each signing key to its holder; without it each key counts
    as a person, so a policy above zero cannot be met.
    """
    if countersignatures > 0 and people is None:
        raise VerificationError(
            "countersignature", "counting countersigners needs to know whose keys signed"
        )
    if content.countersignatures < countersignatures:
        raise VerificationError(
            "countersignature",
            f"the packet declares {content.countersignatures} countersignature(s);"
            f" the policy requires {countersignatures}",
        )
    who = tuple(dict.fromkeys(_person(k, people) for k in packet.signers))
    others = len(who) - 1
    need = max(countersignatures, content.countersignatures)
    if others < need:
        raise VerificationError(
            "countersignature",
            f"the packet needs {need} countersignature(s) by people other than its author"
            f" and carries {others}",
        )
    return who


def _person(key: VerifyKey, people: Mapping[VerifyKey, str] | None) -> str:
    """Who holds `key`: by the opener's mapping, else the key is its own person."""
    if people is None:
        return key.to_text()
    try:
        return people[key]
    except KeyError as exc:
        raise VerificationError("signer", "the packet is signed by a key not trusted") from exc


def _is_signed(envelope: bytes) -> bool:
    return read_header(io.BytesIO(envelope)).signer is not None
