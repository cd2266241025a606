"""A file sent byte for byte in two reports makes them one writer's, for counting only."""

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


def test_one_file_sent_under_two_codenames_is_one_writer(
    filed: Filing, unlocked: ws.Unlocked
) -> None:
    corpus = filed(
        (FIRST, _file("kiln.jpg", PHOTO)),
        (AGAIN, _file("IMG_0042.jpg", PHOTO)),
    )
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    # The attack: one writer, two codenames, one photo: two independent sources of the SHO.
    assert (sho.sources, sho.corroborating) == (1, 1), "one writer counted as two sources"
    shown = review(unlocked.workspace.root, "links", "show", "2")
    assert shown.exit_code == 0, shown.output
    out = " ".join(shown.output.split())
    assert "holds the same attached file, byte for byte ('IMG_0042.jpg')" in out
    assert "Corroboration: 0 independent sources" in out
    # `names extract` reads the texts again and keeps what the files were.
    corroboration.reextract(unlocked)
    assert Corpus.load(unlocked).source_group(2) == 1


def test_different_files_or_a_tiny_one_join_no_writers(filed: Filing) -> None:
    corpus = filed(
        (FIRST, _file("kiln.jpg", PHOTO)),
        (AGAIN, _file("kiln.jpg", PHOTO + b"another photo")),
        (THIRD, _file("note.txt", b"ok")),
        (FOURTH, _file("note.txt", b"ok")),
    )
    (sho,) = corpus.lookup("Rana Tariq Mehmood", "person")
    assert sho.sources == 4
