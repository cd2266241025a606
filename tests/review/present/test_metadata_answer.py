"""What the metadata child answers is checked before it is shown: the child is not trusted."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import pytest
from PIL import Image

from review import bidi
from review.casework import pdfview
from review.present import metadata


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "PNG")
    return out.getvalue()


def _steers_a_terminal(text: str) -> bool:
    return any(
        unicodedata.category(ch) == "Cc" or unicodedata.bidirectional(ch) in bidi.EXPLICIT
        for ch in text
    )


def test_a_taken_over_metadata_childs_answer_reaches_no_terminal_as_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attack: a picture built to take over Pillow's parser in the confined child (its
    C code reads EXIF and TIFF tags) cannot reach the reviewer's files, but it writes the
    lines the tool shows. `escalation new --as-is` warned of the kinds of detail the file
    keeps straight on the terminal, from those lines: an OSC 52 sequence there wrote the
    reviewer's clipboard (a command to paste), and others erased or redrew the screen."""
    real = pdfview.run_child

    def taken_over(module: str, *args: Any, **kwargs: Any) -> tuple[bytes, int]:
        assert module == "review.present.metachild"
        return real("tests.review.present.taken_over_child", *args, **kwargs)

    monkeypatch.setattr(pdfview, "run_child", taken_over)
    found = metadata.identifying(None, _png())
    assert found, "the child's answer was not read at all"
    for line in [*found, *metadata.kinds(found)]:
        assert not _steers_a_terminal(line), f"shown as it came: {line!r}"
