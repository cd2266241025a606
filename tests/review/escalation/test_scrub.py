"""Attachments leave without metadata: each rebuilt copy is read back and found clean."""

from __future__ import annotations

import io
import multiprocessing
import zipfile

import pikepdf
import pytest
from PIL import Image

from review.escalation.scrub import (
    NEUTRAL_APP,
    NEUTRAL_CORE,
    NEUTRAL_META,
    Unsupported,
    as_is,
    document_text,
    scrub,
    sniff,
)
from tests.review.fixtures import (
    CANARY,
    assert_clean_image,
    docx_with_author,
    docx_with_parts,
    jpeg_with_gps,
    odt_with_author,
    pdf_with_author,
    png_with_text,
    scrub_within,
)


def _keep(text: str) -> str:
    return text


def test_the_fixture_photo_does_carry_gps_and_an_author() -> None:
    with Image.open(io.BytesIO(jpeg_with_gps())) as img:
        assert img.getexif().get_ifd(0x8825)[2] == (31.0, 30.0, 15.0)
        assert "xmp" in img.info
        assert "icc_profile" in img.info


def test_a_photo_is_rebuilt_upright_without_exif_gps_xmp_or_profile() -> None:
    result = scrub(jpeg_with_gps((24, 16)), _keep)
    assert (result.content_type, result.extension, result.scrubbed) == ("image/jpeg", "jpg", True)
    assert_clean_image(result.data)
    with Image.open(io.BytesIO(result.data)) as img:
        assert img.format == "JPEG"
        assert img.size == (16, 24)  # orientation 6 applied before the tag went


def test_a_png_loses_its_text_chunks() -> None:
    with Image.open(io.BytesIO(png_with_text())) as img:
        assert img.text["Author"] == CANARY  # type: ignore[attr-defined]
    result = scrub(png_with_text(), _keep)
    assert result.content_type == "image/png"
    assert_clean_image(result.data)
    with Image.open(io.BytesIO(result.data)) as img:
        assert img.mode == "RGBA"


def test_a_pdf_loses_its_info_xmp_javascript_and_embedded_files() -> None:
    original = pdf_with_author()
    with pikepdf.open(io.BytesIO(original)) as pdf:
        assert str(pdf.docinfo["/Author"]) == CANARY
        assert "/Metadata" in pdf.Root
        assert len(pdf.attachments) == 1
    result = scrub(original, _keep)
    assert result.content_type == "application/pdf"
    with pikepdf.open(io.BytesIO(result.data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert "/JavaScript" not in pdf.Root.Names
        assert len(pdf.attachments) == 0
        assert len(pdf.pages) == 1
        with pdf.open_metadata() as meta:
            assert "dc:creator" not in meta
    assert CANARY.encode() not in result.data


def test_a_docx_gets_neutral_properties_and_no_names_or_machine_ids() -> None:
    result = scrub(docx_with_author(), _keep)
    assert result.extension == "docx"
    with zipfile.ZipFile(io.BytesIO(result.data)) as z:
        assert z.read("docProps/core.xml") == NEUTRAL_CORE
        assert z.read("docProps/app.xml") == NEUTRAL_APP
        assert CANARY.encode() not in z.read("docProps/custom.xml")
        document = z.read("word/document.xml")
        assert b"<w:t>The ledger</w:t>" in document
        assert b'w:author="Author"' in document
        assert b"rsid" not in document
        assert b"rsid" not in z.read("word/settings.xml")
        assert_clean_image(z.read("word/media/image1.jpg"))
        for info in z.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert CANARY.encode() not in z.read(info)
        assert z.comment == b""


def test_an_odt_gets_a_neutral_meta_and_no_author_or_printer() -> None:
    result = scrub(odt_with_author(), _keep)
    assert (result.extension, result.content_type) == (
        "odt",
        "application/vnd.oasis.opendocument.text",
    )
    with zipfile.ZipFile(io.BytesIO(result.data)) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert z.read("meta.xml") == NEUTRAL_META
        for name in z.namelist():
            assert CANARY.encode() not in z.read(name), name


def test_plain_text_is_redacted_like_the_reports() -> None:
    result = scrub("\ufeffShazia was here".encode(), lambda t: t.replace("Shazia", "Person A"))
    assert result.data == b"Person A was here"
    assert result.content_type == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x18ftypmp42" + bytes(64),  # a video
        b"ID3\x03\x00" + bytes(64),  # audio
        bytes(range(256)),  # anything binary
        b"\xff\xd8\xff\xe0 not really a jpeg",
        b"%PDF-1.7 not really a pdf",
    ],
    ids=["mp4", "mp3", "binary", "broken-jpeg", "broken-pdf"],
)
def test_files_whose_metadata_cannot_be_removed_are_refused(data: bytes) -> None:
    with pytest.raises(Unsupported):
        scrub(data, _keep)


def test_a_zip_that_is_not_an_office_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("photo.jpg", jpeg_with_gps())
    with pytest.raises(Unsupported):
        scrub(out.getvalue(), _keep)


def test_a_document_with_macros_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/vbaProject.bin", b"\x00macro")
    with pytest.raises(Unsupported):
        scrub(out.getvalue(), _keep)


def test_as_is_keeps_every_byte_and_says_so() -> None:
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    kept = as_is(data, "IMG_0001 Gujrat.MP4", "video/mp4")
    assert (kept.data, kept.extension, kept.content_type, kept.scrubbed) == (
        data,
        "mp4",
        "video/mp4",
        False,
    )
    assert as_is(data, "no extension", None).extension == "bin"


def test_types_are_told_by_their_bytes_not_their_names() -> None:
    assert sniff(jpeg_with_gps()) == "jpeg"
    assert sniff(pdf_with_author()) == "pdf"
    assert sniff(docx_with_author()) == "zip"
    assert sniff("اردو متن".encode()) == "text"
    assert sniff(b"\x00\x01binary") is None


def test_an_office_document_keeps_no_user_name_path_or_edit_time() -> None:
    """Attack: Word's list of the people who edited it (w15:author), the absolute path
    Excel saves a workbook from and the template path (both under C:\\Users\\<name>), and
    the time of every tracked change survived the scrub."""
    data = docx_with_parts(
        {
            "word/people.xml": (
                f'<w15:people xmlns:w15="p"><w15:person w15:author="{CANARY}">'
                '<w15:presenceInfo w15:providerId="None" w15:userId="x"/></w15:person>'
                "</w15:people>"
            ),
            "word/_rels/settings.xml.rels": (
                '<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org'
                '/officeDocument/2006/relationships/attachedTemplate" Target="file:///C:\\Users'
                f'\\{CANARY}\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm" '
                'TargetMode="External"/></Relationships>'
            ),
            "word/comments.xml": (
                '<w:comments xmlns:w="w"><w:comment w:id="0" w:author="A" '
                'w:date="2024-03-07T22:41:00Z" w:initials="A"/></w:comments>'
            ),
        }
    )
    result = scrub(data, _keep)
    with zipfile.ZipFile(io.BytesIO(result.data)) as z:
        for name in z.namelist():
            body = z.read(name)
            assert CANARY.encode() not in body, name
            assert b"2024-03-07" not in body, name
            assert b"2025-01-01" not in body, name
    workbook = (
        '<workbook xmlns:x15ac="a"><mc:AlternateContent><mc:Choice Requires="x15">'
        f'<x15ac:absPath url="C:\\Users\\{CANARY}\\Documents\\"/></mc:Choice>'
        "</mc:AlternateContent></workbook>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", workbook)
    with zipfile.ZipFile(io.BytesIO(scrub(out.getvalue(), _keep).data)) as z:
        assert CANARY.encode() not in z.read("xl/workbook.xml")


def test_a_document_embedded_in_another_loses_its_metadata_too() -> None:
    """Attack: a spreadsheet pasted into a Word file is a whole package of its own, with
    its author in its docProps, and went out as it came."""
    result = scrub(docx_with_parts({"word/embeddings/Sheet1.docx": docx_with_author()}), _keep)
    with zipfile.ZipFile(io.BytesIO(result.data)) as z:
        inner = z.read("word/embeddings/Sheet1.docx")
    with zipfile.ZipFile(io.BytesIO(inner)) as z:
        for name in z.namelist():
            assert CANARY.encode() not in z.read(name), name


def test_a_pdf_loses_its_annotation_authors_and_its_photos_exif() -> None:
    """Attack: a comment on a PDF page names who wrote it and when (/T, /M); a photo
    inside a PDF (a phone's scan) is its JPEG verbatim, EXIF and GPS included."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    photo = jpeg_with_gps()
    image = pdf.make_stream(photo)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height = 24, 16
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
    image.Filter = pikepdf.Name.DCTDecode
    page = pdf.pages[0]
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj.Contents = pdf.make_stream(b"q 24 0 0 16 0 0 cm /Im0 Do Q")
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[0, 0, 10, 10],
        Contents=pikepdf.String("see the ledger"),
        T=pikepdf.String(CANARY),
        M=pikepdf.String("D:20240307224100Z"),
        CreationDate=pikepdf.String("D:20240307224100Z"),
    )
    page.obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(note)]))
    out = io.BytesIO()
    pdf.save(out)
    result = scrub(out.getvalue(), _keep)
    assert CANARY.encode() not in result.data
    assert b"20240307" not in result.data
    with pikepdf.open(io.BytesIO(result.data)) as clean:
        (kept,) = clean.pages[0].Annots
        assert str(kept.Contents) == "see the ledger"
        (inner,) = clean.pages[0].Resources.XObject.values()
        assert_clean_image(inner.read_raw_bytes())


def test_document_text_reads_what_an_office_file_or_a_pdf_says() -> None:
    docx = scrub(docx_with_author(), _keep)
    assert "The ledger" in document_text(docx)
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj.Contents = pdf.make_stream(b"BT /F1 12 Tf (Nasreen Bibi) Tj ET")
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    assert "Nasreen Bibi" in document_text(scrub(out.getvalue(), _keep))
    assert document_text(scrub(b"plain", _keep)) == ""


@pytest.mark.parametrize(
    "data",
    [
        b"{\\rtf1\\ansi{\\info{\\author " + CANARY.encode() + b"}}Nothing here}",
        b'<?xml version="1.0"?><svg><metadata><dc:creator>' + CANARY.encode() + b"</dc:creator>"
        b"</metadata></svg>",
        b'\xef\xbb\xbf  <svg sodipodi:docname="/home/' + CANARY.encode() + b'/x.svg"/>',
        b'<!DOCTYPE html><html><meta name="author" content="' + CANARY.encode() + b'"></html>',
    ],
    ids=["rtf", "svg", "svg-bom", "html"],
)
def test_text_formats_with_metadata_of_their_own_are_refused(data: bytes) -> None:
    """Attack: RTF, SVG and HTML are UTF-8 text, so they went out as "plain text, metadata
    removed", their author, file path or generator still in them."""
    with pytest.raises(Unsupported):
        scrub(data, _keep)


@pytest.mark.parametrize(
    ("part", "unit"),
    [
        ("word/document.xml", b"<w:rsids>"),
        ("word/settings.xml", b"<w:docId "),
        ("settings.xml", b'<config:config-item config:name="PrinterName" '),
        ("xl/workbook.xml", b"<x15ac:absPath "),
    ],
    ids=["rsids", "docId", "printer", "absPath"],
)
def test_an_office_part_made_to_be_scanned_over_and_over_is_scrubbed_in_linear_time(
    part: str, unit: bytes
) -> None:
    # The attack: a 200 KB .docx unpacks (well under the limit) to one part of tags
    # that never close, and every scrubbing pattern scanned to its end from each one:
    # 40 000 of them took a minute, a million would take the escalation twelve hours.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
        z.writestr(part, b"<?xml?>" + unit * 40_000)
        if part != "word/document.xml":
            z.writestr("word/document.xml", b"<w:document/>")
    assert scrub_within(out.getvalue(), 10), "still scrubbing after 10 seconds"


def _large_blank_png() -> bytes:
    """A one-bit PNG of 9,400 x 9,400 pixels (under the one-picture limit): 11 KB."""
    out = io.BytesIO()
    Image.new("1", (9400, 9400)).save(out, "PNG")
    return out.getvalue()


def test_a_document_of_many_large_pictures_is_refused_before_any_is_rebuilt() -> None:
    # The attack: a .docx of 44 KB holding four 11 KB one-bit PNGs of 88 million pixels
    # each, every one under the one-picture limit. Each was decoded and rebuilt in the
    # reviewer's process, 7.5 s and about a gigabyte apiece: a 1 MB document of ninety
    # took `escalation new` ten minutes, and the 10,000 members a package may hold a day.
    png = _large_blank_png()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("word/document.xml", b"<w:document/>")
        for i in range(4):
            z.writestr(f"word/media/image{i}.png", png)
    assert len(out.getvalue()) < 64 * 1024
    assert scrub_within(out.getvalue(), 5), "still rebuilding the pictures after 5 seconds"
    with pytest.raises(Unsupported, match="the pictures in the document are too large in all"):
        scrub(out.getvalue(), _keep)


def _read_within(data: bytes, seconds: float) -> bool:
    """Whether a scrubbed document's text is read within `seconds` (in a child, as above)."""
    child = multiprocessing.get_context("fork").Process(
        target=lambda: document_text(scrub(data, _keep))
    )
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        return False
    return child.exitcode == 0


@pytest.mark.parametrize("unit", [b"<", b"<w:t ", b"<a:docPr "], ids=["lt", "run", "picture"])
def test_a_part_of_unclosed_tags_has_its_text_read_in_linear_time(unit: bytes) -> None:
    # The attack: the redaction check reads every word of the rebuilt document by taking
    # out its tags, with a pattern that looked for a tag's end past every other tag. A
    # .docx of a few hundred bytes whose document.xml is 200 KB of "<" held `escalation
    # new` a minute after it was scrubbed, and its 512 MiB limit allows years.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("word/document.xml", unit * (400_000 // len(unit)))
    assert _read_within(out.getvalue(), 10), "still reading the text after 10 seconds"


def test_text_beside_unclosed_tags_is_still_read() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("word/document.xml", b"<w:p><<w:t>Nasreen Bibi</w:t></w:p>")
    assert "Nasreen Bibi" in document_text(scrub(out.getvalue(), _keep))


def mpo_with_gps() -> bytes:
    """A phone's two-picture photo (MPO: the photo, then a depth map or preview), both with GPS."""
    with Image.open(io.BytesIO(jpeg_with_gps((24, 16)))) as photo:
        exif = photo.getexif()
        out = io.BytesIO()
        second = Image.new("RGB", (6, 4), (9, 9, 9))
        photo.save(out, "MPO", save_all=True, append_images=[second], exif=exif)
    return out.getvalue()


def test_a_phones_two_picture_photo_goes_as_its_photo_alone_without_exif() -> None:
    # The attack: portrait-mode and many phones' photos are MPO, a JPEG with a second picture
    # after it. The packet refused it ("animated and multi-page images are not supported"),
    # so the reviewer's only way to send the photo was --as-is: its GPS, camera and second
    # picture all went to the body.
    original = mpo_with_gps()
    with Image.open(io.BytesIO(original)) as img:
        assert (img.format, getattr(img, "n_frames", 1)) == ("MPO", 2)
    result = scrub(original, _keep)
    assert (result.content_type, result.extension) == ("image/jpeg", "jpg")
    assert_clean_image(result.data)
    with Image.open(io.BytesIO(result.data)) as img:
        assert (img.format, getattr(img, "n_frames", 1)) == ("JPEG", 1)
        assert img.size == (16, 24)  # the photo, upright, not the second picture
