"""PDFs rebuilt without metadata, and their plainly written text read for checking.

A PDF keeps who made it and when in many places: its document information and
XMP, a page's /LastModified, an editor's /PieceInfo, comments' authors and
times, embedded and associated files (each with its own name and dates), the
photos in it (the camera's JPEG or JPEG 2000 files as they were), its
signatures (the signer's name, place, time and certificates), the paths of
the files its links open, an XFA form's XML and its fonts' name tables. All of
it goes; the pages, what they draw and the form fields stay.

A few KiB of PDF can unpack to gigabytes (a stream compressed twice, or one
stream every page draws), so qpdf decodes no stream past 64 MiB and a PDF whose
streams, counted as often as they are read, unpack to more than 256 MiB is
refused before anything is read in full. All of it happens in a confined child
process (`review.casework.pdfwork`) with a wall-clock deadline, memory and CPU
limits: a PDF built to keep a parser busy holds the reviewer up for no longer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import warnings
from collections.abc import Iterator
from typing import Final

import pikepdf
import pikepdf.settings
from PIL import Image

from review.casework import pdfview
from review.casework.pictures import PILLOW_ERRORS
from review.errors import ReviewError, Unsupported

_MAX_PIXELS: Final = 100_000_000
_MAX_STREAM: Final = 64 * 1024 * 1024  # one stream, decoded
_MAX_DECODED: Final = 256 * 1024 * 1024  # all of them, each as often as it is read
_PER_READ: Final = 1024  # what reading a stream costs, however little it holds
_TOO_LARGE: Final = (
    "the PDF is too large once unpacked (past 256 MiB, or past what the document holding"
    " it may still unpack to)"
)
# LZW, which qpdf does not bound, makes at most 4096 bytes of a 9-bit code.
_LZW_RATIO: Final = 4096
_FILE_ACTIONS: Final = (
    pikepdf.Name.GoToR,
    pikepdf.Name.GoToE,
    pikepdf.Name.Launch,
    pikepdf.Name.ImportData,
)
_SIGNATURES: Final = (pikepdf.Name.Sig, pikepdf.Name.DocTimeStamp)
_SIGNED: Final = (
    "/Name",
    "/M",
    "/Location",
    "/Reason",
    "/ContactInfo",
    "/Contents",
    "/Cert",
    "/Prop_Build",
    "/Reference",
)
_PICTURE_FILTERS: Final = ([pikepdf.Name.DCTDecode], [pikepdf.Name.JPXDecode])

# What the child is given: a PDF of every page's scan rebuilds in seconds; one built to
# hang a parser, or to exhaust its memory, is stopped and refused.
LIMITS: Final = pdfview.Limits(
    seconds=120.0, cpu_seconds=100, memory=3 * 1024 * 1024 * 1024, output=_MAX_DECODED + 1024 * 1024
)
_CHILD: Final = "review.casework.pdfwork"
# The child's answer: DONE, an 8-byte count and the bytes; or REFUSED and why.
DONE: Final = b"O"
REFUSED: Final = b"U"


def rebuild(data: bytes) -> bytes:
    """Drop document information, XMP, JavaScript, embedded files and page metadata."""
    return rebuild_within(data, _MAX_DECODED)[0]


def rebuild_within(data: bytes, limit: int) -> tuple[bytes, int]:
    """`rebuild`, refused past `limit` bytes unpacked (below the PDF's own): what it used.

    Done by the confined child (`review.casework.pdfwork`), in bounded time.
    """
    reply = _apart({"op": "rebuild", "limit": limit}, data)
    return reply[8:], int.from_bytes(reply[:8], "big")


def text(data: bytes) -> str:
    """The strings a PDF's streams hold, decoded: what it says where it is written plainly.

    Read by the confined child (`review.casework.pdfwork`), in bounded time.
    """
    return _apart({"op": "text"}, data)[8:].decode("utf-8")


def _apart(request: dict[str, object], data: bytes) -> bytes:
    """What the child answers for `request` on `data` (after its 8-byte count); refusals raised."""
    limits = dataclasses.replace(LIMITS, output=LIMITS.output + 4 * len(data))
    asked = json.dumps({**request, "memory": limits.memory, "cpu": limits.cpu_seconds})
    try:
        out, status = pdfview.run_child(_CHILD, data, asked, limits)
    except Unsupported:
        raise
    except ReviewError as exc:  # past its deadline, or saying too much
        raise Unsupported(str(exc)) from None
    if out[:1] == REFUSED:
        raise Unsupported(out[1:].decode("utf-8", "replace"))
    if status != 0 or out[:1] != DONE or len(out) < 9:
        raise Unsupported(
            f"the PDF cannot be read here: {pdfview.ended(status)}; {pdfview.HOSTILE}"
        )
    return out[1:]


def rebuild_here(data: bytes, limit: int) -> tuple[bytes, int]:
    """`rebuild_within` in this process: only the confined child calls it."""
    try:
        with _bounded(), pikepdf.open(io.BytesIO(data)) as pdf:
            used = _check_unpacked(pdf, min(limit, _MAX_DECODED))
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            root = pdf.Root
            # /Perms and /DSS: the signatures' permissions and their certificates.
            # /SpiderInfo: web capture's addresses and times.
            for key in (
                "/Metadata",
                "/OpenAction",
                "/AA",
                "/PieceInfo",
                "/Perms",
                "/DSS",
                "/SpiderInfo",
            ):
                if key in root:
                    del root[key]
            # An XFA form's XML packets: its designer, its file's path, the data filled in.
            if "/AcroForm" in root and "/XFA" in root.AcroForm:
                del root.AcroForm["/XFA"]
            if "/Names" in root:
                for key in ("/JavaScript", "/EmbeddedFiles"):
                    if key in root.Names:
                        del root.Names[key]
            # An article thread's information: its own author and dates.
            for thread in root.get("/Threads", pikepdf.Array()):
                if isinstance(thread, pikepdf.Dictionary) and "/I" in thread:
                    del thread["/I"]
            for page in pdf.pages:
                _page(page.obj)
            for obj in _dictionaries(pdf):
                # XMP, an editor's private data, when a page was last changed, and PDF 2.0's
                # associated files (a page's source spreadsheet, with its name and dates).
                # A layer's usage names the person it is for and the program that made it.
                for key in (
                    "/Metadata",
                    "/PieceInfo",
                    "/LastModified",
                    "/AF",
                    "/User",
                    "/CreatorInfo",
                ):
                    if key in obj:
                        del obj[key]
                # A signature names its signer, where and when, and holds the signer's
                # certificates; rebuilding the file breaks it anyway: the field stays, unsigned.
                if obj.get("/FT") == pikepdf.Name.Sig and "/V" in obj:
                    del obj["/V"]
                # A link or bookmark opening another file: its path on the writer's machine.
                if obj.get("/S") in _FILE_ACTIONS:
                    for key in ("/F", "/Win", "/Mac", "/Unix"):
                        if key in obj:
                            del obj[key]
                # A font's name table: its vendor, dates, whom it was licensed to.
                for key in ("/FontFile2", "/FontFile3"):
                    font = obj.get(key)
                    if isinstance(font, pikepdf.Stream):
                        _font_without_names(font)
                if obj.get("/Type") in _SIGNATURES:
                    for key in _SIGNED:
                        if key in obj:
                            del obj[key]
            pictures = [
                obj
                for obj in pdf.objects
                if isinstance(obj, pikepdf.Stream) and _filters(obj)[-1:] in _PICTURE_FILTERS
            ]
            for picture in pictures:
                _picture(pdf, picture)
            out = io.BytesIO()
            pdf.remove_unreferenced_resources()
            pdf.save(out, deterministic_id=True)
            return out.getvalue(), used
    except pikepdf.PasswordError as exc:
        raise Unsupported("the PDF is encrypted") from exc
    except pikepdf.PdfError as exc:
        raise Unsupported(f"the PDF cannot be read: {exc}") from exc


@contextlib.contextmanager
def _bounded() -> Iterator[None]:
    """qpdf decodes no stream past `_MAX_STREAM`, for as long as this tool reads a PDF."""
    previous = pikepdf.settings.set_qpdf_limits(
        flate_max_memory=_MAX_STREAM,
        run_length_max_memory=_MAX_STREAM,
        png_max_memory=_MAX_STREAM,
        tiff_max_memory=_MAX_STREAM,
        dct_max_memory=_MAX_STREAM,
    )
    try:
        yield
    finally:
        pikepdf.settings.set_qpdf_limits(**previous)  # type: ignore[arg-type]


def _check_unpacked(pdf: pikepdf.Pdf, limit: int = _MAX_DECODED) -> int:
    """Refuse a PDF whose streams unpack past `limit`, counted as often as read: their sum.

    The text check reads every stream but the pictures, a photo compressed twice is
    unwrapped, and removing unused resources reads each page's contents and forms.
    """
    sizes: dict[tuple[int, int], int] = {}
    total = 0
    # Listing the objects unpacks every object stream: they are counted first, from the
    # cross-reference table, one at a time.
    entries = pdf.get_xref_table().values()
    packed = {e.obj_stream_number for e in entries if e.type == 2 and e.obj_stream_number}
    for number in sorted(packed):
        obj = pdf.get_object((number, 0))
        if isinstance(obj, pikepdf.Stream):
            sizes[obj.objgen] = size = _unpacked_size(pdf, obj)
            total += size
            if total > limit:
                raise Unsupported(_TOO_LARGE)
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.objgen not in sizes:
            sizes[obj.objgen] = size = _unpacked_size(pdf, obj)
            total += size
            if total > limit:
                raise Unsupported(_TOO_LARGE)
    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        todo: list[object] = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        todo.append(page.obj.get("/Resources"))
        seen: set[tuple[int, int]] = set()
        while todo:
            item = todo.pop()
            if isinstance(item, pikepdf.Stream):
                if item.objgen in seen:
                    continue
                seen.add(item.objgen)
                total += sizes.get(item.objgen, 0) + _PER_READ
                if total > limit:
                    raise Unsupported(_TOO_LARGE)
                item = item.get("/Resources")
            if isinstance(item, pikepdf.Dictionary):
                xobjects = item.get("/XObject")
                if isinstance(xobjects, pikepdf.Dictionary):
                    todo.extend(x for x in xobjects.values() if x.get("/Subtype") == "/Form")
    return total


def _unpacked_size(pdf: pikepdf.Pdf, stream: pikepdf.Stream) -> int:
    """What reading the stream here unpacks it to: 0 for one never unpacked."""
    chain = _filters(stream)
    if pikepdf.Name.LZWDecode in chain and len(stream.read_raw_bytes()) * _LZW_RATIO > (
        _MAX_STREAM
    ):
        raise Unsupported(_TOO_LARGE)
    try:
        if chain[-1:] in _PICTURE_FILTERS:
            return len(_unwrapped(pdf, stream)) if len(chain) > 1 else 0
        if stream.get("/Subtype") == pikepdf.Name.Image:
            return 0
        return len(stream.read_bytes())
    except pikepdf.DataDecodingError as exc:
        if "limit" in str(exc):
            raise Unsupported(_TOO_LARGE) from exc
        return 0  # damaged or not decoded here (JBIG2): the text check says so, if it reads it


def _unwrapped(pdf: pikepdf.Pdf, stream: pikepdf.Stream) -> bytes:
    """A picture's own bytes: the filters written before its own undone."""
    chain = _filters(stream)
    parms = stream.get("/DecodeParms")
    outer = pikepdf.Stream(pdf, stream.read_raw_bytes())
    outer.Filter = pikepdf.Array(chain[:-1])
    if isinstance(parms, pikepdf.Array):
        outer.DecodeParms = pikepdf.Array(list(parms)[:-1])
    return outer.read_bytes()


def _dictionaries(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Object]:
    """Every dictionary and stream of the file, those written inside another included.

    A direct object belongs to the one object it is written in, so each is seen once.
    """
    for obj in pdf.objects:
        stack = [obj]
        while stack:
            item = stack.pop()
            if isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
                yield item  # the caller may drop keys: what they held is not walked
                children = list(item.values())
            elif isinstance(item, pikepdf.Array):
                children = list(item)
            else:
                continue
            stack.extend(
                child
                for child in children
                if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect
            )


def _picture(pdf: pikepdf.Pdf, stream: pikepdf.Stream) -> None:
    """A photo in a PDF is its JPEG or JPEG 2000 file as it was written, metadata and all."""
    chain = _filters(stream)
    parms = stream.get("/DecodeParms")
    own_parms = parms[-1] if isinstance(parms, pikepdf.Array) and len(parms) else parms
    # Compressed again: undo the filters before the picture's own.
    data = _unwrapped(pdf, stream) if len(chain) > 1 else stream.read_raw_bytes()
    if chain[-1] == pikepdf.Name.DCTDecode:
        stream.write(_jpeg_without_metadata(data), filter=pikepdf.Name.DCTDecode)
    else:
        stream.write(_jpeg2000_without_metadata(data), filter=pikepdf.Name.JPXDecode)
    if isinstance(own_parms, pikepdf.Dictionary):
        stream.DecodeParms = own_parms


def _font_without_names(font: pikepdf.Stream) -> None:
    """A TrueType or OpenType font with its name table's strings blanked, all else as it was.

    A PDF's reader draws the glyphs and needs no names; a CFF or Type 1 font keeps its
    own (its maker's notice) and is left as it is.
    """
    data = bytearray(font.read_bytes())
    if bytes(data[:4]) not in (b"\x00\x01\x00\x00", b"true", b"OTTO") or len(data) < 12:
        return
    tables = int.from_bytes(data[4:6], "big")
    for at in range(12, min(12 + 16 * tables, len(data) - 15), 16):
        if data[at : at + 4] == b"name":
            start = int.from_bytes(data[at + 8 : at + 12], "big")
            end = min(start + int.from_bytes(data[at + 12 : at + 16], "big"), len(data))
            strings = start + int.from_bytes(data[start + 4 : start + 6], "big")
            if start + 6 <= end and strings < end:
                data[strings:end] = bytes(end - strings)
    font.write(bytes(data))


def _page(page: pikepdf.Dictionary) -> None:
    # /SI and /ID: the address a web-captured page came from and when.
    for key in ("/Metadata", "/PieceInfo", "/AA", "/SI", "/ID"):
        if key in page:
            del page[key]
    if "/Annots" not in page:
        return
    kept = pikepdf.Array()
    for annot in page.Annots:
        action = annot.get("/A")
        script = action is not None and action.get("/S") in (
            pikepdf.Name.JavaScript,
            pikepdf.Name.Launch,
        )
        if annot.get("/Subtype") == pikepdf.Name.FileAttachment or script:
            continue
        if "/AA" in annot:
            del annot["/AA"]
        # Who wrote a comment, and when; a form field's /T is its name, and stays.
        keys = ["/M", "/CreationDate", "/NM"]
        if annot.get("/Subtype") != pikepdf.Name.Widget:
            keys.append("/T")
        for key in keys:
            if key in annot:
                del annot[key]
        kept.append(annot)
    page.Annots = kept


def _filters(stream: pikepdf.Stream) -> list[object]:
    chain = stream.get("/Filter")
    if chain is None:
        return []
    return list(chain) if isinstance(chain, pikepdf.Array) else [chain]


def _jpeg_without_metadata(data: bytes) -> bytes:
    """The JPEG's segments but APP1-APP13, APP15 and comments: no EXIF, XMP, ICC or IPTC.

    JFIF (APP0) and Adobe's (APP14) say how to read the colours, so they stay; the
    scan itself is copied as it is, so the picture does not change.
    """
    if not data.startswith(b"\xff\xd8"):
        raise Unsupported("a picture in the PDF is not a JPEG")
    out = [data[:2]]
    pos = 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise Unsupported("a picture in the PDF is a damaged JPEG")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise Unsupported("a picture in the PDF is a damaged JPEG")
        if marker == 0xDA:  # start of scan: the rest is the picture
            out.append(data[pos:])
            return b"".join(out)
        if not (0xE1 <= marker <= 0xED or marker in (0xEF, 0xFE)):
            out.append(data[pos:end])
        pos = end


def _jpeg2000_without_metadata(data: bytes) -> bytes:
    """Re-encoded from its pixels: no XML, XMP or UUID boxes (GeoJP2), no comment."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG2000"]) as img:
                if img.width * img.height > _MAX_PIXELS:
                    raise Unsupported("a picture in the PDF is too large")
                img.load()
                clean = Image.frombytes(img.mode, img.size, img.tobytes())
        out = io.BytesIO()
        clean.save(out, "JPEG2000")
    except PILLOW_ERRORS as exc:
        raise Unsupported(f"a JPEG 2000 picture in the PDF cannot be read: {exc}") from exc
    # The encoder's comment names its version: the codestream is the last box, so it is cut
    # from the main header and the box's length written anew.
    encoded = out.getvalue()
    at = encoded.index(b"jp2c") - 4
    codestream = encoded[at + 8 :]
    kept, pos = [codestream[:2]], 2
    while (
        pos < len(codestream) and codestream[pos : pos + 2] != b"\xff\x90"
    ):  # the first tile: the main header ends
        end = pos + 2 + int.from_bytes(codestream[pos + 2 : pos + 4], "big")
        if codestream[pos : pos + 2] != b"\xff\x64":  # COM
            kept.append(codestream[pos:end])
        pos = end
    kept.append(codestream[pos:])
    clean_stream = b"".join(kept)
    return encoded[:at] + (8 + len(clean_stream)).to_bytes(4, "big") + b"jp2c" + clean_stream


def text_here(data: bytes) -> str:
    """`text` in this process: only the confined child calls it."""
    try:
        with _bounded(), pikepdf.open(io.BytesIO(data)) as pdf:
            _check_unpacked(pdf)
            # Pictures hold no text, and a scan's (JBIG2, CCITT, JPEG 2000) is not decoded
            # here at all.
            return "\n".join(
                obj.read_bytes().decode("latin-1")
                for obj in pdf.objects
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") != pikepdf.Name.Image
            )
    except pikepdf.PdfError as exc:
        raise Unsupported(f"the PDF's text cannot be read to check it: {exc}") from exc
