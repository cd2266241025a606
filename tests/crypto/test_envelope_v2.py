"""Envelope v2: hybrid (X-Wing) recipients — round trips, grammar, labels, tampering, splicing.

v2 shares v1's payload and signature layout, so these tests aim at what v2
changes: its stanzas, its labels, and the rule that classical and hybrid
recipients never share an envelope.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    DecryptionError,
    FormatError,
    HybridPrivateKey,
    Metadata,
    PrivateKey,
    SealingWriter,
    SigningKey,
    VerificationError,
    open_bytes,
    open_to_path,
    read_header,
    seal_bytes,
    verify_signature,
)
from crypto import constants as C
from crypto.encoding import b64decode, b64encode
from crypto.envelope.header import header_mac, payload_key
from crypto.envelope.size import header_size, is_envelope_size
from crypto.envelope.stanza_v2 import wrap_key
from crypto.envelope.version import V1, V2, RecipientKey
from crypto.padding import padded_size
from tests.crypto.support import flip, flip_every_byte, split_envelope

META = Metadata(kind="message", content_type="text/plain; charset=utf-8")
RECORD = len(META.encode())
POOL = [HybridPrivateKey(bytes([40 + i]) * 32) for i in range(4)]
ALICE, BOB, CAROL, MALLORY = POOL
CLASSICAL = PrivateKey(bytes(range(32)))
SIGNER = SigningKey(bytes(range(32, 64)))
TEXT = "Assalam-o-alaikum. راز دار".encode()
SMALL = {
    False: seal_bytes(TEXT, [ALICE.public_key, BOB.public_key], META),
    True: seal_bytes(TEXT, [ALICE.public_key, BOB.public_key], META, signer=SIGNER),
}
SIGNED_IDS = ["unsigned", "signed"]
STANZA_LINES = 3  # tag line, X-Wing ciphertext, wrapped file key


def expected_size(content: int, recipients: int, signed: bool) -> int:
    """docs/PROTOCOL.md §5A.1: v1's formula with 1581-byte stanzas."""
    inner = padded_size(content + RECORD + C.TRAILER_FIXED_BYTES, C.MIN_PADDED_BYTES)
    chunks = -(-inner // C.CHUNK_BYTES)
    header = 20 + 1581 * recipients + 55 * signed + 48
    return header + 24 + inner + 17 * chunks + 64 * signed


def _lines(envelope: bytes) -> tuple[list[bytes], bytes]:
    header = split_envelope(envelope).header
    return header.rstrip(b"\n").split(b"\n"), envelope[len(header) :]


def _rebuild(lines: list[bytes], rest: bytes) -> bytes:
    return b"\n".join(lines) + b"\n" + rest


# Round trips.


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
@pytest.mark.parametrize(
    "size", [0, 1, 4000, C.CHUNK_BYTES - 1, C.CHUNK_BYTES, 2 * C.CHUNK_BYTES + 7], ids=str
)
def test_every_recipient_opens_at_chunk_boundaries(size: int, signed: bool) -> None:
    plaintext = hashlib.shake_256(size.to_bytes(8, "big")).digest(size)
    recipients = [ALICE, BOB, CAROL]
    signer = SIGNER if signed else None

    envelope = seal_bytes(plaintext, [r.public_key for r in recipients], META, signer=signer)

    assert len(envelope) == expected_size(size, 3, signed)
    assert is_envelope_size(len(envelope), 3, signed=signed, hybrid=True)
    assert not is_envelope_size(len(envelope), 3, signed=signed)
    for recipient in recipients:
        opened_plaintext, opened = open_bytes(envelope, [recipient])
        assert opened_plaintext == plaintext
        assert opened.metadata == META
        assert opened.signer == (SIGNER.verify_key if signed else None)


@settings(max_examples=25, deadline=None)
@given(
    plaintext=st.binary(max_size=9000),
    count=st.integers(min_value=1, max_value=4),
    signed=st.booleans(),
)
def test_any_plaintext_to_any_set_of_hybrid_recipients_round_trips(
    plaintext: bytes, count: int, signed: bool
) -> None:
    signer = SIGNER if signed else None
    envelope = seal_bytes(plaintext, [k.public_key for k in POOL[:count]], META, signer=signer)

    assert len(envelope) == expected_size(len(plaintext), count, signed)
    assert open_bytes(envelope, [POOL[count - 1]])[0] == plaintext
    assert read_header(io.BytesIO(envelope)).version is V2


def test_open_to_path_opens_v2(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    open_to_path(io.BytesIO(SMALL[True]), target, [BOB])

    assert target.read_bytes() == TEXT


def test_64_hybrid_recipients_fit_and_the_last_opens() -> None:
    keys = [HybridPrivateKey(i.to_bytes(32, "big")) for i in range(1, 65)]
    envelope = seal_bytes(b"many", [k.public_key for k in keys], META)

    assert len(split_envelope(envelope).header) == header_size(64, signed=False, hybrid=True)
    assert len(split_envelope(envelope).header) > C.ENVELOPE_MAX_HEADER_BYTES
    assert open_bytes(envelope, [keys[-1]])[0] == b"many"
    with pytest.raises(FormatError):
        seal_bytes(b"", [*[k.public_key for k in keys], MALLORY.public_key], META)


# Which version: classical only is v1, hybrid only v2, a mix never.


def test_x25519_recipients_still_give_v1_byte_for_byte_in_shape() -> None:
    envelope = seal_bytes(TEXT, [CLASSICAL.public_key], META)
    lines, _ = _lines(envelope)

    assert lines[0] == b"raazdar-envelope/v1"
    assert [len(line) for line in lines] == [19, 21, 107, 47]
    assert read_header(io.BytesIO(envelope)).version is V1
    assert open_bytes(envelope, [ALICE, CLASSICAL])[0] == TEXT


def test_mixing_classical_and_hybrid_recipients_is_refused_before_any_byte() -> None:
    """One X25519 stanza would open the envelope to whoever breaks X25519."""
    mixes: list[list[RecipientKey]] = [
        [ALICE.public_key, CLASSICAL.public_key],
        [CLASSICAL.public_key, ALICE.public_key],
    ]
    for recipients in mixes:
        out = io.BytesIO()
        with pytest.raises(FormatError, match="mix"):
            SealingWriter(out, recipients, META)
        assert out.getvalue() == b""


def test_a_key_of_the_other_kind_never_opens() -> None:
    classical = seal_bytes(TEXT, [CLASSICAL.public_key], META)

    with pytest.raises(DecryptionError):
        open_bytes(SMALL[False], [CLASSICAL])
    with pytest.raises(DecryptionError):
        open_bytes(classical, [HybridPrivateKey(CLASSICAL.secret_bytes())])
    with pytest.raises(DecryptionError):
        open_bytes(SMALL[False], [MALLORY, CAROL])


# Grammar.


def test_header_lines_follow_the_v2_grammar() -> None:
    lines, _ = _lines(SMALL[True])

    assert lines[0] == b"raazdar-envelope/v2"
    assert lines[1] == b"-> xwing " + b64encode(ALICE.public_key.fingerprint.key_id).encode()
    assert len(lines[2]) == 1494
    assert len(lines[3]) == 64
    assert lines[4].startswith(b"-> xwing ")
    assert lines[7] == b"-> ed25519 " + b64encode(SIGNER.verify_key.raw).encode()
    assert lines[8].startswith(b"--- ")
    assert len(lines) == 9
    assert len(split_envelope(SMALL[True]).header) == header_size(2, signed=True, hybrid=True)
    assert header_size(2, signed=True, hybrid=True) == 20 + 2 * 1581 + 55 + 48


@pytest.mark.parametrize(
    "reshape",
    [
        pytest.param(lambda ls: [b"raazdar-envelope/v1", *ls[1:]], id="downgraded-version-line"),
        pytest.param(lambda ls: [ls[0], b"-> x25519 " + ls[1][9:], *ls[2:]], id="x25519-tag"),
        pytest.param(lambda ls: [ls[0], ls[1], ls[2], *ls[4:]], id="wrapped-key-line-dropped"),
        pytest.param(lambda ls: [ls[0], ls[1], ls[2] + b"A", *ls[3:]], id="ciphertext-too-long"),
        pytest.param(lambda ls: [ls[0], ls[1], ls[2][:-1], *ls[3:]], id="ciphertext-too-short"),
        pytest.param(lambda ls: [ls[0], ls[1], ls[3], ls[2], *ls[4:]], id="fields-swapped"),
        pytest.param(lambda ls: [ls[0], ls[1], b"A" * 1537, *ls[3:]], id="line-over-limit"),
        pytest.param(lambda ls: [ls[0], *ls[1:4], *ls[1:4], *ls[4:]], id="duplicate-stanza"),
    ],
)
def test_malformed_v2_header_is_refused(reshape: object) -> None:
    lines, rest = _lines(SMALL[False])
    envelope = _rebuild(reshape(lines), rest)  # type: ignore[operator]

    with pytest.raises(FormatError):
        read_header(io.BytesIO(envelope))


def test_a_v1_stanza_under_a_v2_version_line_is_malformed() -> None:
    lines, rest = _lines(seal_bytes(TEXT, [CLASSICAL.public_key], META))

    with pytest.raises(FormatError):
        open_bytes(_rebuild([b"raazdar-envelope/v2", *lines[1:]], rest), [CLASSICAL])


def test_65_stanzas_are_refused() -> None:
    lines, rest = _lines(SMALL[False])
    body = lines[2:4]
    stanzas = [
        line
        for i in range(65)
        for line in [b"-> xwing " + b64encode(i.to_bytes(8, "big")).encode(), *body]
    ]

    with pytest.raises(FormatError, match="too many"):
        read_header(io.BytesIO(_rebuild([lines[0], *stanzas, lines[-1]], rest)))


# Labels and derivations.


def test_v2_labels_are_its_own() -> None:
    """No key, MAC or signature digest of one version is valid in the other."""
    for field in ("person_payload", "person_mac_key", "person_mac", "person_signed"):
        assert getattr(V1, field) != getattr(V2, field)
    assert V2.signature_context == b"raazdar envelope v2"
    assert V2.person_payload == b"rz-env-payload2"
    assert V2.person_mac_key == b"rz-env-hdrmac-v2"
    assert V2.person_mac == b"rz-env-mac-v2"
    assert V2.person_signed == b"rz-env-signed-v2"


def test_v2_key_schedule_matches_the_specification() -> None:
    """docs/PROTOCOL.md §5A.3's known answers for file_key = 00 01 … 1f."""
    file_key = bytes(range(32))
    mac_key = hashlib.blake2b(b"", digest_size=32, key=file_key, person=b"rz-env-hdrmac-v2")
    mac_input, stream_header = b"raazdar-envelope/v2\n---", bytes(range(24))

    assert payload_key(file_key, V2).hex() == (
        "6ec049fad6f4145eb1e68210557d6b82dee92ba0785c46bc332b864aee8aba78"
    )
    assert mac_key.hexdigest() == "9d640bf5ecbe9aa258009f86b53d2906f72a59aea740961826554728735857f2"
    assert (
        header_mac(file_key, mac_input, stream_header, V2)
        == hashlib.blake2b(
            mac_input + stream_header, digest_size=32, key=mac_key.digest(), person=b"rz-env-mac-v2"
        ).digest()
    )


def test_the_wrap_key_hashes_the_whole_ciphertext_and_public_key() -> None:
    shared, ciphertext = bytes(range(32)), bytes(1120)
    public = ALICE.public_key
    expected = hashlib.blake2b(
        ciphertext + public.raw, digest_size=32, key=shared, person=b"rz-env-wrap-v2"
    ).digest()

    assert wrap_key(shared, ciphertext, public) == expected
    assert wrap_key(shared, flip(ciphertext, 0, 0), public) != expected  # ML-KEM half
    assert wrap_key(shared, flip(ciphertext, 1119, 0), public) != expected  # X25519 half
    assert wrap_key(shared, ciphertext, BOB.public_key) != expected
    assert wrap_key(flip(shared, 31, 7), ciphertext, public) != expected


# Tampering and splicing.


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_a_flipped_bit_at_every_byte_is_refused(signed: bool) -> None:
    """Every header byte (both stanzas whole) and every payload byte: no copy opens.

    A flip in the header is malformed or fails to decrypt, one in the payload
    fails to decrypt, one in the signature fails to verify; no byte leaks out.
    """
    flips = flip_every_byte(SMALL[signed], BOB)

    assert flips.accepted == []
    assert flips.leaked == []
    assert flips.wrong_error == []


@settings(max_examples=8, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=3 * C.CHUNK_BYTES + 100),
    cuts=st.lists(st.integers(min_value=1, max_value=C.CHUNK_BYTES + 7), max_size=6),
)
def test_v2_streamed_in_any_pieces_opens_to_the_same_bytes(size: int, cuts: list[int]) -> None:
    plaintext = hashlib.shake_256(size.to_bytes(8, "big")).digest(size)
    out = io.BytesIO()
    with SealingWriter(out, [ALICE.public_key, CAROL.public_key], META) as writer:
        position = 0
        for cut in cuts:
            writer.write(plaintext[position : position + cut])
            position += cut
        writer.write(plaintext[position:])

    assert open_bytes(out.getvalue(), [CAROL])[0] == plaintext
    assert len(out.getvalue()) == expected_size(size, 2, signed=False)


def _stanza(envelope: bytes, index: int = 0) -> tuple[bytes, bytes]:
    """The X-Wing ciphertext and wrapped key of one stanza."""
    lines, _ = _lines(envelope)
    first = 1 + STANZA_LINES * index
    return b64decode(lines[first + 1]), b64decode(lines[first + 2])


def _with_ciphertext(envelope: bytes, ciphertext: bytes) -> bytes:
    lines, rest = _lines(envelope)
    lines[2] = b64encode(ciphertext).encode()
    return _rebuild(lines, rest)


@pytest.mark.parametrize("half", ["x25519", "ml-kem"])
@pytest.mark.parametrize("spliced_into", ["victims-envelope", "attackers-envelope"])
def test_an_envelope_with_one_half_of_its_stanza_replaced_does_not_open(
    half: str, spliced_into: str
) -> None:
    """The attacker seals her own envelope to Alice, so she knows each half's secret of it.

    Putting her X25519 (or ML-KEM) half into the victim's stanza, or the victim's
    half into her own envelope, still leaves one half whose secret she lacks: neither
    opens. Her own envelope, whole, opens: the splice, not the envelope, is refused.
    """
    victim = seal_bytes(TEXT, [ALICE.public_key], META)
    attacker = seal_bytes(b"attacker's report", [ALICE.public_key], META)
    cut = 1088  # ct = ct_M (1088) || ct_X (32)
    (victim_ct, _), (attacker_ct, _) = _stanza(victim), _stanza(attacker)
    if spliced_into == "victims-envelope":
        base, donor, into = victim, attacker_ct, victim_ct
    else:
        base, donor, into = attacker, victim_ct, attacker_ct
    mixed = into[:cut] + donor[cut:] if half == "x25519" else donor[:cut] + into[cut:]

    assert open_bytes(attacker, [ALICE])[0] == b"attacker's report"
    with pytest.raises(DecryptionError):
        open_bytes(_with_ciphertext(base, mixed), [ALICE])


def test_a_stanza_moved_to_another_recipients_key_id_does_not_open() -> None:
    lines, rest = _lines(SMALL[False])
    lines[4] = b"-> xwing " + b64encode(MALLORY.public_key.fingerprint.key_id).encode()

    with pytest.raises(DecryptionError):
        open_bytes(_rebuild(lines, rest), [MALLORY])


def test_stanzas_swapped_between_recipients_break_the_header_mac() -> None:
    lines, rest = _lines(SMALL[False])
    swapped = [lines[0], *lines[4:7], *lines[1:4], *lines[7:]]

    with pytest.raises(DecryptionError):
        open_bytes(_rebuild(swapped, rest), [ALICE])


def test_a_v2_signature_is_checked_without_any_key_and_under_v2s_context() -> None:
    assert verify_signature(io.BytesIO(SMALL[True]), [SIGNER.verify_key]) == SIGNER.verify_key
    with pytest.raises(VerificationError):
        verify_signature(
            io.BytesIO(flip(SMALL[True], len(SMALL[True]) - 1, 0)), [SIGNER.verify_key]
        )


def test_every_failure_is_a_crypto_error() -> None:
    with pytest.raises(CryptoError):
        open_bytes(SMALL[False][:-1], [ALICE])


# A fixed v2 envelope, sealed once (sealing is randomised) to the keys of the
# first two X-Wing vectors and signed by the Ed25519 key of PROTOCOL.md §4.5.
# Every later version of the code must still open it.
STORED = (Path(__file__).parent / "data" / "envelope-v2-signed.rze").read_bytes()


def test_the_stored_v2_envelope_still_opens_for_each_recipient() -> None:
    vectors = json.loads((Path(__file__).parent / "data" / "xwing-vectors.json").read_text())
    keys = [HybridPrivateKey(bytes.fromhex(v["seed"])) for v in vectors["vectors"][:2]]

    for key in keys:
        plaintext, opened = open_bytes(STORED, [key], trusted_signers=[SIGNER.verify_key])
        assert plaintext == TEXT
        assert opened.metadata == META
    assert len(STORED) == expected_size(len(TEXT), 2, signed=True)
    with pytest.raises(DecryptionError):
        open_bytes(STORED, [HybridPrivateKey(bytes.fromhex(vectors["vectors"][2]["seed"]))])
