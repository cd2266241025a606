"""Attachments full of metadata: a geotagged photo, a PDF and office files with authors."""

from __future__ import annotations

import io
import multiprocessing
import os
import resource
import struct
import time
import zipfile
import zlib
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path

import pikepdf
from PIL import ExifTags, Image, PngImagePlugin

from review.escalation.scrub import Unsupported, document_text, scrub

CANARY = "CanaryAuthor-Q7"
XMP = f"<x:xmpmeta><dc:creator>{CANARY}</dc:creator></x:xmpmeta>".encode()


def jpeg_with_gps(size: tuple[int, int] = (24, 16)) -> bytes:
    """A JPEG with EXIF (camera, GPS position, orientation), XMP, an ICC profile and a comment."""
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = f"{CANARY}-make"
    exif[ExifTags.Base.Artist] = CANARY
    exif[ExifTags.Base.Orientation] = 6  # rotated: the clean copy must be upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 30.0, 15.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (74.0, 20.0, 0.0)
    out = io.BytesIO()
    img.save(
        out,
        "JPEG",
        exif=exif,
        comment=CANARY.encode(),
        icc_profile=CANARY.encode() * 8,
        xmp=f"<x:xmpmeta><dc:creator>{CANARY}</dc:creator></x:xmpmeta>".encode(),
    )
    return out.getvalue()


def png_with_text() -> bytes:
    """A PNG with tEXt and iTXt chunks naming its author."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARY)
    info.add_itxt("Comment", CANARY)
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jp2_with_xml_and_comment() -> bytes:
    """A JPEG 2000 file with an XML box (XMP, GeoJP2's GML) and a codestream comment."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(out, "JPEG2000", comment=CANARY)
    data = out.getvalue()
    box = struct.pack(">I", 8 + len(XMP)) + b"xml " + XMP
    at = data.index(b"jp2c") - 4
    return data[:at] + box + data[at:]


def pdf_with_author() -> bytes:
    """A PDF with document information, XMP, document JavaScript and an embedded file."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = CANARY
    pdf.docinfo["/Creator"] = f"{CANARY}-tool"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [CANARY]
    script = pdf.make_stream(b"app.alert('hi');")
    js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=script)
    attached = pikepdf.AttachedFileSpec(pdf, CANARY.encode(), filename="secret.txt")
    pdf.attachments["secret.txt"] = attached
    pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array(["js", js]))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def docx_with_author() -> bytes:
    """A minimal .docx: an author in its properties, a tracked change, a geotagged photo."""
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": "<Relationships/>",
        "word/document.xml": (
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f'<w:body><w:p w:rsidR="00AB12CD"><w:ins w:id="1" w:author="{CANARY}" '
            'w:date="2025-01-01T00:00:00Z"><w:r><w:t>The ledger</w:t></w:r></w:ins></w:p>'
            "</w:body></w:document>"
        ),
        "word/settings.xml": (
            '<w:settings xmlns:w="x"><w:rsids><w:rsidRoot w:val="00AB12CD"/></w:rsids>'
            '<w15:docId xmlns:w15="y" w15:val="{CANARY}"/></w:settings>'
        ),
        "docProps/core.xml": (
            '<cp:coreProperties xmlns:cp="c" xmlns:dc="d">'
            f"<dc:creator>{CANARY}</dc:creator><cp:lastModifiedBy>{CANARY}</cp:lastModifiedBy>"
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": f"<Properties><Company>{CANARY}</Company></Properties>",
        "docProps/custom.xml": (
            f"<Properties><property name='Owner'>{CANARY}</property></Properties>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr("word/media/image1.jpg", jpeg_with_gps())
        z.comment = CANARY.encode()
    return out.getvalue()


def docx_with_parts(parts: Mapping[str, bytes | str]) -> bytes:
    """A .docx of `docx_with_author`'s parts, those named in `parts` replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_with_author())) as src, zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            if info.filename not in parts:
                z.writestr(info.filename, src.read(info))
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def odt_with_author() -> bytes:
    """A minimal .odt with its author in meta.xml, a comment's author and a printer name."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            zipfile.ZipInfo("mimetype"),
            "application/vnd.oasis.opendocument.text",
            zipfile.ZIP_STORED,
        )
        z.writestr(
            "meta.xml",
            f"<office:document-meta><office:meta><meta:initial-creator>{CANARY}"
            "</meta:initial-creator></office:meta></office:document-meta>",
        )
        z.writestr(
            "content.xml",
            f"<office:annotation><dc:creator>{CANARY}</dc:creator></office:annotation>",
        )
        z.writestr(
            "settings.xml",
            '<config:config-item config:name="PrinterName" config:type="string">'
            f"{CANARY}-printer</config:config-item>",
        )
    return out.getvalue()


def assert_clean_image(data: bytes) -> None:
    """No EXIF (so no GPS), XMP, ICC profile, comment or text chunk."""
    with Image.open(io.BytesIO(data)) as img:
        assert len(img.getexif()) == 0
        assert not img.getexif().get_ifd(0x8825)
        assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(img.info)
        assert not getattr(img, "text", {})
    assert CANARY.encode() not in data


def scrub_within(data: bytes, seconds: float) -> bool:
    """Whether `scrub` finishes within `seconds` of CPU (in a child: a regex holds the GIL).

    CPU, not wall time: on a machine shared with other jobs a linear scrub waited its
    turn past the bound (a quadratic one runs for hours at these sizes either way).
    Ten times the bound in wall time ends the wait all the same.
    """
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=scrub, args=(data, lambda text: text))
    child.start()
    give_up = time.monotonic() + 10 * seconds
    while child.is_alive():
        if _cpu_seconds(child.pid) > seconds or time.monotonic() > give_up:
            child.kill()
            child.join()
            return False
        child.join(0.1)
    return True


def _cpu_seconds(pid: int | None) -> float:
    """The CPU time process `pid` has used (Linux: fields 14 and 15 of its stat); 0 if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def deflated_zeros(mib: int) -> bytes:
    """A zlib stream of `mib` MiB of zeros, about 1 KiB to the MiB, made without the zeros."""
    packer = zlib.compressobj(9)
    first = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    # After a full flush a block needs nothing before it, so one block repeats.
    block = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    adler = (((mib << 20) % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b counts them
    return first + block * (mib - 1) + b"\x03\x00" + adler.to_bytes(4, "big")


def pdf_bomb(mib: int, pages: int = 1) -> bytes:
    """A PDF of a few KiB whose one content stream, on every page, unpacks to `mib` MiB."""
    pdf = pikepdf.new()
    content = pdf.make_stream(b"")
    content.write(
        zlib.compress(deflated_zeros(mib), 9),
        filter=pikepdf.Array([pikepdf.Name.FlateDecode, pikepdf.Name.FlateDecode]),
    )
    for _ in range(pages):
        pdf.add_blank_page()
        pdf.pages[-1].obj.Contents = content
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def _scrub_and_read(data: bytes, answer: Connection) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        document_text(scrub(data, lambda text: text))
        outcome = "scrubbed"
    except Unsupported as exc:
        outcome = str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF)
    # The PDFs are opened in children of this one (review.casework.pdfview), counted once
    # they have been waited for.
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime
        for start, end in ((before, after), (children, done))
    )
    answer.send((outcome, (after.ru_maxrss - before.ru_maxrss) * 1024, cpu))


def _scrubbed_in_child(data: bytes, seconds: float) -> tuple[str, int, float] | None:
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_scrub_and_read, args=(data, theirs))
    child.start()
    ready = mine.poll(seconds)
    answer: tuple[str, int, float] | None = mine.recv() if ready else None
    if child.is_alive() and not ready:
        child.kill()
    child.join()
    return answer


def scrub_bounded(data: bytes, seconds: float) -> tuple[str, int] | None:
    """Scrub and read back in a child: its refusal (or "scrubbed") and the bytes its peak
    memory grew by, or None past `seconds`."""
    answer = _scrubbed_in_child(data, seconds)
    return None if answer is None else answer[:2]


def scrub_cpu(data: bytes, seconds: float) -> tuple[str, float] | None:
    """Scrub and read back in a child: its refusal (or "scrubbed") and the CPU seconds the
    child spent on it, or None past `seconds`. CPU, unlike wall time, is little moved by
    other jobs on the machine, so two documents' costs compare in one run."""
    answer = _scrubbed_in_child(data, seconds)
    return None if answer is None else (answer[0], answer[2])


def _deflated_after(prefix: bytes, mib: int) -> bytes:
    """A zlib stream of `prefix` and then zeros, `mib` MiB in all, made as `deflated_zeros`."""
    packer = zlib.compressobj(9)
    first = packer.compress(prefix + bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(bytes(1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    start = zlib.adler32(prefix + bytes(1 << 20))
    a, b = start & 0xFFFF, (start >> 16) + ((mib - 1) << 20) * (start & 0xFFFF)
    return first + block * (mib - 1) + b"\x03\x00" + ((b % 65521) << 16 | a).to_bytes(4, "big")


def pdf_of_object_streams(count: int, mib: int) -> bytes:
    """A PDF of `count` object streams (PDF 1.5), each of one small object and `mib` MiB of
    padding compressed twice: a few hundred bytes each."""
    out = bytearray(b"%PDF-1.5\n")
    offsets: dict[int, int] = {}

    def put(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n%b\nendobj\n" % (num, body))

    put(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    put(2, b"<< /Type /Pages /Kids [] /Count 0 >>")
    for n in range(3, 3 + 2 * count, 2):
        header = b"%d 0 " % (n + 1)
        data = zlib.compress(_deflated_after(header + b"<< /K 1 >> ", mib), 9)
        put(
            n,
            b"<< /Type /ObjStm /N 1 /First %d /Filter [/FlateDecode /FlateDecode] /Length %d >>"
            b"\nstream\n%b\nendstream" % (len(header), len(data), data),
        )
    xref = 3 + 2 * count
    rows = bytearray(b"\x00" + bytes(4) + b"\xff\xff")
    for num in range(1, xref):
        if num in offsets:
            rows += b"\x01" + offsets[num].to_bytes(4, "big") + bytes(2)
        else:  # the one object in the stream just before it
            rows += b"\x02" + (num - 1).to_bytes(4, "big") + bytes(2)
    at = len(out)
    rows += b"\x01" + at.to_bytes(4, "big") + bytes(2)
    out.extend(
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % (xref, xref + 1, len(rows))
    )
    out.extend(bytes(rows) + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at)
    return bytes(out)
