"""An attachment is chosen by the number `show` lists, never by a name built to take its place.

Whoever seals a report (a hostile source, or the server itself: it seals every
browser report) chooses its files' names. A name that is another attachment's
number, or two names that look the same on the screen, must not make `view` or
`open` give the reviewer another file than the one they asked for.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from review import workspace as ws
from review.casework import reports
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


LOOKALIKES = [
    ("l\u0435dger.txt", "mixes Latin and Cyrillic letters"),  # a Cyrillic e
    ("ledger\u3164.txt", "blank characters that are not spaces"),  # a Hangul filler
    ("\uff4cedger.txt", "compatibility forms"),  # a fullwidth l
]


def test_a_name_made_to_look_like_another_is_marked_wherever_it_is_listed(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    files = [("ledger.txt", LEDGER)] + [(name, DECOY) for name, _ in LOOKALIKES]
    _imported(server, workspace, tmp_path, files)
    shown = review(workspace, "show", "1")
    assert shown.exit_code == 0, shown.output
    for _name, mark in LOOKALIKES:
        assert mark in shown.output
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        labels = {a.name: a.label for a in reports.attachments(u, 1)}
    finally:
        u.workspace.close()
    assert labels["ledger.txt"] == "ledger.txt"  # a plain name is shown as it is
    for name, mark in LOOKALIKES:
        assert labels[name].startswith(name)
        assert mark in labels[name]  # the terminal UI's list shows the same label
