"""A number in Urdu text is drawn as its writer wrote it, its groups never swapped.

The Unicode bidi algorithm makes digits after Urdu letters Arabic numbers, and a
hyphen, a plus or a space between two of them a neutral that takes the Urdu's
direction: "0300-1234567" is drawn "1234567-0300", "+92 300 1234567" as
"1234567 300 92+". A reviewer copying a victim's or an officer's number from the
screen would copy another person's. Visual order keeps such a run whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review import bidi
from tests.review.support import Server, review

PHONE = "0300-1234567"
INTERNATIONAL = "+92 300 1234567"
CNIC = "35202-1234567-1"
REPORT = f"ایس ایچ او کا نمبر {PHONE} ہے، منشی کا {INTERNATIONAL} اور شناختی کارڈ {CNIC} ہے"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"نمبر {PHONE}", f"{PHONE} ربمن"),
        (f"نمبر {INTERNATIONAL} ہے", f"ےہ {INTERNATIONAL} ربمن"),
        (f"کارڈ {CNIC}", f"{CNIC} ڈراک"),
        (f"call احمد on {PHONE} today", f"call دمحا on {PHONE} today"),
        ("رقم ۰۳۰۰-۱۲۳۴۵۶۷ ہے", "ےہ ۰۳۰۰-۱۲۳۴۵۶۷ مقر"),  # Urdu digits too
        ("سال 2019 سے", "ےس 2019 لاس"),  # a lone number, as before
        ("ایک - دو", "ود - کیا"),  # a hyphen between words is no number's
    ],
)
def test_a_number_after_urdu_is_drawn_as_written(text: str, shown: str) -> None:
    assert bidi.visual(text) == shown


def test_show_draws_the_numbers_of_an_urdu_report_as_the_source_wrote_them(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit(REPORT)
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    shown = review(workspace, "show", "1", "--rtl", "visual")
    assert shown.exit_code == 0, shown.output
    for number in (PHONE, INTERNATIONAL, CNIC):
        assert number in shown.output
