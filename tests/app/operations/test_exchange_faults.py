"""A disk that fails at any step of an export or a reply bundle's apply loses and leaves nothing.

Each test walks every step the operation takes (`tests.app.faults.StepFaults`): the
operator is told, the database and the store are as they were before it, and the
same bundle (or export) goes through once the disk is mended.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from flask import Flask

from app.instance import InstancePaths
from app.models import Item, Reply
from app.operations import exchange
from tests.app.faults import StepFaults
from tests.app.operations.test_exchange import Review, cli, store_files, submit
from tests.app.support import all_rows, reviewer_keys, row_counts, staging_files

# A full disk, and a disk that fails (one step only: the next goes through).
_ERRORS = [pytest.param(errno.ENOSPC, id="full"), pytest.param(errno.EIO, id="eio")]


def _store_entries(instance: Path) -> list[str]:
    """What the store holds by name but the blank files retired for the sweep."""
    store = InstancePaths(instance).store
    found = (p.relative_to(store) for p in store.rglob("*"))
    return sorted(str(p) for p in found if not any(n.startswith(".deleted-") for n in p.parts))


@pytest.mark.parametrize("error", _ERRORS)
def test_a_reply_bundle_failing_at_any_step_applies_nothing_and_leaves_nothing(
    app: Flask,
    instance: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: int,
) -> None:
    review = Review(instance, reviewer_keys(instance))
    for n in range(2):
        submit(app.test_client(), f"report {n}", b"\xff\xd8 a photo")
    assert cli(instance, "export", "--out", str(tmp_path / "e.rzb"))[0] == 0
    manifest, _ = review.read(tmp_path / "e.rzb", tmp_path / "items")
    bundle = review.replies(tmp_path / "r.rzr", manifest, "hello")
    rows = all_rows(app)
    entries = _store_entries(instance)

    def failed(step: int, result: tuple[int, str]) -> None:
        status, output = result
        assert status == 1, (step, output)
        assert "raazdar: error:" in output, (step, output)
        assert all_rows(app) == rows, f"step {step} failed, and changed the database"
        assert staging_files(instance) == [], f"step {step} left a file in staging"
        assert _store_entries(instance) == entries, f"step {step} left the store changed"

    steps = StepFaults(monkeypatch, error, after=(exchange, "apply_reply_bundle")).walk(
        lambda: cli(instance, "import-replies", str(bundle)),
        failed,
        done=lambda result: result[0] == 0,  # a step after the commit: its tidying failed
    )

    assert steps > 10
    assert row_counts(app, Item, Reply) == {"items": 0, "replies": 2}
    assert len(store_files(instance)) == 2
    assert staging_files(instance) == []
