"""`keys rotate` that cannot write its draft keyring enrols no key.

The new key was enrolled first and the draft written after: a draft that could not be
written (its name taken, a full stick) failed the command with the key already in
service here, in no keyring, and the next try enrolled another beside it, each a key
the reviewer's every unlock reads and no draft names.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from app.demo import DEMO_PASSPHRASE
from review.cli import cli
from tests.review.support import Server, init_on_first_keyring

NEW = "a new passphrase for the demo reviewer"


def _rotate(workspace: Path, draft: Path, backup: Path) -> Result:
    answers = f"{DEMO_PASSPHRASE}\n{NEW}\n{NEW}\n"
    args = ["--workspace", str(workspace), "keys", "rotate", "--fast-kdf"]
    args += ["--draft", str(draft), "--backup", str(backup)]
    return CliRunner().invoke(cli, args, input=answers)


def _keys_in_service(workspace: Path) -> int:
    conn = sqlite3.connect(workspace / "workspace.db")
    try:
        query = (
            "SELECT count(*) FROM reviewer_keys WHERE reviewer = 'demo-reviewer' AND NOT retired"
        )
        return int(conn.execute(query).fetchone()[0])
    finally:
        conn.close()


def test_a_rotation_whose_draft_cannot_be_written_enrols_no_key_and_the_next_try_enrols_one(
    server: Server, tmp_path: Path
) -> None:
    workspace = init_on_first_keyring(server, tmp_path)
    before = _keys_in_service(workspace)
    taken = tmp_path / "taken.json"
    taken.write_text("a file of the reviewer's own")
    refused = _rotate(workspace, taken, tmp_path / "backup.key")
    assert refused.exit_code == 1, refused.output
    assert "already exists" in refused.output
    assert taken.read_text() == "a file of the reviewer's own"
    assert _keys_in_service(workspace) == before, "a key was enrolled with no draft naming it"
    assert not (tmp_path / "backup.key").exists(), "a backup of a key enrolled nowhere"
    done = _rotate(workspace, tmp_path / "draft.json", tmp_path / "backup.key")
    assert done.exit_code == 0, done.output
    assert _keys_in_service(workspace) == before + 1
    assert (tmp_path / "draft.json").is_file()
    assert (tmp_path / "backup.key").is_file()
