"""A source's photo rebuilt from its pixels, in memory, and what it said of its maker.

Pillow decodes only the formats it decodes in memory by itself; a picture is
re-encoded from its pixels, upright as the camera meant it, so none of its
EXIF (GPS, make, model, serial, owner, times, thumbnail), XMP, IPTC, ICC
profile or comments goes. A JPEG inside a PDF is kept byte for byte, only its
metadata segments dropped (`jpeg_bare`).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any, Final

from submit.errors import SubmitError
from submit.kinds import KEEP_HINT

_MAX_PIXELS: Final = 100_000_000
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


def _pillow() -> Any:
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:
        raise SubmitError(
            "removing a photo's metadata needs Pillow",
            hint="install the client with its extra: pip install 'raazdar[submit]'",
        ) from exc
    return Image, ImageOps


def rebuild(path: Path, data: bytes, removed: list[str]) -> tuple[bytes, str, str]:
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
                removed += describe(img)
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


def describe(img: Any) -> list[str]:
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


def in_document(path: Path, member: str, body: bytes, removed: list[str]) -> bytes:
    """A picture inside a document, rebuilt in its own format (the document names its type)."""
    image_mod, _ = _pillow()
    try:
        with image_mod.open(io.BytesIO(body), formats=_DECODED) as img:
            removed += describe(img)
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
