"""Pictures, fonts, links and forms that carry a name or a path: rebuilt without it, or refused."""

from __future__ import annotations

import io
import re
import struct
import zipfile

import pikepdf
import pytest

from review.escalation.scrub import Unsupported, scrub
from tests.review.fixtures import CANARY, docx_with_parts, odt_with_author, scrub_within

_PATH = f"C:\\Users\\{CANARY}\\Desktop"


def _keep(text: str) -> str:
    return text


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _odt_with(parts: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(odt_with_author()).items():
            if name not in parts:
                z.writestr(name, body)
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def _emf() -> bytes:
    """An EMF whose header names the program and the file, and a comment with more."""
    description = f"Microsoft Word\0{_PATH}\\FIR.docx\0\0".encode("utf-16-le")
    header = struct.pack("<II4i4i", 1, 108 + len(description), 0, 0, 10, 10, 0, 0, 100, 100)
    header += b" EMF" + struct.pack("<IIIHHIII", 0x10000, 0, 3, 0, 0, len(description), 108, 0)
    header += struct.pack("<2i2i", 1024, 768, 320, 240)
    comment = f"GDIC{CANARY}".encode().ljust(24, b"\0")
    records = struct.pack("<II", 70, 12 + len(comment)) + struct.pack("<I", len(comment))
    eof = struct.pack("<IIIII", 14, 20, 0, 16, 20)
    return header + description + records + comment + eof


def _wmf() -> bytes:
    """A placeable WMF with a comment escape record naming the writer."""
    placeable = b"\xd7\xcd\xc6\x9a" + bytes(18)
    comment = CANARY.encode()
    escape = struct.pack("<IHHH", 3 + 2 + len(comment) // 2, 0x0626, 15, len(comment)) + comment
    return placeable + struct.pack("<HHHIHIH", 1, 9, 0x300, 50, 1, 20, 0) + escape + bytes(6)


def _truetype() -> bytes:
    """A TrueType font whose name table says whom it was licensed to and when it was made."""
    names = f"Licensed to {CANARY}, Lahore Police Lines".encode("utf-16-be")
    name = struct.pack(">HHH", 0, 1, 18) + struct.pack(">6H", 3, 1, 0x409, 13, len(names), 0)
    table = name + names
    return (
        struct.pack(">IHHHH", 0x00010000, 1, 16, 0, 0)
        + b"name"
        + struct.pack(">III", 0, 28, len(table))
        + table
    )


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("word/media/image7.emf", _emf()),
        ("word/media/image8.wmf", _wmf()),
        ("word/fonts/font1.odttf", bytes(32) + _truetype()[32:]),  # its head obfuscated
        ("word/media/image9.wdp", b"II\xbc\x01" + CANARY.encode() + bytes(32)),  # JPEG XR
        ("word/media/image10.emz", b"\x1f\x8b\x08\x00" + CANARY.encode() + bytes(16)),
    ],
    ids=["emf", "wmf", "embedded-font", "jpeg-xr", "gzipped-emf"],
)
def test_a_picture_or_font_this_tool_cannot_rebuild_in_a_document_is_refused(
    name: str, body: bytes
) -> None:
    """Attack: an EMF's header names the program and the file it came from (C:\\Users\\<name>
    \\...) and its comments carry more; a WMF's escapes the same; an embedded font's name
    table says whom it was licensed to. Each went out byte for byte."""
    with pytest.raises(Unsupported, match=name.rpartition("/")[2]):
        scrub(docx_with_parts({name: body}), _keep)


def test_a_font_embedded_in_an_odf_document_is_refused() -> None:
    with pytest.raises(Unsupported, match="font"):
        scrub(_odt_with({"Fonts/Jameel.ttf": _truetype()}), _keep)


@pytest.mark.parametrize(
    "target",
    [
        f"../../Users/{CANARY}/Desktop/FIR.docx",
        f"Macintosh HD:Users:{CANARY}:Desktop:FIR.docx",
        f"/home/{CANARY}/FIR.docx",
        f"{CANARY}/FIR.docx",
    ],
)
def test_a_link_to_a_file_by_a_relative_or_mac_path_keeps_not_its_path(target: str) -> None:
    """Attack: a link Word saved relative to the document ('../../Users/<name>/...') or as a
    Mac path ('Macintosh HD:Users:<name>:') has no file: and no drive letter, and went out."""
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/hyperlink" TargetMode="External" Target="{target}"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="https://www.example.org/x" TargetMode="External"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/image" Target="media/image1.jpg"/></Relationships>'
    )
    result = scrub(docx_with_parts({"word/_rels/document.xml.rels": rels}), _keep)
    part = _members(result.data)["word/_rels/document.xml.rels"]
    assert CANARY.encode() not in part
    assert b'Target="https://www.example.org/x"' in part
    assert b'Target="media/image1.jpg"' in part


@pytest.mark.parametrize(
    "href",
    [
        f"file:///home/{CANARY}/FIR.odt",
        f"../../{CANARY}/Desktop/FIR.odt",
        f"C:/Users/{CANARY}/FIR.odt",
    ],
)
def test_an_odf_link_or_linked_picture_keeps_not_its_path(href: str) -> None:
    """Attack: an ODF link or linked picture (xlink:href) kept the writer's path as it was."""
    content = (
        f'<text:p><text:a xlink:href="{href}">the FIR</text:a>'
        '<text:a xlink:href="https://www.example.org/x">site</text:a>'
        '<draw:image xlink:href="Pictures/1.png"/></text:p>'
    )
    part = _members(scrub(_odt_with({"content.xml": content}), _keep).data)["content.xml"]
    assert CANARY.encode() not in part
    assert b'xlink:href="https://www.example.org/x"' in part
    assert b'xlink:href="Pictures/1.png"' in part
    assert b"the FIR" in part


@pytest.mark.parametrize(
    "code",
    [
        f'HYPERLINK "{_PATH}\\\\FIR.docx"',
        f'INCLUDEPICTURE "{_PATH}\\\\photo.jpg" \\d',
        f'LINK Excel.Sheet.12 "{_PATH}\\\\Book1.xlsx" Sheet1!R1C1',
    ],
)
def test_a_word_field_linking_a_file_keeps_not_its_path(code: str) -> None:
    """Attack: a HYPERLINK, INCLUDEPICTURE or LINK field's code names the file's path."""
    quoted = code.replace('"', "&quot;")
    complex_ = (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f"<w:r><w:instrText> {code} </w:instrText></w:r>"
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>the FIR</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    document = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f'<w:body>{complex_}<w:p><w:fldSimple w:instr=" {quoted} "><w:r><w:t>the FIR</w:t></w:r>'
        '</w:fldSimple><w:fldSimple w:instr=" HYPERLINK \\l &quot;_Toc1&quot; ">'
        "<w:r><w:t>Contents</w:t></w:r></w:fldSimple></w:p></w:body></w:document>"
    )
    part = _members(scrub(docx_with_parts({"word/document.xml": document}), _keep).data)[
        "word/document.xml"
    ]
    assert CANARY.encode() not in part
    assert b"the FIR" in part
    assert b"HYPERLINK \\l &quot;_Toc1&quot;" in part


def test_a_signed_office_document_is_refused() -> None:
    """Attack: Office's signature part names the signer (their certificate) and the second
    they signed (xd:SigningTime), and went out as an XML part with neither touched."""
    signature = (
        '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><KeyInfo><X509Data>'
        f"<X509SubjectName>CN={CANARY}</X509SubjectName></X509Data></KeyInfo>"
        "<Object><xd:SigningTime>2024-03-07T22:41:00Z</xd:SigningTime></Object></Signature>"
    )
    with pytest.raises(Unsupported, match="sign"):
        scrub(docx_with_parts({"_xmlsignatures/sig1.xml": signature}), _keep)
    with pytest.raises(Unsupported, match="sign"):
        scrub(_odt_with({"META-INF/documentsignatures.xml": signature}), _keep)


def test_a_pdf_form_loses_its_xfa_packets() -> None:
    """Attack: an XFA form (LiveCycle) keeps XML packets beside the page: the form's
    designer, its file path and the data filled in, none of it drawn."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    config = pdf.make_stream(
        f"<config><present><pdf><fileName>{_PATH}\\form.pdf</fileName></pdf></present>"
        f"<author>{CANARY}</author></config>".encode()
    )
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=pikepdf.Array(), XFA=pikepdf.Array([pikepdf.String("config"), config])
    )
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    result = scrub(out.getvalue(), _keep).data
    assert CANARY.encode() not in result
    with pikepdf.open(io.BytesIO(result)) as clean:
        assert "/XFA" not in clean.Root.AcroForm


def test_a_font_embedded_in_a_pdf_keeps_no_names_but_its_own() -> None:
    """Attack: a TrueType font embedded in a PDF (FontFile2) keeps its whole name table:
    a font licensed to an office names the office, a font made by the writer names them."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    font = pdf.make_stream(_truetype())
    descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontFile2=font)
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary(
            F1=pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.TrueType,
                BaseFont=pikepdf.Name("/Jameel"),
                FontDescriptor=descriptor,
            )
        )
    )
    pdf.pages[0].obj.Contents = pdf.make_stream(b"BT /F1 12 Tf (x) Tj ET")
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    result = scrub(out.getvalue(), _keep).data
    with pikepdf.open(io.BytesIO(result)) as clean:
        (kept,) = clean.pages[0].Resources.Font.values()
        data = kept.FontDescriptor.FontFile2.read_bytes()
    assert CANARY.encode("utf-16-be") not in data
    assert data[:4] == b"\x00\x01\x00\x00"
    assert len(data) == len(_truetype())


def test_a_part_of_unclosed_links_is_scrubbed_in_linear_time() -> None:
    many = 200_000
    rels = b'<Relationship TargetMode="External" Target="../x' * many
    rels += b"<Relationship TargetMode='External' " + b"TargetMode " * many
    content = b' xlink:href="../' * many + b" xlink:href='" + b"a" * many
    assert scrub_within(docx_with_parts({"word/_rels/document.xml.rels": rels}), 20)
    assert scrub_within(_odt_with({"content.xml": content}), 20)


def test_odf_settings_keep_no_fax_or_data_source_path() -> None:
    """Attack: an ODF's settings.xml names the fax 'printer' it was last sent with and the
    mail merge data source it used (file:///home/<name>/...), beside the printer."""
    settings = (
        '<config:config-item config:name="PrintFaxName" config:type="string">'
        f"{CANARY}-fax</config:config-item>"
        '<config:config-item config:name="CurrentDatabaseDataSource" config:type="string">'
        f"file:///home/{CANARY}/contacts.odb</config:config-item>"
        '<config:config-item config:name="CurrentDatabaseCommand" config:type="string">'
        f"{CANARY}-informants</config:config-item>"
        '<config:config-item config:name="ViewLeft" config:type="long">1140</config:config-item>'
    )
    part = _members(scrub(_odt_with({"settings.xml": settings}), _keep).data)["settings.xml"]
    assert CANARY.encode() not in part
    assert b">1140<" in part


def test_a_workbooks_link_to_another_by_a_relative_path_keeps_not_its_path() -> None:
    """Attack: a formula reading another workbook keeps an external link whose target Excel
    writes relative to the workbook ('../../Users/<name>/...') when it can."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook><sheets/></workbook>")
        z.writestr(
            "xl/externalLinks/_rels/externalLink1.xml.rels",
            '<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/externalLinkPath" Target="../../Users/'
            f'{CANARY}/Documents/Bribes.xlsx" TargetMode="External"/></Relationships>',
        )
    part = _members(scrub(out.getvalue(), _keep).data)[
        "xl/externalLinks/_rels/externalLink1.xml.rels"
    ]
    assert CANARY.encode() not in part


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (
            "Basic/Standard/Module1.xml",
            '<script:module script:name="Module1">Sub Main\n'
            f'  Open "/home/{CANARY}/sent.log" For Append As #1\nEnd Sub</script:module>',
        ),
        ("Scripts/python/send.py", f"open('/home/{CANARY}/sent.log', 'a')"),
    ],
    ids=["basic", "python"],
)
def test_an_odf_document_with_macros_is_refused(name: str, body: str) -> None:
    """Attack: an .odt's Basic or Python macros (the writer's code, their paths in it) went
    out and would run for the body; an Office document's macros are refused."""
    with pytest.raises(Unsupported, match="macros"):
        scrub(_odt_with({name: body}), _keep)


def test_a_workbook_with_excel_4_macros_is_refused() -> None:
    """Attack: Excel 4.0 macro sheets (xl/macrosheets/) need no vbaProject.bin, so the
    macro check passed them: the writer's code went out, to run for the body."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook><sheets/></workbook>")
        z.writestr("xl/macrosheets/sheet1.xml", f'<xm:macrosheet>=EXEC("{CANARY}")</xm:macrosheet>')
    with pytest.raises(Unsupported, match="macros"):
        scrub(out.getvalue(), _keep)


def test_a_glossary_of_building_blocks_is_refused() -> None:
    """Attack: a .docx can carry a glossary of AutoText and building blocks (the writer's
    own signature block: name, rank, station), never shown in the document: it went out."""
    glossary = (
        '<w:glossaryDocument xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
        'main"><w:docParts><w:docPart><w:docPartPr><w:name w:val="Signature"/></w:docPartPr>'
        f"<w:docPartBody><w:p><w:r><w:t>ASI {CANARY}, Thana Saddar</w:t></w:r></w:p>"
        "</w:docPartBody></w:docPart></w:docParts></w:glossaryDocument>"
    )
    with pytest.raises(Unsupported, match="building blocks"):
        scrub(docx_with_parts({"word/glossary/document.xml": glossary}), _keep)


def test_word_picture_control_and_data_store_ids_are_renumbered_alike() -> None:
    """Attack: Word gives every picture a random wp14:anchorId and wp14:editId, every content
    control a random w:id, and every custom XML part a random ds:itemID (that the controls
    bound to it name as w:storeItemID): kept in every copy, they match the packet's copy
    with the one on the writer's machine."""
    store = "{6C3C8BC8-F283-45AE-878A-BAB7291924A1}"
    document = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:body><w:p><w:r><w:drawing><wp:inline wp14:anchorId="5C2E1F0A" '
        'wp14:editId="7D3B9A11"/></w:drawing></w:r></w:p><w:sdt><w:sdtPr>'
        '<w:id w:val="-1480616329"/><w:dataBinding w:xpath="/root[1]/a[1]" '
        f'w:storeItemID="{store}"/></w:sdtPr><w:sdtContent><w:p/></w:sdtContent></w:sdt>'
        "</w:body></w:document>"
    )
    props = (
        '<ds:datastoreItem ds:itemID="' + store + '" xmlns:ds="http://schemas.openxmlformats'
        '.org/officeDocument/2006/customXml"><ds:schemaRefs/></ds:datastoreItem>'
    )
    parts = _members(
        scrub(
            docx_with_parts({"word/document.xml": document, "customXml/itemProps1.xml": props}),
            _keep,
        ).data
    )
    for random_id in (b"5C2E1F0A", b"7D3B9A11", b"1480616329", store[1:-1].encode()):
        for body in parts.values():
            assert random_id not in body
    (kept,) = re.findall(rb'w:storeItemID="([^"]+)"', parts["word/document.xml"])
    assert b'ds:itemID="' + kept + b'"' in parts["customXml/itemProps1.xml"]


@pytest.mark.parametrize(
    ("name", "part"),
    [
        (
            "word/settings.xml",
            '<w:settings><w:documentProtection w:edit="readOnly" w:enforcement="1" '
            'w:cryptAlgorithmSid="4" w:cryptSpinCount="100000" w:hash="Q2FuYXJ5SGFzaA==" '
            'w:salt="Q2FuYXJ5U2FsdA=="/><w:writeProtection w:hashValue="Q2FuYXJ5SGFzaA==" '
            'w:saltValue="Q2FuYXJ5U2FsdA==" w:spinCount="100000"/></w:settings>',
        ),
        (
            "xl/worksheets/sheet1.xml",
            '<worksheet><sheetProtection password="CC3D" sheet="1"/><sheetProtection '
            "algorithmName='SHA-512' hashValue='Q2FuYXJ5SGFzaA==' saltValue='Q2FuYXJ5U2FsdA=='"
            ' spinCount="100000" sheet="1"/></worksheet>',
        ),
        (
            "content.xml",
            '<table:table table:name="A" table:protected="true" table:protection-key='
            '"Q2FuYXJ5SGFzaA==" table:protection-key-digest-algorithm="http://www.w3.org/2000/'
            '09/xmldsig#sha256"/><config:config-item config:name="RedlineProtectionKey" '
            'config:type="base64Binary">Q2FuYXJ5SGFzaA==</config:config-item>',
        ),
    ],
    ids=["word", "excel", "odf"],
)
def test_a_protection_passwords_hash_is_removed(name: str, part: str) -> None:
    """Attack: a document protected against editing keeps its password's hash and salt
    (Excel's old sheet password is a 16-bit hash any password of the right sum matches):
    a source's habitual password could be searched for offline, and tried elsewhere."""
    data = _odt_with({name: part}) if name == "content.xml" else docx_with_parts({name: part})
    kept = _members(scrub(data, _keep).data)[name]
    assert b"Q2FuYXJ5" not in kept
    assert b"CC3D" not in kept
