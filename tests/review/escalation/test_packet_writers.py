"""What a packet tells its body about the reports' writers, and about the server's copies.

A body may leak a packet. Which of its reports one source wrote narrows that source (one
person who saw both the kiln in March and the station in April), so a packet says it only
when the reviewer asks it to, having been told which reports it will name as one writer's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from review import escalation
from review import workspace as ws
from review.errors import ReviewError
from review.escalation import packets
from review.intake.importer import import_bundle
from tests.app.support import form
from tests.review.escalation.test_escalation import _add_body
from tests.review.support import Server, Source, review

# One source's two reports: the second sent from the account the first made.
ONE_FIRST = (
    "SHO Rana Tariq came to the brick kiln in the police van LEA-4512 and took away "
    "two labourers who had asked for their wages."
)
ONE_AGAIN = (
    "A week later the same officer, SHO Rana Tariq, drove LEA-4512 back at night; "
    "the munshi paid him in an envelope beside the gate."
)
# Two witnesses who never met, each telling it in their own words.
TWO_FIRST = (
    "My cousin saw SHO Rana Tariq beating a boy outside the kiln office; the jeep "
    "LEA-4512 stood by the road the whole afternoon."
)
TWO_SECOND = (
    "Everyone in our village knows SHO Rana Tariq protects the owner. Last Friday "
    "LEA-4512 carried a family to the owner's house in Kasur."
)


def _again(source: Source, message: str) -> None:
    page = form(source.account_page(), "/account")
    source.visitor.filed(source.visitor.send(page, message))


@pytest.fixture
def filed(server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path) -> list[int]:
    """Reports 1-4: 1 and 2 by one source, 3 and 4 by two others; all in review, a body."""
    first = server.submit(ONE_FIRST)
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))
    _again(first, ONE_AGAIN)
    import_bundle(unlocked, server.export(tmp_path / "2.rzb"))
    for num, text in enumerate([TWO_FIRST, TWO_SECOND], start=3):
        server.submit(text)
        import_bundle(unlocked, server.export(tmp_path / f"{num}.rzb"))
    nums = [1, 2, 3, 4]
    for num in nums:
        assert review(workspace, "status", str(num), "in-review").exit_code == 0
    _add_body(workspace)
    return nums


def _document(
    u: ws.Unlocked,
    nums: list[int],
    summary: str = "SHO Rana Tariq and LEA-4512 at the kiln.",
    **kwargs: Any,
) -> dict[str, Any]:
    created = escalation.escalate(
        u,
        nums,
        "Anti-Trafficking Cell",
        summary=summary,
        selection=packets.Selection(),
        confirm=lambda _candidate: False,
        **kwargs,
    )
    _sealed, content = escalation.packet(u, created.escalation)
    return dict(content.document)


def test_a_packet_does_not_tell_its_body_which_reports_share_a_writer(
    filed: list[int], unlocked: ws.Unlocked
) -> None:
    # The attack: a body that leaks the packet of reports 1 and 2 lets its reader learn that
    # one person wrote both, because the packet reads differently from one of 3 and 4.
    one_writer = _document(unlocked, [1, 2])
    two_writers = _document(unlocked, [3, 4])
    assert one_writer["corroboration"], "nothing shared: the packet says nothing to compare"
    assert one_writer["corroboration"] == two_writers["corroboration"], (
        "the packet tells one writer's two reports from two writers' reports"
    )


def test_a_reviewer_who_asks_states_the_writers_and_is_told_what_that_reveals(
    filed: list[int], unlocked: ws.Unlocked
) -> None:
    created = escalation.escalate(
        unlocked,
        [1, 2, 3],
        "Anti-Trafficking Cell",
        summary="SHO Rana Tariq and LEA-4512 at the kiln.",
        selection=packets.Selection(),
        confirm=lambda _candidate: False,
        writers=True,
    )
    _sealed, content = escalation.packet(unlocked, created.escalation)
    (van,) = [e for e in content.document["corroboration"] if e["kind"] == "vehicle"]
    assert van["reports"] == ["Report 1", "Report 2", "Report 3"]
    assert van["sources"] == 2
    said = " ".join(created.warnings)
    assert "Report 1 and Report 2 are one writer's" in said
    assert "Report 3" not in said


def test_the_command_states_writers_only_with_its_flag(
    filed: list[int], workspace: Path, tmp_path: Path
) -> None:
    args = ["escalate", "1", "2", "--to", "1", "--summary", "The kiln.", "--keep", "Rana Tariq"]
    args += ["--keep", "LEA-4512"]
    plain = review(workspace, *args)
    assert plain.exit_code == 0, plain.output
    assert "one writer" not in plain.output
    told = review(workspace, *args, "--say-writers")
    assert told.exit_code == 0, told.output
    assert "Report 1 and Report 2 are one writer's" in " ".join(told.output.split())


def test_a_packet_dates_its_reports_by_the_month_not_the_day(
    filed: list[int], unlocked: ws.Unlocked
) -> None:
    # The attack: the server keeps the day each envelope arrived, and whose account sent
    # it; a packet giving the day points a seizer of the server at the source's account
    # (and at every other report it sent), where the month points at a month's arrivals.
    document = _document(unlocked, [1, 3])
    dates = [r["received"] for r in document["reports"]]
    dates += [e[k] for e in document["corroboration"] for k in ("first", "last")]
    assert dates
    assert all(re.fullmatch(r"\d{4}-\d{2}", d) for d in dates), dates


def test_a_summary_naming_reports_by_their_numbers_here_is_refused(
    filed: list[int], unlocked: ws.Unlocked
) -> None:
    # The attack: the reviewer writes the summary as the command line reads, "reports 3
    # and 4"; the packet calls them Report 1 and Report 2, but carried the workspace's
    # numbers, which follow the order reports came in and are the same in every packet,
    # so two bodies' leaked packets are matched by them.
    said = "Reports 3 and 4 both name SHO Rana Tariq and LEA-4512."
    with pytest.raises(ReviewError, match="report 3, report 4") as refused:
        _document(unlocked, [3, 4], summary=said)
    assert "Report 1" in (refused.value.hint or "")
    assert escalation.list_escalations(unlocked) == []
    labelled = _document(unlocked, [3, 4], summary="Report 1 and Report 2 name LEA-4512.")
    assert labelled["summary"] == "Report 1 and Report 2 name LEA-4512."
