"""A file two reports hold byte for byte is shared evidence: one writer's on a reviewer's word."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from review import workspace as ws
from review.analysis import corroboration
from review.analysis.corpus import Corpus
from review.intake.importer import import_bundle
from tests.app.support import FilePart
from tests.review.support import Server, review

# One writer under two codenames, in other words each time, with the same photo.
FIRST = (
    "I am a constable at Thana Saddar Kasur. SHO Rana Tariq Mehmood takes Rs 20,000 a month "
    "from the kiln owner at Chunian and sends back the labourers who run away."
)
AGAIN = (
    "Maine pehle bhi likha tha magar codename kho gaya. Thana Saddar Kasur ke SHO Rana Tariq "
    "Mehmood ne do larkiyan bhatta malik ko wapas kar di aur unke baap ko thane mein band kiya."
)
THIRD = "Our village elders say SHO Rana Tariq Mehmood of Thana Saddar Kasur protects the kiln."
FOURTH = "A driver told me the Kasur SHO Rana Tariq Mehmood collects money every Friday night."
PHOTO = b"\xff\xd8\xff\xe0 a photo of the kiln's register " + bytes(range(256)) * 4


def _file(name: str, data: bytes) -> FilePart:
    return ("files", name, data, "image/jpeg")


Filing = Callable[..., Corpus]


@pytest.fixture
def filed(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> Filing:
    """Send each (text, file) under a codename of its own, import each, and load the corpus."""

    def file(*sent: tuple[str, FilePart]) -> Corpus:
        for num, (text, part) in enumerate(sent, start=1):
            server.submit(text, [part])
            import_bundle(unlocked, server.export(tmp_path / f"{num}.rzb"))
        sources = unlocked.conn.execute("SELECT DISTINCT source FROM reports").fetchall()
        assert len(sources) == len(sent)
        return Corpus.load(unlocked)

    return file


def test_one_file_in_two_reports_is_shown_and_joined_only_by_a_reviewer(
    filed: Filing, unlocked: ws.Unlocked
) -> None:
    corpus = filed(
        (FIRST, _file("kiln.jpg", PHOTO)),
        (AGAIN, _file("IMG_0042.jpg", PHOTO)),
    )
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    # A file many may hold (an e-FIR, a forwarded photo) is shared evidence, not one writer:
    # counted apart, and shown, with the command that joins them.
    assert (sho.sources, sho.corroborating) == (2, 2)
    shown = review(unlocked.workspace.root, "links", "show", "2")
    assert shown.exit_code == 0, shown.output
    out = " ".join(shown.output.split())
    assert "holds the same attached file, byte for byte ('IMG_0042.jpg'): shared evidence" in out
    assert "`links writer 2 1 same`" in out
    assert "Corroboration: 1 independent sources" in out
    # The reviewer who knows the writer says so: one source from then on, audited.
    said = review(unlocked.workspace.root, "links", "writer", "2", "1", "same")
    assert said.exit_code == 0, said.output
    assert "reports 2 and 1: counted as one writer" in said.output
    out = " ".join(review(unlocked.workspace.root, "links", "show", "2").output.split())
    assert "a reviewer said they are one writer" in out
    assert "Corroboration: 0 independent sources" in out
    logged = review(unlocked.workspace.root, "audit", "show")
    assert "writer-same" in logged.output, logged.output
    # `names extract` reads the texts again and keeps what the files were, and the word.
    corroboration.reextract(unlocked)
    assert Corpus.load(unlocked).source_group(2) == 1
    assert review(unlocked.workspace.root, "links", "writer", "1", "2", "apart").exit_code == 0
    assert Corpus.load(unlocked).source_group(2) == 2


def test_different_files_or_a_tiny_one_join_no_writers(filed: Filing) -> None:
    corpus = filed(
        (FIRST, _file("kiln.jpg", PHOTO)),
        (AGAIN, _file("kiln.jpg", PHOTO + b"another photo")),
        (THIRD, _file("note.txt", b"ok")),
        (FOURTH, _file("note.txt", b"ok")),
    )
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    assert sho.sources == 4
