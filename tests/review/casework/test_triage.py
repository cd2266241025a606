"""Triage rules: the workflow, closing reasons, danger first, filters, tags, links, search."""

from __future__ import annotations

from pathlib import Path

import pytest

from review import workspace as ws
from review.casework import triage
from review.errors import InvalidValue, NotFound
from review.intake.importer import import_bundle
from review.workspace.search import SearchIndex, normalize
from tests.review.support import Server


@pytest.fixture
def three(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> ws.Unlocked:
    """A workspace with three reports, numbered in the order they were imported."""
    for text in ("first report", "second report", "third report"):
        server.submit(text)
        import_bundle(unlocked, server.export(tmp_path / f"{text}.rzb"))
    return unlocked


def _nums(u: ws.Unlocked, filters: triage.Filters | None = None, sort: str = "number") -> list[int]:
    return [r.num for r in triage.list_reports(u, filters or triage.Filters(), sort)]


def test_status_follows_the_workflow_and_closing_needs_a_reason(three: ws.Unlocked) -> None:
    triage.set_status(three, 1, "in-review")
    triage.set_status(three, 1, "needs-info")
    triage.set_status(three, 1, "corroborated")
    triage.set_status(three, 1, "escalated")
    with pytest.raises(InvalidValue, match="needs a reason"):
        triage.set_status(three, 1, "closed")
    with pytest.raises(InvalidValue, match="unknown reason"):
        triage.set_status(three, 1, "closed", "bored")
    state = triage.set_status(three, 1, "closed", "resolved")
    assert (state.status, state.reason) == ("closed", "resolved")
    assert triage.set_status(three, 1, "in-review").reason is None


@pytest.mark.parametrize(("start", "target"), [("new", "escalated"), ("new", "corroborated")])
def test_a_status_cannot_skip_ahead(three: ws.Unlocked, start: str, target: str) -> None:
    with pytest.raises(InvalidValue, match=f"cannot go from {start} to {target}"):
        triage.set_status(three, 2, target)
    assert triage.load_state(three, 2).status == start


def test_closed_reports_leave_the_inbox_but_not_the_list_of_all(three: ws.Unlocked) -> None:
    triage.set_status(three, 2, "closed", "duplicate")
    assert _nums(three) == [1, 3]
    assert _nums(three, triage.Filters(include_closed=True)) == [1, 2, 3]
    assert _nums(three, triage.Filters(statuses={"closed"})) == [2]


def test_danger_to_life_sorts_first_whatever_the_sort(three: ws.Unlocked) -> None:
    triage.set_severity(three, 1, "critical")
    triage.set_severity(three, 3, "low", danger=True)
    for sort in triage.SORTS:
        assert _nums(three, sort=sort)[0] == 3, sort
    assert _nums(three, sort="severity") == [3, 1, 2]
    assert _nums(three, triage.Filters(danger=True)) == [3]
    triage.set_severity(three, 3, "low", danger=False)
    assert _nums(three) == [1, 2, 3]


def test_filters_narrow_by_field_assignee_and_tag(three: ws.Unlocked) -> None:
    triage.set_field(three, 1, "agency", "Sindh Police")
    triage.set_field(three, 2, "district", "Karachi  South")
    triage.assign(three, 3, "demo-reviewer")
    triage.tag(three, 3, ["Kiln", "ledger"])
    assert _nums(three, triage.Filters(agency="sindh police")) == [1]
    assert _nums(three, triage.Filters(district="Karachi South")) == [2]
    assert _nums(three, triage.Filters(assignee="demo-reviewer")) == [3]
    assert _nums(three, triage.Filters(tag="kiln")) == [3]
    triage.tag(three, 3, ["kiln"], remove=True)
    assert triage.load_state(three, 3).tags == ("ledger",)
    with pytest.raises(InvalidValue):
        triage.assign(three, 1, "nobody-enrolled")


def test_links_go_both_ways(three: ws.Unlocked) -> None:
    triage.link(three, 1, 3)
    assert triage.load_state(three, 1).links == (3,)
    assert triage.load_state(three, 3).links == (1,)
    triage.link(three, 3, 1, remove=True)
    assert triage.load_state(three, 1).links == ()
    with pytest.raises(NotFound):
        triage.link(three, 1, 99)
    with pytest.raises(InvalidValue):
        triage.link(three, 1, 1)


def test_search_finds_content_and_notes(three: ws.Unlocked) -> None:
    triage.add_note(three, 2, "The munshi kept a second ledger")
    index = SearchIndex.load(three)
    assert index.search("REPORT") == [1, 2, 3]
    assert index.search("second") == [2]
    assert index.search("munshi ledger") == [2]
    assert index.search("munshi kiln") == []


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("رشوت لی", "رشوت لي"),  # Arabic yeh typed for Urdu yeh
        ("تھانہ کا ایس ایچ او", "تھانه"),  # Arabic heh typed for heh goal
        ("کراچی", "كراچی"),  # Arabic kaf typed for keheh
        ("پیسے دیے", "پَیسے"),  # a diacritic typed
        ("۲۰۲۴ میں", "2024"),  # Urdu digits
        ("The SHO", "the sho"),
        ("ﬁled", "filed"),  # compatibility ligature
    ],
)
def test_normalisation_matches_spelling_variants(written: str, typed: str) -> None:
    assert normalize(typed) in normalize(written)


def test_small_index_segments_are_merged_and_nothing_is_lost(three: ws.Unlocked) -> None:
    from review.workspace.search import MAX_SEGMENTS

    for i in range(MAX_SEGMENTS + 10):
        triage.add_note(three, 1 + i % 3, f"marker{i:03d}x noted")
    count = three.conn.execute("SELECT count(*) FROM search_segments").fetchone()[0]
    assert count <= MAX_SEGMENTS
    index = SearchIndex.load(three)
    for i in range(MAX_SEGMENTS + 10):
        assert index.search(f"marker{i:03d}x") == [1 + i % 3], i
    assert len(index.search("noted")) == 3
