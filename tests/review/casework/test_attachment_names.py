"""An attachment is chosen by the number `show` lists, never by a name built to take its place.

Whoever seals a report (a hostile source, or the server itself: it seals every
browser report) chooses its files' names. A name that is another attachment's
number, or two names that look the same on the screen, must not make `view` or
`open` give the reviewer another file than the one they asked for.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from tests.review.support import Server, review

DECOY = b"decoy-NOT-the-ledger"
LEDGER = b"ledger-THE-REAL-ONE"


def _imported(
    server: Server, workspace: Path, tmp_path: Path, files: list[tuple[str, bytes]]
) -> None:
    server.submit("see the files", [("files", n, d, "text/plain") for n, d in files])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0


def test_a_name_that_is_another_attachments_number_does_not_take_its_place(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # Sorted by name, "2" is listed first (#1) and the ledger second (#2).
    _imported(server, workspace, tmp_path, [("2", DECOY), ("ledger.txt", LEDGER)])
    listed = review(workspace, "show", "1")
    assert listed.exit_code == 0, listed.output

    shown = review(workspace, "view", "1", "2")
    assert shown.exit_code == 0, shown.output
    assert LEDGER.decode() in shown.output
    assert DECOY.decode() not in shown.output

    out = tmp_path / "opened.txt"
    opened = review(workspace, "open", "1", "2", "--out", str(out), "--yes")
    assert opened.exit_code == 0, opened.output
    assert out.read_bytes() == LEDGER


def test_two_names_that_look_the_same_are_refused_by_name_and_each_read_by_number(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    nfc = unicodedata.normalize("NFC", "café.txt")
    nfd = unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    _imported(server, workspace, tmp_path, [(nfd, DECOY), (nfc, LEDGER)])

    for typed in (nfc, nfd):
        result = review(workspace, "view", "1", typed)
        assert result.exit_code == 1, result.output
        assert DECOY.decode() not in result.output
        assert LEDGER.decode() not in result.output
        assert "attachments 1 and 2" in result.output
    both = {review(workspace, "view", "1", n).output for n in ("1", "2")}
    assert any(LEDGER.decode() in o for o in both)
    assert any(DECOY.decode() in o for o in both)
