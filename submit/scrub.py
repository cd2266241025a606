"""What a file says about who made it, where and when, removed on the device before sealing.

A phone's photo carries in its EXIF the GPS position it was taken at, the
phone's make, model and often serial number, the second it was taken and a
thumbnail of the picture before any crop; a PDF or an office document the
writer's name, company, the paths it was saved under and its times; and a
camera's file name (`IMG_20261203_0915.jpg`) dates the photo and orders it
among the source's others. Whoever a report reaches, or whoever seizes a
review workstation, would read them all. Photos are rebuilt from their
pixels alone (Pillow), PDFs lose their document information, XMP and page
metadata (pypdf), office documents their property parts and the metadata
of the pictures in them; camera-style names become neutral ones. Everything
happens in memory: no cleaned copy is ever written unencrypted to the device.

What cannot be cleaned here (HEIC, video, audio, archives, old office files)
is refused, unless the source says to send files exactly as they are.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from submit.errors import SubmitError

KEEP_HINT: Final = (
    "convert it (a screenshot of a photo or a video frame carries none of this), "
    "or send files exactly as they are with `send --keep-metadata`"
)
EXPORT_HINT: Final = (
    "save the document as PDF and send that, or send it exactly as it is with"
    " `send --keep-metadata`"
)
_MAX_NESTING: Final = 4  # a document in a document in a document in the attachment
# Cleaning happens in memory, which a phone has little of.
MAX_CLEANED_BYTES: Final = 256 * 1024 * 1024
_MAX_PIXELS: Final = 100_000_000
_MAX_MEMBERS: Final = 10_000

# A camera's, a phone's or a messenger's own name for a file: a date, a time, a counter.
_CAMERA_NAME: Final = re.compile(
    r"^(?:img|dsc[nf]?|dcim|pxl|vid|mvimg|pano|burst|gopr|dji|aud|ptt|screenshot"
    r"|screen[ _-]?recording|signal|whatsapp|fb_img)"
    r"(?=$|[^a-z])",
    re.IGNORECASE,
)
_DIGITS: Final = re.compile(r"\d{4}")
_HEXISH: Final = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}", re.IGNORECASE)

# What Pillow reads from a picture that says nothing of its maker (the rest is text and comments).
_PICTURE_KEYS: Final = frozenset(
    [
        "dpi",
        "gamma",
        "transparency",
        "icc_profile",
        "exif",
        "xmp",
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "adobe",
        "adobe_transform",
        "progressive",
        "progression",
        "interlace",
        "aspect",
        "srgb",
        "chromaticity",
        "duration",
        "loop",
        "background",
        "version",
        "compression",
        "mp",
        "mpoffset",
        "XML:com.adobe.xmp",
        "photoshop",
        "resolution",
        "exif_offset",
    ]
)
# Pillow's in-memory decoders only: EPS it would hand to Ghostscript through a temporary file
# on the device's disk. A phone's two-picture MPO opens as JPEG.
_DECODED: Final = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")
_IMAGES: Final = ("jpeg", "png", "gif", "webp", "tiff", "bmp")
_ARCHIVE: Final = "archives keep each file's time and may hold files with metadata of their own"
_REFUSED: Final = {
    "isobmff": (
        "HEIC, AVIF, MP4 and MOV files keep where and when they were taken and the phone's model"
    ),
    "audio": "audio recordings keep tags (the recorder's model, dates, sometimes a place)",
    "video": "video files keep where and when they were recorded and the phone's model",
    "ole": "old Word, Excel and PowerPoint files keep the author's name and times",
    "jpeg2000": "JPEG 2000 pictures keep XML and XMP that cannot be removed here",
    "postscript": "PostScript and EPS files name the user who made them and when",
}

# EXIF tags, by the words a source understands (TIFF/EXIF 2.3 tag numbers).
_GPS_IFD: Final = 0x8825
_EXIF_IFD: Final = 0x8769
_IFD1: Final = 1
_SAYS: Final = {
    0x010F: "the camera's or phone's make and model",
    0x0110: "the camera's or phone's make and model",
    0xA433: "the camera's or phone's make and model",
    0xA434: "the camera's or phone's make and model",
    0xA431: "the camera's serial number",
    0xA435: "the camera's serial number",
    0x927C: "the maker's notes (they can hold the phone's serial number)",
    0xA430: "the owner's name",
    0x013B: "the owner's name",
    0x8298: "the owner's name",
    0x0132: "when it was taken",
    0x9003: "when it was taken",
    0x9004: "when it was taken",
    0x0131: "the software or computer that made it",
    0x013C: "the software or computer that made it",
    0x010E: "a description",
    0xA420: "a unique id of the picture",
}


@dataclass(frozen=True)
class Cleaned:
    """A file ready to seal: its bytes (None: read from the file as it is), type and name."""

    data: bytes | None
    content_type: str
    name: str
    removed: tuple[str, ...]


def clean(path: Path, src: BinaryIO, index: int, *, keep: bool) -> Cleaned:
    """Read the file `src` (opened from `path`) into memory and clean it for sealing.

    With `keep`, nothing is read: the file goes as it is, under its own name.
    """
    if keep:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Cleaned(None, content_type, path.name, ())
    data = src.read(MAX_CLEANED_BYTES + 1)
    if len(data) > MAX_CLEANED_BYTES:
        raise SubmitError(
            f"{path.name}: too large to clean in memory (over 256 MiB)", hint=KEEP_HINT
        )
    kind = sniff(data)
    if kind in _REFUSED:
        raise SubmitError(
            f"{path.name}: {_REFUSED[kind]}, which this client cannot remove", hint=KEEP_HINT
        )
    removed: list[str] = []
    if kind in _IMAGES:
        data, content_type, extension = _image(path, data, removed)
    elif kind == "pdf":
        data, content_type, extension = _pdf(path, data, removed), "application/pdf", "pdf"
    elif kind == "zip":
        data, content_type, extension = _office(path, data, removed)
    elif _is_text(data):
        guessed = mimetypes.guess_type(path.name)[0] or ""
        content_type = guessed if guessed.startswith("text/") else "text/plain"
        extension = path.suffix.lstrip(".").casefold() or "txt"
    else:
        raise SubmitError(
            f"{path.name}: this kind of file may carry metadata this client cannot remove",
            hint=KEEP_HINT,
        )
    name = path.name
    if camera_style(path.name):
        word = "photo" if kind in _IMAGES else "file"
        name = f"{word}-{index}.{extension}"
        removed.append("its file name")
    elif extension != path.suffix.lstrip(".").casefold():
        name = f"{path.stem}.{extension}"
    return Cleaned(data, content_type, name, tuple(dict.fromkeys(removed)))


def camera_style(name: str) -> bool:
    """Say whether a file name is one a camera, phone or messenger gave it: dated or counted."""
    stem = name.rpartition(".")[0] or name
    return bool(_CAMERA_NAME.match(stem) or _DIGITS.search(stem) or _HEXISH.search(stem))


def sniff(head: bytes) -> str | None:
    """What a file is, from its first bytes, never from its name."""
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
        (b"\xff\x4f\xff\x51", "jpeg2000"),
        (b"%!", "postscript"),  # EPS and PostScript: %%For names the user, %%CreationDate
        (b"ID3", "audio"),
        (b"OggS", "audio"),
        (b"fLaC", "audio"),
        (b"#!AMR", "audio"),
        (b"\x1a\x45\xdf\xa3", "video"),  # Matroska, WebM
    ]
    for magic, kind in signatures:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF":
        return "webp" if head[8:12] == b"WEBP" else "audio" if head[8:12] == b"WAVE" else "video"
    if head[4:8] == b"ftyp":
        return "isobmff"
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio"  # MP3 frames with no ID3 tag before them
    return None


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if re.match(r"\s*(?:\{\\rtf|<\?xml|<svg|<!doctype|<html)", text, re.IGNORECASE):
        return False  # RTF's \info, SVG's <metadata>, HTML's <meta name=author>
    return all(ch in "\n\r\t" or unicodedata.category(ch) != "Cc" for ch in text)


def _pillow() -> Any:
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise SubmitError(
            "removing a photo's metadata needs Pillow",
            hint="install the client with its extra: pip install 'raazdar[submit]'",
        ) from exc
    return Image, ImageOps


def _image(path: Path, data: bytes, removed: list[str]) -> tuple[bytes, str, str]:
    """Re-encode a picture from its pixels alone, upright; say what it carried."""
    image_mod, image_ops = _pillow()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_mod.DecompressionBombWarning)
            with image_mod.open(io.BytesIO(data), formats=_DECODED) as img:
                if img.width * img.height > _MAX_PIXELS:
                    raise SubmitError(f"{path.name}: the picture is too large to clean")
                frames = getattr(img, "n_frames", 1)
                if frames > 1 and img.format != "MPO":
                    raise SubmitError(
                        f"{path.name}: animated and multi-page pictures cannot be cleaned here",
                        hint=KEEP_HINT,
                    )
                removed += describe_image(img)
                if frames > 1:
                    removed.append("a second picture hidden in the file (a depth map or preview)")
                source_format = img.format
                img.load()
                upright = image_ops.exif_transpose(img)
    except (image_mod.DecompressionBombError, image_mod.DecompressionBombWarning) as exc:
        raise SubmitError(f"{path.name}: the picture is too large to clean") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise SubmitError(f"{path.name}: the picture cannot be read: {exc}") from exc
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = upright.mode in ("PA",) or "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    pixels = image_mod.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    if source_format in ("JPEG", "MPO") and pixels.mode in ("RGB", "L"):
        pixels.save(out, "JPEG", quality=95)
        return out.getvalue(), "image/jpeg", "jpg"
    pixels.save(out, "PNG")
    return out.getvalue(), "image/png", "png"


def describe_image(img: Any) -> list[str]:
    """What identifies its maker in an open picture, in words a source understands."""
    said: list[str] = []
    exif = img.getexif()
    if exif.get_ifd(_GPS_IFD):
        said.append("where it was taken (its GPS position)")
    tags = dict(exif)
    tags.update(exif.get_ifd(_EXIF_IFD))
    said += [words for tag, words in _SAYS.items() if tags.get(tag) not in (None, "", b"")]
    if exif.get_ifd(_IFD1) or any(m == "APP1" and b"JFXX" in b[:5] for m, b in _applist(img)):
        said.append("a thumbnail (a small copy of the picture as first taken, before any crop)")
    info = img.info
    if "xmp" in info or "XML:com.adobe.xmp" in info or _app(img, b"http://ns.adobe.com/xap/"):
        said.append("XMP data (edits, the device, sometimes a place)")
    if _app(img, b"Photoshop 3.0") or "photoshop" in info:
        said.append("IPTC data (captions, names, places)")
    text_keys = set(info) - _PICTURE_KEYS
    if "comment" in info or text_keys - {"comment"}:
        said.append("comments and text notes")
    return said


def _applist(img: Any) -> list[tuple[str, bytes]]:
    return list(getattr(img, "applist", []))


def _app(img: Any, prefix: bytes) -> bool:
    return any(body.startswith(prefix) for _marker, body in _applist(img))


def _pdf(path: Path, data: bytes, removed: list[str]) -> bytes:
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
            if id(obj) in seen or len(seen) > _MAX_MEMBERS:
                continue
            seen.add(id(obj))
            for key in ("/Metadata", "/PieceInfo", "/LastModified"):
                if key in obj:  # a placed photo's own XMP: the camera, sometimes a place
                    del obj[key]
                    stripped = True
            if obj.get("/Subtype") == "/Form":
                todo.append(obj.get("/Resources"))
            elif obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode":
                bare = jpeg_bare(obj._data)  # the JPEG as stored: DCTDecode is not undone
                if bare != obj._data:
                    obj._data = bare  # the picture's own bytes are kept, only segments go
                    stripped = True
    return stripped


# The JPEG segments that say nothing of the photo's maker: the picture's tables and frame,
# JFIF's density (APP0) and Adobe's colour transform (APP14). EXIF, XMP, ICC, IPTC, the
# makers' own (APP1-APP13, APP15) and comments go.
_KEPT_APPS: Final = (0xE0, 0xEE)


def jpeg_bare(data: bytes) -> bytes:
    """A JPEG without its metadata segments, its compressed picture untouched; as it is if odd."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the picture itself, to the end
            return bytes(out + data[i:])
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > len(data):
            return data
        if not ((0xE1 <= marker <= 0xEF and marker not in _KEPT_APPS) or marker == 0xFE):
            out += data[i:end]
        i = end
    return data


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


def _office(
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
            if len(infos) > _MAX_MEMBERS or budget[0] < 0 or budget[1] < 0:
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
                    elif (kind := sniff(body[:16])) in _IMAGES:
                        pictured: list[str] = []
                        body = _picture(path, info.filename, body, pictured)
                        if pictured:
                            removed.append("the metadata of the pictures in it")
                    elif kind == "zip":
                        # A spreadsheet pasted into a statement: a whole document, its own writer.
                        body = _office(path, body, removed, budget)[0]
                    elif kind == "pdf":
                        body = _pdf(path, body, removed)
                    elif kind in _REFUSED:
                        raise SubmitError(
                            f"{path.name}: {info.filename}: an embedded file: {_REFUSED[kind]}",
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


def _picture(path: Path, member: str, body: bytes, removed: list[str]) -> bytes:
    """A picture inside a document, rebuilt in its own format (the document names its type)."""
    image_mod, _ = _pillow()
    try:
        with image_mod.open(io.BytesIO(body), formats=_DECODED) as img:
            removed += describe_image(img)
            if not removed:
                return body
            if img.width * img.height > _MAX_PIXELS or getattr(img, "n_frames", 1) > 1:
                raise SubmitError(f"{path.name}: {member} cannot be cleaned here", hint=KEEP_HINT)
            source_format = img.format
            img.load()
            pixels = image_mod.frombytes(img.mode, img.size, img.tobytes())
            if img.mode == "P":
                pixels.putpalette(img.getpalette() or [])
            out = io.BytesIO()
            kept = source_format in ("JPEG", "PNG", "GIF", "BMP")
            pixels.save(out, source_format if kept else "PNG")
    except (OSError, ValueError, SyntaxError, image_mod.DecompressionBombError) as exc:
        raise SubmitError(f"{path.name}: {member} cannot be read: {exc}") from exc
    return out.getvalue()
