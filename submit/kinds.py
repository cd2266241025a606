"""What a source's file is, told by its bytes, and what the client says when it cannot clean it."""

from __future__ import annotations

from typing import Final

KEEP_HINT: Final = (
    "convert it (a screenshot of a photo or a video frame carries none of this), "
    "or send files exactly as they are with `send --keep-metadata`"
)
EXPORT_HINT: Final = (
    "save the document as PDF and send that, or send it exactly as it is with"
    " `send --keep-metadata`"
)
# Cleaning happens in memory, which a phone has little of.
MAX_CLEANED_BYTES: Final = 256 * 1024 * 1024
MAX_MEMBERS: Final = 10_000

IMAGES: Final = ("jpeg", "png", "gif", "webp", "tiff", "bmp")
REFUSED: Final = {
    "isobmff": (
        "HEIC, AVIF, MP4 and MOV files keep where and when they were taken and the phone's model"
    ),
    "audio": "audio recordings keep tags (the recorder's model, dates, sometimes a place)",
    "video": "video files keep where and when they were recorded and the phone's model",
    "ole": "old Word, Excel and PowerPoint files keep the author's name and times",
    "jpeg2000": "JPEG 2000 pictures keep XML and XMP that cannot be removed here",
    "postscript": "PostScript and EPS files name the user who made them and when",
}


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
