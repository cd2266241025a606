"""`forget` on a disk: what the removed state directory leaves in the blocks it frees."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.submit.support import Device

# What the tor a `--launch-tor` run starts writes in its data directory (`state`), dating
# that run: the local time its state was written, and LastWritten in UTC.
TOR_DATES = (b"Tor state file last generated on", b"LastWritten")


def _tor_ran_in(data: Path) -> None:
    """Run tor, offline, on `data` as a `--launch-tor` run does; stop it as the client does."""
    tor = shutil.which("tor")
    if tor is None:
        pytest.skip("tor is not installed (tests/run.sh installs it)")
    data.mkdir(mode=0o700)
    started = subprocess.Popen(  # noqa: S603 - the system's tor, with no network at all
        [tor, "--DataDirectory", str(data), "--DisableNetwork", "1", "--SocksPort", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not (data / "state").is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    started.send_signal(signal.SIGINT)
    started.wait(30)
    assert all(mark in (data / "state").read_bytes() for mark in TOR_DATES)


def test_forget_leaves_no_date_of_tor_in_the_blocks_it_frees(
    server: str,
    authorities: list[str],
    tmp_path: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    """The attack: a laptop whose source sent with `--launch-tor`, then ran `forget` before a
    checkpoint. The directory went, but its tor's files were only unlinked: reading the
    disk's freed blocks, whoever takes it finds tor's state, which says when it last ran."""
    image, mount = ext4
    device = Device(mount / "raazdar-submit", server, authorities)
    codename = device.new_codename(tmp_path)
    sent = device.run("send", "-m", "the names", "--codename-file", str(codename))
    assert sent.exit_code == 0, sent.output
    _tor_ran_in(mount / "raazdar-submit" / "tor")
    os.sync()
    assert all(mark in image.read_bytes() for mark in TOR_DATES)  # on the disk, as run
    forgot = device.run("forget", "--codename-file", str(codename))
    assert forgot.exit_code == 0, forgot.output
    assert not (mount / "raazdar-submit").exists()
    os.sync()
    disk = image.read_bytes()
    found = [mark.decode() for mark in TOR_DATES if mark in disk]
    assert found == [], f"the freed blocks keep tor's dates of the client's last run: {found}"
