"""Bad and strange input: each gets a clean page, and nothing is half-stored."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Item, Throttle
from app.settings import set_setting
from app.source.forms import MAX_MESSAGE_CHARS
from app.store import EnvelopeStore
from crypto import Metadata, generate_codename
from crypto.codename import wordlist
from tests.app.support import (
    FilePart,
    Form,
    Visitor,
    assert_clean_page,
    assert_nothing_stored,
    db_session,
    envelope_files,
    form,
    message_box,
    multipart,
    opened_envelopes,
    refusal_said,
    row_counts,
    staging_files,
)

MIB = 1024 * 1024
ECHO = "echo-me-not-7f3a"
_LONG_REPORT = "The SHO of the city station takes money from the agent every Thursday.\n" * 40


def report_body(page: Form, files: list[FilePart], message: str = ECHO) -> tuple[bytes, str]:
    """The multipart body a browser sends for the submit form."""
    return multipart([*page.fields.items(), ("message", message)], files)


def account(visitor: Visitor) -> str:
    """Make a first report; return the codename (the session is signed in)."""
    page = visitor.start()
    visitor.filed(visitor.send(page, "a first report"))
    return page.fields["codename"]


def failures(app: Flask) -> int:
    """How many failures any throttle has counted (none: nobody can be locked out)."""
    with db_session(app) as session:
        return sum(row.failures for row in session.execute(select(Throttle)).scalars())


# --- Size -------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_upload_limit_is_refused(
    app: Flask, instance: Path, visitor: Visitor, framing: str
) -> None:
    with db_session(app) as session:
        set_setting(session, "upload_limit_mib", 1)
        session.commit()
    # Far over the limit (a body just over it gives its words back: the test below).
    body, content_type = report_body(
        visitor.start(), [("files", f"{ECHO}.bin", bytes(5 * MIB), "application/octet-stream")]
    )
    if framing == "content-length":
        response = visitor.client.post("/submit", data=body, content_type=content_type)
    else:
        # No Content-Length: the server (gunicorn) ends the stream and says so.
        response = visitor.client.post(
            "/submit",
            input_stream=io.BytesIO(body),
            content_type=content_type,
            headers={"Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)
    assert_clean_page(response, ECHO)
    assert_nothing_stored(app, instance)


@pytest.mark.parametrize("signed_in", [False, True], ids=["first", "later"])
def test_a_report_over_the_upload_limit_gives_back_what_was_written(
    app: Flask, instance: Path, visitor: Visitor, signed_in: bool
) -> None:
    # A phone's video is larger than the limit more often than not: a browser says how
    # large the body is, and the source's words come before the files in it.
    with db_session(app) as session:
        set_setting(session, "upload_limit_mib", 1)
        session.commit()
    if signed_in:
        account(visitor)
    page_path = "/account" if signed_in else "/submit"
    page = form(visitor.get(page_path), page_path)
    before = envelope_files(instance)
    video = [("files", f"{ECHO}.mp4", bytes(2 * MIB), "video/mp4")]
    body, content_type = report_body(page, video, message=_LONG_REPORT)
    response = visitor.client.post(page_path, data=body, content_type=content_type)
    assert response.status_code == 413
    shown = response.get_data(as_text=True)
    assert message_box(shown) == _LONG_REPORT, "what the source wrote was lost"
    assert "Too large" in refusal_said(shown)
    assert_clean_page(response, ECHO)  # the file's name is not shown back
    assert envelope_files(instance) == before
    assert staging_files(instance) == []
    # Far over the limit, the body is refused before a byte of it is read.
    huge, content_type = report_body(page, [("files", "a.mp4", bytes(5 * MIB), "video/mp4")])
    refused = visitor.client.post(page_path, data=huge, content_type=content_type)
    assert refused.status_code == 413
    assert _LONG_REPORT not in refused.get_data(as_text=True)


def test_a_body_without_length_from_a_server_that_does_not_end_it_is_not_read(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    body, content_type = report_body(visitor.start(), [])
    response = visitor.client.post(
        "/submit",
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
    )
    assert response.status_code == 400
    assert_clean_page(response, ECHO)
    assert_nothing_stored(app, instance)


def test_more_files_than_allowed_are_refused(
    make_app: Callable[..., Flask], instance: Path
) -> None:
    app = make_app(MAX_FILES=3)
    visitor = Visitor(app.test_client())
    files = [("files", f"{i}.txt", b"evidence", "text/plain") for i in range(4)]
    response = visitor.send(visitor.start(), ECHO, files)
    assert response.status_code == 413
    assert_clean_page(response, ECHO)
    assert_nothing_stored(app, instance)
    visitor.filed(visitor.send(visitor.start(), ECHO, files[:3]))


def test_more_form_parts_than_allowed_are_refused(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    page = visitor.start()
    fields = [*page.fields.items(), *[("complicity", "bribery")] * 70]
    body, content_type = multipart(fields, [("files", "a.txt", b"evidence", "text/plain")])
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    assert response.status_code == 413
    assert_clean_page(response)
    assert_nothing_stored(app, instance)


def test_text_fields_together_are_held_to_the_memory_limit(app: Flask, instance: Path) -> None:
    # Anyone may send this, no cookie needed: the body is parsed before the CSRF check.
    # Each part under the limit alone, 60 of them held 60 MiB (4 bytes a character
    # once one character outside the BMP makes Python keep the text so).
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    part = "x" * (limit - 16) + "\U0001f600"
    body, content_type = multipart([(f"f{n}", part) for n in range(60)])
    client = app.test_client()
    tracemalloc.start()
    try:
        response = client.post("/submit", data=body, content_type=content_type)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, f"parsed, holding {peak // MIB} MiB at the peak"
    assert peak < 16 * limit
    assert_clean_page(response)
    assert_nothing_stored(app, instance)


def test_a_urlencoded_report_form_is_held_to_the_forms_limit_not_the_uploads(
    app: Flask, instance: Path
) -> None:
    # No cookie needed. A report's form may be urlencoded (the language switch posts it
    # so), and its body was held only to the upload limit (500 MiB, four times that read
    # for its words): 8 MiB of it were read and decoded whole, held in memory twice over.
    body = b"message=" + b"A" * (8 * MIB)
    client = app.test_client()
    tracemalloc.start()
    try:
        response = client.post(
            "/submit", data=body, content_type="application/x-www-form-urlencoded"
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, f"read, holding {peak // MIB} MiB at the peak"
    assert peak < 2 * MIB
    assert_clean_page(response)
    assert_nothing_stored(app, instance)


def test_the_longest_urdu_message_switched_to_english_comes_back_whole(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    # 200,000 characters of Urdu take 1.2 MB urlencoded (each byte `%XX`): over the text
    # fields' 1 MiB, within the 3 MiB a urlencoded form is held to.
    text = ("تھانے " * MAX_MESSAGE_CHARS)[:MAX_MESSAGE_CHARS]
    fields = {**visitor.start().fields, "message": text, "switch_lang": "en"}
    response = visitor.client.post("/submit", data=fields)
    assert response.status_code == 200
    assert message_box(response.get_data(as_text=True)) == text
    assert_nothing_stored(app, instance)


@pytest.mark.parametrize(
    "body", [b"message=100%&codename=", b"&".join([b"complicity=bribery"] * 65)]
)
def test_a_urlencoded_form_no_browser_sends_is_refused(
    app: Flask, instance: Path, visitor: Visitor, body: bytes
) -> None:
    # A `%` starting no escape (a browser sends `%25`) was read as itself, and kept 1 MiB of
    # `%zz` a Python step a byte; fields past the form's 64 parts, 1 MiB of `a=&`, 1 to 2 s.
    visitor.start()
    response = visitor.client.post(
        "/submit", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (400, 413)
    assert_clean_page(response)
    assert_nothing_stored(app, instance)


def test_a_message_over_the_length_limit_is_refused(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    response = visitor.send(visitor.start(), "x" * (MAX_MESSAGE_CHARS + 1))
    assert response.status_code == 200  # the form again, with the error on the field
    assert 'class="error"' in response.get_data(as_text=True)
    assert_nothing_stored(app, instance)


# --- Malformed bodies ---------------------------------------------------------


def _truncated(page: Form) -> tuple[bytes, str]:
    body, content_type = report_body(
        page, [("files", "video.mp4", b"\x00\x00\x00\x18ftypmp42" * 40_000, "video/mp4")]
    )
    return body[: len(body) // 2], content_type


def _garbage(page: Form) -> tuple[bytes, str]:
    return b"\x00garbage, not multipart\r\n" * 200, "multipart/form-data; boundary=xyz"


def _no_boundary(page: Form) -> tuple[bytes, str]:
    body, _ = report_body(page, [])
    return body, "multipart/form-data"


def _undecodable_header(page: Form) -> tuple[bytes, str]:
    # A lone surrogate (U+D800) as raw "UTF-8" bytes in a file name: not UTF-8 at all.
    body, content_type = report_body(page, [("files", "NAME", b"evidence", "text/plain")])
    return body.replace(b"NAME", b"\xed\xa0\x80evidence.txt"), content_type


def _headers_never_end(page: Form) -> tuple[bytes, str]:
    body, content_type = report_body(page, [("files", "a.txt", b"evidence", "text/plain")])
    return body.replace(b"Content-Type: text/plain\r\n\r\n", b"Content-Type: text/plain\r\n"), (
        content_type
    )


@pytest.mark.parametrize(
    "make_body",
    [_truncated, _garbage, _no_boundary, _undecodable_header, _headers_never_end],
    ids=["truncated", "garbage", "no-boundary", "undecodable-header", "headers-never-end"],
)
def test_a_malformed_multipart_body_is_refused(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    make_body: Callable[[Form], tuple[bytes, str]],
) -> None:
    body, content_type = make_body(visitor.start())
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    assert response.status_code == 400
    assert "The request could not be understood" in response.get_data(as_text=True)
    assert_clean_page(response, ECHO)
    assert_nothing_stored(app, instance)


def test_a_malformed_body_on_the_account_page_is_refused(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    account(visitor)
    before = envelope_files(instance)
    # A signed-in source is sent away from /submit: the account page's own form.
    page = form(visitor.get("/account"), "/account")
    body, content_type = _truncated(page)
    response = visitor.client.post("/account", data=body, content_type=content_type)
    assert response.status_code == 400
    assert_clean_page(response, ECHO)
    assert envelope_files(instance) == before
    assert staging_files(instance) == []


# --- Empty submissions --------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "files"),
    [
        ("", []),
        (" \r\n\t ", []),
        # What a browser sends when no file was chosen: an empty part with an empty name.
        ("", [("files", "", b"", "application/octet-stream")]),
    ],
    ids=["nothing", "blank-message", "empty-file-field"],
)
def test_an_empty_submission_is_refused_and_creates_no_account(
    app: Flask, instance: Path, visitor: Visitor, message: str, files: list[FilePart]
) -> None:
    response = visitor.send(visitor.start(), message, files)
    assert response.status_code == 400
    assert "Write a message or attach a file." in response.get_data(as_text=True)
    assert_nothing_stored(app, instance)


def test_an_empty_file_field_beside_a_message_stores_the_message_only(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    response = visitor.send(
        visitor.start(), "only words", [("files", "", b"", "application/octet-stream")]
    )
    visitor.filed(response)
    assert [m.kind for m, _ in opened_envelopes(instance).values()] == ["report"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("agency", "police-mars"),
        ("province", "<script>"),
        ("when", "yesterday"),
        ("complicity", "x" * 500),
    ],
)
def test_a_choice_not_offered_is_refused(
    app: Flask, instance: Path, visitor: Visitor, field: str, value: str
) -> None:
    response = visitor.send(visitor.start(), "a report", choices={field: value})
    assert response.status_code == 200  # the form again, with the error on the field
    assert "<script>" not in response.get_data(as_text=True)
    assert_nothing_stored(app, instance)


# --- Codenames ----------------------------------------------------------------


def test_a_wrong_codename_is_refused_and_not_counted(app: Flask, visitor: Visitor) -> None:
    account(visitor)
    visitor.log_out()
    failed = visitor.log_in(generate_codename())
    assert failed.status_code == 303
    response = visitor.client.get(failed.headers["Location"])
    assert "No account has this codename" in response.get_data(as_text=True)
    assert_clean_page(response)
    assert failures(app) == 0


def _swap_checksum(words: list[str]) -> list[str]:
    other = next(w for w in wordlist() if w != words[-1])
    return [*words[:-1], other]


@pytest.mark.parametrize(
    "mistype",
    [
        _swap_checksum,
        lambda w: [*w[:3], "xyzzyq", *w[4:]],
        lambda w: w[:-1],
        lambda w: [*w, w[0]],
        lambda w: [w[1], w[0], *w[2:]],
        lambda w: ["راز", *w[1:]],
    ],
    ids=["checksum", "unknown-word", "seven-words", "nine-words", "swapped", "urdu-word"],
)
def test_a_mistyped_codename_is_pointed_out_and_not_counted(
    app: Flask, visitor: Visitor, mistype: Callable[[list[str]], list[str]]
) -> None:
    codename = account(visitor)
    visitor.log_out()
    response = visitor.log_in(" ".join(mistype(codename.split())))
    # Answered as a wrong codename is (docs/PROTOCOL.md §18.1); the page after it says why.
    assert response.status_code == 303
    assert "Check your codename" in visitor.get(response.headers["Location"])
    assert failures(app) == 0
    assert visitor.logs_in(codename)


def _full_width(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    "variant",
    [
        str.upper,
        str.title,
        lambda c: c.replace(" ", "\u00a0"),
        lambda c: "\ufeff" + c.replace(" ", " \u200b").replace("a", "a\u200c", 1),
        lambda c: c.replace("e", "e\u00ad", 1),
        _full_width,
        lambda c: "\n  " + c.replace(" ", "\r\n\t") + "  \n",
    ],
    ids=["upper", "title", "nbsp", "zero-width", "soft-hyphen", "full-width", "line-breaks"],
)
def test_a_codename_typed_differently_still_logs_in(
    visitor: Visitor, variant: Callable[[str], str]
) -> None:
    codename = account(visitor)
    visitor.log_out()
    assert visitor.logs_in(variant(codename))


# --- Unicode in reports -------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "\u202b ایس ایچ او \u202c took \u200fRs 50,000\u200e from the agent",
        "e\u0301 a\u0308 \u0628\u064e\u0651 combining marks",
        "👩🏽‍⚖️ 🇵🇰 emoji, with joiners and flags",
        "a NUL \x00 in the middle, and \x07 a bell",
        "\ufeffa byte-order mark, and a \ufffc placeholder",
    ],
    ids=["bidi-marks", "combining", "emoji", "nul", "bom"],
)
def test_unusual_text_in_a_message_arrives_unchanged(
    instance: Path, visitor: Visitor, message: str
) -> None:
    visitor.filed(visitor.send(visitor.start(), message))
    (report,) = [json.loads(p) for m, p in opened_envelopes(instance).values()]
    assert report["message"] == message


def test_bytes_that_are_not_utf8_in_a_message_arrive_as_replacement_characters(
    instance: Path, visitor: Visitor
) -> None:
    body, content_type = report_body(visitor.start(), [], message="MSG")
    body = body.replace(b"MSG", b"lone \xed\xa0\x80 surrogate, stray \xff byte")
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    visitor.filed(response)
    (report,) = [json.loads(p) for m, p in opened_envelopes(instance).values()]
    assert report["message"].startswith("lone \ufffd")
    assert "\ud800" not in report["message"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        # Quoted as RFC 7578 asks; Werkzeug drops a lone backslash as an escape.
        ("C:\\\\Users\\\\constable\\\\FIR.pdf", "FIR.pdf"),
        ("fir\x00.pdf\x01", "fir.pdf"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("بیان.txt", "بیان.txt"),
        ("..", None),
        ("", None),
        ("ب" * 200 + ".txt", "ب" * 127),
    ],
    ids=["traversal", "windows-path", "control", "rtl-override", "urdu", "dots", "empty", "long"],
)
def test_a_file_name_is_kept_without_paths_or_control_characters(
    instance: Path, visitor: Visitor, sent: str, kept: str | None
) -> None:
    body, content_type = report_body(
        visitor.start(), [("files", sent, b"evidence", "text/plain")], message=""
    )
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    visitor.filed(response)
    files = [m for m, p in opened_envelopes(instance).values() if m.kind == "file"]
    assert [f.filename for f in files] == [kept]


def test_an_encoded_lone_surrogate_in_a_file_name_is_replaced(
    instance: Path, visitor: Visitor
) -> None:
    body, content_type = report_body(
        visitor.start(), [("files", "NAME", b"evidence", "text/plain")]
    )
    body = body.replace(b'filename="NAME"', b"filename*=UTF-8''%ED%A0%80x%00.txt")
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    visitor.filed(response)
    (name,) = [m.filename for m, _ in opened_envelopes(instance).values() if m.kind == "file"]
    assert name is not None
    assert name.endswith("x.txt")
    assert all(not 0xD800 <= ord(c) <= 0xDFFF for c in name)


# --- Files before the form's token ---------------------------------------------


@pytest.fixture
def stagings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the file parts the store began to seal, as the request streamed them."""
    begun: list[str] = []
    stage = EnvelopeStore.stage

    def counted(store: EnvelopeStore, recipients: list[Any], metadata: Metadata) -> Any:
        begun.append(metadata.filename or "")
        return stage(store, recipients, metadata)

    monkeypatch.setattr(EnvelopeStore, "stage", counted)
    return begun


_FLOOD_FILES: list[FilePart] = [
    ("files", f"f{n}.jpg", b"\xff\xd8\xff" + b"x" * 4096, "image/jpeg") for n in range(5)
]


@pytest.mark.parametrize("token", ["forged", None], ids=["forged-token", "no-token"])
def test_a_forms_files_are_never_sealed_before_its_token_holds(
    app: Flask, instance: Path, visitor: Visitor, stagings: list[str], token: str | None
) -> None:
    # A flood with no cookie, or any token, had every file of its form sealed to the
    # keyring, written to staging and forced to disk, before the CSRF check refused
    # the form read whole: the server's disk in the flood's hands, file by file.
    page = visitor.start()
    fields = [(k, v) for k, v in page.fields.items() if k != "csrf_token"]
    if token is not None:
        fields.insert(0, ("csrf_token", token))
    body, content_type = multipart([*fields, ("message", ECHO)], _FLOOD_FILES)
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    assert stagings == [], f"{len(stagings)} file(s) sealed before the token was checked"
    # The words still go back, as they did when the files were sealed first.
    assert response.status_code == 400
    assert ECHO in message_box(response.get_data(as_text=True))
    assert_nothing_stored(app, instance)


def test_a_token_sent_after_the_files_files_nothing_without_them(
    app: Flask, instance: Path, visitor: Visitor, stagings: list[str]
) -> None:
    # A client that puts the token last: its files were dropped unsealed, so the report
    # must not be filed without them; its words go back, its files named to attach again.
    page = visitor.start()
    fields = [(k, v) for k, v in page.fields.items() if k != "csrf_token"]
    fields += [("message", ECHO), ("csrf_token", page.fields["csrf_token"])]
    files = _FLOOD_FILES[:1]
    first, _ = multipart(fields[:-1], files, boundary="b0undary")
    last, content_type = multipart(fields[-1:], boundary="b0undary")
    # The token's part goes after the file's: the two bodies joined at their delimiter.
    body = first[: first.rindex(b"--b0undary--")] + last[last.index(b"--b0undary") :]
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    assert stagings == []
    shown = response.get_data(as_text=True)
    assert ECHO in message_box(shown)
    assert "f0.jpg" in refusal_said(shown)
    assert_nothing_stored(app, instance)


def test_a_forms_files_behind_its_token_are_sealed_as_they_stream(
    app: Flask, instance: Path, visitor: Visitor, stagings: list[str]
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "with a picture", _FLOOD_FILES[:2]))
    assert {"f0.jpg", "f1.jpg"} <= set(stagings)
    assert row_counts(app, Item)["items"] == 3


@pytest.mark.parametrize("token", ["forged", "right"], ids=["token-refused", "codename-stale"])
def test_a_first_report_given_back_under_a_new_codename_names_its_files(
    app: Flask, instance: Path, visitor: Visitor, token: str
) -> None:
    # The stale-codename page (a token refused, or a codename this session was never
    # offered) gave the words back and said nothing of the files: the source sent the
    # report again without the photo, never told it was dropped.
    page = visitor.start()
    elsewhere = Visitor(app.test_client()).start().fields["codename"]
    fields = [(k, v) for k, v in page.fields.items() if k != "csrf_token"]
    fields = [(k, elsewhere if k == "codename" and token == "right" else v) for k, v in fields]
    fields.insert(0, ("csrf_token", page.fields["csrf_token"] if token == "right" else token))
    body, content_type = multipart([*fields, ("message", ECHO)], _FLOOD_FILES[:2])
    response = visitor.client.post("/submit", data=body, content_type=content_type)
    assert response.status_code == 400
    shown = response.get_data(as_text=True)
    assert ECHO in message_box(shown)
    said = refusal_said(shown)
    assert "f0.jpg" in said, f"the files dropped are not named: {said!r}"
    assert "f1.jpg" in said
    assert_nothing_stored(app, instance)
