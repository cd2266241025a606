"""Extraction does work linear in the text, counted in calls rather than timed.

A "source" can send a text built to make the extractor slow (issue 18): one place, one rank
or one name repeated, runs of digits, a gap of blanks. `tests.bench.entities` times those
texts from 50 kB to 2 MB, but a benchmark's seconds are noisy and a test may not time
anything, so twice a blow-up (a station's name searched for every district, a home searched
across any gap) landed with every test green. Here each of the benchmark's texts is run at
two sizes under a profiler hook that counts the Python and C calls extraction makes: the
count is the same on every run and every machine, and a loop over the matches inside a
loop over the matches makes it grow as the square of the text.

What it cannot see: work inside one C call, such as a regular expression that backtracks
(its one call counts once however long it runs). The benchmark stays the check for those.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest

from review.analysis.entities import extract
from tests.bench.entities import TEXTS

SMALL, LARGE = 6_000, 24_000
# Calls per character at the larger size over those at the smaller: 1.0 is linear. A fixed
# cost per text makes it a little lower; a quadratic pass makes it about LARGE / SMALL (4).
MOST_GROWTH = 1.5


def _calls(text: str) -> int:
    count = 0

    def hook(_frame: FrameType, event: str, _arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(hook)
    try:
        extract(text)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_extraction_calls_grow_with_the_text_not_its_square(name: str) -> None:
    build = TEXTS[name]
    small, large = build(SMALL), build(LARGE)
    extract(small), extract(large)  # counted warm: the lexicons and caches are built once
    growth = (_calls(large) / len(large)) / (_calls(small) / len(small))
    assert growth <= MOST_GROWTH, f"{name}: {growth:.2f} times the calls per character"


def test_the_count_sees_a_quadratic_pass() -> None:
    # The guard's own check: a pass that looks at every earlier token for each token.
    def quadratic(text: str) -> int:
        words = text.split()
        return sum(1 for i, w in enumerate(words) for v in words[:i] if v == w)

    def calls(text: str) -> int:
        count = 0

        def hook(_frame: FrameType, event: str, _arg: Any) -> None:
            nonlocal count
            count += event in ("call", "c_call")

        sys.setprofile(hook)
        try:
            quadratic(text)
        finally:
            sys.setprofile(None)
        return count

    small, large = TEXTS["rank"](SMALL // 10), TEXTS["rank"](LARGE // 10)
    growth = (calls(large) / len(large)) / (calls(small) / len(small))
    assert growth > MOST_GROWTH
