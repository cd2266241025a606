"""The step walker (tests/app/faults.py) fails the steps of its action, no other thread's."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from tests.app.faults import StepFaults


def test_a_threads_writes_meanwhile_are_not_the_actions_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread left flushing a file of its own while the walk runs (CI: a test's reply
    bundle walk stopped at its first step, failed in another thread) takes no step."""
    stop, flushed = threading.Event(), threading.Event()
    refused: list[OSError] = []

    def flushing() -> None:
        fd = os.open(tmp_path / "other", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while not stop.is_set():
                try:
                    os.fsync(fd)
                except OSError as exc:
                    refused.append(exc)
                flushed.set()
        finally:
            os.close(fd)

    def action() -> str:
        flushed.clear()
        assert flushed.wait(5)  # the thread flushed while the action was under way
        try:
            for name in ("a", "b", "c"):
                fd = os.open(tmp_path / name, os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError:
            return "refused"
        return "through"

    runs: list[int] = []
    thread = threading.Thread(target=flushing, daemon=True)
    thread.start()
    try:
        steps = StepFaults(monkeypatch, errno.EIO).walk(
            action, lambda step, result: runs.append(step) if result == "refused" else None
        )
    finally:
        stop.set()
        thread.join(5)
    assert refused == [], "the other thread's flush was failed"
    assert runs == [1, 2, 3, 4, 5, 6]  # three opens and three flushes, each failed in turn
    assert steps == 7
