"""The layout rule: submit/ imports crypto/, never app/ or review/, and never nacl."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SUBMIT = Path(__file__).resolve().parents[2] / "submit"
FORBIDDEN = ("app", "review", "tests", "nacl", "flask", "sqlalchemy", "werkzeug")


def test_the_client_has_its_modules() -> None:
    names = {p.stem for p in SUBMIT.glob("*.py")}
    assert {"cli", "protocol", "state", "transport", "trust", "uploads"} <= names


@pytest.mark.parametrize(
    "path", sorted(SUBMIT.rglob("*.py")), ids=lambda p: str(p.relative_to(SUBMIT))
)
def test_client_modules_import_neither_the_server_nor_the_review_tool_nor_nacl(
    path: Path,
) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & set(FORBIDDEN), imported & set(FORBIDDEN)
