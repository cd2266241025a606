"""The layout rule: review/ imports crypto/, never app/, and nothing in it imports nacl."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REVIEW = Path(__file__).resolve().parents[2] / "review"
FORBIDDEN = ("app", "nacl", "flask", "sqlalchemy")


@pytest.mark.parametrize(
    "path", sorted(REVIEW.rglob("*.py")), ids=lambda p: str(p.relative_to(REVIEW))
)
def test_review_modules_import_neither_the_server_nor_nacl(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & set(FORBIDDEN), imported & set(FORBIDDEN)
