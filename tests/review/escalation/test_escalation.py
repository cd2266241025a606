"""Escalation packets end to end: built from real reports, read back by the body they are for."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from click.testing import Result
from sqlalchemy import select

from app.db import db_session
from app.demo import DEMO_PASSPHRASE
from app.models import Source as ServerSource
from crypto import KdfParams, KeyFile, KeyPair, PrivateKey, SigningKey
from crypto.encoding import b64encode
from crypto.errors import CryptoError, DecryptionError, VerificationError
from crypto.packet import OpenedPacket, SealedPacket, open_packet
from review import escalation
from review import workspace as ws
from review.escalation import packets
from review.escalation.opened import render
from review.escalation.redaction import Candidate, Term
from review.workspace import audit
from review.workspace.search import SearchIndex
from tests.review.casework.test_viewing import phone_video
from tests.review.fixtures import (
    CANARY,
    assert_clean_image,
    docx_with_author,
    jpeg_with_gps,
    pdf_with_author,
)
from tests.review.support import Server, all_bytes, kept_in_scrollback, review

VICTIM = "Shazia Bibi"
VICTIM_URDU = "شازیہ بی بی"
PHONE = "0300-1234567"
CNIC = "35202-1234567-1"
ENGLISH = (
    f"SHO Rana Tariq sold {VICTIM} to an agent in Gujrat. Her brother's phone is {PHONE}"
    f" and her CNIC {CNIC}. Chak 41 is her village. Later {VICTIM.upper()} was moved."
)
URDU = f"ایس ایچ او رانا طارق نے {VICTIM_URDU} کو ایجنٹ کے حوالے کیا۔ فون ۰۳۰۰۱۲۳۴۵۶۷"
SUMMARY = "Two sources name SHO Rana Tariq in the sale of Shazia Bibi from Chak 41."
SECOND_PASSPHRASE = "second reviewer passphrase"


@dataclass
class Case:
    """Two reports in review, a registered body, and the reviewer's workspace."""

    workspace: Path
    english: int
    urdu: int
    body: KeyPair
    designations: list[str]
    source_keys: list[str]
    lookup_tags: list[bytes]
    ids: list[str]
    codenames: list[str]

    @property
    def body_key(self) -> PrivateKey:
        assert self.body.encryption is not None
        return self.body.encryption


def _number(workspace: Path, text: str) -> int:
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        (num,) = SearchIndex.load(u).search(text)
        return num
    finally:
        u.workspace.close()


def _add_body(workspace: Path) -> KeyPair:
    """Register the Anti-Trafficking Cell, with a new key pair of its own."""
    body = KeyPair.generate()
    assert body.encryption_public is not None
    assert body.signing_public is not None
    added = review(
        workspace,
        "bodies",
        "add",
        "--name",
        "Anti-Trafficking Cell",
        "--jurisdiction",
        "Punjab",
        "--contact",
        "By hand, to the registrar",
        "--encryption-key",
        body.encryption_public.to_text(),
        "--signing-key",
        body.signing_public.to_text(),
    )
    assert added.exit_code == 0, added.output
    return body


@pytest.fixture
def case(server: Server, workspace: Path, tmp_path: Path) -> Case:
    first = server.submit(
        ENGLISH,
        [
            ("files", "IMG_0042 Gujrat.jpg", jpeg_with_gps(), "image/jpeg"),
            ("files", "ledger.pdf", pdf_with_author(), "application/pdf"),
            ("files", "notes.docx", docx_with_author(), "application/octet-stream"),
        ],
    )
    second = server.submit(URDU)
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    english, urdu = _number(workspace, "gujrat agent"), _number(workspace, "ایجنٹ")
    for num in (english, urdu):
        assert review(workspace, "status", str(num), "in-review").exit_code == 0
    body = _add_body(workspace)
    conn = sqlite3.connect(workspace / "workspace.db")
    designations, keys = zip(
        *conn.execute("SELECT designation, public_key FROM sources"), strict=True
    )
    ids = [r[0] for r in conn.execute("SELECT id FROM items")]
    ids += [r[0] for r in conn.execute("SELECT submission FROM reports")]
    conn.close()
    with server.app.app_context():
        tags = [s.lookup_tag for s in db_session().execute(select(ServerSource)).scalars()]
    return Case(
        workspace,
        english,
        urdu,
        body,
        list(designations),
        list(keys),
        tags,
        ids,
        [first.codename, second.codename],
    )


def _decisions() -> list[str]:
    """Every suggestion decided: the victim's details redacted, the official's name kept."""
    return [
        "--yes-redact",
        PHONE,
        "--yes-redact",
        CNIC,
        "--keep",
        "SHO Rana Tariq",
        "--keep",
        "ایس ایچ او رانا طارق",
    ]


def _escalate(case: Case, *extra: str, out: Path | None = None) -> str:
    args = [
        "escalate",
        str(case.english),
        str(case.urdu),
        "--to",
        "Anti-Trafficking Cell",
        "--summary",
        f"{SUMMARY} Reported by {case.designations[0]}.",
        "--redact",
        f"person:{VICTIM}|{VICTIM_URDU}",
        "--redact",
        "Chak 41",
        "--yes-redact",  # named without a rank, the victim is a suggestion too (issue 18)
        VICTIM,
        *_decisions(),
        *extra,
    ]
    if out is not None:
        args += ["--out", str(out)]
    result = review(case.workspace, *args)
    assert result.exit_code == 0, result.output
    return result.output


def _open(case: Case, path: Path, **kwargs: object) -> OpenedPacket:
    return open_packet(path.read_bytes(), case.body_key, **kwargs)  # type: ignore[arg-type]


def test_a_packet_holds_none_of_the_redacted_strings_and_names_no_source(
    case: Case, tmp_path: Path
) -> None:
    out = tmp_path / "packet.rzp"
    output = _escalate(case, "--all-attachments", out=out)
    assert "3 file(s)" in output
    opened = _open(case, out)
    document = opened.content.document
    plaintext = opened.content.encode()  # index and every file, as the body decrypts them
    text = json.dumps(document, ensure_ascii=False)
    for redacted in [VICTIM, VICTIM.upper(), VICTIM_URDU, PHONE, "03001234567", "۰۳۰۰۱۲۳۴۵۶۷"]:
        assert redacted not in text, redacted
        assert redacted.encode() not in plaintext, redacted
    assert CNIC not in text
    assert "Chak 41" not in text
    english, urdu = document["reports"]
    assert english["label"] == "Report 1"
    assert urdu["label"] == "Report 2"
    # One pseudonym for one person, across both reports and both scripts.
    assert "sold Person A to an agent" in english["text"]
    assert "Later Person A was moved" in english["text"]
    assert "Person A کو" in urdu["text"]
    assert "Phone 1" in english["text"]
    assert "Phone 1" in urdu["text"]
    assert "SHO Rana Tariq" in english["text"]  # the official's name was kept
    assert "Person A" in document["summary"]
    assert "Detail 1" in document["summary"]
    # No codename, lookup tag, source designation or key, server id or report number.
    needles: list[bytes] = []
    for designation in case.designations:
        needles.append(designation.encode())
    for key in case.source_keys:
        needles += [key.encode(), key.split(":", 1)[1][:43].encode()]
    for tag in case.lookup_tags:
        needles += [tag, tag.hex().encode(), b64encode(tag).encode()]
    needles += [i.encode() for i in case.ids]
    needles += [c.encode() for c in case.codenames]
    for needle in needles:
        assert needle.lower() not in plaintext.lower(), needle
        assert needle not in out.read_bytes(), needle
    # A codename's single words are diceware words ("setting"), which an office
    # file's own part names may hold by chance: look for them in the text alone.
    for word in (w for c in case.codenames for w in c.split() if len(w) > 6):
        assert word.lower() not in text.lower(), word
    assert "Source 1" in document["summary"]  # the designation typed in the summary


def test_attachments_read_back_without_metadata(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "packet.rzp"
    _escalate(case, "--attach", f"{case.english}:1", "--attach", f"{case.english}:2", out=out)
    files = {f.name: f for f in _open(case, out).content.files}
    assert sorted(files) == ["report-1-1.jpg", "report-1-2.pdf"]  # no original names
    assert_clean_image(files["report-1-1.jpg"].data)
    with pikepdf.open(io.BytesIO(files["report-1-2.pdf"].data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert len(pdf.attachments) == 0
    assert CANARY.encode() not in files["report-1-2.pdf"].data
    out2 = tmp_path / "docx.rzp"
    _escalate(case, "--attach", f"{case.english}:3", out=out2)
    (docx,) = _open(case, out2).content.files
    assert docx.name == "report-1-1.docx"
    with zipfile.ZipFile(io.BytesIO(docx.data)) as z:
        for name in z.namelist():
            assert CANARY.encode() not in z.read(name), name
        assert_clean_image(z.read("word/media/image1.jpg"))
    # The original, and its hash, stay in the workspace.
    u = ws.Workspace.open(case.workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        record = escalation.load(u, 1).record
        assert [f["attachment"] for f in record.files] == [1, 2]
        assert all(f["original_hash"] != f["hash"] for f in record.files)
    finally:
        u.workspace.close()


def test_a_tampered_packet_or_one_for_another_body_is_refused(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "packet.rzp"
    _escalate(case, out=out)
    body_file = tmp_path / "body.key"
    other_file = tmp_path / "other.key"
    for path, keys in [(body_file, case.body), (other_file, KeyPair.generate())]:
        # The tests' fast derivation: what is checked is the packet, not the key file's work.
        made = KeyFile.create(
            keys, "body passphrase!", kind="escalation-body", label="Cell", params=KdfParams.TESTING
        )
        path.write_bytes(made.to_bytes())
    opened = review(
        case.workspace,
        "open-packet",
        str(out),
        "--key-file",
        str(body_file),
        "--out",
        str(tmp_path / "opened"),
        passphrase="body passphrase!",
    )
    assert opened.exit_code == 0, opened.output
    assert "Person A" in (tmp_path / "opened" / "packet.txt").read_text("utf-8")
    assert "no --signer was given" in opened.output

    data = bytearray(out.read_bytes())
    data[-100] ^= 1
    tampered = tmp_path / "tampered.rzp"
    tampered.write_bytes(bytes(data))
    for packet, key_path, expected in [
        (tampered, body_file, "the packet is refused"),
        (out, other_file, "does not open with this key"),
    ]:
        target = tmp_path / f"out-{packet.stem}-{key_path.stem}"
        result = review(
            case.workspace,
            "open-packet",
            str(packet),
            "--key-file",
            str(key_path),
            "--out",
            str(target),
            passphrase="body passphrase!",
        )
        assert result.exit_code == 1
        assert expected in result.output
        assert not target.exists()
        assert not list(tmp_path.glob(f".{target.name}.*"))
    with pytest.raises(VerificationError):
        _open(case, tampered)
    with pytest.raises(DecryptionError):
        open_packet(out.read_bytes(), PrivateKey.generate())


def test_a_forged_signer_is_refused(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "packet.rzp"
    _escalate(case, out=out)
    genuine = SealedPacket.from_bytes(out.read_bytes())
    reviewer = genuine.signers[0]
    assert _open(case, out, trusted_signers={reviewer}).author == reviewer
    forger = SigningKey.generate()
    with pytest.raises(VerificationError) as caught:
        _open(case, out, trusted_signers={forger.verify_key})
    assert caught.value.rule == "signer"
    result = review(
        case.workspace,
        "open-packet",
        str(out),
        "--key-file",
        str(out),
        "--out",
        str(tmp_path / "x"),
    )
    assert result.exit_code == 1  # not a key file


def _enrol_second(case: Case, tmp_path: Path) -> None:
    second = KeyFile.create(
        KeyPair.generate(),
        SECOND_PASSPHRASE,
        kind="reviewer",
        label="Second",
        params=KdfParams.TESTING,
    )
    path = tmp_path / "second.key"
    path.write_bytes(second.to_bytes())
    result = review(
        case.workspace,
        "enrol",
        "--key-file",
        str(path),
        "--reviewer",
        "second",
        passphrase=f"{DEMO_PASSPHRASE}\n{SECOND_PASSPHRASE}",
    )
    assert result.exit_code == 0, result.output


def test_the_two_person_rule_holds_a_packet_until_another_reviewer_countersigns(
    case: Case, tmp_path: Path
) -> None:
    _enrol_second(case, tmp_path)
    as_second = ("--as", "second")
    refused = review(
        case.workspace, *as_second, "escalation", "rule", "1", passphrase=SECOND_PASSPHRASE
    )
    assert refused.exit_code == 1
    assert "only an administrator" in refused.output
    assert review(case.workspace, "--as", "demo-reviewer", "escalation", "rule", "1").exit_code == 0

    out = tmp_path / "packet.rzp"
    result = review(
        case.workspace,
        "--as",
        "demo-reviewer",
        "escalate",
        str(case.english),
        "--to",
        "1",
        "--summary",
        SUMMARY,
        "--redact",
        VICTIM,
        "--keep",  # the suggestion declined: the victim stays a detail, redacted as typed
        VICTIM,
        *_decisions(),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "needs 1 countersignature" in result.output
    assert not out.exists()
    early = review(
        case.workspace, "--as", "demo-reviewer", "escalation", "export", "1", "--out", str(out)
    )
    assert early.exit_code == 1
    assert "countersignature" in early.output
    own = review(case.workspace, "--as", "demo-reviewer", "escalation", "countersign", "1", "--yes")
    assert own.exit_code == 1
    assert "another reviewer" in own.output
    assert (
        "draft (needs 1)"
        in review(case.workspace, "--as", "demo-reviewer", "escalation", "list").output
    )

    shown = review(
        case.workspace, *as_second, "escalation", "show", "1", passphrase=SECOND_PASSPHRASE
    )
    assert shown.exit_code == 0, shown.output
    assert f"{VICTIM} -> Detail 1" in shown.output  # the countersigner sees the redactions
    assert "sold Detail 1" in shown.output
    signed = review(
        case.workspace,
        *as_second,
        "escalation",
        "countersign",
        "1",
        "--yes",
        "--out",
        str(out),
        passphrase=SECOND_PASSPHRASE,
    )
    assert signed.exit_code == 0, signed.output
    opened = _open(case, out, min_signers=2)
    assert len(opened.countersigners) == 1
    assert opened.content.countersignatures == 1
    stripped = SealedPacket.from_bytes(out.read_bytes())
    stripped = SealedPacket(stripped.envelope, stripped.signatures[:1])
    with pytest.raises(VerificationError):
        open_packet(stripped.to_bytes(), case.body_key)


MARKUP = "[conceal]and the DSP was paid too[/conceal] [link=https://evil.example]here[/link] [/x]"


def _escalated(server: Server, workspace: Path, tmp_path: Path, text: str) -> PrivateKey:
    """One report of this text, put in review and escalated to a new body (packet.rzp)."""
    server.submit(text)
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    assert review(workspace, "status", "1", "in-review").exit_code == 0
    body = _add_body(workspace)
    made = review(
        workspace,
        "escalate",
        "1",
        "--to",
        "Anti-Trafficking Cell",
        "--summary",
        "Kiln payments.",
        "--out",
        str(tmp_path / "packet.rzp"),
    )
    assert made.exit_code == 0, made.output
    assert body.encryption is not None
    return body.encryption


def test_escalation_show_draws_a_reports_brackets_as_the_body_reads_them(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a source writes rich's markup into a report. `escalation show`, which
    # promises the packet "exactly as the body will read it" and is what a countersigner
    # reads before signing, printed the packet's text as markup: [conceal]...[/conceal]
    # was drawn invisible on the terminal while the packet carried it, [link=...] made a
    # hyperlink, and a closing tag that opened nothing ended the command in a traceback.
    _escalated(server, workspace, tmp_path, f"The kiln owner pays the thana. {MARKUP}")
    shown = review(workspace, "escalation", "show", "1")
    assert shown.exit_code == 0, f"`escalation show` failed: {shown.exception!r}"
    assert MARKUP in shown.output, shown.output


def _tags(text: str) -> str:
    """Text in Unicode's tag characters (U+E0020-E007E): drawn as nothing, read by machines."""
    return "".join(chr(0xE0000 + ord(ch)) for ch in text)


HIDDEN = "Person A is Shazia Bibi, 0300-1234567; ignore the redactions"


def test_text_hidden_in_tag_characters_is_shown_as_marked_and_never_packed(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a source hides a sentence in tag characters, which no terminal, editor
    # or viewer draws, but which any program reading the text decodes as ASCII. The
    # reviewer read the report, wrote the summary and signed the packet; the packet
    # carried the hidden sentence to the body, vouched for by a reviewer who never saw it.
    key = _escalated(
        server, workspace, tmp_path, f"The kiln owner pays the thana.{_tags(HIDDEN)} Monthly."
    )
    shown = review(workspace, "show", "1").output
    assert _tags(HIDDEN)[:5] not in shown, "`show` passed the hidden text to the terminal"
    assert "\ufffd" * len(HIDDEN) in shown  # the reviewer sees that something is there
    packet = open_packet((tmp_path / "packet.rzp").read_bytes(), key).content
    text = json.dumps(packet.document, ensure_ascii=False)
    revealed = "".join(chr(ord(ch) - 0xE0000) for ch in text if 0xE0000 <= ord(ch) <= 0xE007F)
    assert not revealed, f"the packet carries hidden text: {revealed!r}"
    marked = "\ufffd" * len(HIDDEN)  # as `show` drew it
    assert f"The kiln owner pays the thana.{marked} Monthly." in text


def test_a_packet_read_by_its_body_is_not_reordered_by_an_override() -> None:
    # The attack: an override (U+202E) in a report's text went into packet.txt as it was,
    # so a body's editor that lays out bidi text showed the words in another order than
    # the reviewers' screens, which drop it, had shown them.
    document: dict[str, object] = {
        "reports": [{"label": "Report A", "received": "2026-12-01", "text": "SHO \u202eilA"}]
    }
    text = render(document, [])
    assert "\u202e" not in text, "packet.txt keeps the override"
    assert "SHO ilA" in text


def test_a_source_designation_in_the_summary_is_never_asked_about(case: Case) -> None:
    """The designation is redacted from every packet anyway: a word of it that extraction
    reads as a name ("SHO Roast") must not stop the escalation with a question."""
    first_word = case.designations[0].split()[0]
    summary = f"{SUMMARY} SHO {first_word} told {case.designations[0]} to stay silent."
    args = ["escalate", str(case.english), str(case.urdu), "--to", "Anti-Trafficking Cell"]
    args += ["--summary", summary, "--redact", f"person:{VICTIM}|{VICTIM_URDU}"]
    args += ["--redact", "Chak 41", "--yes-redact", VICTIM, *_decisions()]
    result = review(case.workspace, *args)
    assert result.exit_code == 0, result.output
    assert f"'{first_word}'" not in result.output


def test_in_designations_takes_only_words_of_one_designation() -> None:
    def person(*forms: str) -> Candidate:
        return Candidate("person", forms[0].casefold(), forms, 1)

    designations = ["Roast Orbit", "Quiet Lamp"]
    assert packets.in_designations(person("Roast"), designations)
    assert packets.in_designations(person("roast orbit", "Orbit"), designations)
    assert not packets.in_designations(person("Roast Lamp"), designations)
    assert not packets.in_designations(person("Roast", "Tariq"), designations)
    assert not packets.in_designations(person("Rana Tariq"), designations)


def test_the_reports_status_follows_the_escalation_and_every_step_is_audited(
    case: Case, tmp_path: Path
) -> None:
    _escalate(case)  # no --out: ready, not sent
    assert "in-review" in review(case.workspace, "show", str(case.english)).output
    out = tmp_path / "packet.rzp"
    sent = review(case.workspace, "escalation", "export", "1", "--out", str(out))
    assert sent.exit_code == 0, sent.output
    for num in (case.english, case.urdu):
        assert "status: escalated" in review(case.workspace, "show", str(num)).output
    again = review(case.workspace, "escalation", "export", "1", "--out", str(out))
    assert again.exit_code == 1  # never over a file
    listed = review(case.workspace, "escalation", "list").output
    assert "Anti-Trafficking Cell" in listed
    assert "sent" in listed
    assert "OVERDUE" not in listed
    assert "no escalations" in review(case.workspace, "escalation", "list", "--overdue").output

    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    acked = review(
        case.workspace, "escalation", "ack", "1", "--note", "received", "--deadline", past
    )
    assert acked.exit_code == 0, acked.output
    overdue = review(case.workspace, "escalation", "list", "--overdue").output
    assert "OVERDUE" in overdue
    assert "acknowledged" in overdue
    assert review(case.workspace, "escalation", "acted", "1", "--note", "FIR lodged").exit_code == 0
    assert "no escalations" in review(case.workspace, "escalation", "list", "--overdue").output
    late = review(case.workspace, "escalation", "ack", "1")
    assert late.exit_code == 1

    assert review(case.workspace, "audit", "verify").exit_code == 0
    u = ws.Workspace.open(case.workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
    try:
        actions = [e.action for e in audit.entries(u)]
        esc = escalation.load(u, 1)
    finally:
        u.workspace.close()
    for action in [
        "body-add",
        "escalate",
        "escalation-sent",
        "escalation-acknowledged",
        "escalation-acted-on",
    ]:
        assert action in actions, action
    assert actions.count("status") >= 4  # in-review twice, then escalated twice
    assert esc.record.state == "acted-on"
    assert [h["event"] for h in esc.record.history] == [
        "drafted",
        "sent",
        "acknowledged",
        "acted-on",
    ]


def test_an_unknown_attachment_is_refused_unless_included_as_it_is(
    server: Server, workspace: Path, tmp_path: Path, case: Case
) -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(200)
    server.submit("A video of the handover", [("files", "handover.mp4", video, "video/mp4")])
    assert review(workspace, "import", str(server.export(tmp_path / "v.rzb"))).exit_code == 0
    num = _number(workspace, "handover")
    assert review(workspace, "status", str(num), "in-review").exit_code == 0
    args = ["escalate", str(num), "--to", "1", "--summary", "A video"]
    refused = review(workspace, *args, "--attach", f"{num}:1", "--out", str(tmp_path / "p1"))
    assert refused.exit_code == 1
    assert f"--as-is {num}:1" in refused.output
    assert not (tmp_path / "p1").exists()
    out = tmp_path / "p2"
    kept = review(workspace, *args, "--as-is", f"{num}:1", "--out", str(out))
    assert kept.exit_code == 0, kept.output
    assert "metadata was NOT removed" in kept.output
    content = _open(case, out).content
    assert content.files[0].data == video
    assert content.files[0].name == "report-1-1.mp4"
    assert content.document["files"] == [
        {"name": "report-1-1.mp4", "report": "Report 1", "metadata_removed": False}
    ]


def test_an_attachment_sent_as_it_is_is_said_to_carry_its_recording_place(
    server: Server, workspace: Path, tmp_path: Path, case: Case
) -> None:
    # The attack: a video cannot be cleaned, so the reviewer includes it --as-is, told only
    # that "its metadata was NOT removed", not that the body will read where it was recorded.
    # And the second: told, on the normal screen, the place itself ("GPS position: 31.55600,
    # 74.34400"), which the scrollback and a log of stderr keep; `report view` pages it.
    server.submit("A video of the handover", [("files", "v.mp4", phone_video(), "video/mp4")])
    assert review(workspace, "import", str(server.export(tmp_path / "v.rzb"))).exit_code == 0
    num = _number(workspace, "handover")
    assert review(workspace, "status", str(num), "in-review").exit_code == 0
    args = ["escalate", str(num), "--to", "1", "--summary", "A video", "--as-is", f"{num}:1"]
    kept = review(workspace, *args, "--out", str(tmp_path / "p"))
    assert kept.exit_code == 0, kept.output
    said = " ".join(kept.output.split())
    assert "metadata was NOT removed" in said
    assert "it carries GPS position" in said, "not told the packet says where"
    assert f"`raazdar-review report view {num} 1` shows" in said
    assert "31.556" not in said, "the place itself is left in the scrollback"
    assert "74.344" not in said


def test_an_attachment_sent_as_it_is_is_said_to_match_the_sources_own_copy(
    server: Server, workspace: Path, tmp_path: Path, case: Case
) -> None:
    # The attack: a file sent --as-is goes byte for byte as the source's browser sent it,
    # so its hash in the packet is that of the copy left in the phone's gallery (or in a
    # chat it was forwarded through): whoever holds a leaked packet and seizes the phone
    # proves who the source was. The reviewer was told of its metadata, not of that.
    video = phone_video()
    server.submit("A video of the handover", [("files", "v.mp4", video, "video/mp4")])
    assert review(workspace, "import", str(server.export(tmp_path / "v.rzb"))).exit_code == 0
    num = _number(workspace, "handover")
    assert review(workspace, "status", str(num), "in-review").exit_code == 0
    args = ["escalate", str(num), "--to", "1", "--summary", "A video", "--as-is", f"{num}:1"]
    kept = review(workspace, *args, "--out", str(tmp_path / "p"))
    assert kept.exit_code == 0, kept.output
    assert _open(case, tmp_path / "p").content.files[0].data == video
    said = " ".join(kept.output.split())
    assert "matches byte for byte any copy the source kept or shared" in said


def test_only_reports_under_review_are_escalated(
    case: Case, server: Server, tmp_path: Path
) -> None:
    server.submit("a new report nobody has read")
    assert review(case.workspace, "import", str(server.export(tmp_path / "n.rzb"))).exit_code == 0
    num = _number(case.workspace, "nobody")
    result = review(case.workspace, "escalate", str(num), "--to", "1", "--summary", "x")
    assert result.exit_code == 1
    assert "move it to in-review" in result.output


def test_suggestions_are_confirmed_one_by_one_when_asked(case: Case, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from review.cli import cli

    # The English report alone: its suggestions come in order (the SHO, the victim, phone, CNIC).
    answers = "\n".join([DEMO_PASSPHRASE, "n", "y", "y", "y"]) + "\n"
    out = tmp_path / "packet.rzp"
    result = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(case.workspace),
            "escalate",
            str(case.english),
            "--to",
            "1",
            "--summary",
            "summary",
            "--out",
            str(out),
        ],
        input=answers,
    )
    assert result.exit_code == 0, result.output
    assert "Redact person 'Rana Tariq'" in result.output
    text = _open(case, out).content.document["reports"][0]["text"]
    assert "SHO Rana Tariq" in text
    assert PHONE not in text
    assert CNIC not in text
    # With nobody to answer, nothing is made.
    silent = review(case.workspace, "escalate", str(case.english), "--to", "1", "--summary", "s")
    assert silent.exit_code == 1


def test_corroboration_goes_in_with_packet_labels_counts_and_pseudonyms(
    unlocked: ws.Unlocked, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    def shared(_u: ws.Unlocked, nums: list[int]) -> list[dict[str, object]]:
        assert nums == [case.english, case.urdu]
        return [
            {
                "kind": "person",
                "name": VICTIM,
                "reports": [case.english, case.urdu, 99],
                "sources": case.designations,
                "first": dt.date(2025, 1, 2),
                "last": "2025-02-03",
            }
        ]

    monkeypatch.setattr(packets, "shared_entities", shared)
    created = escalation.escalate(
        unlocked,
        [case.english, case.urdu],
        "1",
        summary=SUMMARY,
        selection=packets.Selection(),
        extra_terms=[Term("person", (VICTIM, VICTIM_URDU))],
        confirm=lambda c: c.kind != "person",
        writers=True,
    )
    _sealed, content = escalation.packet(unlocked, created.escalation)
    assert content.document["corroboration"] == [
        {
            "kind": "person",
            "name": "Person A",
            "reports": ["Report 1", "Report 2"],
            "other_reports": 1,
            "sources": len(case.designations),
            "first": "2025-01",
            "last": "2025-02",
        }
    ]


def test_the_registry_and_packets_are_sealed_at_rest(case: Case, tmp_path: Path) -> None:
    _escalate(case, "--all-attachments")
    assert "Anti-Trafficking Cell" in review(case.workspace, "bodies", "list").output
    assert case.body.encryption_public is not None
    needles = [
        b"Anti-Trafficking Cell",
        b"registrar",
        case.body.encryption_public.to_text().encode(),
        case.body.encryption_public.fingerprint.key_id,  # the packet's stanza, wrapped
        b"Person A",
    ]
    for path, data in all_bytes(case.workspace):
        for needle in needles:
            assert needle not in data, (path, needle)


def test_a_body_makes_its_key_file_and_opens_packets_with_it(case: Case, tmp_path: Path) -> None:
    key_file = tmp_path / "cell.key"
    from click.testing import CliRunner

    from review.cli import cli

    passphrase = "commission passphrase"
    made_result = CliRunner().invoke(
        cli,
        ["bodies", "keygen", "--out", str(key_file), "--label", "Commission", "--fast-kdf"],
        input=f"{passphrase}\n{passphrase}\n",
    )
    assert made_result.exit_code == 0, made_result.output
    assert KeyFile.from_bytes(key_file.read_bytes()).kind == "escalation-body"
    added = review(
        case.workspace,
        "bodies",
        "add",
        "--name",
        "Commission",
        "--jurisdiction",
        "Federal",
        "--contact",
        "post",
        "--key-file",
        str(key_file),
    )
    assert added.exit_code == 0, added.output
    out = tmp_path / "packet.rzp"
    args = ["escalate", str(case.urdu), "--to", "commission", "--summary", "s", "--out", str(out)]
    result = review(
        case.workspace,
        *args,
        "--redact",
        VICTIM_URDU,
        "--yes-redact",  # the victim, named without a rank, is a suggestion too (issue 18)
        VICTIM_URDU,
        "--keep",
        "ایس ایچ او رانا طارق",
        "--yes-redact",
        "03001234567",
    )
    assert result.exit_code == 0, result.output
    signer = SealedPacket.from_bytes(out.read_bytes()).signers[0].to_text()
    opened = review(
        case.workspace,
        "open-packet",
        str(out),
        "--key-file",
        str(key_file),
        "--signer",
        signer,
        "--out",
        str(tmp_path / "opened"),
        passphrase=passphrase,
    )
    assert opened.exit_code == 0, opened.output
    assert "signed by author" in opened.output
    document = json.loads((tmp_path / "opened" / "packet.json").read_text("utf-8"))
    assert VICTIM_URDU not in json.dumps(document, ensure_ascii=False)
    assert document["body"]["name"] == "Commission"


def test_a_draft_made_before_a_rewrap_is_countersigned_after_it(case: Case, tmp_path: Path) -> None:
    """A rewrap re-seals escalations, bodies, entities and declarations with everything else."""
    _enrol_second(case, tmp_path)
    admin = ("--as", "demo-reviewer")
    assert review(case.workspace, *admin, "escalation", "rule", "1").exit_code == 0
    drafted = review(
        case.workspace,
        *admin,
        "escalate",
        str(case.english),
        "--to",
        "1",
        "--summary",
        SUMMARY,
        "--redact",
        VICTIM,
        "--keep",  # the suggestion declined: the victim stays a detail, redacted as typed
        VICTIM,
        *_decisions(),
    )
    assert drafted.exit_code == 0, drafted.output
    declared = review(
        case.workspace,
        "--as",
        "second",
        "conflicts",
        "declare",
        "--district",
        "Lahore",
        passphrase=SECOND_PASSPHRASE,
    )
    assert declared.exit_code == 0, declared.output
    entities_before = review(case.workspace, *admin, "entities").output

    rewrapped = review(case.workspace, *admin, "keys", "rewrap")
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "re-sealed" in rewrapped.output

    assert review(case.workspace, *admin, "entities").output == entities_before
    assert "Anti-Trafficking Cell" in review(case.workspace, *admin, "bodies", "list").output
    listed = review(
        case.workspace, "--as", "second", "conflicts", "list", passphrase=SECOND_PASSPHRASE
    )
    assert "Lahore" in listed.output
    out = tmp_path / "packet.rzp"
    signed = review(
        case.workspace,
        "--as",
        "second",
        "escalation",
        "countersign",
        "1",
        "--yes",
        "--out",
        str(out),
        passphrase=SECOND_PASSPHRASE,
    )
    assert signed.exit_code == 0, signed.output
    opened = _open(case, out, min_signers=2)
    assert SUMMARY.split(" in ")[0] in json.dumps(opened.content.document, ensure_ascii=False)
    assert opened.content.countersignatures == 1
    assert "audit log verifies" in review(case.workspace, "audit", "verify").output


def test_a_packet_drafted_under_a_weaker_rule_is_not_sent_under_a_stronger_one(
    case: Case, tmp_path: Path
) -> None:
    """Drafted when no countersignature was needed; the rule is now two people."""
    _escalate(case)
    assert review(case.workspace, "escalation", "rule", "1").exit_code == 0
    out = tmp_path / "packet.rzp"

    result = review(case.workspace, "escalation", "export", "1", "--out", str(out))

    assert result.exit_code == 1
    assert "does not meet the workspace's rule" in result.output
    assert "declares 0" in result.output
    assert not out.exists()


def test_a_body_counts_people_not_keys(case: Case, tmp_path: Path) -> None:
    """The author's old and new keys on one packet are one person to a body that knows it."""
    out = tmp_path / "packet.rzp"
    _escalate(case, out=out)
    sealed = SealedPacket.from_bytes(out.read_bytes())
    author = sealed.signers[0]
    rotated = SigningKey.generate()
    doubled = sealed.countersign(rotated)
    both = tmp_path / "doubled.rzp"
    both.write_bytes(doubled.to_bytes())
    people = {author: "demo", rotated.verify_key: "demo"}

    with pytest.raises(VerificationError, match="declares 0"):
        _open(case, both, trusted_signers=people, countersignatures=1)
    assert _open(case, both, trusted_signers=people).people == ("demo",)
    with pytest.raises(VerificationError):
        _open(case, both, trusted_signers=people, min_signers=2)


def test_corroboration_names_nothing_the_packets_own_texts_do_not(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    """Attack: two reports' photos are named after the victim and her phone; the texts
    never say them, so no suggestion is made, and the corroboration (built from every
    entity of the reports, file names included) carried them to the body unredacted."""
    photo = ("files", "Nasreen Bibi 0301-7654321.jpg", jpeg_with_gps(), "image/jpeg")
    server.submit("SHO Rana Tariq of Thana Civil Lines Gujrat sold a girl to an agent.", [photo])
    server.submit("At Thana Civil Lines Gujrat SHO Rana Tariq took money for the girl.", [photo])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    nums = [_number(workspace, "sold girl agent"), _number(workspace, "took money")]
    for num in nums:
        assert review(workspace, "status", str(num), "in-review").exit_code == 0
    body = KeyPair.generate()
    assert body.encryption_public is not None
    assert body.encryption is not None
    args = ["bodies", "add", "--name", "Cell", "--jurisdiction", "Punjab", "--contact", "hand"]
    added = review(workspace, *args, "--encryption-key", body.encryption_public.to_text())
    assert added.exit_code == 0, added.output
    out = tmp_path / "packet.rzp"
    args = ["escalate", *map(str, nums), "--to", "Cell", "--summary", "Two reports"]
    result = review(workspace, *args, "--keep", "SHO Rana Tariq", "--out", str(out))
    assert result.exit_code == 0, result.output
    content = open_packet(out.read_bytes(), body.encryption).content
    text = json.dumps(content.document, ensure_ascii=False)
    shared = {(e["kind"], e["name"]) for e in content.document["corroboration"]}
    # What the texts say still corroborates: the official's name, kept, and his station.
    assert {("person", "Rana Tariq"), ("police_station", "Thana Civil Lines")} <= shared
    for secret in ["Nasreen", "0301", "7654321", "+923017654321"]:
        assert secret not in text, secret


def _docx_saying(text: str) -> bytes:
    """A .docx whose one paragraph says `text`, its first word in a run of its own."""
    first, _, rest = text.partition(" ")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "word/document.xml",
            '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Statement: </w:t></w:r>'
            f'<w:r><w:t>{first}</w:t></w:r><w:r><w:t xml:space="preserve"> {rest}</w:t></w:r>'
            "</w:p></w:body></w:document>",
        )
    return out.getvalue()


@pytest.mark.parametrize("spelling", ["Nasreen Bibi", "NASREEN BIBI"])
def test_a_document_naming_a_redacted_person_is_refused(
    server: Server, workspace: Path, tmp_path: Path, spelling: str
) -> None:
    """Attack: the victim's name, confirmed for redaction, is also in the statement the
    source attached; the .docx went out with it, though the packet is said to be refused
    while any confirmed spelling is still in it."""
    statement = ("files", "statement.docx", _docx_saying(f"{spelling} was sold."), "x/y")
    server.submit("SHO Rana Tariq sold Nasreen Bibi to an agent in Gujrat.", [statement])
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    num = _number(workspace, "sold agent")
    assert review(workspace, "status", str(num), "in-review").exit_code == 0
    body = KeyPair.generate()
    assert body.encryption_public is not None
    args = ["bodies", "add", "--name", "Cell", "--jurisdiction", "Punjab", "--contact", "hand"]
    added = review(workspace, *args, "--encryption-key", body.encryption_public.to_text())
    assert added.exit_code == 0, added.output
    out = tmp_path / "packet.rzp"
    args = ["escalate", str(num), "--to", "Cell", "--summary", "A sale", "--attach", f"{num}:1"]
    args += ["--yes-redact", "Nasreen Bibi", "--keep", "SHO Rana Tariq", "--out", str(out)]
    result = review(workspace, *args)
    assert result.exit_code == 1, result.output
    assert "attachment 1" in result.output
    assert not out.exists()


def test_a_retired_body_is_sealed_nothing_more_and_its_drafts_do_not_go(
    case: Case, tmp_path: Path
) -> None:
    """Attack: a body's key leaked, or its people can no longer be trusted. A body could
    not be retired, so every packet still went to that key, and so did a draft made
    before anyone knew."""
    waiting = tmp_path / "waiting.rzp"
    _escalate(case)  # ready, not yet sent
    assert "ready" in review(case.workspace, "escalation", "list").output

    retired = review(case.workspace, "bodies", "retire", "anti-trafficking cell")
    assert retired.exit_code == 0, retired.output
    assert "retired" in retired.output
    assert "retired" in review(case.workspace, "bodies", "list").output
    again = review(case.workspace, "bodies", "retire", "1")
    assert again.exit_code == 1
    assert "was retired on" in again.output

    for to in ("Anti-Trafficking Cell", "1"):
        refused = review(case.workspace, "escalate", str(case.urdu), "--to", to, "--summary", "s")
        assert refused.exit_code == 1, refused.output
        assert "was retired on" in refused.output
    late = review(case.workspace, "escalation", "export", "1", "--out", str(waiting))
    assert late.exit_code == 1, late.output
    assert "was retired on" in late.output
    assert not waiting.exists()
    assert not list(tmp_path.glob(".waiting.rzp.*"))

    # The body's new key, under its old name: packets go to it, and never to the old one.
    new = KeyPair.generate()
    assert new.encryption_public is not None

    def add(key: str) -> Result:
        args = ["--name", "Anti-Trafficking Cell", "--jurisdiction", "Punjab", "--contact", "x"]
        return review(case.workspace, "bodies", "add", *args, "--encryption-key", key)

    old_key = add(case.body.encryption_public.to_text())  # type: ignore[union-attr]
    assert old_key.exit_code == 1
    assert "is (or was) registered" in old_key.output
    added = add(new.encryption_public.to_text())
    assert added.exit_code == 0, added.output
    out = tmp_path / "packet.rzp"
    _escalate(case, out=out)
    assert new.encryption is not None
    assert open_packet(out.read_bytes(), new.encryption).content.document["reports"]
    with pytest.raises(CryptoError):
        _open(case, out)


def test_the_names_redacted_the_packets_and_the_escalations_stay_out_of_the_scrollback(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: on a terminal, `escalate` asks of each name whether to redact it, the
    victim's among them; `escalation countersign` draws the packet to read before signing;
    `escalation list` draws the bodies each report went to. Whoever scrolls up after the
    command ends reads them all, as `escalation show` (paged) no longer lets them."""
    from click.testing import CliRunner

    from review.cli import cli, idle, paging

    monkeypatch.setattr(idle, "_is_terminal", lambda stream: stream is sys.stderr, raising=False)
    monkeypatch.setattr(paging, "on_a_terminal", lambda: True)
    paged: list[str] = []
    monkeypatch.setattr(paging, "page", paged.append)
    assert review(case.workspace, "escalation", "rule", "1").exit_code == 0
    asked = CliRunner().invoke(
        cli,
        [
            *("--workspace", str(case.workspace), "escalate", str(case.english)),
            *("--to", "1", "--summary", "summary"),
        ],
        input="\n".join([DEMO_PASSPHRASE, "n", "y", "y", "y"]) + "\n",
    )
    assert asked.exit_code == 0, asked.output
    assert "Redact person 'Rana Tariq'" in asked.output, asked.output
    for question in ("Rana Tariq", VICTIM, PHONE):
        assert not kept_in_scrollback(asked.output.encode(), question), (
            f"`escalate` asked about {question!r} in the terminal's scrollback"
        )

    shown = CliRunner().invoke(
        cli,
        ["--workspace", str(case.workspace), "escalation", "countersign", "1"],
        input=f"{DEMO_PASSPHRASE}\nn\n",
    )
    assert "SHO Rana Tariq" not in shown.output, (
        "`escalation countersign` drew the packet into the terminal's scrollback"
    )
    assert len(paged) == 1, paged
    assert "SHO Rana Tariq" in paged[0]

    paged.clear()
    listed = review(case.workspace, "escalation", "list")
    assert listed.exit_code == 0, listed.output
    assert "Anti-Trafficking Cell" not in listed.output, (
        "`escalation list` drew the body a report went to into the terminal's scrollback"
    )
    assert len(paged) == 1, paged
    assert "Anti-Trafficking Cell" in paged[0]

    paged.clear()
    registry = review(case.workspace, "bodies", "list")
    assert registry.exit_code == 0, registry.output
    assert "By hand, to the registrar" not in registry.output, (
        "`bodies list` drew the bodies and how to reach them into the terminal's scrollback"
    )
    assert len(paged) == 1, paged
