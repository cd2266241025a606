"""Swap that is not encrypted: what the unlocked tool holds in memory may outlive the shutdown.

The attack: the kernel writes the memory of a process it is short of to swap
(and all of it on hibernation): the workspace key, unlocked reviewer keys, the
reports read. On a swap partition or file that is not encrypted those pages
stay on the disk after the machine is shut down, for whoever takes it, however
well the workspace is sealed. The tool cannot lock its memory in RAM (an
unprivileged process may lock 8 MiB), so it says so, before anything is
unlocked, whenever the swap in use is not on dm-crypt (or zram).

The system's /proc/swaps and /sys are stood in for by files of the same shape:
no test may turn swap on for the whole machine.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from review.present import disk
from tests.review.support import review

HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
WARNING = "keys, the workspace key and the reports this tool holds in memory"


def _device(
    sys_root: Path, name: str, *, uuid: str | None = None, on: tuple[str, ...] = ()
) -> Path:
    """A block device in a sysfs of the test's: its dm uuid, the devices it is built on."""
    device = sys_root / "devices" / "virtual" / "block" / name
    (device / "slaves").mkdir(parents=True)
    if uuid is not None:
        (device / "dm").mkdir()
        (device / "dm" / "uuid").write_text(f"{uuid}\n")
    for below in on:
        (device / "slaves" / below).symlink_to(device.parent / below)
    (sys_root / "class" / "block").mkdir(parents=True, exist_ok=True)
    (sys_root / "class" / "block" / name).symlink_to(device)
    return device


@pytest.fixture
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sysfs of the test's: a plain partition, LUKS, LVM over LUKS, LVM over a plain one."""
    sys_root = tmp_path / "sys"
    _device(sys_root, "sda3")
    _device(sys_root, "sda4")
    _device(sys_root, "dm-0", uuid="CRYPT-LUKS2-0a1b2c-sda2_crypt")
    _device(sys_root, "dm-1", uuid="LVM-Xy12-swap", on=("dm-0",))
    _device(sys_root, "dm-2", uuid="LVM-Zz34-swap", on=("sda4",))
    _device(sys_root, "zram0")
    # raising=False: on a tool that never looked at swap, the test fails on its assertion.
    monkeypatch.setattr(disk, "_SYS", sys_root, raising=False)
    monkeypatch.setattr(disk, "_SWAPS", tmp_path / "swaps", raising=False)
    return tmp_path


def _swaps(system: Path, *entries: tuple[str, str]) -> None:
    lines = "".join(f"{name}\t{kind}\t\t8388604\t\t0\t\t-2\n" for name, kind in entries)
    (system / "swaps").write_text(HEADER + lines)


def test_unlocking_with_swap_on_a_plain_partition_is_warned_of_once(
    system: Path, workspace: Path
) -> None:
    _swaps(system, ("/dev/sda3", "partition"), ("/dev/dm-1", "partition"))
    result = review(workspace, "list")
    assert result.exit_code == 0, result.output
    assert result.stderr.count(WARNING) == 1, "no warning of the swap that is not encrypted"
    assert "warning: swap on /dev/sda3 is not encrypted (no dm-crypt" in result.stderr
    assert "/dev/dm-1" not in result.stderr


def test_encrypted_swap_and_zram_are_not_warned_of(system: Path, workspace: Path) -> None:
    _swaps(
        system, ("/dev/dm-0", "partition"), ("/dev/dm-1", "partition"), ("/dev/zram0", "partition")
    )
    result = review(workspace, "list")
    assert result.exit_code == 0, result.output
    assert WARNING not in result.stderr


@pytest.mark.parametrize(
    ("device", "warned"),
    [("dm-0", False), ("dm-1", False), ("dm-2", True), ("sda3", True), ("nowhere", True)],
)
def test_a_swap_file_is_judged_by_the_device_its_filesystem_is_on(
    system: Path, device: str, warned: bool
) -> None:
    swapfile = system / "swapfile"
    swapfile.write_bytes(b"")
    dev = os.stat(swapfile).st_dev
    by_number = system / "sys" / "dev" / "block"
    by_number.mkdir(parents=True)
    (by_number / f"{os.major(dev)}:{os.minor(dev)}").symlink_to(
        system / "sys" / "devices" / "virtual" / "block" / device
    )
    _swaps(system, (str(swapfile), "file"))
    assert (disk.unencrypted_swap() == [str(swapfile)]) is warned


def test_no_swap_or_no_table_says_nothing(system: Path) -> None:
    _swaps(system)
    assert disk.swap_warning() is None
    (system / "swaps").unlink()
    assert disk.swap_warning() is None


def _locked_in_a_child() -> int:
    """VmLck, in kB, of a forked copy of this process after `disk.lock_memory`."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            disk.lock_memory()
            status = Path("/proc/self/status").read_text()
            locked = next(line for line in status.splitlines() if line.startswith("VmLck:"))
            os.write(writer, locked.split()[1].encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as said:
        answer = said.read()
    os.waitpid(pid, 0)
    return int(answer or b"-1")


def test_where_the_tool_may_lock_its_memory_none_of_it_is_swapped() -> None:
    """The attack: where the system lets it (root, or `memlock unlimited`), the tool still
    left every page of its memory, the workspace key and the reports read, to the swap:
    0 kB locked. Where it may not, it locks nothing rather than fail later for memory."""
    unlimited = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == resource.RLIM_INFINITY
    may = os.geteuid() == 0 or unlimited
    locked = _locked_in_a_child()
    assert locked > 0 if may else locked == 0, f"{locked} kB locked"
