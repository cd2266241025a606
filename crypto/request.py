"""Request proofs of the submission API: a source's signature over one server challenge.

A proof signs the challenge, the method, the path, the upload offset (if any)
and a BLAKE2b digest of the body, so it authenticates exactly one request: the
server accepts each challenge once, and a proof for one request says nothing
about any other (docs/PROTOCOL.md §16).
"""

from __future__ import annotations

import re
from typing import Any, Final

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, blake2b, blake2b_hasher, canonical_json
from crypto.errors import FormatError, VerificationError
from crypto.keys import SigningKey, VerifyKey

_METHOD: Final = re.compile(r"[A-Z]{1,16}")
# An absolute path of printable ASCII: what the API's routes are made of.
_PATH: Final = re.compile(r"/[!-~]{0,1023}")
_MAX_CHALLENGE_CHARS: Final = 1024
DIGEST_BYTES: Final = 32


class BodyHasher:
    """Hash a request body as it streams, for a proof over a body too large to hold."""

    __slots__ = ("_hasher",)

    def __init__(self) -> None:
        self._hasher: Any = blake2b_hasher(person=C.PERSON_API_BODY, size=DIGEST_BYTES)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Hash more of the body."""
        self._hasher.update(data)

    def digest(self) -> bytes:
        """The body digest (32 bytes)."""
        return bytes(self._hasher.digest())


def body_digest(data: bytes) -> bytes:
    """Return the digest of a whole request body (an empty body has one too)."""
    return blake2b(data, person=C.PERSON_API_BODY, size=DIGEST_BYTES)


def request_message(
    challenge: str, method: str, path: str, digest: bytes, offset: int | None = None
) -> bytes:
    """Return the canonical bytes a proof signs, refusing malformed parts."""
    if not isinstance(challenge, str) or not 0 < len(challenge) <= _MAX_CHALLENGE_CHARS:
        raise FormatError("malformed challenge")
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise FormatError("malformed method")
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise FormatError("malformed path")
    if len(digest) != DIGEST_BYTES:
        raise FormatError(f"a body digest is {DIGEST_BYTES} bytes")
    if offset is not None and (type(offset) is not int or not 0 <= offset <= 2**53):
        raise FormatError("malformed offset")
    return canonical_json(
        {
            "body": b64encode(digest),
            "challenge": challenge,
            "method": method,
            "offset": offset,
            "path": path,
        }
    )


def sign_request(
    signing_key: SigningKey,
    challenge: str,
    method: str,
    path: str,
    digest: bytes,
    offset: int | None = None,
) -> str:
    """Sign one request; returns the proof as base64url for the `Raazdar-Signature` header."""
    message = request_message(challenge, method, path, digest, offset)
    return b64encode(signing_key.sign(C.SIG_CONTEXT_API_REQUEST, message))


def verify_request(
    verify_key: VerifyKey,
    signature: str,
    challenge: str,
    method: str,
    path: str,
    digest: bytes,
    offset: int | None = None,
) -> None:
    """Check a proof made by `sign_request`, or raise `VerificationError("signature")`."""
    try:
        raw = b64decode(signature, length=C.SIGNATURE_BYTES)
        message = request_message(challenge, method, path, digest, offset)
    except FormatError as exc:
        raise VerificationError("signature", "malformed request proof") from exc
    verify_key.verify(C.SIG_CONTEXT_API_REQUEST, message, raw)
