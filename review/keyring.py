"""The keyring in the workspace: the signed manifests of who reports are sealed to.

The workspace keeps the same chain the server does, verified the same way from
the authority keys pinned at `init` (`crypto.manifest`): a first manifest signed
by exactly the pinned set, then successors that chain by hash and carry the
threshold of the authority set in force. It anchors reviewer keys: a reviewer
signs replies and audit entries with the key the keyring lists for them, so the
server, which checks the same keyring, accepts what the workstation sends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crypto import Manifest, PublicKey, SignedManifest, verify_initial, verify_successor
from crypto.errors import CryptoError
from review import audit
from review.errors import ReviewError
from review.schema import transaction
from review.workspace import Unlocked, Workspace


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
    try:
        if current is None:
            return verify_initial(signed, workspace.pinned.authorities, today)
        return verify_successor(current, signed, today)
    except CryptoError as exc:
        raise KeyringError(
            f"keyring refused: {exc}",
            hint="a keyring must chain to the one in force and carry the authorities' signatures",
        ) from exc


def install(u: Unlocked, signed: SignedManifest, today: dt.date | None = None) -> Manifest:
    """Verify and keep the next keyring, recorded in the audit log."""
    manifest = check(u.workspace, signed, today or dt.date.today())
    with transaction(u.conn) as conn:
        conn.execute("INSERT INTO keyrings VALUES (?, ?)", (manifest.version, signed.to_bytes()))
        detail = {
            "version": manifest.version,
            "recipients": [r.id for r in manifest.recipients],
            "expires": manifest.expires.isoformat(),
        }
        audit.append(u, "keyring", None, detail)
    return manifest


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
