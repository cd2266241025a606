"""Keyring timestamps: a short-lived, signed word that a keyring version is still the newest.

As in TUF, the keyring names a timestamp key; statements it signs hold for a
few days. A server that withholds a successor keyring can keep serving the
old one only until the last timestamp for it expires, since it holds no key
that makes a new one (docs/PROTOCOL.md §8.8). Format 2 also names the lowest
number of each named reviewer's subkey list a sealer may take, so a list
replaced after a leak is refused by devices with no memory of the newer one.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from crypto import constants as C
from crypto.encoding import b64decode, b64encode, canonical_json, parse_json_object
from crypto.errors import FormatError, UnsupportedVersionError, VerificationError
from crypto.fields import date, exact_object, integer, is_int, string
from crypto.keys import SigningKey
from crypto.manifest import Manifest

_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
_RECIPIENT: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class Timestamp:
    """One statement: keyring `version`, whose digest is `digest`, is the newest until `expires`."""

    version: int
    digest: bytes
    issued: dt.date
    expires: dt.date
    # Reviewer id -> the lowest subkey list number a sealer may take (format 2 when any).
    subkeys: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.version < 1 or len(self.digest) != 32:
            raise FormatError("a timestamp names a keyring version and its 32-byte digest")
        if not self.issued <= self.expires <= self.issued + dt.timedelta(C.TIMESTAMP_MAX_DAYS):
            raise FormatError(f"a timestamp holds 0-{C.TIMESTAMP_MAX_DAYS} days")
        ids = [rid for rid, _ in self.subkeys]
        if (
            ids != sorted(set(ids))
            or len(ids) > C.ENVELOPE_MAX_RECIPIENTS
            or not all(isinstance(r, str) and _RECIPIENT.fullmatch(r) for r in ids)
            or not all(type(n) is int and 1 <= n <= C.SUBKEYS_MAX_SEQUENCE for _, n in self.subkeys)
        ):
            raise FormatError(
                "a timestamp names each reviewer once, by id, with a subkey list number"
            )

    @property
    def format(self) -> int:
        """2 when it names subkey list numbers, else 1."""
        return C.TIMESTAMP_FORMAT_SUBKEYS if self.subkeys else C.TIMESTAMP_FORMAT

    def to_body(self) -> dict[str, Any]:
        """The JSON object the signature covers."""
        body: dict[str, Any] = {
            "type": C.TIMESTAMP_TYPE,
            "format": self.format,
            "version": self.version,
            "manifest": self.digest.hex(),
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat(),
        }
        if self.subkeys:
            body["subkeys"] = dict(self.subkeys)
        return body


@dataclass(frozen=True, slots=True)
class SignedTimestamp:
    """A timestamp and the timestamp key's signature over its canonical JSON."""

    timestamp: Timestamp
    signature: bytes

    def to_bytes(self) -> bytes:
        """Serialise as canonical JSON: `{"signature": …, "timestamp": …}`."""
        return canonical_json(
            {"timestamp": self.timestamp.to_body(), "signature": b64encode(self.signature)}
        )

    def to_json(self) -> dict[str, Any]:
        """The same, as an object to embed in a larger JSON document."""
        return {"timestamp": self.timestamp.to_body(), "signature": b64encode(self.signature)}

    @classmethod
    def from_json(cls, value: Any) -> SignedTimestamp:
        """Parse a signed timestamp; nothing in it is trusted until verified."""
        obj = exact_object(value, {"timestamp", "signature"}, "signed timestamp")
        fields = {"type", "format", "version", "manifest", "issued", "expires"}
        raw = obj["timestamp"]
        named = is_int(
            raw.get("format") if isinstance(raw, dict) else None, C.TIMESTAMP_FORMAT_SUBKEYS
        )
        body = exact_object(raw, fields | {"subkeys"} if named else fields, "timestamp")
        if body["type"] != C.TIMESTAMP_TYPE:
            raise FormatError("not a Raazdar keyring timestamp")
        if not named and not is_int(body["format"], C.TIMESTAMP_FORMAT):
            raise UnsupportedVersionError(f"unsupported timestamp format {body['format']!r}")
        floors = body["subkeys"] if named else {}
        if not isinstance(floors, dict) or (named and not floors):
            raise FormatError("a format 2 timestamp names at least one reviewer's list number")
        digest = string(body["manifest"], "manifest digest")
        if not _DIGEST.fullmatch(digest):
            raise FormatError("the manifest digest must be 64 lowercase hex digits")
        timestamp = Timestamp(
            version=integer(body["version"], "version"),
            digest=bytes.fromhex(digest),
            issued=date(body["issued"], "issued"),
            expires=date(body["expires"], "expires"),
            subkeys=tuple(sorted((rid, integer(n, "list number")) for rid, n in floors.items())),
        )
        signature = b64decode(string(obj["signature"], "signature"), length=C.SIGNATURE_BYTES)
        return cls(timestamp, signature)

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedTimestamp:
        """Parse the bytes `to_bytes` wrote."""
        return cls.from_json(parse_json_object(data, max_bytes=C.TIMESTAMP_MAX_BYTES))


def make_timestamp(
    manifest: Manifest,
    key: SigningKey,
    *,
    issued: dt.date,
    days: int,
    subkeys: Mapping[str, int] | None = None,
) -> SignedTimestamp:
    """Sign that `manifest` is the newest keyring from `issued` for `days` days.

    `subkeys` names, by reviewer id of `manifest`, the lowest subkey list number a
    sealer may take while the timestamp holds (format 2).
    """
    policy = manifest.timestamp
    if policy is None:
        raise FormatError("this keyring names no timestamp key (a format-1 keyring)")
    if key.verify_key != policy.key:
        raise FormatError("this is not the timestamp key the keyring names")
    if not 1 <= days <= policy.max_days:
        raise FormatError(f"this keyring's timestamps hold 1-{policy.max_days} days")
    floors = tuple(sorted((subkeys or {}).items()))
    if not {rid for rid, _ in floors} <= {r.id for r in manifest.recipients}:
        raise FormatError("a timestamp names only reviewers of the keyring it vouches for")
    stamp = Timestamp(
        manifest.version, manifest.digest(), issued, issued + dt.timedelta(days=days), floors
    )
    signature = key.sign(C.SIG_CONTEXT_TIMESTAMP, canonical_json(stamp.to_body()))
    return SignedTimestamp(stamp, signature)


def verify_timestamp(signed: SignedTimestamp, manifest: Manifest, today: dt.date) -> Timestamp:
    """Accept `signed` as proof that `manifest` is still the newest keyring today."""
    policy = manifest.timestamp
    if policy is None:
        raise VerificationError("freshness", "the keyring names no timestamp key")
    stamp = signed.timestamp
    policy.key.verify(C.SIG_CONTEXT_TIMESTAMP, canonical_json(stamp.to_body()), signed.signature)
    if stamp.version != manifest.version or not hmac.compare_digest(
        stamp.digest, manifest.digest()
    ):
        raise VerificationError("stale", "the timestamp vouches for another keyring version")
    if (stamp.expires - stamp.issued).days > policy.max_days:
        raise VerificationError("freshness", "the timestamp holds longer than the keyring allows")
    if stamp.issued > today + dt.timedelta(days=1):
        raise VerificationError("freshness", "the timestamp is dated in the future")
    if today > stamp.expires:
        raise VerificationError(
            "stale", f"the keyring's freshness timestamp expired on {stamp.expires.isoformat()}"
        )
    return stamp
