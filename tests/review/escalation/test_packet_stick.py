"""What a body is handed on the escalation stick must be a packet's file, read within its limit.

The stick goes from the review workstation to the body by hand, and whoever carries it
can put a named pipe where the packet should be (one no one writes to held `bodies open`
for ever, after the body's passphrase was typed), or a sparse file of gigabytes that takes
no room on the stick (read whole into memory before its size was compared with the limit).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams, KeyFile, KeyPair
from crypto import constants as C
from tests.review.support import reaped_peak, start_review

# A refusal is immediate; this only bounds a run that hangs, on a busy machine.
BOUNDED = 30.0


@pytest.fixture
def body_key(tmp_path: Path) -> Path:
    path = tmp_path / "body.key"
    made = KeyFile.create(
        KeyPair.generate(),
        DEMO_PASSPHRASE,
        kind="escalation-body",
        label="Cell",
        params=KdfParams.TESTING,
    )
    path.write_bytes(made.to_bytes())
    return path


def _open_packet(packet: Path, body_key: Path, tmp_path: Path) -> tuple[int, int]:
    """`bodies open` on `packet`, as a process of its own: its exit code, and its peak memory
    in bytes beyond what it inherited (`reaped_peak`)."""
    proc = start_review(
        tmp_path / "no-workspace",
        "bodies",
        "open",
        str(packet),
        "--key-file",
        str(body_key),
        "--out",
        str(tmp_path / "opened"),
        cwd=tmp_path,
    )
    return reaped_peak(proc, BOUNDED, f"`bodies open` of {packet.name}")


def test_a_named_pipe_on_the_stick_is_refused_not_waited_on(body_key: Path, tmp_path: Path) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    os.mkfifo(stick / "packet.rzp")
    code, _ = _open_packet(stick / "packet.rzp", body_key, tmp_path)
    assert code == 1
    assert not (tmp_path / "opened").exists()


def test_a_sparse_file_past_a_packets_limit_is_refused_unread(
    body_key: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    packet = stick / "packet.rzp"
    with packet.open("wb") as f:
        f.truncate(C.PACKET_MAX_BYTES + (512 << 20))  # no block written: a stick holds it
    code, peak = _open_packet(packet, body_key, tmp_path)
    assert peak < 256 << 20, f"`bodies open` took {peak >> 20} MiB to refuse a sparse file"
    assert code == 1
    assert not (tmp_path / "opened").exists()
