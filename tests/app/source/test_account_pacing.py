"""A Tor circuit makes one new account a minute in a browser too, and a source told to wait
loses nothing of what they wrote."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import circuits, kdf_pool, report_pacing
from app.models import Item, Source
from app.settings import set_setting
from app.worker_reads import PREEMPTED_RETRY_AFTER, BodyPreempted, _paced
from tests.app.source.test_source_flow import FILES, MESSAGE
from tests.app.support import (
    FilePart,
    Form,
    Visitor,
    assert_form_given_back,
    db_session,
    form,
    free_blocks,
    install_successor,
    message_box,
    multipart,
    new_reviewer,
    refusal_said,
    row_counts,
    shown_codename,
    staging_files,
)
from tests.app.test_kdf_pool import SLOTS, all_slots_taken

# Read in several blocks, so that something can happen while it streams in.
LARGE: FilePart = ("files", "video.mp4", bytes(range(256)) * 12_000, "video/mp4")
CHOICES: dict[str, str | list[str]] = {"district": "Saddar, Karachi"}


def _visitor(app: Flask) -> Visitor:
    """A new browser: its own cookies, its own codename."""
    return Visitor(app.test_client())


def _report_page(app: Flask, first: bool) -> tuple[Visitor, Form]:
    """A source's report form: a first report's, or (signed in after one) a later one's."""
    visitor = _visitor(app)
    page = visitor.start()
    if not first:
        visitor.filed(visitor.send(page, "an earlier report"))
        page = form(visitor.get("/account"), "/account")
    return visitor, page


def _new_account(app: Flask, files: list[FilePart] | None = None) -> tuple[Visitor, str, int]:
    visitor = _visitor(app)
    page = visitor.start()
    response = visitor.send(page, MESSAGE, files or [], CHOICES)
    return visitor, page.fields["codename"], response.status_code


def test_one_circuit_makes_one_browser_account_a_minute(
    app: Flask, on_circuit: Callable[[int | None], None]
) -> None:
    """Each browser account keeps a row and one of the designations for a year: one
    circuit making one per request would, in time, leave none for anyone."""
    on_circuit(31)
    made = [_new_account(app)[2] for _ in range(5)]
    assert made == [200] + [503] * 4, "one circuit made an account per request"
    assert row_counts(app, Source)["sources"] == 1
    # Another circuit is not held back, nor tor-unnamed requests.
    on_circuit(32)
    assert _new_account(app)[2] == 200
    on_circuit(None)
    assert _new_account(app)[2] == 200


def test_a_source_told_to_wait_keeps_their_words_and_codename_and_is_told_of_their_files(
    app: Flask,
    instance: Path,
    client: FlaskClient,
    on_circuit: Callable[[int | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_circuit(33)
    assert _new_account(app)[2] == 200  # someone else on the circuit, a moment ago
    visitor = Visitor(client)
    client.get("/lang/en")  # the words below are read in English
    page = visitor.start()
    response = visitor.send(page, MESSAGE, FILES, CHOICES)
    assert response.status_code == 503, "a second account was made on the circuit"
    assert 0 < int(response.headers["Retry-After"]) <= circuits.ACCOUNT_SPACING_SECONDS
    shown = response.get_data(as_text=True)
    # The same form, filled as it was sent: the words, the choices, the same codename.
    assert message_box(shown) == MESSAGE.replace("\r\n", "\n")
    assert 'value="Saddar, Karachi"' in shown
    assert shown_codename(shown) == page.fields["codename"]
    again = form(shown, "/submit")
    assert again.fields["codename"] == page.fields["codename"]
    # Said calmly and plainly: nothing was stored, wait, send again; which files to attach.
    refusal = refusal_said(shown)
    assert "nothing was stored" in refusal
    assert "minute" in refusal
    for _field, name, _data, _type in FILES:
        assert name in refusal, f"{name} was dropped without a word"
    # And nothing of it was kept.
    assert row_counts(app, Source, Item) == {"sources": 1, "items": 1}
    assert staging_files(instance) == []
    # A minute later, the form as it came back is sent again, files attached again.
    later = time.monotonic_ns() + circuits.ACCOUNT_SPACING_SECONDS * 10**9
    monkeypatch.setattr(circuits, "_now", lambda: later)
    sent = visitor.send(again, message_box(shown), FILES, CHOICES)
    visitor.filed(sent)
    assert row_counts(app, Source, Item) == {"sources": 2, "items": 1 + 1 + len(FILES)}
    back = _visitor(app)
    assert back.logs_in(page.fields["codename"])


def test_a_busy_derivation_pool_gives_the_form_back_too(
    make_app: Callable[..., Flask], instance: Path
) -> None:
    """Every derivation slot taken (a flood of logins): the first report is not lost either."""
    app = make_app(KDF_SLOTS=SLOTS, KDF_WAIT_SECONDS=0.3)
    visitor = _visitor(app)
    page = visitor.start()
    odd: FilePart = ("files", "<b>bold.txt", b"a file name is the source's own text", "text/plain")
    with all_slots_taken(instance):
        response = visitor.send(page, MESSAGE, [FILES[0], odd], CHOICES)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(kdf_pool.RETRY_AFTER_SECONDS)
    shown = response.get_data(as_text=True)
    assert message_box(shown) == MESSAGE.replace("\r\n", "\n"), "what the source wrote was lost"
    assert shown_codename(shown) == page.fields["codename"]
    assert FILES[0][1] in refusal_said(shown)
    assert "&lt;b&gt;bold.txt" in shown  # a name is shown as text, never as markup
    assert row_counts(app, Source, Item) == {"sources": 0, "items": 0}
    assert staging_files(instance) == []
    # The slots free, the form as it came back files the report under the same codename.
    visitor.filed(visitor.send(form(shown, "/submit"), message_box(shown), [FILES[0]]))
    assert _visitor(app).logs_in(page.fields["codename"])


class _NewKeyringMidway(io.BytesIO):
    """A form's body during whose upload an administrator installs a new keyring."""

    def __init__(self, body: bytes, instance: Path) -> None:
        super().__init__(body)
        self.instance, self.installed = instance, False

    def _halfway(self) -> None:
        if not self.installed and self.tell() > len(self.getvalue()) // 2:
            install_successor(self.instance, [new_reviewer()[1]])
            self.installed = True

    def read(self, size: int | None = -1) -> bytes:
        self._halfway()
        return super().read(size)

    def read1(self, size: int | None = -1) -> bytes:
        self._halfway()
        return super().read1(size)

    def readinto(self, buffer: Any) -> int:
        self._halfway()
        return super().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._halfway()
        return super().readline(size)


def _send_during_a_new_keyring(visitor: Visitor, page: Form, instance: Path) -> TestResponse:
    fields = [*page.fields.items(), ("message", MESSAGE)]
    body, content_type = multipart(fields, [*FILES, LARGE])
    stream = _NewKeyringMidway(body, instance)
    response = visitor.client.post(
        page.action,
        input_stream=stream,
        content_type=content_type,
        environ_overrides={"CONTENT_LENGTH": str(len(body))},
    )
    assert stream.installed
    return response


@pytest.mark.parametrize("first", [True, False], ids=["first-report", "signed-in"])
def test_a_keyring_changed_during_the_upload_gives_the_form_back(
    app: Flask, instance: Path, first: bool
) -> None:
    """Files sealed to the keyring of the upload's start are refused once another is in
    force: the source is told to send again, and what they wrote is still on the page."""
    visitor, page = _report_page(app, first)
    before = row_counts(app, Source, Item)
    response = _send_during_a_new_keyring(visitor, page, instance)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    shown = response.get_data(as_text=True)
    assert message_box(shown) == MESSAGE.replace("\r\n", "\n"), "what the source wrote was lost"
    for _field, name, _data, _type in [*FILES, LARGE]:
        assert name in refusal_said(shown)
    assert row_counts(app, Source, Item) == before
    assert staging_files(instance) == []


def _a_late_read() -> BaseException:
    """What the worker's socket raises to the app's read of a body that fell behind its
    least rate (`app.worker_reads.PacedSocket`): its read waits, and nothing more comes."""
    ours, theirs = socket.socketpair()
    paced = _paced(ours)
    try:
        paced.start_body()
        paced.body_deadline = time.monotonic() + 0.05
        paced.recv(1)
    except BaseException as exc:
        return exc
    finally:
        paced.close()
        theirs.close()
    raise AssertionError("a body behind its deadline was read on")


class _PreemptedMidway(io.BytesIO):
    """A report's body whose reading the worker pre-empts halfway (`app.worker_turns._victim`),
    or after `cut` bytes: no read goes past it (what is raised there: `stop`)."""

    def __init__(
        self, data: bytes, cut: int | None = None, stop: Callable[[], BaseException] = BodyPreempted
    ) -> None:
        super().__init__(data)
        self.cut = len(data) // 2 if cut is None else cut
        self.stop = stop

    def _left(self, size: int | None) -> int:
        left = self.cut - self.tell()
        if left <= 0:
            raise self.stop()
        return left if size is None or size < 0 else min(size, left)

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self._left(size))

    def read1(self, size: int | None = -1) -> bytes:
        return super().read1(self._left(size))

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        return super().readinto(view[: self._left(len(view))])

    def readline(self, size: int | None = -1) -> bytes:
        return super().readline(self._left(size))


@pytest.mark.parametrize("first", [True, False], ids=["first-report", "signed-in"])
def test_a_report_pre_empted_while_it_streams_in_gives_the_form_back(
    app: Flask, instance: Path, first: bool
) -> None:
    """While every thread is busy, the worker gives the thread of a body slower than 4 KiB/s
    to a circuit holding none: a source on a bad phone sending a photo beside a flood got
    the busy page in the form's place, and Back refills no form (autocomplete is off).
    The report's form comes back, what they wrote in it, and the files named to attach."""
    visitor, page = _report_page(app, first)
    before = row_counts(app, Source, Item)
    body, content_type = multipart([*page.fields.items(), ("message", MESSAGE)], [*FILES, LARGE])
    response = visitor.client.post(
        page.action,
        input_stream=_PreemptedMidway(body),
        content_type=content_type,
        environ_overrides={"CONTENT_LENGTH": str(len(body))},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(PREEMPTED_RETRY_AFTER)
    shown = response.get_data(as_text=True)
    assert message_box(shown) == MESSAGE.replace("\r\n", "\n"), (
        "the pre-empted report's form was not given back: what the source wrote was lost"
    )
    for _field, name, _data, _type in [*FILES, LARGE]:
        assert name in refusal_said(shown)
    if first:
        assert page.fields["codename"] in shown, "the codename offered was not kept"
    assert row_counts(app, Source, Item) == before
    assert staging_files(instance) == []


@pytest.mark.parametrize("first", [True, False], ids=["first-report", "signed-in"])
def test_a_report_whose_body_fell_behind_gives_the_form_back(
    app: Flask, instance: Path, first: bool
) -> None:
    """A body that falls behind 500 bytes a second (a phone losing its signal midway through
    a photo) is cut off by the worker: the source got a bare 408 page in the form's place,
    and Back refills no form. Its message came whole first: the form goes back with it."""
    visitor, page = _report_page(app, first)
    before = row_counts(app, Source, Item)
    body, content_type = multipart([*page.fields.items(), ("message", MESSAGE)], [*FILES, LARGE])
    response = visitor.client.post(
        page.action,
        input_stream=_PreemptedMidway(body, stop=_a_late_read),
        content_type=content_type,
        environ_overrides={"CONTENT_LENGTH": str(len(body))},
    )
    shown = response.get_data(as_text=True)
    lost = "the form of a report whose body fell behind was not given back: what was written"
    assert 'name="message"' in shown, lost
    assert message_box(shown) == MESSAGE.replace("\r\n", "\n"), lost
    assert response.status_code == 408
    for _field, name, _data, _type in [*FILES, LARGE]:
        assert name in refusal_said(shown)
    if first:
        assert page.fields["codename"] in shown, "the codename offered was not kept"
    assert row_counts(app, Source, Item) == before
    assert staging_files(instance) == []


def test_a_report_pre_empted_before_its_message_came_whole_files_nothing(
    app: Flask, instance: Path
) -> None:
    """What came of a form cut short before its message is no report: nothing of it is
    filed, and the busy page says to send it again."""
    visitor = _visitor(app)
    page = visitor.start()
    before = row_counts(app, Source, Item)
    body, content_type = multipart([*page.fields.items(), ("message", MESSAGE)], [*FILES])
    response = visitor.client.post(
        page.action,
        input_stream=_PreemptedMidway(body, body.index(MESSAGE.encode()[:8])),
        content_type=content_type,
        environ_overrides={"CONTENT_LENGTH": str(len(body))},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(PREEMPTED_RETRY_AFTER)
    assert 'name="message"' not in response.get_data(as_text=True)
    assert row_counts(app, Source, Item) == before
    assert staging_files(instance) == []


MIB = 1024 * 1024
# Just under the upload limit of 1 MiB the tests below set: a phone's video, cut to fit.
NEAR_LIMIT: FilePart = ("files", "clip.mp4", bytes(range(256)) * 3_800, "video/mp4")


def _signed_in_with_a_one_mib_limit(app: Flask) -> tuple[Visitor, Form]:
    """A source who filed a first report, on a server taking 1 MiB a report; the account form."""
    with db_session(app) as session:
        set_setting(session, "upload_limit_mib", 1)
        session.commit()
    visitor = _visitor(app)
    visitor.filed(visitor.send(visitor.start(), "a first report"))
    return visitor, form(visitor.get("/account"), "/account")


def test_one_session_cannot_fill_the_disk_with_later_reports(
    app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first report is paced by its circuit's new account; a signed-in source's later ones
    were paced by nothing: one session (or its stolen cookie) stored report after report at
    the upload limit, as fast as it could send them. Now an account stores two upload limits
    at once and one more a minute, and a report told to wait loses nothing of its words."""
    visitor, _page = _signed_in_with_a_one_mib_limit(app)
    before = row_counts(app, Item)["items"]
    answers = [
        visitor.send(form(visitor.get("/account"), "/account"), MESSAGE, [NEAR_LIMIT])
        for _ in range(5)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 503, 503, 503], f"one session filed {statuses.count(200)} of 5"
    assert row_counts(app, Item)["items"] == before + 2 * 2
    assert staging_files(instance) == []
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 2 * circuits.ACCOUNT_SPACING_SECONDS
    shown = refused.get_data(as_text=True)
    assert message_box(shown) == MESSAGE.replace("\r\n", "\n"), "what the source wrote was lost"
    assert NEAR_LIMIT[1] in refusal_said(shown)
    # Another account is not held back; this one, a minute on, files one more.
    other, other_page = _signed_in_with_a_one_mib_limit(app)
    other.filed(other.send(other_page, MESSAGE, [NEAR_LIMIT]))
    later = time.monotonic_ns() + circuits.ACCOUNT_SPACING_SECONDS * 10**9
    monkeypatch.setattr(report_pacing, "_now", lambda: later)
    visitor.filed(visitor.send(form(shown, "/account"), MESSAGE, [NEAR_LIMIT]))


def test_later_reports_leave_the_space_kept_for_first_reports(
    app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last twentieth of the store's space is kept for arrivals; API uploads stop short
    of it, but a signed-in browser's later reports took it too, and a flood of them left no
    room for a new source's first report. Now they stop short of it as well."""
    visitor, page = _signed_in_with_a_one_mib_limit(app)
    free_blocks(monkeypatch, 100_000, 100_000 // 20)  # 400 MB; the 20 MB kept free, no more
    before = row_counts(app, Source, Item)
    refused = visitor.send(page, MESSAGE, [NEAR_LIMIT])
    assert refused.status_code == 503, "a later report took the space kept for first reports"
    assert message_box(refused.get_data(as_text=True)) == MESSAGE.replace("\r\n", "\n")
    assert row_counts(app, Source, Item) == before
    assert staging_files(instance) == []
    # A new source's first report still arrives.
    assert _new_account(app, [NEAR_LIMIT])[2] == 200


def test_a_flood_of_first_reports_leaves_the_last_hundredth_to_the_database(
    app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First reports are paced by circuit alone, and with many circuits they took the disk to
    its last byte: the database beside the store (SQLite's default) could then write no login
    or session, and every source, new or returning, was locked out until staff freed space.
    Now no source's report or file is staged into the last hundredth of the disk: the report
    is refused with its form given back, as on a full disk, and the database keeps room."""
    _returning, codename, _status = _new_account(app)
    blocks = 100_000
    free_blocks(monkeypatch, blocks, blocks // 100)  # the last hundredth, no more
    before = row_counts(app, Source, Item)
    visitor = _visitor(app)
    page = visitor.start()
    refused = visitor.send(page, MESSAGE, [NEAR_LIMIT], CHOICES)
    assert refused.status_code == 503, "a first report was stored in the last hundredth"
    assert_form_given_back(refused, MESSAGE.replace("\r\n", "\n"), NEAR_LIMIT[1])
    assert shown_codename(refused.get_data(as_text=True)) == page.fields["codename"]
    assert row_counts(app, Source, Item) == before
    assert staging_files(instance) == []
    # A returning source still signs in (a session row) with the database's room.
    assert _visitor(app).logs_in(codename)
    # Four files' worth above it, the form sent again arrives: only the last hundredth is kept.
    free_blocks(monkeypatch, blocks, blocks // 100 + 4 * 1024)
    visitor.filed(
        visitor.send(
            form(refused.get_data(as_text=True), "/submit"), MESSAGE, [NEAR_LIMIT], CHOICES
        )
    )


def test_a_flood_of_first_reports_leaves_a_returning_source_room_for_words(
    app: Flask, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First reports (many circuits, one account a minute each) may take the disk down to its
    last hundredth, and a signed-in source's later report stopped at the last twentieth: past
    it, a source a reviewer had asked a question could not answer it while the flood lasted.
    Now a later report of words alone, no file, is still filed there, one a minute an
    account (each costs its account a whole upload limit), and files still wait."""
    visitor, page = _report_page(app, first=False)
    free_blocks(monkeypatch, 100_000, 100_000 // 40)  # past the twentieth, above the floor
    before = row_counts(app, Item)["items"]
    answer = visitor.send(page, "The ASI named in my report was transferred yesterday.")
    assert answer.status_code == 200, "a returning source's words were refused in the flood"
    visitor.filed(answer)
    assert row_counts(app, Item)["items"] == before + 1
    # A file still waits for the space to come back, its words given back.
    refused = visitor.send(form(visitor.get("/account"), "/account"), MESSAGE, [NEAR_LIMIT])
    assert refused.status_code == 503
    assert message_box(refused.get_data(as_text=True)) == MESSAGE.replace("\r\n", "\n")
    # Words alone, past the burst: told when to send again, nothing lost.
    visitor.filed(visitor.send(form(visitor.get("/account"), "/account"), "a second note"))
    paced = visitor.send(form(visitor.get("/account"), "/account"), "a third note")
    assert paced.status_code == 503, "one account filed words past its pace in the kept share"
    assert 0 < int(paced.headers["Retry-After"]) <= 2 * circuits.ACCOUNT_SPACING_SECONDS
    assert message_box(paced.get_data(as_text=True)) == "a third note"
    assert row_counts(app, Item)["items"] == before + 2
    assert staging_files(instance) == []
