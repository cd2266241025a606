"""A stub editor for the tests of both tools: it records how it was started, then writes."""

from __future__ import annotations

import sys
from pathlib import Path

STUB = """#!{python}
import json, os, sys
draft = sys.argv[-1]
with open({record!r}, "w") as out:
    seen = os.listdir(os.path.dirname(os.path.abspath(draft)))
    json.dump({{"argv": sys.argv, "env": dict(os.environ), "dir": seen, "cwd": os.getcwd()}}, out)
with open(draft, "a") as out:
    out.write("written in the editor")
"""


def stub_editor(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """An executable called `name` that records its argv, environment and directory."""
    record = tmp_path / f"{name}.json"
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(STUB.format(python=sys.executable, record=str(record)))
    path.chmod(0o700)
    return path, record
