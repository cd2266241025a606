"""What a file says about who made it, where and when, removed on the device before sealing.

A phone's photo carries in its EXIF the GPS position it was taken at, the
phone's make, model and often serial number, the second it was taken and a
thumbnail of the picture before any crop; a PDF or an office document the
writer's name, company, the paths it was saved under and its times; and a
camera's file name (`IMG_20261203_0915.jpg`) dates the photo and orders it
among the source's others. Whoever a report reaches, or whoever seizes a
review workstation, would read them all. Photos are rebuilt from their
pixels alone (`submit.pictures`), PDFs and office documents lose their
writer's names, paths and times (`submit.documents`), camera-style names
become neutral ones (here). Everything
happens in memory: no cleaned copy is ever written unencrypted to the device.

What cannot be cleaned here (HEIC, video, audio, archives, old office files)
is refused, unless the source says to send files exactly as they are.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from submit import documents, pictures
from submit.errors import SubmitError
from submit.kinds import IMAGES, KEEP_HINT, MAX_CLEANED_BYTES, REFUSED, sniff

# A camera's, a phone's or a messenger's own name for a file: a date, a time, a counter.
_CAMERA_NAME: Final = re.compile(
    r"^(?:img|dsc[nf]?|dcim|pxl|vid|mvimg|pano|burst|gopr|dji|aud|ptt|screenshot"
    r"|screen[ _-]?recording|signal|whatsapp|fb_img)"
    r"(?=$|[^a-z])",
    re.IGNORECASE,
)
_DIGITS: Final = re.compile(r"\d{4}")
_HEXISH: Final = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}", re.IGNORECASE)


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
    if kind in REFUSED:
        raise SubmitError(
            f"{path.name}: {REFUSED[kind]}, which this client cannot remove", hint=KEEP_HINT
        )
    removed: list[str] = []
    if kind in IMAGES:
        data, content_type, extension = pictures.rebuild(path, data, removed)
    elif kind == "pdf":
        data, content_type, extension = documents.pdf(path, data, removed), "application/pdf", "pdf"
    elif kind == "zip":
        data, content_type, extension = documents.office(path, data, removed)
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
        word = "photo" if kind in IMAGES else "file"
        name = f"{word}-{index}.{extension}"
        removed.append("its file name")
    elif extension != path.suffix.lstrip(".").casefold():
        name = f"{path.stem}.{extension}"
    return Cleaned(data, content_type, name, tuple(dict.fromkeys(removed)))


def camera_style(name: str) -> bool:
    """Say whether a file name is one a camera, phone or messenger gave it: dated or counted."""
    stem = name.rpartition(".")[0] or name
    return bool(_CAMERA_NAME.match(stem) or _DIGITS.search(stem) or _HEXISH.search(stem))


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if re.match(r"\s*(?:\{\\rtf|<\?xml|<svg|<!doctype|<html)", text, re.IGNORECASE):
        return False  # RTF's \info, SVG's <metadata>, HTML's <meta name=author>
    return all(ch in "\n\r\t" or unicodedata.category(ch) != "Cc" for ch in text)
