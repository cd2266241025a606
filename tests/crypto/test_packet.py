"""Escalation packets (PROTOCOL.md §17): known answers, round trips, and every refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
from dataclasses import replace

import pytest

from crypto import (
    DecryptionError,
    FormatError,
    KdfParams,
    KeyFile,
    KeyPair,
    Metadata,
    PrivateKey,
    SigningKey,
    UnsupportedVersionError,
    VerificationError,
    read_header,
    seal_bytes,
)
from crypto import constants as C
from crypto.packet import (
    PacketContent,
    PacketFile,
    SealedPacket,
    Signature,
    file_hash,
    open_packet,
    packet_digest,
    read_content,
    seal_packet,
)
from tests.crypto.support import flip

SUMMARY = "The SHO of Saddar took money — تھانے کے ایس ایچ او نے رشوت لی"
KAT_ENVELOPE = b"not really an envelope"
# BLAKE2b-512(person="rz-packet-v1", KAT_ENVELOPE), and the §4.5 Ed25519 key's signature over it.
KAT_DIGEST = (
    "a6675390f5b1ee94203a65a776db4b82f53700a979d40d85cb8ffe645001ef2d"
    "81e60ad6bacc9faed00ed7f4b5148f6a02f757bc4d3117e06c7a21cdb2650c94"
)
KAT_SIGNATURE = (
    "e38f5840f7fd83db870a2ddd5ba8f3a74a554f2b610d233bc2eb4291fccea38a"
    "8f324279b3fbdd2a06ee92a43892ad22d4acb4fc6147d14fd96b7b5a94a29b0c"
)
KAT_INDEX = (
    '{"author":"rz-ed25519-public:Kay64UG8yvCyLhqU000LxzYeUm0L_hLIl5S8kyKWbdd234IL",'
    '"countersignatures":1,"created":"2025-01-02","document":{"summary":"سلام"},'
    '"files":[{"hash":"jrAqLj7aWzWOn0WUCw0DjOxf3Q6tsAKD6uN0GqUm8Ps","name":"a.txt",'
    '"size":2,"type":"text/plain"}],"format":1,"packet":"00000000000000000000000000000000",'
    '"recipient":"rz-x25519-public:j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF_74THb",'
    '"type":"raazdar-packet-content"}'
)


@pytest.fixture(scope="module")
def second() -> SigningKey:
    """A second reviewer, who countersigns."""
    return SigningKey(bytes([0x55]) * 32)


def _content(
    body: PrivateKey, author: SigningKey, countersignatures: int = 0, **changes: object
) -> PacketContent:
    content = PacketContent(
        packet_id="ab" * 16,
        created=dt.date(2025, 3, 1),
        recipient=body.public_key,
        author=author.verify_key,
        countersignatures=countersignatures,
        document={"summary": SUMMARY, "reports": [{"label": "Report 1", "text": "Person A"}]},
        files=(
            PacketFile("report-1-1.jpg", "image/jpeg", b"\xff\xd8\xff a photo"),
            PacketFile("report-1-2.txt", "text/plain; charset=utf-8", b"a note"),
        ),
    )
    return replace(content, **changes)  # type: ignore[arg-type]


# Known answers.


def test_the_digest_is_blake2b_512_of_the_envelope_under_its_label() -> None:
    reference = hashlib.blake2b(KAT_ENVELOPE, digest_size=64, person=b"rz-packet-v1").digest()
    assert packet_digest(KAT_ENVELOPE).hex() == KAT_DIGEST == reference.hex()


def test_a_signature_is_over_the_context_and_the_digest(signer: SigningKey) -> None:
    signature = signer.sign(b"raazdar escalation packet v1", bytes.fromhex(KAT_DIGEST))
    assert signature.hex() == KAT_SIGNATURE
    assert C.SIG_CONTEXT_PACKET == b"raazdar escalation packet v1"


def test_the_frame_is_version_line_count_key_signature_pairs_then_envelope(
    signer: SigningKey,
) -> None:
    sig = Signature(signer.verify_key, bytes.fromhex(KAT_SIGNATURE))
    data = SealedPacket(KAT_ENVELOPE, (sig,)).to_bytes()
    expected = (
        b"raazdar-packet/v1\n"
        + b"\x01"
        + signer.verify_key.raw
        + bytes.fromhex(KAT_SIGNATURE)
        + KAT_ENVELOPE
    )
    assert data == expected
    parsed = SealedPacket.from_bytes(data)  # the signature verifies on parsing
    assert parsed.signers == (signer.verify_key,)
    assert parsed.envelope == KAT_ENVELOPE


def test_the_content_encoding_is_a_length_the_canonical_index_and_the_files(
    alice: PrivateKey, signer: SigningKey
) -> None:
    content = PacketContent(
        "00" * 16,
        dt.date(2025, 1, 2),
        alice.public_key,
        signer.verify_key,
        1,
        {"summary": "سلام"},
        (PacketFile("a.txt", "text/plain", b"hi"),),
    )
    index = KAT_INDEX.encode("utf-8")
    assert content.encode() == struct.pack(">I", len(index)) + index + b"hi"
    reference = hashlib.blake2b(b"hi", digest_size=32, person=b"rz-packet-file1").digest()
    assert file_hash(b"hi") == reference
    assert PacketContent.decode(content.encode()) == content


# Round trips.


def test_a_packet_opens_for_its_body_with_every_signer_and_file(
    alice: PrivateKey, signer: SigningKey, second: SigningKey
) -> None:
    content = _content(alice, signer, countersignatures=1)
    packet = seal_packet(content, signer).countersign(second)
    opened = open_packet(
        packet.to_bytes(), alice, trusted_signers={signer.verify_key, second.verify_key}
    )
    assert opened.content == content
    assert opened.author == signer.verify_key
    assert opened.countersigners == (second.verify_key,)
    assert opened.content.files[0].data == b"\xff\xd8\xff a photo"
    assert opened.content.document["summary"] == SUMMARY


def test_the_envelope_is_unsigned_and_sealed_to_the_body_and_any_extra_key(
    alice: PrivateKey, bob: PrivateKey, signer: SigningKey
) -> None:
    packet = seal_packet(_content(alice, signer), signer, also=[bob.public_key])
    header = read_header(io.BytesIO(packet.envelope))
    assert header.signer is None
    assert [s.key_id for s in header.stanzas] == [
        alice.public_key.fingerprint.key_id,
        bob.public_key.fingerprint.key_id,
    ]
    # The sender's own copy opens with the extra key, for a countersigner to read.
    assert read_content(packet, bob) == _content(alice, signer)


def test_a_body_opens_a_packet_with_its_key_file(alice: PrivateKey, signer: SigningKey) -> None:
    keys = KeyPair.generate()
    key_file = KeyFile.create(
        keys, "body passphrase", kind="escalation-body", label="Body", params=KdfParams.TESTING
    )
    assert keys.encryption is not None
    content = _content(keys.encryption, signer)
    data = seal_packet(content, signer).to_bytes()
    unlocked = KeyFile.from_bytes(key_file.to_bytes()).unlock("body passphrase")
    assert unlocked.encryption is not None
    assert open_packet(data, unlocked.encryption).content == content
    with pytest.raises(DecryptionError):
        open_packet(data, alice)


# Refusals.


def test_a_packet_sealed_to_another_body_is_refused(
    alice: PrivateKey, mallory: PrivateKey, signer: SigningKey
) -> None:
    data = seal_packet(_content(alice, signer), signer).to_bytes()
    with pytest.raises(DecryptionError):
        open_packet(data, mallory)


@pytest.mark.parametrize("where", ["count", "key", "signature", "header", "payload", "last"])
def test_a_tampered_packet_is_refused(alice: PrivateKey, signer: SigningKey, where: str) -> None:
    data = seal_packet(_content(alice, signer), signer).to_bytes()
    start = len(b"raazdar-packet/v1\n")
    position = {
        "count": start,
        "key": start + 1 + 5,
        "signature": start + 1 + 32 + 5,
        "header": start + 1 + 96 + 30,
        "payload": len(data) - 500,
        "last": len(data) - 1,
    }[where]
    tampered = flip(data, position, 0)
    with pytest.raises((FormatError, VerificationError)):
        open_packet(tampered, alice)


def test_a_changed_envelope_fails_the_signature_before_any_decryption(
    alice: PrivateKey, signer: SigningKey
) -> None:
    data = seal_packet(_content(alice, signer), signer).to_bytes()
    with pytest.raises(VerificationError) as caught:
        open_packet(flip(data, len(data) - 200, 3), alice)
    assert caught.value.rule == "signature"


@pytest.mark.parametrize("cut", [1, 64, 4000])
def test_a_truncated_packet_is_refused(alice: PrivateKey, signer: SigningKey, cut: int) -> None:
    data = seal_packet(_content(alice, signer), signer).to_bytes()
    with pytest.raises((FormatError, VerificationError)):
        open_packet(data[:-cut], alice)


def test_a_packet_re_sealed_by_anyone_else_carries_no_valid_signature(
    alice: PrivateKey, signer: SigningKey
) -> None:
    genuine = seal_packet(_content(alice, signer), signer)
    forged_envelope = seal_bytes(
        _content(alice, signer, document={"summary": "forged"}).encode(),
        [alice.public_key],
        Metadata(C.PACKET_METADATA_KIND, C.PACKET_METADATA_TYPE),
    )
    forged = SealedPacket(forged_envelope, genuine.signatures)
    with pytest.raises(VerificationError) as caught:
        open_packet(forged.to_bytes(), alice)
    assert caught.value.rule == "signature"


def test_a_signer_not_trusted_is_refused(
    alice: PrivateKey, signer: SigningKey, other_signer: SigningKey
) -> None:
    content = _content(alice, other_signer)
    data = seal_packet(content, other_signer).to_bytes()
    with pytest.raises(VerificationError) as caught:
        open_packet(data, alice, trusted_signers={signer.verify_key})
    assert caught.value.rule == "signer"


def test_a_packet_signed_first_by_someone_other_than_its_author_is_refused(
    alice: PrivateKey, signer: SigningKey, other_signer: SigningKey
) -> None:
    genuine = seal_packet(_content(alice, signer), signer)
    digest = genuine.digest
    forged = SealedPacket(
        genuine.envelope,
        (Signature(other_signer.verify_key, other_signer.sign(C.SIG_CONTEXT_PACKET, digest)),),
    )
    with pytest.raises(VerificationError) as caught:
        open_packet(forged.to_bytes(), alice)
    assert caught.value.rule == "author"


def test_a_stripped_countersignature_is_refused(
    alice: PrivateKey, signer: SigningKey, second: SigningKey
) -> None:
    packet = seal_packet(_content(alice, signer, countersignatures=1), signer)
    with pytest.raises(VerificationError) as caught:
        open_packet(packet.to_bytes(), alice)
    assert caught.value.rule == "countersignature"
    countersigned = packet.countersign(second)
    assert open_packet(countersigned.to_bytes(), alice).countersigners == (second.verify_key,)
    stripped = SealedPacket(countersigned.envelope, countersigned.signatures[:1])
    with pytest.raises(VerificationError):
        open_packet(stripped.to_bytes(), alice)


def test_a_recipient_can_insist_on_more_signers(alice: PrivateKey, signer: SigningKey) -> None:
    data = seal_packet(_content(alice, signer), signer).to_bytes()
    with pytest.raises(VerificationError) as caught:
        open_packet(data, alice, min_signers=2)
    assert caught.value.rule == "signers"


def test_a_packet_naming_another_recipient_is_refused(
    alice: PrivateKey, bob: PrivateKey, signer: SigningKey
) -> None:
    content = _content(bob, signer)  # says it is for bob, but is sealed to alice too
    data = seal_packet(content, signer, also=[alice.public_key]).to_bytes()
    with pytest.raises(VerificationError) as caught:
        open_packet(data, alice)
    assert caught.value.rule == "recipient"


def test_a_key_signs_once_and_a_countersigner_cannot_sign_twice(
    alice: PrivateKey, signer: SigningKey
) -> None:
    packet = seal_packet(_content(alice, signer), signer)
    with pytest.raises(FormatError):
        packet.countersign(signer)
    doubled = SealedPacket(packet.envelope, packet.signatures * 2)
    with pytest.raises(FormatError):
        SealedPacket.from_bytes(doubled.to_bytes())


def test_the_author_must_sign(alice: PrivateKey, signer: SigningKey, second: SigningKey) -> None:
    with pytest.raises(FormatError):
        seal_packet(_content(alice, signer), second)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"raazdar-packet/v2\n\x01", UnsupportedVersionError),
        (b"raazdar-bundle/v1\n", FormatError),
        (b"raazdar-packet/v1\n", FormatError),
        (b"raazdar-packet/v1\n\x00", FormatError),
        (b"raazdar-packet/v1\n\x11" + bytes(96 * 17), FormatError),
        (b"raazdar-packet/v1\n\x01" + bytes(50), FormatError),
    ],
    ids=["v2", "bundle", "no-count", "no-signature", "too-many", "short"],
)
def test_malformed_frames_are_refused(
    alice: PrivateKey, data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        open_packet(data, alice)


@pytest.mark.parametrize(
    "name", ["../x", ".hidden", "A.txt", "x..y", "a/b", "", "x" * 65, "r\u200f.txt"]
)
def test_file_names_are_plain_lowercase_names(name: str) -> None:
    with pytest.raises(FormatError):
        PacketFile(name, "text/plain", b"")


def _reencode(content: PacketContent, index: bytes, files: bytes = b"") -> bytes:
    return struct.pack(">I", len(index)) + index + files


@pytest.mark.parametrize("change", ["spaces", "extra", "hash", "trailing", "format"])
def test_content_that_is_not_exactly_as_specified_is_refused(
    alice: PrivateKey, signer: SigningKey, change: str
) -> None:
    content = _content(alice, signer)
    encoded = content.encode()
    (length,) = struct.unpack(">I", encoded[:4])
    index, files = encoded[4 : 4 + length], encoded[4 + length :]
    if change == "spaces":
        data = _reencode(content, index.replace(b'":', b'": ', 1), files)
    elif change == "extra":
        data = _reencode(content, index[:-1] + b',"zz":1}', files)
    elif change == "hash":
        data = _reencode(content, index, flip(files, 0, 0))
    elif change == "trailing":
        data = encoded + b"\x00"
    else:
        data = _reencode(content, index.replace(b'"format":1', b'"format":2'), files)
    with pytest.raises(UnsupportedVersionError if change == "format" else FormatError):
        PacketContent.decode(data)


def test_packet_ids_and_countersignature_counts_are_checked(
    alice: PrivateKey, signer: SigningKey
) -> None:
    with pytest.raises(FormatError):
        _content(alice, signer, packet_id="AB" * 16)
    with pytest.raises(FormatError):
        _content(alice, signer, countersignatures=16)
    with pytest.raises(FormatError):
        _content(alice, signer, files=(PacketFile("a", "x/y", b""), PacketFile("a", "x/y", b"")))


# The two-person rule: counted in distinct people, by the opener's policy.


def test_a_packet_declaring_no_countersignature_is_refused_where_policy_requires_two(
    alice: PrivateKey, signer: SigningKey, second: SigningKey
) -> None:
    third = SigningKey(bytes([0x56]) * 32)
    packet = seal_packet(_content(alice, signer, countersignatures=0), signer)
    people = {signer.verify_key: "author", second.verify_key: "two", third.verify_key: "three"}

    with pytest.raises(VerificationError) as caught:
        open_packet(packet.to_bytes(), alice, people, countersignatures=2)
    assert caught.value.rule == "countersignature"
    # Even with two countersignatures on it, its own claim of none is refused.
    signed = packet.countersign(second).countersign(third)
    with pytest.raises(VerificationError, match="declares 0"):
        open_packet(signed.to_bytes(), alice, people, countersignatures=2)


def test_one_persons_old_and_new_keys_count_as_one_person(
    alice: PrivateKey, signer: SigningKey
) -> None:
    rotated = SigningKey(bytes([0x57]) * 32)  # the author's new key, after a rotation
    packet = seal_packet(_content(alice, signer, countersignatures=1), signer).countersign(rotated)
    people = {signer.verify_key: "author", rotated.verify_key: "author"}

    with pytest.raises(VerificationError) as caught:
        open_packet(packet.to_bytes(), alice, people, countersignatures=1)
    assert caught.value.rule == "countersignature"
    with pytest.raises(VerificationError):
        open_packet(packet.to_bytes(), alice, people)  # by the packet's own claim, too


def test_two_people_satisfy_a_policy_of_one_countersignature(
    alice: PrivateKey, signer: SigningKey, second: SigningKey
) -> None:
    packet = seal_packet(_content(alice, signer, countersignatures=1), signer).countersign(second)
    people = {signer.verify_key: "author", second.verify_key: "two"}

    opened = open_packet(packet.to_bytes(), alice, people, countersignatures=1)

    assert opened.people == ("author", "two")


def test_a_policy_needs_to_know_whose_keys_sign(
    alice: PrivateKey, signer: SigningKey, second: SigningKey
) -> None:
    packet = seal_packet(_content(alice, signer, countersignatures=1), signer).countersign(second)

    with pytest.raises(VerificationError) as caught:
        open_packet(
            packet.to_bytes(), alice, {signer.verify_key, second.verify_key}, countersignatures=1
        )
    assert caught.value.rule == "countersignature"
