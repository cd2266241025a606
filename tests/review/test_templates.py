"""The `workspace` fixture's copy (tests/review/templates.py) is the workspace `init` makes."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from crypto import SigningKey
from review import workspace as ws
from review.workspace import DB_NAME
from tests.app.templates import copy_of_demo
from tests.review.support import Server, init_workspace
from tests.review.templates import copy_of_workspace

# Drawn at random by each `init`: the workspace key and what is made with it (the head's
# and the roster's tags, the key's mark, the adopted subkeys sealed), the audit log's
# sealed entries (the head's digest of them; its count stays), the stored key file's name.
_DRAWN = ("workspace_key", "audit_head_tag", "mark:")


def _meta(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """The meta rows as `init` makes them each time: what it draws left out."""
    kept: list[tuple[object, ...]] = []
    for key, value in rows:
        name, text = str(key), str(value)
        if name.startswith(_DRAWN):
            continue
        if name == "audit_head":
            text = text.split(":")[0]
        elif name == "roster":
            roster = {k: v for k, v in json.loads(text).items() if k != "tag"}
            text = re.sub(r"-[0-9a-f]{8}\.key", "-*.key", json.dumps(roster))
        elif name.startswith("subkeys:"):
            text = "sealed"
        kept.append((name, text))
    return sorted(kept)


def _tables(root: Path) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows, and the tables holding only what `init` draws, by their count."""
    with closing(sqlite3.connect(root / DB_NAME)) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found: dict[str, list[tuple[object, ...]]] = {}
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608  # own names
            found[name] = rows if name in ("meta", "reviewers") else [(len(rows),)]
        found["meta"] = _meta(found["meta"])
        return found


def _files(root: Path) -> dict[str, int]:
    """Each path in the workspace with its mode (a stored key file by its folder only)."""
    return {
        str(p.relative_to(root).parent if p.parent.name == "keys" else p.relative_to(root)): (
            p.stat().st_mode
        )
        for p in root.rglob("*")
    }


def test_a_copied_workspace_holds_what_init_makes_and_leaves_the_server_alike(
    server: Server, tmp_path: Path
) -> None:
    # Two copies of one demo instance: `init` on the one, the fixture's copy on the other.
    other = Server(server.app, copy_of_demo(tmp_path / "other"))
    assert other.instance_id == server.instance_id
    copy_of_workspace(other, tmp_path / "first")  # the template made, where none was
    again = Server(server.app, copy_of_demo(tmp_path / "again"))
    made = init_workspace(server, tmp_path / "made")
    copied = copy_of_workspace(again, tmp_path / "copied")
    assert _tables(copied) == _tables(made)
    # `adopt` destroyed the subkey secrets it took in: a copy leaves none behind either.
    assert _files(again.paths.demo_keys) == _files(server.paths.demo_keys)
    assert _files(copied) == _files(made)
    assert copied.stat().st_mode == made.stat().st_mode
    u = ws.Workspace.open(copied).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    u.workspace.close()


def test_a_server_whose_key_changed_gets_a_workspace_pinned_to_its_new_key(
    server: Server, tmp_path: Path
) -> None:
    copy_of_workspace(server, tmp_path / "before")
    server.paths.signing_key.write_text(SigningKey.generate().to_text())
    after = copy_of_workspace(server, tmp_path / "after")
    assert ("server_key", server.signing_key_text) in _tables(after)["meta"]
