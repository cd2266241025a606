"""The mutation gate names each mutant by what it changed, so renumbering cannot hide one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.crypto.mutation_survivors import outcomes

MODULE = """
def x_limit__mutmut_orig(n: int) -> bool:
    return n > 2


def x_limit__mutmut_1(n: int) -> bool:
    return n >= 2


def x_limit__mutmut_2(n: int) -> bool:
    return n > 3


def x_limit__mutmut_3(n: int = 1) -> bool:
    return n > 2
"""


def test_each_mutant_not_killed_is_named_by_its_change(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(MODULE)
    codes = {"pkg.mod.x_limit__mutmut_1": 0, "pkg.mod.x_limit__mutmut_2": 1}
    codes["pkg.mod.x_limit__mutmut_3"] = 33
    (tmp_path / "pkg" / "mod.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    counts, alive = outcomes(tmp_path)
    assert counts == {"killed": 1, "survived": 1, "untested": 1}
    assert alive == [
        "survived  pkg.mod.limit: return n > 2 -> return n >= 2",
        "untested  pkg.mod.limit: def f(n: int) -> bool: -> def f(n: int = 1) -> bool:",
    ]
