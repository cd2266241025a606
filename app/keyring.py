"""The keyring in force: the pinned authority set and the verified chain of manifests."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import InstanceError, KeyringUnavailable
from app.instance import InstancePaths, write_private
from app.noatime import read_quietly
from crypto import CryptoError, Fingerprint, Manifest, SignedManifest, verify_chain, verify_initial


@dataclass(frozen=True)
class KeyringState:
    """The outcome of checking the keyring on disk: a manifest in force, or why not."""

    manifest: Manifest | None
    chain: tuple[SignedManifest, ...] = ()
    pinned: frozenset[Fingerprint] = field(default_factory=frozenset)
    problem: str | None = None

    def require(self) -> Manifest:
        """Return the manifest in force, or raise `KeyringUnavailable`."""
        if self.manifest is None:
            raise KeyringUnavailable(self.problem or "no keyring")
        return self.manifest


def manifest_path(paths: InstancePaths, version: int) -> Path:
    """Where version `version` of the manifest is kept."""
    return paths.manifests / f"{version:06d}.json"


def pin_authorities(paths: InstancePaths, signed: SignedManifest, today: dt.date) -> None:
    """Pin a first manifest's authority set and install it as version 1 (at `init`)."""
    if paths.pinned.exists():
        raise InstanceError("authority keys are already pinned for this instance")
    manifest = signed.manifest
    # Dates too: an instance must not start life with a keyring already expired.
    verify_initial(signed, manifest.authority_fingerprints, today)
    pinned = sorted(str(fp) for fp in manifest.authority_fingerprints)
    write_private(paths.pinned, json.dumps({"authority": pinned}, indent=2).encode() + b"\n")
    write_private(manifest_path(paths, manifest.version), signed.to_bytes())


def read_pinned(paths: InstancePaths) -> frozenset[Fingerprint]:
    """Read the authority fingerprints pinned at `init`."""
    obj = json.loads(read_quietly(paths.pinned).decode("utf-8"))
    return frozenset(Fingerprint.parse(text) for text in obj["authority"])


def load_keyring(paths: InstancePaths, today: dt.date) -> KeyringState:
    """Verify the chain from the pinned authorities to the newest manifest on disk."""
    try:
        pinned = read_pinned(paths)
    except (OSError, ValueError, KeyError, CryptoError):
        return KeyringState(None, problem="no pinned authority keys")
    try:
        chain = tuple(
            SignedManifest.from_bytes(read_quietly(p))
            for p in sorted(paths.manifests.glob("*.json"))
        )
        if not chain:
            return KeyringState(None, pinned=pinned, problem="no keyring manifest installed")
        manifest = verify_chain(pinned, chain, today)
    except (OSError, CryptoError) as exc:
        return KeyringState(None, pinned=pinned, problem=f"keyring does not verify: {exc}")
    return KeyringState(manifest, chain, pinned)


class KeyringCache:
    """Re-verify the keyring when the files change or the day turns, not on every request."""

    def __init__(self, paths: InstancePaths) -> None:
        self._paths = paths
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._state = KeyringState(None, problem="not loaded")

    def state(self, today: dt.date) -> KeyringState:
        """Return the current state, reloading if anything it depends on changed."""
        try:
            stamp = tuple(
                (p.name, p.stat().st_size, p.stat().st_mtime_ns)
                for p in sorted(self._paths.manifests.glob("*.json"))
            )
        except OSError:
            stamp = ()
        key = (today, stamp)
        with self._lock:
            if key != self._key:
                self._state = load_keyring(self._paths, today)
                self._key = key
            return self._state
