"""The keyring in the workspace: the signed manifests of who reports are sealed to.

The workspace keeps the same chain the server does, verified from the
authority keys pinned at `init` (`crypto.manifest`): a first manifest of
exactly the pinned set, signed by every one of them or by the organisation's
threshold given at `init` (never the threshold it states: that is its writer's
word), then successors that chain by hash and carry the threshold of the
authority set in force. It anchors reviewer keys: a reviewer
signs replies and audit entries with the key the keyring lists for them, so the
server, which checks the same keyring, accepts what the workstation sends.

A keyring of format 2 also lists the instance: the workstation takes the
server's bundle-signing key(s) from the keyring in force, not from the value
typed at `init`, so only the authorities can change which server is believed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from crypto import (
    Manifest,
    PublicKey,
    SignedManifest,
    SignedSubkeyList,
    SignedTimestamp,
    SigningKey,
    VerifyKey,
    check_lifetime,
    check_names,
    check_step,
    make_timestamp,
    verify_initial,
    verify_successor,
)
from crypto.errors import CryptoError, VerificationError
from crypto.subkeys import check_install
from review.errors import ReviewError
from review.workspace import THRESHOLD, Pinned, Unlocked, Workspace, audit
from review.workspace.schema import transaction

# How long one keyring timestamp holds unless the ceremony says otherwise: a server
# withholding a newer keyring is noticed by raazdar-submit clients within this many days.
TIMESTAMP_DAYS: Final = 7


class KeyringError(ReviewError):
    """A keyring manifest was refused."""


@dataclass(frozen=True)
class Anchoring:
    """One enrolled key (numbered as `keys rewrap --retire` takes it) and whether it is listed."""

    seq: int
    reviewer: str
    fingerprint: str
    retired: bool
    listed: bool


def in_force(workspace: Workspace) -> Manifest | None:
    """The manifest in force here, or None before the first is installed."""
    signed = workspace.keyring()
    return signed.manifest if signed is not None else None


def check(workspace: Workspace, signed: SignedManifest, today: dt.date) -> Manifest:
    """Verify `signed` as the next keyring of this workspace, or say which rule failed."""
    current = in_force(workspace)
    if current is None:
        return check_first(workspace.pinned, signed, today)
    try:
        manifest = verify_successor(current, signed, today)
        check_lifetime(manifest)
        check_step(current, manifest)
        check_names(manifest)
    except CryptoError as exc:
        raise KeyringError(
            f"keyring refused: {exc}",
            hint="a keyring must chain to the one in force and carry the authorities' signatures",
        ) from exc
    return _of_this_instance(workspace.pinned, manifest)


def check_first(pinned: Pinned, signed: SignedManifest, today: dt.date) -> Manifest:
    """Verify `signed` as the first keyring of a workspace that pins `pinned`.

    It needs `pinned.signers` signatures of the pinned authorities, whatever
    threshold it states: that is its writer's word, and one holder alone could
    write the pinned set with a threshold of 1 and a reviewer of their own.
    """
    try:
        manifest = verify_initial(signed, pinned.authorities, today, signers=pinned.signers)
    except VerificationError as exc:
        hint = (
            f"the first keyring needs {pinned.signers} signatures of the pinned authorities:"
            " every one, unless `workspace init --threshold K` gave the organisation's"
            " threshold (a workspace started after a rotation)"
            if exc.rule == "threshold"
            else "the first keyring must be the pinned authorities' own, and in force"
        )
        raise KeyringError(f"keyring refused: {exc}", hint=hint) from exc
    except CryptoError as exc:
        raise KeyringError(f"keyring refused: {exc}") from exc
    return _of_this_instance(pinned, manifest)


def _of_this_instance(pinned: Pinned, manifest: Manifest) -> Manifest:
    """Refuse a keyring that lists another instance than the one pinned."""
    if manifest.instance is not None and manifest.instance.id != pinned.instance_id:
        raise KeyringError(
            "keyring refused: it lists another instance than this workspace's",
            hint="a workspace serves one instance; check the keyring file you carried",
        )
    return manifest


def server_keys(workspace: Workspace) -> tuple[VerifyKey, ...]:
    """The keys an export bundle may be signed by: those the keyring in force lists.

    Before the first format-2 keyring (one listing the instance), the key pinned
    at `init` stands in.
    """
    manifest = in_force(workspace)
    if manifest is not None and manifest.instance is not None:
        return manifest.instance.server_keys
    return (workspace.pinned.server_key,)


def init_pins(
    first: SignedManifest | None, instance_id: str | None, server_key: str | None
) -> tuple[str, VerifyKey]:
    """The instance id and server key to pin at `init`: the first keyring's, or typed ones.

    A keyring that lists the instance decides; a typed value must then agree with it.
    """
    listing = first.manifest.instance if first is not None else None
    if listing is None:
        if instance_id is None or server_key is None:
            raise KeyringError(
                "give --instance-id and --server-key (the keyring does not list the instance)",
                hint="or start from a keyring of format 2, which lists them",
            )
        return instance_id.strip().lower(), VerifyKey.from_text(server_key)
    if instance_id is not None and instance_id.strip().lower() != listing.id:
        raise KeyringError("--instance-id differs from the instance the keyring lists")
    if server_key is not None and VerifyKey.from_text(server_key) not in listing.server_keys:
        raise KeyringError("--server-key is not a server key the keyring lists")
    return listing.id, listing.server_keys[0]


def install(
    u: Unlocked,
    signed: SignedManifest,
    today: dt.date | None = None,
    *,
    threshold: int | None = None,
) -> Manifest:
    """Verify and keep the next keyring, recorded in the audit log.

    `threshold` gives a workspace made before `meta:authority_threshold` was
    kept the organisation's threshold as it installs its first keyring, as
    `init --threshold` does (an administrator's word, audited); else that
    workspace asks every pinned authority's signature, and could never install
    a keyring the organisation's threshold signed but by starting again.
    """
    pinned = u.workspace.pinned
    if threshold is not None:
        pinned = _given_threshold(u, threshold)
        manifest = check_first(pinned, signed, today or dt.date.today())
    else:
        manifest = check(u.workspace, signed, today or dt.date.today())
    with transaction(u.conn) as conn:
        if threshold is not None:
            conn.execute("INSERT INTO meta VALUES (?, ?)", (THRESHOLD, str(threshold)))
            given = {"threshold": threshold, "pinned": len(pinned.authorities)}
            audit.append(u, "threshold", None, {**given, "keyring": manifest.version})
        conn.execute("INSERT INTO keyrings VALUES (?, ?)", (manifest.version, signed.to_bytes()))
        u.workspace.pinned = pinned
        detail = {
            "version": manifest.version,
            "recipients": [r.id for r in manifest.recipients],
            "expires": manifest.expires.isoformat(),
        }
        audit.append(u, "keyring", None, detail)
    return manifest


def _given_threshold(u: Unlocked, threshold: int) -> Pinned:
    """The pins with the organisation's threshold, for a workspace that kept none."""
    u.require_admin("give the authorities' threshold")
    pinned = u.workspace.pinned
    if pinned.threshold is not None:
        raise KeyringError(
            f"this workspace's threshold ({pinned.threshold} of {len(pinned.authorities)}) "
            "was set when the workspace was made",
            hint="--threshold is for a workspace made before the threshold was kept",
        )
    if in_force(u.workspace) is not None:
        raise KeyringError(
            "a keyring is in force here: each next one carries its own threshold",
            hint="install it without --threshold",
        )
    if not 1 <= threshold <= len(set(pinned.authorities)):
        raise KeyringError(
            f"--threshold {threshold} is not between 1 and the "
            f"{len(set(pinned.authorities))} authorities pinned here",
            hint="give the threshold of the authority set you pin, from the ceremony's record",
        )
    return dataclasses.replace(pinned, threshold=threshold)


def anchoring(workspace: Workspace) -> list[Anchoring]:
    """Every enrolled key, and whether the keyring in force lists it for its reviewer."""
    manifest = in_force(workspace)
    listed = (
        {(r.id, r.encryption_key.to_text()) for r in manifest.recipients}
        if manifest is not None
        else set()
    )
    rows = workspace.conn.execute(
        "SELECT seq, reviewer, encryption_key, retired FROM reviewer_keys ORDER BY reviewer, seq"
    )
    return [
        Anchoring(
            seq=seq,
            reviewer=reviewer,
            fingerprint=str(PublicKey.from_text(key).fingerprint),
            retired=bool(retired),
            listed=(reviewer, key) in listed,
        )
        for seq, reviewer, key, retired in rows
    ]


def check_newest(workspace: Workspace, manifest: Manifest) -> None:
    """Refuse to vouch for `manifest` as the newest when this workspace knows a later one.

    Later: the keyring in force here, or the version the server's exports imported
    here name. A fresh timestamp for an older keyring lets a server serve it again
    to every device verifying from its pins, with whatever a later one dropped.
    """
    here = in_force(workspace)
    if here is not None and here.version > manifest.version:
        later = f"this workspace has v{here.version}"
    else:
        (named,) = workspace.conn.execute("SELECT max(keyring_version) FROM bundles").fetchone()
        if named is None or named <= manifest.version:
            return
        later = f"the server's exports name v{named}"
    raise KeyringError(
        f"keyring v{manifest.version} is not the newest: {later}",
        hint="install every later keyring here (`keys install`), then timestamp the newest",
    )


def check_vouchable(workspace: Workspace, manifest: Manifest) -> None:
    """Refuse to timestamp `manifest` unless it is the newest and, if any keyring is installed
    here, the very one of its version.

    A keyring file is carried to `keys timestamp --keyring` on a stick: swapped for a fork
    of the same version, it had the timestamp key vouch for the fork (PROTOCOL §8.8).
    """
    check_newest(workspace, manifest)
    if in_force(workspace) is None:
        return  # nothing installed here to compare it with
    row = workspace.conn.execute(
        "SELECT signed FROM keyrings WHERE version = ?", (manifest.version,)
    ).fetchone()
    if row is None or SignedManifest.from_bytes(row[0]).manifest.digest() != manifest.digest():
        raise KeyringError(
            f"the keyring given is not the keyring v{manifest.version} installed here",
            hint="timestamp the keyring installed here (leave out --keyring), or install the"
            " newest here first (`keys install FILE`): a file that differs was changed",
        )


def timestamp(
    manifest: Manifest,
    key: SigningKey,
    today: dt.date,
    days: int | None = None,
    lists: Iterable[SignedSubkeyList] = (),
) -> SignedTimestamp:
    """Sign that `manifest` is the newest keyring, for `days` (default: the most it allows).

    Given reviewers' subkey lists (the ones in force), the timestamp names each one's
    number: devices then refuse any list of that reviewer numbered lower (format 2).
    """
    if manifest.timestamp is None:
        raise KeyringError(
            f"keyring v{manifest.version} names no timestamp key (a format-1 keyring)",
            hint="draft one that lists the instance: `raazdar-review keys list-instance`",
        )
    floors = list_numbers(manifest, lists, today)
    try:
        return make_timestamp(
            manifest,
            key,
            issued=today,
            days=days or manifest.timestamp.max_days,
            subkeys=floors,
        )
    except CryptoError as exc:
        raise KeyringError(f"cannot sign the timestamp: {exc}") from exc


def list_numbers(
    manifest: Manifest, lists: Iterable[SignedSubkeyList], today: dt.date
) -> dict[str, int]:
    """Each list's number by its reviewer's id: one numbered list per reviewer of `manifest`."""
    floors: dict[str, int] = {}
    for signed in lists:
        try:
            recipient = check_install(manifest, signed, None, today)
        except CryptoError as exc:
            raise KeyringError(f"a subkey list is refused: {exc}") from exc
        number = signed.subkeys.sequence
        if number is None:
            raise KeyringError(
                f"the subkey list of {recipient.id} is not numbered "
                f"(format {signed.subkeys.format})",
                hint="issue a new one: `raazdar-review keys subkeys new`",
            )
        if recipient.id in floors:
            raise KeyringError(f"two subkey lists of {recipient.id}: give the one in force")
        floors[recipient.id] = number
    return floors
