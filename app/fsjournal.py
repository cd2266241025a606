"""The filesystem's journal and the inodes the sweep frees: what they keep of arrivals, and
how the sweep leaves them nothing.

ext4 commits every changed metadata block to its journal (jbd2), each commit stamped
with its time to the nanosecond: the directory blocks that name `<id>.rze` in staging
and in holding, the inode table blocks that hold each new file's creation time. The
journal keeps them until newer commits overwrite them; with a 1 GiB journal and few
arrivals, that takes weeks. A freed inode keeps its creation time in the inode table
until it is given to a new file. On a disk copied after the sweep, both would date
every arrival and name it.

So once it has moved the held envelopes, the sweep

- refills the inodes it freed (`refill`): ext4 gives a new file the lowest free inode
  of its directory's group, so empty files made in staging, where the envelopes were
  made, take those inodes back; removed again, the inodes keep the sweep's own time;
- wraps the journal (`wrap`): it changes one inode table block after another, by
  setting the times of files kept for that (`WRAP_NAME`, beside the envelopes), and
  commits each round, until it has written more than the whole journal anew. The
  journal then holds nothing older than the sweep.

Every run of the timer between two sweeps wraps the journal too: a login or a
reading of replies writes the database only, and the commit of its files' inode,
made as SQLite flushes, dated each to the millisecond.

The journal's size is read from /proc/fs/jbd2, which says how many blocks one commit
may hold: a third of the journal on current kernels, a quarter on older ones, so four
times that is written. Where /proc/fs/jbd2 names no journal for the store's device
(ext4 made without one, tmpfs) there is nothing to wrap; XFS keeps a log of its own,
which this does not reach (`raazdar doctor` says so).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from app.files import syncfs

# The directory of files whose times the wrap changes (in the store, beside the envelopes).
WRAP_NAME: Final = ".wrap"
# ext4's smallest inode (bytes): with it a table block holds the most inodes, so files one
# such block apart are in different table blocks whatever the real inode size.
_SMALLEST_INODE: Final = 128
# Table blocks changed in one round (one commit): fewer files to keep, or fewer commits.
_ROUND_BLOCKS: Final = (16, 256)
_EACH_UP_TO: Final = re.compile(r"each up to (\d+) blocks")
_REFILL_PREFIX: Final = ".refill-"
# /proc/fs/ext4/<device>/fc_info's count of fast-commit blocks; jbd2's of full commits.
_FC_BLOCKS: Final = re.compile(r"^(\d+) numblks$", re.MULTILINE)
_TRANSACTIONS: Final = re.compile(r"(\d+) transactions")
# The most fast commits tried to write the area anew.
_FAST_COMMIT_TURNS: Final = 8192
# What one inode takes in a fast commit: its tag, its number and the inode itself.
_INODE_RECORD: Final = 264


@dataclass(frozen=True)
class Journal:
    """The journal of the filesystem a path is on, as /proc/fs/jbd2 describes it."""

    device: str
    max_commit: int  # blocks one commit may hold
    block_size: int

    @property
    def blocks(self) -> int:
        """At least the journal's length in blocks (four times the largest commit)."""
        return 4 * self.max_commit


def journal_of(path: Path) -> Journal | None:
    """The journal of the filesystem `path` is on, or None if it keeps none that jbd2 runs."""
    info = os.stat(path)
    uevent = Path(f"/sys/dev/block/{os.major(info.st_dev)}:{os.minor(info.st_dev)}/uevent")
    try:
        fields = dict(line.split("=", 1) for line in uevent.read_text().splitlines() if "=" in line)
    except OSError:
        return None
    device = fields.get("DEVNAME", "")
    if not device:
        return None
    try:
        text = (Path("/proc/fs/jbd2") / f"{device.replace('/', '!')}-8" / "info").read_text()
    except OSError:
        return None
    match = _EACH_UP_TO.search(text)
    if match is None:
        return None
    return Journal(device, int(match.group(1)), os.statvfs(path).f_bsize)


def wrap(directory: Path, journal: Journal, room: Callable[[], bool] = lambda: True) -> int:
    """Write more than the whole journal anew in commits of changed inode table blocks.

    Returns how many table blocks were committed. The files in `directory` (made
    on the first wrap, empty) are kept for the next. Each is made only while `room()`
    says one more inode may be taken (the store's floors): made whatever they said,
    hundreds took the last inodes the database needs; with fewer, more rounds are run.
    """
    per_block = max(journal.block_size // _SMALLEST_INODE, 1)
    low, high = _ROUND_BLOCKS
    width = min(max(journal.max_commit // 8, low), high)
    directory.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        chosen = _one_per_table_block(fd, width * per_block, per_block, room)[:width]
        if not chosen:
            raise OSError(errno.ENOSPC, "no inode above the floor for the journal's files")
        rounds = -(-journal.blocks // len(chosen)) + 1
        for turn in range(rounds):
            stamp = turn % 2
            for name in chosen:
                os.utime(name, (stamp, stamp), dir_fd=fd, follow_symlinks=False)
            # The commit that holds this round's blocks: each is written to the journal again.
            # Not fsync: with ext4's fast commits (a feature some filesystems have) an
            # fsync of a file whose times alone changed logs that inode only, not the blocks.
            syncfs(fd)
        fast = _fill_fast_commits(fd, sorted(os.listdir(fd)), journal)
    finally:
        os.close(fd)
    return rounds * len(chosen) + fast


def _fill_fast_commits(fd: int, names: list[str], journal: Journal) -> int:
    """Write the whole fast-commit area anew, if the filesystem keeps one; the blocks written.

    A filesystem made with `-O fast_commit` logs an fsync as a fast commit, in an
    area past the one full commits go round (a 64th of the journal's length, by
    mkfs's default), from its start again after each full commit: what a busy
    moment wrote at its end (a new envelope's name and its inode, with its creation
    time) stayed there after the rounds above, which are full commits only. So
    after the last round, a batch of files' times are changed and one is fsynced,
    a fast commit of every inode changed, until the area is full and the next is a
    full commit; then once more from its start, the last stretch in commits of one
    block, so that it is written to its very end.
    """
    blocks, commits = _fast_commit_blocks(journal), _full_commits(journal)
    if blocks is None or commits is None:
        return 0
    # A batch whose commit is some sixteenth of the area (a 64th of the journal, which is
    # at most four times the largest commit): more would not fit it.
    each = max(1, journal.max_commit * journal.block_size // 256 // _INODE_RECORD)
    start, written, total, step = blocks, 0, 0, 0
    known = 0  # the most blocks a stretch between two full commits held: the area's length
    for turn in range(_FAST_COMMIT_TURNS):
        big = known == 0 or written + step < known
        batch = names[:each] if big else names[:1]
        for name in batch:
            os.utime(name, (turn % 2 + 2, turn % 2 + 2), dir_fd=fd, follow_symlinks=False)
        one = os.open(batch[0], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        try:
            os.fsync(one)
        finally:
            os.close(one)
        now, full = _fast_commit_blocks(journal), _full_commits(journal)
        if now is None or full is None or (turn == 0 and now == start):
            return 0  # no fast commits here: fsyncs are full commits, written above
        if full == commits:
            step = max(step, now - start - written) if big else step
            total += now - start - written
            written = now - start
            continue
        # A full commit: the area was full (or the five-second timer came).
        if not big and written >= known:
            return total  # filled to its end, its last blocks one at a time
        known = max(known, written)
        start, commits, written = now, full, 0
    raise OSError(errno.EAGAIN, "the fast-commit area was not written anew")


def _fast_commit_blocks(journal: Journal) -> int | None:
    """How many blocks fast commits have written since the filesystem was mounted."""
    try:
        text = (Path("/proc/fs/ext4") / journal.device / "fc_info").read_text()
    except OSError:
        return None
    match = _FC_BLOCKS.search(text)
    return int(match.group(1)) if match else None


def _full_commits(journal: Journal) -> int | None:
    """How many full commits the journal has made since it was mounted."""
    try:
        text = (
            Path("/proc/fs/jbd2") / f"{journal.device.replace('/', '!')}-8" / "info"
        ).read_text()
    except OSError:
        return None
    match = _TRANSACTIONS.match(text)
    return int(match.group(1)) if match else None


def _one_per_table_block(
    fd: int, count: int, per_block: int, room: Callable[[], bool]
) -> list[str]:
    """Make `count` empty files in the directory `fd` (those missing, while `room()` says
    so); name one per table block."""
    chosen: dict[int, str] = {}
    for number in range(count):
        name = f"{number:05d}"
        try:
            inode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_ino
        except FileNotFoundError:
            if not room():
                continue  # a later name may be one kept from an earlier wrap
            made = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd
            )
            inode = os.fstat(made).st_ino
            os.close(made)
        chosen.setdefault((inode - 1) // per_block, name)
    return list(chosen.values())


def refill(directory: Path, freed: Collection[int]) -> int:
    """Take the inodes `freed` back with empty files made in `directory`, then remove those.

    ext4 gives a new file the lowest free inode of its directory's group: files are
    made until every inode freed is taken again, or one above them all comes (the
    rest were taken by others meanwhile). Returns how many of `freed` were taken back.
    """
    wanted = set(freed)
    if not wanted:
        return 0
    top = max(wanted)
    made: list[str] = []
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # A refill killed midway left its files: they would stop every refill after it.
        for name in os.listdir(fd):
            if name.startswith(_REFILL_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=fd)
        while wanted and len(made) < 2 * len(freed) + 64:
            name = f"{_REFILL_PREFIX}{len(made)}"
            new = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd
            )
            made.append(name)
            inode = os.fstat(new).st_ino
            os.close(new)
            wanted.discard(inode)
            if inode > top:
                break
    finally:
        for name in made:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=fd)
        os.close(fd)
    return len(set(freed)) - len(wanted)
