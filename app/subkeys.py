"""Reviewers' signed weekly subkey lists, kept beside the keyring (docs/PROTOCOL.md §5A.8).

Each list is signed offline by its reviewer's long-term key and checked here
against the keyring in force when installed and every time it is used: the
server holds public keys only. Under a keyring of hybrid reviewers (format 3)
reports are sealed to the week's subkeys and nothing else; a missing or
expired list stops sealing (`crypto.subkeys.sealing_keys`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.errors import InstanceError
from app.instance import InstancePaths
from app.keyring import keyring_held, keyring_is_held, write_replacing
from app.noatime import read_quietly
from crypto import CryptoError, Manifest
from crypto.constants import SUBKEYS_MAX_BYTES
from crypto.hybrid import HybridPublicKey
from crypto.manifest import Recipient
from crypto.subkeys import (
    Period,
    SignedSubkeyList,
    SubkeyError,
    SubkeyList,
    check_bound,
    check_install,
    days_left,
    replaced,
)

SUBKEYS_DIR = "subkeys"


def sealing_day(today: dt.date, latest_export: dt.date | None) -> dt.date:
    """The day whose week reports are sealed to: today, or the latest day an export was
    dated if the clock is behind it (docs/PROTOCOL.md §5A.8, rule D2)."""
    return today if latest_export is None else max(today, latest_export)


def subkeys_dir(paths: InstancePaths) -> Path:
    """Where the installed lists are kept, one file per reviewer id."""
    return paths.keyring / SUBKEYS_DIR


def list_path(paths: InstancePaths, recipient_id: str) -> Path:
    """Where reviewer `recipient_id`'s list is kept."""
    return subkeys_dir(paths) / f"{recipient_id}.json"


def read_lists(paths: InstancePaths) -> dict[str, SignedSubkeyList]:
    """The installed lists by reviewer id, unverified; an unreadable one counts as absent."""
    found: dict[str, SignedSubkeyList] = {}
    for path in sorted(subkeys_dir(paths).glob("*.json")):
        try:
            found[path.stem] = SignedSubkeyList.from_bytes(read_quietly(path))
        except (OSError, CryptoError):
            continue
    return found


@dataclass(frozen=True)
class InstalledList:
    """A list checked for installing: whose, the signed list, and the keys it replaces."""

    recipient: Recipient
    signed: SignedSubkeyList
    replaced: tuple[tuple[Period, HybridPublicKey], ...] = ()

    @property
    def subkeys(self) -> SubkeyList:
        """The weeks and keys it lists."""
        return self.signed.subkeys


def superseded_path(paths: InstancePaths, recipient_id: str) -> Path:
    """Where the key ids replaced by re-keying `recipient_id`'s weeks are kept (not `*.json`)."""
    return subkeys_dir(paths) / f"{recipient_id}.superseded"


def read_superseded(paths: InstancePaths, recipient_id: str) -> frozenset[bytes]:
    """The key ids of `recipient_id`'s subkeys replaced after a compromise: never installed."""
    try:
        text = read_quietly(superseded_path(paths, recipient_id)).decode("ascii")
        return frozenset(bytes.fromhex(line) for line in text.split())
    except FileNotFoundError:
        return frozenset()
    except (OSError, ValueError) as exc:  # unreadable, or not hex: refuse, never forget
        raise InstanceError(f"the replaced subkeys of {recipient_id}: {exc}") from exc


def check_list(
    paths: InstancePaths,
    data: bytes,
    manifest: Manifest,
    today: dt.date,
    *,
    rekeyed: bool = False,
    superseded: frozenset[bytes] = frozenset(),
) -> InstalledList:
    """Verify `data` as a reviewer's list under `manifest`, against the one it would replace.

    With `rekeyed` it may give new keys for weeks the installed list covers; it
    never names a key in `superseded` (the audit log's) or in the record beside it.
    """
    if len(data) > SUBKEYS_MAX_BYTES:
        raise InstanceError(f"not a subkey list: larger than {SUBKEYS_MAX_BYTES} bytes")
    try:
        signed = SignedSubkeyList.from_bytes(data)
        whose = next(
            (r for r in manifest.recipients if r.signing_key == signed.subkeys.reviewer), None
        )
        installed = read_lists(paths).get(whose.id) if whose is not None else None
        gone = superseded | (read_superseded(paths, whose.id) if whose else frozenset())
        recipient = check_install(
            manifest, signed, installed, today, rekeyed=rekeyed, superseded=gone
        )
        changed = replaced(signed.subkeys, installed.subkeys) if installed is not None else ()
        return InstalledList(recipient, signed, changed)
    except CryptoError as exc:
        refused = InstanceError(f"subkey list refused: {exc}")
        if isinstance(exc, SubkeyError) and exc.rule == "disagrees":
            refused.hint = (
                "only if its reviewer re-keyed those weeks after a subkey was compromised "
                "(they will say so), install it with --rekeyed"
            )
        raise refused from exc


def install_lists(
    paths: InstancePaths,
    documents: list[bytes],
    manifest: Manifest,
    today: dt.date,
    *,
    rekeyed: bool = False,
    superseded: frozenset[bytes] = frozenset(),
) -> list[InstalledList]:
    """Check every list first, then put each in place whole: all of them, or none."""
    with keyring_held(paths):
        checked = check_lists(
            paths, documents, manifest, today, rekeyed=rekeyed, superseded=superseded
        )
        put_lists(paths, checked)
    return checked


def check_lists(
    paths: InstancePaths,
    documents: list[bytes],
    manifest: Manifest,
    today: dt.date,
    *,
    rekeyed: bool = False,
    superseded: frozenset[bytes] = frozenset(),
) -> list[InstalledList]:
    """Check every list (`check_list`), and that no two are one reviewer's.

    Only under the keyring's lock (`keyring_held`), held until the lists are put in
    place: a list another install put in place between the check and the write went
    unseen, and one that disagreed with it replaced its keys unrecorded.
    """
    if not keyring_is_held(paths):
        raise InstanceError(
            "the subkey lists are checked only under the keyring's lock, held until "
            "they are put in place"
        )
    checked = [
        check_list(paths, data, manifest, today, rekeyed=rekeyed, superseded=superseded)
        for data in documents
    ]
    whose = [c.recipient.id for c in checked]
    if len(set(whose)) != len(whose):
        raise InstanceError("two of these lists are the same reviewer's: install one")
    return checked


def put_lists(paths: InstancePaths, checked: list[InstalledList]) -> None:
    """Put each checked list in place whole.

    A replaced key is recorded before the list replacing it is put in place, so
    no crash between the two leaves the old list installable again.
    """
    subkeys_dir(paths).mkdir(mode=0o700, exist_ok=True)
    # Under the keyring's lock: the sweep makes these files anew, and its copy must
    # never go in over a list (or a record of replaced keys) put in place meanwhile.
    with keyring_held(paths):
        for c in checked:
            if c.replaced:
                gone = read_superseded(paths, c.recipient.id) | {
                    key.fingerprint.key_id for _, key in c.replaced
                }
                text = "".join(f"{key_id.hex()}\n" for key_id in sorted(gone))
                write_replacing(superseded_path(paths, c.recipient.id), text.encode("ascii"))
            write_replacing(list_path(paths, c.recipient.id), c.signed.to_bytes())


@dataclass(frozen=True)
class ListStatus:
    """One reviewer's list as `keyring show` and `doctor` see it."""

    recipient: Recipient
    first: str | None = None
    last: str | None = None
    days_left: int | None = None
    problem: str | None = None


def below_floor(
    manifest: Manifest, lists: Mapping[str, SignedSubkeyList], floors: Mapping[str, int]
) -> str | None:
    """Why a reviewer's installed list is older than the one the keyring timestamp names.

    `floors` are the fresh timestamp's (`Timestamp.subkeys`). The timestamp holder
    names the re-keyed list after a leak, and every `raazdar-submit` device refuses a
    lower number; the server must not seal browser reports to it either, whichever
    way the lower list is here (the re-keyed one kept back on the stick, or put back
    with a backup). None when every named reviewer's list is numbered at least so.
    """
    for r in manifest.recipients:
        floor, signed = floors.get(r.id), lists.get(r.id)
        if floor is None or signed is None:
            continue
        number = signed.subkeys.sequence
        if number is None or number < floor:
            installed = "an unnumbered list" if number is None else f"list {number}"
            return (
                f"the keyring timestamp names subkey list {floor} or later of {r.id}, and "
                f"{installed} is installed here (a list replaced after a leak, perhaps): "
                "install the newer list (raazdar keyring subkeys install)"
            )
    return None


def statuses(
    manifest: Manifest,
    lists: Mapping[str, SignedSubkeyList],
    today: dt.date,
    floors: Mapping[str, int] | None = None,
) -> list[ListStatus]:
    """Each reviewer of `manifest`: the weeks their list covers and the days left, or why not.

    `floors` (the fresh keyring timestamp's) make a list numbered below them a problem.
    """
    result = []
    for r in manifest.recipients:
        signed = lists.get(r.id)
        if signed is None:
            result.append(ListStatus(r, problem="no subkey list installed"))
            continue
        weeks = signed.subkeys
        older = below_floor(manifest, {r.id: signed}, floors or {})
        if older is not None:
            result.append(ListStatus(r, str(weeks.first), str(weeks.last), problem=older))
            continue
        try:
            check_bound(manifest, weeks)
            left = days_left(signed, r.signing_key, today)
        except CryptoError as exc:
            result.append(ListStatus(r, str(weeks.first), str(weeks.last), problem=str(exc)))
            continue
        result.append(ListStatus(r, str(weeks.first), str(weeks.last), left))
    return result


class SubkeyCache:
    """Re-read the lists when their files change, not on every request."""

    def __init__(self, paths: InstancePaths) -> None:
        self._paths = paths
        self._dir = str(subkeys_dir(paths))
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._lists: dict[str, SignedSubkeyList] = {}

    def lists(self) -> dict[str, SignedSubkeyList]:
        """The installed lists by reviewer id (verified by whoever uses them)."""
        return dict(self.current()[1])

    def current(self) -> tuple[tuple[object, ...], Mapping[str, SignedSubkeyList]]:
        """The files' stamp and the lists read from them: a new stamp whenever a file changed.

        The mapping is the cache's own, not a copy: read it, never change it.
        """
        key = self._stamp()
        with self._lock:
            if key != self._key:
                self._lists = read_lists(self._paths)
                self._key = key
            return key, self._lists

    def _stamp(self) -> tuple[object, ...]:
        """Name, inode, size, modification and change time of each list (no Path objects).

        The change time too: the sweep makes a list anew with the epoch's times, and
        its new inode may be the one an older list had.
        """
        try:
            with os.scandir(self._dir) as entries:
                found = sorted((e.name, e.path) for e in entries if e.name.endswith(".json"))
            return tuple(
                (name, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                for name, path in found
                for st in (os.stat(path),)
            )
        except OSError:
            return ()
