"""Fields a document fills in from its writer's profile, its path or its times: the text shown."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

import pytest

from review.escalation.scrub import document_text, scrub
from tests.review.fixtures import CANARY, docx_with_parts, odt_with_author, scrub_within

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
# What each field shows: the writer's name, their path, or a time to the minute.
_SHOWN = {
    "AUTHOR": CANARY,
    "USERNAME": CANARY,
    "USERINITIALS": "CQ7",
    "USERADDRESS": f"{CANARY}, Thana Road",
    "LASTSAVEDBY": CANARY,
    "FILENAME \\p": f"C:\\Users\\{CANARY}\\Desktop\\FIR.docx",
    "TEMPLATE \\p": f"C:\\Users\\{CANARY}\\AppData\\Roaming\\Normal.dotm",
    "CREATEDATE \\@ &quot;d MMMM yyyy h:mm&quot;": "7 March 2024 22:41",
    "SAVEDATE": "07/03/2024 22:41",
    "PRINTDATE": "07/03/2024 22:41",
    "EDITTIME": "7 March 2024 22:41",
    "DATE": "7 March 2024 22:41",
    "DOCPROPERTY Company": f"{CANARY} Office",
    "INFO Author": CANARY,
}


def _keep(text: str) -> str:
    return text


def _word(body: str) -> bytes:
    return f"<w:document {_W}><w:body>{body}</w:body></w:document>".encode()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _assert_shown_no_more(part: bytes, shown: str) -> None:
    ElementTree.fromstring(part)  # noqa: S314 (our own test part): still well-formed
    assert shown.encode() not in part
    assert CANARY.encode() not in part
    assert b"2024" not in part


@pytest.mark.parametrize("code", list(_SHOWN))
def test_a_word_field_naming_the_writer_or_a_time_shows_a_placeholder(code: str) -> None:
    """Attack: AUTHOR, USERNAME, FILENAME \\p, SAVEDATE... keep their last result as the
    text of the page (the writer's name, C:\\Users\\<name>\\..., the minute it was saved),
    and went out in the 'metadata removed' copy as the reader sees it."""
    shown = _SHOWN[code]
    simple = (
        f'<w:p><w:fldSimple w:instr=" {code} "><w:r><w:t>{shown}</w:t></w:r></w:fldSimple>'
        f"<w:r><w:t> wrote this.</w:t></w:r></w:p>"
    )
    # A complex field, its code split over two runs as Word writes it after an edit.
    head, tail = code[:3], code[3:]
    complex_ = (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> {head}</w:instrText></w:r>'
        f'<w:r><w:instrText xml:space="preserve">{tail} </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f"<w:r><w:t>{shown[:4]}</w:t></w:r><w:r><w:t>{shown[4:]}</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    footer = _word(simple).replace(b"w:document", b"w:ftr").replace(b"<w:body>", b"")
    footer = footer.replace(b"</w:body>", b"")
    result = scrub(
        docx_with_parts(
            {"word/document.xml": _word(simple + complex_), "word/footer1.xml": footer}
        ),
        _keep,
    )
    parts = _members(result.data)
    for name in ("word/document.xml", "word/footer1.xml"):
        _assert_shown_no_more(parts[name], shown)
    text = document_text(result)
    assert shown not in text
    assert "wrote this." in text
    assert text.count("[") >= 3, text  # each field's place is kept, and marked


def test_a_word_field_that_names_no_one_is_kept() -> None:
    field = '<w:p><w:fldSimple w:instr=" PAGE "><w:r><w:t>3</w:t></w:r></w:fldSimple></w:p>'
    part = _members(scrub(docx_with_parts({"word/document.xml": _word(field)}), _keep).data)[
        "word/document.xml"
    ]
    assert b'w:instr=" PAGE "' in part
    assert b"<w:t>3</w:t>" in part


@pytest.mark.parametrize(
    "field",
    [
        f"<text:author-name>{CANARY}</text:author-name>",
        "<text:author-initials>CQ7</text:author-initials>",
        f"<text:sender-lastname>{CANARY}</text:sender-lastname>",
        f'<text:sender-email text:fixed="false">{CANARY}@police.gov.pk</text:sender-email>',
        f'<text:file-name text:display="full">/home/{CANARY}/FIR.odt</text:file-name>',
        f'<text:template-name text:display="full">/home/{CANARY}/t.ott</text:template-name>',
        f"<text:initial-creator>{CANARY}</text:initial-creator>",
        f"<text:creator>{CANARY}</text:creator>",
        f"<text:printed-by>{CANARY}</text:printed-by>",
        '<text:creation-date text:date-value="2024-03-07">07/03/24</text:creation-date>',
        '<text:modification-time text:time-value="2024-03-07T22:41:00">22:41'
        "</text:modification-time>",
        '<text:print-date text:date-value="2024-03-07">07/03/2024</text:print-date>',
        '<text:date text:date-value="2024-03-07T22:41:00">07/03/2024</text:date>',
        '<text:editing-duration text:duration="PT2024H">2024:00</text:editing-duration>',
        f'<text:user-defined text:name="Owner">{CANARY}</text:user-defined>',
    ],
)
def test_an_odf_field_naming_the_writer_or_a_time_shows_a_placeholder(field: str) -> None:
    """Attack: LibreOffice's author, sender, file name and date fields keep what they showed
    (the writer's name from their profile, /home/<name>/..., the minute it was printed)."""
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f"<office:text><text:p>By {field} for the record.</text:p></office:text>"
        "</office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(odt_with_author()).items():
            z.writestr(name, content if name == "content.xml" else body)
        z.writestr("styles.xml", content)  # headers and footers live here
    result = scrub(out.getvalue(), _keep)
    for name in ("content.xml", "styles.xml"):
        part = _members(result.data)[name]
        _assert_shown_no_more(part, CANARY)
        assert b"CQ7" not in part
    assert "for the record." in document_text(result)


def test_a_part_of_unclosed_fields_is_scrubbed_in_linear_time() -> None:
    many = 200_000
    word = _word('<w:fldSimple w:instr=" AUTHOR "><w:r><w:t>x' * many)
    word += b'<w:r><w:fldChar w:fldCharType="begin"/><w:instrText> AUTHOR </w:instrText>' * many
    assert scrub_within(docx_with_parts({"word/document.xml": word}), 20)
    bound = _word('<w:sdt><w:dataBinding w:xpath="/a/creator"/><w:sdtContent><w:t>x' * many)
    bound += b'<w:dataBinding w:xpath="' + b"creator" * many
    assert scrub_within(docx_with_parts({"word/document.xml": bound}), 20)
    content = b"<text:author-name>" * many + b"<text:file-name>" * many
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, body in _members(odt_with_author()).items():
            z.writestr(name, content if name == "content.xml" else body)
    assert scrub_within(out.getvalue(), 20)


@pytest.mark.parametrize(
    ("xpath", "shown"),
    [
        ("/ns1:coreProperties[1]/ns0:creator[1]", CANARY),
        ("/ns1:coreProperties[1]/ns1:lastModifiedBy[1]", CANARY),
        ("/ns0:Properties[1]/ns0:Company[1]", f"{CANARY} Office"),
        ("/ns0:CoverPageProperties[1]/ns0:CompanyEmail[1]", f"{CANARY}@police.gov.pk"),
        ("/ns0:CoverPageProperties[1]/ns0:PublishDate[1]", "2024-03-07"),
    ],
)
def test_a_content_control_bound_to_the_writers_name_shows_a_placeholder(
    xpath: str, shown: str
) -> None:
    """Attack: Insert > Quick Parts > Document Property > Author (or a cover page's
    company and e-mail) puts a content control bound to the property in the text, with
    the writer's name as its last value: the properties were made neutral, the text not.
    The cover page's own values sit in customXml/item1.xml as well."""
    sdt = (
        '<w:p><w:sdt><w:sdtPr><w:alias w:val="Author"/>'
        f'<w:dataBinding w:prefixMappings="" w:xpath="{xpath}" w:storeItemID="{{6C3C8BC8}}"/>'
        f"</w:sdtPr><w:sdtContent><w:r><w:t>{shown[:5]}</w:t></w:r><w:r><w:t>{shown[5:]}"
        "</w:t></w:r></w:sdtContent></w:sdt><w:r><w:t> wrote this.</w:t></w:r></w:p>"
        '<w:p><w:sdt><w:sdtPr><w:alias w:val="Title"/><w:dataBinding w:xpath='
        '"/ns1:coreProperties[1]/ns0:title[1]"/></w:sdtPr><w:sdtContent><w:r>'
        "<w:t>The ledger</w:t></w:r></w:sdtContent></w:sdt></w:p>"
    )
    cover = (
        '<CoverPageProperties xmlns="http://schemas.microsoft.com/office/2006/coverPageProps">'
        f"<PublishDate>2024-03-07</PublishDate><CompanyAddress>{CANARY} Lines</CompanyAddress>"
        f"<CompanyEmail>{CANARY}@police.gov.pk</CompanyEmail></CoverPageProperties>"
    )
    parts: dict[str, bytes | str] = {"word/document.xml": _word(sdt), "customXml/item1.xml": cover}
    result = scrub(docx_with_parts(parts), _keep)
    members = _members(result.data)
    _assert_shown_no_more(members["word/document.xml"], shown)
    text = re.sub(r"<[^>]*>", "", members["word/document.xml"].decode())  # what the page shows
    assert shown not in text
    assert "wrote this." in text
    assert "The ledger" in text
    assert CANARY.encode() not in members["customXml/item1.xml"]
    assert b"2024" not in members["customXml/item1.xml"]
