"""Metadata removed from attachments before they leave in a packet, all in memory.

A photo's EXIF can hold the GPS position and the phone's serial number; a PDF's
document information and XMP the author's name; an office document the
author, the last editor, the company, the printer and revision ids that link
documents written on one machine. Each supported type is rebuilt with none of
that: images are re-encoded from their pixels alone, PDFs are rebuilt by
`review.casework.pdfs`, and office documents lose their property parts (an
embedded ODF object's too) and, by `review.escalation.office_parts`, the names
and times in comments and tracked changes, the paths they were saved from and
the ids that link copies of one document, and, by `review.escalation.fields`,
what fields filled in from the writer's profile, path or clock show;
their pictures and the documents embedded in them are rebuilt the same way. The
type is told by the bytes, never by the name or the type the source's browser claimed.

Anything else is refused (`Unsupported`): video, audio, HEIC, AVIF, JPEG 2000,
archives and OLE objects (in a document too) carry metadata this module cannot
remove, and silently passing them on would be the worst failure. A reviewer who
has looked at such a file may still include it unchanged on purpose, which the
packet then says (`as_is`).
"""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from review.casework import imagechild, pdfs, pdfview, pictures
from review.errors import ReviewError
from review.errors import Unsupported as Unsupported  # re-exported: callers catch it here
from review.escalation import office_parts

_PICTURES: Final = ("jpeg", "png", "gif", "tiff", "webp", "bmp")
_MAX_MEMBERS: Final = 10_000
_MAX_UNZIPPED: Final = 512 * 1024 * 1024  # for an attachment, its embedded documents' included
_MAX_NESTING: Final = 3  # a document in a document in a document in the attachment
# The PDFs an attachment may embed, its embedded documents' included: each is rebuilt, and
# its text read, by a child of its own, in a second or so; a .docx of 10,000 tiny PDFs (a
# few hundred kilobytes) held the reviewer for hours.
MAX_EMBEDDED_PDFS: Final = 8
TOO_MANY_PDFS: Final = (
    f"the document embeds more than {MAX_EMBEDDED_PDFS} PDFs: send them apart, or as they are"
)
_EXTENSION: Final = re.compile(r"[a-z0-9]{1,8}")
_MIME: Final = re.compile(r"[!-~](?:[ -~]{0,125}[!-~])?")
# Text formats with metadata of their own (an RTF's \info, an SVG's <metadata>, HTML's <meta>).
_MARKUP: Final = re.compile(r"\s*(?:\{\\rtf|<\?xml|<svg|<!doctype|<html)", re.IGNORECASE)
_MARKED_UP: Final = "RTF, SVG, HTML and XML carry an author, paths or tools in them"

NEUTRAL_CORE: Final = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms='
    b'"http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
NEUTRAL_APP: Final = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
NEUTRAL_CUSTOM: Final = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
NEUTRAL_META: Final = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.2">'
    b"<office:meta/></office:document-meta>"
)
_REPLACED: Final = {
    "docProps/core.xml": NEUTRAL_CORE,
    "docProps/app.xml": NEUTRAL_APP,
    "docProps/custom.xml": NEUTRAL_CUSTOM,
    "meta.xml": NEUTRAL_META,
}
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


# Office's and LibreOffice's signatures: the signer's certificate and the second they signed.
_SIGNATURE_PARTS: Final = (
    "_xmlsignatures/",
    "meta-inf/documentsignatures.xml",
    "meta-inf/macrosignatures.xml",
    "meta-inf/packagesignatures.xml",
)
_SIGNED: Final = "a signed document names its signer and when they signed, in its signature"
# Binary parts a document may hold that carry nothing of its writer: LibreOffice's cache of
# where its pages break.
_OPAQUE: Final = frozenset({"layout-cache"})
_FONTS: Final = (".odttf", ".fntdata", ".ttf", ".otf", ".ttc", ".eot", ".woff", ".woff2")
_FONT_MAGIC: Final = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf", b"wOFF", b"wOF2")
_METAFILES: Final = (".emf", ".wmf", ".emz", ".wmz")
_METAFILE_MAGIC: Final = (b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00", b"\x02\x00\x09\x00")
_MACROS: Final = ("xl/macrosheets/", "basic/", "scripts/")
_REFUSED: Final = {
    "ole": (
        "an OLE object (an equation, an old Word or Excel file, a package) keeps its author"
        " and times, which cannot be removed here"
    ),
    "jpeg2000": "a JPEG 2000 picture keeps XML, XMP and comments that are not removed here",
    "isobmff": ("HEIC, AVIF and video files keep EXIF and XMP items that cannot be removed here"),
}


@dataclass(frozen=True)
class Scrubbed:
    """An attachment ready for a packet, and what was done to it."""

    data: bytes
    content_type: str
    extension: str
    scrubbed: bool


def scrub(data: bytes, redact: Callable[[str], str]) -> Scrubbed:
    """Rebuild an attachment without metadata; plain text is redacted like the reports."""
    kind = sniff(data)
    if kind in _PICTURES:
        return _picture_apart(data)
    if kind == "pdf":
        return Scrubbed(pdfs.rebuild(data), "application/pdf", "pdf", True)
    if kind == "zip":
        return _office(data, _Budget(_MAX_UNZIPPED), 0)
    if kind == "text":
        if _MARKUP.match(data.decode("utf-8").removeprefix("\ufeff")):
            raise Unsupported(_MARKED_UP)
        text = redact(data.decode("utf-8").removeprefix("\ufeff"))
        return Scrubbed(text.encode("utf-8"), "text/plain; charset=utf-8", "txt", True)
    if kind in _REFUSED:
        raise Unsupported(_REFUSED[kind])
    raise Unsupported("this type of file can carry metadata that cannot be removed here")


def as_is(data: bytes, name: str | None, content_type: str | None) -> Scrubbed:
    """Keep an attachment exactly as it came: only on the reviewer's explicit word."""
    extension = (name or "").rpartition(".")[2].casefold() if name and "." in name else ""
    return Scrubbed(
        data,
        content_type
        if content_type and _MIME.fullmatch(content_type)
        else "application/octet-stream",
        extension if _EXTENSION.fullmatch(extension) else "bin",
        False,
    )


def document_text(result: Scrubbed) -> str:
    """The words a rebuilt document shows (an office file's, a PDF's plain strings), for checking.

    A document's text is not redacted: a caller refuses one that still names
    what it redacted. A PDF's text is read only where it is written plainly; the
    documents embedded in an office file are read too.
    """
    if result.extension == "pdf":
        return pdfs.text(result.data)
    if not result.content_type.startswith("application/vnd."):
        return ""
    return _package_text(result.data)


def _package_text(data: bytes) -> str:
    """An office package's words, those of the documents embedded in it included."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for info in package.infolist():
            body = package.read(info)
            if info.filename.casefold().endswith((".xml", ".vml")):
                xml = body.decode("utf-8", "replace")
                # A paragraph ends a line; the runs one word is split into join up again.
                xml = re.sub(r"</(?:w|a|text):p>|<w:br/>|<w:tab/>", "\n", xml)
                # A tag ends before the next begins: unclosed tags are each read once.
                parts.append(html.unescape(re.sub(r"<[^<>]*>", "", xml)))
            elif (kind := sniff(body)) == "zip":
                parts.append(_package_text(body))  # rebuilt by `_office`, so read as it was
            elif kind == "pdf":
                parts.append(pdfs.text(body))
    return "\n".join(parts)


def sniff(data: bytes) -> str | None:
    """What a file is, from its first bytes (and, for text, from all of them)."""
    signatures = [
        (b"\xff\xd8\xff", "jpeg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif"),
        (b"GIF89a", "gif"),
        (b"II*\x00", "tiff"),
        (b"MM\x00*", "tiff"),
        (b"BM", "bmp"),
        (b"%PDF-", "pdf"),
        (b"PK\x03\x04", "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2000"),
        (b"\xff\x4f\xff\x51", "jpeg2000"),  # a bare codestream
    ]
    for magic, kind in signatures:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return "isobmff"  # HEIC, AVIF, MP4, MOV: boxes of EXIF and XMP items
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(ch in "\n\r\t" or unicodedata.category(ch) != "Cc" for ch in text):
        return "text"
    return None


# What the picture's child is given: the largest picture allowed, rebuilt, takes about 1.2 GB.
_PICTURE_LIMITS: Final = pdfview.Limits(
    seconds=120.0, cpu_seconds=100, memory=3 * 1024 * 1024 * 1024, output=1024 * 1024 * 1024
)
# What a picture is rebuilt as, by type and extension.
_REBUILT: Final = {("image/jpeg", "jpg"), ("image/png", "png")}


def _picture_apart(data: bytes) -> Scrubbed:
    """A picture attachment rebuilt from its pixels in the confined picture child
    (`review.casework.pictures`), never here: its pixels are a stranger's, decoded in C,
    and may be many."""
    out, status = _pictures_child({"op": "rebuild"}, data, "the image")
    length = int.from_bytes(out[1:9], "big") if len(out) >= 9 else -1
    ok = status == 0 and out[:1] == pictures.DONE
    try:
        header = json.loads(out[9 : 9 + length]) if ok else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or not {"type", "extension"} <= header.keys():
        raise Unsupported(f"the image cannot be read here: {pdfview.ended(status)}")
    kind, extension = str(header["type"]), str(header["extension"])
    if (kind, extension) not in _REBUILT:  # the child is not trusted either
        raise Unsupported("the image cannot be read here: its reader's answer was malformed")
    return Scrubbed(out[9 + length :], kind, extension, True)


def _pictures_child(request: dict[str, object], data: bytes, what: str) -> tuple[bytes, int]:
    """What the picture child answers for `request` on `data`, and how it ended; its
    refusals are left for the caller to say, with what they name."""
    limits = _PICTURE_LIMITS
    asked = json.dumps({**request, "memory": limits.memory, "cpu": limits.cpu_seconds})
    try:
        out, status = pdfview.run_child(imagechild.__name__, data, asked, limits, what)
    except ReviewError as exc:  # past its deadline, or saying too much
        raise Unsupported(str(exc)) from None
    if out[:1] == pictures.REFUSED and request["op"] == "rebuild":
        raise Unsupported(out[1:].decode("utf-8", "replace"))
    return out, status


@dataclass
class _Budget:
    """The bytes an attachment may still unpack to, and the pixels its pictures may still
    hold: the documents embedded in it share them."""

    left: int
    pixels: int = pictures.MAX_DOCUMENT_PIXELS


def _office(data: bytes, budget: _Budget, depth: int) -> Scrubbed:
    """Rebuild an OOXML or ODF package with neutral property parts and no names in it."""
    if depth > _MAX_NESTING:
        raise Unsupported("documents are embedded in one another too deeply")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            infos = src.infolist()
            names = [i.filename for i in infos]
            if len(infos) > _MAX_MEMBERS or len(set(names)) != len(names):
                raise Unsupported("the archive has too many or duplicate members")
            budget.left -= sum(i.file_size for i in infos)
            if budget.left < 0:
                raise Unsupported("the archive is too large once unpacked")
            extension, content_type = _office_kind(src, names)
            # A copy of the budget: the rebuild below counts the same packages again.
            if depth == 0 and _pdfs_in(src, infos, 0, _Budget(budget.left)) > MAX_EMBEDDED_PDFS:
                raise Unsupported(TOO_MANY_PDFS)  # before any is rebuilt
            # Every picture of the package at once, in one confined child, before the rest.
            pictures = _pictures_apart(src, infos, budget)
            ids: dict[bytes, bytes] = {}
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as dst:
                for info in infos:
                    body = (
                        pictures[info.filename]
                        if info.filename in pictures
                        else _member(info.filename, src.read(info), ids, (budget, depth))
                    )
                    # A fixed time and no extra fields: the archive says nothing of its making.
                    clean = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                    clean.compress_type = (
                        zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
                    )
                    dst.writestr(clean, body)
    # RuntimeError: a member encrypted with a password; NotImplementedError: a compression
    # zipfile does not read. Before, either ended the command as a fault in the tool.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise Unsupported(f"the document cannot be read: {exc}") from exc
    return Scrubbed(out.getvalue(), content_type, extension, True)


def _pdfs_in(
    src: zipfile.ZipFile, infos: list[zipfile.ZipInfo], depth: int, budget: _Budget
) -> int:
    """How many PDFs a package embeds, in the packages embedded in it too: from each
    member's first bytes (a package's members are read in full, as they will be anyway).

    An embedded package's members are held to `budget` before any is read, as the rebuild
    holds them: they say what they unpack to, and are never read past it. Unbounded, a
    package in a package read a part of gigabytes of zeros, deflated to a few megabytes,
    whole into the memory of the tool holding the unlocked key.
    """
    count = 0
    for info in infos:
        with src.open(info) as member:
            kind = sniff(member.read(8))
        if kind == "pdf":
            count += 1
        elif kind == "zip" and depth < _MAX_NESTING:
            with zipfile.ZipFile(io.BytesIO(src.read(info))) as inner:
                members = inner.infolist()
                if len(members) > _MAX_MEMBERS:
                    raise Unsupported("the archive has too many or duplicate members")
                budget.left -= sum(i.file_size for i in members)
                if budget.left < 0:
                    raise Unsupported("the archive is too large once unpacked")
                count += _pdfs_in(inner, members, depth + 1, budget)
        if count > MAX_EMBEDDED_PDFS:
            break
    return count


def _pictures_apart(
    src: zipfile.ZipFile, infos: list[zipfile.ZipInfo], budget: _Budget
) -> dict[str, bytes]:
    """A package's pictures rebuilt in their own formats, by name: in a confined child
    (`review.casework.pictures`), never here, as a picture attachment is."""
    names, frames = [], io.BytesIO()
    for info in infos:
        if not _may_be_picture(info.filename):
            continue
        with src.open(info) as member:
            if sniff(member.read(16)) not in _PICTURES:
                continue
        body = src.read(info)
        names.append(info.filename)
        frames.write(len(body).to_bytes(8, "big") + body)
    if not names:
        return {}
    out, status = _pictures_child(
        {"op": "rebuild-all", "pixels": budget.pixels}, frames.getvalue(), "the pictures"
    )
    if out[:1] == pictures.REFUSED:
        which, _, why = out[1:].decode("utf-8", "replace").partition("\n")
        at = int(which) if which.isdigit() and int(which) < len(names) else -1
        raise Unsupported(f"{names[at]}: {why}" if at >= 0 else why)
    ok = status == 0 and out[:1] == pictures.DONE
    rebuilt = pictures.unframed(out[9:], len(names)) if ok else None
    if rebuilt is None:  # the child is not trusted either
        raise Unsupported(f"the document's pictures cannot be read here: {pdfview.ended(status)}")
    budget.pixels -= int.from_bytes(out[1:9], "big")
    return dict(zip(names, rebuilt, strict=True))


def _may_be_picture(name: str) -> bool:
    """Whether `_member` would take a part for what its bytes are (a picture among them)."""
    lowered = name.casefold()
    return not (
        name in _REPLACED
        or name.endswith("/meta.xml")
        or lowered.startswith(_SIGNATURE_PARTS)
        or lowered.endswith((".xml", ".rels", ".vml"))
        or office_parts.PRINTER_SETTINGS.fullmatch(lowered)
    )


def _office_kind(src: zipfile.ZipFile, names: list[str]) -> tuple[str, str]:
    lowered = [n.casefold() for n in names]
    # VBA, Excel 4.0 macro sheets, LibreOffice's Basic and scripts: the writer's code, to run.
    if any(n.endswith("vbaproject.bin") or n.startswith(_MACROS) for n in lowered):
        raise Unsupported("documents with macros are not supported")
    if any(n.startswith("word/glossary/") for n in lowered):
        raise Unsupported(
            "a glossary of building blocks (AutoText) is never shown, and may hold the"
            " writer's own name and address"
        )
    if "[Content_Types].xml" in names:
        for part, kind in _OFFICE.items():
            if part in names:
                return kind
    if "mimetype" in names:
        mimetype = src.read("mimetype").strip()
        if mimetype in _ODF:
            return _ODF[mimetype], mimetype.decode("ascii")
    raise Unsupported("archives other than office documents are not supported")


def _member(name: str, body: bytes, ids: dict[bytes, bytes], within: tuple[_Budget, int]) -> bytes:
    if name in _REPLACED:
        return _REPLACED[name]
    if name.endswith("/meta.xml"):
        return NEUTRAL_META  # a chart or formula inside an ODF document: "Object 1/meta.xml"
    lowered = name.casefold()
    if lowered.startswith(_SIGNATURE_PARTS):
        raise Unsupported(f"{name}: {_SIGNED}")
    if lowered.endswith((".xml", ".rels", ".vml")):
        return office_parts.xml(lowered, body, ids)
    if office_parts.PRINTER_SETTINGS.fullmatch(lowered):
        return office_parts.printer_settings(name, body)
    kind = sniff(body)
    if kind in _PICTURES:  # rebuilt apart (`_pictures_apart`): one left here would go as it is
        raise Unsupported(f"{name}: a picture this tool did not rebuild")
    if kind in _REFUSED:
        raise Unsupported(f"{name}: {_REFUSED[kind]}")
    if kind == "text" and _MARKUP.match(body.decode("utf-8").removeprefix("\ufeff")):
        # An SVG picture, or an HTML or RTF chunk a document imports: not XML we scrub.
        raise Unsupported(f"{name}: {_MARKED_UP}")
    if kind == "zip":
        # A spreadsheet pasted into a document is a whole package, with its own authors.
        budget, depth = within
        return _office(body, budget, depth + 1).data
    if kind == "pdf":
        budget, _ = within
        try:
            clean, used = pdfs.rebuild_within(body, budget.left)
        except Unsupported as exc:
            raise Unsupported(f"{name}: {exc}") from exc
        budget.left -= used  # the PDFs in a document share its limit, as its documents do
        return clean
    if kind is None and lowered not in _OPAQUE:
        raise Unsupported(f"{name}: {_unknown(lowered, body)}")
    return body


def _unknown(lowered: str, body: bytes) -> str:
    """Why a part this tool cannot read is refused: what it is likely to hold."""
    if lowered.endswith(_FONTS) or body.startswith(_FONT_MAGIC):
        return (
            "an embedded font's name table keeps its vendor, dates and sometimes whom it was"
            " licensed to, which are not removed here"
        )
    if lowered.endswith(_METAFILES) or body.startswith(_METAFILE_MAGIC) or body[40:44] == b" EMF":
        return (
            "an EMF or WMF picture names the program and the file it came from, and its"
            " comments can carry more, which are not removed here"
        )
    return "a part this tool cannot read may carry metadata it cannot remove"
