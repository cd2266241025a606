"""The instance directory: where a server keeps its config, keys, keyring, database and store."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.errors import ConfigError, InstanceError, RestoreUnfinished
from app.files import fsync_directory
from app.noatime import read_quietly
from crypto import KdfParams, SigningKey
from crypto.encoding import b64decode, b64encode

CONFIG_NAME = "config.json"
# Put in every backup (`app.operations.backup`), so a server restored from one refuses
# to serve until a purge has taken again what was deleted since the backup's day.
RESTORED_NAME = "restored"
# Where a restore puts the backup it checked whole, then moves it into place from
# (`app.operations.put_back`); not a `.restore-` name, which a restore destroys.
MOVING_NAME = ".restored-moving"


@dataclass(frozen=True)
class InstancePaths:
    """The fixed layout of an instance directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def secret_key(self) -> Path:
        return self.root / "secret_key"

    @property
    def pending_secret_key(self) -> Path:
        """A new secret key, while the staff's second factors are sealed under it."""
        return self.root / "secret_key.next"

    @property
    def signing_key(self) -> Path:
        return self.root / "server_signing_key"

    @property
    def keyring(self) -> Path:
        return self.root / "keyring"

    @property
    def pinned(self) -> Path:
        return self.keyring / "pinned.json"

    @property
    def manifests(self) -> Path:
        return self.keyring / "manifests"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def staging(self) -> Path:
        return self.store / ".staging"

    @property
    def database(self) -> Path:
        return self.root / "raazdar.db"

    @property
    def demo_keys(self) -> Path:
        return self.root / "demo-keys"

    @property
    def restored(self) -> Path:
        return self.root / RESTORED_NAME


def refuse_unfinished_restore(paths: InstancePaths) -> None:
    """Refuse to serve an instance put back from a backup until a purge has run on it.

    A backup is the server on its day: put back, it holds the sources that expired
    and were purged since (their codenames open their accounts again), and the
    items and logins deleted since, until a purge takes them again.
    """
    if os.path.lexists(paths.restored):
        raise RestoreUnfinished(
            "this instance was put back from a backup and its restore is not finished: "
            "what was deleted since the backup's day is back (sources that expired since "
            "would log in again) until `raazdar purge` runs"
        )


def finish_moves(paths: InstancePaths) -> bool:
    """Move into place what a restore checked whole and stopped moving; whether there was any.

    The restore renamed its directory to `MOVING_NAME` only once the backup's key and
    every member had been checked and written: what is in it is the backup, and a
    restore killed or failing between its moves left the rest of it there. Every
    command that reads the instance finishes it first (`load_config`), so none runs on
    half a backup and nobody needs to empty the instance by hand.
    """
    moving = paths.root / MOVING_NAME
    if not moving.is_dir() or moving.is_symlink():
        return False
    # The mark first: stopped again halfway, the server still refuses to start.
    for name in sorted(os.listdir(moving), key=lambda n: n != RESTORED_NAME):
        there = paths.root / name
        if os.path.lexists(there):
            raise InstanceError(
                f"{there} was made after a restore stopped halfway, and the backup holds it "
                f"too: move it aside, and any raazdar command moves the backup's in place "
                f"(the rest of the backup waits in {moving})"
            )
        os.rename(moving / name, there)
    os.rmdir(moving)
    for entry in paths.root.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            # Dated the epoch, as the backup's members are: a move changed its `..` entry.
            os.utime(entry, (0, 0))
    fsync_directory(paths.root)
    return True


def refuse_cut_off_rotation(paths: InstancePaths) -> None:
    """Refuse to serve while a secret key rotation waits to be finished.

    Its new key waits beside the old one (`app.operations.rotation.rotate_secret_key`):
    the second factors may be sealed under it already, and a server started on the old
    one refused every staff member's right code.
    """
    if os.path.lexists(paths.pending_secret_key):
        raise ConfigError(
            "a secret key rotation was cut off before it finished: run `raazdar rotate "
            "secret-key` again, which finishes it (or starts it again), then start the server"
        )


@dataclass(frozen=True)
class InstanceConfig:
    """What `config.json` holds: nothing secret (secrets live in their own 0600 files)."""

    instance_id: str
    mode: str
    database_url: str
    salt: bytes
    kdf: KdfParams

    def database_url_in(self, root: Path) -> str:
        """The database URL to connect to: an SQLite path is relative to the instance."""
        return resolve_database_url(self.database_url, root)

    def to_json(self) -> dict[str, Any]:
        """Serialise for `config.json`."""
        return {
            "instance_id": self.instance_id,
            "mode": self.mode,
            "database_url": self.database_url,
            "codename_salt": b64encode(self.salt),
            "codename_kdf": self.kdf.to_dict(),
        }

    @classmethod
    def from_json(cls, obj: Any) -> InstanceConfig:
        """Parse `config.json`."""
        try:
            return cls(
                instance_id=str(obj["instance_id"]),
                mode=str(obj["mode"]),
                database_url=str(obj["database_url"]),
                salt=b64decode(obj["codename_salt"], length=16),
                kdf=KdfParams.from_dict(obj["codename_kdf"]),
            )
        except (KeyError, TypeError) as exc:
            raise InstanceError(f"config.json is incomplete: {exc}") from exc


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL as written (maybe relative); None for another database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def database_directory(url: str) -> Path | None:
    """The directory an SQLite database's files are in (the disk its floor watches); None for
    another database, whose files this server cannot see."""
    path = sqlite_path(url)
    return path.resolve().parent if path is not None else None


def resolve_database_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute under the instance directory `root`.

    `config.json` names the instance's own SQLite database relative to the
    instance, so that a copied or restored instance uses its own copy and never
    the original's. Other URLs (PostgreSQL, absolute paths) are left as they are.
    """
    path = sqlite_path(url)
    if path is None or path.is_absolute():
        return url
    return make_url(url).set(database=str(root / path)).render_as_string(hide_password=False)


def relative_database_url(url: str, root: Path) -> str:
    """Write an absolute SQLite path inside the instance `root` relative to it."""
    path = sqlite_path(url)
    if path is None or not path.is_absolute():
        return url
    try:
        inside = path.resolve().relative_to(root.resolve())
    except ValueError:
        return url
    return make_url(url).set(database=str(inside)).render_as_string(hide_password=False)


def url_has_password(url: str) -> bool:
    """Whether a database URL carries a password (an unparsable one is refused later)."""
    try:
        return make_url(url).password is not None
    except (ArgumentError, ValueError):
        return ":" in url.partition("@")[0].rpartition("//")[2]


def relativise_config(paths: InstancePaths) -> bool:
    """Rewrite an old `config.json` whose SQLite path is absolute but inside the instance.

    Returns whether it changed. An absolute path outside the instance is left for
    an administrator to judge (`raazdar doctor` fails on it).
    """
    obj = json.loads(paths.config.read_text("utf-8"))
    config = InstanceConfig.from_json(obj)
    relative = relative_database_url(config.database_url, paths.root)
    if relative == config.database_url:
        return False
    obj["database_url"] = relative
    partial = paths.config.with_name(f".{CONFIG_NAME}.new")
    partial.unlink(missing_ok=True)
    write_private(partial, json.dumps(obj, indent=2).encode() + b"\n")
    os.replace(partial, paths.config)
    return True


def write_private(path: Path, data: bytes) -> None:
    """Create a file readable by its owner only; refuse to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def create_layout(
    paths: InstancePaths, *, mode: str, database_url: str | None, kdf: KdfParams
) -> InstanceConfig:
    """Create the directories, the secret key, the signing key and `config.json`."""
    if paths.config.exists():
        raise InstanceError(f"an instance already exists in {paths.root}")
    for directory in (paths.root, paths.keyring, paths.manifests, paths.store, paths.staging):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = InstanceConfig(
        instance_id=secrets.token_hex(16),
        mode=mode,
        database_url=relative_database_url(
            database_url or f"sqlite:///{paths.database}", paths.root
        ),
        salt=secrets.token_bytes(16),
        kdf=kdf,
    )
    write_private(paths.secret_key, secrets.token_bytes(32))
    write_private(paths.signing_key, SigningKey.generate().to_text().encode() + b"\n")
    write_private(paths.config, json.dumps(config.to_json(), indent=2).encode() + b"\n")
    return config


def load_config(paths: InstancePaths) -> InstanceConfig:
    """Read `config.json`, or say plainly that there is no instance.

    A restore stopped while moving the backup into place is finished first (`finish_moves`).
    """
    finish_moves(paths)
    try:
        obj = json.loads(read_quietly(paths.config).decode("utf-8"))
    except FileNotFoundError as exc:
        raise InstanceError(
            f"no instance in {paths.root}: run `raazdar init` (or `raazdar init --demo`)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise InstanceError(f"cannot read {paths.config}: {exc}") from exc
    return InstanceConfig.from_json(obj)
