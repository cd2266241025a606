"""Benchmark entity extraction on hostile text: is the time linear in the text's size?

    python -m tests.bench.entities [--sizes 50,200,2000] [--repeat 3]

A "source" can send a text built to make the extractor slow: one place name
repeated tens of thousands of times, one rank repeated (every one a candidate
for a person), long runs of digits (candidates for phones, CNICs, dates). For
each kind of text and each size (kB) this prints the best of `--repeat` times
and the time per kB, then the ratio of the largest to the smallest time per kB
(target ≤ 2: linear). Then one JSON line. Times are CPU time of this process,
still noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from review.analysis.entities import extract

LINEAR_TARGET = 2.0


def _repeat(unit: str) -> Callable[[int], str]:
    def build(size: int) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return build


# Each builder makes a text of about `size` characters (Urdu letters are two bytes in UTF-8;
# sizes are in characters, which is what the extractor walks).
TEXTS: dict[str, Callable[[int], str]] = {
    "place": _repeat("Lahore "),
    "place-ur": _repeat("لاہور "),
    "rank": _repeat("SHO "),
    "rank-name": _repeat("SHO Rana Tariq "),
    "digits": _repeat("0300123456789012345678901234567890 "),
    "digit-run": lambda size: "1" * size,
    "station": _repeat("thana saddar kasur "),
    # bare stations in sentences naming other districts: each asks whether its district is
    # a guess, which must not mean looking at every district of the text again
    "guessed-station": _repeat("At Thana City the SHO said the boys went to Karachi. "),
    # short mentions of a full name (each matched to the one name that holds it)
    "alias": _repeat("Nadeem Akhtar met Nadeem, nadeem ka number. "),
    # a name and a warning that he is another man of that name, sentence after sentence
    "namesake": _repeat("Zarbat Khan came. He is not the SHO man, pindi wala nahi. "),
    # hundreds of different ranked and placed men, each named again by a short form
    "many-names": lambda size: _many_names(size),
    # a name and a place with nothing but whitespace between them
    "gap": lambda size: "ASI Aslam Khan" + " " * max(size - 26, 0) + "Kasur ka sho",
    # numbers and names each given as the writer's own, cue after cue (`contacts`)
    "own": _repeat("my my number is 0300-1234567, mera number 0301 7654321 hai. "),
    "own-name": _repeat("I am SHO Rana Tariq. Main ASI Tariq Mehmood hun. My name is Asif Iqbal. "),
    # a run of blanks before a number: its cue is read in a window, not back to the start
    "own-gap": lambda size: "my number is" + " " * max(size - 26, 0) + "0300-1234567",
}

_GIVEN = [
    "Tariq",
    "Aslam",
    "Nadeem",
    "Akram",
    "Shahid",
    "Javed",
    "Imran",
    "Khalid",
    "Arshad",
    "Zafar",
    "Riaz",
    "Naveed",
]
_FAMILY = [
    "Butt",
    "Awan",
    "Jatoi",
    "Chandio",
    "Bhatti",
    "Gondal",
    "Warraich",
    "Cheema",
    "Soomro",
    "Kharal",
    "Dogar",
]


def _many_names(size: int) -> str:
    units: list[str] = []
    length = n = 0
    while length < size:
        g, f = _GIVEN[n % len(_GIVEN)], _FAMILY[(n // len(_GIVEN)) % len(_FAMILY)]
        units.append(f"ASI Rana {g} Iqbal {f} of Kasur took money. Later {g} Iqbal {f} came. ")
        length += len(units[-1])
        n += 1
    return "".join(units)[:size]


def time_one(text: str, repeat: int) -> float:
    """The best of `repeat` timings of `extract(text)`, in CPU seconds (less noisy when shared)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        extract(text)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    """Time each hostile text at each size and print the per-kB ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,200,2000", help="sizes in kB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timings per text (best is kept)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    extract("warm up SHO Rana Tariq Lahore")  # load the gazetteers once, outside the timings
    header = "".join(f"{f'{kb} kB':>12}{'ms/kB':>8}" for kb in sizes)
    print(f"{'text':<12}{header}{'ratio':>8}")
    figures: dict[str, dict[str, float]] = {}
    for name, build in TEXTS.items():
        per_kb: list[float] = []
        row = f"{name:<12}"
        for kb in sizes:
            seconds = time_one(build(kb * 1000), args.repeat)
            per_kb.append(seconds * 1000 / kb)
            figures.setdefault(name, {})[f"{kb}kB_s"] = round(seconds, 4)
            row += f"{seconds:>11.3f}s{per_kb[-1]:>8.3f}"
        ratio = max(per_kb) / min(per_kb)
        figures[name]["ratio"] = round(ratio, 2)
        print(f"{row}{ratio:>8.2f}")
    worst = max(f["ratio"] for f in figures.values())
    print(f"worst ratio of time per kB across sizes: {worst:.2f} (target ≤ {LINEAR_TARGET:.0f})")
    print(json.dumps({"sizes_kb": sizes, "texts": figures, "worst_ratio": worst}, sort_keys=True))


if __name__ == "__main__":
    main()
