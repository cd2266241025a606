"""Names, times, paths and linking ids taken out of an office document's XML parts.

Each pattern works on the part's bytes and looks no further than the next tag
(or, finding no end, takes the rest of the part), so a hostile part is scrubbed
in linear time. Random ids a document keeps from copy to copy are renumbered
with one table per package, so the parts that name one another still agree.
"""

from __future__ import annotations

import re
from typing import Final

from review.errors import Unsupported
from review.escalation import fields

# (pattern, replacement). A pattern that scanned on to the part's end and failed would
# scan a part of a million unclosed tags a million times.
_XML_SCRUBS: Final = [
    # w:, w15: (the list of people who edited it, word/people.xml) and any other prefix.
    (
        re.compile(rb"(\s[A-Za-z0-9]+:(?:author|initials)\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')"),
        rb'\1"Author"',
    ),
    # When each tracked change and comment was made: the hours the writer worked.
    (re.compile(rb"\s[A-Za-z0-9]+:date(?:Utc)?\s*=\s*(?:\"[^\"<]*\"|'[^'<]*')"), b""),
    (re.compile(rb"(<dc:date>)[^<]*(</dc:date>)"), rb"\g<1>1980-01-01T00:00:00\2"),
    # Excel's threaded comments (dT), a shared workbook's revision log (dateTime) and
    # PowerPoint's comments (dt, created): the same time for all, since some are required.
    (
        re.compile(
            rb"(\s(?:[A-Za-z0-9]+:)?(?:dt|dT|dateTime|created)\s*=\s*)"
            rb"(?:\"[0-9]{4}-[0-9]{2}-[0-9]{2}[^\"<]*\"|'[0-9]{4}-[0-9]{2}-[0-9]{2}[^'<]*')"
        ),
        rb'\1"1980-01-01T00:00:00"',
    ),
    # The folder a workbook was saved from, and a template's path: C:\Users\<name>\….
    (re.compile(rb"<x15ac:absPath [^<>]*/>"), b""),
    (re.compile(rb'(\sTarget=")(?:file:|[A-Za-z]:[\\/]|\\\\)[^"]*(")'), rb"\1\2"),
    (
        re.compile(rb"(\s(?:[A-Za-z0-9]+:)?(?:userId|providerId)\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')"),
        rb'\1""',
    ),
    (re.compile(rb"(\s(?:displayName|userName)\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')"), rb'\1"Author"'),
    (re.compile(rb"(<author>)[^<]*(</author>)"), rb"\1Author\2"),
    (re.compile(rb"(<dc:creator>)[^<]*(</dc:creator>)"), rb"\1Author\2"),
    (re.compile(rb"\s[A-Za-z0-9]+:rsid[A-Za-z]*\s*=\s*(?:\"[^\"<]*\"|'[^'<]*')"), b""),
    (re.compile(rb"<w:rsids>.*?(?:</w:rsids>|\Z)", re.DOTALL), b""),
    # A workbook's data connection (its database's path, login and query), a mail merge
    # letter's data source, and who refreshed a pivot table and when.
    (
        re.compile(
            rb"(\s(?:odcFile|sourceFile|connection|command|refreshedBy)\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')"
        ),
        rb'\1""',
    ),
    (re.compile(rb"\srefreshedDate(?:Iso)?\s*=\s*(?:\"[^\"<]*\"|'[^'<]*')"), b""),
    (
        re.compile(rb"(<w:(?:connectString|query|udl)\s+w:val\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')"),
        rb'\1""',
    ),
    # A template's document variables: its macros keep the user's name and office there.
    (re.compile(rb"<w:docVars>.*?(?:</w:docVars>|\Z)", re.DOTALL), b""),
    # SharePoint's columns (customXml): the owner's or editor's name and account.
    (
        re.compile(rb"(<(?:[A-Za-z0-9]+:)?(?:DisplayName|AccountId)>)[^<]*"),
        rb"\1",
    ),
    # A cover page's company address, phone, e-mail and date (customXml/item*.xml).
    (
        re.compile(
            rb"(<(?:[A-Za-z0-9]+:)?(?:CompanyAddress|CompanyPhone|CompanyFax|CompanyEmail"
            rb"|PublishDate)>)[^<]*"
        ),
        rb"\1",
    ),
    # A protection password's hash and salt (Word's, Excel's 16-bit one, PowerPoint's,
    # ODF's): a source's habitual password, to be searched for offline. The protection stays,
    # without a password.
    (
        re.compile(
            rb"\s(?:[A-Za-z0-9]+:)?(?:hash|salt|hashValue|saltValue|hashData|saltData|password"
            rb"|reservationPassword|workbookPassword|revisionsPassword|workbookHashValue"
            rb"|workbookSaltValue|revisionsHashValue|revisionsSaltValue|protection-key)"
            rb"\s*=\s*(?:\"[^\"<]*\"|'[^'<]*')"
        ),
        b"",
    ),
    (
        re.compile(rb'(<config:config-item config:name="[A-Za-z]*ProtectionKey"[^<>]*>)[^<]*'),
        rb"\1",
    ),
    # An ODF comment's author's initials.
    (re.compile(rb"(<meta:creator-initials>)[^<]*"), rb"\1"),
    (re.compile(rb"<w1[45]:docId [^<>]*/>|<w:docId [^<>]*/>"), b""),
    (
        # The printer, the fax last sent with, the mail merge's data source and its query.
        re.compile(
            rb'(<config:config-item config:name="(?:Printer[A-Za-z]*|PrintFaxName'
            rb'|CurrentDatabase[A-Za-z]*)"[^<>]*>)[^<]*(<)'
        ),
        rb"\1\2",
    ),
]
# Random ids Word keeps from copy to copy (a paragraph's, a comment's, a picture's),
# renumbered alike in every part, since a comment names its paragraph, and its reply the
# comment it answers.
_IDS: Final = re.compile(
    rb"(\s[A-Za-z0-9]+:(?:paraId|textId|durableId|paraIdParent|anchorId|editId)\s*=\s*[\"'])"
    rb"([0-9A-Fa-f]{1,8})([\"'])"
)
# Excel's documentId and the uid of every sheet, table and column, and the creation id
# Office gives every shape (a16) and slide (p14): random, and kept in every copy. An
# extension's uri, a GUID too, names its kind and stays.
_GUIDS: Final = re.compile(
    rb"((?:\s[A-Za-z0-9]+:(?:uid|uidLastSave|itemID|storeItemID)|\sdocumentId)"
    rb"\s*=\s*[\"'][^\"'<>{]{0,40}"
    rb"|<a16:creationId(?:\s[^<>]{0,300}?)?\sid\s*=\s*[\"'])"
    rb"(\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\})"
)
# A content control's own id, random too.
_CONTROL_IDS: Final = re.compile(rb"(<w:id\s+w:val\s*=\s*[\"'])(-?[0-9]{1,11})")
_SLIDE_IDS: Final = re.compile(
    rb"(<p14:creationId(?:\s[^<>]{0,300}?)?\sval\s*=\s*[\"'])([0-9]{1,10})"
)
# A picture's frame in Word, Excel and PowerPoint keeps the name of the file it was
# inserted from (a phone's says when it was taken: IMG_20240307_224100.jpg); a VML
# picture keeps it as its o:title.
_PICTURE_TAGS: Final = re.compile(rb"<[A-Za-z0-9]+:(?:docPr|cNvPr|imagedata)\s[^<>]*")
_FILE_NAMED: Final = re.compile(
    rb"(\s(?:name|descr|title)\s*=\s*)(?:\"[^\"<]*\.[A-Za-z0-9]{2,5}\"|'[^'<]*\.[A-Za-z0-9]{2,5}')"
    rb"|(\so:title\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')"
)
# A link to a file outside the package by a relative or Mac path ("../../Users/<name>/",
# "Macintosh HD:Users:<name>:"): an external target that is not a web address.
_EXTERNAL: Final = re.compile(rb"<Relationship\s[^<>]*TargetMode\s*=\s*[\"']External[^<>]*")
_TARGET: Final = re.compile(
    rb"(\sTarget\s*=\s*)(?:\"(?!https?://|mailto:)[^\"<]*\"|'(?!https?://|mailto:)[^'<]*')",
    re.IGNORECASE,
)
# An ODF link or linked picture to a file: a path, absolute, relative or a Mac one; the
# package's own parts ("Pictures/1.png", "./Object 1") and web addresses stay.
_HREF: Final = re.compile(
    rb"(\sxlink:href\s*=\s*)(?:\"(?:[^\"<]*:|\.\.|/|\\)[^\"<]*\"|'(?:[^'<]*:|\.\.|/|\\)[^'<]*')"
)
_WEB_HREF: Final = re.compile(rb"""\sxlink:href\s*=\s*["'](?:https?://|mailto:)""", re.IGNORECASE)
# In the lists of who commented (PowerPoint's authors, Excel's persons, a shared
# workbook's users) a plain `name` or `initials` is a person's.
_PEOPLE_PARTS: Final = ("authors.xml", "xl/persons/person.xml", "xl/revisions/usernames.xml")
_PEOPLE: Final = re.compile(rb"(\s(?:name|initials)\s*=\s*)(?:\"[^\"<]*\"|'[^'<]*')")
# A DEVMODE, as Office keeps a page setup's printer: "printerSettings1.bin".
PRINTER_SETTINGS: Final = re.compile(r"(?:.*/)?printersettings[0-9]*\.bin")


def xml(lowered: str, body: bytes, ids: dict[bytes, bytes]) -> bytes:
    """The part (`lowered`: its name, casefolded) without names, times, paths or ids."""
    for pattern, replacement in _XML_SCRUBS:
        body = pattern.sub(replacement, body)
    body = fields.neutral(body)
    body = _EXTERNAL.sub(lambda tag: _TARGET.sub(rb'\1""', tag[0]), body)
    body = _HREF.sub(lambda m: m[0] if _WEB_HREF.match(m[0]) else m[1] + b'""', body)
    body = _renumber(body, ids)
    body = _PICTURE_TAGS.sub(_without_file_names, body)
    if lowered.endswith(_PEOPLE_PARTS):
        body = _PEOPLE.sub(rb'\1"Author"', body)
    return body


def _renumbered(ids: dict[bytes, bytes], form: bytes, value: bytes) -> bytes:
    """The value's number in the order first seen, the same in every part of the package."""
    return ids.setdefault(form + value.upper(), form % (len(ids) + 1))


def _renumber(body: bytes, ids: dict[bytes, bytes]) -> bytes:
    body = _IDS.sub(lambda m: m[1] + _renumbered(ids, b"%08X", m[2]) + m[3], body)
    guid = b"{00000000-0000-4000-8000-%012X}"
    body = _GUIDS.sub(lambda m: m[1] + _renumbered(ids, guid, m[2]), body)
    body = _CONTROL_IDS.sub(lambda m: m[1] + _renumbered(ids, b"%d", m[2]), body)
    return _SLIDE_IDS.sub(lambda m: m[1] + _renumbered(ids, b"%d", m[2]), body)


def _without_file_names(tag: re.Match[bytes]) -> bytes:
    return _FILE_NAMED.sub(lambda m: (m[1] + b'"Picture"') if m[1] else (m[2] + b'""'), tag[0])


def printer_settings(name: str, body: bytes) -> bytes:
    """The page setup without the printer's name (a print server's) or its driver's data."""
    if len(body) >= 72:
        size = int.from_bytes(body[68:70], "little")  # dmSize: the fields Windows defines
        extra = int.from_bytes(body[70:72], "little")  # dmDriverExtra: the driver's own
        if size >= 72 and size + extra <= len(body):
            return bytes(64) + body[64:70] + bytes(2) + body[72:size]
    raise Unsupported(f"{name}: printer settings this tool cannot read may name the printer")
