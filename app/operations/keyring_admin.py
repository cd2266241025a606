"""Installing a successor keyring manifest, and describing the keyring for administrators.

The server adds a manifest only when `crypto`'s rules accept it as the successor of
the one in force: a higher version, chained by hash, unexpired, signed by the
threshold of the *current* authority set, and never a lower format (a format-3
keyring, which turns forward secrecy on, is followed only by format 3). An
administrator's login, or anyone who gets into the server, therefore cannot swap
in a key of their own, nor turn sealing to subkeys off: only the authorities'
signatures can. A refused manifest leaves no file behind.

In the same commit, every staff account bound to a reviewer the new keyring no
longer lists is locked (`app.reviewer_accounts.lock_revoked`): the revocation the
authorities signed reaches the server's own gate too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from app import reviewer_accounts
from app.errors import AppError, InstanceError
from app.instance import InstancePaths, load_config
from app.keyring import (
    KeyringState,
    chain_order,
    fresh_timestamp,
    manifest_path,
    read_pinned,
    write_whole,
)
from app.models import today as current_day
from app.operations.rotation import Promoted, check_listing, promote
from app.services import audit
from app.services.context import services
from crypto import (
    CryptoError,
    Fingerprint,
    Manifest,
    SignedManifest,
    check_lifetime,
    check_names,
    check_step,
    verify_chain,
    verify_successor,
)
from crypto.constants import MANIFEST_MAX_BYTES
from crypto.manifest import format_digest

log = logging.getLogger(__name__)

# Below this many days before expiry, the admin pages and `keyring show` warn.
EXPIRY_WARNING_DAYS: Final = 30
# Below this many days before the keyring timestamp expires, `keyring show` warns.
TIMESTAMP_WARNING_DAYS: Final = 3
# What a manifest file may weigh; anything larger is refused before it is parsed.
MAX_BYTES: Final = MANIFEST_MAX_BYTES


class KeyringInstallError(AppError):
    """A manifest was refused; the message says which rule failed and is safe to show."""

    status = 400


class KeyringWriteError(KeyringInstallError):
    """A manifest that verified could not be written (a full disk, say); nothing was installed."""

    status = 500


@dataclass(frozen=True)
class Installed:
    """What an install changed, for the page and the console to report."""

    version: int
    previous: int
    expires: dt.date
    reviewers: int
    promoted: Promoted = field(default_factory=Promoted)
    # Format 3: from now on reports are sealed only to the reviewers' weekly subkeys.
    seals_to_subkeys: bool = False
    # The staff accounts locked because the keyring no longer lists the reviewer bound to them,
    # each with None, or with the name of such an account that set its password.
    locked: tuple[tuple[str, str | None], ...] = ()
    # The staff-onion devices revoked with each account bound to a reviewer it no longer lists.
    devices: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyInfo:
    """A named key and its fingerprint."""

    name: str
    fingerprint: str


@dataclass(frozen=True)
class ReviewerInfo:
    """A reviewer of a manifest: their keys' fingerprints (the X-Wing key's from format 3)."""

    id: str
    name: str
    encryption: str
    signing: str
    hybrid: str | None = None


@dataclass(frozen=True)
class VersionInfo:
    """One manifest of the chain, as people read it."""

    version: int
    issued: dt.date
    expires: dt.date
    threshold: int
    authorities: tuple[KeyInfo, ...]
    reviewers: tuple[ReviewerInfo, ...]
    # As `raazdar-review keys show` writes it: a pins file's `keyring VERSION DIGEST` line.
    digest: str = ""


@dataclass(frozen=True)
class KeyringInfo:
    """The keyring for the admin page and `keyring show`: the manifest in force and its chain."""

    in_force: VersionInfo | None
    problem: str | None
    chain: tuple[VersionInfo, ...]
    pinned: tuple[str, ...]
    days_left: int | None
    format: int | None = None
    onions: tuple[str, ...] = ()
    server_keys: tuple[str, ...] = ()
    timestamp_expires: dt.date | None = None
    timestamp_days_left: int | None = None

    @property
    def expiring_soon(self) -> bool:
        """Say whether the manifest in force expires within the warning period."""
        return self.days_left is not None and self.days_left < EXPIRY_WARNING_DAYS

    @property
    def timestamp_stale_soon(self) -> bool:
        """Say whether clients will soon refuse the keyring for want of a fresh timestamp."""
        if self.format is None or self.format < 2:
            return False
        return self.timestamp_days_left is None or self.timestamp_days_left < TIMESTAMP_WARNING_DAYS


def describe(state: KeyringState | None = None, today: dt.date | None = None) -> KeyringInfo:
    """Describe the keyring in force (the app's cached state unless given), newest first."""
    if state is None:
        services().timestamp()  # a demo instance renews its own first
        state = services().keyring()
    today = today if today is not None else current_day()
    manifest = state.manifest
    stamp = fresh_timestamp(state, today)
    listing = manifest.instance if manifest is not None else None
    return KeyringInfo(
        in_force=_version(manifest) if manifest is not None else None,
        problem=state.problem,
        chain=tuple(_version(s.manifest) for s in reversed(state.chain)),
        pinned=tuple(sorted(str(fp) for fp in state.pinned)),
        days_left=(manifest.expires - today).days if manifest is not None else None,
        format=manifest.format if manifest is not None else None,
        onions=listing.onions if listing is not None else (),
        server_keys=tuple(k.to_text() for k in listing.server_keys) if listing else (),
        timestamp_expires=stamp.expires if stamp is not None else None,
        timestamp_days_left=(stamp.expires - today).days if stamp is not None else None,
    )


def install(session: Session, data: bytes, *, actor: str) -> Installed:
    """Verify `data` as the successor of the manifest in force and install it (caller commits).

    The audit entry is appended first: it updates the audit head row, which
    queues concurrent installs (from the web and the console, on any host), so
    two successors of one version can never both land and break the chain.
    """
    candidate = _parse(data)
    new = candidate.manifest
    recorded = audit.newest_keyring(session)  # before this install's own entry
    reviewer_accounts.hold_unlisted(session, new)
    audit.record(
        session,
        actor,
        audit.KEYRING_INSTALLED,
        version=new.version,
        reviewers=sorted(str(r.encryption_key.fingerprint) for r in new.recipients),
        authorities=sorted(str(fp) for fp in new.authority_fingerprints),
    )
    paths = services().paths
    today = current_day()
    pinned, files = _read_chain(paths)
    target = manifest_path(paths, new.version)
    # The very manifest in force already, newer than the log records: an install put it in
    # place and its commit never came (the database gone, the command killed). It is
    # checked as its successor again, and this install records it, writing nothing.
    unrecorded = (
        target.name == max(files)
        and files[target.name].to_bytes() == candidate.to_bytes()
        and (recorded or 1) < new.version
    )
    before = {name: m for name, m in files.items() if not (unrecorded and name == target.name)}
    if not before:
        raise KeyringInstallError("manifest refused: it would replace the first keyring")
    current = _newest(pinned, before)
    try:
        verify_successor(current, candidate, today)
        check_lifetime(new)
        check_step(current, new)
        check_names(new)
        # The chain exactly as the keyring cache will read it once the file is in place.
        after = {**files, target.name: candidate}
        verify_chain(pinned, [after[name] for name in sorted(after, key=chain_order)], today)
    except CryptoError as exc:
        raise KeyringInstallError(f"manifest refused: {exc}") from exc
    try:
        check_listing(new, paths, load_config(paths))
    except InstanceError as exc:
        raise KeyringInstallError(f"manifest refused: {exc}") from exc
    # In this commit: a reviewer the keyring drops logs in no more, from this very install on.
    locked, revoked = reviewer_accounts.lock_revoked(session, actor, new)
    if not unrecorded:
        _write_new(target, candidate.to_bytes())
    try:
        promoted = promote(new, paths)
    except OSError as exc:
        # The manifest is in force now, and its record goes in with it: rolled back, the
        # audit log no longer knew the version that finds a rollback of the files, and
        # the next install of it was refused as done. The next export or start makes the
        # switch (`app.operations.rotation.finish_promotion`).
        log.warning(
            "keyring: v%d installed; the switch to the keys it lists failed (%s): the next "
            "export or start makes it",
            new.version,
            exc.strerror or type(exc).__name__,
        )
        promoted = Promoted()
    return Installed(
        new.version,
        current.version,
        new.expires,
        len(new.recipients),
        promoted,
        seals_to_subkeys=new.seals_to_subkeys,
        locked=tuple(locked),
        devices=revoked,
    )


def _parse(data: bytes) -> SignedManifest:
    if len(data) > MAX_BYTES:
        raise KeyringInstallError(f"not a keyring manifest: larger than {MAX_BYTES} bytes")
    try:
        return SignedManifest.from_bytes(data)
    except CryptoError as exc:
        raise KeyringInstallError(f"not a keyring manifest: {exc}") from exc


def _read_chain(paths: InstancePaths) -> tuple[frozenset[Fingerprint], dict[str, SignedManifest]]:
    try:
        pinned = read_pinned(paths)
        files = {
            p.name: SignedManifest.from_bytes(p.read_bytes())
            for p in sorted(paths.manifests.glob("*.json"), key=lambda p: chain_order(p.name))
        }
    except (OSError, ValueError, KeyError, CryptoError) as exc:
        raise KeyringInstallError(f"the keyring on this server cannot be read: {exc}") from exc
    if not files:
        raise KeyringInstallError(
            "no keyring is installed on this server: the first one is installed by `raazdar init`"
        )
    return pinned, files


def _newest(pinned: frozenset[Fingerprint], files: dict[str, SignedManifest]) -> Manifest:
    """The newest manifest of a chain that verifies, whatever its dates.

    The manifest in force may have expired: a successor must still be installable
    then, so the chain's own dates are checked as of its newest manifest's issue
    day, and only the candidate is held to today.
    """
    chain = [files[name] for name in sorted(files, key=chain_order)]
    try:
        return verify_chain(pinned, chain, chain[-1].manifest.issued)
    except CryptoError as exc:
        raise KeyringInstallError(f"the keyring on this server does not verify: {exc}") from exc


def _write_new(target: Path, data: bytes) -> None:
    """Write `target` whole or not at all, and never over an existing file.

    `write_whole` flushes the bytes under a name the keyring cache never reads,
    then hard-links them into place, which fails if the version exists.
    """
    try:
        write_whole(target, data, os.link)
    except FileExistsError as exc:
        raise KeyringInstallError(f"version {int(target.stem)} is already installed") from exc
    except OSError as exc:
        raise KeyringWriteError(
            f"the manifest could not be written, so nothing was installed: {exc.strerror or exc}"
        ) from exc
    # The version is in place and visible; making its name durable is best effort.
    with contextlib.suppress(OSError):
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _version(manifest: Manifest) -> VersionInfo:
    return VersionInfo(
        version=manifest.version,
        issued=manifest.issued,
        expires=manifest.expires,
        threshold=manifest.threshold,
        digest=format_digest(manifest.digest()),
        authorities=tuple(KeyInfo(a.name, str(a.key.fingerprint)) for a in manifest.authorities),
        reviewers=tuple(
            ReviewerInfo(
                r.id,
                r.name,
                str(r.encryption_key.fingerprint),
                str(r.signing_key.fingerprint),
                str(r.hybrid_key.fingerprint) if r.hybrid_key is not None else None,
            )
            for r in manifest.recipients
        ),
    )
