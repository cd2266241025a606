"""Argon2id settings: named, validated, and carried alongside what they protect."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id

from crypto import constants as C
from crypto.errors import CryptoError, FormatError


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id's work factors: passes over memory (`ops`) and memory in bytes (`mem`)."""

    ops: int
    mem: int

    INTERACTIVE: ClassVar[KdfParams]
    SENSITIVE: ClassVar[KdfParams]
    TESTING: ClassVar[KdfParams]

    def __post_init__(self) -> None:
        if not (argon2id.OPSLIMIT_MIN <= self.ops <= 16):
            raise FormatError("Argon2id ops out of range")
        if not (argon2id.MEMLIMIT_MIN <= self.mem <= 4 * 1024**3):
            raise FormatError("Argon2id memory out of range")

    @property
    def is_testing(self) -> bool:
        """Say whether these are the fast settings that only test suites may use."""
        return self.mem < C.ARGON2_MEM_INTERACTIVE

    def check_at_most(self, cap: KdfParams, what: str) -> None:
        """Refuse work factors above `cap` before any derivation runs with them."""
        if self.ops > cap.ops or self.mem > cap.mem:
            raise FormatError(
                f"{what} asks for more Argon2id work (ops {self.ops}, {self.mem >> 20} MiB)"
                f" than raazdar writes (ops {cap.ops}, {cap.mem >> 20} MiB)"
            )

    def to_dict(self) -> dict[str, Any]:
        """Serialise for JSON."""
        return {"alg": "argon2id13", "ops": self.ops, "mem": self.mem}

    @classmethod
    def from_dict(cls, value: Any) -> KdfParams:
        """Parse what `to_dict` wrote."""
        if not isinstance(value, dict) or set(value) != {"alg", "ops", "mem"}:
            raise FormatError("KDF parameters must have alg, ops and mem")
        if value["alg"] != "argon2id13":
            raise FormatError("unsupported KDF")
        ops, mem = value["ops"], value["mem"]
        if type(ops) is not int or type(mem) is not int:
            raise FormatError("KDF parameters must be integers")
        return cls(ops=ops, mem=mem)

    def derive(self, secret: bytes, salt: bytes, size: int) -> bytes:
        """Run Argon2id over `secret` with `salt`, returning `size` bytes."""
        if len(salt) != argon2id.SALTBYTES:
            raise FormatError(f"salt must be {argon2id.SALTBYTES} bytes")
        try:
            return bytes(argon2id.kdf(size, secret, salt, opslimit=self.ops, memlimit=self.mem))
        except (nacl.exceptions.CryptoError, MemoryError) as exc:
            raise CryptoError("key derivation failed (out of memory?)") from exc


KdfParams.INTERACTIVE = KdfParams(C.ARGON2_OPS_INTERACTIVE, C.ARGON2_MEM_INTERACTIVE)
KdfParams.SENSITIVE = KdfParams(C.ARGON2_OPS_SENSITIVE, C.ARGON2_MEM_SENSITIVE)
KdfParams.TESTING = KdfParams(C.ARGON2_OPS_TESTING, C.ARGON2_MEM_TESTING)


def normalize_passphrase(passphrase: str) -> bytes:
    """Encode a passphrase as NFC UTF-8, so the same words typed anywhere give one key."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")
