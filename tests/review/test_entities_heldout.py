"""Entity extraction on the held-out corpus, written apart from the rules and never tuned on.

The corpus is `tests/review/corpus/heldout.txt` (`RAAZDAR_HELDOUT` names another
file). Only aggregate figures are printed. The floors are what the extractor
honestly reached when it was first measured (issue 18's targets in comments);
they guard against regressions, they were not reached by tuning on this corpus.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from review.analysis.entities import Entity, extract
from tests.review.corpus import heldout

HELDOUT = Path(os.environ.get("RAAZDAR_HELDOUT") or Path(heldout.__file__).with_name("heldout.txt"))

# Measured once, on the 48-report held-out corpus, after the extractor was frozen
# (2026-12-02): P 0.907, R 0.870, F1 0.888; person P 0.777, R 0.740, F1 0.758; links
# made 363 of 448 (81.0 %); false links 88 (person 85, police_station 3) by key alone.
# Of those, the review tool counts 22 (person) as corroboration: the same name in two
# reports that share a district or station (`review.analysis.links.pair_strength`); the other 66
# it shows as weak, counted only once a reviewer confirms them. Issue 18's targets are
# F1 0.90, person F1 0.85, links 85 % and no false link: not reached. The floors are
# the honest figures rounded down, so a regression fails; raise them as the extractor
# and the link strength improve (never tuned on this corpus).
FLOOR_F1 = 0.88
FLOOR_PERSON_F1 = 0.75
FLOOR_LINKS = 0.81
MOST_FALSE_LINKS = 22  # counted as corroboration
MOST_WEAK_FALSE_LINKS = 66


def test_heldout_corpus_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert HELDOUT.is_file(), f"the held-out corpus is missing: {HELDOUT}"
    reports = heldout.load(HELDOUT)
    assert len(reports) >= 40
    figures = heldout.score(reports, extract)
    with capsys.disabled():
        print(f"\nentity extraction on the held-out corpus\n{figures.table()}")
    assert figures.f1() >= FLOOR_F1
    assert figures.f1("person") >= FLOOR_PERSON_F1
    assert figures.link_share() >= FLOOR_LINKS
    assert sum(figures.false_links.values()) <= MOST_FALSE_LINKS
    assert sum(figures.weak_false_links.values()) <= MOST_WEAK_FALSE_LINKS


_MINI = """=== A en
SHO Rana Tariq of Thana Saddar, Kasur, took money on 2 March 2024.
---
person: Rana Tariq => P1
police_station: Thana Saddar => S1
district: Kasur => D1
date: 2 March 2024 => DT-1

=== B ur
ایس ایچ او رانا طارق قصور میں ہے اور منشی اسلم بھی۔
---
person: رانا طارق => P1
district: قصور => D1
person: اسلم => P9
person: Nobody Here => P8
organisation: Punjab => O1

=== C en
Aslam came. Aslam left.
---
person: Aslam => P2
person: Aslam => P2
"""


def test_the_scorer_counts_mentions_links_and_false_links(tmp_path: Path) -> None:
    path = tmp_path / "mini.txt"
    path.write_text(_MINI, "utf-8")
    reports = heldout.load(path)
    assert [len(r.gold) for r in reports] == [4, 3, 2]
    assert [r.unplaced for r in reports] == [0, 1, 0]
    assert [r.other for r in reports] == [0, 1, 0]
    c_text = reports[2].text
    assert [(g.start, g.end) for g in reports[2].gold] == [(0, 5), (12, 17)]  # first free ones

    def fake(text: str) -> list[Entity]:
        if text.startswith("SHO"):
            return [
                Entity("person", "Rana Tariq", "rana tariq", 4, 14),
                Entity("police_station", "Thana Saddar", "saddar/kasur", 18, 30),
                Entity("district", "Kasur", "kasur", 32, 37),
                Entity("vehicle", "March", "X", 48, 53),  # a false positive
            ]
        if text == c_text:
            return [Entity("person", "Aslam", "aslam", 0, 5)]  # one of two found
        start = text.index("اسلم")
        return [
            Entity("person", "رانا طارق", "rana tariq", 11, 20),
            Entity("person", "اسلم", "aslam", start, start + 4),
        ]

    figures = heldout.score(reports, fake)
    assert (figures.tp["person"], figures.fp["person"], figures.fn["person"]) == (4, 0, 1)
    assert (figures.tp["vehicle"], figures.fp["vehicle"], figures.fn["date"]) == (0, 1, 1)
    assert figures.fn["district"] == 1  # قصور in B was not found
    # A-B share P1 and D1; made: P1 only (B's district was not found).
    assert (figures.expected_links, figures.made_links) == (2, 1)
    # "aslam" joins B's P9 and C's P2: different people under one key. The two reports
    # share no place, so the review tool shows that link as weak: not counted.
    assert figures.false_links == {}
    assert figures.weak_false_links == {"person": 1}
    assert 0 < figures.f1() < 1
    assert "aslam" not in figures.table().lower()  # aggregates only
