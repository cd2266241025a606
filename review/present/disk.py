"""Whether what the tool holds lies on a disk: a file outside the workspace, or swapped memory.

A passphrase file or an attachment written out stays readable on a disk, and
removing it there frees its blocks without overwriting them: whoever takes the
disk reads it back. In memory (tmpfs, ramfs) it is gone at the next shutdown.
The CLI and the terminal UI warn in the same words.

The tool's own memory (keys unlocked, the workspace key, reports read) goes to
swap when the system runs short, and a hibernation writes all of it there: on
a swap device that is not encrypted it outlives the shutdown. Python cannot
lock one key's bytes in RAM (they are copied wherever it likes), so the tool
locks all of its memory where the system lets it lock without bound (root, or
`memlock unlimited`: `lock_memory`); an unprivileged process may lock 8 MiB,
far less than the tool holds, and locking all of it there would turn its next
allocation past that into a failure. Unlocked, it looks at the swap in use
instead and warns of any it cannot see is encrypted.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from pathlib import Path
from typing import Final

# Filesystems whose files live in memory only.
_MEMORY_FILESYSTEMS: Final = frozenset({"tmpfs", "ramfs"})
_MOUNTS: Final = Path("/proc/self/mounts")
_SWAPS: Final = Path("/proc/swaps")
_SYS: Final = Path("/sys")
_CORE_PATTERN: Final = Path("/proc/sys/kernel/core_pattern")
# mlockall(2): what is mapped now, what will be, each page only once it is used.
_MCL_CURRENT, _MCL_FUTURE, _MCL_ONFAULT = 1, 2, 4
_locked = False


def on_disk(path: Path) -> bool:
    """Say whether `path` is on a filesystem that keeps data on a disk (not tmpfs or ramfs).

    False where the mount table cannot be read: then nobody can tell.
    """
    try:
        mounts = _MOUNTS.read_text("utf-8").splitlines()
    except OSError:
        return False
    where = os.path.realpath(path)
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table writes a space in a mount point as \040.
        point = fields[1].replace("\\040", " ")
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return bool(best) and kind not in _MEMORY_FILESYSTEMS


def warning(path: Path, what: str) -> str | None:
    """Why `what` in `path` stays readable, and where to keep it instead; None in memory."""
    if not on_disk(path):
        return None
    return (
        f"{path} is on a disk: {what} stays readable there, and removing the file frees its"
        " blocks without overwriting them; keep it in memory instead (/dev/shm or"
        " $XDG_RUNTIME_DIR)"
    )


def viewer_stores() -> list[Path]:
    """Where this account's desktop keeps copies of what its viewers open, unless the account
    setup (deploy/review-account.sh) linked it to /dev/null: the thumbnail caches (a small
    copy of each picture, and its path), GTK's list of recent files and GVfs's metadata (each
    file's path), which outlive the file."""
    home = Path.home()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    places = (
        cache / "thumbnails",
        home / ".thumbnails",
        data / "recently-used.xbel",
        data / "gvfs-metadata",
    )
    # Absent is no better than a directory: the first viewer to save one makes it.
    return [p for p in places if os.path.realpath(p) != os.devnull]


def viewer_warning() -> str | None:
    """What a viewer of a file written out keeps of it, and how to stop it; None if nothing."""
    kept = viewer_stores()
    if not kept:
        return None
    return (
        f"an image viewer or the file manager keeps copies of what it opens in"
        f" {', '.join(str(p) for p in kept)} (a small copy of a picture, and the file's path),"
        " after the file is gone; run `sh deploy/review-account.sh` as this account, which"
        " links them to /dev/null (docs/review-workstation.md §3)"
    )


def unencrypted_swap() -> list[str]:
    """The swap areas in use that are not, as far as this system shows, on dm-crypt or zram.

    Empty where /proc/swaps cannot be read: then nobody can tell.
    """
    try:
        lines = _SWAPS.read_text("utf-8").splitlines()[1:]  # a header line first
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) < 2:
            continue
        # /proc/swaps writes a space in a name as \040, as the mount table does.
        name = fields[0].replace("\\040", " ")
        device = _swap_device(name, fields[1])
        if device is None or not _encrypted(device):
            found.append(name)
    return found


def _swap_device(name: str, kind: str) -> Path | None:
    """The sysfs directory of the block device a swap area is on (None: not found)."""
    try:
        if kind == "partition":
            # /dev/sda3, /dev/mapper/vg-swap (a link to ../dm-2), /dev/zram0: by kernel name.
            path = _SYS / "class" / "block" / Path(os.path.realpath(name)).name
        else:  # a swap file: the device of the filesystem it is in
            dev = os.stat(name).st_dev
            path = _SYS / "dev" / "block" / f"{os.major(dev)}:{os.minor(dev)}"
        return Path(os.path.realpath(path)) if path.exists() else None
    except OSError:
        return None


def _encrypted(device: Path, depth: int = 0) -> bool:
    """Whether a block device is dm-crypt, zram (memory), or built only on such devices."""
    if device.name.startswith("zram"):
        return True
    try:
        if (device / "dm" / "uuid").read_text("ascii").startswith("CRYPT-"):
            return True
    except (OSError, UnicodeDecodeError):
        pass
    try:
        # LVM over LUKS: the logical volume's slave is the dm-crypt device.
        below = [Path(os.path.realpath(p)) for p in (device / "slaves").iterdir()]
    except OSError:
        return False
    return bool(below) and depth < 8 and all(_encrypted(d, depth + 1) for d in below)


def lock_memory() -> bool:
    """Keep all this process's memory, now and to come, out of swap, where nothing limits
    how much it may lock; say whether it is locked (not inherited by the readers it starts)."""
    global _locked
    unlimited = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == resource.RLIM_INFINITY
    if sys.platform != "linux" or not (unlimited or os.geteuid() == 0):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    _locked = int(libc.mlockall(_MCL_CURRENT | _MCL_FUTURE | _MCL_ONFAULT)) == 0
    return _locked


def swap_warning() -> str | None:
    """Why what the tool holds in memory may outlive a shutdown, and what to do; None if not."""
    if _locked:
        return None  # no page of it goes to swap (hibernation still writes all of memory)
    areas = unencrypted_swap()
    if not areas:
        return None
    return (
        f"swap on {', '.join(areas)} is not encrypted (no dm-crypt or zram under it that this"
        " tool can see): keys, the workspace key and the reports"
        " this tool holds in memory may be written there, and stay on the disk after shutdown;"
        " encrypt the swap with the disk (docs/review-workstation.md §2) or turn it off"
        " (`swapoff -a`), and never hibernate"
    )


def crash_reporter() -> str | None:
    """The program the kernel hands a crashed process's memory to (`core_pattern` starting
    with `|`, such as apport), or None: then the core limit of 0 the tool sets holds."""
    try:
        pattern = _CORE_PATTERN.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not pattern.startswith("|"):
        return None
    return pattern[1:].split(maxsplit=1)[0] if pattern[1:].strip() else "a program"


def crash_warning(program: str = "the editor", holding: str = "the draft") -> str | None:
    """Why a crash of `program` (the editor, the pager) may leave what it holds on the disk,
    and what to do; None if not.

    The tool and its readers are not dumpable, but a program it starts is dumpable again
    once exec'd, and the kernel pipes a dump to a crash reporter whatever core limit the
    program inherited: the reporter alone decides whether to keep it (apport keeps crash
    reports of packaged programs, their memory included, in /var/crash).
    """
    reporter = crash_reporter()
    if reporter is None:
        return None
    return (
        f"a crash of {program} is handed to {reporter} (kernel.core_pattern), which may"
        f" write its memory, {holding} included, to the disk; remove the crash reporter or"
        " set kernel.core_pattern=core (docs/review-workstation.md §7)"
    )
