"""Creating a workspace and enrolling reviewer keys, each recorded in the audit log.

The audit entry that enrols a key carries its public signing key in the clear
and is signed by the reviewer who enrolled it (the first, by the new reviewer
themselves), so the log alone says which keys may sign it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from crypto import KdfParams, KeyFile, SignedManifest, verify_initial
from crypto.errors import CryptoError
from review import audit
from review import workspace as ws
from review.ceremony import new_key_file
from review.errors import UnlockError


def init_workspace(
    root: Path,
    pinned: ws.Pinned,
    *,
    reviewer: str,
    name: str,
    key_file: bytes,
    passphrase: str,
    keyring: SignedManifest | None = None,
) -> ws.Unlocked:
    """Create a workspace with its first reviewer; the log's first entry enrols them.

    With `keyring` (the first manifest), it is verified against the pinned
    authorities and installed, and it must list the first reviewer's key.
    """
    if keyring is not None:
        try:
            manifest = verify_initial(keyring, pinned.authorities, dt.date.today())
        except CryptoError as exc:
            raise UnlockError(f"keyring refused: {exc}") from exc
        public = KeyFile.from_bytes(key_file).encryption_public
        if all((r.id, r.encryption_key) != (reviewer, public) for r in manifest.recipients):
            raise UnlockError(
                f"the keyring does not list this key for reviewer {reviewer!r}",
                hint="use the id and key file the keyring names (`keys authority-init`)",
            )

    def record(u: ws.Unlocked) -> None:
        detail = {"instance": pinned.instance_id, "reviewer": reviewer, "name": name}
        audit.append(u, "init", None, detail, enrols=(reviewer, u.signing.verify_key))
        if keyring is not None:
            u.conn.execute(
                "INSERT INTO keyrings VALUES (?, ?)",
                (keyring.manifest.version, keyring.to_bytes()),
            )
            version = {"version": keyring.manifest.version}
            audit.append(u, "keyring", None, version)

    return ws.create(
        root,
        pinned,
        reviewer=reviewer,
        name=name,
        key_file=key_file,
        passphrase=passphrase,
        then=record,
    )


def enrol_key(
    u: ws.Unlocked, *, reviewer: str, name: str, key_file: bytes, action: str = "enrol"
) -> None:
    """Enrol another reviewer key (a new reviewer, or a reviewer's new key), as `u`."""
    signing = KeyFile.from_bytes(key_file).signing_public
    if signing is None:
        raise UnlockError("a reviewer key file must hold an X25519 and an Ed25519 key")

    def record() -> None:
        detail = {"reviewer": reviewer, "name": name}
        audit.append(u, action, None, detail, enrols=(reviewer, signing))

    ws.enrol(u.workspace, u.key, reviewer=reviewer, name=name, key_file=key_file, then=record)


def rotate(u: ws.Unlocked, passphrase: str, *, kdf: KdfParams = KdfParams.SENSITIVE) -> KeyFile:
    """Give the acting reviewer new keys, enrolled beside their old ones (kept for old items)."""
    label = f"{u.reviewer} (from {dt.date.today().isoformat()})"
    file, _ = new_key_file(passphrase, kind="reviewer", label=label, encryption=True, kdf=kdf)
    name = u.conn.execute("SELECT name FROM reviewers WHERE id = ?", (u.reviewer,)).fetchone()[0]
    enrol_key(u, reviewer=u.reviewer, name=name, key_file=file.to_bytes(), action="rotate")
    return file
