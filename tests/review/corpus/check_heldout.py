"""Check the held-out entity corpora are well-formed and print their counts."""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

CORPUS = Path(__file__).with_name("heldout.txt")  # a development set: seen and scored
HELDOUT2 = Path(__file__).with_name("heldout2.txt")  # a development set: seen and scored
HELDOUT3 = Path(__file__).with_name("heldout3.txt")  # a development set since session 7
HELDOUT4 = Path(__file__).with_name("heldout4.txt")  # the current held-out set
HELDOUT5 = Path(__file__).with_name("heldout5.txt")  # held out too, written blind after it
HELDOUT6 = Path(__file__).with_name("heldout6.txt")  # scored once blind, then a development set
HELDOUT7 = Path(__file__).with_name("heldout7.txt")  # held out, written blind in session 8
HELDOUT8 = Path(__file__).with_name("heldout8.txt")  # scored once blind, then a development set
HELDOUT9 = Path(__file__).with_name("heldout9.txt")  # scored once blind, then a development set
HELDOUT10 = Path(__file__).with_name("heldout10.txt")  # held out, written blind in session 9
HELDOUT11 = Path(__file__).with_name("heldout11.txt")  # scored once blind, then a development set
HELDOUT12 = Path(__file__).with_name("heldout12.txt")  # scored twice blind, then a development set
HELDOUT13 = Path(__file__).with_name("heldout13.txt")  # scored once blind, then a development set
HELDOUT14 = Path(__file__).with_name("heldout14.txt")  # held out, written blind in session 10
HELDOUT15 = Path(__file__).with_name("heldout15.txt")  # scored twice blind, then a development set
HELDOUT16 = Path(__file__).with_name("heldout16.txt")  # scored twice blind, then a development set
HELDOUT17 = Path(__file__).with_name("heldout17.txt")  # scored once blind, then a development set
HELDOUT18 = Path(__file__).with_name("heldout18.txt")  # held out, written blind in session 11
HELDOUT19 = Path(__file__).with_name("heldout19.txt")  # scored once blind, then a development set
HELDOUT20 = Path(__file__).with_name("heldout20.txt")  # scored once blind, then a development set
HELDOUT21 = Path(__file__).with_name("heldout21.txt")  # scored once blind, then a development set
HELDOUT22 = Path(__file__).with_name("heldout22.txt")  # held out, written blind in session 11
HELDOUT23 = Path(__file__).with_name("heldout23.txt")  # scored once blind, then a development set
HELDOUT24 = Path(__file__).with_name("heldout24.txt")  # scored once blind, then a development set
HELDOUT25 = Path(__file__).with_name("heldout25.txt")  # scored once blind, then a development set
HELDOUT26 = Path(__file__).with_name("heldout26.txt")  # scored once blind, then a development set
HELDOUT27 = Path(__file__).with_name("heldout27.txt")  # scored once blind, then a development set
HELDOUT28 = Path(__file__).with_name("heldout28.txt")  # held out, written blind in session 12
HELDOUT29 = Path(__file__).with_name("heldout29.txt")  # scored once blind, then a development set
HELDOUT30 = Path(__file__).with_name("heldout30.txt")  # held out, written blind in session 12
HELDOUT31 = Path(__file__).with_name("heldout31.txt")  # scored once blind, then a development set
HELDOUT32 = Path(__file__).with_name("heldout32.txt")  # held out, written blind in session 12
HELDOUT33 = Path(__file__).with_name("heldout33.txt")  # scored once blind, then a development set
HELDOUT34 = Path(__file__).with_name("heldout34.txt")  # held out, written blind in session 12
HELDOUT35 = Path(__file__).with_name("heldout35.txt")  # scored once blind, then a development set
HELDOUT36 = Path(__file__).with_name("heldout36.txt")  # held out, written blind in session 13
HELDOUT37 = Path(__file__).with_name("heldout37.txt")  # scored once blind, then a development set
HELDOUT38 = Path(__file__).with_name("heldout38.txt")  # held out, written blind in session 13
HELDOUT39 = Path(__file__).with_name("heldout39.txt")  # scored once blind, then a development set
HELDOUT40 = Path(__file__).with_name("heldout40.txt")  # held out to session 20, then development
HELDOUT41 = Path(__file__).with_name("heldout41.txt")  # scored once blind, then a development set
HELDOUT42 = Path(__file__).with_name("heldout42.txt")  # held out, written blind in session 13
HELDOUT43 = Path(__file__).with_name("heldout43.txt")  # scored once blind, then a development set
HELDOUT44 = Path(__file__).with_name("heldout44.txt")  # scored once blind, then a development set
HELDOUT45 = Path(__file__).with_name("heldout45.txt")  # scored once blind, then a development set
HELDOUT46 = Path(__file__).with_name("heldout46.txt")  # held out, written blind in session 14
HELDOUT47 = Path(__file__).with_name("heldout47.txt")  # scored once blind, then a development set
HELDOUT48 = Path(__file__).with_name("heldout48.txt")  # scored once blind, then a development set
HELDOUT49 = Path(__file__).with_name("heldout49.txt")  # held out, written blind in session 15
HELDOUT50 = Path(__file__).with_name("heldout50.txt")  # scored once blind, then a development set
HELDOUT51 = Path(__file__).with_name("heldout51.txt")  # scored once blind, then a development set
HELDOUT52 = Path(__file__).with_name("heldout52.txt")  # held out to session 21, then development
HELDOUT53 = Path(__file__).with_name("heldout53.txt")  # scored once blind, then a development set
HELDOUT54 = Path(__file__).with_name("heldout54.txt")  # scored once blind, then a development set
HELDOUT55 = Path(__file__).with_name("heldout55.txt")  # scored once blind, then a development set
HELDOUT56 = Path(__file__).with_name("heldout56.txt")  # scored once blind, then a development set
HELDOUT57 = Path(__file__).with_name("heldout57.txt")  # scored once blind, then a development set
HELDOUT58 = Path(__file__).with_name("heldout58.txt")  # scored once blind, then a development set
HELDOUT59 = Path(__file__).with_name("heldout59.txt")  # scored once blind, then a development set
HELDOUT60 = Path(__file__).with_name("heldout60.txt")  # scored once blind, then a development set
HELDOUT61 = Path(__file__).with_name("heldout61.txt")  # scored once blind, then a development set
HELDOUT62 = Path(__file__).with_name("heldout62.txt")  # scored once blind, then a development set
HELDOUT63 = Path(__file__).with_name("heldout63.txt")  # held out, written blind in session 20
HELDOUT64 = Path(__file__).with_name("heldout64.txt")  # scored once blind, then a development set
HELDOUT65 = Path(__file__).with_name("heldout65.txt")  # scored once blind, then a development set
HELDOUT66 = Path(__file__).with_name("heldout66.txt")  # scored once blind, then a development set
HELDOUT67 = Path(__file__).with_name("heldout67.txt")  # held out, written blind in session 21
HELDOUT68 = Path(__file__).with_name("heldout68.txt")  # scored once blind, then a development set
HELDOUT69 = Path(__file__).with_name("heldout69.txt")  # scored once blind, then a development set
HELDOUT70 = Path(__file__).with_name("heldout70.txt")  # scored once blind, then a development set
HELDOUT71 = Path(__file__).with_name("heldout71.txt")  # scored once blind, then a development set
CORPORA = (
    CORPUS,
    HELDOUT2,
    HELDOUT3,
    HELDOUT4,
    HELDOUT5,
    HELDOUT6,
    HELDOUT7,
    HELDOUT8,
    HELDOUT9,
    HELDOUT10,
    HELDOUT11,
    HELDOUT12,
    HELDOUT13,
    HELDOUT14,
    HELDOUT15,
    HELDOUT16,
    HELDOUT17,
    HELDOUT18,
    HELDOUT19,
    HELDOUT20,
    HELDOUT21,
    HELDOUT22,
    HELDOUT23,
    HELDOUT24,
    HELDOUT25,
    HELDOUT26,
    HELDOUT27,
    HELDOUT28,
    HELDOUT29,
    HELDOUT30,
    HELDOUT31,
    HELDOUT32,
    HELDOUT33,
    HELDOUT34,
    HELDOUT35,
    HELDOUT36,
    HELDOUT37,
    HELDOUT38,
    HELDOUT39,
    HELDOUT40,
    HELDOUT41,
    HELDOUT42,
    HELDOUT43,
    HELDOUT44,
    HELDOUT45,
    HELDOUT46,
    HELDOUT47,
    HELDOUT48,
    HELDOUT49,
    HELDOUT50,
    HELDOUT51,
    HELDOUT52,
    HELDOUT53,
    HELDOUT54,
    HELDOUT55,
    HELDOUT56,
    HELDOUT57,
    HELDOUT58,
    HELDOUT59,
    HELDOUT60,
    HELDOUT61,
    HELDOUT62,
    HELDOUT63,
    HELDOUT64,
    HELDOUT65,
    HELDOUT66,
    HELDOUT67,
    HELDOUT68,
    HELDOUT69,
    HELDOUT70,
    HELDOUT71,
)
CHECKED = CORPORA  # what main() checks when no file is named
LANGUAGES = ("en", "ur", "ru")
PREFIXES = {
    "person": r"P-[a-z0-9]+(?:-[a-z0-9]+)*",
    "police_station": r"S-[a-z0-9]+(?:-[a-z0-9]+)*",
    "district": r"D-[a-z0-9]+(?:-[a-z0-9]+)*",
    "agency": r"A-[a-z0-9]+(?:-[a-z0-9]+)*",
    "cnic": r"C-\d{13}",
    "phone": r"T-\+(?:92\d{9,10}|(?!92)[1-9]\d{7,13})",  # +92 national, or foreign E.164
    "vehicle": r"V-[a-z0-9]+(?:-[a-z0-9]+)*",
    "date": r"DT-\d{4}(?:-\d{2}(?:-\d{2})?)?",
}
HEADER = re.compile(r"^=== (H\d{2,3}) (\w+)$")
LINE = re.compile(r"^(\w+): (.+?) => (\S+)$")
URDU_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


@dataclass
class Report:
    """One report: its id, language, text and annotated mentions."""

    rid: str
    lang: str
    text: str = ""
    mentions: list[tuple[str, str, str]] = field(default_factory=list)


def digits(text: str) -> str:
    """Return the ASCII digits of ``text``, Urdu digits included."""
    return "".join(ch for ch in text.translate(URDU_DIGITS) if ch.isdigit())


def phone_id(text: str) -> str:
    """Return the id a phone number as written must get: ``T-+`` and its E.164 digits."""
    number = digits(text)
    if text.lstrip().startswith("+"):
        return f"T-+{number}"
    if number.startswith("00"):
        return f"T-+{number[2:]}"
    national = number[2:] if number.startswith("92") else number[1:]
    return f"T-+92{national}"


def parse(path: Path) -> tuple[list[Report], list[str]]:
    """Parse the corpus, returning reports and format errors."""
    reports: list[Report] = []
    errors: list[str] = []
    in_text = False
    body: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.rstrip()
        header = HEADER.match(line)
        if header:
            if reports and in_text:
                errors.append(f"line {number}: previous report has no '---'")
            reports.append(Report(header.group(1), header.group(2)))
            in_text, body = True, []
            continue
        if not reports:
            if line and not line.startswith("#"):
                errors.append(f"line {number}: text before the first report")
            continue
        if in_text:
            if line == "---":
                reports[-1].text = "\n".join(body).strip()
                in_text = False
            else:
                body.append(line)
            continue
        if not line:
            continue
        match = LINE.match(line)
        if not match:
            errors.append(f"line {number}: not 'kind: text => ID': {line!r}")
            continue
        reports[-1].mentions.append((match.group(1), match.group(2), match.group(3)))
    if reports and in_text:
        errors.append("last report has no '---'")
    return reports, errors


def place(text: str, written: Sequence[str]) -> list[int]:
    """Return where each listed text starts, each after the one before it; -1 if not there.

    Mentions are listed in order of appearance, so a short form listed after a longer
    one that contains it ("Haji Bashir" after "Haji Bashir Ahmad") is found after it,
    not inside it.
    """
    starts, cursor = [], 0
    for span in written:
        at = text.find(span, cursor)
        starts.append(at)
        if at >= 0:
            cursor = at + len(span)
    return starts


def check(reports: list[Report]) -> list[str]:
    """Return every problem found in the parsed reports."""
    errors: list[str] = []
    seen: set[str] = set()
    for report in reports:
        where = report.rid
        if report.rid in seen:
            errors.append(f"{where}: duplicate report id")
        seen.add(report.rid)
        if report.lang not in LANGUAGES:
            errors.append(f"{where}: unknown language {report.lang!r}")
        if not report.text:
            errors.append(f"{where}: empty text")
        starts = place(report.text, [text for _, text, _ in report.mentions])
        for (kind, text, ident), at in zip(report.mentions, starts, strict=True):
            if kind not in PREFIXES:
                errors.append(f"{where}: unknown kind {kind!r}")
                continue
            if not re.fullmatch(PREFIXES[kind], ident):
                errors.append(f"{where}: id {ident!r} is not a well-formed {kind} id")
            if at < 0:
                state = "out of order" if text in report.text else "not in the text"
                errors.append(f"{where}: {kind} {text!r} {state}")
                continue
            if kind == "cnic" and digits(text) != ident[2:]:
                errors.append(f"{where}: cnic {text!r} does not match {ident}")
            if kind == "phone" and phone_id(text) != ident:
                errors.append(f"{where}: phone {text!r} does not match {ident}")
    return errors


def unlisted(reports: list[Report]) -> list[str]:
    """Warn where an annotated text occurs more often than it is listed."""
    warnings: list[str] = []
    for report in reports:
        listed = Counter(text for _, text, _ in report.mentions)
        for text, count in listed.items():
            longer = [t for t in listed if t != text and text in t]
            found = report.text.count(text) - sum(
                report.text.count(t) * t.count(text) for t in longer
            )
            if found > count:
                warnings.append(f"{report.rid}: {text!r} occurs {found}x, listed {count}x")
    return warnings


def reports_naming(reports: list[Report]) -> dict[str, set[str]]:
    """Return, for every id, the reports that name it."""
    where: defaultdict[str, set[str]] = defaultdict(set)
    for report in reports:
        for _, _, ident in report.mentions:
            where[ident].add(report.rid)
    return dict(where)


LINKING = ("P", "S", "D", "A", "C", "T", "V")  # every id prefix but DT: dates never link


def linked_pairs(
    reports: list[Report], prefixes: Collection[str] = LINKING
) -> set[tuple[str, str]]:
    """Return the report pairs that share an id with one of the given prefixes."""
    return {
        pair
        for ident, rids in reports_naming(reports).items()
        if ident.split("-")[0] in prefixes
        for pair in combinations(sorted(rids), 2)
    }


def shared_names(reports: list[Report], kind: str) -> dict[str, set[str]]:
    """Return the texts (case-folded) of one kind written for two or more different ids."""
    ids: defaultdict[str, set[str]] = defaultdict(set)
    for report in reports:
        for k, text, ident in report.mentions:
            if k == kind:
                ids[text.casefold()].add(ident)
    return {text: found for text, found in ids.items() if len(found) >= 2}


def summarise(reports: list[Report]) -> None:
    """Print counts per language and kind, the cross-report links and the near misses."""
    by_lang = Counter(report.lang for report in reports)
    by_kind = Counter(kind for report in reports for kind, _, _ in report.mentions)
    where = reports_naming(reports)
    kinds = {ident: kind for report in reports for kind, _, ident in report.mentions}
    shared = {i: r for i, r in where.items() if len(r) >= 2}
    linking = {i: r for i, r in shared.items() if not i.startswith("DT-")}
    per_entity = sum(len(r) * (len(r) - 1) // 2 for r in linking.values())
    print(f"reports: {len(reports)}  " + "  ".join(f"{k}={by_lang[k]}" for k in LANGUAGES))
    print(f"mentions: {sum(by_kind.values())}")
    for kind in PREFIXES:
        distinct = sum(1 for k in kinds.values() if k == kind)
        print(f"  {kind:15} {by_kind[kind]:4} mentions, {distinct:3} ids")
    print(f"entities: {len(where)}  in >=2 reports: {len(shared)}")
    by_prefix = Counter(ident.split("-")[0] for ident in shared)
    print("  " + "  ".join(f"{p}={n}" for p, n in sorted(by_prefix.items())))
    print(
        "expected cross-report links (report pairs sharing a non-date id): "
        f"{len(linked_pairs(reports))}"
    )
    print(f"  summed over entities (pair, id): {per_entity}")
    narrow = sum(len(r) * (len(r) - 1) // 2 for i, r in linking.items() if i[0] in "PS")
    print(f"  of them person or station (pair, id): {narrow}")
    print(
        "  report pairs sharing a person/station/cnic/phone/vehicle id: "
        f"{len(linked_pairs(reports, ('P', 'S', 'C', 'T', 'V')))}"
    )
    print(
        f"  report pairs sharing a person id: {len(linked_pairs(reports, ('P',)))}, "
        f"a station id: {len(linked_pairs(reports, ('S',)))}"
    )
    for kind in ("person", "police_station"):
        names = shared_names(reports, kind)
        print(f"near misses: {len(names)} {kind} texts written for 2+ different ids")


def main() -> int:
    """Parse, check and summarise each corpus named (every one by default); exit 1 on error."""
    paths = [Path(arg) for arg in sys.argv[1:]] or list(CHECKED)
    failed = False
    for path in paths:
        print(f"== {path.name}")
        reports, errors = parse(path)
        errors += check(reports)
        for warning in unlisted(reports):
            print(f"warning: {warning}")
        for error in errors:
            print(f"error: {error}")
        summarise(reports)
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
