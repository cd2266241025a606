"""The child process that reads a PDF for `view`: confined first, then parsing, answers by pipe.

A PDF comes from an anonymous source and may be built to hang, exhaust or
break a parser. So it is parsed here, in a process of its own started by
`review.casework.pdfview`: before it reads a byte of the PDF it lowers its own limits
(address space, CPU time, no file larger than 0 bytes, no core dump and not
dumpable, no new process, and, once all it runs is imported, no new file or socket),
reads the PDF from standard input, and writes frames to standard output. Text comes
from pypdf, pure Python, so a bug there is an exception and not memory corruption; page
images, when asked for, from PDFium, only after every page's text is out, so a crash in
it costs the images only.
"""

from __future__ import annotations

import codecs
import ctypes
import functools
import io
import json
import os
import resource
import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO, Final

# A frame: kind (one byte), page number, length of what follows.
HEADER: Final = struct.Struct(">cII")
COUNT: Final = b"N"  # the page number field holds the page count; nothing follows
TEXT: Final = b"T"  # a page's text, UTF-8
IMAGE: Final = b"I"  # width and height (">HH"), then RGB rows
ERROR: Final = b"E"  # a code, a newline, a message (UTF-8)
META: Final = b"M"  # what the PDF says of its maker: "label: value" lines (UTF-8)
SIZE: Final = struct.Struct(">HH")
# How much taller than wide a page image may be drawn.
TALLEST: Final = 3
# The most text one page may give.
PAGE_TEXT_MAX: Final = 256 * 1024
# The document information a reviewer is shown, by the label it is shown under.
INFO: Final = (
    ("/Author", "author"),
    ("/Creator", "creator"),
    ("/Producer", "producer"),
    ("/CreationDate", "created"),
    ("/ModDate", "changed"),
    ("/Title", "title"),
    ("/Subject", "subject"),
    ("/Keywords", "keywords"),
)
META_MAX: Final = 4096
# The codecs pypdf decodes a PDF's strings and fonts with (its encodings and the CJK CMaps
# it knows by name): each is imported before the child is shut, or a PDF needing it fails.
CODECS: Final = (
    *("ascii", "charmap", "latin-1", "mac_roman", "utf-8", "utf-16", "utf-16-be", "utf-16-le"),
    *("cp1250", "cp1252", "cp1254", "cp1257", "cp932", "cp950", "gb2312", "gbk"),
)
# prctl(2): whether a crash may be dumped, and this user's other processes may trace it.
_PR_SET_DUMPABLE: Final = 4
_PR_SET_NO_NEW_PRIVS: Final = 38
# Landlock's system calls (Linux 5.13 on): one number on every architecture.
_LANDLOCK_CREATE_RULESET: Final = 444
_LANDLOCK_RESTRICT_SELF: Final = 446
_LANDLOCK_VERSION: Final = 1  # create_ruleset's flag: say the ABI version, make nothing


def confine(memory: int, cpu_seconds: int) -> None:
    """Lower this process's limits for good: a hostile PDF gets no more than this."""
    hard = {
        resource.RLIMIT_AS: memory,
        resource.RLIMIT_FSIZE: 0,  # nothing it parses can be written to a file
        resource.RLIMIT_CORE: 0,  # a core dump would be plaintext on disk
        resource.RLIMIT_NPROC: 0,  # no child of its own (not enforced for root)
        resource.RLIMIT_NOFILE: 16,
    }
    for which, value in hard.items():
        resource.setrlimit(which, (value, value))
    # Not dumpable: exec made it so again, though the tool is not, and a core_pattern piping
    # to a crash reporter is not held by RLIMIT_CORE (the kernel dumps to a pipe whatever it
    # says). Nor can another process of this user trace it and read the attachment.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    # Past the CPU time a SIGXCPU ends it; a second later the kernel's SIGKILL would.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def shut() -> None:
    """Open no file or socket from here on: what a child has open it keeps, nothing more.

    A child whose answer leaves in a packet (a PDF or a picture rebuilt) and whose parser
    a hostile attachment has taken over could otherwise read any file of the reviewer's
    (an attachment opened onto the disk, their keys) into the bytes it answers with. Called
    once everything the child runs is imported: an import opens files.
    """
    landlock()  # first: it takes a descriptor
    lowest = os.dup(0)  # the lowest descriptor free: every new one would be at or past it
    os.close(lowest)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest, lowest))


def landlock_version() -> int:
    """The Landlock ABI this kernel offers (0: none, or not Linux)."""
    if sys.platform != "linux":
        return 0
    version = _libc().syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_VERSION)
    return max(int(version), 0)


def landlock() -> bool:
    """Touch no path again, where the kernel can refuse it: whether it could.

    A child shut out of new descriptors could still unlink, truncate or rename by path
    (the workspace, the reviewer's keys) and connect by TCP on a descriptor it has.
    Landlock, with every access it knows handled and none granted, refuses all of it;
    a kernel without it leaves the descriptor limit alone (docs/REVIEW.md says so).
    """
    version = landlock_version()
    if version < 1:
        return False
    files = (1 << 13) - 1  # version 1: execute, read, write, list, remove and make anything
    files |= sum(
        bit for since, bit in ((2, 1 << 13), (3, 1 << 14), (5, 1 << 15)) if version >= since
    )
    # Then: link or rename across directories (2), truncate (3), a device's ioctl (5);
    # TCP bind and connect (4); abstract UNIX sockets and signals out of the child (6).
    net, scoped = (0b11 if version >= 4 else 0), (0b11 if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24
    attr = ctypes.create_string_buffer(struct.pack("=QQQ", files, net, scoped)[:size], size)
    libc = _libc()
    ruleset = libc.syscall(_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return False
    try:
        return bool(
            libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            and libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0
        )
    finally:
        os.close(ruleset)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long  # a descriptor or -1, as the kernel says
    return libc


def send(out: BinaryIO, kind: bytes, page: int, body: bytes = b"") -> None:
    """Write one frame and flush it, so the parent has it even if the next step crashes."""
    out.write(HEADER.pack(kind, page, len(body)) + body)
    out.flush()


def fail(out: BinaryIO, code: str, message: str) -> None:
    """Tell the parent why the PDF cannot be read, then stop."""
    send(out, ERROR, 0, f"{code}\n{message[:300]}".encode())


def main() -> int:
    """Confine, read the request and the PDF, answer in frames."""
    request = json.loads(sys.argv[1])
    prepare(request)
    out = sys.stdout.buffer
    data = sys.stdin.buffer.read()
    wanted = read_text(out, data, request)
    if wanted and request["images"]:
        draw_pages(out, data, wanted, int(request["columns"]))
    return 0


def prepare(request: dict[str, Any]) -> None:
    """Confine this process, import all it runs, then open no file or socket again: a
    parser taken over by a crafted PDF could otherwise read the reviewer's files (their
    keys, an attachment opened onto the disk) into the text the view shows, or a socket."""
    confine(int(request["memory"]), int(request["cpu"]))
    # After confinement, as is all that parses; each imports more when it first needs it.
    import pypdf
    import pypdf._text_extraction
    import pypdf.filters
    import pypdf.xmp
    import pypdfium2
    from PIL import Image, ImageFile  # ImageFile: a page drawn is handed to Pillow by it

    del pypdf, pypdfium2, Image, ImageFile  # imported to be loaded now, not later
    for name in CODECS:
        codecs.lookup(name)  # a codec's module is imported on its first use
    shut()


def refused(out: BinaryIO, exc: Exception, where: str = "") -> None:
    """Tell the parent why a parser gave up, in words it can show."""
    from pypdf.errors import FileNotDecryptedError

    if isinstance(exc, MemoryError):
        fail(out, "memory", "it needs more memory than a PDF is given here")
    elif isinstance(exc, RecursionError):
        fail(out, "damaged", "its objects are nested too deeply")
    elif isinstance(exc, FileNotDecryptedError) or "password" in str(exc).lower():
        fail(out, "encrypted", "it is encrypted with a password")
    else:
        fail(out, "damaged", f"{where}{exc or type(exc).__name__}")


def read_text(out: BinaryIO, data: bytes, request: dict[str, int]) -> list[int]:
    """Send the page count and each wanted page's text; return the wanted page numbers."""
    from pypdf.errors import DependencyError  # after confinement, as is everything that parses

    try:
        try:
            count, text_of, said = pypdf_reader(data)
        except DependencyError:
            # AES (here, with an empty password: a PDF that only restricts copying or
            # printing): pypdf wants a cipher library for it, and PDFium has its own.
            count, text_of = len(pdfium(data)), functools.partial(pdfium_text, data)
            said = pdfium_meta(data)
    except Exception as exc:  # anything a parser of hostile input raises is a refusal
        refused(out, exc)
        return []
    send(out, COUNT, count)
    if said:
        send(out, META, 0, "\n".join(said).encode("utf-8", "replace")[:META_MAX])
    first, last = max(1, request["first"]), min(count, request["last"])
    if last - first + 1 > request["max_pages"]:
        fail(out, "pages", f"{last - first + 1} pages asked for, of {count}")
        return []
    wanted = list(range(first, last + 1))
    for number in wanted:
        try:
            try:
                text = text_of(number)
            except DependencyError:
                text = pdfium_text(data, number)
        except Exception as exc:
            refused(out, exc, f"page {number}: ")
            return []
        send(out, TEXT, number, text.encode("utf-8", "replace")[:PAGE_TEXT_MAX])
    return wanted


def pypdf_reader(data: bytes) -> tuple[int, Callable[[int], str], list[str]]:
    """The page count, a page's text as pypdf reads it, and what it says of its maker."""
    import pypdf
    from pypdf.errors import FileNotDecryptedError

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise FileNotDecryptedError("it is encrypted with a password")
    info: dict[str, Any] = dict(reader.metadata or {})
    said = [f"{label}: {info[key]}" for key, label in INFO if info.get(key)]
    if "/Metadata" in reader.root_object:
        said.append("XMP: present (the author, the program, times)")
    if any(page.get("/PieceInfo") or page.get("/LastModified") for page in reader.pages):
        said.append("pages' own metadata: present (the program, the time each was changed)")
    count = len(reader.pages)
    return count, lambda number: reader.pages[number - 1].extract_text(), said


def pdfium_meta(data: bytes) -> list[str]:
    """What PDFium reads of the document information."""
    info = pdfium(data).get_metadata_dict(skip_empty=True)
    return [f"{label}: {info[key[1:]]}" for key, label in INFO if info.get(key[1:])]


def pdfium_text(data: bytes, number: int) -> str:
    """A page's text as PDFium reads it."""
    text: str = pdfium(data)[number - 1].get_textpage().get_text_bounded()
    return text


@functools.cache
def pdfium(data: bytes) -> Any:
    """The PDF opened by PDFium, once."""
    import pypdfium2

    return pypdfium2.PdfDocument(data)


def draw_pages(out: BinaryIO, data: bytes, wanted: list[int], columns: int) -> None:
    """Send each wanted page drawn `columns` pixels (cells) wide, at most TALLEST times taller."""
    try:
        doc = pdfium(data)
        for number in wanted:
            page = doc[number - 1]
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                continue
            scale = min(columns / width, TALLEST * columns / height)
            image = page.render(scale=scale).to_pil().convert("RGB")
            image.thumbnail((columns, TALLEST * columns))  # PDFium may round a pixel up
            body = SIZE.pack(image.width, image.height) + image.tobytes()
            send(out, IMAGE, number, body)
    except Exception as exc:  # the text is out already: only the images are lost
        fail(out, "images", str(exc) or type(exc).__name__)


if __name__ == "__main__":
    sys.exit(main())
