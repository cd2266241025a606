"""The terminal UI, driven by Textual's pilot over a real workspace filled by a real import."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from rich.segment import Segment
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Checkbox, DataTable, Input, Label, SelectionList, TextArea

from app.demo import DEMO_PASSPHRASE
from crypto import HybridPrivateKey, KeyPair, PublicKey, SigningKey, read_header
from review import bidi, escalation
from review import workspace as ws
from review.analysis import records
from review.analysis.corpus import Corpus
from review.casework import reports, triage
from review.escalation import bodies
from review.intake.importer import import_bundle
from review.keys.rewrap import rewrap
from review.present import disk
from review.tui import attachment
from review.tui.app import ReviewApp
from review.tui.attachment import PAGES, AttachmentScreen
from review.tui.composer import Composer
from review.tui.dialogs import Confirm
from review.tui.escalate import EscalationBuilder
from review.tui.links import PendingLinks
from review.tui.query import parse
from review.tui.report import ReportScreen
from review.tui.widgets import Message, Prose
from review.workspace import audit, head, outbox
from tests.review.casework.test_viewing import blank_pages, text_pdf
from tests.review.fixtures import png_with_text
from tests.review.intake.test_import import disputed_source_bundle, sources_bundle
from tests.review.support import Server, all_bytes, review
from tests.submit.support import SERIAL, camera_photo

ENGLISH = "The SHO at the kiln took money from the munshi"
URDU = "ایس ایچ او نے بھٹہ مالک سے رشوت لی"
CANARY = "canary-TU1-7q2w"
URDU_CANARY = "کینری-ٹی-یو-آئی"
PHONE = "0300-1234567"

Script = Callable[[ReviewApp, Pilot[None]], Awaitable[None]]


@pytest.fixture
def filed(server: Server, unlocked: ws.Unlocked, tmp_path: Path) -> ws.Unlocked:
    """Three reports, imported: 1 English with a file, 2 Urdu, 3 a ledger flagged danger to life."""
    server.submit(ENGLISH, [("files", "ledger.txt", b"attached ledger", "text/plain")])
    import_bundle(unlocked, server.export(tmp_path / "1.rzb"))  # one bundle each: numbered in order
    server.submit(URDU)
    import_bundle(unlocked, server.export(tmp_path / "2.rzb"))
    server.submit("A second ledger names the constable")
    import_bundle(unlocked, server.export(tmp_path / "3.rzb"))
    triage.set_severity(unlocked, 1, "critical")
    triage.set_severity(unlocked, 3, "low", danger=True)
    return unlocked


def drive(u: ws.Unlocked, script: Script, *, reorder: bool = True) -> None:
    """Run the app headless, do `script`, then quit."""

    async def main() -> None:
        app = ReviewApp(u, reorder=reorder)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await script(app, pilot)
            await app.action_quit()

    asyncio.run(main())


def inbox_nums(app: ReviewApp) -> list[int]:
    table = app.screen.query_one("#reports", DataTable)
    return [int(str(key.value)) for key in table.rows]


async def answer(pilot: Pilot[None], text: str) -> None:
    """Type an answer into the open question and press Enter."""
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()


async def open_report(pilot: Pilot[None], num: int) -> ReportScreen:
    """Open a report from the inbox, as the reviewer would: cursor to its row, Enter."""
    app = pilot.app
    assert isinstance(app, ReviewApp)
    table = app.screen.query_one("#reports", DataTable)
    table.move_cursor(row=inbox_nums(app).index(num))
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, ReportScreen)
    assert app.screen.num == num
    return app.screen


def test_the_inbox_lists_reports_danger_first_then_by_severity(filed: ws.Unlocked) -> None:
    seen: list[int] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        seen.extend(inbox_nums(app))

    drive(filed, script)
    assert seen == [3, 1, 2]


def test_the_inbox_and_the_report_say_its_source_is_disputed(
    unlocked: ws.Unlocked, server: Server, tmp_path: Path
) -> None:
    honest = {name: f'{{"message": "{name} saw the SHO take money"}}'.encode() for name in "ABC"}
    import_bundle(unlocked, sources_bundle(server, tmp_path, honest))
    import_bundle(unlocked, disputed_source_bundle(server, tmp_path, "Hostile Crow"))
    cells: dict[int, str] = {}
    warned: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        table = app.screen.query_one("#reports", DataTable)
        for num in inbox_nums(app):
            cells[num] = " ".join(str(cell) for cell in table.get_row(str(num)))
        screen = await open_report(pilot, 4)
        warned.extend(str(w.render()) for w in screen.query(".danger"))

    drive(unlocked, script)
    assert "disputed" in cells[4], "the inbox does not mark the disputed source"
    assert not any("disputed" in cells[n] for n in (1, 2, 3))
    assert any("reply key is disputed" in " ".join(w.split()) for w in warned), warned


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("danger", [3]),
        ("severity:critical", [1]),
        ("constable", [3]),  # text search over content
        ("بھٹہ", [2]),  # Urdu text search
        ("status:closed", []),
        ("agency:'Sindh Police'", [2]),
        ("sort:number", [3, 1, 2]),
    ],
)
def test_filters_narrow_the_inbox(filed: ws.Unlocked, line: str, expected: list[int]) -> None:
    triage.set_field(filed, 2, "agency", "Sindh Police")
    seen: list[int] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash")
        await answer(pilot, line)
        seen.extend(inbox_nums(app))

    drive(filed, script)
    assert seen == expected


def test_a_bad_filter_is_refused_with_a_hint_and_the_list_kept(filed: ws.Unlocked) -> None:
    said: list[str] = []
    seen: list[int] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash")
        await answer(pilot, "stauts:new")
        said.append(str(app.screen.query_one(Message).render()))
        seen.extend(inbox_nums(app))

    drive(filed, script)
    assert "unknown filter 'stauts'" in said[0]
    assert seen == [3, 1, 2]


def test_filter_words_parse_to_the_lists_filters() -> None:
    q = parse("status:new,in-review agency:'Sindh Police' tag:Kiln danger all sort:day munshi")
    assert q.filters.statuses == {"new", "in-review"}
    assert q.filters.agency == "Sindh Police"
    assert q.filters.tag == "kiln"
    assert q.filters.danger
    assert q.filters.include_closed
    assert (q.text, q.sort) == ("munshi", "day")


def test_opening_a_report_shows_english_and_urdu_messages(filed: ws.Unlocked) -> None:
    shown: dict[int, list[Prose]] = {}

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        for num in (1, 2):
            screen = await open_report(pilot, num)
            shown[num] = list(screen.query(".message").results(Prose))
            await pilot.press("escape")
            await pilot.pause()

    drive(filed, script)
    (english,) = shown[1]
    assert english.text == ENGLISH
    assert not any(line.rtl for line in english.lines(100))
    (urdu,) = shown[2]
    assert urdu.text == URDU
    (line,) = urdu.lines(100)
    assert line.rtl
    assert line.text == bidi.visual(URDU)  # drawn in visual order, right-aligned
    assert line.text.split()[0] == "یل"  # the last word of the sentence is leftmost


def test_a_bidi_terminal_gets_urdu_in_logical_order(filed: ws.Unlocked) -> None:
    shown: list[Prose] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        screen = await open_report(pilot, 2)
        shown.extend(screen.query(".message").results(Prose))

    drive(filed, script, reorder=False)
    assert [line.text for line in shown[0].lines(100)] == [URDU]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc def", "abc def"),
        ("سلام", "مالس"),
        ("سلام 123", "123 مالس"),  # numbers stay left to right
        ("رقم ۲۰۲۴ میں", "ںیم ۲۰۲۴ مقر"),  # Urdu digits too
        ("SHO تھانہ said", "SHO ہناھت said"),  # an Urdu run inside English
        ("(سلام)", "(مالس)"),  # brackets mirrored
        ("پَیسے", "ےسیپَ"),  # a mark stays after its letter
        ("\u202eevil", "evil"),  # an override is dropped, not obeyed
    ],
)
def test_right_to_left_lines_are_reordered_for_the_terminal(text: str, expected: str) -> None:
    assert bidi.visual(text) == expected


def test_urdu_wraps_before_it_is_reordered() -> None:
    lines = bidi.layout("ایک دو تین چار", 8)
    assert [line.text for line in lines] == ["ود کیا", "راچ نیت"]
    assert all(line.rtl for line in lines)


# (keys pressed on the report view, answer to type or None, what `show` says, audit action)
TRIAGE = [
    (("s", "enter"), None, "status: in-review", "status"),
    (("a", "enter"), None, "assignee: demo-reviewer", "assign"),
    (("c",), "bonded labour", "category: bonded labour", "category"),
    (("g",), "Sindh Police", "agency: Sindh Police", "agency"),
    (("d",), "کراچی", "district: کراچی", "district"),
    (("t",), "kiln ledger", "tags: kiln, ledger", "tag"),
    (("l",), "3", "linked: 3", "link"),
]


@pytest.mark.parametrize(("keys", "typed", "shown", "action"), TRIAGE)
def test_each_triage_key_changes_the_report_and_is_audited(
    filed: ws.Unlocked,
    workspace: Path,
    keys: tuple[str, ...],
    typed: str | None,
    shown: str,
    action: str,
) -> None:
    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        await pilot.press(*keys)
        await pilot.pause()
        if typed is not None:
            await answer(pilot, typed)
        await pilot.pause()

    before = len(audit.entries(filed))
    drive(filed, script)
    assert shown in review(workspace, "show", "1").output
    (entry,) = audit.entries(filed)[before:]
    assert (entry.action, entry.target, entry.actor) == (action, 1, "demo-reviewer")
    assert audit.verify(ws.Workspace.open(workspace)).ok
    assert review(workspace, "audit", "verify").exit_code == 0


def test_closing_asks_for_a_reason(filed: ws.Unlocked, workspace: Path) -> None:
    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        await pilot.press("s", "down", "down", "enter")  # new -> in-review, needs-info, closed
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # unfounded, duplicate, resolved
        await pilot.pause()

    drive(filed, script)
    assert "status: closed (resolved)" in review(workspace, "show", "1").output
    assert audit.entries(filed)[-1].detail == {"status": "closed", "reason": "resolved"}


def test_severity_and_the_danger_flag(filed: ws.Unlocked, workspace: Path) -> None:
    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        await pilot.press("v")
        await pilot.pause()
        app.screen.query_one(Checkbox).value = True
        await pilot.press("down", "down", "down", "enter")  # none, low, medium, high
        await pilot.pause()

    drive(filed, script)
    output = review(workspace, "show", "2").output
    assert "severity: high" in output
    assert "DANGER TO LIFE" in output
    entry = audit.entries(filed)[-1]
    assert (entry.action, entry.detail) == ("severity", {"severity": "high", "danger": True})


def test_a_refused_move_is_a_message_and_changes_nothing(filed: ws.Unlocked) -> None:
    said: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        screen = await open_report(pilot, 1)
        await pilot.press("l")
        await answer(pilot, "1")
        said.append(str(screen.query_one(Message).render()))

    before = len(audit.entries(filed))
    drive(filed, script)
    assert "error: a report cannot be linked to itself" in said[0]
    assert len(audit.entries(filed)) == before


def test_a_note_is_saved_searchable_and_audited(filed: ws.Unlocked, workspace: Path) -> None:
    found: list[int] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, Composer)
        app.screen.query_one(TextArea).text = "The munshi's second ledger: منشی"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("slash")
        await answer(pilot, "منشی")
        found.extend(inbox_nums(app))

    drive(filed, script)
    assert found == [2]
    assert "The munshi's second ledger" in review(workspace, "show", "2").output
    assert audit.entries(filed)[-1].action == "note"


def test_the_reply_composer_queues_a_reply_after_a_yes(filed: ws.Unlocked, workspace: Path) -> None:
    asked: list[bool] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(TextArea).text = "شکریہ۔ Please say which police station."
        await pilot.press("ctrl+s")
        await pilot.pause()
        asked.append(isinstance(app.screen, Confirm))
        await pilot.press("n")  # not yet: the draft stays
        await pilot.pause()
        assert isinstance(app.screen, Composer)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)

    drive(filed, script)
    assert asked == [True]
    output = review(workspace, "show", "2").output
    assert "Reply by demo-reviewer (queued)" in output
    assert "Please say which police station." in output
    assert filed.conn.execute("SELECT count(*) FROM replies").fetchone() == (1,)
    assert audit.entries(filed)[-1].action == "reply"


def test_a_reply_to_a_source_whose_one_time_keys_are_used_is_sealed_only_after_a_second_yes(
    filed: ws.Unlocked, workspace: Path
) -> None:
    # Report 2's source gave one-time reply keys, and every one is used already.
    (source,) = filed.conn.execute("SELECT source FROM reports WHERE num = 2").fetchone()
    filed.conn.execute(
        "INSERT INTO reply_prekeys (source, report, signer, key, used) VALUES (?, 2, ?, ?, 1)",
        (
            source,
            SigningKey.generate().verify_key.to_text(),
            HybridPrivateKey.generate().public_key.to_text(),
        ),
    )
    head.put(filed.conn, filed.key)  # as the importer does: the prekeys are under the head's tag
    questions: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(TextArea).text = "Please say which police station."
        for answer_ in ("n", "y"):
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("y")  # queue it
            await pilot.pause()
            assert isinstance(app.screen, Confirm)
            questions.append(app.screen.question)
            await pilot.press(answer_)  # ...to the codename key?
            await pilot.pause()
            if answer_ == "n":
                assert isinstance(app.screen, Composer)
                assert filed.conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)
        assert isinstance(app.screen, ReportScreen)

    drive(filed, script)
    assert len(questions) == 2
    assert "NOT forward-secret" in questions[0]
    ((name,),) = filed.conn.execute("SELECT envelope FROM replies").fetchall()
    header = read_header(io.BytesIO(outbox.envelope(filed, name)))
    (key,) = filed.conn.execute(
        "SELECT public_key FROM sources WHERE designation = ?", (source,)
    ).fetchone()
    assert header.version.number == 1  # to the codename key, as the reviewer chose
    assert [s.key_id for s in header.stanzas] == [PublicKey.from_text(key).fingerprint.key_id]
    assert audit.entries(filed)[-1].action == "reply"


@pytest.mark.parametrize("reorder", [True, False])
def test_the_composer_shows_urdu_as_the_report_view_does(filed: ws.Unlocked, reorder: bool) -> None:
    draft = f"{URDU}\nPlease say which police station."
    shown: list[list[str]] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(TextArea).text = draft
        await pilot.pause()
        (preview,) = app.screen.query("#preview").results(Prose)
        shown.append([line.text for line in preview.lines(100)])
        shown.append([line.text for line in Prose(draft, reorder=reorder).lines(100)])

    drive(filed, script, reorder=reorder)
    as_drawn, as_in_the_report_view = shown
    assert as_drawn == as_in_the_report_view
    assert as_drawn[0] == (bidi.visual(URDU) if reorder else URDU)


def test_an_attachment_is_exported_to_a_path_the_reviewer_types(
    filed: ws.Unlocked, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "ledger.txt"
    said: list[str] = []
    # An account the setup was not run for: its thumbnail cache keeps what viewers open.
    home = tmp_path / "home"
    (home / ".cache" / "thumbnails").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        screen = await open_report(pilot, 1)
        await pilot.press("w")
        await answer(pilot, str(workspace / "inside.txt"))
        said.append(str(screen.query_one(Message).render()))
        await pilot.press("w")
        await answer(pilot, str(out))
        said.append(str(screen.query_one(Message).render()))

    drive(filed, script)
    assert "the workspace holds no plaintext" in said[0]
    assert not (workspace / "inside.txt").exists()
    assert out.read_bytes() == b"attached ledger"
    assert said[1].startswith("wrote ledger.txt (15 bytes)")
    # Where the file stays readable after its removal, the line says so.
    assert ("is on a disk" in said[1]) is disk.on_disk(out)
    # The line names what a viewer of it keeps, as `report open` does (test_viewing.py).
    assert f"{home}/.cache/thumbnails" in " ".join(said[1].split()), said[1]
    assert audit.entries(filed)[-1].action == "open"


async def read_attachment(pilot: Pilot[None], which: str | None) -> AttachmentScreen:
    """Press o on the report, name the attachment (if asked), wait (bounded) until it is shown."""
    await pilot.press("o")
    await pilot.pause()
    if which is not None:
        await answer(pilot, which)
    screen = pilot.app.screen
    assert isinstance(screen, AttachmentScreen)
    await asyncio.wait_for(screen.ready.wait(), 40)  # a PDF's reader has 30 s
    await pilot.pause()
    return screen


def test_attachments_are_read_in_a_screen_of_their_own_and_each_reading_is_audited(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    ledger = "\n".join([CANARY, URDU, *(f"line {i}" for i in range(200))])
    files = [
        ("files", "doc.pdf", text_pdf([f"{CANARY} on page one", URDU]), "application/pdf"),
        ("files", "ledger.txt", ledger.encode(), "text/plain"),
        ("files", "p.png", png_with_text(), "image/png"),
    ]
    server.submit(ENGLISH, files)
    import_bundle(unlocked, server.export(tmp_path / "a.rzb"))
    before = {p for p, _ in all_bytes(tmp_path)}
    texts: dict[str, list[Prose]] = {}
    drawn: dict[str, list[str]] = {}
    scrolled: list[float] = []
    first_lines: dict[str, list[str]] = {}

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        for which in ("1", "2", "3"):
            screen = await read_attachment(pilot, which)
            texts[which] = list(screen.query(".text").results(Prose))
            first_lines[which] = [w.render_line(0).text for w in texts[which]]
            drawn[which] = [str(w.render()) for w in screen.query(".heading, .image")]
            if which == "2":  # a long text scrolls
                await pilot.press("end")
                await pilot.pause()
                scrolled.append(screen.query_one("#view").scroll_y)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ReportScreen)

    drive(unlocked, script)
    pages = texts["1"]
    assert [w.text.strip() for w in pages] == [f"{CANARY} on page one", URDU]
    assert "Page 1 of 2" in drawn["1"]
    assert "Page 2 of 2" in drawn["1"]
    assert any("\u2580" in d for d in drawn["1"])  # the pages drawn, as images are
    (urdu,) = [line for line in pages[1].lines(100) if line.text.strip()]
    assert urdu.rtl
    assert urdu.text == bidi.visual(URDU)  # as the report view lays Urdu out
    assert first_lines["1"][1].endswith(bidi.visual(URDU))  # right-aligned
    assert first_lines["1"][1].startswith(" ")
    (text,) = texts["2"]
    assert [line.text for line in text.lines(100)][:2] == [CANARY, bidi.visual(URDU)]
    assert scrolled[0] > 0
    assert texts["3"] == []
    assert any("\u2580" in d for d in drawn["3"])
    viewed = [e.detail for e in audit.entries(unlocked) if e.action == "view"]
    items = {a.index: a.item for a in reports.attachments(unlocked, 1)}
    assert viewed == [{"attachment": items[i]} for i in (1, 2, 3)]  # as `view` records it
    assert {p for p, _ in all_bytes(tmp_path)} - before <= {p for p, _ in all_bytes(workspace)}
    assert not [p for p, data in all_bytes(tmp_path) if CANARY.encode() in data]


def test_a_photo_read_in_the_ui_says_where_it_was_taken_and_on_which_phone(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    # The attack: the photo's GPS and the phone's serial reach the workstation unseen.
    server.submit(ENGLISH, [("files", "IMG_20261203_0915.jpg", camera_photo(), "image/jpeg")])
    import_bundle(unlocked, server.export(tmp_path / "a.rzb"))
    said: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        screen = await read_attachment(pilot, None)
        said.extend(str(w.render()) for w in screen.query(".heading, .note"))

    drive(unlocked, script)
    shown = " ".join(" ".join(said).split())
    assert "GPS position: 31.55600, 74.34400" in shown, "the UI says nothing of the GPS"
    assert f"camera serial number: {SERIAL}" in shown


def test_an_attachment_the_ui_cannot_show_is_a_message(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path
) -> None:
    server.submit(ENGLISH, [("files", "x.pdf", b"%PDF-1.4 garbage", "application/pdf")])
    import_bundle(unlocked, server.export(tmp_path / "a.rzb"))
    said: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        screen = await read_attachment(pilot, None)  # the only one: not asked which
        said.append(str(screen.query_one(Message).render()))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)

    drive(unlocked, script)
    assert said[0].startswith("error: the PDF is damaged")
    assert "hint:" in said[0]


def test_a_long_pdf_shows_its_first_pages_and_says_how_to_read_the_others(
    server: Server, unlocked: ws.Unlocked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five pages shown, not the screen's fifty: the same rule, without drawing fifty
    # pages, which at a load of 13 outlasted the test pilot's 30 s for pending messages.
    shown = 5
    assert shown < PAGES
    monkeypatch.setattr(attachment, "PAGES", shown)
    server.submit(ENGLISH, [("files", "long.pdf", blank_pages(shown + 10), "application/pdf")])
    import_bundle(unlocked, server.export(tmp_path / "a.rzb"))
    notes: list[str] = []
    headings: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        screen = await read_attachment(pilot, None)
        headings.extend(str(w.render()) for w in screen.query(".heading"))
        notes.extend(str(w.render()) for w in screen.query(".note"))

    drive(unlocked, script)
    assert headings[0] == f"Page 1 of {shown + 10}"
    assert headings[-1] == f"Page {shown} of {shown + 10}"
    assert f"pages 1 to {shown} of {shown + 10} shown" in notes[-1]
    assert "--pages" in notes[-1]


def test_nothing_readable_is_left_in_the_workspace_or_beside_it(
    server: Server,
    unlocked: ws.Unlocked,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.submit(f"message {CANARY} {URDU_CANARY}")
    import_bundle(unlocked, server.export(tmp_path / "e.rzb"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # where a screenshot or a log would land

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        await pilot.press("c")
        await answer(pilot, f"category-{CANARY}")
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one(TextArea).text = f"note {CANARY} {URDU_CANARY}"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(TextArea).text = f"reply {CANARY} {URDU_CANARY}"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        app.action_screenshot()
        await pilot.pause()

    drive(unlocked, script)
    output = review(workspace, "show", "1").output
    assert output.count(CANARY) == 4  # message, category, note and reply: all there, unlocked
    assert list(cwd.iterdir()) == []
    needles = [CANARY.encode(), URDU_CANARY.encode("utf-8"), CANARY.encode("utf-16-le")]
    for path, data in all_bytes(workspace):
        for needle in needles:
            assert needle not in data, (path, needle)


def test_the_tui_command_unlocks_before_it_starts(
    filed: ws.Unlocked, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[str, bool]] = []
    monkeypatch.setenv("TEXTUAL_SCREENSHOT", "0")

    def run(app: ReviewApp) -> None:
        started.append((app.unlocked.reviewer, app.reorder))

    monkeypatch.setattr(ReviewApp, "run", run)
    assert review(workspace, "tui", passphrase="wrong").exit_code == 1
    assert started == []
    result = review(workspace, "tui", "--rtl", "logical")
    assert result.exit_code == 0, result.output
    assert started == [("demo-reviewer", False)]
    assert "TEXTUAL_SCREENSHOT" not in os.environ


def test_the_escalation_builder_redacts_what_is_checked_and_builds_a_packet(
    server: Server, filed: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    # "!!!": a mark of its writer's hand, which the command line warns of; the builder
    # said nothing of it.
    server.submit(f"SHO Rana Tariq sold a girl to an agent!!! Her brother's phone is {PHONE}")
    import_bundle(filed, server.export(tmp_path / "4.rzb"))
    triage.set_status(filed, 4, "in-review")
    body = KeyPair.generate()
    assert body.encryption_public is not None
    bodies.add_body(
        filed,
        name="Anti-Trafficking Cell",
        jurisdiction="Punjab",
        contact="By hand",
        encryption_key=body.encryption_public,
        signing_key=None,
    )
    out = tmp_path / "packet.rzp"
    said: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 4)
        await pilot.press("e")
        await pilot.pause()
        builder = app.screen
        assert isinstance(builder, EscalationBuilder)
        builder.query_one(TextArea).text = "A source says SHO Rana Tariq sold a girl."
        builder.query_one("#out", Input).value = str(out)
        await pilot.press("ctrl+s")  # lists the suggestions
        await pilot.pause()
        kinds = {kind for kind, _key in builder.shown}
        assert {"person", "phone"} <= kinds
        person = next(key for key in builder.shown if key[0] == "person")
        builder.query_one("#redactions", SelectionList).deselect(person)  # an official: kept
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        said.append(str(app.screen.query_one(Message).render()))

    drive(filed, script)
    assert said[0].startswith("escalation 1:")
    assert "Warning: Report 1's words carry marks of its writer's hand" in said[0], said[0]
    (esc,) = escalation.list_escalations(filed)
    assert (esc.record.reports, esc.record.state) == ([4], "sent")
    text = out.read_bytes()
    assert PHONE.encode() not in text  # sealed to the body: nothing readable in it at all
    _sealed, content = escalation.packet(filed, esc)
    document = json.dumps(content.document, ensure_ascii=False)
    assert PHONE not in document
    assert "Rana Tariq" in document
    assert "status: escalated" in review(workspace, "show", "4").output
    assert "escalate" in [e.action for e in audit.entries(filed)]
    assert audit.verify(ws.Workspace.open(workspace)).ok


def test_the_escalation_builder_says_when_no_body_is_registered(filed: ws.Unlocked) -> None:
    said: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 1)
        await pilot.press("e")
        await pilot.pause()
        said.append(str(app.screen.query_one(Message).render()))

    drive(filed, script)
    assert "no escalation body is registered" in said[0]


def _name_in(u: ws.Unlocked, num: int, found: list[tuple[str, str, str]]) -> None:
    """Give a report these entities (kind, key, as written), sealed as extraction stores them."""
    record = records.Record(
        found=[{"kind": k, "key": key, "texts": [t], "designations": []} for k, key, t in found]
    )
    sealed = u.key.seal_record(record.encode(), records.entities_context(num))
    u.conn.execute(
        "INSERT INTO report_entities VALUES (?, ?) ON CONFLICT(report) DO UPDATE"
        " SET sealed = excluded.sealed",
        (num, sealed),
    )


def test_weak_links_are_read_and_decided_from_the_inbox_after_asking(
    filed: ws.Unlocked,
) -> None:
    # Reports 1 and 2 (two sources) share a common name and a bare station: two weak links.
    _name_in(
        filed,
        1,
        [
            ("person", "muhammad ali", "SHO Muhammad Ali"),
            ("police_station", "saddar", "Thana Saddar"),
        ],
    )
    _name_in(
        filed,
        2,
        [("person", "muhammad ali", "محمد علی"), ("police_station", "saddar", "تھانہ صدر")],
    )
    _name_in(filed, 3, [])
    seen: dict[str, object] = {}

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, PendingLinks)
        table = app.screen.query_one("#pending", DataTable)
        seen["rows"] = [str(table.get_row_at(r)[0]) for r in range(table.row_count)]
        await pilot.press("2")  # the second report of the first link, to read it
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        seen["opened"] = app.screen.num
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")  # asks first; "n" leaves the link as it was
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await pilot.pause()
        seen["declined"] = app.screen.query_one(Message).render()
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        seen["confirmed"] = str(app.screen.query_one(Message).render())
        seen["left"] = [str(table.get_row_at(r)[0]) for r in range(table.row_count)]
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        seen["after"] = table.row_count
        seen["last"] = str(app.screen.query_one(Message).render())

    drive(filed, script)
    assert seen["rows"] == ["person: SHO Muhammad Ali", "police_station: Thana Saddar"]
    assert seen["opened"] == 2
    assert "nothing decided" in str(seen["declined"])
    assert seen["confirmed"] == "reports 1 and 2: link on person 'SHO Muhammad Ali' confirmed"
    assert seen["left"] == ["police_station: Thana Saddar"]
    assert seen["after"] == 0
    assert seen["last"] == "reports 1 and 2: link on police_station 'Thana Saddar' rejected"
    corpus = Corpus.load(filed)
    assert corpus.related(1).links[2].level == "confirmed"
    actions = [(e.action, e.target, e.detail) for e in audit.entries(filed)[-2:]]
    assert actions == [
        ("link-confirm", 1, {"other": 2, "kind": "person", "key": "muhammad ali"}),
        ("link-reject", 1, {"other": 2, "kind": "police_station", "key": "saddar"}),
    ]


def test_the_weak_links_screen_says_when_none_is_waiting(filed: ws.Unlocked) -> None:
    seen: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await pilot.pause()
        seen.append(str(app.screen.query_one(Message).render()))
        await pilot.press("y")  # nothing under the cursor: nothing asked, nothing decided
        await pilot.pause()
        seen.append(type(app.screen).__name__)

    drive(filed, script)
    assert seen == ["no weak link is waiting for a reviewer's word", "PendingLinks"]


def test_a_weak_short_form_waits_and_is_confirmed_as_its_report_writes_it(
    filed: ws.Unlocked,
) -> None:
    # A bare "چانڈیو" in report 2, the full name in report 1 (two sources): a weak short form.
    kasur = ("district", "kasur", "Kasur")  # short forms link only reports of one place
    _name_in(filed, 1, [("person", "mumtaz ali chandio", "Mumtaz Ali Chandio"), kasur])
    _name_in(filed, 2, [("person", "chandio", "چانڈیو"), kasur])
    _name_in(filed, 3, [])
    seen: dict[str, object] = {}

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await pilot.pause()
        table = app.screen.query_one("#pending", DataTable)
        seen["rows"] = [
            (str(table.get_row_at(r)[0]), str(table.get_row_at(r)[1]))
            for r in range(table.row_count)
        ]
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        seen["after"] = table.row_count

    drive(filed, script)
    assert seen["rows"] == [("person: Mumtaz Ali Chandio (a short form)", "#2 - #1")]
    assert seen["after"] == 0
    evidence = Corpus.load(filed).related(1).links[2].evidence
    assert {(e.key, e.state) for e in evidence} == {
        ("chandio < mumtaz ali chandio", "confirmed"),
        ("kasur", "context"),
    }
    entry = audit.entries(filed)[-1]
    assert (entry.action, entry.detail) == (
        "link-confirm",
        {"other": 2, "kind": "person", "key": "chandio < mumtaz ali chandio"},
    )


@pytest.mark.parametrize("reorder", [True, False])
def test_the_confirm_question_shows_an_urdu_name_in_the_order_the_terminal_needs(
    filed: ws.Unlocked, reorder: bool
) -> None:
    # Both reports write the name only in Urdu: the entity's name is Urdu, asked about.
    name = ("person", "muhammad ali", "محمد علی")
    _name_in(filed, 1, [name])
    _name_in(filed, 2, [name])
    _name_in(filed, 3, [])
    asked: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        asked.extend(str(strip.text) for strip in _drawn(app.screen))
        await pilot.press("n")
        await pilot.pause()

    drive(filed, script, reorder=reorder)
    drawn = " ".join(asked)
    typed, visual = "محمد علی", bidi.visual("محمد علی")
    assert typed != visual
    # Laid out for a terminal without bidi, or left to one that has it (`--rtl logical`).
    assert (visual in drawn, typed in drawn) == (reorder, not reorder), drawn
    assert "Reports 1 and 2 name the same" in drawn


def _drawn(screen: Confirm) -> list[Strip]:
    """The lines of a dialog's question as drawn on the terminal."""
    for prose in screen.query(Prose).results(Prose):
        return [prose.render_line(y) for y in range(prose.size.height)]
    (label, _hint) = screen.query(Label).results(Label)
    return [Strip([Segment(str(label.render()))])]


# A record's language, written to pass as a reviewer's note under a heading of the UI's own.
SPOOFED_LANGUAGE = "en)\nNote by demo-reviewer, 2026-12-01 10:00 (\u202e"


def test_a_records_language_cannot_draw_a_heading_of_its_own(
    server: Server, unlocked: ws.Unlocked, workspace: Path, tmp_path: Path
) -> None:
    # The attack: a source seals a report whose "language" breaks the Message heading
    # into a second bold heading, a note by a reviewer, and the message reads as its text.
    record = json.dumps(
        {"fields": {}, "format": 1, "language": SPOOFED_LANGUAGE, "message": "Verified."}
    ).encode()
    import_bundle(unlocked, sources_bundle(server, tmp_path, {"Hostile Crow": record}))
    headings: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        screen = await open_report(pilot, 1)
        headings.extend(str(w.render()) for w in screen.query(".heading"))

    drive(unlocked, script)
    assert headings, "the report shows no heading"
    assert not any("\n" in h or "Note by" in h or "\u202e" in h for h in headings), headings
    shown = review(workspace, "show", "1").output
    assert not any(line.startswith("Note by") for line in shown.splitlines()), shown
    assert "Verified." in shown  # what the source sent is still shown


def test_a_note_saved_after_another_process_rewrapped_is_sealed_under_the_new_key(
    filed: ws.Unlocked, workspace: Path
) -> None:
    """The UI stays open while an administrator's `keys rewrap` re-seals the workspace under a
    new key (and the old one is kept only sealed): what it writes must not go under the old key."""
    said: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        other = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _: DEMO_PASSPHRASE)
        try:
            rewrap(other)
        finally:
            other.workspace.close()
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one(TextArea).text = f"Written after the rewrap {CANARY}"
        await pilot.press("ctrl+s")
        await pilot.pause()
        said.append(str(app.screen.query_one(Message).content))

    drive(filed, script)
    shown = review(workspace, "show", "2")
    assert shown.exit_code == 0, f"the workspace no longer reads: {shown.output}"
    assert f"Written after the rewrap {CANARY}" in shown.output, said
    assert review(workspace, "audit", "verify").exit_code == 0


def _composer_question(filed: ws.Unlocked) -> list[str]:
    """Write a reply to report 2 in the UI and save it; answer no to the question asked
    before sealing (the draft stays in the composer). The question, in a list."""
    asked: list[str] = []

    async def script(app: ReviewApp, pilot: Pilot[None]) -> None:
        await open_report(pilot, 2)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(TextArea).text = "Please say which police station."
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        asked.append(app.screen.question)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, Composer)

    drive(filed, script)
    return asked


def test_the_reply_composer_warns_before_sealing_when_the_clock_lags_the_servers_days(
    filed: ws.Unlocked, workspace: Path
) -> None:
    """As `raazdar-review reply` does: a reply is sealed as written on this clock's day."""
    today = dt.datetime.now(dt.UTC).date()
    ahead = today + dt.timedelta(days=40)
    with filed.conn:
        filed.conn.execute("UPDATE bundles SET created = ?", (ahead.isoformat(),))
    # Set the clock first: the draft stays.
    asked = _composer_question(filed)
    assert (
        f"this workstation's clock says {today} (UTC), before {ahead}, the day the server made "
        "the newest export bundle imported here" in asked[0]
    ), asked
    assert "set this workstation's clock" in asked[0]
    assert filed.conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)


def test_the_reply_composer_warns_before_sealing_when_another_source_holds_the_reply_key(
    filed: ws.Unlocked, workspace: Path
) -> None:
    """As `raazdar-review reply` does: a reply to either may reach the other's codename."""
    with filed.conn:
        # As an import of a server's report under a new designation with this source's key.
        filed.conn.execute(
            "INSERT INTO sources (designation, public_key) SELECT 'Bright Lantern', public_key"
            " FROM sources WHERE designation = (SELECT source FROM reports WHERE num = 2)"
        )
        head.put(filed.conn, filed.key)  # as the importer does: the sources are under its tag
    asked = _composer_question(filed)
    assert "shares their reply key with source(s) Bright Lantern" in asked[0], asked
    assert filed.conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)


class _Clock:
    """The UI's clocks, moved by the test: minutes pass without the test waiting them.

    `awake` is what CLOCK_MONOTONIC counts, `now` what CLOCK_BOOTTIME counts: the time
    a suspended machine slept is in the second only.
    """

    CLOCK_BOOTTIME = time.CLOCK_BOOTTIME

    def __init__(self) -> None:
        self.now = self.awake = 1000.0

    def monotonic(self) -> float:
        return self.awake

    def clock_gettime(self, clock: int) -> float:
        assert clock == time.CLOCK_BOOTTIME
        return self.now

    def passes(self, seconds: float, *, asleep: bool = False) -> None:
        self.now += seconds
        self.awake += 0 if asleep else seconds


def _left_unattended(
    u: ws.Unlocked,
    keys: tuple[str, ...],
    clock: _Clock | None = None,
    idle: float = 0.0,
    *,
    asleep: bool = False,
) -> tuple[ReviewApp, bool]:
    """Open report 1, press `keys`, let `idle` seconds pass untouched: is the report still shown?"""

    async def main() -> tuple[ReviewApp, bool]:
        app = ReviewApp(u)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await open_report(pilot, 1)
            await pilot.press(*keys)
            if clock is not None:
                clock.passes(idle, asleep=asleep)
                await asyncio.sleep(0.5)  # two of the UI's looks at its clock
            await pilot.pause()
            shown = app.is_running and isinstance(app.screen, ReportScreen)
            if app.is_running:
                await app.action_quit()
        return app, shown

    return asyncio.run(main())


def test_the_ui_left_alone_locks_itself(
    filed: ws.Unlocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reviewer led away from the workstation leaves the UI open on a report.
    clock = _Clock()
    monkeypatch.setattr("review.tui.app.time", clock, raising=False)
    monkeypatch.setattr("review.tui.app.IDLE_LOCK_SECONDS", 1.0, raising=False)
    app, shown = _left_unattended(filed, (), clock, 0.9)
    assert shown, "the UI locked before its idle limit"
    app, shown = _left_unattended(filed, (), clock, 1.0)
    assert not shown, "the UI left alone for its idle limit still shows report 1"
    assert app.locked == "idle for 0.0166667 minute(s)"


def test_a_ui_left_open_on_a_machine_put_to_sleep_locks_when_it_wakes(
    filed: ws.Unlocked, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lid is shut on the open UI; whoever opens it an hour later finds it as it was.
    clock = _Clock()
    monkeypatch.setattr("review.tui.app.time", clock, raising=False)
    monkeypatch.setattr("review.tui.app.IDLE_LOCK_SECONDS", 1.0, raising=False)
    app, shown = _left_unattended(filed, (), clock, 3600, asleep=True)
    assert not shown, "the UI on a machine woken after an hour asleep still shows report 1"
    assert app.locked is not None


def test_the_lock_key_closes_the_ui_at_once(filed: ws.Unlocked) -> None:
    app, shown = _left_unattended(filed, ("ctrl+l",))
    assert not shown, "ctrl+l left report 1 on the screen"
    assert app.locked == "locked with ctrl+l"


def test_the_tui_command_says_the_ui_locked_and_takes_an_idle_limit(
    filed: ws.Unlocked, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits: list[float] = []

    def run(app: ReviewApp) -> None:
        limits.append(app.idle_lock)
        app.locked = "locked with ctrl+l"

    monkeypatch.setattr(ReviewApp, "run", run)
    result = review(workspace, "tui", "--idle-lock", "2")
    assert result.exit_code == 0, result.output
    assert limits == [120]
    assert "locked with ctrl+l: the workspace is closed" in result.output
    assert review(workspace, "tui", "--idle-lock", "0").exit_code == 2


def test_a_fault_in_the_ui_prints_no_report_text_as_it_ends(unlocked: ws.Unlocked) -> None:
    """The attack: a fault in the UI while it draws a report (an exception whose message
    holds the report's words, as a markup error's does). Textual prints the traceback and
    its message on the normal screen as the UI ends, for the scrollback to keep."""
    from rich.console import Console

    app = ReviewApp(unlocked)
    try:
        raise ValueError(f"closing tag '[/b]' does not match in {CANARY}")
    except ValueError:
        app._fatal_error()
    printed = io.StringIO()
    console = Console(file=printed, width=100)
    for renderable in app._exit_renderables:
        console.print(renderable)
    assert CANARY not in printed.getvalue(), "the UI's fault drew the report's words as it ended"
    assert "ValueError" in printed.getvalue()
