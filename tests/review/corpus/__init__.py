"""The synthetic entity corpus and its scoring (see README.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from review.analysis.entities import KINDS, Entity

CORPUS = Path(__file__).parent / "reports.txt"
# The kinds the corpora annotate: not reference numbers (session 40), which they leave
# unlabelled, so one found is no false mention.
ANNOTATED = tuple(kind for kind in KINDS if kind != "reference")


@dataclass(frozen=True)
class Gold:
    """One annotated mention: its kind, its text as written, and the key it must get if given."""

    kind: str
    text: str
    key: str | None = None


@dataclass(frozen=True)
class Report:
    """One report of the corpus with its annotations."""

    id: str
    language: str
    text: str
    gold: tuple[Gold, ...]


def load(path: Path = CORPUS) -> list[Report]:
    """Read the corpus file."""
    reports = []
    for chunk in path.read_text("utf-8").split("=== ")[1:]:
        head, _, rest = chunk.partition("\n")
        body, _, notes = rest.partition("\n---\n")
        ident, language = head.split()
        gold = []
        for line in notes.strip().splitlines():
            kind, _, value = line.partition(":")
            text, _, key = value.partition("=>")
            assert kind in ANNOTATED, (ident, line)
            gold.append(Gold(kind, text.strip(), key.strip() or None))
        reports.append(Report(ident, language, body.strip(), tuple(gold)))
    return reports


@dataclass
class Rates:
    """True positives, false positives and false negatives, by kind, and their rates."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def precision(self, kind: str | None = None) -> float:
        """Precision for one kind, or overall."""
        tp, fp = self._sum(self.tp, kind), self._sum(self.fp, kind)
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, kind: str | None = None) -> float:
        """Recall for one kind, or overall."""
        tp, fn = self._sum(self.tp, kind), self._sum(self.fn, kind)
        return tp / (tp + fn) if tp + fn else 1.0

    def f1(self, kind: str | None = None) -> float:
        """The harmonic mean of precision and recall."""
        p, r = self.precision(kind), self.recall(kind)
        return 2 * p * r / (p + r) if p + r else 0.0

    def table(self) -> str:
        """Precision, recall and F1 per kind and overall, as printable text."""
        lines = [f"{'kind':<16}{'gold':>6}{'found':>7}{'precision':>11}{'recall':>8}{'F1':>7}"]
        for kind in [*ANNOTATED, None]:
            gold = self._sum(self.tp, kind) + self._sum(self.fn, kind)
            found = self._sum(self.tp, kind) + self._sum(self.fp, kind)
            lines.append(
                f"{kind or 'overall':<16}{gold:>6}{found:>7}"
                f"{self.precision(kind):>11.3f}{self.recall(kind):>8.3f}{self.f1(kind):>7.3f}"
            )
        return "\n".join(lines)

    @staticmethod
    def _sum(counter: Counter[str], kind: str | None) -> int:
        return counter[kind] if kind is not None else sum(counter.values())


@dataclass
class Score(Rates):
    """The tuning corpus's figures, with what was missed and what got a wrong key."""

    wrong_keys: list[tuple[str, Gold, str]] = field(default_factory=list)
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, report: Report, found: Iterable[Entity]) -> None:
        """Compare what was found in a report with its annotations (kind and exact text)."""
        found = [e for e in found if e.kind in ANNOTATED]
        predicted = Counter((e.kind, e.text) for e in found)
        wanted = Counter((g.kind, g.text) for g in report.gold)
        for kind, text in predicted | wanted:
            hit = min(predicted[(kind, text)], wanted[(kind, text)])
            self.tp[kind] += hit
            self.fp[kind] += predicted[(kind, text)] - hit
            self.fn[kind] += wanted[(kind, text)] - hit
            if predicted[(kind, text)] > hit:
                self.misses.append((report.id, f"extra {kind}", text))
            if wanted[(kind, text)] > hit:
                self.misses.append((report.id, f"missed {kind}", text))
        keys: dict[tuple[str, str], list[str]] = {}
        for e in found:  # in order, so the n-th mention of a text is matched with the n-th
            keys.setdefault((e.kind, e.text), []).append(e.key)
        for g in report.gold:
            got = keys.get((g.kind, g.text))
            key = got.pop(0) if got else None
            if g.key is not None and key is not None and key != g.key:
                self.wrong_keys.append((report.id, g, key))
