"""A power cut after `raazdar export` said it wrote a bundle leaves the bundle under its name.

A rename is on the disk only once its directory is flushed (ext4 commits it within
seconds; FAT32 and exFAT, a stick's, when the directory's block is written). Each
test keeps the names of the bundle's directory as of each flush of it: what a cut
then leaves. A cut after the command's answer must leave the bundle named as it said,
and no part file beside it: the operator carries the one, and the next export would
refuse the other as a bundle cut short.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from flask import Flask

from tests.app.operations.test_exchange import cli, submit


def test_a_bundle_the_export_named_is_on_the_disk_under_its_name(
    app: Flask, instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    durable: list[set[str]] = [set()]
    fsync = os.fsync

    def recorded(fd: int) -> None:
        fsync(fd)
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode) and info.st_ino == stick.stat().st_ino:
            durable.append(set(os.listdir(stick)))

    monkeypatch.setattr(os, "fsync", recorded)
    submit(app.test_client(), "The SHO released the agent for money", b"\xff\xd8 a photo")
    status, output = cli(instance, "export", "--out", str(stick / "e.rzb"))
    assert status == 0, output
    assert "exported 2 item(s)" in output
    assert durable[-1] == {"e.rzb"}, (
        f"a power cut after the export's answer leaves {sorted(durable[-1])} on the stick"
    )
