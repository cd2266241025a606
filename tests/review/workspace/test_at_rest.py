"""At rest: nothing a source or a reviewer wrote is readable in the workspace's files."""

from __future__ import annotations

from pathlib import Path

from tests.review.support import Server, all_bytes, review

CANARY = "canary-R4ZD4R-9f3k"
URDU_CANARY = "کینری-راز-دار"


def test_no_canary_is_found_in_any_workspace_file(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    large = (f"{CANARY} ".encode() * 20_000)[:300_000]  # kept as a file, not a row
    server.submit(
        f"message {CANARY} {URDU_CANARY}",
        [
            ("files", f"{CANARY}.txt", f"file {CANARY}".encode(), "text/plain"),
            ("files", "large.bin", large, "application/octet-stream"),
        ],
        {"district": f"district-{CANARY}"},
    )
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    for args in [
        ("category", "1", f"category-{CANARY}"),
        ("agency", "1", f"agency-{CANARY}"),
        ("tag", "1", f"tag-{CANARY}".lower()),
        ("note", "1", f"note {CANARY} {URDU_CANARY}"),
    ]:
        assert review(workspace, *args).exit_code == 0, args
    reply = tmp_path / "reply.txt"
    reply.write_text(f"reply {CANARY} {URDU_CANARY}", "utf-8")
    assert review(workspace, "reply", "1", "--file", str(reply)).exit_code == 0
    assert CANARY in review(workspace, "show", "1").output  # it is all there, when unlocked
    out = tmp_path / "large.bin"
    assert review(workspace, "open", "1", "2", "--out", str(out), "--yes").exit_code == 0
    assert out.read_bytes() == large
    assert review(workspace, "search", CANARY).output.count("\n") > 1

    files = all_bytes(workspace)
    names = {p.name for p, _ in files}
    assert "workspace.db" in names  # blobs up to 256 KiB are rows in it
    assert any(name.endswith(".key") for name in names)
    assert not any(p.parent.name == "outbox" for p, _ in files)  # the reply: wrapped, in the db
    assert any(p.parent.name == "blobs" for p, _ in files)  # the large attachment
    needles = [
        CANARY.encode(),
        CANARY.lower().encode(),
        URDU_CANARY.encode("utf-8"),
        CANARY.encode("utf-16-le"),
    ]
    for path, data in files:
        for needle in needles:
            assert needle not in data, (path, needle)
