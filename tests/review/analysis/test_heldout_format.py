"""The held-out entity corpora are well-formed: spans where they are listed, ids fit to their kind.

Format only: nothing here runs or scores the extractor. The checker is loaded from
its path because the corpus package's ``__init__`` imports the extractor, and a
format check should not need it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

CORPUS_DIR = Path(__file__).parents[1] / "corpus"


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_heldout_checker", CORPUS_DIR / "check_heldout.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


checker = _load_checker()
REPORT = "=== H01 en\nSHO Rana Tariq of Thana Saddar Kasur, 0300-1234567.\n---\n"


@pytest.mark.parametrize("path", checker.CHECKED, ids=lambda p: p.name)
def test_corpus_parses_and_checks_clean(path: Path) -> None:
    reports, errors = checker.parse(path)
    assert errors + checker.check(reports) == []
    assert checker.unlisted(reports) == []


# The corpora written blind to a plan (18 English, 18 Urdu, 12 Roman Urdu; every kind;
# over a hundred linked report pairs; near misses; both digit sets in Urdu): heldout2.txt,
# heldout3.txt, heldout6.txt, heldout8.txt, heldout9.txt, heldout11.txt, heldout12.txt,
# heldout13.txt, heldout15.txt to heldout17.txt, heldout19.txt to heldout21.txt,
# heldout23.txt to heldout27.txt, heldout29.txt, heldout31.txt, heldout33.txt,
# heldout35.txt, heldout37.txt, heldout39.txt, heldout40.txt (held out to session 20),
# heldout41.txt, heldout43.txt, heldout44.txt, heldout45.txt, heldout47.txt,
# heldout48.txt, heldout50.txt, heldout51.txt, heldout52.txt (held out to session 21),
# heldout53.txt to heldout62.txt, heldout64.txt to heldout66.txt, heldout68.txt to
# heldout71.txt, development sets now, and heldout4.txt, heldout5.txt, heldout7.txt,
# heldout10.txt, heldout14.txt, heldout18.txt, heldout22.txt, heldout28.txt, heldout30.txt,
# heldout32.txt, heldout34.txt, heldout36.txt, heldout38.txt, heldout42.txt, heldout46.txt,
# heldout49.txt, heldout63.txt and heldout67.txt, the held-out corpora, each written blind
# after the one before.
WRITTEN_TO_PLAN = (
    checker.HELDOUT2,
    checker.HELDOUT3,
    checker.HELDOUT4,
    checker.HELDOUT5,
    checker.HELDOUT6,
    checker.HELDOUT7,
    checker.HELDOUT8,
    checker.HELDOUT9,
    checker.HELDOUT10,
    checker.HELDOUT11,
    checker.HELDOUT12,
    checker.HELDOUT13,
    checker.HELDOUT14,
    checker.HELDOUT15,
    checker.HELDOUT16,
    checker.HELDOUT17,
    checker.HELDOUT18,
    checker.HELDOUT19,
    checker.HELDOUT20,
    checker.HELDOUT21,
    checker.HELDOUT22,
    checker.HELDOUT23,
    checker.HELDOUT24,
    checker.HELDOUT25,
    checker.HELDOUT26,
    checker.HELDOUT27,
    checker.HELDOUT28,
    checker.HELDOUT29,
    checker.HELDOUT30,
    checker.HELDOUT31,
    checker.HELDOUT32,
    checker.HELDOUT33,
    checker.HELDOUT34,
    checker.HELDOUT35,
    checker.HELDOUT36,
    checker.HELDOUT37,
    checker.HELDOUT38,
    checker.HELDOUT39,
    checker.HELDOUT40,
    checker.HELDOUT41,
    checker.HELDOUT42,
    checker.HELDOUT43,
    checker.HELDOUT44,
    checker.HELDOUT45,
    checker.HELDOUT46,
    checker.HELDOUT47,
    checker.HELDOUT48,
    checker.HELDOUT49,
    checker.HELDOUT50,
    checker.HELDOUT51,
    checker.HELDOUT52,
    checker.HELDOUT53,
    checker.HELDOUT54,
    checker.HELDOUT55,
    checker.HELDOUT56,
    checker.HELDOUT57,
    checker.HELDOUT58,
    checker.HELDOUT59,
    checker.HELDOUT60,
    checker.HELDOUT61,
    checker.HELDOUT62,
    checker.HELDOUT63,
    checker.HELDOUT64,
    checker.HELDOUT65,
    checker.HELDOUT66,
    checker.HELDOUT67,
    checker.HELDOUT68,
    checker.HELDOUT69,
    checker.HELDOUT70,
    checker.HELDOUT71,
)
to_plan = pytest.mark.parametrize("path", WRITTEN_TO_PLAN, ids=lambda p: p.name)


def test_every_corpus_is_checked_by_default() -> None:
    assert checker.HELDOUT4.name == "heldout4.txt"
    assert checker.HELDOUT5.name == "heldout5.txt"
    assert set(checker.CHECKED) == {checker.CORPUS, *WRITTEN_TO_PLAN}


def test_every_held_out_corpus_is_scored() -> None:
    held_out = {
        checker.HELDOUT4,
        checker.HELDOUT5,
        checker.HELDOUT7,
        checker.HELDOUT10,
        checker.HELDOUT14,
        checker.HELDOUT18,
        checker.HELDOUT22,
        checker.HELDOUT28,
        checker.HELDOUT30,
        checker.HELDOUT32,
        checker.HELDOUT34,
        checker.HELDOUT36,
        checker.HELDOUT38,
        checker.HELDOUT42,
        checker.HELDOUT46,
        checker.HELDOUT49,
        checker.HELDOUT63,
        checker.HELDOUT67,
    }
    assert held_out <= set(checker.CORPORA)


@to_plan
def test_covers_the_three_registers(path: Path) -> None:
    reports, _ = checker.parse(path)
    languages = [report.lang for report in reports]
    assert len(reports) >= 48
    counts = (languages.count("en"), languages.count("ur"), languages.count("ru"))
    assert counts >= ((16, 16, 16) if path in EVEN else (18, 18, 12))
    assert all(report.mentions for report in reports)


# Written to a narrower brief (men of one full name at one station), which asked for no
# count of each kind: every kind is there, CNICs only four times.
NARROW = (checker.HELDOUT60,)
# Written to heldout40.txt's brief as HELDOUT.md gives it (a region, no example names),
# without the plan's asks for near misses and both digit sets: it has what its writer gave.
UNPLANNED = (checker.HELDOUT61,)
# Written to a brief of police officers by rank (a promotion, an SHO under four names, men
# of one name and two ranks, or of one station and two years), which asked for no station
# near misses: it has two ("Thana Saddar" of two towns).
RANKED = (checker.HELDOUT62,)
# Written to a brief of reports naming two stations, asked for as many Roman Urdu reports
# as English and Urdu (16 each), where a station's grammar is loosest.
EVEN = (checker.HELDOUT66,)


@to_plan
def test_annotates_every_kind(path: Path) -> None:
    reports, _ = checker.parse(path)
    kinds = [kind for report in reports for kind, _, _ in report.mentions]
    least = 1 if path in NARROW else 5
    assert {kind: kinds.count(kind) >= least for kind in checker.PREFIXES} == dict.fromkeys(
        checker.PREFIXES, True
    )


@to_plan
def test_links_over_a_hundred_report_pairs(path: Path) -> None:
    reports, _ = checker.parse(path)
    assert len(checker.linked_pairs(reports)) >= 100
    assert len(checker.linked_pairs(reports, ("P",))) >= 50
    assert len(checker.linked_pairs(reports, ("S",))) >= 20


@to_plan
def test_holds_near_misses_that_must_not_link(path: Path) -> None:
    reports, _ = checker.parse(path)
    assert len(checker.shared_names(reports, "person")) >= (2 if path in UNPLANNED else 5)
    assert len(checker.shared_names(reports, "police_station")) >= (2 if path in RANKED else 3)


@to_plan
def test_urdu_uses_both_digit_sets(path: Path) -> None:
    reports, _ = checker.parse(path)
    urdu = [report.text for report in reports if report.lang == "ur"]
    if path not in UNPLANNED:
        assert any(any("\u06f0" <= ch <= "\u06f9" for ch in text) for text in urdu)  # Urdu
    assert any(any("0" <= ch <= "9" for ch in text) for text in urdu)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (REPORT + "person: Rana Tariq => P-rana-tariq\nperson: Rana Tahir => P-x\n", "not in"),
        (REPORT + "district: Kasur => D-kasur\nperson: Rana Tariq => P-rana-tariq\n", "out of"),
        (REPORT + "person: Rana Tariq => D-kasur\n", "not a well-formed person id"),
        (REPORT + "place: Kasur => D-kasur\n", "unknown kind"),
        (REPORT + "phone: 0300-1234567 => T-+923001234568\n", "does not match"),
        (REPORT + "phone: 0300-1234567 => T-923001234567\n", "not a well-formed phone id"),
        (REPORT + "police_station: Thana Saddar => S-Saddar-kasur\n", "not a well-formed"),
        (REPORT + "date: 0300 => DT-24\n", "not a well-formed date id"),
        ("=== H01 en\nText.\n---\n=== H01 en\nText.\n---\n", "duplicate report id"),
        ("=== H01 xx\nText.\n---\n", "unknown language"),
        ("=== H01 en\nText with no separator.\n", "no '---'"),
        ("stray line\n=== H01 en\nText.\n---\n", "text before the first report"),
        ("=== H01 en\nText.\n---\nperson Text\n", "not 'kind: text => ID'"),
    ],
)
def test_checker_refuses_bad_input(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text(text, "utf-8")
    reports, errors = checker.parse(path)
    assert any(problem in error for error in errors + checker.check(reports))


def test_checker_warns_about_an_unlisted_repeat(tmp_path: Path) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text("=== H01 en\nKasur and Kasur again.\n---\ndistrict: Kasur => D-kasur\n")
    reports, _ = checker.parse(path)
    assert checker.unlisted(reports) == ["H01: 'Kasur' occurs 2x, listed 1x"]


def test_a_short_form_listed_after_a_long_one_is_placed_after_it() -> None:
    text = "Haji Bashir Ahmad came; Haji Bashir left."
    assert checker.place(text, ["Haji Bashir Ahmad", "Haji Bashir"]) == [0, 24]
    assert checker.place(text, ["left", "came"]) == [36, -1]


@pytest.mark.parametrize(
    ("written", "ident"),
    [
        ("0301-4478120", "T-+923014478120"),
        ("+92 312 7765401", "T-+923127765401"),
        ("۰۳۰۱۴۴۷۸۱۲۰", "T-+923014478120"),
        ("(081) 282 4416", "T-+92812824416"),
        ("۰۶۸-۵۸۸۴۴۱۲", "T-+92685884412"),
        ("+218 91 447 2310", "T-+218914472310"),
        ("+971503184402", "T-+971503184402"),
        ("0044 20 7946 0321", "T-+442079460321"),
    ],
)
def test_phone_ids_are_e164(written: str, ident: str) -> None:
    assert checker.phone_id(written) == ident
