"""What a source's files say of where, when and by whom they were made stays on the device.

The attack: a constable photographs a police station's ledger with the phone
and sends it with `raazdar-submit send IMG_20261203_0915.jpg`. Whoever opens
the envelope (a reviewer's seized workstation, a packet's recipient) reads
the GPS position the photo was taken at, the phone's serial number and its
owner's name, and the file name dates the photo and orders it among the
phone's. A PDF and an office document name their writer the same way.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from crypto import KdfParams, derive_source_keys, generate_codename
from crypto.envelope import Opened
from crypto.subkeys import open_with_subkeys
from crypto.vault import Vault
from submit import scrub
from submit.errors import SubmitError
from submit.state import State
from submit.uploads import seal_submission
from tests.app.support import demo_subkeys, envelope_files
from tests.submit.support import MAKER, OWNER, SERIAL, Device, camera_photo, pending_envelope
from tests.submit.test_subkeys import SECRETS, lists, verified
from tests.submit.test_trust import TODAY


def seal_and_open(
    tmp_path: Path, files: list[Path], **kwargs: object
) -> list[tuple[bytes, Opened]]:
    """Seal `files` as `raazdar-submit send` does; open them as a reviewer would."""
    state = State(tmp_path / "state", vault=Vault.derive("c", bytes(16), KdfParams.TESTING))
    keys = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING)
    found = verified(lists())
    pending = seal_submission(
        state,
        found.manifest,
        None,
        files,
        keys=keys,
        recipients=found.recipients(TODAY),
        **kwargs,  # type: ignore[arg-type]
    )
    opened = []
    for item in pending.items:
        out = io.BytesIO()
        data = pending_envelope(state, item)
        _week, meta = open_with_subkeys(io.BytesIO(data), out, SECRETS[0])
        opened.append((out.getvalue(), meta))
    return opened


def test_a_phones_photo_reaches_reviewers_without_its_place_phone_owner_time_or_name(
    tmp_path: Path,
) -> None:
    photo = tmp_path / "IMG_20261203_0915.jpg"
    photo.write_bytes(camera_photo())
    ((data, meta),) = seal_and_open(tmp_path, [photo])
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        assert not exif.get_ifd(0x8825), "the photo reached the reviewer with its GPS position"
        assert not dict(exif), f"the photo reached the reviewer with its EXIF: {dict(exif)}"
        assert img.size == (48, 64)  # turned upright as the camera meant it, then rebuilt
        assert not {"comment", "xmp"} & set(img.info)
    for needle in (SERIAL, OWNER, MAKER, "2026:12:03", "SM-A515F"):
        assert needle.encode() not in data, f"{needle} went with the photo"
    assert meta.metadata.filename == "photo-1.jpg", "the camera's dated name went with it"
    assert meta.metadata.content_type == "image/jpeg"


@pytest.mark.parametrize(
    "name",
    [
        "IMG_20261203_0915.jpg",
        "PXL_20261203_091542123.jpg",
        "DSC_0042.JPG",
        "WhatsApp Image 2026-12-03 at 09.15.42.jpeg",
        "Screenshot_2026-12-03-09-15-42.png",
        "signal-2026-12-03-091542.jpg",
        "3F2504E0-4F89-11D3-9A0C-0305E82C3301.jpg",
        "VID-20261203-WA0001.mp4",
    ],
)
def test_camera_and_messenger_names_are_camera_style(name: str) -> None:
    assert scrub.camera_style(name)


@pytest.mark.parametrize("name", ["ledger.jpg", "thana register page 2.png", "statement.pdf"])
def test_names_a_person_gave_stay(name: str) -> None:
    assert not scrub.camera_style(name)


def test_the_source_is_told_what_each_file_lost(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_20261203_0915.jpg"
    photo.write_bytes(camera_photo())
    told: list[tuple[Path, scrub.Cleaned]] = []
    seal_and_open(tmp_path, [photo], told=lambda p, c: told.append((p, c)))
    ((path, cleaned),) = told
    assert path == photo
    said = " / ".join(cleaned.removed)
    for words in (
        "GPS position",
        "serial number",
        "owner's name",
        "when it was taken",
        "make and model",
        "XMP",
        "comments",
        "file name",
    ):
        assert words in said, said


def test_keep_metadata_sends_the_file_exactly_as_it_is(tmp_path: Path) -> None:
    photo = tmp_path / "IMG_20261203_0915.jpg"
    photo.write_bytes(camera_photo())
    ((data, meta),) = seal_and_open(tmp_path, [photo], keep_metadata=True)
    assert data == photo.read_bytes()
    assert meta.metadata.filename == photo.name


def test_a_pdf_reaches_reviewers_without_its_author_or_times(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata(
        {"/Author": OWNER, "/Creator": "Microsoft Word - C:\\Users\\iqureshi", "/ModDate": "D:2026"}
    )
    writer.xmp_metadata = b"<x:xmpmeta><dc:creator>" + OWNER.encode() + b"</dc:creator></x:xmpmeta>"
    doc = tmp_path / "statement.pdf"
    with doc.open("wb") as out:
        writer.write(out)
    ((data, meta),) = seal_and_open(tmp_path, [doc])
    for needle in (OWNER, "iqureshi", "D:2026"):
        assert needle.encode() not in data, f"{needle} went with the PDF"
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert meta.metadata.filename == "statement.pdf"


def test_an_office_document_reaches_reviewers_without_its_author_or_company(
    tmp_path: Path,
) -> None:
    doc = tmp_path / "statement.docx"
    core = f"<cp:coreProperties><dc:creator>{OWNER}</dc:creator></cp:coreProperties>"
    with zipfile.ZipFile(doc, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>the ledger</w:document>")
        z.writestr("docProps/core.xml", core)
        z.writestr("docProps/app.xml", "<Properties><Company>Punjab Police</Company></Properties>")
        z.writestr("word/media/image1.jpeg", camera_photo())
    ((data, meta),) = seal_and_open(tmp_path, [doc])
    for needle in (OWNER, "Punjab Police", SERIAL):
        assert needle.encode() not in data, f"{needle} went with the document"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert b"the ledger" in z.read("word/document.xml")
        assert OWNER.encode() not in z.read("word/media/image1.jpeg")
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert meta.metadata.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic"),
        ("VID_20261203.mp4", b"\x00\x00\x00\x18ftypmp42"),
        ("voice.mp3", b"ID3\x04\x00"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ("page.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><metadata>me</metadata></svg>'),
        ("blob.bin", bytes(range(256))),
        ("ledger.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%For: iqureshi\n%%CreationDate: today\n"),
    ],
)
def test_what_cannot_be_cleaned_is_refused_and_nothing_is_sealed(
    tmp_path: Path, name: str, head: bytes
) -> None:
    ledger = tmp_path / "ledger.jpg"
    ledger.write_bytes(camera_photo())
    odd = tmp_path / name
    odd.write_bytes(head + bytes(64))
    with pytest.raises(SubmitError) as caught:
        seal_and_open(tmp_path, [ledger, odd])
    assert name in str(caught.value)
    assert "--keep-metadata" in (caught.value.hint or "")
    pending = tmp_path / "state"
    assert not any(p.suffix == ".rze" for p in pending.rglob("*"))


def test_plain_text_goes_as_it_is(tmp_path: Path) -> None:
    note = tmp_path / "names.txt"
    note.write_text("SHO Rana Tariq, thana Saddar\n", "utf-8")
    ((data, meta),) = seal_and_open(tmp_path, [note])
    assert data == note.read_bytes()
    assert meta.metadata.filename == "names.txt"


def test_a_picture_bomb_is_refused_plainly(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")
    big.write_bytes(out.getvalue())
    with pytest.raises(SubmitError, match="too large"):
        seal_and_open(tmp_path, [big])


def test_the_source_is_told_kinds_of_data_never_their_values(tmp_path: Path) -> None:
    # Someone looking over the source's shoulder reads the screen too.
    photo = tmp_path / "IMG_20261203_0915.jpg"
    photo.write_bytes(camera_photo())
    told: list[scrub.Cleaned] = []
    seal_and_open(tmp_path, [photo], told=lambda _p, c: told.append(c))
    said = " ".join(told[0].removed)
    for value in (SERIAL, OWNER, "2026", MAKER):
        assert value not in said


def test_send_tells_the_source_and_the_server_stores_the_photo_cleaned(
    device: Device, codename_file: Path, instance: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "IMG_20261203_0915.jpg"
    photo.write_bytes(camera_photo())
    sent = device.run("send", "--codename-file", str(codename_file), str(photo))
    assert sent.exit_code == 0, sent.output
    told = " ".join(sent.stderr.split())
    assert "removed from IMG_20261203_0915.jpg before sealing" in told, told
    assert "GPS position" in told
    assert "It goes as photo-1.jpg" in told
    (stored,) = envelope_files(instance)
    out = io.BytesIO()
    _week, meta = open_with_subkeys(io.BytesIO(stored.read_bytes()), out, demo_subkeys(instance))
    with Image.open(out) as img:
        assert not img.getexif().get_ifd(0x8825), "the stored photo holds its GPS position"
    assert meta.metadata.filename == "photo-1.jpg"


def test_send_refuses_a_video_with_the_way_out_and_keep_metadata_sends_it(
    device: Device, codename_file: Path, instance: Path, tmp_path: Path
) -> None:
    video = tmp_path / "VID_20261203_0915.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4096))
    refused = device.run("send", "--codename-file", str(codename_file), str(video))
    assert refused.exit_code == 1
    assert "raazdar-submit: error: VID_20261203_0915.mp4: " in refused.stderr
    assert "raazdar-submit: hint: " in refused.stderr
    assert "--keep-metadata" in refused.stderr
    assert envelope_files(instance) == []
    sent = device.run("send", "--keep-metadata", "--codename-file", str(codename_file), str(video))
    assert sent.exit_code == 0, sent.output
    assert "goes exactly as it is" in " ".join(sent.stderr.split())
    (stored,) = envelope_files(instance)
    out = io.BytesIO()
    _week, meta = open_with_subkeys(io.BytesIO(stored.read_bytes()), out, demo_subkeys(instance))
    assert out.getvalue() == video.read_bytes()
    assert meta.metadata.filename == video.name


def test_a_phones_scan_to_pdf_loses_the_exif_of_the_photos_in_it(tmp_path: Path) -> None:
    # A phone's scanner app makes a PDF of camera JPEGs, each stream still carrying its EXIF.
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(64, 48))
    photo = pikepdf.Stream(pdf, camera_photo())
    photo.Type, photo.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    photo.Width, photo.Height, photo.BitsPerComponent = 64, 48, 8
    photo.ColorSpace, photo.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=photo))
    page.Contents = pdf.make_stream(b"q 64 0 0 48 0 0 cm /Im0 Do Q")
    scan = tmp_path / "Scan 2026-12-03 09.15.pdf"
    pdf.save(scan)
    assert SERIAL.encode() in scan.read_bytes()
    ((data, meta),) = seal_and_open(tmp_path, [scan])
    for needle in (SERIAL, OWNER, MAKER, "Exif"):
        assert needle.encode() not in data, f"{needle} went inside the scanned PDF"
    with pikepdf.open(io.BytesIO(data)) as clean:
        (image,) = clean.pages[0].Resources.XObject.values()
        with Image.open(io.BytesIO(image.read_raw_bytes())) as img:
            assert img.size == (64, 48)  # the picture itself is kept, byte for byte in its scan
    assert meta.metadata.filename == "file-1.pdf"


def test_a_statements_comments_tracked_changes_and_template_path_lose_their_writer(
    tmp_path: Path,
) -> None:
    # The attack: the properties went, but Word keeps its writer elsewhere too: each comment's
    # and tracked change's author and minute, the list of editors with their office account,
    # the template's path under C:\Users\<login>, the ids linking documents from one machine,
    # and the file name a pasted photo had.
    doc = tmp_path / "statement.docx"
    with zipfile.ZipFile(doc, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "word/document.xml",
            '<w:document><w:p w:rsidR="00A1B2C3"><w:ins w:id="1" w:author="Imran Qureshi"'
            ' w:date="2026-12-03T09:15:00Z"><w:r><w:t>the ledger</w:t></w:r></w:ins></w:p>'
            '<wp:docPr id="1" name="IMG_20261203_0915.jpg" descr="IMG_20261203_0915.jpg"/>'
            "</w:document>",
        )
        z.writestr(
            "word/comments.xml",
            '<w:comments><w:comment w:id="0" w:author="Imran Qureshi" w:initials="IQ"'
            ' w:date="2026-12-03T09:20:00Z"><w:p><w:r><w:t>check</w:t></w:r></w:p>'
            "</w:comment></w:comments>",
        )
        z.writestr(
            "word/people.xml",
            '<w15:people><w15:person w15:author="Imran Qureshi"><w15:presenceInfo'
            ' w15:providerId="AD" w15:userId="S::imran@punjabpolice.gov.pk::1234"/>'
            "</w15:person></w15:people>",
        )
        z.writestr(
            "word/_rels/settings.xml.rels",
            '<Relationships><Relationship Id="rId1" Type="attachedTemplate" Target='
            '"file:///C:\\Users\\iqureshi\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm"'
            ' TargetMode="External"/></Relationships>',
        )
        z.writestr(
            "word/settings.xml",
            "<w:settings><w:rsids><w:rsidRoot w:val='00A1B2C3'/></w:rsids></w:settings>",
        )
    told: list[scrub.Cleaned] = []
    ((data, _meta),) = seal_and_open(tmp_path, [doc], told=lambda _p, c: told.append(c))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = b"".join(z.read(name) for name in z.namelist())
    for needle in ("Qureshi", "iqureshi", "punjabpolice", "2026-12-03", "00A1B2C3", "IMG_2026"):
        assert needle.encode() not in parts, f"{needle} went inside the document"
    assert b"the ledger" in parts
    assert b"check" in parts
    assert any("comments" in words for words in told[0].removed), told[0].removed


def test_a_pdfs_comment_authors_placed_photos_xmp_and_restrictions_do_not_keep_it(
    tmp_path: Path,
) -> None:
    # The attack: what the first cleaning left in a PDF: a comment's /T author and times, a
    # placed photo's own XMP stream, and a PDF that only restricts printing was refused as
    # "a PDF with a password", leaving --keep-metadata as the way to send it.
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(64, 48))
    page = pdf.pages[0]
    page.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Text,
                    Rect=[0, 0, 10, 10],
                    Contents=pikepdf.String("see the total"),
                    T=pikepdf.String(OWNER),
                    M=pikepdf.String("D:20261203091500"),
                )
            ]
        )
    )
    photo = pikepdf.Stream(pdf, camera_photo())
    photo.Type, photo.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    photo.Width, photo.Height, photo.BitsPerComponent = 64, 48, 8
    photo.ColorSpace, photo.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    photo.Metadata = pikepdf.Stream(pdf, b"<x:xmpmeta>" + MAKER.encode() + b" iqureshi</x:xmpmeta>")
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=photo))
    page.Contents = pdf.make_stream(b"q 64 0 0 48 0 0 cm /Im0 Do Q")
    doc = tmp_path / "ledger.pdf"
    pdf.save(doc, encryption=pikepdf.Encryption(user="", owner="owner-secret", R=6))
    ((data, _meta),) = seal_and_open(tmp_path, [doc])
    for needle in (OWNER, "iqureshi", MAKER, "20261203"):
        assert needle.encode() not in data, f"{needle} went inside the PDF"
    with pikepdf.open(io.BytesIO(data)) as clean:
        (annotation,) = clean.pages[0].Annots
        assert str(annotation.Contents) == "see the total"


def test_a_spreadsheet_inside_a_statement_loses_its_writer_and_an_ole_object_is_refused(
    tmp_path: Path,
) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("docProps/core.xml", f"<cp:coreProperties>{OWNER}</cp:coreProperties>")
        z.writestr("docProps/app.xml", "<Properties><Company>Punjab Police</Company></Properties>")

    def statement(name: str, embedded: str, body: bytes) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("word/document.xml", "<w:document>the ledger</w:document>")
            z.writestr(f"word/embeddings/{embedded}", body)
        return path

    sheet = statement("statement.docx", "Microsoft_Excel_Worksheet.xlsx", inner.getvalue())
    ((data, _meta),) = seal_and_open(tmp_path, [sheet])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        kept = z.read("word/embeddings/Microsoft_Excel_Worksheet.xlsx")
    with zipfile.ZipFile(io.BytesIO(kept)) as z:
        parts = b"".join(z.read(name) for name in z.namelist())
    assert OWNER.encode() not in parts, "the embedded spreadsheet went with its author"
    assert b"Punjab Police" not in parts
    ole = statement("old.docx", "oleObject1.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))
    with pytest.raises(SubmitError, match=r"oleObject1\.bin") as caught:
        seal_and_open(tmp_path / "second", [ole])
    assert "PDF" in (caught.value.hint or "")


def test_postscript_is_refused_though_it_is_text(tmp_path: Path) -> None:
    # EPS is ASCII: read as plain text it went as it was, %%For naming the user.
    eps = tmp_path / "ledger.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%For: iqureshi\n%%CreationDate: today\n")
    with pytest.raises(SubmitError, match="PostScript"):
        seal_and_open(tmp_path, [eps])


def test_a_phones_two_picture_photo_goes_as_its_photo_alone(tmp_path: Path) -> None:
    with Image.open(io.BytesIO(camera_photo())) as photo:
        out = io.BytesIO()
        second = Image.new("RGB", (6, 4), (9, 9, 9))
        photo.save(out, "MPO", save_all=True, append_images=[second], exif=photo.getexif())
    portrait = tmp_path / "PXL_20261203_091542123.PORTRAIT.jpg"
    portrait.write_bytes(out.getvalue())
    told: list[scrub.Cleaned] = []
    ((data, _meta),) = seal_and_open(tmp_path, [portrait], told=lambda _p, c: told.append(c))
    with Image.open(io.BytesIO(data)) as img:
        assert (img.format, getattr(img, "n_frames", 1)) == ("JPEG", 1)
        assert not img.getexif().get_ifd(0x8825)
    assert SERIAL.encode() not in data
    assert any("second picture" in words for words in told[0].removed)
