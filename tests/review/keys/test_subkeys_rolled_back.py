"""A reviewer's subkey record (`meta:subkeys:R`) put back alone from an older copy of the disk.

The record is sealed, and bound to its row, so nobody without a passphrase writes
one; but a record of last month, copied then, is one the tool sealed. Put back for
a night, it says the reviewer holds the weeks they held then: retiring their last
key then found no report waiting for their newer weeks, and destroyed their store
with those reports' only key; and their next subkey list took a number already
spent, which every device that saw the first refuses as a second list of that
number. The head's tag covers the records (form 4, schema 15): unlock refuses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.errors import UnlockError
from review.intake.importer import import_bundle
from review.keys import subkeys
from review.keys.rewrap import rewrap
from tests.review.keys.test_subkeys import (
    ISSUED,
    MONDAY3,
    SECOND_PW,
    WEEK2,
    _second_reviewer,
    _week_key,
)
from tests.review.subkey_bundles import Chain, seal_report
from tests.review.support import Server, on_the_disk
from tests.review.workspace.test_tampered_rows import ALTERED

RECORD = f"{subkeys.RECORD}second"
T = TypeVar("T")


@pytest.fixture
def server(server_format_2: Server) -> Server:
    """A server from before v2: the test issues the store it needs, none adopted from the demo."""
    return server_format_2


def _record(root: Path) -> str:
    with on_the_disk(root) as conn:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = ?", (RECORD,)).fetchone()
    return str(value)


def _put_back(root: Path, value: str) -> None:
    with on_the_disk(root) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, RECORD))


def _taken(
    root: Path, reviewer: str, passphrase: str, use: Callable[[ws.Unlocked], T]
) -> T | UnlockError:
    """What `use` makes of the disk as it is, unlocked as `reviewer`, or the unlock's refusal."""
    try:
        u = ws.Workspace.open(root).unlock(reviewer, lambda _label: passphrase)
    except UnlockError as exc:
        return exc
    try:
        return use(u)
    finally:
        u.workspace.close()


def _retire_second(u: ws.Unlocked) -> bool:
    """Retire every key of `second`, with a second administrator: whether their store is kept."""
    retired = {
        s for (s,) in u.conn.execute("SELECT seq FROM reviewer_keys WHERE reviewer = 'second'")
    }
    rewrap(dataclasses.replace(u, second="second"), retire=retired)
    return subkeys.store_path(u, "second").exists()


def test_a_subkey_record_rolled_back_on_the_disk_lets_no_retirement_lose_a_report(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    """The record of when the reviewer held one week: a report sealed to a later week of
    theirs, waiting here, was lost with their store when their last key was retired."""
    root = unlocked.workspace.root
    second, _ = _second_reviewer(unlocked)
    subkeys.issue(second, 1, ISSUED)
    then = _record(root)
    subkeys.issue(second, 8, ISSUED)  # the weeks after: WEEK2 on
    bundle = Chain(server, tmp_path).bundle(
        [seal_report("for the second reviewer only", _week_key(second, WEEK2))], MONDAY3
    )
    assert import_bundle(unlocked, bundle).problems  # pending: the demo reviewer cannot open it
    second.workspace.close()
    _put_back(root, then)
    found = _taken(root, "demo-reviewer", DEMO_PASSPHRASE, _retire_second)
    assert isinstance(found, UnlockError), (
        "a subkey record put back on the disk let the retirement through: the report waiting"
        f" for WEEK2 lost its key (the store kept: {found})"
    )
    assert ALTERED in str(found)


def test_a_subkey_record_rolled_back_on_the_disk_spends_no_list_number_twice(
    unlocked: ws.Unlocked,
) -> None:
    """The record of the day's first list: the next list took the second's number, and a
    device that saw the second refuses it as a second list of one number."""
    root = unlocked.workspace.root
    second, _ = _second_reviewer(unlocked)
    first, _made = subkeys.issue(second, 2, ISSUED)
    then = _record(root)
    spent, _made = subkeys.issue(second, 2, ISSUED)
    second.workspace.close()
    _put_back(root, then)
    found = _taken(root, "second", SECOND_PW, lambda u: subkeys.issue(u, 2, ISSUED)[0])
    assert isinstance(found, UnlockError), (
        "a subkey record put back on the disk was taken: the next list is numbered"
        f" {found.subkeys.sequence}, as one issued before ({spent.subkeys.sequence};"
        f" the first {first.subkeys.sequence})"
    )
    assert ALTERED in str(found)
