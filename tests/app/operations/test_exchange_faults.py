"""A disk that fails at any step of an export or a reply bundle's apply loses and leaves nothing.

Each test walks every step the operation takes (`tests.app.faults.StepFaults`): the
operator is told, the database and the store are as they were before it, and the
same bundle (or export) goes through once the disk is mended.
"""

from __future__ import annotations

import errno
import itertools
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.instance import InstancePaths
from app.models import Item, Reply
from app.operations import exchange
from tests.app.faults import StepFaults
from tests.app.operations.test_exchange import (
    Review,
    cli,
    store_files,
    submit,
    two_reports_answered,
)
from tests.app.support import all_rows, reviewer_keys, row_counts, staging_files
from tests.app.test_lost_commit import answer_lost

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
    bundle = two_reports_answered(app, instance, review, tmp_path)
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


@pytest.mark.parametrize("error", _ERRORS)
def test_an_export_failing_at_any_step_marks_nothing_exported_and_leaves_no_bundle(
    app: Flask, instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """A step the export gets past (a best-effort one) exports whole, bundle and rows; one
    before its commit leaves the database as it was and no bundle, nor a part of one; one
    after it (the bundle's rename) keeps the bundle and says where it is."""
    client: FlaskClient = app.test_client()
    submit(client, "The SHO released the agent for money", b"\xff\xd8 a photo")
    out = tmp_path / "bundles"
    out.mkdir()
    entries = _store_entries(instance)
    rows = all_rows(app)
    made: list[Path] = []
    runs = itertools.count()

    def export() -> tuple[int, str]:
        return cli(instance, "export", "--out", str(out / f"e{next(runs)}.rzb"))

    def failed(step: int, result: tuple[int, str]) -> None:
        nonlocal rows
        status, output = result
        # Kept as its part file, or named but its name perhaps not yet on the disk.
        kept = re.search(r"it is (\S+\.(?:part|rzb))\n", output)
        if status == 0:
            made.append(Path(output.split(" to ")[1].split(" (bundle")[0]))
            rows = all_rows(app)
        elif kept:
            assert "was exported, its items marked sent" in output, (step, output)
            made.append(Path(kept.group(1)))
            rows = all_rows(app)
        else:
            assert "raazdar: error:" in output, (step, output)
            assert all_rows(app) == rows, f"step {step} failed, and changed the database"
        assert sorted(out.iterdir()) == sorted(made), f"step {step} left a bundle or a part"
        assert _store_entries(instance) == entries, f"step {step} left the store changed"

    steps = StepFaults(monkeypatch, error, after=(exchange, "export_bundle")).walk(export, failed)

    assert steps > 1
    assert len(made) < steps, "no step's failure stopped the export"


def test_an_export_whose_commit_answer_was_lost_keeps_its_bundle(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    """The connection drops before the database's answer to the export's commit, which it
    carried out: the items are marked exported, so the bundle that holds them is kept."""
    submit(app.test_client(), "The SHO released the agent for money", b"\xff\xd8 a photo")
    out = tmp_path / "e.rzb"
    with answer_lost("audit_log") as lost:
        status, output = cli(instance, "export", "--out", str(out))
    assert lost == ["audit_log"]
    assert status == 0, output
    assert "exported 2 item(s)" in output
    assert out.exists(), "the items were marked exported in a bundle that was deleted"
    status, output = cli(instance, "export", "--out", str(tmp_path / "again.rzb"))
    assert "exported 0 item(s)" in output, output


def test_an_export_whose_commit_cannot_be_confirmed_keeps_its_part_file(
    app: Flask, instance: Path, tmp_path: Path
) -> None:
    """The database is gone after the commit it may have carried out: the bundle stays as
    its part file, which the next export names to the operator, never deleted."""
    submit(app.test_client(), "The SHO released the agent for money", b"\xff\xd8 a photo")
    out = tmp_path / "e.rzb"
    with answer_lost("audit_log", then_down=True) as lost:
        status, output = cli(instance, "export", "--out", str(out))
    assert lost == ["audit_log"]
    assert status == 1, output
    assert (tmp_path / ".e.rzb.part").exists(), "a bundle that may be exported was deleted"
    # The operator is told where it is and what to do with it: not to `rm` it off a stick.
    assert f"the bundle is kept as {tmp_path / '.e.rzb.part'}" in output, output
    assert "rename it to e.rzb and carry it, or destroy it (`shred -u" in output, output
    status, output = cli(instance, "export", "--out", str(out))
    assert status == 1
    assert "left by an export cut short" in output
    assert "or destroy it (`shred -u" in output, output
