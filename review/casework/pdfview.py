"""Reading a PDF (or a picture) for `view`, from memory: in a confined child, by pipe, in time.

The PDF goes to `review.casework.pdfchild` on its standard input and comes back as
frames on its standard output: no temporary file holds it or its text. The
child is given a wall-clock deadline here and lowers its own memory, CPU and
file limits before it reads a byte, so a PDF built to hang or exhaust a parser,
or a bug in one, ends the child and never the review tool. The child is
untrusted too: every frame is checked, and its output is capped. A picture goes
the same way to `review.casework.imagechild` (`read_picture`).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, cast

from PIL import Image

from review.casework import imagechild, pdfchild
from review.errors import ReviewError

HINT_OPEN: Final = "`open` writes it to a file outside the workspace, for a viewer of its own"
_CHUNK: Final = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one PDF is given: wall-clock and CPU seconds, address space, pages, output."""

    seconds: float = 30.0
    cpu_seconds: int = 20
    memory: int = 768 * 1024 * 1024
    pages: int = 500
    output: int = 64 * 1024 * 1024


@dataclass
class Page:
    """One page as read: its text, and its image when asked for."""

    number: int
    text: str = ""
    image: Image.Image | None = None


@dataclass
class Document:
    """The pages read of a PDF, and how many it has."""

    count: int = 0
    pages: dict[int, Page] = field(default_factory=dict)
    images_problem: str | None = None
    said: list[str] = field(default_factory=list)  # its author, program, times


def read_pdf(
    data: bytes,
    *,
    columns: int,
    images: bool = True,
    first: int = 1,
    last: int | None = None,
    limits: Limits = Limits(),  # frozen: one shared default is safe
) -> Document:
    """Read pages `first` to `last` of a PDF: text, and images `columns` cells wide."""
    request = {
        "memory": limits.memory,
        "cpu": limits.cpu_seconds,
        "images": images,
        "columns": max(1, min(columns, 1000)),
        "first": first,
        "last": last if last is not None else 2**31 - 1,
        "max_pages": limits.pages,
    }
    out, status = run_child(pdfchild.__name__, data, json.dumps(request), limits)
    doc = _parse(out, request["columns"])
    if status != 0:
        if not doc.pages or len(doc.pages) < len(range(first, min(request["last"], doc.count) + 1)):
            raise ReviewError(f"the PDF reader stopped: {ended(status)}; {HOSTILE}", hint=HINT_OPEN)
        doc.images_problem = f"the page images could not be drawn: {ended(status)}"
    return doc


HOSTILE: Final = "the PDF may be damaged or built to break a reader"


_SIGNALS: Final = {
    signal.SIGXCPU: "it used all the CPU time it is given",
    signal.SIGKILL: "it was stopped",
    signal.SIGSEGV: "it crashed",
}


def read_picture(data: bytes, *, columns: int, limits: Limits = Limits()) -> Image.Image:
    """Decode a picture in a confined child (`review.casework.imagechild`), made small:
    `columns` pixels wide at most, and `pdfchild.TALLEST` times that tall."""
    columns = max(1, min(columns, 1000))
    request = {"memory": limits.memory, "cpu": limits.cpu_seconds, "columns": columns}
    out, status = run_child(imagechild.__name__, data, json.dumps(request), limits, "the picture")
    header = pdfchild.HEADER.size
    if len(out) >= header:
        kind, _number, length = pdfchild.HEADER.unpack_from(out)
        body = out[header : header + length]
        if kind == pdfchild.ERROR and len(body) == length:
            code, _, detail = body.decode("utf-8", "replace").partition("\n")
            said = (
                "it needs more memory than a picture is given here" if code == "memory" else detail
            )
            raise ReviewError(f"the image cannot be drawn: {said}", hint=HINT_OPEN)
        if kind == pdfchild.IMAGE and len(body) == length and status == 0:
            picture = _image(body, columns)
            if picture is not None:
                return picture
    stopped = (
        f"the picture reader stopped: {ended(status)}" if status else "its answer was malformed"
    )
    raise ReviewError(f"the image cannot be drawn: {stopped}", hint=HINT_OPEN)


def ended(status: int) -> str:
    """Why the child ended, in words."""
    if status < 0:
        try:
            return _SIGNALS.get(signal.Signals(-status), f"ended by {signal.Signals(-status).name}")
        except ValueError:
            return f"ended by signal {-status}"
    return f"it ended with status {status}"


# The child runs the code of this tree, as the parent does (an installed copy may be
# another's): its directory first on the path, then the module as `python -m` would.
_TREE: Final = str(Path(__file__).resolve().parents[2])
_BOOT: Final = (
    "import runpy, sys; sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[2:];"
    " runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)


def _command(module: str, request: str) -> list[str]:
    # -I: no environment variables, user site or current directory steer it; -B: writes nothing.
    return [sys.executable, "-I", "-B", "-c", _BOOT, _TREE, module, request]


def run_child(
    module: str, data: bytes, request: str, limits: Limits, what: str = "the PDF"
) -> tuple[bytes, int]:
    """Run a confining child module with `data` on its stdin: its output and exit status,
    in bounded time (`ReviewError` past the deadline or the output limit)."""
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
        _command(module, request),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"LC_ALL": "C.UTF-8"},
        cwd="/",
        close_fds=True,
        start_new_session=True,  # a terminal's Ctrl+C is the parent's to handle
    )
    deadline = time.monotonic() + limits.seconds
    try:
        out = _pump(proc, data, deadline, limits)
        # Its output ended; give it what is left of the deadline to exit.
        status = proc.wait(max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        raise _too_slow(limits, what) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                cast("IO[bytes]", pipe).close()
    return out, status


def _pump(proc: subprocess.Popen[bytes], data: bytes, deadline: float, limits: Limits) -> bytes:
    """Write `data` to the child and read what it says, until it closes its output."""
    stdin, stdout = cast("IO[bytes]", proc.stdin), cast("IO[bytes]", proc.stdout)  # both piped
    chunks: list[bytes] = []
    size = sent = 0
    with selectors.DefaultSelector() as sel:
        os.set_blocking(stdin.fileno(), False)
        sel.register(stdin, selectors.EVENT_WRITE)
        sel.register(stdout, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise _too_slow(limits)
            for key, _ in sel.select(left):
                if key.fileobj is stdin:
                    sent = _feed(stdin, data, sent)
                    if sent >= len(data):
                        sel.unregister(stdin)
                        stdin.close()
                elif chunk := os.read(stdout.fileno(), _CHUNK):
                    size += len(chunk)
                    if size > limits.output:
                        raise ReviewError(
                            f"the PDF reader said too much: {HOSTILE}", hint=HINT_OPEN
                        )
                    chunks.append(chunk)
                else:
                    sel.unregister(stdout)
    return b"".join(chunks)


def _feed(stdin: IO[bytes], data: bytes, sent: int) -> int:
    """Write what the pipe takes of the rest of `data`; a child that stopped reading takes all."""
    try:
        return sent + os.write(stdin.fileno(), memoryview(data)[sent : sent + _CHUNK])
    except BrokenPipeError:
        return len(data)


def _too_slow(limits: Limits, what: str = "the PDF") -> ReviewError:
    return ReviewError(
        f"{what} took longer than {limits.seconds:g} s to read: {HOSTILE.replace('the PDF', what)}",
        hint=HINT_OPEN,
    )


_ERRORS: Final = {
    "encrypted": ("the PDF is encrypted with a password", "ask the source for it in a reply; "),
    "damaged": ("the PDF is damaged", ""),
    "memory": ("the PDF needs more memory than a PDF is given here", ""),
}


def _parse(out: bytes, columns: int) -> Document:
    """Turn the child's frames into pages, checking each: the child is not trusted either."""
    doc = Document()
    at = 0
    while at < len(out):
        if len(out) - at < pdfchild.HEADER.size:
            break  # cut short: the child died mid-frame
        kind, number, length = pdfchild.HEADER.unpack_from(out, at)
        body = out[at + pdfchild.HEADER.size : at + pdfchild.HEADER.size + length]
        at += pdfchild.HEADER.size + length
        if len(body) != length:
            break
        if kind == pdfchild.COUNT:
            doc.count = number
        elif kind == pdfchild.META and not doc.said:
            lines = body[: pdfchild.META_MAX].decode("utf-8", "replace").splitlines()
            doc.said = [" ".join(line.split())[:200] for line in lines[:20] if line.strip()]
        elif kind == pdfchild.ERROR:
            _refuse(doc, body.decode("utf-8", "replace"))
        elif 1 <= number <= doc.count and kind == pdfchild.TEXT:
            doc.pages[number] = Page(number, _text(body.decode("utf-8", "replace")))
        elif number in doc.pages and kind == pdfchild.IMAGE:
            doc.pages[number].image = image = _image(body, columns)
            if image is None:
                doc.images_problem = f"the image of page {number} was malformed: not shown"
    return doc


def _refuse(doc: Document, said: str) -> None:
    code, _, detail = said.partition("\n")
    if code == "images":
        doc.images_problem = f"the page images could not be drawn: {detail}"
        return
    if code == "pages":
        raise ReviewError(
            f"the PDF is too long to read here at once ({detail})",
            hint="`raazdar-review report view` reads some of its pages with --pages,"
            " e.g. --pages 1-20",
        )
    message, hint = _ERRORS.get(code, _ERRORS["damaged"])
    raise ReviewError(
        f"{message}: {detail}" if code == "damaged" else message, hint=hint + HINT_OPEN
    )


def _image(body: bytes, columns: int) -> Image.Image | None:
    if len(body) < pdfchild.SIZE.size:
        return None
    width, height = pdfchild.SIZE.unpack_from(body)
    pixels = body[pdfchild.SIZE.size :]
    fits = 0 < width <= columns and 0 < height <= pdfchild.TALLEST * columns + 1
    if not fits or len(pixels) != width * height * 3:
        return None
    return Image.frombytes("RGB", (width, height), pixels)


# Arabic presentation forms: PDFs often hold Urdu as the shaped glyphs' code points.
_PRESENTATION: Final = ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF))


def _text(text: str) -> str:
    """A page's text with Arabic presentation forms turned back into letters."""
    return "".join(
        unicodedata.normalize("NFKC", ch)
        if any(lo <= ord(ch) <= hi for lo, hi in _PRESENTATION)
        else ch
        for ch in text
    )
