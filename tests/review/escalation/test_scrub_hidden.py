"""Metadata in the less travelled corners of a file: read back from the rebuilt copy, or refused."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable

import pikepdf
import pytest
from PIL import Image, PngImagePlugin

from review.escalation import scrub as scrub_module
from review.escalation.scrub import Unsupported, document_text, scrub
from tests.review.fixtures import (
    CANARY,
    XMP,
    assert_clean_image,
    docx_with_author,
    docx_with_parts,
    jp2_with_xml_and_comment,
    odt_with_author,
    scrub_within,
)


def _keep(text: str) -> str:
    return text


def _gif_with_comment_and_xmp() -> bytes:
    """A GIF with a comment extension and Adobe's XMP application extension."""
    img = Image.new("P", (6, 4))
    img.putpalette([255, 0, 0, 0, 0, 255] * 128)
    out = io.BytesIO()
    img.save(out, "GIF", comment=CANARY.encode())
    data = out.getvalue()
    # The XMP application extension: its packet as raw sub-blocks, then the "magic trailer".
    trailer = bytes([1]) + bytes(range(255, -1, -1)) + b"\x00"
    xmp = b"\x21\xff\x0bXMP DataXMP" + XMP + trailer
    at = data.index(b"\x2c")  # the image descriptor
    return data[:at] + xmp + data[at:]


def _ole_object() -> bytes:
    """An OLE compound file as Word embeds one: its SummaryInformation names the author."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff"
    name = "\x05SummaryInformation".encode("utf-16-le")
    return header.ljust(512, b"\x00") + name.ljust(128, b"\x00") + CANARY.encode() + bytes(64)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_an_old_ole_object_in_an_office_document_is_refused() -> None:
    """Attack: an equation or an old .xls pasted into a .docx is an OLE compound file whose
    SummaryInformation keeps its author and times; it went out unchanged."""
    data = docx_with_parts({"word/embeddings/oleObject1.bin": _ole_object()})
    with pytest.raises(Unsupported, match="OLE"):
        scrub(data, _keep)


def test_an_old_ole_object_in_an_odf_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(odt_with_author()).items():
            z.writestr(name, body)
        z.writestr("Object 1", _ole_object())
    with pytest.raises(Unsupported, match="OLE"):
        scrub(out.getvalue(), _keep)


def test_an_odf_object_embedded_in_a_document_loses_its_meta_too() -> None:
    """Attack: a chart or formula inside an .odt keeps a meta.xml of its own ("Object 1/
    meta.xml"): its creator, the time it was made and how long it was edited."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(odt_with_author()).items():
            z.writestr(name, body)
        z.writestr(
            "Object 1/meta.xml",
            "<office:document-meta><office:meta><meta:initial-creator>"
            f"{CANARY}</meta:initial-creator><meta:creation-date>2024-03-07T22:41:00"
            "</meta:creation-date></office:meta></office:document-meta>",
        )
    for name, body in _members(scrub(out.getvalue(), _keep).data).items():
        assert CANARY.encode() not in body, name
        assert b"2024-03-07" not in body, name


def test_a_gif_in_an_office_document_loses_its_comment_and_xmp() -> None:
    """Attack: a GIF pasted into a .docx went out as it came, its comment and XMP intact."""
    original = _gif_with_comment_and_xmp()
    with Image.open(io.BytesIO(original)) as img:
        assert img.info["comment"] == CANARY.encode()
        assert img.info["extension"][0] == b"XMP DataXMP"
    assert original.count(CANARY.encode()) == 2
    result = scrub(docx_with_parts({"word/media/image2.gif": original}), _keep)
    gif = _members(result.data)["word/media/image2.gif"]
    assert CANARY.encode() not in gif
    assert_clean_image(gif)
    with Image.open(io.BytesIO(gif)) as img:
        assert "extension" not in img.info
        assert img.format == "GIF"
        assert img.size == (6, 4)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("word/media/image3.jp2", jp2_with_xml_and_comment()),
        ("word/media/image4.heic", b"\x00\x00\x00\x18ftypheic" + CANARY.encode() + bytes(32)),
        ("word/media/image5.avif", b"\x00\x00\x00\x1cftypavif" + CANARY.encode() + bytes(32)),
    ],
    ids=["jpeg2000", "heic", "avif"],
)
def test_a_picture_of_a_kind_not_rebuilt_in_an_office_document_is_refused(
    name: str, body: bytes
) -> None:
    """Attack: a JPEG 2000 (its XML box and comment), a HEIC or an AVIF (their EXIF and
    XMP items) inside a .docx went out byte for byte."""
    with pytest.raises(Unsupported):
        scrub(docx_with_parts({name: body}), _keep)


def test_word_paragraph_and_comment_ids_are_renumbered_alike_in_every_part() -> None:
    """Attack: w14:paraId and w14:textId on every paragraph, w16cid:durableId on every
    comment are random ids Word keeps from copy to copy, so the 'metadata removed' copy
    could be matched with one found on the writer's machine."""
    document = (
        '<w:document><w:body><w:p w14:paraId="1A2B3C4D" w14:textId="77AA55CC">'
        "<w:r><w:t>The ledger</w:t></w:r></w:p>"
        '<w:p w14:paraId="0E0F1011" w14:textId="77AA55CC"/></w:body></w:document>'
    )
    comments = (
        '<w:comments><w:comment w:id="0" w:author="A"><w:p w14:paraId="5E6F7A0B"/>'
        "</w:comment></w:comments>"
    )
    extended = (
        '<w15:commentsEx><w15:commentEx w15:paraId="5E6F7A0B" w15:paraIdParent="1A2B3C4D" '
        'w15:done="0"/></w15:commentsEx>'
    )
    ids = (
        '<w16cid:commentsIds><w16cid:commentId w16cid:paraId="5E6F7A0B" '
        'w16cid:durableId="3C2D1E0F"/></w16cid:commentsIds>'
    )
    parts = {
        "word/document.xml": document,
        "word/comments.xml": comments,
        "word/commentsExtended.xml": extended,
        "word/commentsIds.xml": ids,
    }
    result = _members(scrub(docx_with_parts(parts), _keep).data)
    for name in parts:
        for value in (b"1A2B3C4D", b"77AA55CC", b"0E0F1011", b"5E6F7A0B", b"3C2D1E0F"):
            assert value not in result[name], (name, value)
    # Each value is replaced alike wherever it stands, so a comment still points at its
    # paragraph and its reply at the comment it answers.
    pattern = re.compile(rb'(paraId|textId|durableId|paraIdParent)="([0-9A-F]{8})"')
    found = [(n, m[0], m[1]) for n in parts for m in pattern.findall(result[n])]
    by = {(n, kind): value for n, kind, value in found}
    assert by["word/comments.xml", b"paraId"] == by["word/commentsExtended.xml", b"paraId"]
    assert by["word/commentsExtended.xml", b"paraId"] == by["word/commentsIds.xml", b"paraId"]
    assert by["word/commentsExtended.xml", b"paraIdParent"] in result["word/document.xml"]
    assert b"The ledger" in result["word/document.xml"]


def test_rsids_names_and_times_go_from_every_part_whatever_their_quotes() -> None:
    """Attack: Word's revision-save ids, which every document of one machine's Word shares,
    and names and times written in attributes quoted with apostrophes or spaced around
    their '=' (as other programs write them) went out as they came."""
    parts = {
        "word/header1.xml": '<w:hdr><w:p w:rsidR="00C0FFEE" w:rsidRDefault="00C0FFEE"/></w:hdr>',
        "word/footnotes.xml": "<w:footnotes><w:p w:rsidRPr='00C0FFEE'/></w:footnotes>",
        "word/styles.xml": '<w:styles><w:style w:rsid = "00C0FFEE"/></w:styles>',
        "word/comments.xml": (
            f"<w:comments><w:comment w:id='0' w:author='{CANARY}' w:initials = '{CANARY}' "
            "w:date='2024-03-07T22:41:00Z'/></w:comments>"
        ),
    }
    result = _members(scrub(docx_with_parts(parts), _keep).data)
    for name in parts:
        assert b"00C0FFEE" not in result[name], name
        assert CANARY.encode() not in result[name], name
        assert b"2024-03-07" not in result[name], name
    assert b'w:author="Author"' in result["word/comments.xml"]


def _png_with_every_chunk() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARY)
    info.add_text("Comment", CANARY, zip=True)  # zTXt
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add(b"tIME", b"\x07\xe8\x03\x07\x16\x29\x00")
    exif = Image.Exif()
    exif[0x013B] = CANARY  # Artist
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def _webp_with_exif_and_xmp() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = CANARY
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(out, "WEBP", exif=exif, xmp=XMP, lossless=True)
    return out.getvalue()


def _tiff_with_tags() -> bytes:
    out = io.BytesIO()
    tags = {270: CANARY, 305: CANARY, 315: CANARY, 306: "2024:03:07 22:41:00", 700: XMP}
    Image.new("RGB", (8, 8), (9, 9, 9)).save(out, "TIFF", tiffinfo=tags)
    return out.getvalue()


@pytest.mark.parametrize(
    "build",
    [_png_with_every_chunk, _webp_with_exif_and_xmp, _tiff_with_tags, _gif_with_comment_and_xmp],
    ids=["png-text-ztxt-itxt-exif-time", "webp-exif-xmp", "tiff-tags", "gif-comment-xmp"],
)
def test_a_picture_attached_on_its_own_is_rebuilt_from_its_pixels(
    build: Callable[[], bytes],
) -> None:
    """Checked, not found: a picture attached on its own is re-encoded from its pixels."""
    original = build()
    assert CANARY.encode() in original or CANARY.encode() in _inflated(original)
    result = scrub(original, _keep)
    assert_clean_image(result.data)
    assert b"tIME" not in result.data
    assert b"2024" not in result.data


def _inflated(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        return repr(img.info).encode()


@pytest.mark.parametrize(
    "data",
    [
        jp2_with_xml_and_comment(),
        b"\x00\x00\x00\x18ftypheic" + CANARY.encode() + bytes(32),
        b"\x00\x00\x00\x1cftypavif" + CANARY.encode() + bytes(32),
    ],
    ids=["jpeg2000", "heic", "avif"],
)
def test_a_picture_not_rebuilt_attached_on_its_own_is_refused(data: bytes) -> None:
    with pytest.raises(Unsupported):
        scrub(data, _keep)


@pytest.mark.parametrize(
    "unit",
    [
        b'<w:p w14:paraId="%08X" w14:textId="77AA55CC" w:rsidR="00C0FFEE">',
        b"<p:cm dt='2024-03-07 x=%08X ",
        b'<person userName = "%08X ',
        b" w14:paraId='%08X",
        b"<w:docVars><w:docVar w:val='%08X'/>",
        b"<a16:creationId xmlns:a16='x' <p14:creationId val='1' xr:uid=\"{%08X",
        b'<wp:docPr name="IMG_%08X name="a.jpg descr=\'',
    ],
    ids=[
        "ids",
        "unclosed-date",
        "unclosed-name",
        "unclosed-id",
        "unclosed-docvars",
        "guids",
        "picture-names",
    ],
)
def test_a_part_of_ids_dates_and_names_made_to_be_scanned_over_is_scrubbed_in_linear_time(
    unit: bytes,
) -> None:
    body = b"".join(unit % i for i in range(40_000))
    assert scrub_within(docx_with_parts({"word/document.xml": body}), 10)


def _xlsx(parts: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for name, body in {"xl/workbook.xml": "<workbook/>", **parts}.items():
            z.writestr(name, body)
    return out.getvalue()


def _pptx(parts: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for name, body in {"ppt/presentation.xml": "<p:presentation/>", **parts}.items():
            z.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("build", "parts"),
    [
        (
            _xlsx,
            {
                "xl/threadedComments/threadedComment1.xml": (
                    '<ThreadedComments><threadedComment ref="A1" dT="2024-03-07T22:41:00.00" '
                    'personId="{6C0D7D4C-0000-4000-8000-000000000001}"><text>see</text>'
                    "</threadedComment></ThreadedComments>"
                ),
                "xl/persons/person.xml": (
                    f'<personList><person displayName="{CANARY}" id="{{6C0D7D4C-0000-4000-'
                    f'8000-000000000001}}" userId="{CANARY}@police.gov.pk" '
                    'providerId="AD"/></personList>'
                ),
                "xl/revisions/revisionHeaders.xml": (
                    '<headers><header guid="{1}" dateTime="2024-03-07T22:41:00" '
                    f'maxSheetId="2" userName="{CANARY}" r:id="rId1"/></headers>'
                ),
                "xl/revisions/userNames.xml": (
                    f'<users><userInfo guid="{{1}}" name="{CANARY}" id="1" '
                    'dateTime="2024-03-07T22:41:00"/></users>'
                ),
            },
        ),
        (
            _pptx,
            {
                "ppt/comments/comment1.xml": (
                    '<p:cmLst><p:cm authorId="0" dt="2024-03-07T22:41:00.000" idx="1">'
                    "<p:text>see</p:text></p:cm></p:cmLst>"
                ),
                "ppt/comments/modernComment_100_0.xml": (
                    '<p188:cmLst><p188:cm id="{1}" authorId="{2}" '
                    'created="2024-03-07T22:41:00.000"/></p188:cmLst>'
                ),
                "ppt/authors.xml": (
                    f'<p188:authorLst><p188:author id="{{2}}" name="{CANARY}" initials="CQ" '
                    f'userId="{CANARY}" providerId="AD"/></p188:authorLst>'
                ),
            },
        ),
    ],
    ids=["xlsx-threaded-comments-shared-workbook", "pptx-comments"],
)
def test_spreadsheet_and_slide_comments_keep_no_name_or_time(
    build: Callable[[dict[str, str | bytes]], bytes], parts: dict[str, str | bytes]
) -> None:
    """Attack: Excel's threaded comments (dT) and people list, a shared workbook's revision
    log (userName, dateTime), PowerPoint's comments (dt, created) and its list of
    authors (name, initials) kept who wrote each and when, to the second."""
    result = _members(scrub(build(parts), _keep).data)
    for name in parts:
        assert CANARY.encode() not in result[name], name
        assert b"2024-03-07" not in result[name], name
        assert b'initials="CQ"' not in result[name], name
        assert b'providerId="AD"' not in result[name], name


def _devmode(printer: str) -> bytes:
    """A DEVMODEW as Office keeps it in printerSettings1.bin, with its driver's own data."""
    name = printer.encode("utf-16-le").ljust(64, b"\x00")
    fixed = struct.pack("<HHHHI", 0x0401, 0x0600, 220, 32, 0).ljust(220 - 64, b"\x00")
    return name + fixed + f"owner={CANARY}".encode("utf-16-le").ljust(32, b"\x00")


def test_the_printer_a_document_was_set_up_for_is_not_named() -> None:
    """Attack: Office keeps the page setup's printer as a DEVMODE: its name (a print
    server and queue, '\\\\PRINTSRV-PS12\\Floor2') and its driver's private data went
    out as they came."""
    printer = f"\\\\{CANARY}\\Floor2"
    data = _xlsx({"xl/printerSettings/printerSettings1.bin": _devmode(printer)})
    settings = _members(scrub(data, _keep).data)["xl/printerSettings/printerSettings1.bin"]
    assert printer.encode("utf-16-le") not in settings
    assert CANARY.encode("utf-16-le") not in settings
    assert len(settings) == 220
    assert struct.unpack_from("<HH", settings, 68) == (220, 0)  # dmSize, dmDriverExtra


def test_printer_settings_that_are_not_a_devmode_are_refused() -> None:
    data = _xlsx({"xl/printerSettings/printerSettings1.bin": CANARY.encode() * 3})
    with pytest.raises(Unsupported, match="printer"):
        scrub(data, _keep)


def test_names_kept_by_templates_sharepoint_and_odf_annotations_go() -> None:
    """Attack: an office template's document variables (w:docVars: its macros keep the
    user's name there), SharePoint's columns in customXml (the owner's display name and
    account) and an .odt comment's initials (meta:creator-initials) went out as they came."""
    parts = {
        "word/settings.xml": (
            '<w:settings><w:docVars><w:docVar w:name="UserName" '
            f'w:val="{CANARY}"/></w:docVars><w:zoom w:percent="100"/></w:settings>'
        ),
        "customXml/item1.xml": (
            '<p:properties><documentManagement><Owner xmlns="x"><UserInfo><DisplayName>'
            f"{CANARY}</DisplayName><AccountId>12</AccountId><AccountType/></UserInfo>"
            "</Owner></documentManagement></p:properties>"
        ),
    }
    result = _members(scrub(docx_with_parts(parts), _keep).data)
    for name in parts:
        assert CANARY.encode() not in result[name], name
    assert b'<w:zoom w:percent="100"/>' in result["word/settings.xml"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(odt_with_author()).items():
            if name != "content.xml":
                z.writestr(name, body)
        z.writestr(
            "content.xml",
            "<office:annotation><dc:creator>A</dc:creator><meta:creator-initials>"
            f"{CANARY}</meta:creator-initials><text:p>see</text:p></office:annotation>",
        )
    odt = _members(scrub(out.getvalue(), _keep).data)
    assert CANARY.encode() not in odt["content.xml"]
    assert b"<text:p>see</text:p>" in odt["content.xml"]


def test_the_ids_excel_and_powerpoint_keep_from_copy_to_copy_are_renumbered() -> None:
    """Attack: Excel's documentId and xr:uid on every sheet and table, and the creation ids
    Office gives every slide and shape, are random ids kept in every copy of a file: the
    packet's copy could be matched with the one on the writer's machine."""
    guid = "{5A4B3C2D-1E0F-4A9B-8C7D-6E5F4A3B2C1D}"
    sheet = "{0C1D2E3F-4A5B-4C6D-8E7F-8A9B0C1D2E3F}"
    workbook = (
        f'<workbook><xr:revisionPtr revIDLastSave="0" documentId="8_{guid}" '
        f'xr6:coauthVersionLast="47" xr10:uidLastSave="{guid}"/><sheets>'
        f'<sheet name="A" sheetId="1" r:id="rId1" xr:uid="{sheet}"/></sheets></workbook>'
    )
    table = f'<table id="1" name="T" ref="A1:B2" xr:uid="{sheet}"/>'
    spreadsheet = _members(
        scrub(_xlsx({"xl/workbook.xml": workbook, "xl/tables/table1.xml": table}), _keep).data
    )
    slide = (
        '<p:sld><p:cNvPr id="2" name="T"><a:extLst><a:ext uri="{FF2B5EF4-FFF2-40B4-BE49-'
        f'F238E27FC236}}"><a16:creationId id="{guid}" xmlns:a16="x"/></a:ext></a:extLst>'
        '</p:cNvPr><p:extLst><p:ext uri="{BB962C8B-B14F-4D97-AF65-F5344CB8AC3E}">'
        '<p14:creationId xmlns:p14="y" val="2954329562"/></p:ext></p:extLst></p:sld>'
    )
    slides = _members(scrub(_pptx({"ppt/slides/slide1.xml": slide}), _keep).data)
    for body in [*spreadsheet.values(), *slides.values()]:
        assert guid[1:-1].encode() not in body
        assert sheet[1:-1].encode() not in body
        assert b"2954329562" not in body
    # An extension's uri names its kind, the same in every file: it stays.
    assert b"{FF2B5EF4-FFF2-40B4-BE49-F238E27FC236}" in slides["ppt/slides/slide1.xml"]
    # One id stays one id: the sheet's and the table's were the same, and still are.
    (kept,) = re.findall(
        rb'sheetId="1" r:id="rId1" xr:uid="([^"]+)"', spreadsheet["xl/workbook.xml"]
    )
    assert kept in spreadsheet["xl/tables/table1.xml"]


@pytest.mark.parametrize(
    "name",
    ["word/media/image9.svg", "Pictures/10000000000000640000006486D5F1A2.svg"],
    ids=["docx", "odf-picture"],
)
def test_an_svg_picture_in_an_office_document_is_refused(name: str) -> None:
    """Attack: an SVG in a document is XML text, so it went out as it came: its <metadata>
    creator, Inkscape's docname and export path (/home/<name>/…), and any photo inside it
    as base64 with its EXIF."""
    svg = (
        f'<?xml version="1.0"?><svg sodipodi:docname="/home/{CANARY}/map.svg"><metadata>'
        f"<dc:creator>{CANARY}</dc:creator></metadata></svg>"
    )
    with pytest.raises(Unsupported, match="SVG"):
        scrub(docx_with_parts({name: svg}), _keep)


def test_a_picture_keeps_not_the_file_name_it_was_inserted_from() -> None:
    """Attack: Word keeps the name of the file a picture was inserted from, and a phone
    names a photo by the second it was taken ('IMG_20240307_224100.jpg', 'WhatsApp Image
    2024-03-07 at 22.41.00.jpeg'): in wp:docPr and pic:cNvPr, and as a VML picture's
    o:title in a legacy drawing part (.vml, which was not scrubbed at all)."""
    document = (
        '<w:document><w:body><w:p><w:drawing><wp:inline><wp:docPr id="1" '
        'name="IMG_20240307_224100.jpg" descr="WhatsApp Image 2024-03-07 at 22.41.00.jpeg"/>'
        '<a:graphic><pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="IMG_20240307_224100.jpg" '
        'descr="The ledger, page 2"/></pic:nvPicPr></pic:pic></a:graphic></wp:inline>'
        '</w:drawing></w:p><w:p><w:pict><v:shape><v:imagedata r:id="rId9" '
        'o:title="IMG_20240307_224100"/></v:shape></w:pict></w:p></w:body></w:document>'
    )
    vml = (
        '<xml><v:shape id="_x0000_s1025"><v:imagedata o:relid="rId1" '
        'o:title="IMG_20240307_224100"/></v:shape></xml>'
    )
    result = _members(
        scrub(
            docx_with_parts({"word/document.xml": document, "xl/drawings/vmlDrawing1.vml": vml}),
            _keep,
        ).data
    )
    for name in ("word/document.xml", "xl/drawings/vmlDrawing1.vml"):
        assert b"20240307" not in result[name], name
        assert b"2024-03-07" not in result[name], name
    # Alt text a writer wrote stays: it says what the picture shows.
    assert b'descr="The ledger, page 2"' in result["word/document.xml"]


def test_data_connections_mail_merge_and_pivot_caches_keep_no_path_name_or_time() -> None:
    """Attack: a workbook's data connection keeps its database's path and login, a mail
    merge letter its data source's, and a pivot table who refreshed it and when."""
    # The queries are Office's text, never run: S608 sees SQL in a string.
    connections = (
        '<connections><connection id="1" name="db" type="1" refreshedVersion="6" '  # noqa: S608
        f'odcFile="C:\\Users\\{CANARY}\\Documents\\My Data Sources\\db.odc" '
        f'sourceFile="C:\\Users\\{CANARY}\\db.accdb"><dbPr connection="Provider=Microsoft.ACE'
        f';User ID={CANARY};Data Source=C:\\Users\\{CANARY}\\db.accdb" '
        f'command="SELECT * FROM `C:\\Users\\{CANARY}\\db`.`Cases`"/></connection></connections>'
    )
    pivot = (
        f'<pivotCacheDefinition r:id="rId1" refreshedBy="{CANARY}" refreshedDate="45358.9452" '
        'refreshedDateIso="2024-03-07T22:41:00" createdVersion="6" recordCount="3"/>'
    )
    settings = (
        '<w:settings><w:mailMerge><w:mainDocumentType w:val="formLetters"/>'  # noqa: S608
        f'<w:connectString w:val="Provider=Microsoft.ACE;Data Source=C:\\Users\\{CANARY}\\a.xlsx"/>'
        f'<w:query w:val="SELECT * FROM `C:\\Users\\{CANARY}\\a.xlsx`.`Sheet1$`"/>'
        f'<w:odso><w:udl w:val="Data Source=C:\\Users\\{CANARY}\\a.xlsx"/></w:odso>'
        "</w:mailMerge></w:settings>"
    )
    spreadsheet = _members(
        scrub(
            _xlsx(
                {
                    "xl/connections.xml": connections,
                    "xl/pivotCache/pivotCacheDefinition1.xml": pivot,
                }
            ),
            _keep,
        ).data
    )
    letter = _members(scrub(docx_with_parts({"word/settings.xml": settings}), _keep).data)
    for body in [*spreadsheet.values(), *letter.values()]:
        assert CANARY.encode() not in body
        assert b"2024-03-07" not in body
        assert b"45358" not in body
    assert b'recordCount="3"' in spreadsheet["xl/pivotCache/pivotCacheDefinition1.xml"]


def test_the_text_of_documents_embedded_in_a_document_is_read_for_checking() -> None:
    """Attack: a victim's name confirmed for redaction stood only in a spreadsheet or a PDF
    embedded in the attached .docx; the check read the outer document's own parts alone,
    so the packet went out with the name in it."""
    sheet = io.BytesIO()
    with zipfile.ZipFile(sheet, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/sharedStrings.xml", "<sst><si><t>Nasreen Bibi</t></si></sst>")
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].obj.Contents = pdf.make_stream(b"BT /F1 12 Tf (Shazia Bibi) Tj ET")
    statement = io.BytesIO()
    pdf.save(statement, compress_streams=True)
    data = docx_with_parts(
        {
            "word/embeddings/Microsoft_Excel_Worksheet.xlsx": sheet.getvalue(),
            "word/embeddings/statement.pdf": statement.getvalue(),
        }
    )
    text = document_text(scrub(data, _keep))
    assert "Nasreen Bibi" in text
    assert "Shazia Bibi" in text


def test_documents_embedded_in_one_another_share_one_unpacking_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Attack: the limit on what an attachment unpacks to held for each package alone, so
    a document holding documents, each just under it, unpacked to the limit as many
    times as it held documents (each inflated, scanned and rebuilt): a time and memory
    bomb on the workstation from a small upload."""
    monkeypatch.setattr(scrub_module, "_MAX_UNZIPPED", 1_000_000)
    packed = io.BytesIO()  # 600 kB of filler, deflated to a few hundred bytes
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in _members(docx_with_author()).items():
            z.writestr(name, body)
        z.writestr("word/media/filler.txt", b" " * 600_000)  # a binary one is refused now
    inner = packed.getvalue()
    assert len(inner) < 20_000
    parts = {f"word/embeddings/Doc{n}.docx": inner for n in range(3)}
    with pytest.raises(Unsupported, match="too large"):
        scrub(docx_with_parts(parts), _keep)


def test_documents_embedded_in_one_another_too_deeply_are_refused() -> None:
    """Attack: a document may be embedded in one embedded in another, without end (a zip
    that holds itself unpacks for ever); each level was rebuilt, however deep."""
    data = docx_with_author()
    for _ in range(5):
        data = docx_with_parts({"word/embeddings/Doc.docx": data})
    with pytest.raises(Unsupported, match="too deeply"):
        scrub(data, _keep)
    # Three levels, as Office makes them, still go.
    data = docx_with_author()
    for _ in range(3):
        data = docx_with_parts({"word/embeddings/Doc.docx": data})
    assert "The ledger" in document_text(scrub(data, _keep))
