"""The server's own keys as the keyring lists them, and their rotation.

The keyring (format 2) lists the source onion address(es) and the bundle-signing
key(s) of the instance. Neither may change behind the authorities' backs, so a
rotation makes the new key *pending* beside the old one and prints what the
authorities must list; the server switches to it only when a keyring listing it
is installed (`promote`). The Flask secret key is not in the keyring: rotating
it ends every session at the next start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from app.errors import InstanceError
from app.files import replace_overwriting
from app.instance import InstanceConfig, InstancePaths, write_private
from app.keyring import keyring_held, load_keyring, write_replacing_key, write_whole
from crypto import CodenameParams, CryptoError, InstanceListing, Manifest, SigningKey, VerifyKey
from crypto.onion import OnionServiceKey

PENDING_SIGNING_NAME: Final = "server_signing_key.next"
SOURCE_ONION_NAME: Final = "source-onion.key"
NEXT_ONION_NAME: Final = "source-onion.next.key"
SERVER_INFO_TYPE: Final = "raazdar-server-info"
_SECRET_CHECK_PERSON: Final = b"rz-secret-check1"


@dataclass(frozen=True)
class Promoted:
    """What installing a keyring switched over to."""

    signing_key: bool = False
    onion: bool = False


def tor_dir(paths: InstancePaths) -> Path:
    """The instance's tor directory (onion keys, staff clients)."""
    return paths.root / "tor"


def pending_signing_path(paths: InstancePaths) -> Path:
    """Where a new bundle-signing key waits for a keyring that lists it."""
    return paths.root / PENDING_SIGNING_NAME


def onion_paths(paths: InstancePaths) -> tuple[Path, Path]:
    """The source onion's key, and the next one's during a changeover."""
    return tor_dir(paths) / SOURCE_ONION_NAME, tor_dir(paths) / NEXT_ONION_NAME


def make_source_onion(paths: InstancePaths) -> str:
    """Create the source onion's key if there is none (tor would on first publish)."""
    current, _ = onion_paths(paths)
    if not current.exists():
        current.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(current, OnionServiceKey.generate().to_tor().encode() + b"\n")
    return _address(current)


def onion_addresses(paths: InstancePaths) -> tuple[str, ...]:
    """The source onion's address, and the next one's during a changeover."""
    return tuple(_address(p) for p in onion_paths(paths) if p.exists())


def server_keys(paths: InstancePaths) -> tuple[VerifyKey, ...]:
    """The bundle-signing key in use, and the pending one during a rotation."""
    found = []
    for path in (paths.signing_key, pending_signing_path(paths)):
        if path.exists():
            found.append(_signing(path).verify_key)
    return tuple(found)


def instance_listing(paths: InstancePaths, config: InstanceConfig) -> InstanceListing:
    """What the next keyring should list for this instance: every key it holds now."""
    return InstanceListing(config.instance_id, onion_addresses(paths), server_keys(paths))


def instance_description(paths: InstancePaths, config: InstanceConfig) -> dict[str, Any]:
    """The instance's part of a keyring draft, for `raazdar-review keys draft --instance`."""
    return {
        "type": "raazdar-instance",
        "instance": instance_listing(paths, config).to_dict(),
        "codename": CodenameParams(config.salt, config.kdf).to_dict(),
    }


def check_listing(manifest: Manifest, paths: InstancePaths, config: InstanceConfig) -> None:
    """Refuse a format-2 keyring that does not describe this instance as it is."""
    listing = manifest.instance
    if listing is None:
        return
    if listing.id != config.instance_id:
        raise InstanceError("the keyring lists another instance (its instance id differs)")
    if manifest.codename != CodenameParams(config.salt, config.kdf):
        raise InstanceError(
            "the keyring's codename salt or KDF differs from this instance's: "
            "installing it would lock every source out"
        )
    if not set(server_keys(paths)) & set(listing.server_keys):
        raise InstanceError("the keyring lists none of this server's bundle-signing keys")
    # The onions are not checked here: behind Onionbalance the keyring lists the
    # master address, which no single host holds (`keyring show` says so).


def promote(manifest: Manifest, paths: InstancePaths) -> Promoted:
    """Switch to a pending signing key or onion once the keyring in force lists it alone."""
    listing = manifest.instance
    if listing is None:
        return Promoted()
    pending = pending_signing_path(paths)
    signing = (
        pending.exists()
        and _signing(pending).verify_key in listing.server_keys
        and _signing(paths.signing_key).verify_key not in listing.server_keys
    )
    current, following = onion_paths(paths)
    onion = (
        following.exists()
        and _address(following) in listing.onions
        and _address(current) not in listing.onions
    )
    # Under the keyring's lock: the sweep makes these files anew (`keyring_held`), and
    # its copy of the old key must never go in over the one switched to.
    with keyring_held(paths):
        if signing:
            _switch(pending, paths.signing_key)
        if onion:
            _switch(following, current)
    return Promoted(signing, onion)


def finish_promotion(paths: InstancePaths, today: dt.date) -> Promoted:
    """Switch keys as the keyring in force asks, if an install was cut off before it did.

    `keyring install` writes the manifest, then switches: a crash or a full disk
    between the two left the keyring listing the new key alone while the server
    used the old one (exports the workstation refuses, an onion the keyring no
    longer lists), and the same keyring cannot be installed twice. Export and
    `serve` call this first; it does nothing once the switch is made.
    """
    manifest = load_keyring(paths, today).manifest
    return Promoted() if manifest is None else promote(manifest, paths)


def _switch(new: Path, old: Path) -> None:
    """Put `new` in place of `old`; a concurrent switch that got there first is no error."""
    with contextlib.suppress(FileNotFoundError):
        replace_overwriting(new, old)


def pending_signing_key(paths: InstancePaths) -> VerifyKey | None:
    """The bundle-signing key waiting for a keyring that lists it, or None."""
    pending = pending_signing_path(paths)
    return _signing(pending).verify_key if pending.exists() else None


def pending_onion(paths: InstancePaths) -> str | None:
    """The next source onion's address during a changeover, or None."""
    _, following = onion_paths(paths)
    return _address(following) if following.exists() else None


def rotate_signing_key(paths: InstancePaths) -> VerifyKey:
    """Make a new bundle-signing key, pending until a keyring lists it; return its public key."""
    pending = pending_signing_path(paths)
    if pending.exists():
        raise InstanceError(
            "a new signing key is already pending: have the authorities list it "
            f"({_signing(pending).verify_key.to_text()}), or remove {pending} to start over"
        )
    key = SigningKey.generate()
    _write_key(pending, key.to_text().encode() + b"\n")
    return key.verify_key


def rotate_onion(paths: InstancePaths) -> str:
    """Make the next source onion key, published beside the old one; return its address."""
    make_source_onion(paths)
    _, following = onion_paths(paths)
    if following.exists():
        raise InstanceError(
            f"a next onion is already made ({_address(following)}): have the authorities list "
            f"it, or remove {following} to start over"
        )
    _write_key(following, OnionServiceKey.generate().to_tor().encode() + b"\n")
    return _address(following)


def pending_secret_path(paths: InstancePaths) -> Path:
    """Where a new secret key waits while the staff's second factors are sealed under it."""
    return paths.pending_secret_key


def rotate_secret_key(paths: InstancePaths) -> bytes:
    """Write a new Flask secret key beside the one in use, and return it (`switch_secret_key`).

    The staff's second factors are sealed under it before it replaces the old one: put
    in place first, a failure before they were sealed again lost every one of them.
    A pending key left by a rotation cut off before its database change is replaced.
    """
    key = secrets.token_bytes(32)
    write_replacing_key(pending_secret_path(paths), key)
    return key


def secret_key_check(key: bytes) -> str:
    """A check of a secret key for the audit entry of its rotation (it says nothing of the key).

    A rotation cut off after its commit and before its switch is told by it
    (`raazdar rotate secret-key` finishes it): told by a second factor sealed under
    the waiting key, an instance where nobody has one yet dropped the committed key.
    """
    return hashlib.blake2b(
        b"", key=key[:32], person=_SECRET_CHECK_PERSON, digest_size=16
    ).hexdigest()


def switch_secret_key(paths: InstancePaths) -> None:
    """Put the pending secret key in place: every session and API challenge made before ends."""
    replace_overwriting(pending_secret_path(paths), paths.secret_key)


def _write_key(path: Path, data: bytes) -> None:
    """Put a new key file in place whole, flushed, never over another.

    Written in place, a full disk or a kill before its last byte left a cut key that
    every export, keyring install and the next rotation failed to read.
    """
    write_whole(path, data, os.link)


def _signing(path: Path) -> SigningKey:
    try:
        return SigningKey.from_text(path.read_text("ascii").strip())
    except (OSError, UnicodeDecodeError, CryptoError) as exc:
        raise InstanceError(f"cannot read the signing key {path}: {exc}") from exc


def _address(path: Path) -> str:
    try:
        return OnionServiceKey.from_tor(path.read_text("ascii")).address
    except (OSError, UnicodeDecodeError, CryptoError) as exc:
        raise InstanceError(f"cannot read the onion key {path}: {exc}") from exc


def server_info(
    paths: InstancePaths,
    config: InstanceConfig,
    keyring_version: int | None,
    authorities: tuple[str, ...],
) -> dict[str, Any]:
    """What the review workstation pins (`raazdar-review workspace init --server-info`).

    Nothing secret.
    """
    key = _signing(paths.signing_key).verify_key
    return {
        "type": SERVER_INFO_TYPE,
        "instance_id": config.instance_id,
        "server_key": key.to_text(),
        "server_key_fingerprint": str(key.fingerprint),
        "keyring_version": keyring_version,
        "authorities": list(authorities),
        "onions": list(onion_addresses(paths)),
    }
