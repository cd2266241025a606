"""The envelope header: grammar, limits, versions, stanzas, and the key schedule."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import pytest

from crypto import (
    DecryptionError,
    FormatError,
    Metadata,
    PrivateKey,
    SigningKey,
    UnsupportedVersionError,
    open_bytes,
    read_header,
    seal_bytes,
)
from crypto import constants as C
from crypto.encoding import b64encode
from crypto.envelope.header import header_mac, payload_key
from tests.crypto.support import split_envelope

Reshape = Callable[[list[bytes]], list[bytes]]
META = Metadata(kind="message")
ALICE = PrivateKey(bytes(range(32)))
BOB = PrivateKey(bytes([2]) * 32)
MALLORY = PrivateKey(bytes([0x66]) * 32)
SIGNER = SigningKey(bytes(range(32, 64)))
ENVELOPE = seal_bytes(b"report", [ALICE.public_key, BOB.public_key], META)
SIGNED = seal_bytes(b"report", [ALICE.public_key, BOB.public_key], META, signer=SIGNER)


def _lines(envelope: bytes) -> tuple[list[bytes], bytes]:
    """The header's lines (without LFs), and everything after the header."""
    parts = split_envelope(envelope)
    rest = envelope[len(parts.header) :]
    return parts.header.rstrip(b"\n").split(b"\n"), rest


def _rebuild(lines: list[bytes], rest: bytes) -> bytes:
    return b"\n".join(lines) + b"\n" + rest


def test_header_lines_follow_the_grammar() -> None:
    lines, _ = _lines(SIGNED)

    assert lines[0] == b"raazdar-envelope/v1"
    assert lines[1] == b"-> x25519 " + b64encode(ALICE.public_key.fingerprint.key_id).encode()
    assert len(lines[2]) == 107
    assert lines[3].startswith(b"-> x25519 ")
    assert lines[5] == b"-> ed25519 " + b64encode(SIGNER.verify_key.raw).encode()
    assert lines[6].startswith(b"--- ")
    assert len(lines[6]) == 4 + 43
    assert len(lines) == 7


@pytest.mark.parametrize(
    "version",
    [
        b"raazdar-envelope/v3",
        b"raazdar-envelope/v10",
        b"raazdar-envelope/",
        b"raazdar-envelope/v1.1",
    ],
)
def test_unknown_version_is_unsupported(version: bytes) -> None:
    lines, rest = _lines(ENVELOPE)
    envelope = _rebuild([version, *lines[1:]], rest)

    with pytest.raises(UnsupportedVersionError):
        read_header(io.BytesIO(envelope))
    with pytest.raises(UnsupportedVersionError):
        open_bytes(envelope, [ALICE])


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\n",
        b"hello world\n",
        b"raazdar-envelope/v1",
        b"RAAZDAR-ENVELOPE/V1\n-> x25519 ",
        b"age-encryption.org/v1\n-> X25519 abc\n",
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        bytes(5000),
        b"raazdar-envelope/v1\n" + b"a" * 200,
        b" raazdar-envelope/v1\n",
        b"\xef\xbb\xbfraazdar-envelope/v1\n",
    ],
    ids=[
        "empty",
        "newline",
        "text",
        "unterminated-version",
        "upper-case",
        "age",
        "png",
        "zeros",
        "long-line",
        "leading-space",
        "bom",
    ],
)
def test_garbage_is_malformed(garbage: bytes) -> None:
    with pytest.raises(FormatError) as caught:
        open_bytes(garbage, [ALICE])
    assert not isinstance(caught.value, UnsupportedVersionError)
    with pytest.raises(FormatError):
        read_header(io.BytesIO(garbage))


def _duplicate_stanza(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[1], lines[2], lines[1], lines[2], *lines[3:]]


def _stanza_after_signer(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[1], lines[2], lines[5], lines[3], lines[4], lines[6]]


def _two_signers(lines: list[bytes]) -> list[bytes]:
    return [*lines[:6], lines[5], lines[6]]


def _no_stanza(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[-1]]


def _low_order_signer(lines: list[bytes]) -> list[bytes]:
    return [*lines[:5], b"-> ed25519 " + b64encode(bytes([1]) + bytes(31)).encode(), lines[6]]


HEADER_DAMAGE: dict[str, Reshape] = {
    "duplicate-stanza": _duplicate_stanza,
    "stanza-after-signer": _stanza_after_signer,
    "two-signer-lines": _two_signers,
    "no-stanza": _no_stanza,
    "unknown-line": lambda lines: [lines[0], b"-> scrypt abc", *lines[1:]],
    "blank-line": lambda lines: [lines[0], b"", *lines[1:]],
    "crlf": lambda lines: [line + b"\r" for line in lines],
    "key-id-too-short": lambda lines: [lines[0], lines[1][:-1], *lines[2:]],
    "key-id-non-canonical": lambda lines: [lines[0], lines[1][:-1] + b"B", *lines[2:]],
    "key-id-padded": lambda lines: [lines[0], lines[1] + b"=", *lines[2:]],
    "body-too-short": lambda lines: [*lines[:2], lines[2][:-1], *lines[3:]],
    "body-too-long": lambda lines: [*lines[:2], lines[2] + b"A", *lines[3:]],
    "body-outside-alphabet": lambda lines: [*lines[:2], b"+" + lines[2][1:], *lines[3:]],
    "upper-case-tag": lambda lines: [lines[0], lines[1].replace(b"x25519", b"X25519"), *lines[2:]],
    "signer-too-short": lambda lines: [*lines[:5], lines[5][:-1], lines[6]],
    "signer-low-order": _low_order_signer,
    "mac-too-short": lambda lines: [*lines[:6], lines[6][:-1]],
    "mac-without-space": lambda lines: [*lines[:6], lines[6].replace(b"--- ", b"---")],
    "line-too-long": lambda lines: [lines[0], b"-> x25519 " + b"A" * 200, *lines[2:]],
}


@pytest.mark.parametrize("damage", HEADER_DAMAGE.values(), ids=HEADER_DAMAGE)
def test_malformed_header_is_refused(damage: Reshape) -> None:
    lines, rest = _lines(SIGNED)
    envelope = _rebuild(damage(lines), rest)

    with pytest.raises(FormatError):
        read_header(io.BytesIO(envelope))
    with pytest.raises(FormatError):
        open_bytes(envelope, [ALICE])


def test_too_many_stanzas_are_refused() -> None:
    lines, rest = _lines(ENVELOPE)
    stanzas = []
    for i in range(C.ENVELOPE_MAX_RECIPIENTS + 1):
        stanzas += [b"-> x25519 " + b64encode(i.to_bytes(8, "big")).encode(), lines[2]]
    envelope = _rebuild([lines[0], *stanzas, lines[-1]], rest)

    with pytest.raises(FormatError, match="too many"):
        read_header(io.BytesIO(envelope))


def test_a_stanza_relabelled_for_another_key_does_not_open() -> None:
    """Mallory's key id on Bob's stanza: the id matches, the sealed box does not."""
    lines, rest = _lines(ENVELOPE)
    mallory_id = b"-> x25519 " + b64encode(MALLORY.public_key.fingerprint.key_id).encode()
    envelope = _rebuild([lines[0], lines[1], lines[2], mallory_id, lines[4], *lines[5:]], rest)

    assert len(read_header(io.BytesIO(envelope)).stanzas) == 2
    with pytest.raises(DecryptionError):
        open_bytes(envelope, [MALLORY])


@pytest.mark.parametrize(
    "reshape",
    [
        pytest.param(
            lambda lines: [lines[0], lines[3], lines[4], lines[1], lines[2], lines[5]],
            id="stanzas-reordered",
        ),
        pytest.param(lambda lines: [lines[0], lines[1], lines[2], lines[5]], id="stanza-removed"),
        pytest.param(
            lambda lines: [lines[0], lines[1], lines[4], lines[3], lines[2], lines[5]],
            id="bodies-swapped",
        ),
    ],
)
def test_rearranged_stanzas_break_the_header_mac(reshape: Reshape) -> None:
    lines, rest = _lines(ENVELOPE)
    envelope = _rebuild(reshape(lines), rest)

    with pytest.raises(DecryptionError):
        open_bytes(envelope, [ALICE])


def test_header_alone_does_not_open() -> None:
    header = split_envelope(ENVELOPE).header

    assert len(read_header(io.BytesIO(header)).stanzas) == 2
    with pytest.raises(DecryptionError, match="truncated"):
        open_bytes(header, [ALICE])


def test_key_schedule_matches_the_specification() -> None:
    """PROTOCOL.md §5.4's known answers for file_key = 00 01 … 1f, and the MAC formula."""
    file_key = bytes(range(32))
    mac_key = hashlib.blake2b(b"", digest_size=32, key=file_key, person=b"rz-env-hdrmac-v1")
    mac_input, stream_header = b"raazdar-envelope/v1\n---", bytes(range(24))

    assert payload_key(file_key).hex() == (
        "95d7b7554081284ae2e16472097ae8bf583d03432c0c565ca6ccf9d9256354dc"
    )
    assert mac_key.hexdigest() == "39d39bbb151d737b2b637e7dfaa01e55aa8c38a135f7060036fdc780a70a05c9"
    assert (
        header_mac(file_key, mac_input, stream_header)
        == hashlib.blake2b(
            mac_input + stream_header, digest_size=32, key=mac_key.digest(), person=b"rz-env-mac-v1"
        ).digest()
    )


def test_header_mac_depends_on_every_input() -> None:
    base = header_mac(bytes(32), b"header", bytes(24))

    assert header_mac(bytes([1]) + bytes(31), b"header", bytes(24)) != base
    assert header_mac(bytes(32), b"headeR", bytes(24)) != base
    assert header_mac(bytes(32), b"header", bytes([1]) + bytes(23)) != base
    assert payload_key(bytes(32)) != header_mac(bytes(32), b"", b"")
