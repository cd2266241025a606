"""Archives nested in an attached document: what they unpack to is bounded before it is read."""

from __future__ import annotations

import io
import zipfile

import pytest

from review.escalation import scrub as scrub_module
from tests.review.fixtures import docx_with_parts, scrub_bounded

# What the hidden part unpacks to, and the limit the test gives the scrub: far apart.
_HIDDEN_MIB = 192
_LIMIT = 4 * 1024 * 1024


def _package_hiding(mib: int) -> bytes:
    """A spreadsheet package of a few hundred kilobytes holding one part that begins as a ZIP
    and unpacks to `mib` MiB of zeros (written a MiB at a time: the test never holds it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/embeddings/oleObject1.bin", "w", force_zip64=True) as part:
            part.write(b"PK\x03\x04")
            for _ in range(mib):
                part.write(bytes(1 << 20))
    return out.getvalue()


def test_a_part_of_an_embedded_package_is_not_unpacked_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attack: the count of a document's embedded PDFs, made before anything else, read each
    package embedded in an embedded package whole, whatever its members said they unpack
    to: only the attachment's own members were held to the limit. A .docx of a few hundred
    kilobytes made the tool holding the unlocked key inflate gigabytes in its own memory
    (`escalation new`, the packet's attachments), before it refused the document as too large."""
    monkeypatch.setattr(scrub_module, "_MAX_UNZIPPED", _LIMIT)
    inner = _package_hiding(_HIDDEN_MIB)
    assert len(inner) < 1024 * 1024
    data = docx_with_parts({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": inner})
    answer = scrub_bounded(data, 60)
    assert answer is not None, "the scrub was still unpacking after 60 s"
    outcome, grown = answer
    assert grown < 64 * 1024 * 1024, (
        f"the tool's memory grew by {grown >> 20} MiB for a document limited to"
        f" {_LIMIT >> 20} MiB unpacked ({outcome})"
    )
    assert "too large once unpacked" in outcome
