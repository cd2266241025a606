"""The disks: staging leftovers, free space, filesystem kind, access times, swap, sweep."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from app import db
from app.config import Config
from app.operations import sweep
from app.operations.doctor.verdict import Check, Status
from app.store import EnvelopeStore

# Filesystems whose writes go to new blocks: an overwrite cannot reach the old ones.
COPY_ON_WRITE: Final = frozenset({"btrfs", "zfs", "f2fs", "nilfs2", "bcachefs"})
# Journalled filesystems whose log the sweep does not write anew (app.fsjournal: ext4's only).
UNWRAPPED_LOGS: Final = frozenset({"xfs", "jfs", "reiserfs"})
# The first Linux whose ext4 wipes a deleted entry's name from its folder's block
# ("ext4: wipe ext4_dir_entry2 upon file deletion"); before, the name stayed there.
WIPES_NAMES: Final = (5, 14)
# A device-mapper device whose uuid starts so is dm-crypt (plain, as crypttab's `swap`, or LUKS).
_DM_CRYPT: Final = "CRYPT-"
_MIB: Final = 1024 * 1024
# Swap kept in memory (compressed), never on a disk.
_IN_MEMORY: Final = ("zram",)


def staging_check(store: EnvelopeStore) -> Check:
    """Check that nothing waits in staging between requests."""
    left = store.leftovers(min_age=0)
    if left:
        return Check(
            "staging",
            Status.WARN,
            f"{len(left)} file(s) or folder(s) in staging: an upload in progress, or "
            "leftovers of a crash, which `raazdar purge` removes once they are a day old",
        )
    return Check("staging", Status.OK, "staging is empty")


def filesystem_check(store: Path, mounts: Path, kernel: str) -> Check:
    """Say whether overwriting a deleted envelope reaches its old bytes on this filesystem."""
    kind = _filesystem_type(store, mounts)
    if kind is None:
        return Check("store", Status.OK, "could not tell the store's filesystem")
    if kind in COPY_ON_WRITE:
        return Check(
            "store",
            Status.WARN,
            f"the store is on {kind}, which writes to new blocks: deleting an envelope "
            "cannot overwrite its old bytes; use full-disk encryption and no snapshots",
        )
    if kind in UNWRAPPED_LOGS:
        return Check(
            "store",
            Status.WARN,
            f"the store is on {kind}, whose log keeps the names and times of recent "
            "changes, envelopes' arrivals among them, until it wraps, which the sweep "
            "cannot make it do: use ext4",
        )
    release = _release(kernel)
    if kind == "ext4" and release is not None and release < WIPES_NAMES:
        return Check(
            "store",
            Status.WARN,
            f"this kernel ({kernel}) leaves a deleted file's name in its folder's block: "
            "the holding folder each sweep frees names the period's arrivals in the order "
            "they came; run Linux 5.14 or later (Debian 12's is 6.1)",
        )
    return Check(
        "store",
        Status.OK,
        f"the store is on {kind}: deletions overwrite in place "
        "(an SSD may still keep old blocks: use full-disk encryption)",
    )


def atime_check(root: Path, mounts: Path) -> Check:
    """Say whether reads leave their time on the instance's files (mount it with noatime)."""
    mount = _mount(root, mounts)
    if mount is None:
        return Check("atime", Status.OK, "could not tell how the instance directory is mounted")
    mode = _atime_mode(mount[1])
    if mode is None:
        return Check("atime", Status.OK, "the instance's filesystem is mounted noatime")
    return Check(
        "atime",
        Status.WARN,
        f"the instance's filesystem records access times ({mode}): the first read of a "
        "file after a change (an export, a source reading a reply) leaves its time; "
        "mount it with noatime",
    )


def code_check(code: Path, mounts: Path) -> Check:
    """Say whether reads would leave their time on the code's files (noatime or read-only).

    The server reads them all at start (app/preload.py), and its user cannot open
    root's files with O_NOATIME: the mount is what keeps a read missed there, or a
    later version's, from dating the request that made it.
    """
    mount = _mount(code, mounts)
    if mount is None:
        return Check("code", Status.OK, f"could not tell how {code} is mounted")
    options = mount[1]
    if "ro" in options:
        return Check("code", Status.OK, f"the code ({code}) is on a read-only filesystem")
    mode = _atime_mode(options)
    if mode is None:
        return Check("code", Status.OK, f"the code's filesystem ({code}) is mounted noatime")
    return Check(
        "code",
        Status.WARN,
        f"the code's filesystem ({code}) records access times ({mode}): a file of it "
        "read on a request would keep that request's time; mount it noatime or read-only",
    )


def swap_check(swaps: Path, block_devices: Path) -> Check:
    """Warn of a swap area on a disk without dm-crypt: memory swapped there outlives the boot.

    A worker's memory holds a browser report while it is sealed and a codename at
    login; the units keep theirs out of swap (`MemorySwapMax=0`), but a server run
    otherwise, and every other process, may be swapped out.
    """
    try:
        lines = swaps.read_text("utf-8").splitlines()[1:]
    except OSError:
        return Check("swap", Status.OK, "could not tell whether the host swaps")
    areas = [_unescape(line.split()[0]) for line in lines if line.split()]
    if not areas:
        return Check("swap", Status.OK, "no swap: memory never reaches a disk")
    open_areas = [a for a in areas if not _encrypted(a, block_devices)]
    if open_areas:
        return Check(
            "swap",
            Status.WARN,
            f"swap on {', '.join(open_areas)} is not encrypted: what is swapped out (a "
            "report being sealed, a codename) stays on the disk after a reboot; encrypt it "
            "with a key made at each boot (`swap` in /etc/crypttab) or turn swap off",
        )
    return Check("swap", Status.OK, "swap is encrypted (dm-crypt) or in memory")


def _encrypted(area: str, block_devices: Path) -> bool:
    """Whether a swap area is in memory or lies on dm-crypt (an LVM volume in LUKS too)."""
    if not area.startswith("/dev/"):
        return False  # a swap file: on whatever the filesystem is, under no key of its own
    name = Path(area).resolve().name if area.startswith("/dev/mapper/") else Path(area).name
    if name.startswith(_IN_MEMORY):
        return True
    return _on_dm_crypt(name, block_devices, depth=0)


def _on_dm_crypt(name: str, block_devices: Path, depth: int) -> bool:
    if depth > 8:
        return False
    try:
        uuid = (block_devices / name / "dm" / "uuid").read_text("utf-8").strip()
    except OSError:
        return False
    if uuid.startswith(_DM_CRYPT):
        return True
    try:
        below = [p.name for p in (block_devices / name / "slaves").iterdir()]
    except OSError:
        return False
    return any(_on_dm_crypt(b, block_devices, depth + 1) for b in below)


def sweep_check(config: Config, store: EnvelopeStore, now: float) -> Check:
    """Warn when the arrival sweep has not run in its period, so arrivals keep finer stamps."""
    engine = db.make_engine(config.DATABASE_URL)
    try:
        every = sweep.period(engine)
    finally:
        engine.dispose()
    hours = int(every.total_seconds() // 3600)
    last = sweep.last_sweep(store)
    held = len(store.held())
    late = every + sweep.LATE_AFTER
    if last is None and held:
        return Check(
            "sweep",
            Status.WARN,
            f"{held} new envelope(s) wait and no arrival sweep has ever run: their files "
            "say when each arrived; enable raazdar-sweep.timer or run `raazdar sweep`",
        )
    if left := sweep.unswept(store):
        return Check(
            "sweep",
            Status.WARN,
            f"the last arrival sweep found no room for {left} of the held envelope(s): their "
            "files still say when each arrived; free space (export, and the reviewers' "
            "acknowledgements that follow) and run `raazdar sweep --force`",
        )
    if last is not None and now - last > late.total_seconds():
        return Check(
            "sweep",
            Status.WARN,
            f"the arrival sweep is overdue (period {hours} hour(s)), {held} envelope(s) wait: "
            "their files say when each arrived; check raazdar-sweep.timer or run `raazdar sweep`",
        )
    return Check(
        "sweep", Status.OK, f"the arrival sweep runs every {hours} hour(s); {held} waiting"
    )


def space_check(store: EnvelopeStore) -> Check:
    """Say which of the stops kept for the database and for reports the disk has reached, and
    what frees it: exports, and the reviewers' acknowledgements that follow them."""
    found = os.statvfs(store.root)
    free = found.f_bavail * found.f_frsize
    held = store.envelope_bytes()
    said = (
        f"{free // _MIB} MiB free of {found.f_blocks * found.f_frsize // _MIB} MiB"
        f"{_inodes_said(found)}; the store holds {held // _MIB} MiB of envelopes"
    )
    # The staff pages' export is written as it is sent and needs no room here (before, it
    # was staged whole in the store, and a flood's full disk refused it as busy).
    act = (
        "export reports (the staff pages' export needs no free space) and import the "
        "reviewers' acknowledgements, which delete them, or give the store more space"
    )
    if store.database is None:
        said += (
            "; the database's disk is not watched (PostgreSQL keeps its files where this "
            "server cannot see them): watch its free space on the database's host"
        )
    elif os.stat(store.database).st_dev != os.stat(store.root).st_dev:
        seen = os.statvfs(store.database)
        said += (
            f"; the database's disk has {seen.f_bavail * seen.f_frsize // _MIB} MiB free of "
            f"{seen.f_blocks * seen.f_frsize // _MIB} MiB{_inodes_said(seen)}"
        )
    if not store.store_above_floor(0):
        return Check(
            "space",
            Status.FAIL,
            f"{said}: the last hundredth (of the space or of the inodes) is kept for the "
            f"database, so no source's report or file is taken in; {act}",
        )
    if not store.database_above_floor():
        return Check(
            "space",
            Status.FAIL,
            f"{said}: the database's disk is down to its last hundredth (of the space or of "
            "the inodes), kept for logins, so no source's report, file or signed request is "
            "taken in; give the database's disk more space",
        )
    if not store.space_to_spare(0):
        return Check(
            "space",
            Status.WARN,
            f"{said}: within the last twentieth (of the space or of the inodes), signed-in "
            f"sources' later reports and API uploads are refused, and only first reports are "
            f"taken in; {act}",
        )
    if not store.space_for_uploads(0):
        return Check(
            "space",
            Status.WARN,
            f"{said}: within the last tenth (of the space or of the inodes), API uploads "
            f"(`raazdar-submit`) are refused; {act}",
        )
    return Check("space", Status.OK, said)


def _inodes_said(found: os.statvfs_result) -> str:
    """How many of a filesystem's inodes (one a file) are free, if it has a fixed count.

    The stops count them as they count bytes: many tiny reports use up ext4's inodes with
    most of the space free, and a check of the bytes alone said all was well.
    """
    if found.f_files == 0:
        return ""
    return f", {found.f_favail} of {found.f_files} inodes (files) free"


def _atime_mode(options: frozenset[str]) -> str | None:
    """How a mount with `options` records access times, or None if it does not."""
    if "noatime" in options:
        return None
    return "strictatime" if "strictatime" in options else "relatime"


def _release(kernel: str) -> tuple[int, int] | None:
    """The major and minor number of a kernel release (`6.1.0-37-amd64`), if it has them."""
    match = re.match(r"(\d+)\.(\d+)", kernel)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _filesystem_type(path: Path, mounts: Path) -> str | None:
    """Return the type of the filesystem `path` lies on, from a mounts table."""
    mount = _mount(path, mounts)
    return mount[0] if mount else None


def _mount(path: Path, mounts: Path) -> tuple[str, frozenset[str]] | None:
    """Return the type and options of the filesystem `path` lies on, from a mounts table."""
    try:
        lines = mounts.read_text("utf-8").splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best: tuple[int, str, frozenset[str]] | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        options = frozenset(fields[3].split(",")) if len(fields) > 3 else frozenset()
        # The longest mount point wins; a later mount over the same point hides earlier ones.
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fields[2], options)
    return (best[1], best[2]) if best else None


def _unescape(field: str) -> str:
    """Undo the octal escapes (a space is `\\040`) of a mounts table."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)
