"""What an attachment says of where, when and on what it was made: shown to the reviewer.

A source's photo can carry, in its EXIF, the GPS position it was taken at, the
phone's make, model and serial number, its owner's name and the second it was
taken; an office document its author, last editor and company; a camera's file
name dates the photo and counts the phone's others. The reviewer is trusted
and must know: to judge what a packet may show, what a seized copy of the
workspace or an opened attachment would give away, and what to tell the
source. Escalation removes all of it (`review.escalation.scrub`). Read in
memory: pictures only in the formats Pillow decodes by itself, office
documents' property parts only, each of a bounded size; and read in a confined
child (`review.present.metachild`), as a picture is drawn, never in the tool
that holds the unlocked key: Pillow turns every value of a TIFF's tags into a
Python object (a TIFF of 32 MiB took 728 MB of the tool), and a bug in its EXIF
or TIFF parser would run where the key is.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import warnings
import zipfile
from typing import Any, Final

from PIL import Image

from review.casework import pdfchild, pdfview
from review.casework.pictures import PILLOW_ERRORS
from review.errors import ReviewError

HEADING: Final = "What the file says of its maker (an escalation packet leaves all of it out)"
# Pillow's in-memory decoders only: never EPS, which it hands to Ghostscript through a file.
_DECODED: Final = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")  # a phone's MPO opens as JPEG
_GPS_IFD: Final = 0x8825
_EXIF_IFD: Final = 0x8769
_IFD1: Final = 1
_TAGS: Final = (
    (0x010F, "camera make"),
    (0x0110, "camera model"),
    (0xA433, "lens make"),
    (0xA434, "lens model"),
    (0xA431, "camera serial number"),
    (0xA435, "lens serial number"),
    (0xA430, "camera owner"),
    (0x013B, "artist"),
    (0x8298, "copyright"),
    (0x9003, "taken"),
    (0x9004, "digitised"),
    (0x0132, "changed"),
    (0x9011, "time zone"),
    (0x0131, "software"),
    (0x013C, "computer"),
    (0x010E, "description"),
    (0xA420, "picture id"),
)
_CORE: Final = (
    ("dc:creator", "author"),
    ("cp:lastModifiedBy", "last changed by"),
    ("dcterms:created", "created"),
    ("dcterms:modified", "changed"),
    ("cp:lastPrinted", "printed"),
    ("Company", "company"),
    ("Manager", "manager"),
    ("Template", "template"),
    ("meta:initial-creator", "author"),
    ("dc:date", "changed"),
    ("meta:creation-date", "created"),
    ("meta:printed-by", "printed by"),
)
_PARTS: Final = ("docProps/core.xml", "docProps/app.xml", "meta.xml")
_MAX_PART: Final = 1024 * 1024
_MAX_EXIF: Final = 64 * 1024  # what an EXIF block (APP1's limit) may take
_MAX_VALUE: Final = 120
# A camera's, a phone's or a messenger's own name for a file: it dates and counts the photos.
_CAMERA_NAME: Final = re.compile(
    r"^(?:img|dsc[nf]?|dcim|pxl|vid|mvimg|pano|burst|gopr|dji|aud|ptt|screenshot"
    r"|screen[ _-]?recording|signal|whatsapp|fb_img)"
    r"(?=$|[^a-z])|\d{4}|[0-9a-f]{8}-?[0-9a-f]{4}",
    re.IGNORECASE,
)


# What the reviewer reads when the child could not say: never silence, which reads as "none".
UNREAD: Final = "what it says of its maker"
# What the child is given, and three times the file's size more (it holds the file, and
# a video is only searched): far more than a photo's tags or a document's properties take.
LIMITS: Final = pdfview.Limits(seconds=20.0, cpu_seconds=10, memory=128 * 1024 * 1024)
# The files the child is started for: ZIP (office, ODF), ISO media (HEIC, video) and the
# pictures Pillow decodes; `read` finds nothing in any other, so no child is started.
_CARRIERS: Final = (
    b"PK\x03\x04",
    b"\xff\xd8\xff",
    b"\x89PNG",
    b"GIF8",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
)
_MOST_LINES: Final = 40


def identifying(name: str | None, data: bytes, *, limits: pdfview.Limits = LIMITS) -> list[str]:
    """Each identifying detail an attachment carries, one line each, with its value.

    The file's own content is read in a confined child (`review.present.metachild`);
    when that fails, one line says so and why.
    """
    said = []
    if name and _CAMERA_NAME.search(name.rpartition(".")[0] or name):
        said.append(f"file name: {name[:_MAX_VALUE]} (a camera's or phone's: it dates the file)")
    carrier = data.startswith(_CARRIERS) or data[4:8] == b"ftyp" or data[8:12] == b"WEBP"
    return said + (_in_child(data, limits) if carrier else [])


def _in_child(data: bytes, limits: pdfview.Limits) -> list[str]:
    """What `read` finds in `data`, from the child: every frame checked, as the child is not
    trusted either."""
    memory = limits.memory + 3 * len(data)
    request = json.dumps({"memory": memory, "cpu": limits.cpu_seconds})
    why = "its answer was malformed"
    try:
        out, status = pdfview.run_child(
            "review.present.metachild", data, request, limits, "the file's metadata"
        )
    except ReviewError as exc:
        out, status, why = b"", 0, str(exc)
    header = pdfchild.HEADER.size
    if len(out) >= header:
        kind, _number, length = pdfchild.HEADER.unpack_from(out)
        body = out[header : header + length]
        if kind == pdfchild.META and len(body) == length and status == 0:
            # Here, not in the child (which never imports the drawing code): a child a crafted
            # file took over writes what it likes, and some callers echo the lines as they are.
            from review.present.text import clean

            lines = body.decode("utf-8", "replace").splitlines()[:_MOST_LINES]
            return [clean(" ".join(line.split()))[:200] for line in lines if line.strip()]
        if kind == pdfchild.ERROR and len(body) == length:
            why = "it needs more memory than such a file is given here"
    if status:
        why = f"its reader stopped: {pdfview.ended(status)}"
    return [f"{UNREAD}: not read ({why}); the file may be damaged or built to break a reader"]


def read(data: bytes) -> list[str]:
    """What `data` itself says of its maker, one line each: run in `review.present.metachild`."""
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    if data[4:8] == b"ftyp":
        return _movie(data)
    return _picture(data)


def kinds(found: list[str]) -> list[str]:
    """The kinds of detail `identifying` found, without their values: for the normal screen.

    A warning on stderr stays in the scrollback (or a log of it): it names a GPS position or
    an owner, and `report view` pages the values on the alternate screen.
    """
    return list(dict.fromkeys(line.partition(":")[0] for line in found))


def _picture(data: bytes) -> list[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_DECODED) as img:
                return _exif(img) + _extras(img)
    except PILLOW_ERRORS:
        return []


def _exif(img: Any) -> list[str]:
    return _exif_of(img.getexif())


def _exif_of(exif: Image.Exif) -> list[str]:
    said = []
    gps = exif.get_ifd(_GPS_IFD)
    if gps:
        said.append(f"GPS position: {_position(gps)}")
    tags = dict(exif)
    tags.update(exif.get_ifd(_EXIF_IFD))
    for tag, label in _TAGS:
        if (value := _text(tags.get(tag))) is not None:
            said.append(f"{label}: {value}")
    if 0x927C in tags:
        said.append("maker's notes: present (they can hold the phone's serial number)")
    if exif.get_ifd(_IFD1):
        said.append("thumbnail: present (a small copy of the picture as first taken)")
    return said


def _extras(img: Any) -> list[str]:
    said = []
    applist = list(getattr(img, "applist", []))
    info = img.info
    if "xmp" in info or "XML:com.adobe.xmp" in info:
        said.append("XMP: present (edits, the device, sometimes a place)")
    if any(body.startswith(b"Photoshop 3.0") for _m, body in applist) or "photoshop" in info:
        said.append("IPTC: present (captions, names, places)")
    if (comment := _text(info.get("comment"))) is not None:
        said.append(f"comment: {comment}")
    if getattr(img, "n_frames", 1) > 1 and img.format == "MPO":
        said.append("a second picture in the file (a depth map or a preview)")
    return said


def _position(gps: dict[int, Any]) -> str:
    """A GPS IFD's position in degrees, as a map takes it; the raw values if they are odd."""
    try:
        lat = _degrees(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
        lon = _degrees(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "present"
    return f"{lat:.5f}, {lon:.5f}"


def _degrees(value: Any) -> float:
    d, m, s = (float(part) for part in value)
    return d + m / 60 + s / 3600


def _text(value: Any) -> str | None:
    """A tag's value as one short printable line; None when it says nothing."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value is None or isinstance(value, dict | list | tuple):
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(value)).split())
    text = text.strip("\x00 ")
    return text[:_MAX_VALUE] or None


# Where a phone's video (or HEIC) was recorded: ISO 6709, "+31.5560+074.3440/", in a
# QuickTime ©xyz box (Android) or under Apple's location key.
_WHERE: Final = (b"\xa9xyz", b"com.apple.quicktime.location.ISO6709")
_ISO6709: Final = re.compile(
    rb"([+-][0-9]{1,2}(?:\.[0-9]{1,10})?)([+-][0-9]{1,3}(?:\.[0-9]{1,10})?)"
)
_MOVIE_TAGS: Final = (
    (b"com.apple.quicktime.make", "camera make"),
    (b"com.apple.quicktime.model", "camera model"),
    (b"com.apple.quicktime.software", "software"),
    (b"com.apple.quicktime.creationdate", "taken"),
    (b"\xa9mak", "camera make"),
    (b"\xa9mod", "camera model"),
)


def _movie(data: bytes) -> list[str]:
    """A video's (or an ISO media photo's) recording place and device, where it names them.

    A HEIC or AVIF photo keeps a whole EXIF block as an item of its own, found by its header.
    """
    said = []
    at = data.find(b"Exif\x00\x00")
    if at >= 0:
        exif = Image.Exif()
        with contextlib.suppress(Exception):  # a damaged block is a hostile file's, not shown
            exif.load(data[at : at + _MAX_EXIF])
            said += _exif_of(exif)
    for key in _WHERE:
        at = data.find(key)
        placed = any(line.startswith("GPS") for line in said)
        if at >= 0 and not placed and (found := _ISO6709.search(data, at, at + 300)):
            said.append(f"GPS position: {float(found[1]):.5f}, {float(found[2]):.5f}")
            break
    # Their values sit in a list indexed apart from the keys: said present, not read.
    labels = {label for key, label in _MOVIE_TAGS if key in data}
    return said + [f"{label}: present" for label in sorted(labels)]


def _office(data: bytes) -> list[str]:
    said = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for part in _PARTS:
                try:
                    info = package.getinfo(part)
                except KeyError:
                    continue
                if info.file_size > _MAX_PART:
                    said.append(f"{part}: present, too large to read here")
                    continue
                xml = package.read(info).decode("utf-8", "replace")
                # A tag ends before the next begins: unclosed tags are each read once.
                for tag, label in _CORE:
                    for value in re.findall(rf"<{re.escape(tag)}\b[^<>]*>([^<]{{1,500}})<", xml):
                        if (shown := _text(html.unescape(value))) is not None:
                            said.append(f"{label}: {shown}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        return said
    return list(dict.fromkeys(said))
