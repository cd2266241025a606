"""The client's small local state: what it pinned and verified, and uploads to resume.

One directory per instance (default: the user's config dir, or `--state DIR`),
private to the user (0700, files 0600), holding `state.json` and, while a
submission is unfinished, its sealed envelopes in `pending/`. It never holds the
codename, a key derived from it, the lookup tag or any plaintext: a device taken
from the source shows which instance it pinned and, at most, ciphertext that
only the reviewers can open.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import click

from crypto import CryptoError, Fingerprint, KdfParams, SignedManifest
from crypto.encoding import b64decode, b64encode, canonical_json
from submit.errors import StateError

APP_NAME: Final = "raazdar-submit"
STATE_FILE: Final = "state.json"
LOCK_FILE: Final = "lock"
PENDING_DIR: Final = "pending"
FORMAT: Final = 1
_ID: Final = re.compile(r"[0-9a-f]{32}")
_ENVELOPE_NAME: Final = re.compile(r"[0-9]{1,4}\.rze")
KINDS: Final = frozenset({"report", "file"})


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

    def to_json(self) -> dict[str, Any]:
        """The record kept in `state.json`."""
        return {
            "submission": self.submission,
            "keyring_version": self.keyring_version,
            "items": [i.to_json() for i in self.items],
            "owner": self.owner,
        }

    @classmethod
    def from_json(cls, value: Any) -> Pending:
        """Read a record back."""
        if not isinstance(value, dict) or set(value) != {
            "submission",
            "keyring_version",
            "items",
            "owner",
        }:
            raise StateError("the pending submission record is malformed")
        submission, version, items = value["submission"], value["keyring_version"], value["items"]
        owner = value["owner"]
        if not isinstance(owner, str) or not _ID.fullmatch(owner):
            raise StateError("the pending submission record is malformed")
        if not isinstance(submission, str) or not _ID.fullmatch(submission):
            raise StateError("the pending submission record is malformed")
        if type(version) is not int or not isinstance(items, list) or not items:
            raise StateError("the pending submission record is malformed")
        return cls(submission, version, [PendingItem.from_json(i) for i in items], owner)


@dataclass
class State:
    """What this device remembers about one instance; `save` writes it atomically."""

    root: Path
    instance: str | None = None
    authorities: frozenset[Fingerprint] = frozenset()
    codename_salt: bytes | None = None
    codename_kdf: KdfParams | None = None
    manifest: SignedManifest | None = None
    pending: Pending | None = None

    @property
    def pending_dir(self) -> Path:
        """Where the sealed envelopes of an unfinished submission wait."""
        return self.root / PENDING_DIR

    @classmethod
    def load(cls, root: Path) -> State:
        """Read the state in `root`; a missing file is an empty state."""
        path = root / STATE_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls(root)
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateError(f"{path} is damaged: it is not JSON") from exc
        return cls._from_json(root, obj)

    @classmethod
    def _from_json(cls, root: Path, obj: Any) -> State:
        expected = {"format", "instance", "authorities", "codename", "manifest", "pending"}
        if not isinstance(obj, dict) or obj.get("format") != FORMAT or set(obj) != expected:
            raise StateError(
                f"{root / STATE_FILE} is not a state file this version of {APP_NAME} understands"
            )
        state = cls(root)
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
            raise StateError(f"{root / STATE_FILE} is damaged: {exc}") from exc
        if obj["pending"] is not None:
            state.pending = Pending.from_json(obj["pending"])
        return state

    def to_json(self) -> dict[str, Any]:
        """Everything `save` writes."""
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
        }

    def save(self) -> None:
        """Write the state beside its file and rename it into place, so it is never half-written."""
        private_dir(self.root)
        data = json.dumps(self.to_json(), indent=1, sort_keys=True).encode() + b"\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{STATE_FILE}.", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.root / STATE_FILE)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise StateError(f"cannot use the state directory {path}: {exc.strerror}") from exc
    return path


@contextlib.contextmanager
def opened(root: Path) -> Iterator[State]:
    """Load the state with the directory locked, so two runs never interleave their uploads."""
    private_dir(root)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StateError(
                f"another {APP_NAME} is using {root}",
                hint="wait for it to finish, or give another directory with --state",
            ) from exc
        yield State.load(root)
    finally:
        os.close(fd)


def _decode(value: Any, length: int) -> bytes:
    if not isinstance(value, str):
        raise StateError("a base64url value in the state is malformed")
    try:
        return b64decode(value, length=length)
    except CryptoError as exc:
        raise StateError("a base64url value in the state is malformed") from exc
