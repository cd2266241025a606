"""The suite's scheduling: a file of few long tests is handed out before many short ones."""

from __future__ import annotations

import json
from pathlib import Path

from tests.scheduling import longest_first, record_from_junit, scope_of, weigh


def _queue(counts: dict[str, int]) -> dict[str, dict[str, bool]]:
    return {scope: {f"{scope}::t{i}": False for i in range(n)} for scope, n in counts.items()}


def test_a_file_of_few_long_tests_goes_first_where_xdist_put_it_last(tmp_path: Path) -> None:
    # xdist orders by the number of tests: the browser's three tests came after the
    # hundred quick ones, and one worker ran them alone at the end.
    record = tmp_path / "durations.json"
    record.write_text(
        json.dumps(
            {
                "tests/app/test_quick.py": {"seconds": 20.0, "tests": 100},
                "tests/app/test_browser.py": {"seconds": 240.0, "tests": 3},
                "tor": {"seconds": 300.0, "tests": 10},
            }
        )
    )
    queue = _queue({"tests/app/test_quick.py": 100, "tor": 10, "tests/app/test_browser.py": 3})
    longest_first(queue, record)
    assert list(queue) == ["tor", "tests/app/test_browser.py", "tests/app/test_quick.py"]
    # Nothing lost or moved between scopes.
    assert len(queue["tests/app/test_quick.py"]) == 100


def test_a_file_the_record_does_not_know_weighs_the_average_test(tmp_path: Path) -> None:
    record = tmp_path / "durations.json"
    record.write_text(json.dumps({"tests/a.py": {"seconds": 30.0, "tests": 10}}))
    weights = weigh({"tests/a.py": 20, "tests/new.py": 4}, record)
    # A known file scales with its count of tests; a new one is 4 average tests.
    assert weights == {"tests/a.py": 60.0, "tests/new.py": 12.0}
    # No record at all: every test weighs the same, and nothing fails.
    assert weigh({"tests/a.py": 2}, tmp_path / "absent.json") == {"tests/a.py": 2.0}
    (tmp_path / "bad.json").write_text("{not json")
    assert weigh({"tests/a.py": 2}, tmp_path / "bad.json") == {"tests/a.py": 2.0}


def test_a_runs_junit_report_becomes_seconds_per_scope(tmp_path: Path) -> None:
    junit = tmp_path / "run.xml"
    junit.write_text(
        "<testsuites><testsuite>"
        '<testcase classname="tests.test_scheduling" name="a" time="1.25"/>'
        '<testcase classname="tests.test_scheduling" name="b" time="0.5"/>'
        '<testcase classname="tests.tor.test_onion" name="c" time="9"/>'
        '<testcase classname="gone.module" name="d" time="3"/>'
        "</testsuite></testsuites>"
    )
    record = record_from_junit(junit)
    assert record["tests/test_scheduling.py"] == {"seconds": 1.8, "tests": 2}
    assert scope_of("tests/tor/test_onion.py::c") == "tor"
    assert record["tor"]["tests"] == 1
    assert "gone" not in json.dumps(record)


def test_the_committed_record_names_scopes_that_exist() -> None:
    record = json.loads((Path(__file__).with_name("durations.json")).read_text())
    root = Path(__file__).resolve().parents[1]
    stale = [scope for scope in record if scope != "tor" and not (root / scope).is_file()]
    # A file renamed or removed keeps weighing nothing: refresh the record when many are.
    assert len(stale) <= len(record) // 10, stale
