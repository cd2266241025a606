"""Compare a mutmut run over crypto/ with the survivors we know of: a new survivor fails CI.

`.ci/run` runs `mutmut run` (its scope is [tool.mutmut] in pyproject.toml),
then `python -m tests.crypto.mutation_survivors`. Each mutant that survives (or
that no test reaches) is named by what it changed, `module.function: old -> new`,
not by mutmut's number, which shifts whenever a function gains a line. A
survivor missing from tests/crypto/mutmut-survivors.txt fails the run: kill it
with a test, or, if it cannot change behaviour (an error message's wording,
`<` against `<=` where both agree), add it with `--write` and say why in the
commit. Survivors that are now killed are reported, to be dropped.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KNOWN = Path(__file__).with_name("mutmut-survivors.txt")
MANGLED = re.compile(r"(?P<function>.+)__mutmut_(?P<which>\d+|orig)$")
# mutmut's exit codes: 1 killed, 0 survived, 33 no test reaches it; others are timeouts.
KILLED, SURVIVED, UNTESTED = 1, 0, 33


def bodies(path: Path) -> dict[str, str]:
    """Every function of a mutmut-generated module by its mangled name, renamed `f` in its text."""
    text = path.read_text("utf-8")
    found = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and MANGLED.match(node.name):
            segment = ast.get_source_segment(text, node) or ""
            found[node.name] = segment.replace(f"def {node.name}(", "def f(", 1)
    return found


def describe(key: str, functions: dict[str, str]) -> str:
    """`module.function: old -> new`, the lines a mutant changed."""
    module, _, mangled = key.rpartition(".")
    match = MANGLED.match(mangled)
    assert match is not None, key
    original = functions[f"{match['function']}__mutmut_orig"].splitlines()
    mutated = functions[mangled].splitlines()
    diff = list(difflib.ndiff(original, mutated))
    old = " / ".join(line[2:].strip() for line in diff if line.startswith("- "))
    new = " / ".join(line[2:].strip() for line in diff if line.startswith("+ "))
    name = match["function"].removeprefix("x_").replace("ǁ", ".").strip(".")
    return f"{module}.{name}: {old} -> {new}"


def outcomes(mutants: Path) -> tuple[Counter[str], list[str]]:
    """How many mutants had each outcome, and a description of each one not killed."""
    counts: Counter[str] = Counter()
    alive = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        functions = bodies(meta.with_suffix(""))
        for key, code in json.loads(meta.read_text("utf-8"))["exit_code_by_key"].items():
            status = {KILLED: "killed", SURVIVED: "survived", UNTESTED: "untested"}.get(
                code, "killed" if code is not None else "not run"
            )
            counts[status] += 1
            if status in ("survived", "untested", "not run"):
                alive.append(f"{status}  {describe(key, functions)}")
    return counts, sorted(alive)


def main(argv: list[str]) -> int:
    """Print the score; with --write record the survivors, else fail on any new one."""
    counts, alive = outcomes(ROOT / "mutants")
    total = sum(counts.values())
    if not total:
        print("mutation: no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    print(
        f"mutation: {counts['killed']} of {total} mutants killed "
        f"({100 * counts['killed'] / total:.1f} %); {counts['survived']} survived, "
        f"{counts['untested']} reached by no test"
    )
    if "--write" in argv:
        KNOWN.write_text("".join(f"{line}\n" for line in alive), "utf-8")
        return 0
    known = KNOWN.read_text("utf-8").splitlines()
    new = sorted((Counter(alive) - Counter(known)).elements())
    gone = sorted((Counter(known) - Counter(alive)).elements())
    for line in gone:
        print(f"mutation: now killed, drop from {KNOWN.name}: {line}")
    for line in new:
        print(f"mutation: NEW survivor: {line}", file=sys.stderr)
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
