"""Attachments the scrub cannot clean, or could not read, end to end through `escalate`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf

from app.demo import DEMO_PASSPHRASE
from crypto import KeyPair
from crypto.packet import open_packet
from review import workspace as ws
from review.workspace.search import SearchIndex
from tests.review.fixtures import docx_with_parts
from tests.review.support import Server, review


def _escalate(
    server: Server,
    workspace: Path,
    tmp_path: Path,
    name: str,
    data: bytes,
    message: str = "SHO Rana Tariq took a bribe at the checkpost.",
) -> tuple[int, KeyPair, list[str]]:
    """Submit a report with one attachment, import it, register a body: the escalate args."""
    server.submit(message, [("files", name, data, "x/y")])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        (num,) = SearchIndex.load(u).search("bribe checkpost")
    finally:
        u.workspace.close()
    assert review(workspace, "status", str(num), "in-review").exit_code == 0
    body = KeyPair.generate()
    assert body.encryption_public is not None
    args = ["bodies", "add", "--name", "Cell", "--jurisdiction", "Punjab", "--contact", "hand"]
    added = review(workspace, *args, "--encryption-key", body.encryption_public.to_text())
    assert added.exit_code == 0, added.output
    return (
        num,
        body,
        ["escalate", str(num), "--to", "Cell", "--summary", "A bribe", "--keep", "SHO Rana Tariq"],
    )


def test_a_document_holding_an_ole_object_is_refused_with_the_way_out(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: a .docx holding an old embedded object (its SummaryInformation names the
    author) went into the packet marked 'metadata removed'."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Author: Inspector X"
    data = docx_with_parts({"word/embeddings/oleObject1.bin": ole})
    num, _, args = _escalate(server, workspace, tmp_path, "statement.docx", data)
    out = tmp_path / "packet.rzp"
    refused = review(workspace, *args, "--attach", f"{num}:1", "--out", str(out))
    assert refused.exit_code == 1, refused.output
    assert "word/embeddings/oleObject1.bin" in refused.output
    assert "OLE object" in refused.output
    assert f"--as-is {num}:1" in refused.output
    assert "Traceback" not in refused.output
    assert not out.exists()


def test_a_scanned_pdf_goes_into_a_packet(server: Server, workspace: Path, tmp_path: Path) -> None:
    """Attack: a scan kept as JBIG2, which pikepdf cannot decode, made `escalate` end in a
    PdfError traceback while checking the PDF's text: no scanned document could be sent."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    image = pdf.make_stream(b"\x00\x00\x00\x01" + bytes(32))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 8, 8, 1
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.JBIG2Decode
    page = pdf.pages[0]
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj.Contents = pdf.make_stream(b"q 8 0 0 8 0 0 cm /Im0 Do Q")
    scan = io.BytesIO()
    pdf.save(scan)
    num, body, args = _escalate(server, workspace, tmp_path, "fir.pdf", scan.getvalue())
    out = tmp_path / "packet.rzp"
    sent = review(workspace, *args, "--attach", f"{num}:1", "--out", str(out))
    assert sent.exit_code == 0, sent.output
    assert body.encryption is not None
    opened = open_packet(out.read_bytes(), body.encryption)
    (attached,) = opened.content.files
    with pikepdf.open(io.BytesIO(attached.data)) as clean:
        (kept,) = clean.pages[0].Resources.XObject.values()
        assert kept.Filter == pikepdf.Name.JBIG2Decode


def test_a_document_whose_embedded_spreadsheet_names_a_redacted_person_is_refused(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: the victim's name, confirmed for redaction, stood in a spreadsheet embedded
    in the attached statement; only the statement's own parts were read, and the packet
    went out with her name in it."""
    sheet = io.BytesIO()
    with zipfile.ZipFile(sheet, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/sharedStrings.xml", "<sst><si><t>Nasreen Bibi, 14</t></si></sst>")
    data = docx_with_parts({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": sheet.getvalue()})
    message = "SHO Rana Tariq took a bribe at the checkpost and sold Nasreen Bibi."
    num, _, args = _escalate(server, workspace, tmp_path, "statement.docx", data, message)
    out = tmp_path / "packet.rzp"
    args += ["--attach", f"{num}:1", "--yes-redact", "Nasreen Bibi", "--out", str(out)]
    refused = review(workspace, *args)
    assert refused.exit_code == 1, refused.output
    assert "attachment 1 still names" in refused.output
    assert not out.exists()
