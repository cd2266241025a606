"""Reading an attachment inside the tool: shown from memory, no plaintext written anywhere."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import EpsImagePlugin, Image

from review import bidi
from review import workspace as ws
from review.casework import pdfview
from review.errors import ReviewError
from review.workspace import audit
from tests.app.operations.test_journal import ext4  # noqa: F401 - the fixture
from tests.review.fixtures import png_with_text
from tests.review.support import Server, all_bytes, review
from tests.submit.support import OWNER, SERIAL, camera_photo

CANARY = "canary-VIEW-ledger"
URDU = "منشی نے دوسرا رجسٹر رکھا"
# A hostile PDF must be refused within this, on a busy machine (the deadline is 30 s).
BOUNDED = 20.0


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog), with its xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """A PDF stream object's body."""
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with these pages of text (any script) and a blue box on each.

    The font is a bare CID font whose ToUnicode map says which character each
    glyph is, as a PDF maker writes it; no glyphs are embedded. Right-to-left
    lines are drawn in visual order, as PDF makers place them.
    """
    chars = sorted({c for page in pages for c in page if c != "\n"})
    cid = {c: i for i, c in enumerate(chars, start=1)}
    n = len(pages)
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
    ]
    font = 3 + 2 * n
    for i, text in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Contents %d 0 R"
            b" /Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * i, font)
        )
        ops = b"0.2 0.4 0.8 rg 20 20 120 60 re f BT /F1 16 Tf 20 250 Td 20 TL "
        for line in text.split("\n"):
            drawn = line[::-1] if bidi.is_rtl(line) else line
            ops += b"<%s> Tj T* " % "".join(f"{cid[c]:04X}" for c in drawn).encode()
        objects.append(stream(ops + b"ET"))
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /R def"
        f" 1 begincodespacerange <0000> <FFFF> endcodespacerange {len(chars)} beginbfchar\n"
        + "".join(f"<{cid[c]:04X}> <{c.encode('utf-16-be').hex()}>\n" for c in chars)
        + "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    objects += [
        b"<< /Type /Font /Subtype /Type0 /BaseFont /R /Encoding /Identity-H"
        b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (font + 1, font + 2),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /R /FontDescriptor %d 0 R"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>"
        % (font + 3),
        stream(cmap.encode("ascii")),
        b"<< /Type /FontDescriptor /FontName /R /Flags 4 /FontBBox [0 0 600 800]"
        b" /ItalicAngle 0 /Ascent 800 /Descent 0 /CapHeight 700 /StemV 80 >>",
    ]
    return pdf_file(objects)


def blank_pages(n: int) -> bytes:
    """A PDF of `n` empty pages."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 30 20] >>"
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        ]
        + [page] * n
    )


def one_page(contents: bytes, extra: bytes = b"") -> bytes:
    """A one-page PDF whose page draws this content stream."""
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            stream(contents, extra),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def encrypted(data: bytes, password: str) -> bytes:
    """The PDF encrypted with AES-256, opened by `password` (empty: it only restricts use)."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=password, owner="owner-secret", R=6))
    return out.getvalue()


def imported(
    server: Server, workspace: Path, tmp_path: Path, files: list[tuple[str, bytes]]
) -> None:
    """Submit a report with these PDFs and import it as report 1."""
    server.submit(
        "see the file", [("files", name, data, "application/pdf") for name, data in files]
    )
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0


def views(u: ws.Unlocked) -> list[str]:
    """The attachments whose viewing the audit log records, in order."""
    return [e.detail["attachment"] for e in audit.entries(u) if e.action == "view" and e.detail]


def test_a_text_attachment_is_read_in_the_tool_and_no_plaintext_reaches_a_disk(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    ledger = f"{CANARY}\n{URDU}\n".encode()
    files = [
        ("files", "ledger.txt", ledger, "text/plain"),
        ("files", "p.png", png_with_text(), "image/png"),
    ]
    server.submit("see the ledger", files)
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    before = {p for p, _ in all_bytes(tmp_path)}

    result = review(workspace, "view", "1", "ledger.txt", "--rtl", "visual")
    assert result.exit_code == 0, result.output
    assert CANARY in result.output
    assert bidi.visual(URDU) in result.output  # Urdu laid out as the report view does

    image = review(workspace, "view", "1", "p.png")
    assert image.exit_code == 0, image.output
    assert "\u2580" in image.output  # drawn with half blocks, in colour

    # Nothing new outside the workspace; the ledger's text is nowhere on disk in the clear.
    assert {p for p, _ in all_bytes(tmp_path)} - before <= {p for p, _ in all_bytes(workspace)}
    assert not [p for p, data in all_bytes(tmp_path) if CANARY.encode() in data]


def test_a_file_the_tool_cannot_show_is_refused_with_a_hint(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a zip", [("files", "a.zip", b"PK\x03\x04 binary", "application/zip")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    assert result.exit_code == 1
    assert "cannot show application/zip here" in result.output
    assert "hint:" in result.output


def test_a_pdf_is_read_page_by_page_in_the_tool_and_no_plaintext_reaches_a_disk(
    server: Server, workspace: Path, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    imported(
        server, workspace, tmp_path, [("ledger.pdf", text_pdf(["cover page", f"{CANARY}\n{URDU}"]))]
    )
    before = {p for p, _ in all_bytes(tmp_path)}

    whole = review(workspace, "view", "1", "ledger.pdf", "--rtl", "visual")
    assert whole.exit_code == 0, whole.output
    assert "Page 1 of 2" in whole.output
    assert "Page 2 of 2" in whole.output
    assert CANARY in whole.output
    assert bidi.visual(URDU) in whole.output  # Urdu laid out as the report view does
    assert "\u2580" in whole.output  # the pages drawn, with the renderer images use

    second = review(workspace, "view", "1", "1", "--pages", "2", "--no-images", "--rtl", "logical")
    assert second.exit_code == 0, second.output
    assert "Page 1 of 2" not in second.output
    assert URDU in second.output
    assert "\u2580" not in second.output

    assert len(views(unlocked)) == 2  # each reading recorded, as for text and images
    assert {p for p, _ in all_bytes(tmp_path)} - before <= {p for p, _ in all_bytes(workspace)}
    assert not [p for p, data in all_bytes(tmp_path) if CANARY.encode() in data]


def test_urdu_in_arabic_presentation_forms_is_read_as_letters() -> None:
    shaped = "\ufee3\ufee8\ufeb8\ufef0"  # منشى as a PDF maker's shaped glyphs
    doc = pdfview.read_pdf(text_pdf([shaped]), columns=40, images=False)
    assert doc.pages[1].text.strip() == "منشى"


@pytest.mark.parametrize("columns", [37, 56, 100])
def test_every_page_is_drawn_at_most_as_wide_as_the_terminal(columns: int) -> None:
    pages = ["wide", "tall"]
    doc = pdfview.read_pdf(text_pdf(pages), columns=columns)
    assert doc.images_problem is None
    sizes = [page.image.size for page in doc.pages.values() if page.image is not None]
    assert len(sizes) == len(pages)
    assert all(0 < width <= columns for width, _ in sizes)


def test_an_encrypted_pdf_that_opens_without_a_password_is_read() -> None:
    doc = pdfview.read_pdf(encrypted(text_pdf([CANARY]), ""), columns=40)
    assert CANARY in doc.pages[1].text
    assert doc.pages[1].image is not None


def deep_nesting() -> bytes:
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 30 20] /X %s%s >>"
            % (b"[" * 200_000, b"]" * 200_000),
        ]
    )


def page_tree_loop() -> bytes:
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 2 0 R] /Count 1000000000 >>",
        ]
    )


HOSTILE = [
    pytest.param(b"%PDF-1.7\n" + bytes(range(256)) * 64, "the PDF is damaged", id="garbage"),
    pytest.param(b"%PDF-1.4 \x00\x01 binary", "the PDF is damaged", id="truncated"),
    pytest.param(deep_nesting(), "the PDF is damaged", id="deep-nesting"),
    pytest.param(page_tree_loop(), "the PDF is damaged", id="page-tree-loop"),
    pytest.param(blank_pages(20_000), "the PDF is too long to read here", id="20000-pages"),
    pytest.param(
        encrypted(text_pdf([CANARY]), "a-password"),
        "the PDF is encrypted with a password",
        id="encrypted",
    ),
]


@pytest.mark.parametrize(("data", "said"), HOSTILE)
def test_a_hostile_or_damaged_pdf_is_refused_in_bounded_time(
    server: Server, workspace: Path, tmp_path: Path, data: bytes, said: str
) -> None:
    imported(server, workspace, tmp_path, [("x.pdf", data)])
    started = time.monotonic()
    result = review(workspace, "view", "1", "1")
    assert time.monotonic() - started < BOUNDED
    assert result.exit_code == 1
    assert f"error: {said}" in result.output
    assert "hint:" in result.output
    assert "Traceback" not in result.output


def test_a_long_pdf_is_read_a_few_pages_at_a_time(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    imported(server, workspace, tmp_path, [("long.pdf", blank_pages(600))])
    refused = review(workspace, "view", "1", "1", "--no-images")
    assert refused.exit_code == 1
    assert "--pages" in refused.output  # the hint says how
    some = review(workspace, "view", "1", "1", "--pages", "599-")
    assert some.exit_code == 0, some.output
    assert "Page 599 of 600" in some.output
    assert "Page 600 of 600" in some.output
    assert "Page 598" not in some.output
    assert "pages 599 to 600 of 600 shown" in some.output  # and how to read the others


@pytest.mark.parametrize("pages", ["0", "5-2", "two", "2-x"])
def test_a_bad_page_range_is_a_usage_error(workspace: Path, pages: str) -> None:
    result = review(workspace, "view", "1", "1", "--pages", pages)
    assert result.exit_code == 2
    assert "--pages" in result.output


def slow_pdf() -> bytes:
    """A page that takes a parser seconds of work: 100,000 text operations."""
    ops = b"BT /F1 1 Tf (ab) Tj ET\n" * 100_000
    return one_page(zlib.compress(ops), b"/Filter /FlateDecode")


@pytest.mark.parametrize(
    ("limits", "said"),
    [
        pytest.param(pdfview.Limits(seconds=0.5), "took longer than 0.5 s", id="wall-clock"),
        pytest.param(pdfview.Limits(cpu_seconds=1), "used all the CPU time", id="cpu"),
        pytest.param(pdfview.Limits(memory=64 << 20), "needs more memory", id="memory"),
        pytest.param(pdfview.Limits(output=64 << 10), "said too much", id="output"),
    ],
)
def test_the_pdf_reader_is_stopped_at_its_limits(limits: pdfview.Limits, said: str) -> None:
    started = time.monotonic()
    with pytest.raises(ReviewError, match=said) as refused:
        pdfview.read_pdf(slow_pdf(), columns=40, images=False, limits=limits)
    assert time.monotonic() - started < BOUNDED
    assert refused.value.hint is not None


def test_the_pdf_reader_can_write_no_file_and_dump_no_core(tmp_path: Path) -> None:
    target = tmp_path / "leak.txt"
    escape = (
        "import resource\n"
        "from review.casework.pdfchild import confine\n"
        "confine(256 << 20, 5)\n"
        "assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)\n"
        # Not dumpable either: a core_pattern piping to a crash reporter is not held by the
        # limit (the kernel dumps to a pipe whatever RLIMIT_CORE says), and exec made the
        # child dumpable again, though the tool that started it is not.
        "import ctypes\n"
        "assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0, 'dumpable'\n"  # PR_GET_DUMPABLE
        f"with open({str(target)!r}, 'wb') as f:\n"
        f"    f.write(b'{CANARY}')\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", escape], capture_output=True, check=False
    )
    assert done.returncode != 0
    assert b"File too large" in done.stderr  # EFBIG: Python ignores SIGXFSZ
    assert not target.exists() or target.read_bytes() == b""
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 0  # the tool itself is not confined


def test_open_warns_before_it_writes_plaintext_and_writes_nothing_without_a_yes(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("see the ledger", [("files", "ledger.txt", CANARY.encode(), "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    out = tmp_path / "out" / "ledger.txt"
    out.parent.mkdir()

    declined = review(workspace, "open", "1", "1", "--out", str(out))  # no answer: no
    assert declined.exit_code != 0
    assert "plaintext" in declined.output
    assert "raazdar-review report view 1 1" in declined.output  # and how to read it without writing
    assert list(out.parent.iterdir()) == []

    insisted = review(workspace, "open", "1", "1", "--out", str(out), "--yes")
    assert insisted.exit_code == 0, insisted.output
    assert "warning: this writes the plaintext" in insisted.output  # --yes still warns
    assert out.read_bytes() == CANARY.encode()


def test_open_onto_a_disk_says_that_removing_the_file_does_not_erase_it(
    server: Server,
    workspace: Path,
    tmp_path: Path,
    ext4: tuple[Path, Path],  # noqa: F811 - the fixture imported above
) -> None:
    """The attack: the reviewer opens an attachment onto the disk and removes it afterwards, as
    the warning told them to; the seizer reads it back from the disk's freed blocks."""
    image, mount = ext4
    server.submit("see the ledger", [("files", "ledger.txt", CANARY.encode(), "text/plain")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    out = mount / "ledger.txt"
    opened = review(workspace, "open", "1", "1", "--out", str(out), "--yes")
    assert opened.exit_code == 0, opened.output
    out.unlink()
    os.sync()
    assert CANARY.encode() in image.read_bytes()  # removed, and still there
    flat = " ".join(opened.output.split())
    assert f"warning: {out} is on a disk" in flat, opened.output
    assert "removing the file frees its blocks without overwriting them" in flat


# Where a desktop keeps copies of what its viewers open; the account setup links each to
# /dev/null (deploy/review-account.sh, docs/review-workstation.md §3).
_VIEWER_STORES = (
    ".cache/thumbnails",
    ".thumbnails",
    ".local/share/recently-used.xbel",
    ".local/share/gvfs-metadata",
)


def test_open_names_the_copies_a_viewer_keeps_on_an_account_without_the_setup(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: a photo written out with `report open` for a viewer of its own, on an
    account the setup was not run for: the image viewer or the file manager keeps a small
    copy of it in ~/.cache/thumbnails, with its path, and GTK its path in
    recently-used.xbel, after the file is overwritten and gone; the tool said nothing."""
    home = tmp_path / "home"
    (home / ".cache" / "thumbnails").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    server.submit("see the ledger", [("files", "ledger.png", png_with_text(), "image/png")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    opened = review(workspace, "open", "1", "1", "--out", str(tmp_path / "1.png"), "--yes")
    assert opened.exit_code == 0, opened.output
    flat = " ".join(opened.output.split())
    assert f"{home}/.cache/thumbnails" in flat, (
        f"`report open` wrote a photo for a viewer that keeps thumbnails, unwarned: {flat}"
    )
    assert f"{home}/.local/share/recently-used.xbel" in flat, flat

    for store in _VIEWER_STORES:  # as the account setup leaves them
        place = home / store
        place.parent.mkdir(parents=True, exist_ok=True)
        if place.is_dir():
            place.rmdir()
        place.symlink_to(os.devnull)
    again = review(workspace, "open", "1", "1", "--out", str(tmp_path / "2.png"), "--yes")
    assert again.exit_code == 0, again.output
    assert "thumbnails" not in again.output, again.output


# A Ghostscript of the test's: it notes the file it was given, and what the file held.
_GHOSTSCRIPT = """#!{python}
import json, sys
if "--version" in sys.argv:
    print("10.0.0")
    sys.exit(0)
given = sys.argv[sys.argv.index("-f") + 1]
with open({record!r}, "w") as out:
    json.dump({{"file": given, "held": open(given, "rb").read().decode("latin-1")}}, out)
"""


def test_an_image_that_is_postscript_is_not_handed_to_ghostscript_through_a_temporary_file(
    server: Server, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: an attachment typed image/jpeg that is Encapsulated PostScript. Pillow,
    asked to open any image, reads it as EPS, and to draw it writes the whole attachment to a
    file in the system's temporary directory (on a disk, as Debian 12's /tmp is) for
    Ghostscript, a PostScript interpreter, to run; the file is unlinked afterwards, its blocks
    freed as they were. `report view` promises to write nothing."""
    record = tmp_path / "gs.json"
    ghostscript = tmp_path / "bin" / "gs"
    ghostscript.parent.mkdir()
    ghostscript.write_text(_GHOSTSCRIPT.format(python=sys.executable, record=str(record)))
    ghostscript.chmod(0o700)
    monkeypatch.setenv("PATH", f"{ghostscript.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)  # found again, on this PATH
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n%" + CANARY.encode() + b"\n%%EOF\n"
    server.submit("a photo", [("files", "photo.jpg", eps, "image/jpeg")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0

    result = review(workspace, "view", "1", "photo.jpg")
    assert not record.exists(), (
        f"the attachment was written to {json.loads(record.read_text())['file']} for Ghostscript"
    )
    assert result.exit_code == 1
    assert "the image cannot be drawn" in result.output


def test_a_photo_viewed_says_where_it_was_taken_and_on_which_phone(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a source sent a phone's photo from the browser, which cannot clean it. The
    # reviewer reads it with `report view`, sees the ledger, and is never told that the file
    # also names where it was taken, the phone's serial and its owner: what a seized copy or
    # an attachment opened to disk would give away, and what the source should be told.
    server.submit("the ledger", [("files", "IMG_20261203_0915.jpg", camera_photo(), "image/jpeg")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "GPS position: 31.55600, 74.34400" in said, "the view says nothing of the GPS"
    assert f"camera serial number: {SERIAL}" in said
    assert f"camera owner: {OWNER}" in said
    assert "taken: 2026:12:03 09:15:42" in said
    assert "file name: IMG_20261203_0915.jpg" in said
    assert "\u2580" in result.output  # and the photo is drawn


def test_an_office_document_viewed_names_its_author_and_company(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    doc = io.BytesIO()
    with zipfile.ZipFile(doc, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>the ledger</w:document>")
        z.writestr(
            "docProps/core.xml",
            f"<cp:coreProperties><dc:creator>{OWNER}</dc:creator>"
            "<dcterms:created>2026-12-03T09:15:00Z</dcterms:created></cp:coreProperties>",
        )
        z.writestr("docProps/app.xml", "<Properties><Company>Punjab Police</Company></Properties>")
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    server.submit("statement", [("files", "statement.docx", doc.getvalue(), docx)])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    said = " ".join(result.output.split())
    assert f"author: {OWNER}" in said, said
    assert "company: Punjab Police" in said
    assert "created: 2026-12-03T09:15:00Z" in said
    assert "cannot be shown here" in said


def test_a_clean_picture_viewed_says_nothing_of_metadata(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("a drawing", [("files", "ledger.png", png_with_text(), "image/png")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    assert result.exit_code == 0, result.output
    assert "says of its maker" not in result.output


def test_a_pdf_viewed_names_its_author_and_the_program_and_times_it_was_made_with(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: the browser form passed a source's PDF on as it was, its document
    # information naming the clerk who typed it and the office computer's program; the
    # view showed the pages and nothing of that.
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(text_pdf(["the register"]))) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp["dc:title"] = "ledger"
        pdf.docinfo["/Author"] = OWNER
        pdf.docinfo["/Creator"] = "Microsoft Word - C:\\Users\\iqureshi\\ledger.docx"
        pdf.docinfo["/CreationDate"] = "D:20261203091500+05'00'"
        pdf.save(out)
    imported(server, workspace, tmp_path, [("statement.pdf", out.getvalue())])
    result = review(workspace, "view", "1", "1", "--no-images")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"author: {OWNER}" in said, "the view says nothing of the PDF's author"
    assert "creator: Microsoft Word - C:\\Users\\iqureshi\\ledger.docx" in said
    assert "created: D:20261203091500+05'00'" in said
    assert "XMP: present" in said
    assert "the register" in said


def phone_video() -> bytes:
    """An MP4's boxes as an Android phone writes them: where it was recorded, in ©xyz."""

    def box(kind: bytes, body: bytes) -> bytes:
        return (8 + len(body)).to_bytes(4, "big") + kind + body

    where = b"+31.5560+074.3440/"
    udta = box(b"udta", box(b"\xa9xyz", len(where).to_bytes(2, "big") + b"\x15\xc7" + where))
    return box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom") + box(b"moov", udta) + box(b"mdat", b"")


def test_a_video_viewed_says_where_it_was_recorded(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a phone's video of a raid, sent from the browser; the tool cannot play it and
    # said only "cannot show video/mp4 here", never that it names where it was recorded.
    server.submit("a raid", [("files", "VID_20261203_091500.mp4", phone_video(), "video/mp4")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    said = " ".join(result.output.split())
    assert "GPS position: 31.55600, 74.34400" in said, "the view says nothing of where"
    assert "file name: VID_20261203_091500.mp4" in said


def test_an_iphones_heic_photo_viewed_says_where_it_was_taken(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # HEIC keeps its EXIF as an item of its own; the tool draws no HEIC, and said nothing.
    with Image.open(io.BytesIO(camera_photo())) as photo:
        exif = photo.getexif().tobytes()
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x06" + exif
    server.submit("the ledger", [("files", "IMG_4021.HEIC", heic, "image/heic")])
    assert review(workspace, "import", str(server.export(tmp_path / "b.rzb"))).exit_code == 0
    result = review(workspace, "view", "1", "1")
    said = " ".join(result.output.split())
    assert "GPS position: 31.55600, 74.34400" in said, "the view says nothing of where"
    assert f"camera serial number: {SERIAL}" in said
