"""The one exception tree of `crypto/`: callers catch `CryptoError` and nothing else."""

from __future__ import annotations


class CryptoError(Exception):
    """Root of every error this package raises."""


class FormatError(CryptoError):
    """Input is not well formed: bad framing, encoding, lengths or fields."""


class UnsupportedVersionError(FormatError):
    """Input names a format or version this code does not implement."""


class DecryptionError(CryptoError):
    """Ciphertext could not be opened: wrong key, tampered, truncated or extended.

    Every decryption failure surfaces as this one error, whatever libsodium said,
    so that callers cannot build an oracle out of the distinctions.
    """


class VerificationError(CryptoError):
    """A signature or a keyring rule did not hold; `rule` names which one."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


class CodenameError(CryptoError):
    """A codename is malformed (unknown word, wrong length, bad checksum)."""
