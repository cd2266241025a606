"""A reference number that tells who the source is (her FIR's, her account's) is offered.

The attack (left by session 39): thirteen digits an FIR's or an account's word names were
no longer read as a CNIC, rightly, and so were no entity at all: building a packet never
asked about them, and a source's own bank account number went to the oversight body as
she wrote it. It is a reference number now, offered for redaction as one.
"""

from __future__ import annotations

from pathlib import Path

from review import escalation
from review import workspace as ws
from review.escalation import packets
from review.escalation.redaction import Candidate
from review.intake.importer import import_bundle
from tests.review.escalation.test_escalation import _add_body
from tests.review.support import Server, review

OWN = (
    "The agent took my son to Libya. I sent Rs 200,000 to him from my own account number"
    " 35202-1234567-1 at HBL Kasur, and our FIR No. 4110198765432 is at Thana Saddar."
)


def _escalated(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path, words: str
) -> tuple[list[Candidate], str]:
    """A source's report of `words`, escalated with every reference number redacted; what
    the packet asked about, and the report's text as it went out."""
    server.submit(words)
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))
    assert review(workspace, "status", "1", "in-review").exit_code == 0
    _add_body(workspace)
    asked: list[Candidate] = []

    def confirm(candidate: Candidate) -> bool:
        asked.append(candidate)
        return candidate.kind == "reference"

    created = escalation.escalate(
        unlocked,
        [1],
        "Anti-Trafficking Cell",
        summary="Money sent to the agent.",
        selection=packets.Selection(),
        confirm=confirm,
    )
    _sealed, content = escalation.packet(unlocked, created.escalation)
    return asked, content.document["reports"][0]["text"]


def test_a_packet_asks_about_a_reference_number_and_redacts_it(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    asked, text = _escalated(server, workspace, unlocked, tmp_path, OWN)
    assert {(c.kind, c.key) for c in asked if c.kind == "reference"} == {
        ("reference", "3520212345671"),
        ("reference", "4110198765432"),
    }, asked
    assert "1234567" not in text, text
    assert "98765432" not in text, text
    assert "Reference number 1" in text, text


# Left by session 40's first round: only thirteen digits became a reference number. An FIR's
# number as a station writes it, a challan's, an account's of another length, an IBAN, a
# passport's, a parcel's were no entity at all, and went into the packet unasked.
OWN_NUMBERS = (
    "My son's FIR No. 245/2024 at Thana Saddar Kasur was never sent to court; my own FIR"
    " number 113 of 2023 was torn up. The case no. 77/23 was filed against us instead, and"
    " challan # 4471 was written in my name. I sent the agent Rs 200,000 from account"
    " number 00271003456789012 at HBL; his IBAN is PK36SCBL0000001123456702 and his other is"
    " PK24 MEZN 0001 2345 6789 0123. My passport no. AB1234567 is with him, and the parcel's"
    " tracking number RGL123456789PK came back. ایف آئی آر نمبر ۳۴۵/۲۰۲۴ بھی ہماری ہے۔"
)
OWN_KEYS = {
    "245/2024",
    "113/2023",
    "77/23",
    "4471",
    "00271003456789012",
    "PK36SCBL0000001123456702",
    "PK24MEZN0001234567890123",
    "AB1234567",
    "RGL123456789PK",
    "345/2024",
}


def test_a_packet_asks_about_every_shape_of_reference_number_and_redacts_it(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    asked, text = _escalated(server, workspace, unlocked, tmp_path, OWN_NUMBERS)
    assert {c.key for c in asked if c.kind == "reference"} == OWN_KEYS, asked
    for written in ("245/2024", "113 of", "77/23", "4471", "3456789012", "1123456702", "0123"):
        assert written not in text, (written, text)
    for written in ("AB1234567", "RGL123456789PK", "۳۴۵"):
        assert written not in text, (written, text)
    assert "Reference number 10" in text, text
    # the sum is no reference
    assert "Rs 200,000" in text, text
