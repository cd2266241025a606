"""`keys subkeys new --out` to a file that exists spends nothing.

The attack (rel43 found it, session 43): the list was numbered, its new weeks' secrets
made and stored, and only then was `--out` opened, refused as existing: each mistyped
name spent a list number, and a stick that filled mid-write kept half a signed list.
"""

from __future__ import annotations

from pathlib import Path

from crypto import SignedSubkeyList
from tests.review.support import review


def _sequence(path: Path) -> int:
    number = SignedSubkeyList.from_bytes(path.read_bytes()).subkeys.sequence
    assert number is not None, "an unnumbered list"
    return number


def test_a_list_refused_for_its_file_spends_no_number(workspace: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    assert review(workspace, "keys", "subkeys", "new", "--out", str(first)).exit_code == 0
    taken = tmp_path / "taken.json"
    taken.write_bytes(b"the administrator's own file")

    refused = review(workspace, "keys", "subkeys", "new", "--out", str(taken))

    assert refused.exit_code != 0, refused.output
    assert "exists" in refused.output
    assert "Traceback" not in refused.output
    assert taken.read_bytes() == b"the administrator's own file"
    second = tmp_path / "second.json"
    assert review(workspace, "keys", "subkeys", "new", "--out", str(second)).exit_code == 0
    assert _sequence(second) == _sequence(first) + 1, "the refused run spent a list number"
