"""Onion service keys and client-authorisation keys in tor's text forms (known answers)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from crypto import FormatError
from crypto.onion import (
    CLIENT_AUTH_PREFIX,
    ClientAuthKey,
    OnionServiceKey,
    onion_id,
    parse_client_public,
    parse_private_line,
)

# RFC 7748, section 6.1: Alice's X25519 private key and its base-point multiple.
ALICE_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
ALICE_PRIVATE_B32 = "O4DW2CTTDCSX2PAWYFZFDMTGIXPUYL4H5PAJSKVRO752KHNZFQVA"
ALICE_PUBLIC_B32 = "QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5KU3JZVA"

# RFC 8032, section 7.1, test 1: an Ed25519 seed and its public key; the address is
# base32(public || SHA3-256(".onion checksum" || public || 0x03)[:2] || 0x03).
ED25519_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ED25519_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
ED25519_ONION = "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"

# Published v3 addresses whose checksums tor accepts.
KNOWN_ONIONS = [
    "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion",
    "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
]


def tor_expanded(seed: bytes) -> bytes:
    """Expand an Ed25519 seed as tor stores it: SHA-512, first half clamped."""
    digest = bytearray(hashlib.sha512(seed).digest())
    digest[0] &= 248
    digest[31] &= 127
    digest[31] |= 64
    return bytes(digest)


def test_client_public_key_is_the_base_point_multiple_of_the_private_key() -> None:
    key = ClientAuthKey.from_private_b32(ALICE_PRIVATE_B32)
    assert base64.b32decode(ALICE_PRIVATE_B32 + "====") == ALICE_PRIVATE
    assert key.private_b32 == ALICE_PRIVATE_B32
    assert key.public_b32 == ALICE_PUBLIC_B32
    assert base64.b32decode(key.public_b32 + "====") == ALICE_PUBLIC


def test_client_key_lines_have_the_forms_tor_reads() -> None:
    key = ClientAuthKey.from_private_b32(ALICE_PRIVATE_B32)
    assert key.public_line == f"descriptor:x25519:{ALICE_PUBLIC_B32}"
    line = key.private_line(KNOWN_ONIONS[0])
    assert line == f"{KNOWN_ONIONS[0].removesuffix('.onion')}:descriptor:x25519:{ALICE_PRIVATE_B32}"
    assert parse_private_line(line) == (KNOWN_ONIONS[0].removesuffix(".onion"), key)


def test_generated_client_keys_differ_and_round_trip() -> None:
    first, second = ClientAuthKey.generate(), ClientAuthKey.generate()
    assert first != second
    assert ClientAuthKey.from_private_b32(first.private_b32) == first
    assert parse_client_public(first.public_line) == first.public_b32
    assert len(first.public_b32) == len(first.private_b32) == 52


def test_repr_never_shows_the_private_key() -> None:
    key = ClientAuthKey.from_private_b32(ALICE_PRIVATE_B32)
    assert ALICE_PRIVATE_B32 not in repr(key)
    assert ALICE_PUBLIC_B32 in repr(key)


@pytest.mark.parametrize(
    "text",
    [
        ALICE_PUBLIC_B32,
        ALICE_PUBLIC_B32.lower(),
        f"  {CLIENT_AUTH_PREFIX}{ALICE_PUBLIC_B32}\n",
    ],
)
def test_client_public_key_is_read_in_the_forms_people_paste(text: str) -> None:
    assert parse_client_public(text) == ALICE_PUBLIC_B32


@pytest.mark.parametrize(
    "text",
    [
        "",
        ALICE_PUBLIC_B32[:-1],
        ALICE_PUBLIC_B32 + "A",
        ALICE_PUBLIC_B32[:-1] + "1",  # not in the alphabet
        ALICE_PUBLIC_B32[:-1] + "B",  # trailing bits set: non-canonical
        ALICE_PUBLIC_B32 + "====",
        f"descriptor:ed25519:{ALICE_PUBLIC_B32}",
        f"{CLIENT_AUTH_PREFIX}{ALICE_PUBLIC_B32} ClientAuthV3=X",  # no smuggled control words
        f"{CLIENT_AUTH_PREFIX}{ALICE_PUBLIC_B32}\r\nDEL_ONION x",
        base64.b32encode(bytes(32)).decode().rstrip("="),  # a low-order point
    ],
)
def test_bad_client_public_keys_are_refused(text: str) -> None:
    with pytest.raises(FormatError):
        parse_client_public(text)


@pytest.mark.parametrize(
    "line",
    [
        "",
        ALICE_PRIVATE_B32,
        f"{KNOWN_ONIONS[0]}:descriptor:x25519:{ALICE_PRIVATE_B32}",  # with .onion: not tor's form
        f"{KNOWN_ONIONS[0][:55]}:descriptor:x25519:{ALICE_PRIVATE_B32}",
        f"{KNOWN_ONIONS[0][:56]}:x25519:{ALICE_PRIVATE_B32}",
        f"{KNOWN_ONIONS[0][:56]}:descriptor:x25519:{ALICE_PRIVATE_B32[:-2]}",
    ],
)
def test_bad_private_lines_are_refused(line: str) -> None:
    with pytest.raises(FormatError):
        parse_private_line(line)


def test_onion_address_is_derived_from_the_expanded_service_key() -> None:
    key = OnionServiceKey(tor_expanded(ED25519_SEED))
    assert key.address == ED25519_ONION
    checksum = hashlib.sha3_256(b".onion checksum" + ED25519_PUBLIC + b"\x03").digest()[:2]
    spelled = base64.b32encode(ED25519_PUBLIC + checksum + b"\x03").decode().lower()
    assert key.address == f"{spelled}.onion"


def test_service_key_round_trips_through_tors_text_form() -> None:
    key = OnionServiceKey.generate()
    text = key.to_tor()
    assert text.startswith("ED25519-V3:")
    assert len(base64.b64decode(text.removeprefix("ED25519-V3:"))) == 64
    assert OnionServiceKey.from_tor(text + "\n").address == key.address
    assert OnionServiceKey.generate().address != key.address
    assert text.removeprefix("ED25519-V3:") not in repr(key)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "RSA1024:AAAA",
        "ED25519-V3:",
        "ED25519-V3:not base64!",
        "ED25519-V3:" + base64.b64encode(bytes(63)).decode(),
        "ED25519-V3:" + base64.b64encode(bytes(64)).decode(),  # the zero scalar
    ],
)
def test_bad_service_keys_are_refused(text: str) -> None:
    with pytest.raises(FormatError):
        OnionServiceKey.from_tor(text)


@pytest.mark.parametrize("address", KNOWN_ONIONS)
def test_known_onion_addresses_pass_the_checksum(address: str) -> None:
    assert onion_id(address) == address.removesuffix(".onion")
    assert onion_id(address.upper()) == address.removesuffix(".onion")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "example.onion",
        KNOWN_ONIONS[0][:55] + ".onion",
        # One character changed: the checksum no longer matches.
        "3" + KNOWN_ONIONS[0][1:],
        # A 16-character v2 address.
        "expyuzz4wqqyqhjn.onion",
    ],
)
def test_bad_onion_addresses_are_refused(address: str) -> None:
    with pytest.raises(FormatError):
        onion_id(address)


def test_the_service_key_file_is_tors_header_then_the_expanded_key() -> None:
    expanded = tor_expanded(ED25519_SEED)
    written = OnionServiceKey(expanded).to_tor_file()
    # tor's ed25519 key files: a 32-byte tag ("== ed25519v1-secret: type0 ==" and NULs).
    assert written[:32] == b"== ed25519v1-secret: type0 ==\0\0\0"
    assert written[32:] == expanded
    assert len(written) == 96
