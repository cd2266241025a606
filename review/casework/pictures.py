"""Pictures rebuilt from their pixels alone, for a packet: only in the confined picture child.

A picture attachment, and every picture of an office document, leaves in a
packet re-encoded from its pixels: no EXIF, XMP, ICC profile, comments or text
chunks. Pillow decodes them in C, and a few kilobytes can ask for hundreds of
megabytes, so this runs in `review.casework.imagechild`, confined, never in the
tool holding the key (`review.escalation.scrub` sends them). It lives here, not
beside `scrub`, so that the child imports Pillow and not the escalation package.

Answers: DONE, an 8-byte count and the bytes; or REFUSED and why. A document's
pictures come and go each after its 8-byte length; the count is the pixels they
held, and a refusal starts with the picture's number (from 0; -1: all of them).
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps

from review.errors import Unsupported

MAX_PIXELS: Final = 100_000_000
# What Pillow raises for a picture it cannot or will not read: damaged or truncated data
# (OSError, UnidentifiedImageError among them), values out of range, a plugin's SyntaxError,
# and a decompression bomb (its warning raised as an error where a picture is read).
PILLOW_ERRORS: Final = (
    OSError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)
# The pixels of every picture in an attachment, its embedded documents' included: three of
# the largest. A document of many pictures just under the one-picture limit would hold a
# packet's child for hours.
MAX_DOCUMENT_PIXELS: Final = 3 * MAX_PIXELS
# What Pillow is let open: the types `scrub.sniff` lets through (a phone's MPO opens as JPEG).
_REBUILT: Final = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")
DONE: Final = b"O"
REFUSED: Final = b"U"
TOO_MANY: Final = (
    "the pictures in the document are too large in all (more than"
    f" {MAX_DOCUMENT_PIXELS:,} pixels): send them apart, or as they are"
)
_NO_MEMORY: Final = {
    "rebuild": b"the image needs more memory than its reader is given here",
    # No one picture's fault: the whole document's.
    "rebuild-all": b"-1\nthe pictures need more memory than their reader is given here",
}


@dataclass(frozen=True)
class Picture:
    """A picture rebuilt: its bytes, its type and its extension."""

    data: bytes
    content_type: str
    extension: str


def answer(op: str, data: bytes, pixels: int) -> bytes:
    """What the child says for `op` ("rebuild", "rebuild-all") on `data`; refusals included."""
    try:
        if op == "rebuild":
            result = rebuilt(data)
            header = json.dumps({"type": result.content_type, "extension": result.extension})
            body, used = header.encode() + result.data, len(header.encode())
        else:
            body, used = rebuilt_all(data, pixels)
    except Unsupported as exc:
        return REFUSED + str(exc).encode("utf-8")[:1000]
    except MemoryError:
        return REFUSED + _NO_MEMORY[op]
    return DONE + used.to_bytes(8, "big") + body


def rebuilt_all(frames: bytes, pixels: int) -> tuple[bytes, int]:
    """A document's pictures rebuilt in their own formats, framed as they came, and how many
    pixels they held.

    Counted from each picture's header before any is decoded: past `pixels` in all, none
    is. A refusal (`Unsupported`) starts with the number of the picture it is for.
    """
    bodies = unframed(frames) or []
    sizes = [_pixels(body) for body in bodies]
    if sum(sizes) > pixels:
        raise Unsupported(f"-1\n{TOO_MANY}")
    out = io.BytesIO()
    for number, body in enumerate(bodies):
        try:
            clean = rebuilt(body, keep_format=True).data
        except Unsupported as exc:
            raise Unsupported(f"{number}\n{exc}") from None
        out.write(len(clean).to_bytes(8, "big") + clean)
    return out.getvalue(), sum(sizes)


def unframed(data: bytes, count: int | None = None) -> list[bytes] | None:
    """The pieces of `data`, each after its 8-byte length, and nothing more: `count` of them
    if given (None: anything else)."""
    pieces: list[bytes] = []
    at = 0
    while at + 8 <= len(data) and (count is None or len(pieces) < count):
        length = int.from_bytes(data[at : at + 8], "big")
        pieces.append(data[at + 8 : at + 8 + length])
        at += 8 + length
    if at != len(data) or (count is not None and len(pieces) != count):
        return None
    return pieces


def _pixels(body: bytes) -> int:
    """How many pixels a picture holds, read from its header alone."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=_REBUILT) as img:
                return int(img.width * img.height)
    except PILLOW_ERRORS:
        return 0  # a picture `rebuilt` refuses unread


def rebuilt(data: bytes, keep_format: bool = False) -> Picture:
    """Re-encode from the pixels alone: no EXIF, XMP, ICC profile, comments or text chunks."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_REBUILT) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise Unsupported("the image is too large")
                # A phone's MPO is its photo, then a depth map or preview: the photo alone goes.
                if getattr(img, "n_frames", 1) > 1 and img.format != "MPO":
                    raise Unsupported("animated and multi-page images are not supported")
                source_format = "JPEG" if img.format == "MPO" else img.format
                img.load()
                upright = ImageOps.exif_transpose(img)  # the picture as the camera meant it
    except PILLOW_ERRORS as exc:
        raise Unsupported(f"the image cannot be read: {exc}") from exc
    if keep_format and source_format == "GIF":
        # A document names its picture's type: a GIF stays a GIF, its palette kept.
        return Picture(_gif(upright), "image/gif", "gif")
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA" if has_alpha else "RGB")
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    as_jpeg = source_format == "JPEG" and clean.mode in ("RGB", "L")
    if as_jpeg:
        clean.save(out, "JPEG", quality=92)
    elif keep_format and source_format == "BMP":
        clean.save(out, "BMP")
        return Picture(out.getvalue(), "image/bmp", "bmp")
    elif keep_format and source_format != "PNG":
        raise Unsupported("only JPEG, PNG, GIF and BMP images are rebuilt inside documents")
    else:
        clean.save(out, "PNG")
    if as_jpeg:
        return Picture(out.getvalue(), "image/jpeg", "jpg")
    return Picture(out.getvalue(), "image/png", "png")


def _gif(picture: Image.Image) -> bytes:
    """A GIF of the picture's pixels and palette alone: no comment or application data."""
    if picture.mode != "P":
        picture = picture.convert("RGBA").quantize()
    clean = Image.frombytes("P", picture.size, picture.tobytes())
    clean.putpalette(picture.getpalette() or [])
    out = io.BytesIO()
    transparency = picture.info.get("transparency")
    if isinstance(transparency, int):
        clean.save(out, "GIF", transparency=transparency)
    else:
        clean.save(out, "GIF")
    return out.getvalue()
