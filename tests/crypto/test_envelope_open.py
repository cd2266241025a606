"""Opening refuses every alteration: bit flips, truncation, reordering, extension, bad signatures.

And `open_to_path` publishes nothing unless the whole envelope verifies.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable, Collection
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    DecryptionError,
    FormatError,
    Metadata,
    PrivateKey,
    SigningKey,
    UnsupportedVersionError,
    VerificationError,
    VerifyKey,
    open_bytes,
    open_envelope,
    open_to_path,
    seal_bytes,
    verify_signature,
)
from crypto import constants as C
from crypto.encoding import b64encode
from crypto.envelope import HeldEnvelope
from crypto.envelope.seal import _TAG_FINAL, _TAG_PUSH, SealingWriter
from tests.crypto.support import BLOCK, flip, flip_every_byte, split_envelope

META = Metadata(kind="reply", content_type="text/plain; charset=utf-8")
ALICE = PrivateKey(bytes(range(32)))
BOB = PrivateKey(bytes([2]) * 32)
MALLORY = PrivateKey(bytes([0x66]) * 32)
SIGNER = SigningKey(bytes(range(32, 64)))
OTHER_SIGNER = SigningKey(bytes([0x77]) * 32)

SMALL_TEXT = "Assalam-o-alaikum. راز دار".encode()
SMALL = {
    False: seal_bytes(SMALL_TEXT, [ALICE.public_key, BOB.public_key], META),
    True: seal_bytes(SMALL_TEXT, [ALICE.public_key, BOB.public_key], META, signer=SIGNER),
}
# Three full chunks, the content ending in the fourth.
MULTI_TEXT = hashlib.shake_256(b"multi").digest(3 * C.CHUNK_BYTES + 1000)
MULTI = {
    False: seal_bytes(MULTI_TEXT, [ALICE.public_key], META),
    True: seal_bytes(MULTI_TEXT, [ALICE.public_key], META, signer=SIGNER),
}
SIGNED_IDS = ["unsigned", "signed"]
ERRORS = (FormatError, UnsupportedVersionError, DecryptionError, VerificationError)


def test_small_envelopes_are_single_chunk() -> None:
    for envelope in SMALL.values():
        assert len(split_envelope(envelope).chunks) == 1
        assert open_bytes(envelope, [ALICE])[0] == SMALL_TEXT
    assert [len(split_envelope(e).chunks) for e in MULTI.values()] == [4, 4]


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_a_flipped_bit_at_every_byte_is_refused(signed: bool) -> None:
    """Flip one bit of each byte in turn: every copy is refused, and no byte leaks out."""
    flips = flip_every_byte(SMALL[signed], ALICE)

    assert flips.accepted == []
    assert flips.leaked == []
    assert flips.wrong_error == []


def _sample_positions(envelope: bytes) -> list[int]:
    parts = split_envelope(envelope)
    header = len(parts.header)
    positions = [
        0,
        18,  # the "1" of the version line
        19,  # the LF after it
        21,  # inside the first stanza's tag
        35,  # the first key id
        100,  # the first stanza's body
        header - 45,  # the MAC line's "---"
        header - 2,  # the MAC's last character
        header - 1,  # the header's final LF
        header,  # the stream header
        header + C.STREAM_HEADER_BYTES,  # the first chunk's encrypted tag byte
        header + C.STREAM_HEADER_BYTES + 2000,  # ciphertext
        len(envelope) - len(parts.signature) - 1,  # the last chunk's MAC
    ]
    if parts.signature:
        positions += [len(envelope) - 64, len(envelope) - 1, header - 60]  # signature, signer line
    return positions


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_every_bit_of_a_sample_of_bytes_is_protected(signed: bool) -> None:
    envelope = SMALL[signed]
    accepted = []
    for position in _sample_positions(envelope):
        for bit in range(8):
            try:
                open_bytes(flip(envelope, position, bit), [ALICE])
            except ERRORS:
                continue
            accepted.append((position, bit))

    assert accepted == []


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_a_flipped_bit_in_any_chunk_of_a_long_envelope_is_refused(signed: bool) -> None:
    envelope = MULTI[signed]
    parts = split_envelope(envelope)
    for start in parts.chunk_boundaries()[:-1]:
        for offset in (0, 1, 1000, BLOCK - 1):
            position = min(start + offset, len(envelope) - len(parts.signature) - 1)
            with pytest.raises(DecryptionError):
                open_bytes(flip(envelope, position, 3), [ALICE])


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_truncation_at_every_chunk_boundary_is_refused(signed: bool) -> None:
    envelope = MULTI[signed]
    parts = split_envelope(envelope)
    cuts = [len(parts.header), *parts.chunk_boundaries()]
    if not signed:
        cuts.remove(len(envelope))  # the untruncated envelope

    for cut in cuts:
        with pytest.raises(DecryptionError):
            open_bytes(envelope[:cut], [ALICE])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), signed=st.booleans())
def test_truncation_anywhere_in_the_payload_is_refused(data: st.DataObject, signed: bool) -> None:
    envelope = data.draw(st.sampled_from([SMALL[signed], MULTI[signed]]))
    header = len(split_envelope(envelope).header)
    cut = data.draw(st.integers(min_value=header, max_value=len(envelope) - 1))

    with pytest.raises(DecryptionError):
        open_bytes(envelope[:cut], [ALICE])


@settings(max_examples=40, deadline=None)
@given(data=st.data(), signed=st.booleans())
def test_truncation_inside_the_header_is_malformed(data: st.DataObject, signed: bool) -> None:
    envelope = SMALL[signed]
    cut = data.draw(st.integers(min_value=0, max_value=len(split_envelope(envelope).header) - 1))

    with pytest.raises(FormatError):
        open_bytes(envelope[:cut], [ALICE])


def _reorder(order: list[int]) -> Callable[[tuple[bytes, ...]], tuple[bytes, ...]]:
    return lambda chunks: tuple(chunks[i] for i in order)


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
@pytest.mark.parametrize(
    "rearrange",
    [
        pytest.param(_reorder([1, 0, 2, 3]), id="first-two-swapped"),
        pytest.param(_reorder([0, 2, 1, 3]), id="middle-swapped"),
        pytest.param(_reorder([0, 1, 3, 2]), id="final-moved-up"),
        pytest.param(_reorder([0, 0, 1, 2, 3]), id="chunk-repeated"),
        pytest.param(_reorder([0, 2, 3]), id="chunk-dropped"),
        pytest.param(_reorder([0, 1, 2]), id="final-dropped"),
        pytest.param(_reorder([0, 1, 2, 3, 3]), id="final-repeated"),
        pytest.param(_reorder([3]), id="only-final"),
    ],
)
def test_reordered_repeated_or_dropped_chunks_are_refused(
    signed: bool, rearrange: Callable[[tuple[bytes, ...]], tuple[bytes, ...]]
) -> None:
    parts = split_envelope(MULTI[signed])

    with pytest.raises(DecryptionError):
        open_bytes(parts.join(rearrange(parts.chunks)), [ALICE])


def test_payload_spliced_onto_another_header_is_refused() -> None:
    """Both envelopes are to Alice, but the header MAC binds the stream header."""
    first = split_envelope(MULTI[False])
    second = split_envelope(seal_bytes(MULTI_TEXT, [ALICE.public_key], META))
    spliced = second.header + first.stream_header + b"".join(first.chunks)

    with pytest.raises(DecryptionError):
        open_bytes(spliced, [ALICE])


# Content and trailer fill one chunk exactly: the final chunk is a full block.
FULL_FINAL_TEXT = bytes(C.CHUNK_BYTES - len(META.encode()) - C.TRAILER_FIXED_BYTES)
FULL_FINAL = {
    False: seal_bytes(FULL_FINAL_TEXT, [ALICE.public_key], META),
    True: seal_bytes(FULL_FINAL_TEXT, [ALICE.public_key], META, signer=SIGNER),
}


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
@pytest.mark.parametrize(
    "extra",
    [b"\x00", b"\n", bytes(C.STREAM_ABYTES), bytes(64), bytes(BLOCK), bytes(BLOCK + 1)],
    ids=["one-zero", "newline", "17-bytes", "64-bytes", "a-block", "a-block-and-one"],
)
def test_trailing_bytes_are_refused(signed: bool, extra: bytes) -> None:
    for envelope in (SMALL[signed], MULTI[signed], FULL_FINAL[signed]):
        with pytest.raises(DecryptionError):
            open_bytes(envelope + extra, [ALICE])


def test_a_second_envelope_appended_is_refused() -> None:
    with pytest.raises(DecryptionError):
        open_bytes(SMALL[False] + SMALL[False], [ALICE])
    with pytest.raises(DecryptionError):
        open_bytes(FULL_FINAL[False] + FULL_FINAL[False], [ALICE])


@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_full_final_chunk_opens(signed: bool) -> None:
    parts = split_envelope(FULL_FINAL[signed])

    assert [len(c) for c in parts.chunks] == [BLOCK]
    assert open_bytes(FULL_FINAL[signed], [ALICE])[0] == FULL_FINAL_TEXT


def test_opening_with_a_key_that_is_not_a_recipient_fails() -> None:
    for envelope in (*SMALL.values(), *MULTI.values()):
        with pytest.raises(DecryptionError):
            open_bytes(envelope, [MALLORY])


# Signatures.


def test_signed_envelope_opens_for_its_trusted_signer() -> None:
    plaintext, opened = open_bytes(SMALL[True], [ALICE], trusted_signers=[SIGNER.verify_key])

    assert plaintext == SMALL_TEXT
    assert opened.signer == SIGNER.verify_key


def test_signed_envelope_opens_without_a_trust_list_and_names_its_signer() -> None:
    assert open_bytes(SMALL[True], [BOB])[1].signer == SIGNER.verify_key
    assert open_bytes(SMALL[False], [BOB])[1].signer is None


@pytest.mark.parametrize(
    "trusted",
    [[OTHER_SIGNER.verify_key], [], {OTHER_SIGNER.verify_key}],
    ids=["other-signer", "nobody", "set-of-other"],
)
def test_untrusted_signer_is_refused_before_any_decryption(trusted: Collection[VerifyKey]) -> None:
    with pytest.raises(VerificationError) as caught:
        open_bytes(SMALL[True], [], trusted_signers=trusted)
    assert caught.value.rule == "signer"


def test_trusted_signers_for_an_unsigned_envelope_are_refused() -> None:
    with pytest.raises(VerificationError) as caught:
        open_bytes(SMALL[False], [ALICE], trusted_signers=[SIGNER.verify_key])
    assert caught.value.rule == "signer"


@pytest.mark.parametrize("trusted", [None, [SIGNER.verify_key]], ids=["no-trust-list", "trusted"])
@pytest.mark.parametrize("envelope", [SMALL[True], MULTI[True]], ids=["small", "multi"])
@pytest.mark.parametrize("offset", [1, 20, 33, 64])
def test_altered_signature_is_refused(
    envelope: bytes, offset: int, trusted: Collection[VerifyKey] | None
) -> None:
    altered = flip(envelope, len(envelope) - offset, 5)

    with pytest.raises(VerificationError) as caught:
        open_bytes(altered, [ALICE], trusted_signers=trusted)
    assert caught.value.rule == "signature"


def test_signature_is_checked_without_any_private_key() -> None:
    for envelope in (SMALL[True], MULTI[True]):
        assert verify_signature(io.BytesIO(envelope), [SIGNER.verify_key]) == SIGNER.verify_key


@pytest.mark.parametrize(
    ("envelope", "trusted", "rule"),
    [
        (SMALL[False], [SIGNER.verify_key], "signer"),
        (SMALL[True], [OTHER_SIGNER.verify_key], "signer"),
        (SMALL[True], [], "signer"),
        (flip(SMALL[True], len(SMALL[True]) - 1, 0), [SIGNER.verify_key], "signature"),
        (flip(SMALL[True], len(SMALL[True]) - 100, 0), [SIGNER.verify_key], "signature"),
        (flip(MULTI[True], 100_000, 0), [SIGNER.verify_key], "signature"),
        (SMALL[True][:-1], [SIGNER.verify_key], "signature"),
        (SMALL[True] + b"\x00", [SIGNER.verify_key], "signature"),
        (SMALL[True][:-64], [SIGNER.verify_key], "signature"),
    ],
    ids=[
        "unsigned",
        "untrusted",
        "nobody-trusted",
        "signature-bit",
        "payload-bit",
        "long-payload-bit",
        "truncated",
        "extended",
        "signature-stripped",
    ],
)
def test_signature_check_alone_refuses(
    envelope: bytes, trusted: Collection[VerifyKey], rule: str
) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_signature(io.BytesIO(envelope), trusted)
    assert caught.value.rule == rule


def _b64(raw: bytes) -> bytes:
    return b64encode(raw).encode()


def _without_signer_line(envelope: bytes) -> bytes:
    parts = split_envelope(envelope)
    lines = parts.header.split(b"\n")
    kept = [line for line in lines if not line.startswith(C.ENVELOPE_SIGNER_TAG)]
    return b"\n".join(kept) + parts.stream_header + b"".join(parts.chunks)


def test_stripping_the_signature_breaks_the_header_mac() -> None:
    stripped = _without_signer_line(SMALL[True])

    with pytest.raises(DecryptionError):
        open_bytes(stripped, [ALICE])


def test_swapping_in_another_signer_breaks_the_header_mac() -> None:
    """A party without the file key can re-sign, but then no recipient can open it."""
    parts = split_envelope(SMALL[True])
    old_line = C.ENVELOPE_SIGNER_TAG + _b64(SIGNER.verify_key.raw)
    new_line = C.ENVELOPE_SIGNER_TAG + _b64(OTHER_SIGNER.verify_key.raw)
    body = parts.header.replace(old_line, new_line) + parts.stream_header + b"".join(parts.chunks)
    digest = hashlib.blake2b(body, digest_size=64, person=C.PERSON_SIGNED_DIGEST).digest()
    forged = body + OTHER_SIGNER.sign(C.SIG_CONTEXT_ENVELOPE, digest)

    assert verify_signature(io.BytesIO(forged), [OTHER_SIGNER.verify_key])
    with pytest.raises(DecryptionError):
        open_bytes(forged, [ALICE])


def test_signature_covers_the_whole_envelope() -> None:
    """PROTOCOL.md §5.7: BLAKE2b-512 of every byte before the signature, under a context."""
    envelope = MULTI[True]
    digest = hashlib.blake2b(envelope[:-64], digest_size=64, person=b"rz-env-signed-v1").digest()

    SIGNER.verify_key.verify(b"raazdar envelope v1", digest, envelope[-64:])


# open_to_path.


def test_open_to_path_writes_the_plaintext_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"

    opened = open_to_path(io.BytesIO(MULTI[True]), target, [ALICE])

    assert target.read_bytes() == MULTI_TEXT
    assert opened.length == len(MULTI_TEXT)
    assert opened.signer == SIGNER.verify_key
    assert os.listdir(tmp_path) == ["report.txt"]


def test_open_to_path_output_is_private_to_its_owner(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"

    open_to_path(io.BytesIO(SMALL[False]), target, [ALICE])

    assert stat.S_IMODE(target.stat().st_mode) == 0o600


FAILURES = {
    "wrong-key": (MULTI[False], [MALLORY], None),
    "truncated-after-two-chunks": (MULTI[False][: -BLOCK - 4096], [ALICE], None),
    "last-chunk-tampered": (flip(MULTI[False], len(MULTI[False]) - 5, 1), [ALICE], None),
    "signature-tampered": (flip(MULTI[True], len(MULTI[True]) - 5, 1), [ALICE], None),
    "untrusted-signer": (MULTI[True], [ALICE], [OTHER_SIGNER.verify_key]),
    "unsigned-but-signer-required": (MULTI[False], [ALICE], [SIGNER.verify_key]),
    "extended": (MULTI[False] + b"\x00", [ALICE], None),
    "garbage": (b"not an envelope", [ALICE], None),
    "empty": (b"", [ALICE], None),
}


@pytest.mark.parametrize(("envelope", "identities", "trusted"), FAILURES.values(), ids=FAILURES)
def test_open_to_path_leaves_nothing_behind_on_failure(
    envelope: bytes,
    identities: list[PrivateKey],
    trusted: Collection[VerifyKey] | None,
    tmp_path: Path,
) -> None:
    target = tmp_path / "report.txt"

    with pytest.raises(CryptoError):
        open_to_path(io.BytesIO(envelope), target, identities, trusted_signers=trusted)

    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_open_to_path_overwrites_the_unverified_plaintext_it_wrote_before_it_unlinks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks before the content's end are written as they arrive; an envelope cut short
    fails after three of them. The part file is unlinked then: its blocks on the stick
    must not still hold that plaintext, verified by nothing."""
    target = tmp_path / "report.txt"
    unlinked: dict[str, bytes] = {}
    real_unlink = os.unlink

    def unlink(path: str | os.PathLike[str]) -> None:
        with open(path, "rb") as f:  # the file's bytes as its last name goes
            unlinked[os.fspath(path)] = f.read()
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(DecryptionError):
        open_to_path(io.BytesIO(MULTI[False][: -BLOCK - 4096]), target, [ALICE])
    assert os.listdir(tmp_path) == []
    ((name, left),) = unlinked.items()
    assert name.endswith(".part")
    assert MULTI_TEXT[:4096] not in left, "the part file went with the unverified plaintext in it"
    assert left == bytes(len(left))


def test_open_to_path_keeps_an_existing_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_bytes(b"earlier")

    with pytest.raises(DecryptionError):
        open_to_path(io.BytesIO(MULTI[False][:-1]), target, [ALICE])

    assert target.read_bytes() == b"earlier"
    assert os.listdir(tmp_path) == ["report.txt"]


def test_open_to_path_replaces_an_existing_file_on_success(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_bytes(b"earlier")

    open_to_path(io.BytesIO(SMALL[False]), target, [ALICE])

    assert target.read_bytes() == SMALL_TEXT
    assert os.listdir(tmp_path) == ["report.txt"]


def test_open_envelope_releases_no_byte_of_a_single_chunk_envelope_that_fails() -> None:
    """The chunk in which the content ends is held back until everything verifies."""
    for envelope in (SMALL[True], *FULL_FINAL.values()):
        out = io.BytesIO()
        with pytest.raises(CryptoError):
            open_envelope(io.BytesIO(flip(envelope, len(envelope) - 1, 0)), out, [ALICE])
        assert out.getvalue() == b""


@pytest.mark.slow
@pytest.mark.parametrize("signed", [False, True], ids=SIGNED_IDS)
def test_every_bit_of_every_byte_is_protected(signed: bool) -> None:
    envelope = SMALL[signed]
    accepted = []
    for position in range(len(envelope)):
        for bit in range(8):
            try:
                open_bytes(flip(envelope, position, bit), [ALICE])
            except ERRORS:
                continue
            accepted.append((position, bit))

    assert accepted == []


# Envelopes a careless or hostile sealer could make: each chunk still authenticates,
# so only the opener's rules about the inner plaintext stand between them and a reader.


class _Crafting(SealingWriter):
    """A sealer that alters chosen chunks (bytes or tag) before encrypting them."""

    def __init__(self, dst: io.BytesIO, alter: Callable[[int, bytes, int], tuple[bytes, int]]):
        self._alter = alter
        self._index = 0
        super().__init__(dst, [ALICE.public_key], META)

    def _push(self, chunk: bytes | bytearray | memoryview, tag: int) -> None:
        altered, tag = self._alter(self._index, bytes(chunk), tag)
        self._index += 1
        super()._push(altered, tag)


def _crafted(text: bytes, alter: Callable[[int, bytes, int], tuple[bytes, int]]) -> bytes:
    out = io.BytesIO()
    with _Crafting(out, alter) as writer:
        writer.write(text)
    return out.getvalue()


def _unchanged(_index: int, chunk: bytes, tag: int) -> tuple[bytes, int]:
    return chunk, tag


# Content ending one byte into chunk 128: padding fills chunks 128-131 (Padmé's
# step is 256 KiB here), so two whole chunks hold nothing but zeros.
LONG_TEXT = hashlib.shake_256(b"long").digest(128 * C.CHUNK_BYTES + 1)
_PUSH_INDEX = 128


def _set_byte(at: int, in_chunk: int) -> Callable[[int, bytes, int], tuple[bytes, int]]:
    def alter(index: int, chunk: bytes, tag: int) -> tuple[bytes, int]:
        if index != in_chunk:
            return chunk, tag
        return chunk[:at] + b"\x01" + chunk[at + 1 :], tag

    return alter


def _retag(in_chunk: int, new_tag: int) -> Callable[[int, bytes, int], tuple[bytes, int]]:
    def alter(index: int, chunk: bytes, tag: int) -> tuple[bytes, int]:
        return chunk, new_tag if index == in_chunk else tag

    return alter


def test_the_crafting_sealer_makes_envelopes_that_open() -> None:
    assert open_bytes(_crafted(SMALL_TEXT, _unchanged), [ALICE])[0] == SMALL_TEXT
    assert open_bytes(_crafted(LONG_TEXT, _unchanged), [ALICE])[0] == LONG_TEXT


def test_a_non_zero_padding_byte_beside_the_content_is_refused() -> None:
    """A single-chunk envelope: its padding sits between the content and the trailer."""
    envelope = _crafted(SMALL_TEXT, _set_byte(len(SMALL_TEXT) + 5, in_chunk=0))

    with pytest.raises(FormatError, match="padding"):
        open_bytes(envelope, [ALICE])


def test_a_non_zero_byte_in_a_chunk_of_padding_alone_is_refused() -> None:
    """The padding chunks after the content's are checked as they stream past."""
    envelope = _crafted(LONG_TEXT, _set_byte(100, in_chunk=_PUSH_INDEX + 1))

    with pytest.raises(FormatError, match="padding"):
        open_bytes(envelope, [ALICE])


def test_a_second_chunk_marking_the_end_of_the_content_is_refused() -> None:
    envelope = _crafted(LONG_TEXT, _retag(_PUSH_INDEX + 1, _TAG_PUSH))

    with pytest.raises(FormatError, match="more than one chunk"):
        open_bytes(envelope, [ALICE])


def test_a_final_chunk_before_the_last_is_refused() -> None:
    envelope = _crafted(LONG_TEXT, _retag(_PUSH_INDEX + 1, _TAG_FINAL))

    with pytest.raises(DecryptionError, match="follows the final chunk"):
        open_bytes(envelope, [ALICE])


# An envelope held open: its header read once, then the envelope opened once.


def test_a_held_envelope_names_its_recipients_and_signer_then_opens() -> None:
    held = HeldEnvelope(io.BytesIO(SMALL[True]))

    assert [s.key_id for s in held.header.stanzas] == [
        ALICE.public_key.fingerprint.key_id,
        BOB.public_key.fingerprint.key_id,
    ]
    assert held.header.signer == SIGNER.verify_key
    out = io.BytesIO()
    opened = held.open(out, [BOB], trusted_signers=[SIGNER.verify_key])
    assert out.getvalue() == SMALL_TEXT
    assert opened.signer == SIGNER.verify_key


def test_a_held_envelope_opens_only_once() -> None:
    held = HeldEnvelope(io.BytesIO(MULTI[False]))
    held.open(io.BytesIO(), [ALICE])

    out = io.BytesIO()
    with pytest.raises(FormatError, match="read once"):
        held.open(out, [ALICE])
    assert out.getvalue() == b""


def test_a_held_envelope_refuses_an_untrusted_signer() -> None:
    held = HeldEnvelope(io.BytesIO(SMALL[True]))

    with pytest.raises(VerificationError):
        held.open(io.BytesIO(), [ALICE], trusted_signers=[OTHER_SIGNER.verify_key])


def test_a_recipient_swapped_into_a_held_header_is_refused_at_opening() -> None:
    """The header read ahead is a claim: naming Mallory in Bob's place breaks its MAC."""
    bob, mallory = (b64encode(k.public_key.fingerprint.key_id).encode() for k in (BOB, MALLORY))
    held = HeldEnvelope(io.BytesIO(SMALL[False].replace(bob, mallory, 1)))
    assert MALLORY.public_key.fingerprint.key_id in {s.key_id for s in held.header.stanzas}

    with pytest.raises(DecryptionError, match="header MAC"):
        held.open(io.BytesIO(), [ALICE])


def test_a_held_envelope_with_a_malformed_header_is_refused_before_any_key() -> None:
    with pytest.raises(FormatError):
        HeldEnvelope(io.BytesIO(b"not an envelope\n" + SMALL[False]))
