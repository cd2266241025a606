"""After the sweep, the filesystem itself says nothing of when, or in which order, envelopes came.

ext4 writes each changed metadata block to its journal (jbd2) with the commit's
time to the nanosecond: the directory blocks that name `<id>.rze` in staging and
in holding, and the inode table blocks with each new file's creation time. It
keeps them until the journal wraps (a 1 GiB journal and few arrivals: weeks).
An inode freed by the sweep keeps its creation time in the inode table until it
is reused. So a copy of the disk taken after the sweep gave each envelope's id
with its arrival time, twice over, whatever the instance's own files said.

The instance here lives on an ext4 image of its own, mounted as deploy/README.md
asks (`noatime`); the adversary copies that disk after the sweep and reads it
with debugfs, as a forensic examiner would.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import io
import os
import re
import secrets
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, NamedTuple

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from app import create_app
from app.config import config_for
from app.db import make_engine
from app.instance import InstancePaths
from app.models import Item, Upload
from app.operations.retention import purge
from app.operations.sweep import sweep
from app.services.resumable import staged_path
from app.source.forms import MAX_MESSAGE_CHARS
from app.store import HOLDING_NAME, EnvelopeStore
from crypto import Metadata, SigningKey
from tests.app.api_support import ApiClient
from tests.app.live import demo_instance
from tests.app.operations.test_exchange import Review, cli
from tests.app.staff_support import login, make_staff, staff_client
from tests.app.support import (
    Visitor,
    deletion,
    demo_authorities,
    form,
    multipart,
    reply_to,
    reviewer_keys,
)
from tests.app.test_lost_commit import answer_lost

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a filesystem image needs root"),
]

SUBMISSIONS = 4
# e2fsprogs (tests/run.sh installs it) and util-linux.
MKFS, DEBUGFS = "/usr/sbin/mkfs.ext4", "/usr/sbin/debugfs"
MOUNT, UMOUNT = "/usr/bin/mount", "/usr/bin/umount"
# jbd2's magic and its commit block's type; a commit block's time is at byte 48.
_JBD2_MAGIC = 0xC03B3998
_COMMIT = 2


@pytest.fixture
def ext4(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """An ext4 filesystem with a journal, mounted `noatime`: (its image, its mount point)."""
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    with image.open("wb") as out:
        out.truncate(96 * 1024 * 1024)
    _run(MKFS, "-q", "-F", str(image))
    mounted = _run(MOUNT, "-o", "loop,noatime", str(image), str(mount), check=False)
    if mounted.returncode != 0:  # as tests/app/test_faults.py: root, and loop devices
        pytest.skip(f"mounting a filesystem image needs root and a loop device: {mounted.stderr}")
    try:
        yield image, mount
    finally:
        # Lazily, if something of the test still holds a file open there: never left mounted.
        if _run(UMOUNT, str(mount), check=False).returncode:
            _run(UMOUNT, "-l", str(mount))


class OnImage(NamedTuple):
    """A demo instance made on the image, its engine and its store."""

    instance: Path
    paths: InstancePaths
    engine: Engine
    store: EnvelopeStore


@contextlib.contextmanager
def instance_on(mount: Path) -> Iterator[OnImage]:
    """A demo instance on the mounted image; its engine let go, and the disk synced, after."""
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        yield OnImage(instance, paths, engine, EnvelopeStore(paths.store, paths.staging))
    finally:
        engine.dispose()
    os.sync()


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed tools, our own arguments
        command, capture_output=True, text=True, check=check
    )


def _debugfs(image: Path, *commands: str) -> str:
    """Run debugfs's read-only `commands` on `image` (mounted or not); return what it printed."""
    script = image.with_suffix(".cmds")
    script.write_text("\n".join(commands) + "\n")
    return _run(DEBUGFS, "-f", str(script), str(image)).stdout


def _journal(image: Path, out: Path) -> bytes:
    """The journal's blocks, as a seizer dumps them (inode 8)."""
    _debugfs(image, f"dump <8> {out}")
    return out.read_bytes()


def _commit_times(journal: bytes) -> list[int]:
    """The time of every commit block still in the journal, in ns."""
    block = struct.unpack(">I", journal[12:16])[0]
    times = []
    for offset in range(0, len(journal) - block + 1, block):
        magic, kind = struct.unpack(">II", journal[offset : offset + 8])
        if magic == _JBD2_MAGIC and kind == _COMMIT:
            seconds, nanoseconds = struct.unpack(">QI", journal[offset + 48 : offset + 60])
            times.append(seconds * 1_000_000_000 + nanoseconds)
    return times


def _creation_times(image: Path, inodes: list[int]) -> dict[int, int]:
    """Each inode's creation time (crtime) as its table keeps it, freed or not, in ns."""
    out = _debugfs(image, *(f"stat <{n}>" for n in inodes))
    found = {}
    for number, text in zip(
        inodes, re.split(r"^debugfs: stat .*$", out, flags=re.M)[1:], strict=True
    ):
        match = re.search(r"crtime: 0x([0-9a-f]+):([0-9a-f]+)", text)
        assert match is not None, text
        seconds, extra = int(match.group(1), 16), int(match.group(2), 16)
        found[number] = seconds * 1_000_000_000 + (extra >> 2)
    return found


def test_a_disk_copied_after_the_sweep_dates_no_arrival(
    ext4: tuple[Path, Path], tmp_path: Path
) -> None:
    image, mount = ext4
    with instance_on(mount) as (instance, paths, engine, store):
        sweep(engine, store, force=True)
        app = create_app(config_for(instance))
        arrived = time.time_ns()
        for n in range(SUBMISSIONS):
            visitor = Visitor(app.test_client())
            page = visitor.start()
            response = visitor.send(
                page, f"report {n}", [("files", f"f{n}.txt", b"x" * 5000 * (n + 1), "text/plain")]
            )
            visitor.filed(response)
            time.sleep(0.3)
        app.extensions["raazdar.db"].engine.dispose()
        held = [p.stat().st_ino for p in (paths.store / HOLDING_NAME).glob("*.rze")]
        with Session(engine) as session:
            ids = list(session.scalars(select(Item.id)))
        assert len(held) == len(ids) == 2 * SUBMISSIONS
        time.sleep(1.1)
        started = time.time_ns()
        assert sweep(engine, store, force=True).moved == len(ids)

    journal = _journal(image, tmp_path / "journal.bin")
    named = [i for i in ids if i.encode() in journal]
    assert not named, f"{len(named)} of {len(ids)} ids still in the journal"
    # Nothing of before the sweep is left in it: every commit it holds is the sweep's or later.
    commits = _commit_times(journal)
    assert commits
    early = [t for t in commits if t < started]
    when = [dt.datetime.fromtimestamp(t / 1e9, dt.UTC).time().isoformat() for t in early]
    assert not early, f"commits from before the sweep (it began {started}): {when[:5]}"
    # The inodes the arrivals had, freed by the sweep, keep no arrival's creation time.
    created = _creation_times(image, held)
    dated = {n: t for n, t in created.items() if arrived <= t < started}
    assert not dated, f"{len(dated)} freed inode(s) still dated between the arrivals"


def _change_times(image: Path, inodes: list[int]) -> dict[int, tuple[int, int]]:
    """Each inode's change and deletion times (ctime, dtime) in seconds, freed or not."""
    out = _debugfs(image, *(f"stat <{n}>" for n in inodes))
    found = {}
    for number, text in zip(
        inodes, re.split(r"^debugfs: stat .*$", out, flags=re.M)[1:], strict=True
    ):
        ctime = re.search(r"ctime: 0x([0-9a-f]+)", text)
        dtime = re.search(r"dtime: 0x([0-9a-f]+)", text)
        assert ctime is not None, text
        found[number] = (int(ctime.group(1), 16), int(dtime.group(1), 16) if dtime else 0)
    return found


def test_a_disk_copied_after_the_sweep_dates_no_reply_a_source_deleted(
    ext4: tuple[Path, Path],
) -> None:
    """A source deleting a reply freed its inode, which kept the deletion's time to the second.

    An older copy of the disk names the reply's inode and its source: the newer
    copy then said when that source was signed in, long after the sweep.
    """
    image, mount = ext4
    with instance_on(mount) as (instance, _paths, engine, store):
        app = create_app(config_for(instance))
        visitor = Visitor(app.test_client())
        page = visitor.start()
        visitor.filed(visitor.send(page, "the SHO"))
        codename, signer = page.fields["codename"], SigningKey.generate()
        replies = [reply_to(app, codename, f"Thank you ({n}).", signer) for n in range(2)]
        sweep(engine, store, force=True)
        # The older copy: each reply's inode (its row names its source).
        inodes = [store.stored_path(r).stat().st_ino for r in replies]
        time.sleep(1.1)
        deleting = int(time.time())
        for reply_id in replies:
            delete = deletion(visitor.get("/account"), reply_id)
            assert visitor.client.post(delete.action, data=delete.fields).status_code == 303
        deleted = int(time.time())
        app.extensions["raazdar.db"].engine.dispose()
        time.sleep(1.5)
        sweep(engine, store, force=True)

    times = _change_times(image, inodes)
    dated = {n: t for n, (c, d) in times.items() for t in (c, d) if deleting <= t <= deleted}
    when = {n: dt.datetime.fromtimestamp(t, dt.UTC).time().isoformat() for n, t in dated.items()}
    assert not dated, f"the replies' freed inodes still say when they went: {when}"


# Every stamp an inode keeps to the second (ext4's inode table, as debugfs prints it).
_STAMPS = re.compile(r"^\s*(ctime|atime|mtime|crtime|dtime): 0x([0-9a-f]+)", re.M)


def _dated_inodes(image: Path, start: int, end: int) -> dict[int, list[str]]:
    """Every inode of the disk, in use or freed, with a stamp in [start, end] (seconds)."""
    count = re.search(r"Inode count:\s+(\d+)", _debugfs(image, "stats"))
    assert count is not None
    inodes = range(1, int(count.group(1)) + 1)
    out = _debugfs(image, *(f"stat <{n}>" for n in inodes))
    dated: dict[int, list[str]] = {}
    for number, text in zip(
        inodes, re.split(r"^debugfs: stat .*$", out, flags=re.M)[1:], strict=True
    ):
        for name, value in _STAMPS.findall(text):
            if start <= int(value, 16) <= end:
                dated.setdefault(number, []).append(name)
    return dated


# A deletion a person's action makes: set up on the instance (before the older copy),
# it returns the action, which deletes, and the inodes whose own stamps say what they
# are (a file the action makes and keeps, as an upload it starts).
Deletion = Callable[[Path, Path, EnvelopeStore], Callable[[], list[int]]]


def _acknowledged(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """A reply bundle acknowledging six items (and answering nobody) is applied."""
    app = create_app(config_for(instance))
    for n in range(3):
        visitor = Visitor(app.test_client())
        page = visitor.start()
        assert visitor.send(page, f"report {n}", [("files", "a.txt", b"x", "text/plain")])
    app.extensions["raazdar.db"].engine.dispose()
    bundle = tmp_path / "export.rzb"
    assert cli(instance, "export", "--out", str(bundle))[0] == 0
    review = Review(instance, reviewer_keys(instance))
    manifest, _ = review.read(bundle, tmp_path / "items")
    silent = dataclasses.replace(manifest, sources={})
    replies = review.replies(tmp_path / "replies.rzr", silent, "")

    def act() -> list[int]:
        status, output = cli(instance, "import-replies", str(replies))
        assert status == 0, output
        assert "6 acknowledged item(s) deleted" in output
        return []

    return act


# A reply bundle's apply, SIGKILLed (a power cut, the OOM killer) just before its commit.
_KILLED_APPLY: Final = """
import os, signal, sys
from app.cli import main
from app.operations import exchange
exchange._commit = lambda *_: os.kill(os.getpid(), signal.SIGKILL)
main(["--instance", sys.argv[1], "import-replies", sys.argv[2]])
"""


def _killed(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """A reply bundle's apply is killed midway: it had unpacked the bundle in the store."""
    _acknowledged(instance, tmp_path, store)  # its bundle, not applied
    replies = tmp_path / "replies.rzr"

    def act() -> list[int]:
        killed = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _KILLED_APPLY, str(instance), str(replies)],
            capture_output=True,
            check=False,
            timeout=120,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        return []

    return act


def _purged(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """The purge deletes two items past their retention, and their source."""
    app = create_app(config_for(instance))
    visitor = Visitor(app.test_client())
    assert visitor.send(visitor.start(), "the SHO", [("files", "a.txt", b"x", "text/plain")])
    app.extensions["raazdar.db"].engine.dispose()
    engine = make_engine(config_for(instance).DATABASE_URL)

    def act() -> list[int]:
        try:
            with Session(engine) as session:
                later = dt.date.today() + dt.timedelta(days=400)
                done = purge(session, store, later, include_unacknowledged=True)
        finally:
            engine.dispose()
        assert (done.items, done.sources) == (2, 1)
        return []

    return act


def _failed(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """A source's submission with three files is refused (its message too long): the form again."""
    app = create_app(config_for(instance))
    visitor = Visitor(app.test_client())
    page = visitor.start()

    def act() -> list[int]:
        files = [("files", f"{n}.pdf", os.urandom(100_000), "application/pdf") for n in range(3)]
        response = visitor.send(page, "x" * (MAX_MESSAGE_CHARS + 1), files)
        assert response.status_code == 200  # the form again
        app.extensions["raazdar.db"].engine.dispose()
        return []

    return act


def _commit_refused(
    instance: Path, tmp_path: Path, store: EnvelopeStore
) -> Callable[[], list[int]]:
    """A source's report with three files, published, then its commit refused outright."""
    app = create_app(config_for(instance))
    visitor = Visitor(app.test_client())
    page = visitor.start()

    def act() -> list[int]:
        files = [("files", f"{n}.pdf", os.urandom(100_000), "application/pdf") for n in range(3)]
        with answer_lost("items", landed=False) as lost:
            response = visitor.send(page, "the SHO", files)
        assert lost == ["items"]
        assert response.status_code == 503
        app.extensions["raazdar.db"].engine.dispose()
        return []

    return act


def _expired(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """Three uploads idle since before yesterday expire as another source starts one."""
    app = create_app(config_for(instance))
    pinned = frozenset(key.verify_key.fingerprint for key in demo_authorities(instance))
    devices = [ApiClient(app.test_client(), pinned) for _ in range(2)]
    assert all(d.register().status_code == 201 for d in devices)
    envelope = devices[0].seal(os.urandom(200_000), Metadata("file", "application/pdf"))
    idle = [devices[0].start_upload(envelope).get_json()["upload"] for _ in range(3)]
    assert all(devices[0].patch(u, 0, envelope[:100_000]).status_code == 200 for u in idle)
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        with Session(engine) as session:
            two_days_ago = dt.date.today() - dt.timedelta(days=2)
            session.execute(update(Upload).values(active_day=two_days_ago))
            session.commit()
    finally:
        engine.dispose()

    def act() -> list[int]:
        started = devices[1].start_upload(envelope)
        assert started.status_code == 201, started.get_data(as_text=True)
        assert not any(staged_path(u, store).exists() for u in idle)
        app.extensions["raazdar.db"].engine.dispose()
        # The new upload's own file says when it began (deploy/README.md §2.1), not the expiry.
        return [staged_path(started.get_json()["upload"], store).stat().st_ino]

    return act


def _device(instance: Path) -> tuple[Any, ApiClient, bytes]:
    """An app, a registered device of the end-to-end client, and an envelope it sealed."""
    app = create_app(config_for(instance))
    pinned = frozenset(key.verify_key.fingerprint for key in demo_authorities(instance))
    device = ApiClient(app.test_client(), pinned)
    assert device.register().status_code == 201
    return app, device, device.seal(os.urandom(250_000), Metadata("file", "application/pdf"))


def _uploaded(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """A source deletes a reply; another's client uploads an envelope in three chunks.

    The sweep's copy of the envelope takes the reply's inode back, and the refill
    the staged file's: nothing of the sweep made a file in the chunks' inode.
    """
    app, device, envelope = _device(instance)
    visitor = Visitor(app.test_client())
    page = visitor.start()
    visitor.filed(visitor.send(page, "the SHO"))
    reply = reply_to(app, page.fields["codename"], "Thank you.", SigningKey.generate())

    def act() -> list[int]:
        delete = deletion(visitor.get("/account"), reply)
        assert visitor.client.post(delete.action, data=delete.fields).status_code == 303
        device.upload(envelope, kind="file", chunk=100_000)
        app.extensions["raazdar.db"].engine.dispose()
        return []

    return act


def _unfinished(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """A source's client sends two chunks of three, and its circuit drops: the upload waits."""
    app, device, envelope = _device(instance)

    def act() -> list[int]:
        started = device.start_upload(envelope, kind="file")
        upload = started.get_json()["upload"]
        for offset in (0, 100_000):
            chunk = envelope[offset : offset + 100_000]
            assert device.patch(upload, offset, chunk).status_code == 200
        app.extensions["raazdar.db"].engine.dispose()
        assert staged_path(upload, store).stat().st_size == 200_000
        return []

    return act


class _Together(io.BytesIO):
    """A request body whose first read waits for the other's: two chunks received at once."""

    def __init__(self, body: bytes, barrier: threading.Barrier) -> None:
        super().__init__(body)
        self._barrier: threading.Barrier | None = barrier

    def read(self, size: int | None = -1) -> bytes:
        if self._barrier is not None:
            self._barrier.wait()  # both chunk files are made by now
            self._barrier = None
        return super().read(size)


def _resent(instance: Path, tmp_path: Path, store: EnvelopeStore) -> Callable[[], list[int]]:
    """Two clients whose answers to their last chunk were lost send it again, at once.

    Each chunk is received into a file of its own before the server finds its upload
    complete (a 409): two files at once, two inodes freed.
    """
    app, first, envelope = _device(instance)
    pinned = first.pinned
    second = ApiClient(app.test_client(), pinned)
    assert second.register().status_code == 201
    uploads = []
    for device in (first, second):
        upload = device.start_upload(envelope, kind="file").get_json()["upload"]
        assert device.patch(upload, 0, envelope).get_json()["complete"] is True
        uploads.append((device, upload))
    barrier = threading.Barrier(2, timeout=60)

    def resend(device: ApiClient, upload: str) -> int:
        path = f"/api/v1/uploads/{upload}"
        headers = device.headers("PATCH", path, envelope, offset=0)
        response = device.client.open(
            path,
            method="PATCH",
            input_stream=_Together(envelope, barrier),
            content_length=len(envelope),
            content_type="application/offset+octet-stream",
            headers=headers,
        )
        return response.status_code

    def act() -> list[int]:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda pair: resend(*pair), uploads))
        assert answers == [409, 409]
        app.extensions["raazdar.db"].engine.dispose()
        return []

    return act


_KEEPS_ALL: Final = (
    _failed,
    _commit_refused,
    _uploaded,
    _unfinished,
    _resent,
    _killed,
)  # actions that leave the store whole


@pytest.mark.parametrize(
    "deletion",
    [
        _acknowledged,
        _purged,
        _failed,
        _commit_refused,
        _expired,
        _uploaded,
        _unfinished,
        _resent,
        _killed,
    ],
)
def test_a_disk_copied_after_the_sweep_dates_no_deletion(
    ext4: tuple[Path, Path], tmp_path: Path, deletion: Deletion
) -> None:
    """No inode, in use or freed, keeps a time of the action that deleted files (or uploaded).

    Unlinked at once, each freed inode kept the deletion's time (and a deleted
    staged file its creation's) to the second, and on a quiet instance no later
    file took it: a reply bundle applied, a purge, a source's failed submission,
    an upload that expired as another source began one, each dated. An upload left
    unfinished kept its start and its latest chunk in its file until it expired.
    """
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    act = deletion(instance, tmp_path, store)
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        sweep(engine, store, force=True)
        # A piece of each file of the store, to look for on the disk once the action took it.
        pieces = {p: _middle(p) for p in paths.store.rglob("*") if p.is_file() and _middle(p)}
        time.sleep(1.1)
        start = int(time.time())
        own = act()
        end = int(time.time())
        gone = [piece for path, piece in pieces.items() if not path.exists()]
        time.sleep(1.5)
        sweep(engine, store, force=True)
    finally:
        engine.dispose()
    os.sync()

    dated = {n: s for n, s in _dated_inodes(image, start, end).items() if n not in own}
    assert not dated, f"inodes dated within the action ({end - start + 1} s): {dated}"
    # Set aside cut to nothing (a failed upload of 500 MiB must not hold its space till the
    # sweep), but overwritten first: no byte of what the action deleted is on the disk.
    disk = image.read_bytes()
    assert deletion in _KEEPS_ALL or gone, "the action deleted no file of the store"
    left = [piece for piece in gone if piece in disk]
    assert not left, f"{len(left)} of the {len(gone)} files deleted are still on the disk"


def _middle(path: Path) -> bytes:
    """64 bytes from the middle of a file of 4 KiB or more (ciphertext: found nowhere else)."""
    data = path.read_bytes()
    return data[len(data) // 2 :][:64] if len(data) >= 4096 else b""


@pytest.mark.parametrize("tool", [MKFS, DEBUGFS, MOUNT, UMOUNT])
def test_the_tools_are_here(tool: str) -> None:
    """The seizure above needs e2fsprogs (tests/run.sh installs it) and util-linux."""
    assert os.access(tool, os.X_OK)


class _Slow(io.BytesIO):
    """A request body that takes over Tor longer than the kernel keeps written data in memory.

    Once most of it has come, what was written meanwhile goes to the disk, as the
    kernel's writeback does after 30 s (`vm.dirty_expire_centisecs`).
    """

    synced = False

    def read(self, size: int | None = -1) -> bytes:
        if not self.synced and self.tell() >= len(self.getbuffer()) * 3 // 4:
            self.synced = True  # the parser has written what came so far: it asks for more
            os.sync()
        # A slow link hands over what has come: a quarter of the body at a time.
        quarter = -(-len(self.getbuffer()) // 4)
        return super().read(quarter if size is None or size < 0 else min(size, quarter))


def test_a_reply_bundle_sent_from_the_dashboard_leaves_no_time_and_no_byte(
    ext4: tuple[Path, Path], tmp_path: Path
) -> None:
    """The dashboard's upload of a reply bundle waited in an unnamed file beside the store.

    Freed at the request's end, its inode kept when staff handed the replies in (when
    they reached their sources), and its blocks the bundle, never overwritten.
    """
    image, mount = ext4
    instance = demo_instance(mount / "instance")
    paths = InstancePaths(instance)
    store = EnvelopeStore(paths.store, paths.staging)
    _acknowledged(instance, tmp_path, store)  # its export; the bundle is sent here instead
    review = Review(instance, reviewer_keys(instance))
    manifest, _ = review.read(tmp_path / "export.rzb", tmp_path / "again")
    # Acknowledging besides what an older export held (ids this server no longer has): a
    # bundle some pages long, as one answering many sources is.
    gone = tuple(secrets.token_hex(16) for _ in range(4000))
    acks = (*(e.id for e in manifest.entries), *gone)
    silent = dataclasses.replace(manifest, sources={})
    bundle = review.replies(tmp_path / "many.rzr", silent, "", acks=acks).read_bytes()
    app = create_app(config_for(instance))
    staff = staff_client(app)
    login(staff, app, make_staff(app))
    engine = make_engine(config_for(instance).DATABASE_URL)
    try:
        sweep(engine, store, force=True)
        time.sleep(1.1)
        start = int(time.time())
        token = form(staff.get("/staff/").get_data(as_text=True), "/staff/replies")
        fields = [("csrf_token", token.fields["csrf_token"])]
        body, content_type = multipart(fields, [("bundle", "r.rzr", bundle, "application/zip")])
        sent = staff.post(
            "/staff/replies",
            input_stream=_Slow(body),
            content_length=len(body),
            content_type=content_type,
        )
        end = int(time.time())
        assert sent.status_code == 200, sent.get_data(as_text=True)
        assert "6 acknowledged" in sent.get_data(as_text=True)
        app.extensions["raazdar.db"].engine.dispose()
        time.sleep(1.5)
        sweep(engine, store, force=True)
    finally:
        engine.dispose()
    os.sync()

    dated = _dated_inodes(image, start, end)
    assert not dated, f"inodes dated within the upload ({end - start + 1} s): {dated}"
    assert bundle[len(bundle) // 2 :][:64] not in image.read_bytes(), "the bundle is on the disk"
