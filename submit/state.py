"""The client's local state, sealed under the codename: pins, the keyring, uploads to resume.

One directory per device (default: the user's config dir, or `--state DIR`),
private to the user (0700, files 0600). What it remembers about an instance is
kept per codename, sealed under a key derived from the codename with Argon2id
and the device's random salt (`crypto.vault`): the source types the codename at
every run anyway, so nothing needs to be readable before it is. In the clear
are only `device.json` (that salt and the Argon2id settings), the lock file,
one opaque `<name>.state` file per codename used here and, while a submission
is unfinished, its sealed envelopes in `<name>.pending/`. A device taken
without the codename shows that the client is installed and how many codenames
used it; never the instance, the pins, the keyring's names or an upload id.
With `--no-state` (`amnesic`), nothing at all is written: the state lives in
memory and the envelopes being uploaded in a private RAM directory.

The state also holds the secrets of the one-time reply prekeys this codename
gave its submissions (docs/PROTOCOL.md §5A.9): `forget_prekey` removes one and
rewrites the state before the reply it opened is shown, which is what makes
that reply unreadable afterwards to whoever takes the device and the codename.
It keeps that prekey's key id (`deleted`), so that a reply read here is never
said to be sealed to a key the device never held, whatever a server lists.
And it holds the day each reply to the codename's key was listed under when it
was first shown here (`submit.inbox.first_listed`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import click

from crypto import CryptoError, Fingerprint, HybridPrivateKey, KdfParams, SignedManifest
from crypto.encoding import b64decode, b64encode, canonical_json
from crypto.mask import MASK_KEY_BYTES
from crypto.subkeys import ListRank
from crypto.vault import NONCE_BYTES, Vault
from submit import sensitive
from submit.errors import StateError

APP_NAME: Final = "raazdar-submit"
DEVICE_FILE: Final = "device.json"
STATE_SUFFIX: Final = ".state"
LOCK_FILE: Final = "lock"
PENDING_DIR: Final = "pending"
PENDING_SUFFIX: Final = ".pending"
# Format 3 added the one-time reply prekeys, format 4 the replies shown here, format 5 the
# newest subkey list seen of each reviewer, format 6 its number and digest (a numbered
# list, subkey format 3), format 7 the key ids of prekeys used by replies read here that
# the server may still list, format 8 the key ids of every prekey deleted here, format 9
# whether the pinned authorities were trusted on first use; 2 to 8 are still read.
FORMAT: Final = 9
_OLD_FORMATS: Final = {
    2: frozenset(),
    3: frozenset({"prekeys"}),
    4: frozenset({"prekeys", "shown"}),
    5: frozenset({"prekeys", "shown", "subkeys"}),
    6: frozenset({"prekeys", "shown", "subkeys"}),
    7: frozenset({"prekeys", "shown", "subkeys", "read"}),
    8: frozenset({"prekeys", "shown", "subkeys", "read", "deleted"}),
}
# At most this many prekeys used by replies read here are remembered (the newest): as
# many as a run fetches (`protocol.MAX_REPLIES`), so no listing outgrows them.
MAX_READ: Final = 100
# At most this many key ids of prekeys deleted here are kept (the newest): a hundred
# reports' worth, 7.6 KB of the state's 64 KiB bucket. Past it the state no longer knows
# every key it held, and never again says that it never held one.
MAX_DELETED: Final = 400
DEVICE_FORMAT: Final = 2
_CONTEXT: Final = b"submit state"
_ID: Final = re.compile(r"[0-9a-f]{32}")
_KEY_ID: Final = re.compile(r"[0-9a-f]{16}")
_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ENVELOPE_NAME: Final = re.compile(r"[0-9]{1,4}\.rze")
KINDS: Final = frozenset({"report", "file"})
# A sealed state weighs this much, or a multiple: its size must not count the reply
# prekeys' secrets it holds (four per report sent, one fewer per reply read).
STATE_BUCKET: Final = 64 * 1024


def default_root() -> Path:
    """The state directory when none is given: under the user's config dir."""
    return Path(click.get_app_dir(APP_NAME))


@dataclass
class PendingItem:
    """One sealed envelope of an unfinished submission, and how far its upload got."""

    name: str
    kind: str
    size: int
    hash: bytes
    upload: str | None = None
    item: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record kept in `state.json`."""
        return {
            "name": self.name,
            "kind": self.kind,
            "size": self.size,
            "hash": b64encode(self.hash),
            "upload": self.upload,
            "item": self.item,
        }

    @classmethod
    def from_json(cls, value: Any) -> PendingItem:
        """Read a record back, refusing anything this client would not have written."""
        if not isinstance(value, dict) or set(value) != {
            "name",
            "kind",
            "size",
            "hash",
            "upload",
            "item",
        }:
            raise StateError("a pending upload record is malformed")
        name, kind, size = value["name"], value["kind"], value["size"]
        upload, item = value["upload"], value["item"]
        ok = (
            isinstance(name, str)
            and _ENVELOPE_NAME.fullmatch(name) is not None
            and kind in KINDS
            and type(size) is int
            and size > 0
            and all(v is None or (isinstance(v, str) and _ID.fullmatch(v)) for v in (upload, item))
        )
        if not ok or not isinstance(value["hash"], str):
            raise StateError("a pending upload record is malformed")
        return cls(name, kind, size, _decode(value["hash"], 32), upload, item)


@dataclass
class Pending:
    """A submission sealed on this device whose envelopes are not all stored yet."""

    submission: str
    keyring_version: int
    items: list[PendingItem] = field(default_factory=list)
    # Which account it belongs to (`owner_of`), so a resume under another codename is
    # refused instead of declaring the envelopes again to a different source.
    owner: str = ""
    # The secrets of the reply prekeys its report carries: they join the state's
    # `prekeys` once every envelope is stored, and go with it if it is discarded.
    prekeys: list[HybridPrivateKey] = field(default_factory=list, repr=False)
    # The key its envelopes are masked under on the disk (`submit.masked`): kept as they
    # are, their hash is the one the server records under the account. None: unmasked
    # (sealed by a client from before masks).
    mask: bytes | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The record kept in `state.json`."""
        found = {
            "submission": self.submission,
            "keyring_version": self.keyring_version,
            "items": [i.to_json() for i in self.items],
            "owner": self.owner,
            "prekeys": [k.to_text() for k in self.prekeys],
        }
        if self.mask is not None:
            found["mask"] = b64encode(self.mask)
        return found

    @classmethod
    def from_json(cls, value: Any) -> Pending:
        """Read a record back."""
        # A state of format 2 recorded no prekeys with a pending submission.
        fields = {"submission", "keyring_version", "items", "owner"}
        if not isinstance(value, dict) or set(value) - {"prekeys", "mask"} != fields:
            raise StateError("the pending submission record is malformed")
        submission, version, items = value["submission"], value["keyring_version"], value["items"]
        owner = value["owner"]
        if not isinstance(owner, str) or not _ID.fullmatch(owner):
            raise StateError("the pending submission record is malformed")
        if not isinstance(submission, str) or not _ID.fullmatch(submission):
            raise StateError("the pending submission record is malformed")
        if type(version) is not int or not isinstance(items, list) or not items:
            raise StateError("the pending submission record is malformed")
        items_ = [PendingItem.from_json(i) for i in items]
        mask = _decode(value["mask"], MASK_KEY_BYTES) if "mask" in value else None
        return cls(submission, version, items_, owner, _prekeys(value.get("prekeys", [])), mask)


@dataclass
class State:
    """What this device remembers about one instance under one codename.

    `save` seals it under `vault` and writes it atomically; a state without a
    vault (the amnesic mode) is kept in memory only and `save` writes nothing.
    """

    root: Path
    instance: str | None = None
    authorities: frozenset[Fingerprint] = frozenset()
    codename_salt: bytes | None = None
    codename_kdf: KdfParams | None = None
    manifest: SignedManifest | None = None
    pending: Pending | None = None
    # Secrets of reply prekeys not yet used by a reply read here, oldest first.
    prekeys: list[HybridPrivateKey] = field(default_factory=list, repr=False)
    # Replies to the codename's key shown here: each envelope's digest (`inbox.digest`) and
    # the day the server listed it under then, which a later listing may not change.
    shown: dict[str, str] = field(default_factory=dict, repr=False)
    # The key ids (hex) of prekeys deleted because a reply sealed to them was read here,
    # oldest first, kept only while the server may still list that reply
    # (`inbox.still_listed`): so "read before here" is told from "never held here".
    read: list[str] = field(default_factory=list, repr=False)
    # The key ids (hex) of every prekey deleted here, oldest first, kept for good (at most
    # MAX_DELETED): a reply sealed to one was read here, whatever a server lists meanwhile,
    # and this device must never sign that it cannot open it (`inbox.NotHeld.certain`).
    deleted: list[str] = field(default_factory=list, repr=False)
    # True while `deleted` names every prekey this state ever deleted: a state begun at
    # format 8 (or one of format 2, which held none) that never outgrew MAX_DELETED.
    deleted_all: bool = field(default=True, repr=False)
    # The newest subkey list sealed to here of each reviewer, by their signing key's text:
    # its issue day, format, and number and digest if it has them. The server may not
    # serve an older one later (rollback), nor another of the same number.
    subkeys: dict[str, ListRank] = field(default_factory=dict, repr=False)
    # True while the pinned authorities are only the instance's word, trusted on first use
    # (no pins given since vouched for them): `pins` must not print them as pins. A state of
    # format 8 or older did not record it.
    tofu: bool = False
    vault: Vault | None = field(default=None, repr=False, compare=False)

    @property
    def pending_dir(self) -> Path:
        """Where the sealed envelopes of an unfinished submission wait."""
        if self.vault is None:
            return self.root / PENDING_DIR
        return self.root / f"{self.vault.name}{PENDING_SUFFIX}"

    @property
    def path(self) -> Path | None:
        """The sealed file this state is saved in (None when nothing is saved)."""
        return None if self.vault is None else self.root / f"{self.vault.name}{STATE_SUFFIX}"

    @classmethod
    def load(cls, root: Path, vault: Vault | None) -> State:
        """Open the state `vault` sealed in `root`; none saved yet is an empty state."""
        state = cls(root, vault=vault)
        path = state.path
        if path is None:
            return state
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            return state
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from exc
        if forgotten(sealed):
            # A `forget` cut short: gone, as it was meant to be (`sweep_killed` removes it).
            return state
        try:
            data = vault.open(sealed, _CONTEXT) if vault is not None else b""
            obj = json.loads(data)
        except (CryptoError, ValueError, UnicodeDecodeError) as exc:
            raise StateError(f"{path} is damaged: it does not open") from exc
        return cls._from_json(root, obj, vault)

    @classmethod
    def _from_json(cls, root: Path, obj: Any, vault: Vault | None) -> State:
        expected = {"format", "instance", "authorities", "codename", "manifest", "pending"}
        if isinstance(obj, dict) and obj.get("format") == FORMAT:
            expected |= {"prekeys", "shown", "subkeys", "read", "deleted", "tofu"}
        elif isinstance(obj, dict) and obj.get("format") in _OLD_FORMATS:
            expected |= _OLD_FORMATS[obj["format"]]
        else:
            raise StateError(f"the state in {root} is not one this version of {APP_NAME} reads")
        if set(obj) != expected:
            raise StateError(f"the state in {root} is not one this version of {APP_NAME} reads")
        state = cls(root, vault=vault)
        instance = obj["instance"]
        if instance is not None and not isinstance(instance, str):
            raise StateError("the pinned instance address is malformed")
        state.instance = instance
        try:
            fps = obj["authorities"]
            if not isinstance(fps, list) or not all(isinstance(f, str) for f in fps):
                raise StateError("the pinned authority fingerprints are malformed")
            state.authorities = frozenset(Fingerprint.parse(f) for f in fps)
            codename = obj["codename"]
            if codename is not None:
                if not isinstance(codename, dict) or set(codename) != {"salt", "kdf"}:
                    raise StateError("the pinned codename parameters are malformed")
                state.codename_salt = _decode(codename["salt"], 16)
                state.codename_kdf = KdfParams.from_dict(codename["kdf"])
            if obj["manifest"] is not None:
                state.manifest = SignedManifest.from_bytes(canonical_json(obj["manifest"]))
        except CryptoError as exc:
            raise StateError(f"the state in {root} is damaged: {exc}") from exc
        if obj["pending"] is not None:
            state.pending = Pending.from_json(obj["pending"])
        state.prekeys = _prekeys(obj.get("prekeys", []))
        state.shown = _shown(obj.get("shown", {}))
        state.subkeys = _subkeys(obj.get("subkeys", {}))
        state.read = _read(obj.get("read", []))
        tofu = obj.get("tofu", False)
        if not isinstance(tofu, bool):
            raise StateError("the state's record of keys trusted on first use is malformed")
        state.tofu = tofu
        if obj["format"] >= 8:
            state.deleted, state.deleted_all = _deleted(obj["deleted"])
        else:
            # Formats 3 to 7 forgot the prekeys they deleted (7 kept some a while): such a
            # state cannot tell a key it read with from one it never held.
            state.deleted, state.deleted_all = list(state.read), obj["format"] == 2
        return state

    def to_json(self) -> dict[str, Any]:
        """Everything `save` seals."""
        codename = None
        if self.codename_salt is not None and self.codename_kdf is not None:
            codename = {"salt": b64encode(self.codename_salt), "kdf": self.codename_kdf.to_dict()}
        return {
            "format": FORMAT,
            "instance": self.instance,
            "authorities": sorted(str(fp).replace(" ", "") for fp in self.authorities),
            "codename": codename,
            "manifest": json.loads(self.manifest.to_bytes()) if self.manifest else None,
            "pending": self.pending.to_json() if self.pending else None,
            "prekeys": [k.to_text() for k in self.prekeys],
            "shown": dict(sorted(self.shown.items())),
            "subkeys": {k: _rank_json(v) for k, v in sorted(self.subkeys.items())},
            "read": self.read[-MAX_READ:],
            "deleted": {"ids": self.deleted[-MAX_DELETED:], "all": self.deleted_all},
            "tofu": self.tofu,
        }

    def forget_prekey(self, key: HybridPrivateKey) -> None:
        """Delete one prekey's secret and rewrite the state now (a reply sealed to it was read);
        its key id is remembered as read here."""
        self.prekeys = [k for k in self.prekeys if k != key]
        key_id = key.public_key.fingerprint.key_id.hex()
        self.read = [*(r for r in self.read if r != key_id), key_id][-MAX_READ:]
        deleted = [*(d for d in self.deleted if d != key_id), key_id]
        if len(deleted) > MAX_DELETED:
            deleted, self.deleted_all = deleted[-MAX_DELETED:], False
        self.deleted = deleted
        self.save()

    def save(self) -> None:
        """Seal the state and rename it into place, so it is never half-written."""
        path = self.path
        if path is None or self.vault is None:
            return
        private_dir(self.root)
        sealed = self.vault.seal(_filled(canonical_json(self.to_json())), _CONTEXT)
        _write_atomically(path, sealed)

    def forget(self) -> None:
        """Remove everything this codename left here: its sealed state and envelopes.

        The state goes first, its nonce before the rest (`_zero`): a run killed at any
        point leaves it whole or gone, never a state that opens without its envelopes.
        What is left of either goes at the next run (`sweep_killed`).
        """
        self.pending = None
        if self.path is not None:
            _destroy(self.path)
        shutil.rmtree(self.pending_dir, ignore_errors=True)


# What a device keeps for no codename in particular: the salt, the lock, `--launch-tor`'s data.
_SHARED: Final = frozenset({DEVICE_FILE, LOCK_FILE, "tor"})
# A codename's state and unfinished envelopes, named by its vault: a file of the person's in a
# directory given as --state (`game.state`, a folder `ledger.pending`) is never taken for one.
_STATE_NAME: Final = re.compile(rf"[0-9a-f]{{32}}{re.escape(STATE_SUFFIX)}")
_PENDING_NAME: Final = re.compile(rf"[0-9a-f]{{32}}{re.escape(PENDING_SUFFIX)}")
# The names of what the client keeps in its directory.
_OWN: Final = re.compile(
    "|".join(re.escape(name) for name in sorted(_SHARED))
    + f"|{_STATE_NAME.pattern}|{_PENDING_NAME.pattern}"
)


def remove_if_unused(root: Path) -> bool:
    """Remove the state directory if no codename keeps anything in it; True if it went.

    Its name says the client ran here, and where the filesystem keeps creation
    times, those of the directory, `device.json` and `lock` date the first use.
    The salt and tor's files are overwritten first; the directory it was made in keeps its times.
    Anything else in it (another codename's state, a file not the client's) keeps it.
    """
    try:
        names = {p.name for p in root.iterdir()}
        parent = root.parent.stat()
    except OSError:
        return False
    if not names <= _SHARED:
        return False
    _destroy(root / DEVICE_FILE)
    _destroy_tree(root / "tor")
    (root / LOCK_FILE).unlink(missing_ok=True)
    try:
        root.rmdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        os.utime(root.parent, ns=(parent.st_atime_ns, parent.st_mtime_ns))
    return True


def _destroy_tree(root: Path) -> None:
    """Overwrite every file under `root` with zeros, then remove it all (best effort).

    A `--launch-tor` tor's `state` says when it last ran, and its consensus when it was
    fetched: unlinked only, both stayed in the blocks the disk freed.
    """
    for directory, _dirs, names in os.walk(root, topdown=False):
        for name in names:
            path = Path(directory, name)
            with contextlib.suppress(OSError):
                if path.is_symlink() or not path.is_file():
                    path.unlink()
                else:
                    _destroy(path)
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _filled(record: bytes) -> bytes:
    """The record and spaces, which JSON ignores, up to one byte short of a STATE_BUCKET multiple.

    The vault adds one byte and pads to its own size classes, of which such a multiple is one.
    """
    size = (len(record) // STATE_BUCKET + 1) * STATE_BUCKET - 1
    return record + b" " * (size - len(record))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole through a rename; the file it replaces is overwritten in place.

    The old state may hold a prekey's secret just deleted: left in the blocks of the
    file renamed over, it would open that reply for whoever has the device and the
    codename. Overwriting is best effort on flash (docs/submit.md); it is all a file can do.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with _held(path) as old:
            os.replace(tmp, path)
            # The new name on the disk before the old file's zeros: a filesystem writes a
            # file's data before the commit that holds the rename, and a power cut between
            # the two left the zeros under the state's name, a state read as forgotten.
            _flush_names(path.parent)
            if old is not None:
                _zero(old)
    except BaseException:
        _destroy(Path(tmp))
        raise


def _flush_names(directory: Path) -> None:
    """Force the names in `directory` to the disk (a rename into it)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _held(path: Path) -> Iterator[int | None]:
    """The file at `path` open for writing (None if there is none), so it can be zeroed later."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _zero(fd: int) -> None:
    """Overwrite a file with zeros, its sealed nonce first, so no kill leaves part of it open.

    Zeroed whole at once, a kill between pages (or a flat battery before the write
    reached the flash, in whatever order its pages did) could leave the nonce with
    the rest of the sealed text: whoever has the codename decrypts what is left.
    With the nonce gone first, nothing of the file opens, and it reads as forgotten.
    """
    size = os.fstat(fd).st_size
    os.pwrite(fd, bytes(min(size, NONCE_BYTES)), 0)
    os.fsync(fd)
    os.pwrite(fd, bytes(size), 0)
    os.fsync(fd)


def forgotten(sealed: bytes) -> bool:
    """Whether a sealed file's nonce is zeros: `_zero` began on it, and it never opens again."""
    return sealed[:NONCE_BYTES] == bytes(NONCE_BYTES)


def _destroy(path: Path) -> None:
    """Overwrite a file of the state with zeros, then remove it."""
    with _held(path) as fd:
        if fd is None:
            return
        _zero(fd)
        path.unlink(missing_ok=True)


def device_vault(root: Path, codename: str, *, fast: bool = False) -> Vault:
    """Derive the codename's vault with this device's salt, made on first use.

    `fast` makes a new device's salt with test-strength Argon2id (test suites only).
    """
    path = root / DEVICE_FILE
    try:
        data = path.read_bytes()
        if _removal_cut_short(root, data):
            # The last codename's `forget` was killed as it removed the directory: the salt
            # was being overwritten, and opens nothing any more. A new device starts here.
            raise FileNotFoundError(path)
        obj = json.loads(data)
    except FileNotFoundError:
        params = KdfParams.TESTING if fast else KdfParams.INTERACTIVE
        salt = Vault.new_salt()
        record = {"format": DEVICE_FORMAT, "salt": b64encode(salt), "kdf": params.to_dict()}
        private_dir(root)
        _write_atomically(path, canonical_json(record))
        return Vault.derive(codename, salt, params)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise StateError(f"{path} is damaged or unreadable") from exc
    fields = {"format", "salt", "kdf"}
    if not isinstance(obj, dict) or set(obj) != fields or obj["format"] != DEVICE_FORMAT:
        raise StateError(f"{path} is not one this version of {APP_NAME} reads")
    try:
        params = KdfParams.from_dict(obj["kdf"])
        # The client writes INTERACTIVE (or TESTING): a file asking for more was not its own,
        # and is refused before Argon2id takes the memory it names.
        params.check_at_most(KdfParams.INTERACTIVE, str(path))
    except CryptoError as exc:
        raise StateError(f"{path} is damaged: {exc}") from exc
    return Vault.derive(codename, _decode(obj["salt"], 16), params)


def _removal_cut_short(root: Path, device: bytes) -> bool:
    """Whether `device.json` was being overwritten by `remove_if_unused` (no state is left)."""
    return device[:1] == b"\0" and codenames_kept(root) == 0


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700.

    The directory it is made in keeps its times: its modification time would
    otherwise say, to the nanosecond, when the client was first used here. A
    parent made with it gets the times of 0 that `clear_times` gives.
    """
    try:
        made = _missing(path)
        before = made[-1].parent.stat() if made else None
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise StateError(f"cannot use the state directory {path}: {exc.strerror}") from exc
    if mode & 0o077:
        # A phone's shared storage (FUSE, sdcardfs) or a FAT card: chmod does nothing there,
        # and every app allowed the storage reads what the client would write. What this
        # call made goes again, and the directory it was made in keeps its times.
        for directory in made:
            with contextlib.suppress(OSError):
                directory.rmdir()
        if before is not None:
            with contextlib.suppress(OSError):
                os.utime(made[-1].parent, ns=(before.st_atime_ns, before.st_mtime_ns))
        raise StateError(
            f"{path} is on a filesystem that does not keep permissions (a phone's shared "
            "storage, a memory card): other apps could read what the client keeps there",
            hint="leave out --state (Termux keeps the default in its private home), or give a "
            "directory there",
        )
    # Not ours to fail over: a parent may belong to someone else (/tmp, a mount point).
    if before is not None:
        with contextlib.suppress(OSError):
            os.utime(made[-1].parent, ns=(before.st_atime_ns, before.st_mtime_ns))
    for directory in made:
        with contextlib.suppress(OSError):
            os.utime(directory, (0, 0))
    return path


def _missing(path: Path) -> list[Path]:
    """`path` and those of its parents that do not exist yet, innermost first."""
    missing = []
    for directory in [path, *path.parents]:
        if directory.exists():
            break
        missing.append(directory)
    return missing


@contextlib.contextmanager
def opened(root: Path, codename: str, *, fast_kdf: bool = False) -> Iterator[State]:
    """Open the codename's state with the directory locked, so two runs never interleave."""
    private_dir(root)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        # No cleanup here: the directory is the running one's. Before its first save it
        # holds only the salt, the lock and Tor's data, which a cleanup took from under it.
        os.close(fd)
        raise StateError(
            f"another {APP_NAME} is using {root}",
            hint="wait for it to finish, or give another directory with --state",
        ) from exc
    except BaseException:
        os.close(fd)
        raise
    try:
        state = State.load(root, device_vault(root, codename, fast=fast_kdf))
        sweep_killed(state)
        yield state
    finally:
        # A run that kept nothing (a first one that failed: no tor, a wrong address, a
        # refused keyring) leaves no directory, salt or lock saying the client ran here.
        if not remove_if_unused(root):
            clear_times(root)
        os.close(fd)


def codenames_kept(root: Path) -> int:
    """How many codenames keep a state in `root`, listed without dating the listing."""
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(root, flags)
    except PermissionError:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return 0
    try:
        return sum(1 for name in os.listdir(fd) if _STATE_NAME.fullmatch(name))
    finally:
        os.close(fd)


def carry(state: State, to: Vault, *, forget: bool) -> State | None:
    """Give the codename of `to` what `state`'s pinned and verified; with `forget`, forget `state`.

    A new codename's state is sealed under it alone, so it cannot read what an earlier
    codename on the device verified: its first run would start from the pins alone, and
    take a keyring or subkey list the device had already refused as replaced. Carried
    are the instance, the pins, the codename parameters, the newest keyring and each
    reviewer's newest subkey list; never the reply keys, the replies shown or read, or an
    unfinished upload, which are the other account's. `state` is open, so the directory
    is locked. None: a `carry --forget` cut short had done it all, but say so.
    """
    if forget and state.vault is not None and state.instance is None and state.pending is None:
        done = State.load(state.root, to)
        if done.instance is not None and to.name != state.vault.name:
            return None
    if state.vault is None or state.instance is None or state.manifest is None:
        raise StateError(
            "nothing is pinned here for this codename",
            hint="carry from the codename that sent or read replies on this device",
        )
    if to.name == state.vault.name:
        raise StateError("the two codenames are the same")
    carried = State.load(state.root, to)
    # The same carry again (one cut short before it forgot, say) changes nothing of it.
    if carried.to_json() != _carried(state, carried).to_json() and (
        carried.instance is not None or carried.pending is not None or carried.prekeys
    ):
        raise StateError(
            "the new codename already keeps a state here",
            hint="carry to a codename `raazdar-submit new` just made, before its first use",
        )
    if forget and state.pending is not None:
        raise StateError(
            "this codename has an unfinished upload: --forget would lose it",
            hint="finish it with `send --resume`, or `send --discard` it, first",
        )
    carried = _carried(state, State(state.root, vault=to))
    carried.save()
    if forget:
        state.forget()
    return carried


def _carried(state: State, to: State) -> State:
    """A copy of the empty state `to` given what `state` pinned and verified."""
    carried = State(to.root, vault=to.vault)
    carried.instance, carried.authorities = state.instance, state.authorities
    carried.codename_salt, carried.codename_kdf = state.codename_salt, state.codename_kdf
    carried.manifest, carried.subkeys = state.manifest, dict(state.subkeys)
    carried.tofu = state.tofu
    return carried


# What `_write_atomically` names the file it writes before the rename (`tempfile.mkstemp`'s
# eight characters after the prefix): a run killed in between leaves it.
_HALF_SAVED: Final = re.compile(r"\.(?:[0-9a-f]{32}\.state|device\.json)\.[a-z0-9_]{8}")


def sweep_killed(state: State) -> None:
    """Remove what a run killed outright (SIGKILL, out of memory, a flat battery) left here.

    A save killed before its rename leaves the state it was writing, sealed under that
    codename and holding the reply keys it held then, which the state deletes later as
    their replies are read: opened with the codename, it would open those replies. A
    `send` killed while sealing leaves envelopes its state never recorded: they would
    stay for good (their size classes on the disk) and stop every later `send` of the
    codename, whose first envelope's name they hold. A `forget` killed midway leaves a
    state whose nonce it overwrote, which opens nothing but counts a codename, or the
    envelopes of a state already gone. Called with the directory locked, so no other
    run is writing either.
    """
    with contextlib.suppress(OSError):
        for path in state.root.iterdir():
            if path.is_symlink() or not path.is_file():
                continue
            if _HALF_SAVED.fullmatch(path.name) or _forgotten_state(path):
                with contextlib.suppress(OSError):
                    _destroy(path)
    with contextlib.suppress(OSError):
        for path in state.root.iterdir():
            if not _PENDING_NAME.fullmatch(path.name):
                continue
            # A codename's envelopes with no state left to record them: its `forget` was
            # cut short after the state went.
            kept = path.with_name(path.name.removesuffix(PENDING_SUFFIX) + STATE_SUFFIX)
            if not kept.exists() and path != state.pending_dir and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
    recorded = {i.name for i in state.pending.items} if state.pending is not None else set()
    with contextlib.suppress(OSError):
        for path in state.pending_dir.iterdir():
            if path.name not in recorded:
                with contextlib.suppress(OSError):
                    path.unlink()
    if state.pending is None:
        with contextlib.suppress(OSError):
            state.pending_dir.rmdir()


def _forgotten_state(path: Path) -> bool:
    """Whether `path` is a codename's state a `forget` (any codename's) began to overwrite."""
    if not _STATE_NAME.fullmatch(path.name):
        return False
    with path.open("rb") as file:
        return forgotten(file.read(NONCE_BYTES))


def clear_times(root: Path) -> None:
    """Set the access and modification times of what the client keeps in `root`, and its own, to 0.

    They would say when the client was first used and when each report was
    sealed and sent, to the second; the change times the filesystem keeps
    cannot be set, and say only when the client last ran. Anything else in
    `root` (a stick given as `--state`, its photos on it) keeps its times.
    """
    with contextlib.suppress(OSError):
        for path in root.iterdir():
            if not _OWN.fullmatch(path.name):
                continue
            if path.is_symlink() or not path.is_dir():
                with contextlib.suppress(OSError):
                    os.utime(path, (0, 0), follow_symlinks=False)
                continue
            for directory, _dirs, names in os.walk(path, topdown=False):
                for name in names:
                    with contextlib.suppress(OSError):
                        os.utime(os.path.join(directory, name), (0, 0), follow_symlinks=False)
                with contextlib.suppress(OSError):
                    os.utime(directory, (0, 0))
    with contextlib.suppress(OSError):
        os.utime(root, (0, 0))


def ram_dir() -> Path:
    """A memory-backed directory for an amnesic run's scratch, or an error if there is none."""
    found = sensitive.ram_dir()
    if found is None:
        raise StateError(
            "--no-state needs a memory-backed directory (/dev/shm or $XDG_RUNTIME_DIR)",
            hint="this system has neither: run without --no-state, on a device you trust",
        )
    return found


@contextlib.contextmanager
def amnesic() -> Iterator[State]:
    """A state kept in memory only; envelopes wait in a private RAM directory, removed after."""
    with sensitive.scratch_dir(ram_dir()) as scratch:
        yield State(scratch)


def _prekeys(value: Any) -> list[HybridPrivateKey]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise StateError("the reply prekeys in the state are malformed")
    try:
        return [HybridPrivateKey.from_text(text) for text in value]
    except CryptoError as exc:
        raise StateError("the reply prekeys in the state are malformed") from exc


def _shown(value: Any) -> dict[str, str]:
    ok = isinstance(value, dict) and all(
        isinstance(k, str) and _ID.fullmatch(k) and isinstance(v, str) and _DAY.fullmatch(v)
        for k, v in value.items()
    )
    if not ok:
        raise StateError("the replies shown recorded in the state are malformed")
    return dict(value)


def _deleted(value: Any) -> tuple[list[str], bool]:
    ok = (
        isinstance(value, dict)
        and set(value) == {"ids", "all"}
        and isinstance(value["all"], bool)
        and isinstance(value["ids"], list)
        and len(value["ids"]) <= MAX_DELETED
        and all(isinstance(v, str) and _KEY_ID.fullmatch(v) for v in value["ids"])
    )
    if not ok:
        raise StateError("the one-time keys deleted recorded in the state are malformed")
    return list(value["ids"]), value["all"]


def _read(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _KEY_ID.fullmatch(v) for v in value
    ):
        raise StateError("the replies read recorded in the state are malformed")
    return list(value[-MAX_READ:])


def _rank_json(rank: ListRank) -> list[Any]:
    """`[issued, format]`, and `sequence, digest` after them for a numbered list."""
    found: list[Any] = [rank.issued.isoformat(), rank.format]
    if rank.sequence is not None and rank.digest is not None:
        found += [rank.sequence, b64encode(rank.digest)]
    return found


def _subkeys(value: Any) -> dict[str, ListRank]:
    ok = isinstance(value, dict) and all(
        isinstance(k, str)
        and isinstance(v, list)
        and len(v) in (2, 4)
        and isinstance(v[0], str)
        and _DAY.fullmatch(v[0])
        and type(v[1]) is int
        and (len(v) == 2 or (type(v[2]) is int and isinstance(v[3], str)))
        for k, v in value.items()
    )
    if not ok:
        raise StateError("the subkey lists recorded in the state are malformed")
    try:
        return {
            k: ListRank(
                dt.date.fromisoformat(v[0]),
                v[1],
                v[2] if len(v) == 4 else None,
                b64decode(v[3], length=32) if len(v) == 4 else None,
            )
            for k, v in value.items()
        }
    except (CryptoError, ValueError) as exc:
        raise StateError("the subkey lists recorded in the state are malformed") from exc


def _decode(value: Any, length: int) -> bytes:
    if not isinstance(value, str):
        raise StateError("a base64url value in the state is malformed")
    try:
        return b64decode(value, length=length)
    except CryptoError as exc:
        raise StateError("a base64url value in the state is malformed") from exc
