"""A workspace: a directory with a database, sealed blobs and the reviewers' key files.

The workspace key is random and stored only wrapped to each enrolled reviewer
key (`crypto.workspace`): unlocking a reviewer's key file with its passphrase
unlocks the workspace, so a reviewer has one passphrase, not two, and a seized
workstation yields nothing without one. Decrypted reports and attachments are
blobs sealed to the workspace key; plaintext is only ever in memory or in a
file a reviewer exports on purpose.

The room's other modules keep what is in it: `schema` (the database and its
numbered migrations), `state` (each report's sealed triage state), `blobs`,
`outbox` (queued replies' envelopes, wrapped), `audit` (the signed,
hash-chained log) and `search` (the sealed index).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from crypto import (
    Fingerprint,
    HybridPrivateKey,
    KeyFile,
    KeyPair,
    PrivateKey,
    SignedManifest,
    SigningKey,
    VerifyKey,
)
from crypto.encoding import b64decode
from crypto.errors import CryptoError, DecryptionError
from crypto.workspace import WorkspaceKey, public_key_from_text
from review.casework import notices
from review.errors import UnlockError, WorkspaceError
from review.workspace import blobs, marks, outbox, roster, schema
from review.workspace.erase import destroy_tree, discard
from review.workspace.head import HISTORY as HISTORY  # where rewrap and tests find it
from review.workspace.noatime import read_quietly

DB_NAME: Final = "workspace.db"
# The meta row saying how many pinned authorities must sign the first keyring.
THRESHOLD: Final = "authority_threshold"
_ID_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")

# Asked for a passphrase with the label of the key file it is for.
AskPassphrase = Callable[[str], str]


@dataclass(frozen=True)
class Pinned:
    """What a workspace trusts from the start: its instance, the server's key, the authorities.

    `threshold` is how many of the pinned authorities must sign the first keyring
    installed here, from the organisation (`init --threshold`); None asks every one
    of them, as `keys authority-init` has every holder sign version 1. The first
    keyring's own threshold is its writer's word (PROTOCOL §8.5).
    """

    instance_id: str
    server_key: VerifyKey
    authorities: tuple[Fingerprint, ...]
    threshold: int | None = None

    @property
    def signers(self) -> int:
        """How many pinned authorities must sign the first keyring installed here."""
        return self.threshold if self.threshold is not None else len(self.authorities)


class Workspace:
    """An opened, still locked workspace: its directory, database and pinned keys."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self.conn = conn
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        try:
            self.pinned = Pinned(
                instance_id=meta["instance_id"],
                server_key=VerifyKey.from_text(meta["server_key"]),
                authorities=tuple(Fingerprint.parse(f) for f in json.loads(meta["authorities"])),
                # Absent in a workspace made before it was kept: every pinned key signs.
                threshold=int(meta[THRESHOLD]) if THRESHOLD in meta else None,
            )
            self.public_key = public_key_from_text(meta["workspace_key"])
        except (KeyError, CryptoError, ValueError) as exc:
            raise WorkspaceError(f"{root} is not a usable workspace (damaged settings)") from exc

    @property
    def blobs(self) -> Path:
        """Where sealed blobs live."""
        return self.root / "blobs"

    @property
    def outbox(self) -> Path:
        """Where workspaces before schema version 6 kept reply envelopes (`outbox.seal_legacy`)."""
        return self.root / "outbox"

    @property
    def keys(self) -> Path:
        """Where enrolled reviewers' key files are kept."""
        return self.root / "keys"

    @property
    def tmp(self) -> Path:
        """Scratch space on the same disk: ciphertext only, emptied after each use."""
        return self.root / "tmp"

    def holds(self, directory: Path) -> bool:
        """Whether a directory is the workspace or in it, links followed: what it is named
        by on a stick (a link there to the workspace) does not matter."""
        return directory.resolve().is_relative_to(self.root.resolve())

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an existing workspace (still locked)."""
        db = root / DB_NAME
        if not db.is_file():
            raise WorkspaceError(
                f"no workspace at {root}", hint="create one with `raazdar-review workspace init`"
            )
        conn = schema.connect(db)
        try:
            schema.upgrade(conn)
        except BaseException:
            conn.close()
            raise
        workspace = cls(root, conn)
        blobs.reap(workspace)  # what a process killed halfway left
        return workspace

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    def reviewer_ids(self) -> list[str]:
        """The ids of every enrolled reviewer."""
        return [r[0] for r in self.conn.execute("SELECT id FROM reviewers ORDER BY id")]

    def unlock(self, reviewer: str, ask: AskPassphrase) -> Unlocked:
        """Unlock as `reviewer`: every one of their key files, and with them the workspace.

        The first passphrase is tried on each of the reviewer's key files (old
        ones included); a file it does not open is asked for separately.
        """
        rows = self.conn.execute(
            "SELECT seq, key_file, wrapped FROM reviewer_keys WHERE reviewer = ? AND NOT retired"
            " ORDER BY seq DESC",
            (reviewer,),
        ).fetchall()
        if not rows:
            raise UnlockError(
                f"no reviewer {reviewer!r} is enrolled in this workspace",
                hint=f"enrolled: {', '.join(self.reviewer_ids()) or 'nobody'}",
            )
        keys: list[KeyPair] = []
        wskey: WorkspaceKey | None = None
        opener: tuple[int, KeyPair] | None = None
        rostered = False
        passphrase: str | None = None
        for seq, key_file, wrapped in rows:
            file = KeyFile.from_bytes(read_quietly(self.keys / key_file))
            pair = None
            if passphrase is not None:
                with suppress(DecryptionError):
                    pair = file.unlock(passphrase)
            if pair is None:
                passphrase = ask(file.label)
                try:
                    pair = file.unlock(passphrase)
                except DecryptionError as exc:
                    raise UnlockError(
                        f"the key file {file.label!r} does not unlock",
                        hint="wrong passphrase, or the key file was altered",
                    ) from exc
            keys.append(pair)
            # A hybrid workspace key is wrapped to the X-Wing key, an X25519 one to the X25519 key.
            for identity in pair.decryption_keys if wskey is None else ():
                with suppress(DecryptionError):
                    wskey, rostered = WorkspaceKey.open_wrap(wrapped, identity, self.public_key)
                    opener = (seq, pair)
        if wskey is None or opener is None:
            raise UnlockError("none of this reviewer's keys opens the workspace key")
        try:
            history = self._history(wskey)
        except DecryptionError as exc:
            raise marks.replaced() from exc
        # Before anything is sealed under it: the key must be the one this key opened before.
        marks.check(self.conn, *opener, wskey, history)
        # And the keys in service must be those this tool enrolled (`roster`), before any is
        # wrapped to: an older tool's workspace gets its roster now.
        if not roster.check(self.conn, wskey, required=rostered):
            roster.adopt(self.conn, self.keys, wskey)
        # And the audit log must end where this tool last wrote it.
        roster.check_head(self.conn, wskey)
        anchored = self.anchored_signing_keys(reviewer)
        signers = [k.signing for k in keys if k.signing is not None]
        # Sign with the newest key the keyring in force lists for this reviewer, so
        # the server accepts what is signed; a key awaiting its keyring signs only
        # when no listed key is at hand.
        signing = next((k for k in signers if k.verify_key in anchored), None)
        if signing is None and signers:
            signing = signers[0]
        if signing is None:
            raise UnlockError("the reviewer's current key file holds no signing key")
        marks.record(self.conn, *opener, wskey)
        notices.seal_legacy(self.conn, wskey)
        outbox.seal_legacy(self, wskey)
        return Unlocked(self, reviewer, tuple(keys), signing, wskey, history)

    def reopen(self, u: Unlocked) -> Unlocked:
        """`u` under the workspace key a rewrap put in place since, with the keys it holds.

        A session left open (the review UI) follows another's rewrap this way, with no
        passphrase asked again; a reviewer whose keys the rewrap retired is refused.
        """
        self.public_key = public_key_from_text(
            self.conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()[0]
        )
        live = self.conn.execute(
            "SELECT seq, encryption_key, wrapped FROM reviewer_keys"
            " WHERE reviewer = ? AND NOT retired",
            (u.reviewer,),
        ).fetchall()
        kept = {text: (seq, wrapped) for seq, text, wrapped in live}
        pairs = [
            (kept[k.encryption.public_key.to_text()], k)
            for k in u.keys
            if k.encryption is not None and k.encryption.public_key.to_text() in kept
        ]
        for (seq, wrapped), pair in pairs:
            for identity in pair.decryption_keys:
                with suppress(DecryptionError):
                    key, rostered = WorkspaceKey.open_wrap(wrapped, identity, self.public_key)
                    history = self._history(key)
                    marks.check(self.conn, seq, pair, key, history)
                    if not roster.check(self.conn, key, required=rostered):
                        roster.adopt(self.conn, self.keys, key)
                    roster.check_head(self.conn, key)
                    marks.record(self.conn, seq, pair, key)
                    return replace(u, keys=tuple(p for _, p in pairs), key=key, history=history)
        raise UnlockError(
            "the workspace was re-sealed under a new key that none of this reviewer's keys"
            " opens (retired)",
            hint="nothing was written; quit: an administrator retired these keys",
        )

    def keyring(self) -> SignedManifest | None:
        """The newest keyring installed in this workspace (each was verified on install)."""
        row = self.conn.execute(
            "SELECT signed FROM keyrings ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return SignedManifest.from_bytes(row[0]) if row is not None else None

    def anchored_signing_keys(self, reviewer: str) -> frozenset[VerifyKey]:
        """The signing keys the keyring in force lists for `reviewer` (none without a keyring)."""
        signed = self.keyring()
        if signed is None:
            return frozenset()
        return frozenset(r.signing_key for r in signed.manifest.recipients if r.id == reviewer)

    def _history(self, key: WorkspaceKey) -> tuple[WorkspaceKey, ...]:
        """Earlier workspace keys, kept sealed under the current one for old audit details."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (HISTORY,)).fetchone()
        if row is None:
            return ()
        secrets_ = json.loads(key.open_record(b64decode(row[0]), HISTORY.encode("ascii")))
        return tuple(WorkspaceKey.from_exported(s) for s in secrets_)


@dataclass(frozen=True)
class Unlocked:
    """A workspace unlocked by one reviewer: every action is done as them."""

    workspace: Workspace
    reviewer: str
    keys: tuple[KeyPair, ...]
    signing: SigningKey
    key: WorkspaceKey
    history: tuple[WorkspaceKey, ...] = ()
    # Another administrator who unlocked their own key here for this command
    # (`review.keys.witness`): what one administrator must not do alone needs them.
    second: str | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The workspace database."""
        return self.workspace.conn

    @property
    def current(self) -> bool:
        """Say whether the workspace key is still the one unlocked (no rewrap replaced it)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'workspace_key'").fetchone()
        return row is not None and row[0] == self.key.public_key.to_text()

    def open_old_record(self, sealed: bytes, context: bytes) -> bytes:
        """Open a record that may predate a rewrap: the current key first, then earlier ones.

        Only the audit log needs this: its details are covered by signatures, so a
        rewrap cannot re-seal them.
        """
        for key in (self.key, *self.history):
            with suppress(DecryptionError):
                return key.open_record(sealed, context)
        raise DecryptionError("record does not open")

    @property
    def is_admin(self) -> bool:
        """Say whether the acting reviewer administers this workspace.

        The role follows the authorities: a reviewer the keyring in force no longer
        lists holds it no more, even before their keys are retired here (else, racing
        the others, they could retire the keys of every reviewer it lists first).
        """
        row = self.conn.execute(
            "SELECT role FROM reviewers WHERE id = ?", (self.reviewer,)
        ).fetchone()
        if row is None or row[0] != "admin":
            return False
        signed = self.workspace.keyring()
        return signed is None or any(r.id == self.reviewer for r in signed.manifest.recipients)

    def require_admin(self, action: str) -> None:
        """Refuse `action` unless the acting reviewer is an administrator."""
        if not self.is_admin:
            raise UnlockError(
                f"only an administrator may {action}",
                hint="unlock as a reviewer whose role is admin (the workspace's first is) and "
                "whom the keyring in force lists",
            )

    def require_second_admin(self, action: str) -> None:
        """Refuse `action` unless an administrator does it with another one present.

        A workspace with no keyring (a demonstration one) has no authorities to
        turn to: its administrator's word stands alone there.
        """
        self.require_admin(action)
        if self.workspace.keyring() is None:
            return
        if self.second is None or self.second == self.reviewer:
            raise UnlockError(
                f"one administrator alone may not {action}",
                hint="a second administrator brings their key file and types its passphrase"
                " (--second-admin FILE); with no other administrator, the authorities in"
                " force decide (see docs/REVIEW.md, Roles)",
            )

    @property
    def identities(self) -> list[PrivateKey | HybridPrivateKey]:
        """The reviewer's keys that open envelopes (X25519 for v1, X-Wing for v2), newest first."""
        return [key for k in self.keys for key in k.decryption_keys]


def create(
    root: Path,
    pinned: Pinned,
    *,
    reviewer: str,
    name: str,
    key_file: bytes,
    passphrase: str,
    then: Callable[[Unlocked], None] | None = None,
) -> Unlocked:
    """Create a workspace, pin what it trusts and enrol its first reviewer.

    `then` runs inside the enrolment's transaction (to record it in the audit log).
    """
    check_reviewer_id(reviewer)
    if (root / DB_NAME).exists():
        raise WorkspaceError(f"a workspace already exists at {root}")
    file = KeyFile.from_bytes(key_file)
    try:
        pair = file.unlock(passphrase)
    except DecryptionError as exc:
        raise UnlockError(
            "the key file does not unlock", hint="wrong passphrase, or the key file was altered"
        ) from exc
    if pair.encryption is None or pair.signing is None:
        raise UnlockError("a reviewer key file must hold an X25519 and an Ed25519 key")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise WorkspaceError(f"{root} is not empty", hint="choose a new directory")
    try:
        for sub in ("blobs", "keys", "tmp"):
            (root / sub).mkdir(mode=0o700)
        conn = schema.connect(root / DB_NAME)
        os.chmod(root / DB_NAME, 0o600)
        schema.create(conn)
        # Hybrid (post-quantum) when the creator's key has an X-Wing half; an X25519 key
        # until it has one (`review.keys.rewrap.upgrade_key` replaces it then).
        wskey = (
            WorkspaceKey.generate()
            if pair.hybrid is not None
            else WorkspaceKey.generate_classical()
        )
        with schema.transaction(conn):
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("instance_id", pinned.instance_id),
                    ("server_key", pinned.server_key.to_text()),
                    ("authorities", json.dumps([str(f) for f in pinned.authorities])),
                    (THRESHOLD, str(pinned.signers)),
                    ("workspace_key", wskey.public_key.to_text()),
                ],
            )
            # Nobody enrolled yet: `enrol` adds the first. The head is tagged with it: the
            # chain's start, `enrol`'s entry is the first.
            roster.put(conn, wskey)
        workspace = Workspace(root, conn)
        unlocked = Unlocked(workspace, reviewer, (pair,), pair.signing, wskey)
        enrol(
            workspace,
            wskey,
            reviewer=reviewer,
            name=name,
            key_file=key_file,
            role="admin",
            then=(lambda: then(unlocked)) if then is not None else None,
        )
        marks.record(conn, 1, pair, wskey)  # the first key enrolled is numbered 1
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return unlocked


def enrol(
    workspace: Workspace,
    key: WorkspaceKey,
    *,
    reviewer: str,
    name: str,
    key_file: bytes,
    role: str = "reviewer",
    then: Callable[[], None] | None = None,
) -> None:
    """Enrol a reviewer key: keep its key file and wrap the workspace key to it.

    Only the public half is needed, so an unlocked reviewer can enrol another
    without learning their passphrase. A new reviewer gets `role`; a reviewer
    already enrolled keeps theirs. `then` runs inside the same transaction.
    """
    check_reviewer_id(reviewer)
    file = KeyFile.from_bytes(key_file)
    encryption, signing = file.encryption_public, file.signing_public
    if encryption is None or signing is None:
        raise UnlockError("a reviewer key file must hold an X25519 and an Ed25519 key")
    require_x_wing(key, file)
    hybrid = file.hybrid_public
    stored = f"{reviewer}-{secrets.token_hex(4)}.key"
    path = workspace.keys / stored
    made = False
    try:
        with schema.transaction(workspace.conn) as conn:
            # Under the write lock: a key added on the disk must not be blessed with this one.
            roster.check(conn, key)
            conn.execute(
                "INSERT OR IGNORE INTO reviewers (id, name, added, role) VALUES (?, ?, ?, ?)",
                (reviewer, name, dt.date.today().isoformat(), role),
            )
            try:
                conn.execute(
                    "INSERT INTO reviewer_keys (reviewer, encryption_key, signing_key, key_file,"
                    " wrapped) VALUES (?, ?, ?, ?, ?)",
                    (
                        reviewer,
                        encryption.to_text(),
                        signing.to_text(),
                        stored,
                        key.wrap_for(
                            hybrid if key.is_hybrid and hybrid is not None else encryption
                        ),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise UnlockError("this key is already enrolled") from exc
            roster.put(conn, key)
            if then is not None:
                then()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            made = True
            with os.fdopen(fd, "wb") as out:
                out.write(key_file)
                # On the disk before the row: unflushed, a power cut after the commit left the
                # row and an empty file, and its reviewer unlocked no more, old keys and all.
                out.flush()
                os.fsync(out.fileno())
            flush_names(workspace.keys)
    except BaseException:
        # The copy of an enrolment not recorded (a commit refused) is no key's; one whose
        # row was committed (an error after the commit) is its key's, kept.
        if made and not _names_key_file(workspace, stored):
            discard(path)
        raise


def _names_key_file(workspace: Workspace, stored: str) -> bool:
    """Whether a committed row names the key file copy `stored` (True when it cannot say)."""
    try:
        query = "SELECT 1 FROM reviewer_keys WHERE key_file = ?"
        return workspace.conn.execute(query, (stored,)).fetchone() is not None
    except sqlite3.Error:
        return True


def flush_names(directory: Path) -> None:
    """Force the names in `directory` to the disk: a file just made or renamed in it (a
    power cut keeps the file's data, flushed, but may lose its name)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def require_x_wing(key: WorkspaceKey, file: KeyFile) -> None:
    """Refuse a key file without an X-Wing key when the workspace key is X-Wing.

    Wrapped to an X25519 key, the workspace key would open to a later quantum computer.
    """
    if key.is_hybrid and file.hybrid_public is None:
        raise UnlockError(
            "this workspace's key is post-quantum (X-Wing): a key file without an X-Wing key"
            " cannot be enrolled",
            hint="its holder runs `raazdar-review keys upgrade --add-hybrid FILE` first",
        )


def check_reviewer_id(reviewer: str) -> None:
    """Refuse a reviewer id that is not a short lowercase name (it names files)."""
    if not (0 < len(reviewer) <= 64) or not set(reviewer) <= _ID_CHARS or reviewer[0] in ".-_":
        raise UnlockError(
            f"bad reviewer id {reviewer!r}", hint="use lowercase letters, digits, '.', '-' and '_'"
        )


@contextmanager
def scratch(workspace: Workspace) -> Iterator[Path]:
    """A fresh scratch directory inside the workspace, its files destroyed afterwards."""
    with blobs.writing(workspace):
        path = workspace.tmp / secrets.token_hex(8)
        path.mkdir(mode=0o700)
        try:
            yield path
        finally:
            destroy_tree(path)  # an import's large envelopes wait here: not left in the blocks
