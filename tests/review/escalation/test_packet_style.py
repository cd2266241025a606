"""A source's own hand in the words a packet carries: what the tool can point out.

The accused, reading a leaked packet, know their insiders' ways of writing: one
stretches words ("sooo"), one ends with "!!!", one puts a space before a comma.
The redaction leaves them (they are what a reader sees, and rewording is the
reviewer's), and REVIEW.md says to paraphrase; the tool should at least say where
such marks are, without claiming to find every one (a spelling of the writer's own,
a turn of phrase, it cannot).
"""

from __future__ import annotations

from pathlib import Path

from review import escalation
from review import workspace as ws
from review.escalation import packets
from review.escalation.style import marks
from review.intake.importer import import_bundle
from tests.review.escalation.test_escalation import _add_body
from tests.review.support import Server, review

MARKED = (
    "The SHO came sooo late , and the munshi paid him at the kiln gate!!! Nobody stopped them....."
)
PLAIN = "The SHO came late, and the munshi paid him at the kiln gate. Nobody stopped them..."


def test_a_packet_of_a_report_in_its_writers_hand_says_so(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    """Before: the report went into the packet, "sooo", "!!!", "....." and " ," as written,
    with no word to the reviewer (0 warnings)."""
    server.submit(MARKED)
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))
    assert review(workspace, "status", "1", "in-review").exit_code == 0
    _add_body(workspace)
    created = escalation.escalate(
        unlocked,
        [1],
        "Anti-Trafficking Cell",
        summary="Payments at the kiln gate.",
        selection=packets.Selection(),
        confirm=lambda _candidate: False,
    )
    said = [w for w in created.warnings if "hand" in w]
    assert len(said) == 1, f"the reviewer is told of the writer's marks by: {created.warnings}"
    (warning,) = said
    assert warning.startswith("Report 1's words")
    for kind in ("a letter repeated", "punctuation repeated", "a space before punctuation"):
        assert kind in warning, warning
    assert "sooo" not in warning, "the warning quotes the report into the scrollback"


def test_the_marks_are_counted_in_urdu_too_and_ordinary_writing_has_none() -> None:
    assert marks("ایس ایچ او نے پیسے لیے!!! بہت دیر ہو گئی۔۔۔۔") == {
        "punctuation repeated (as in “!!”, “؟؟” or “....”)": 2
    }
    assert marks("آپ کہاں ہیں؟ SHO Rana Tariq, FIA, 1000 rupees... Allah, jee.") == {}
    assert marks("Please help 🙏🙏") == {"emoji or other pictographs (as in “🙏”)": 2}
    assert marks(PLAIN) == {}
