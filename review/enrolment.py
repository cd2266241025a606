"""Creating a workspace and enrolling reviewer keys, each recorded in the audit log.

The audit entry that enrols a key carries its public signing key in the clear
and is signed by the reviewer who enrolled it (the first, by the new reviewer
themselves), so the log alone says which keys may sign it.
"""

from __future__ import annotations

from pathlib import Path

from crypto import KeyFile
from review import audit
from review import workspace as ws
from review.errors import UnlockError


def init_workspace(
    root: Path, pinned: ws.Pinned, *, reviewer: str, name: str, key_file: bytes, passphrase: str
) -> ws.Unlocked:
    """Create a workspace with its first reviewer; the log's first entry enrols them."""

    def record(u: ws.Unlocked) -> None:
        detail = {"instance": pinned.instance_id, "reviewer": reviewer, "name": name}
        audit.append(u, "init", None, detail, enrols=(reviewer, u.signing.verify_key))

    return ws.create(
        root,
        pinned,
        reviewer=reviewer,
        name=name,
        key_file=key_file,
        passphrase=passphrase,
        then=record,
    )


def enrol_key(u: ws.Unlocked, *, reviewer: str, name: str, key_file: bytes) -> None:
    """Enrol another reviewer key (a new reviewer, or a reviewer's new key), as `u`."""
    signing = KeyFile.from_bytes(key_file).signing_public
    if signing is None:
        raise UnlockError("a reviewer key file must hold an X25519 and an Ed25519 key")

    def record() -> None:
        detail = {"reviewer": reviewer, "name": name}
        audit.append(u, "enrol", None, detail, enrols=(reviewer, signing))

    ws.enrol(u.workspace, u.key, reviewer=reviewer, name=name, key_file=key_file, then=record)
