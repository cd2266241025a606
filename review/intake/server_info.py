"""The file `raazdar server-info --out` writes: what a new workspace pins, nothing secret."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from crypto import Fingerprint, VerifyKey

SERVER_INFO_TYPE: Final = "raazdar-server-info"
MAX_BYTES: Final = 64 * 1024


@dataclass(frozen=True)
class ServerInfo:
    """The instance id, the server's bundle-signing key, the keyring's authorities and version.

    The version is the server's word: it may only hold a new workspace back from
    starting at an older keyring, never make it trust anything.
    """

    instance_id: str
    server_key: VerifyKey
    authorities: tuple[Fingerprint, ...]
    keyring_version: int | None = None

    @classmethod
    def from_bytes(cls, data: bytes) -> ServerInfo:
        """Parse and check the file; ValueError or CryptoError says what is wrong."""
        if len(data) > MAX_BYTES:
            raise ValueError("the file is too large to be server info")
        try:
            obj: Any = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError("not JSON") from exc
        if not isinstance(obj, dict) or obj.get("type") != SERVER_INFO_TYPE:
            raise ValueError(f"not a {SERVER_INFO_TYPE} file")
        instance_id = obj.get("instance_id")
        if (
            not isinstance(instance_id, str)
            or len(instance_id) != 32
            or set(instance_id) - set("0123456789abcdef")
        ):
            raise ValueError("the instance id is not 32 hex digits")
        key = VerifyKey.from_text(str(obj.get("server_key")))
        # The fingerprint is what people read aloud: it must be the key's own.
        if Fingerprint.parse(str(obj.get("server_key_fingerprint"))) != key.fingerprint:
            raise ValueError("the server key's fingerprint does not match the key")
        authorities = obj.get("authorities")
        if not isinstance(authorities, list):
            raise ValueError("the authorities are not a list")
        version = obj.get("keyring_version")
        if version is not None and (type(version) is not int or version < 1):
            raise ValueError("the keyring version is not a positive whole number")
        fingerprints = tuple(Fingerprint.parse(str(a)) for a in authorities)
        return cls(instance_id, key, fingerprints, version)
