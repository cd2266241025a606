"""A source's PDF or office document without its writer's name, paths and times, in memory.

A PDF loses its document information, XMP, pages' and pictures' own metadata,
comments' authors, attached files and id (pypdf); the JPEG photos it draws
lose their metadata segments. An office document gets empty property parts,
its comments' and tracked changes' authors and times, template paths and
linking ids taken out of its XML, its pictures rebuilt and its embedded
documents cleaned the same way.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any, Final

from submit import kinds, pictures
from submit.errors import SubmitError
from submit.kinds import EXPORT_HINT, KEEP_HINT, MAX_CLEANED_BYTES, MAX_MEMBERS, REFUSED

_MAX_NESTING: Final = 4  # a document in a document in a document in the attachment
_ARCHIVE: Final = "archives keep each file's time and may hold files with metadata of their own"


def pdf(path: Path, data: bytes, removed: list[str]) -> bytes:
    """A PDF without its document information, XMP, page metadata or file id."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as exc:
        raise SubmitError(
            "removing a PDF's metadata needs pypdf",
            hint="install the client with its extra: pip install 'raazdar[submit]'",
        ) from exc
    try:
        with warnings.catch_warnings():
            # pypdf warns as it repairs a malformed PDF: what it writes is the repaired one.
            warnings.simplefilter("ignore")
            logging.getLogger("pypdf").setLevel(logging.ERROR)
            return _pdf_rebuilt(path, PdfReader(io.BytesIO(data)), removed)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise SubmitError(f"{path.name}: the PDF cannot be read: {exc}") from exc


def _pdf_rebuilt(path: Path, reader: Any, removed: list[str]) -> bytes:
    """The PDF `reader` read, written again without what names or dates its writer."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    # A PDF that only restricts printing or copying opens with an empty password.
    if reader.is_encrypted and not reader.decrypt(""):
        raise SubmitError(f"{path.name}: a PDF with a password cannot be cleaned", hint=KEEP_HINT)
    info: dict[str, Any] = dict(reader.metadata or {})
    said = {
        "/Author": "the author's name",
        "/Creator": "the program and computer that made it",
        "/Producer": "the program and computer that made it",
        "/CreationDate": "when it was made and changed",
        "/ModDate": "when it was made and changed",
        "/Title": "its title and subject",
        "/Subject": "its title and subject",
        "/Keywords": "its title and subject",
    }
    removed += [words for key, words in said.items() if info.get(key)]
    if any(k not in said for k in info):
        removed.append("other document properties")
    if "/Metadata" in reader.root_object:
        removed.append("XMP data (the author, the program, times)")
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    writer.xmp_metadata = None
    root = writer.root_object
    names = root.get("/Names")
    names = names.get_object() if names is not None else {}
    for where, key in ((root, "/PieceInfo"), (root, "/AF"), (names, "/EmbeddedFiles")):
        if key in where:
            del where[key]
            removed.append("files and application data attached to it")
    for page in writer.pages:
        for key in ("/Metadata", "/PieceInfo", "/LastModified", "/AF"):
            if key in page:
                del page[NameObject(key)]
                removed.append("its pages' own metadata and times")
        for ref in page.get("/Annots") or []:
            annotation = ref.get_object()
            for key in ("/T", "/M", "/CreationDate"):  # a comment's author and times
                if key in annotation:
                    del annotation[NameObject(key)]
                    removed.append("its comments' authors and times")
    if _pictures_in(writer):
        removed.append("the metadata of the photos in it (a phone's scan keeps their EXIF)")
    writer._ID = None  # the id another copy of the file shares
    writer.compress_identical_objects()  # drops the objects no longer referenced
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pictures_in(writer: Any) -> bool:
    """Strip the metadata segments of every JPEG a page or form draws; say whether any had some."""
    seen: set[int] = set()
    stripped = False
    todo = [page.get("/Resources") for page in writer.pages]
    while todo:
        resources = todo.pop()
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if resources is not None else None
        for ref in xobjects.get_object().values() if xobjects is not None else []:
            obj = ref.get_object()
            if id(obj) in seen or len(seen) > MAX_MEMBERS:
                continue
            seen.add(id(obj))
            for key in ("/Metadata", "/PieceInfo", "/LastModified"):
                if key in obj:  # a placed photo's own XMP: the camera, sometimes a place
                    del obj[key]
                    stripped = True
            if obj.get("/Subtype") == "/Form":
                todo.append(obj.get("/Resources"))
            elif obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode":
                bare = pictures.jpeg_bare(obj._data)  # the JPEG as stored: DCTDecode is not undone
                if bare != obj._data:
                    obj._data = bare  # the picture's own bytes are kept, only segments go
                    stripped = True
    return stripped


_OFFICE: Final = {
    "word/document.xml": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xl/workbook.xml": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "ppt/presentation.xml": (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
_ODF: Final = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
_NEUTRAL: Final = {
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp='
        b'"http://schemas.openxmlformats.org/package/2006/metadata/core-properties"/>'
    ),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns='
        b'"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>'
    ),
    "docProps/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns='
        b'"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>'
    ),
    "meta.xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta xmlns:office='
        b'"urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2">'
        b"<office:meta/></office:document-meta>"
    ),
}
_PROPERTIES: Final = {
    "docProps/core.xml": "the author's and last editor's names and its times",
    "docProps/app.xml": "the company, the program and the editing time",
    "docProps/custom.xml": "custom properties",
    "meta.xml": "the author's and last editor's names and its times",
}


# Names, times, paths and linking ids inside an office document's parts, each pattern
# looking no further than its tag, so a hostile part is scrubbed in linear time:
# (pattern, replacement). The review workstation's escalation scrubs more (fields, GUIDs).
_QUOTED: Final = rb"""(?:"[^"<]*"|'[^'<]*')"""
_INSIDE: Final = (
    # Who wrote each comment and tracked change, and who edited (word/people.xml).
    (re.compile(rb"(\s[A-Za-z0-9]+:(?:author|initials)\s*=\s*)" + _QUOTED), rb'\1"Author"'),
    (re.compile(rb"(<(?:dc:creator|author|meta:creator-initials)>)[^<]*"), rb"\1"),
    # When: the hours the writer worked.
    (re.compile(rb"\s[A-Za-z0-9]+:date(?:Utc)?\s*=\s*" + _QUOTED), b""),
    (re.compile(rb"(<dc:date>)[^<]*"), rb"\g<1>1980-01-01T00:00:00"),
    # The office account behind a name, and a template's path: C:\Users\<login>\….
    (re.compile(rb"(\s(?:[A-Za-z0-9]+:)?(?:userId|providerId)\s*=\s*)" + _QUOTED), rb'\1""'),
    (re.compile(rb'(\sTarget=")(?:file:|[A-Za-z]:[\\/]|\\\\)[^"]*(")'), rb"\1\2"),
    (re.compile(rb"<x15ac:absPath [^>]*/>"), b""),
    # Ids that link every document saved on one computer.
    (re.compile(rb"\s[A-Za-z0-9]+:rsid[A-Za-z]*\s*=\s*" + _QUOTED), b""),
    (re.compile(rb"<w:rsids>.*?(?:</w:rsids>|\Z)", re.DOTALL), b""),
    (re.compile(rb"<w:docVars>.*?(?:</w:docVars>|\Z)", re.DOTALL), b""),
)


# The file a picture was inserted from (a phone's names the second it was taken), in a
# picture's frame only: a sheet or a style may have a dot in its name too.
_PICTURE_TAG: Final = re.compile(rb"<[A-Za-z0-9]+:(?:docPr|cNvPr|imagedata)\s[^<>]*")
_FILE_NAMED: Final = re.compile(
    rb"(\s(?:name|descr|title|o:title)\s*=\s*)(?:\"[^\"<]*\.[A-Za-z0-9]{2,5}\""
    rb"|'[^'<]*\.[A-Za-z0-9]{2,5}')"
)


def _inside(body: bytes) -> bytes:
    """An office part's XML without the names, times, paths and ids its writer left in it."""
    for pattern, replacement in _INSIDE:
        body = pattern.sub(replacement, body)
    return _PICTURE_TAG.sub(lambda tag: _FILE_NAMED.sub(rb'\1"Picture"', tag[0]), body)


def office(
    path: Path, data: bytes, removed: list[str], within: list[int] | None = None
) -> tuple[bytes, str, str]:
    """An office document with neutral properties, its pictures rebuilt, and no zip times.

    `within` is what the documents embedded in one another may still unpack to, shared.
    """
    budget = [MAX_CLEANED_BYTES, _MAX_NESTING] if within is None else within
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            infos = src.infolist()
            names = [i.filename for i in infos]
            budget[0] -= sum(i.file_size for i in infos)
            budget[1] -= 1
            if len(infos) > MAX_MEMBERS or budget[0] < 0 or budget[1] < 0:
                raise SubmitError(f"{path.name}: the document is too large to clean in memory")
            extension, content_type = _office_kind(path, src, names)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as dst:
                for info in infos:
                    body = src.read(info)
                    if info.filename in _NEUTRAL:
                        removed.append(_PROPERTIES[info.filename])
                        body = _NEUTRAL[info.filename]
                    elif info.filename.casefold().endswith((".xml", ".rels", ".vml")):
                        if (clean_xml := _inside(body)) != body:
                            body = clean_xml
                            removed.append(
                                "the names and times of its comments and tracked changes,"
                                " the paths it was saved under and the ids linking it to"
                                " other documents"
                            )
                    elif (kind := kinds.sniff(body[:16])) in kinds.IMAGES:
                        pictured: list[str] = []
                        body = pictures.in_document(path, info.filename, body, pictured)
                        if pictured:
                            removed.append("the metadata of the pictures in it")
                    elif kind == "zip":
                        # A spreadsheet pasted into a statement: a whole document, its own writer.
                        body = office(path, body, removed, budget)[0]
                    elif kind == "pdf":
                        body = pdf(path, body, removed)
                    elif kind in REFUSED:
                        raise SubmitError(
                            f"{path.name}: {info.filename}: an embedded file: {REFUSED[kind]}",
                            hint=EXPORT_HINT,
                        )
                    clean = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                    clean.compress_type = (
                        zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
                    )
                    dst.writestr(clean, body)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SubmitError(f"{path.name}: the document cannot be read: {exc}") from exc
    return out.getvalue(), content_type, extension


def _office_kind(path: Path, src: zipfile.ZipFile, names: list[str]) -> tuple[str, str]:
    if "[Content_Types].xml" in names:
        for part, kind in _OFFICE.items():
            if part in names:
                return kind
    if "mimetype" in names and (mimetype := src.read("mimetype").strip()) in _ODF:
        return _ODF[mimetype], mimetype.decode("ascii")
    raise SubmitError(f"{path.name}: {_ARCHIVE}, which this client cannot remove", hint=KEEP_HINT)
