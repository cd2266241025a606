"""A power cut after `exchange export` leaves the reply bundle on the stick under its name.

The workspace records a bundle as written (its replies leave the queue) before the bundle
takes its name. A name is on the disk only once its directory is flushed (a stick's FAT
when its block is written): each test keeps the names of the bundle's folder as of each
flush of it, what a cut then leaves. Cut after the record with the part file's name not
yet flushed, the bundle was gone and its replies out of the queue; cut after the answer
with the rename not flushed, the stick held the part file and no bundle named as said.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from review import workspace as ws
from review.casework import replies, triage
from review.workspace import audit
from tests.review.casework.test_notices import browser_report
from tests.review.support import Server


def test_a_reply_bundle_recorded_and_named_is_on_the_disk_under_its_name(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser_report(server, unlocked, tmp_path)
    triage.set_status(unlocked, 1, "needs-info")
    stick = tmp_path / "stick"
    stick.mkdir()
    durable: list[set[str]] = [set()]
    at_record: list[set[str]] = []
    fsync, append = os.fsync, audit.append

    def recorded(fd: int) -> None:
        fsync(fd)
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode) and info.st_ino == stick.stat().st_ino:
            durable.append(set(os.listdir(stick)))

    def record(*args: Any, **kwargs: Any) -> Any:
        if args[1] == "export-replies":
            at_record.append(durable[-1])
        return append(*args, **kwargs)

    monkeypatch.setattr(os, "fsync", recorded)
    monkeypatch.setattr(audit, "append", record)
    replies.export_replies(unlocked, stick / "r.rzr")
    assert len(at_record) == 1
    assert any(n.endswith(".part") for n in at_record[0]), (
        f"a power cut at the export's record leaves {sorted(at_record[0])} on the stick"
    )
    assert durable[-1] == {"r.rzr"}, (
        f"a power cut after the export's answer leaves {sorted(durable[-1])} on the stick"
    )
    assert server.apply(stick / "r.rzr").notices == 1
