"""Reading an attachment inside the tool: shown from memory, no plaintext written anywhere."""

from __future__ import annotations

from pathlib import Path

from review import bidi
from tests.review.fixtures import png_with_text
from tests.review.support import Server, all_bytes, review

CANARY = "canary-VIEW-ledger"
URDU = "منشی نے دوسرا رجسٹر رکھا"


def test_a_text_attachment_is_read_in_the_tool_and_no_plaintext_reaches_a_disk(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    ledger = f"{CANARY}\n{URDU}\n".encode()
    files = [
        ("files", "ledger.txt", ledger, "text/plain"),
        ("files", "p.png", png_with_text(), "image/png"),
    ]
    server.submit("see the ledger", files)
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    before = {p for p, _ in all_bytes(tmp_path)}

    result = review(workspace, "view", "1", "ledger.txt", "--rtl", "visual")
    assert result.exit_code == 0, result.output
    assert CANARY in result.output
    assert bidi.visual(URDU) in result.output  # Urdu laid out as the report view does

    image = review(workspace, "view", "1", "p.png")
    assert image.exit_code == 0, image.output
    assert "\u2580" in image.output  # drawn with half blocks, in colour

    # Nothing new outside the workspace; the ledger's text is nowhere on disk in the clear.
    assert {p for p, _ in all_bytes(tmp_path)} - before <= {p for p, _ in all_bytes(workspace)}
    assert not [p for p, data in all_bytes(tmp_path) if CANARY.encode() in data]


def test_a_file_the_tool_cannot_show_is_refused_with_a_hint(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a pdf", [("files", "a.pdf", b"%PDF-1.4 \x00\x01 binary", "application/pdf")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    assert result.exit_code == 1
    assert "cannot show application/pdf here" in result.output
    assert "hint:" in result.output


def test_open_warns_before_it_writes_plaintext_and_writes_nothing_without_a_yes(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("see the ledger", [("files", "ledger.txt", CANARY.encode(), "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    out = tmp_path / "out" / "ledger.txt"
    out.parent.mkdir()

    declined = review(workspace, "open", "1", "1", "--out", str(out))  # no answer: no
    assert declined.exit_code != 0
    assert "plaintext" in declined.output
    assert "raazdar-review view 1 1" in declined.output  # and how to read it without writing
    assert list(out.parent.iterdir()) == []

    insisted = review(workspace, "open", "1", "1", "--out", str(out), "--yes")
    assert insisted.exit_code == 0, insisted.output
    assert out.read_bytes() == CANARY.encode()
