"""How tests/run.sh's two pytest-xdist workers share the suite: by file, the Tor tier whole,
the longest first.

A file's tests run on one worker, so its module fixtures (a browser, a live server) are
made once; the Tor tier (tests/tor/, and any file that borrows its session fixtures)
runs on one, so its private network is started once. pytest-xdist's own `loadgroup`
cannot do this under pytest 9.2: it groups by rewriting each test's node id, which
pytest 9.2 no longer lets a plugin do, and so every file was spread over both workers.

The files are handed out longest first, by the seconds a whole run last took over each
(`durations.json`, made by `python -m tests.scheduling JUNIT_XML` from a run's
`--junitxml`). xdist's own order is by the number of tests, which put a file of a few
long tests (the Tor tier, a browser's) last, so that one worker ran it alone at the end
while the other stood idle. A file the record does not know weighs what the record's
average test takes, times its count.

    python -m tests.scheduling run.xml    # rewrite tests/durations.json from a run
"""

from __future__ import annotations

import functools
import json
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

TOR_TIER = "tests/tor/"
ROOT = Path(__file__).resolve().parents[1]
DURATIONS = Path(__file__).with_name("durations.json")


class ByFileTorTogether(LoadScopeScheduling):  # type: ignore[misc]  # untyped base
    """LoadScopeScheduling whose scope is the test's file, or "tor" for the Tor tier, handed
    out longest first."""

    _longest_first = False

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)

    def _assign_work_unit(self, node: object) -> None:
        # The whole queue exists before the first unit is handed out (`schedule`).
        if not self._longest_first:
            self._longest_first = True
            longest_first(self.workqueue)
        super()._assign_work_unit(node)


def longest_first(queue: dict[str, dict[str, bool]], record: Path = DURATIONS) -> None:
    """Reorder `queue` (scope: its tests) in place, the scope expected to take longest first."""
    weights = weigh({scope: len(ids) for scope, ids in queue.items()}, record)
    ordered = sorted(queue.items(), key=lambda unit: -weights[unit[0]])
    queue.clear()
    queue.update(ordered)


def scope_of(nodeid: str) -> str:
    """The unit a test is scheduled in: its file, or "tor" for the Tor tier."""
    path = nodeid.split("::", 1)[0]
    return "tor" if in_tor_tier(path) else path


@functools.cache
def in_tor_tier(path: str) -> bool:
    """Whether the test file at `path` (from the root) is, or borrows from, the Tor tier."""
    if path.startswith(TOR_TIER):
        return True
    try:
        source = (ROOT / path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "from tests.tor" in source


def weigh(counts: Mapping[str, int], record: Path = DURATIONS) -> dict[str, float]:
    """Seconds each scope of `counts` (scope: its number of tests) is expected to take.

    A scope the record knows weighs its recorded seconds, scaled by how its count of
    tests has moved since; one it does not, the record's average test times its count.
    With no record (or an unreadable one) every test weighs the same.
    """
    try:
        known: dict[str, dict[str, float]] = json.loads(record.read_text("utf-8"))
        seconds = sum(entry["seconds"] for entry in known.values())
        tests = sum(entry["tests"] for entry in known.values())
        average = seconds / tests if tests else 1.0
    except (OSError, ValueError, KeyError, TypeError):
        known, average = {}, 1.0
    weights = {}
    for scope, count in counts.items():
        entry = known.get(scope)
        if entry and entry.get("tests"):
            weights[scope] = entry["seconds"] * count / entry["tests"]
        else:
            weights[scope] = average * count
    return weights


def record_from_junit(junit: Path) -> dict[str, dict[str, float]]:
    """Seconds and tests per scope from a pytest `--junitxml` file (setup to teardown)."""
    record: dict[str, dict[str, float]] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):  # noqa: S314 - our own run's
        path = _file_of(case.get("classname", ""))
        if path is None:
            continue
        entry = record.setdefault(scope_of(path), {"seconds": 0.0, "tests": 0})
        entry["seconds"] += float(case.get("time", "0"))
        entry["tests"] += 1
    return {
        scope: {"seconds": round(entry["seconds"], 1), "tests": int(entry["tests"])}
        for scope, entry in sorted(record.items())
    }


@functools.cache
def _file_of(classname: str) -> str | None:
    """The test file a junit `classname` (dotted module, maybe a class after it) names."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        path = "/".join(parts[:end]) + ".py"
        if (ROOT / path).is_file():
            return path
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    record = record_from_junit(Path(argv[0]))
    DURATIONS.write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    total = sum(entry["seconds"] for entry in record.values())
    print(f"{DURATIONS}: {len(record)} scopes, {total:.0f} s of tests")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
