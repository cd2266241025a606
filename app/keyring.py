"""The keyring in force: the pinned authority set, the verified chain, and its timestamp.

The timestamp (docs/PROTOCOL.md §8.8) is made offline with the keyring's
timestamp key and only kept and served here: the server cannot make one, so
withholding a newer keyring shows once the last timestamp expires.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import InstanceError, KeyringUnavailable
from app.files import replace_overwriting
from app.instance import InstancePaths, write_private
from app.noatime import read_quietly
from crypto import (
    CryptoError,
    Fingerprint,
    Manifest,
    SignedManifest,
    SignedSubkeyList,
    SignedTimestamp,
    Timestamp,
    check_lifetime,
    verify_chain,
    verify_initial,
    verify_timestamp,
)
from crypto.constants import TIMESTAMP_MAX_BYTES

TIMESTAMP_NAME = "timestamp.json"


@dataclass(frozen=True)
class KeyringState:
    """The outcome of checking the keyring on disk: a manifest in force, or why not."""

    manifest: Manifest | None
    chain: tuple[SignedManifest, ...] = ()
    pinned: frozenset[Fingerprint] = field(default_factory=frozenset)
    problem: str | None = None
    timestamp: SignedTimestamp | None = None

    def require(self) -> Manifest:
        """Return the manifest in force, or raise `KeyringUnavailable`."""
        if self.manifest is None:
            raise KeyringUnavailable(self.problem or "no keyring")
        return self.manifest


def manifest_path(paths: InstancePaths, version: int) -> Path:
    """Where version `version` of the manifest is kept."""
    return paths.manifests / f"{version:06d}.json"


def chain_order(name: str) -> tuple[int, str]:
    """Sort key of a manifest file's name: by version, however many digits it has.

    Names are the version in six digits or more (`manifest_path`). By name alone
    version 1000000 came before 999999, the chain read broken and no successor
    installed: any higher version follows (PROTOCOL §8.5), so one signed at 999999
    kept the next keyring, the one revoking whoever drafted it, out for good.
    """
    return (len(name), name)


def timestamp_path(paths: InstancePaths) -> Path:
    """Where the newest keyring timestamp is kept (outside the manifests directory)."""
    return paths.keyring / TIMESTAMP_NAME


def read_timestamp(paths: InstancePaths) -> SignedTimestamp | None:
    """The stored timestamp, unverified; None if there is none or it is unreadable."""
    try:
        return SignedTimestamp.from_bytes(read_quietly(timestamp_path(paths)))
    except (OSError, CryptoError):
        return None


def fresh_timestamp(state: KeyringState, today: dt.date) -> Timestamp | None:
    """The stored timestamp if it vouches for the manifest in force today, else None."""
    if state.manifest is None or state.timestamp is None:
        return None
    try:
        return verify_timestamp(state.timestamp, state.manifest, today)
    except CryptoError:
        return None


def install_timestamp(
    paths: InstancePaths,
    data: bytes,
    manifest: Manifest,
    today: dt.date,
    lists: Mapping[str, SignedSubkeyList] | None = None,
) -> Timestamp:
    """Verify `data` as a timestamp for the manifest in force, then put it in place whole.

    `lists` are the subkey lists installed, by reviewer id (read under the keyring's lock).
    """
    if len(data) > TIMESTAMP_MAX_BYTES:
        raise InstanceError(f"not a keyring timestamp: larger than {TIMESTAMP_MAX_BYTES} bytes")
    try:
        signed = SignedTimestamp.from_bytes(data)
        stamp = verify_timestamp(signed, manifest, today)
    except CryptoError as exc:
        raise InstanceError(f"timestamp refused: {exc}") from exc
    with keyring_held(paths):
        _check_floors(stamp, lists or {}, manifest)
        stored = read_timestamp(paths)
        # Lapsed or not: one issued before a lapsed one (naming the list a re-key replaced,
        # and holding longer) would lower the floors that one set (PROTOCOL §5A.8).
        installed = _signed_for(stored, manifest)
        if installed is not None and _says_less(stamp, installed):
            raise InstanceError(
                f"timestamp refused: it is older than the one installed (issued {stamp.issued}, "
                f"the installed one {installed.issued}, or naming lower subkey list numbers), "
                "which it would replace; install the newest the workstation signed"
            )
        _check_named(stamp, installed)
        write_replacing(timestamp_path(paths), signed.to_bytes())
    return stamp


# The keyring folders each thread holds the lock of (`keyring_held`).
_HELD = threading.local()


def keyring_is_held(paths: InstancePaths) -> bool:
    """Whether this thread holds the keyring's lock (`keyring_held`)."""
    held: set[str] = _HELD.__dict__.get("folders", set())
    return os.path.realpath(paths.keyring) in held


@contextlib.contextmanager
def keyring_held(paths: InstancePaths) -> Iterator[None]:
    """Hold the keyring's lock while a file in it that is replaced in place is written.

    Every install of such a file (a timestamp, a subkey list) and the sweep, which
    makes them anew with the times of the epoch, take it: the sweep's copy, read
    under the lock, can never go in over a newer file installed meanwhile. It is
    an `flock` on the keyring's folder, which no command and no process share.
    Taken again by the thread that holds it, it is held already: a second `flock` of
    one process, on a descriptor of its own, would wait for the first for ever.
    """
    held = _HELD.__dict__.setdefault("folders", set())
    folder = os.path.realpath(paths.keyring)
    if folder in held:
        yield
        return
    fd = os.open(paths.keyring, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(folder)
        try:
            yield
        finally:
            held.discard(folder)
    finally:
        os.close(fd)


def _check_floors(
    stamp: Timestamp, lists: Mapping[str, SignedSubkeyList], manifest: Manifest
) -> None:
    """Refuse a timestamp naming a reviewer's list numbered below the list installed here,
    or naming no number for a reviewer of the keyring whose installed list is numbered.

    Its lower number is a replaced list's: the leaked one a re-key replaced, handed
    to the timestamp holder in the new one's place, which every device without state
    would then take again (PROTOCOL §8.8). Naming none is no floor at all: a format-1
    timestamp (signed without `--subkeys`, where no workspace refuses it), the first of
    a new keyring version or after a re-key, was taken beside the re-keyed list.
    """
    floors = dict(stamp.subkeys)
    for recipient in manifest.recipients:
        rid = recipient.id
        listed = lists.get(rid)
        number = listed.subkeys.sequence if listed is not None else None
        if number is None:
            continue
        floor = floors.get(rid)
        if floor is None:
            raise InstanceError(
                f"timestamp refused: it names no subkey list of {rid}, but list {number} is "
                "installed here, so devices would take an older list again; sign one naming "
                "each list installed (raazdar-review keys timestamp --subkeys FILE, one for "
                "each reviewer)"
            )
        if floor < number:
            raise InstanceError(
                f"timestamp refused: it names subkey list {floor} of {rid}, but list {number} "
                "is installed here, so devices would take the older list again; sign one "
                "naming the list installed (raazdar-review keys timestamp --subkeys FILE)"
            )


def _signed_for(stored: SignedTimestamp | None, manifest: Manifest) -> Timestamp | None:
    """The stored timestamp if the timestamp key signed it for `manifest`, expired or not."""
    if stored is None:
        return None
    try:
        # Checked as on its own day: its floors stand after it expires, for the same keyring.
        return verify_timestamp(stored, manifest, stored.timestamp.issued)
    except CryptoError:
        return None


def _check_named(stamp: Timestamp, last: Timestamp | None) -> None:
    """Refuse a timestamp naming no list number for a reviewer the last one for this keyring named.

    Issued a later day, one signed without `--subkeys` (forgotten, or swapped in by
    a carrier) replaced one naming the re-keyed list: devices without state then had
    no floor, and took the leaked list again (PROTOCOL §8.8).
    """
    if last is None:
        return
    named = dict(stamp.subkeys)
    dropped = [rid for rid, _ in last.subkeys if rid not in named]
    if dropped:
        rid = dropped[0]
        raise InstanceError(
            f"timestamp refused: it names no subkey list of {rid}, but the timestamp installed "
            f"for this keyring names list {dict(last.subkeys)[rid]}, so devices would take an "
            "older list again; sign one naming each list installed "
            "(raazdar-review keys timestamp --subkeys FILE, one for each reviewer)"
        )


def _says_less(candidate: Timestamp, installed: Timestamp) -> bool:
    """Whether `candidate` is issued before `installed`, or the same day with a lower floor.

    A replay (a swapped file, a corrupt carrier) of a timestamp still fresh would
    otherwise replace the one naming a reviewer's re-keyed subkey list (PROTOCOL
    §5A.8), and devices without state would take the leaked list again.
    """
    if candidate.issued != installed.issued:
        return candidate.issued < installed.issued
    floors = dict(candidate.subkeys)
    return any(floors.get(rid, 0) < number for rid, number in installed.subkeys)


def write_replacing(target: Path, data: bytes) -> None:
    """Write a private file beside `target` and rename it over `target`."""
    write_whole(target, data, os.replace)


def write_replacing_key(target: Path, data: bytes) -> None:
    """Write a private file beside `target`, rename it over `target`, overwrite the old one."""
    write_whole(target, data, replace_overwriting)


def write_whole(target: Path, data: bytes, place: Callable[[Path, Path], None]) -> None:
    """Write `data` to a private temporary file beside `target`, flush it, then `place` it.

    `place` is `os.replace` (over any old file) or `os.link` (`FileExistsError`
    if `target` exists). The temporary name ends in `.part`, which no reader of
    `*.json` sees, and is gone afterwards whatever happened: a reader finds no
    file or the whole file.
    """
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.part")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        place(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def pin_authorities(paths: InstancePaths, signed: SignedManifest, today: dt.date) -> None:
    """Pin a first manifest's authority set and install it as version 1 (at `init`)."""
    if paths.pinned.exists():
        raise InstanceError("authority keys are already pinned for this instance")
    manifest = signed.manifest
    # Dates too: an instance must not start life with a keyring already expired.
    verify_initial(signed, manifest.authority_fingerprints, today)
    check_lifetime(manifest)
    pinned = sorted(str(fp) for fp in manifest.authority_fingerprints)
    with keyring_held(paths):
        write_private(paths.pinned, json.dumps({"authority": pinned}, indent=2).encode() + b"\n")
    write_private(manifest_path(paths, manifest.version), signed.to_bytes())


def read_pinned(paths: InstancePaths) -> frozenset[Fingerprint]:
    """Read the authority fingerprints pinned at `init`."""
    obj = json.loads(read_quietly(paths.pinned).decode("utf-8"))
    return frozenset(Fingerprint.parse(text) for text in obj["authority"])


def load_keyring(
    paths: InstancePaths, today: dt.date, installed: int | None = None
) -> KeyringState:
    """Verify the chain from the pinned authorities to the newest manifest on disk.

    `installed` is the newest version the database records installed: files
    older than it were rolled back, whatever the timestamp beside them says.
    """
    try:
        pinned = read_pinned(paths)
    except (OSError, ValueError, KeyError, CryptoError):
        return KeyringState(None, problem="no pinned authority keys")
    try:
        chain = tuple(
            SignedManifest.from_bytes(read_quietly(p))
            for p in sorted(paths.manifests.glob("*.json"), key=lambda p: chain_order(p.name))
        )
        if not chain:
            return KeyringState(None, pinned=pinned, problem="no keyring manifest installed")
        manifest = verify_chain(pinned, chain, today)
    except (OSError, CryptoError) as exc:
        return KeyringState(None, pinned=pinned, problem=f"keyring does not verify: {exc}")
    stamp = read_timestamp(paths)
    if installed is not None and installed > manifest.version:
        # The timestamp may be gone with the files; the audit log's entry is not (nor,
        # unnoticed by the workstation, every entry after it).
        return KeyringState(
            None,
            chain,
            pinned,
            problem=(
                f"keyring v{manifest.version} is older than the v{installed} the audit log "
                f"records installed here: the later keyrings' files were removed from the "
                "instance directory (or an old copy restored); install them again "
                "(`raazdar keyring install`)"
            ),
            timestamp=stamp,
        )
    if stamp is not None and stamp.timestamp.version > manifest.version:
        # Only a timestamp for the keyring in force is ever installed: a later one means
        # the newer keyrings' files were removed (or an old backup restored), and v1 would
        # seal to whom they dropped.
        return KeyringState(
            None,
            chain,
            pinned,
            problem=(
                f"keyring v{manifest.version} is older than the v{stamp.timestamp.version} "
                "the timestamp kept here vouches for: the later keyrings' files were removed "
                "from the instance directory; install them again (`raazdar keyring install`)"
            ),
            timestamp=stamp,
        )
    return KeyringState(manifest, chain, pinned, timestamp=stamp)


class KeyringCache:
    """Re-verify the keyring when the files change or the day turns, not on every request.

    Each time, `installed` gives the newest version the database records installed.
    When it cannot tell, no keyring is in force and nothing is kept: its refusal
    (`KeyringUnavailable`) is the state, and any other error goes up as it came (a
    database down is "busy" to a request); the next call reads it again, so a
    moment's blip locks nobody out for the day.
    """

    def __init__(
        self, paths: InstancePaths, installed: Callable[[], int | None] = lambda: None
    ) -> None:
        self._paths = paths
        self._installed = installed
        self._manifests = str(paths.manifests)
        self._timestamp = str(timestamp_path(paths))
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._state = KeyringState(None, problem="not loaded")

    def state(self, today: dt.date) -> KeyringState:
        """Return the current state, reloading if anything it depends on changed."""
        key = (today, self._stamp())
        with self._lock:
            if key != self._key:
                try:
                    installed = self._installed()
                except KeyringUnavailable as exc:
                    return KeyringState(None, problem=str(exc))
                self._state = load_keyring(self._paths, today, installed)
                self._key = key
            return self._state

    def _stamp(self) -> tuple[tuple[str, int, int, int, int], ...]:
        """Name, inode, size, modification and change time of each file the state depends on.

        The change time too: the sweep makes the timestamp anew with the epoch's
        times, so a newer one of the same size would otherwise look unchanged.
        """
        found: list[tuple[str, int, int, int, int]] = []
        try:
            with os.scandir(self._manifests) as entries:
                files = sorted((e.name, e.path) for e in entries if e.name.endswith(".json"))
            for name, path in [*files, (TIMESTAMP_NAME, self._timestamp)]:
                try:
                    info = os.stat(path)
                except FileNotFoundError:
                    continue
                found.append((name, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
        except OSError:
            return ()
        return tuple(found)
