"""What a format-2 keyring says about the instance: its onions, its server keys, its clock.

The authorities sign these with the reviewers, so neither the onion a source
talks to nor the key the workstation checks export bundles with is anybody's
word but theirs (docs/PROTOCOL.md §8.7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from crypto import constants as C
from crypto.errors import FormatError
from crypto.fields import exact_object, integer, list_of, string
from crypto.keys import VerifyKey
from crypto.onion import onion_id

_INSTANCE_ID: Final = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class InstanceListing:
    """The instance a keyring belongs to: its id, onion addresses and bundle-signing keys.

    Two onions (or two server keys) are listed during a changeover: the old and
    the new, until a later keyring drops the old one.
    """

    id: str
    onions: tuple[str, ...]
    server_keys: tuple[VerifyKey, ...]

    def __post_init__(self) -> None:
        if not _INSTANCE_ID.fullmatch(self.id):
            raise FormatError("an instance id is 32 lowercase hex digits")
        if not 1 <= len(self.onions) <= C.MANIFEST_MAX_ONIONS:
            raise FormatError(f"an instance lists 1-{C.MANIFEST_MAX_ONIONS} onion addresses")
        if any(f"{onion_id(o)}.onion" != o for o in self.onions):
            raise FormatError("onion addresses are listed as <56 characters>.onion, lowercase")
        if len(set(self.onions)) != len(self.onions):
            raise FormatError("an onion address is listed twice")
        if not 1 <= len(self.server_keys) <= C.MANIFEST_MAX_SERVER_KEYS:
            raise FormatError(f"an instance lists 1-{C.MANIFEST_MAX_SERVER_KEYS} server keys")
        if len(set(self.server_keys)) != len(self.server_keys):
            raise FormatError("a server key is listed twice")

    def lists_onion(self, host: str) -> bool:
        """Say whether `host` (an onion address, any case, subdomains allowed) is listed."""
        labels = host.lower().rstrip(".").split(".")
        return len(labels) >= 2 and f"{labels[-2]}.{labels[-1]}" in self.onions

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the keyring manifest."""
        return {
            "id": self.id,
            "onions": list(self.onions),
            "server_keys": [k.to_text() for k in self.server_keys],
        }

    @classmethod
    def from_dict(cls, value: Any) -> InstanceListing:
        """Parse what `to_dict` wrote, strictly."""
        obj = exact_object(value, {"id", "onions", "server_keys"}, "instance")
        return cls(
            id=string(obj["id"], "instance id"),
            onions=tuple(string(o, "onion") for o in list_of(obj["onions"], "onions")),
            server_keys=tuple(
                VerifyKey.from_text(string(k, "server key"))
                for k in list_of(obj["server_keys"], "server keys")
            ),
        )


@dataclass(frozen=True, slots=True)
class TimestampPolicy:
    """Who vouches that a keyring is still the newest, and for how long one word holds."""

    key: VerifyKey
    max_days: int

    def __post_init__(self) -> None:
        if not 1 <= self.max_days <= C.TIMESTAMP_MAX_DAYS:
            raise FormatError(f"a timestamp holds 1-{C.TIMESTAMP_MAX_DAYS} days")

    def to_dict(self) -> dict[str, Any]:
        """Serialise for the keyring manifest."""
        return {"key": self.key.to_text(), "max_days": self.max_days}

    @classmethod
    def from_dict(cls, value: Any) -> TimestampPolicy:
        """Parse what `to_dict` wrote, strictly."""
        obj = exact_object(value, {"key", "max_days"}, "timestamp")
        return cls(
            VerifyKey.from_text(string(obj["key"], "timestamp key")),
            integer(obj["max_days"], "max_days"),
        )
