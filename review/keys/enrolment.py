"""Creating a workspace and enrolling reviewer keys, each recorded in the audit log.

The audit entry that enrols a key carries its public signing key in the clear
and is signed by the reviewer who enrolled it (the first, by the new reviewer
themselves), so the log alone says which keys may sign it.

Enrolment wraps the workspace key to a key, so it is guarded three ways: only
an administrator enrols (a reviewer about to be revoked cannot plant a
stand-in); the keyring in force must list the key for that reviewer (so the
authorities approved it); and the key's holder proves possession of both
halves by answering a challenge sealed to it (`crypto.possession`), so a key
file whose public keys were edited in transit is refused. A reviewer's own
rotation is the one exception to the first two: the new key is made here, by
them, under their own id, and revoking them retires it with their others.

A key file with an X-Wing key (format 3) proves that one too, and a keyring of
format 3 must list it as the reviewer's `hybrid_key`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from crypto import KdfParams, KeyFile, Recipient, SignedManifest
from crypto.errors import CryptoError, DecryptionError
from crypto.possession import Challenge, answer
from review import workspace as ws
from review.errors import UnlockError
from review.keys.ceremony import new_key_file, replace_file
from review.keys.keyring import check_first
from review.workspace import audit
from review.workspace.noatime import read_quietly


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
    authorities (`keyring.check_first`: as many of their signatures as pinned)
    and installed, and it must list the first reviewer's key.
    """
    if keyring is not None:
        manifest = check_first(pinned, keyring, dt.date.today())
        file = KeyFile.from_bytes(key_file)
        if not any(_lists(r, reviewer, file) for r in manifest.recipients):
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
    u: ws.Unlocked,
    *,
    reviewer: str,
    name: str,
    key_file: bytes,
    ask: ws.AskPassphrase,
    action: str = "enrol",
) -> None:
    """Enrol another reviewer key, as `u`; `ask` gets the passphrase from the key's holder."""
    own_rotation = action == "rotate" and reviewer == u.reviewer
    if not own_rotation:
        u.require_admin("enrol a key")
    try:
        file = KeyFile.from_bytes(key_file)
    except CryptoError as exc:
        raise UnlockError(f"not a usable key file: {exc}") from exc
    encryption, signing = file.encryption_public, file.signing_public
    if encryption is None or signing is None:
        raise UnlockError("a reviewer key file must hold an X25519 and an Ed25519 key")
    ws.require_x_wing(u.key, file)  # before its holder types a passphrase for nothing
    if not own_rotation:
        check_listed(u.workspace, reviewer, file)
    prove_possession(u.workspace, reviewer, file, ask)

    def record() -> None:
        detail = {"reviewer": reviewer, "name": name, "proof": "possession"}
        audit.append(u, action, None, detail, enrols=(reviewer, signing))

    ws.enrol(u.workspace, u.key, reviewer=reviewer, name=name, key_file=key_file, then=record)


def _lists(entry: Recipient, reviewer: str, file: KeyFile) -> bool:
    """Say whether a keyring entry is `reviewer` with this file's keys (X-Wing too in format 3)."""
    keys = (entry.id, entry.encryption_key, entry.signing_key)
    if keys != (reviewer, file.encryption_public, file.signing_public):
        return False
    return entry.hybrid_key is None or entry.hybrid_key == file.hybrid_public


def check_listed(workspace: ws.Workspace, reviewer: str, file: KeyFile) -> None:
    """Refuse a key that the keyring in force does not list, every half, for `reviewer`."""
    signed = workspace.keyring()
    if signed is None:
        if not workspace.pinned.authorities:
            return  # a demonstration workspace: it pins no authorities, so has no keyring
        raise UnlockError(
            "no keyring is installed here, so no key can be checked against it",
            hint="install the keyring in force first: `raazdar-review keys install FILE`",
        )
    if not any(_lists(r, reviewer, file) for r in signed.manifest.recipients):
        raise UnlockError(
            f"the keyring in force (v{signed.manifest.version}) does not list this key"
            f" for reviewer {reviewer!r}",
            hint="draft it with `keys reviewer-add`, have it signed and installed, then enrol",
        )


def prove_possession(
    workspace: ws.Workspace, reviewer: str, file: KeyFile, ask: ws.AskPassphrase
) -> None:
    """Have the key's holder open a challenge sealed to it and sign it, or refuse the key."""
    encryption, signing = file.encryption_public, file.signing_public
    if encryption is None or signing is None:
        raise UnlockError("a reviewer key file must hold an X25519 and an Ed25519 key")
    challenge = Challenge.issue(
        encryption,
        signing,
        instance=workspace.pinned.instance_id,
        holder=reviewer,
        hybrid=file.hybrid_public,
    )
    try:
        keys = file.unlock(ask(file.label))
        said = challenge.statement
        challenge.check(answer(keys, challenge.sealed, said, challenge.sealed_hybrid))
    except DecryptionError as exc:
        raise UnlockError(
            f"the key file {file.label!r} does not unlock: its holder types their passphrase",
            hint="wrong passphrase, or the key file was altered",
        ) from exc
    except CryptoError as exc:
        raise UnlockError(
            f"proof of possession failed: {exc}",
            hint="the key file's public keys were altered, or it is not the holder's",
        ) from exc


def rotate(
    u: ws.Unlocked,
    passphrase: str,
    *,
    kdf: KdfParams = KdfParams.SENSITIVE,
    first: Callable[[KeyFile], None] | None = None,
) -> KeyFile:
    """Give the acting reviewer new keys, enrolled beside their old ones (kept for old items).

    `first` gets the new key file before it is enrolled (the command writes its draft
    keyring there): what it raises enrols nothing, so no key is left in service here
    that no draft names.
    """
    label = f"{u.reviewer} (from {dt.date.today().isoformat()})"
    file, _ = new_key_file(passphrase, kind="reviewer", label=label, encryption=True, kdf=kdf)
    if first is not None:
        first(file)
    name = u.conn.execute("SELECT name FROM reviewers WHERE id = ?", (u.reviewer,)).fetchone()[0]
    enrol_key(
        u,
        reviewer=u.reviewer,
        name=name,
        key_file=file.to_bytes(),
        ask=lambda _label: passphrase,
        action="rotate",
    )
    return file


def refresh_copy(workspace: ws.Workspace, file: KeyFile) -> int | None:
    """Give the workspace's copy of an enrolled key the X-Wing key its holder's file gained.

    The workspace unlocks and re-seals with its own copy of each key file: left
    without the X-Wing key, it holds the workspace key at X25519 for good. Only a
    copy of the same X25519 and Ed25519 keys, still in service, is replaced.
    Returns the key's number, or None when this workspace holds no such key.
    """
    encryption, signing, hybrid = file.encryption_public, file.signing_public, file.hybrid_public
    if encryption is None or signing is None or hybrid is None:
        return None
    row = workspace.conn.execute(
        "SELECT seq, signing_key, key_file FROM reviewer_keys"
        " WHERE encryption_key = ? AND NOT retired",
        (encryption.to_text(),),
    ).fetchone()
    if row is None or row[1] != signing.to_text():
        return None
    seq, _, name = row
    path = workspace.keys / name
    held = KeyFile.from_bytes(read_quietly(path)).hybrid_public
    if held is None:
        replace_file(path, file.to_bytes())
    elif held != hybrid:
        return None  # its copy has another X-Wing key: not this file's to replace
    return int(seq)
