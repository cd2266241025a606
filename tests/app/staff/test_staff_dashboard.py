"""The staff dashboard: counts, export downloads, reply uploads, the keyring in force."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import object_session
from werkzeug.test import TestResponse

from app import sessions
from app.instance import InstancePaths
from app.models import Item, Reply, Source, today
from app.operations import exchange
from app.operations.doctor import tor_check
from app.operations.exchange import apply_reply_bundle
from app.operations.sweep import sweep
from app.services import dashboard as dashboard_service
from app.services import staff as staff_service
from app.services.context import services
from app.services.replies import delete_own_reply
from app.store import EnvelopeStore
from crypto import CryptoError, Metadata, SigningKey, open_bytes, seal_bytes
from crypto.exchange import (
    ExportManifest,
    Notice,
    ReplyEntry,
    ReplyManifest,
    new_bundle_id,
    read_export,
    seal_replies,
    write_replies,
)
from tests.app.staff.test_staff_admin import add_account, staff_browser
from tests.app.staff_support import (
    StaffUser,
    login,
    login_token,
    make_staff,
    page_token,
    post_confirmed,
    staff_client,
)
from tests.app.support import (
    Visitor,
    assert_clean_page,
    audit_trail,
    db_session,
    form,
    multipart,
    remove_keyring,
    reply_to,
    reviewer_keys,
    reviewer_openers,
    row_counts,
    shown_codename,
    source_id,
)

EXPORT_NAME = re.compile(
    r"attachment; filename=raazdar-export-1-(\d{4}-\d\d-\d\d)-([0-9a-f]{8})\.rzb"
)


def report(visitor: Visitor, message: str, *files: bytes) -> None:
    """A source's first report, through the submit form."""
    parts = [("files", f"evidence-{i}.jpg", data, "image/jpeg") for i, data in enumerate(files)]
    visitor.filed(visitor.send(visitor.start(), message, parts))


def counts(client: FlaskClient) -> dict[str, int]:
    html = client.get("/staff/").get_data(as_text=True)
    found = dict(re.findall(r'<dd id="count-([a-z]+)">(\d+)</dd>', html))
    return {name: int(value) for name, value in found.items()}


def export(client: FlaskClient, since: str = "", token: str | None = None) -> TestResponse:
    """Press "Download bundle"; the body is read whole and the download closed."""
    if token is None:
        html = client.get("/staff/").get_data(as_text=True)
        token = form(html, "/staff/export").fields["csrf_token"]
    # With the password and a fresh code each time (`app.staff.reauth.EACH_TIME`).
    response = post_confirmed(
        client, "/staff/export", {"csrf_token": token, "since": since}, buffered=False
    )
    try:
        response.get_data()
    except BrokenPipeError:  # an export that stops before its end drops its connection
        response.cut = True  # type: ignore[attr-defined]
    response.close()
    return response


def read(
    app: Flask, instance: Path, bundle: bytes, tmp: Path
) -> tuple[ExportManifest, dict[str, bytes]]:
    """Verify an export bundle as the review workstation does, and open every item."""
    paths = InstancePaths(instance)
    server = SigningKey.from_text(paths.signing_key.read_text()).verify_key
    reader, manifest = read_export(io.BytesIO(bundle), [server], app.config["INSTANCE_ID"])
    files = reader.extract(tmp)
    keys = reviewer_openers(instance)
    return manifest, {i: open_bytes(p.read_bytes(), keys)[0] for i, p in files.items()}


_WORKSPACE_ACK_KEY = SigningKey.generate()


def reply_bundle(
    app: Flask,
    instance: Path,
    manifest: ExportManifest,
    text: str,
    *,
    acks: Sequence[str] | None = None,
    signer: SigningKey | None = None,
    envelope_signer: SigningKey | None = None,
    instance_id: str | None = None,
    sealed: bool = True,
    imported: int | None = None,
) -> bytes:
    """A reply bundle as the review workstation writes one: a reply to each source
    (`imported`: the export number its chain is complete through, reply format 5)."""
    signer = signer or reviewer_keys(instance).signing
    assert signer is not None
    work = instance.parent / f"replies-{new_bundle_id()}"
    work.mkdir()
    files, entries = [], []
    for index, (designation, key) in enumerate(sorted(manifest.sources.items())):
        path = work / f"{index}.rze"
        path.write_bytes(
            seal_bytes(
                text.encode(),
                [key],
                Metadata("reply", "text/plain; charset=utf-8"),
                signer=envelope_signer or signer,
            )
        )
        files.append(path)
        entries.append(ReplyEntry(new_bundle_id(), designation))
    bundle_id, instance_id = new_bundle_id(), instance_id or app.config["INSTANCE_ID"]
    acked = tuple(acks) if acks is not None else tuple(e.id for e in manifest.entries)
    replies = ReplyManifest(
        bundle_id=bundle_id,
        instance_id=instance_id,
        created=today(),
        acks=acked,
        replies=tuple(entries),
        notices=tuple(Notice(d, "under-review") for d in manifest.sources),
    )
    if sealed:  # by the workspace's key, as the workstation does (the first seal gives it)
        replies = seal_replies(
            replies, files, signer.verify_key, _WORKSPACE_ACK_KEY, imported=imported
        )
    out = io.BytesIO()
    write_replies(out, replies, files, signer)
    return out.getvalue()


def upload(client: FlaskClient, bundle: bytes | None, *, token: str | None = None) -> TestResponse:
    """Send a reply bundle through the dashboard's upload form."""
    if token is None:
        html = client.get("/staff/").get_data(as_text=True)
        token = form(html, "/staff/replies").fields["csrf_token"]
    fields = [("csrf_token", token)] if token else []
    files = [("bundle", "replies.rzr", bundle, "application/octet-stream")] if bundle else []
    # Built in memory: the test client would spool a large body to a file of its own.
    body, content_type = multipart(fields, files)
    return client.post("/staff/replies", data=body, content_type=content_type)


def exported_manifest(
    app: Flask, instance: Path, staff: FlaskClient, tmp_path: Path
) -> tuple[ExportManifest, dict[str, bytes]]:
    response = export(staff)
    assert response.status_code == 200
    return read(app, instance, response.get_data(), tmp_path / "export")


# Counts and the keyring.


def test_dashboard_counts_what_waits(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    assert counts(staff) == {"new": 0, "items": 0, "sources": 0}
    report(visitor, "The SHO took money", b"\xff\xd8 photo")
    report(Visitor(app.test_client()), "A second source")
    _sweep(app)
    assert counts(staff) == {"new": 3, "items": 3, "sources": 2}
    # What staff do shows at once: the export, and the acknowledgements of a reply bundle.
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    assert counts(staff) == {"new": 0, "items": 3, "sources": 2}
    # One of the first source's two items: she keeps one on the server.
    acked = next(e.id for e in manifest.entries if e.kind != "report")
    bundle = reply_bundle(app, instance, manifest, "Received", acks=[acked])
    with app.app_context(), db_session(app) as session:
        apply_reply_bundle(session, io.BytesIO(bundle))
    assert counts(staff) == {"new": 0, "items": 2, "sources": 2}


def test_dashboard_warns_of_items_exported_long_ago_and_never_acknowledged(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "The SHO took money")
    exported_manifest(app, instance, staff, tmp_path)  # and the stick is lost
    assert 'id="unacknowledged"' not in staff.get("/staff/").get_data(as_text=True)
    with db_session(app) as session:
        for item in session.scalars(select(Item)):
            item.exported_day = today() - dt.timedelta(days=15)
        session.commit()
    html = staff.get("/staff/").get_data(as_text=True)
    warning = re.search(r'<p id="unacknowledged" class="note warn">([^<]*)', html)
    assert warning is not None
    assert warning.group(1).startswith("1 item exported 14 or more days ago was never")


def test_dashboard_shows_tor_health_as_the_doctor_sees_it(
    instance: Path, staff: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = staff.get("/staff/").get_data(as_text=True)
    assert f"Tor ({tor_check(instance).status})" in html
    # A tor the operator named but that does not answer is a failure, said plainly.
    monkeypatch.setenv("RAAZDAR_TOR_CONTROL", str(tmp_path / "no-such-control.sock"))
    health = re.search(
        r'<p id="tor-health" class="note fail"[^>]*>([^<]*)</p>',
        staff.get("/staff/").get_data(as_text=True),
    )
    assert health is not None
    assert "cannot attach to tor" in health.group(1)


def test_dashboard_shows_the_keyring_in_force(
    app: Flask, instance: Path, staff: FlaskClient
) -> None:
    html = staff.get("/staff/").get_data(as_text=True)
    keys = reviewer_keys(instance)
    assert keys.encryption_public is not None
    assert keys.signing_public is not None
    assert "Version 1" in html
    assert str(keys.encryption_public.fingerprint) in html
    assert str(keys.signing_public.fingerprint) in html
    remove_keyring(instance)
    html = staff.get("/staff/").get_data(as_text=True)
    assert "No keyring is in force" in html


def test_dashboard_and_its_forms_need_a_staff_session(app: Flask) -> None:
    client = staff_client(app)
    assert client.get("/staff/").headers["Location"] == "/staff/login?next=/staff/"
    # A valid token of this browser's session: what refuses is the missing login.
    token = login_token(client)
    for path in ("/staff/export", "/staff/replies"):
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == 302
        assert response.headers["Location"] == "/staff/login"
    page = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert "Staff login" in page


# Export downloads.


def test_export_download_is_a_bundle_the_review_side_reads(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "The SHO released the agent for money", b"\xff\xd8 a photo")
    response = export(staff)
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Cache-Control"] == "no-store"
    match = EXPORT_NAME.fullmatch(response.headers["Content-Disposition"])
    assert match, response.headers["Content-Disposition"]
    assert match.group(1) == today().isoformat()
    manifest, plaintexts = read(app, instance, response.get_data(), tmp_path / "items")
    assert match.group(2) == manifest.bundle_id[:8]
    assert len(manifest.entries) == 2
    assert any(b"SHO released the agent" in p for p in plaintexts.values())
    assert b"\xff\xd8 a photo" in plaintexts.values()
    with db_session(app) as session:
        assert all(session.execute(select(Item.exported)).scalars())
    assert audit_trail(app)[-1] == (
        "alice",
        "export",
        {"bundle": manifest.bundle_id, "sequence": 1, "since": None},
    )


def _removed_during(
    app: Flask, monkeypatch: pytest.MonkeyPatch, step: str
) -> Callable[[], tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """The first time `exchange.<step>` returns, root removes alice from another thread (a
    removal the request holds back waits on). The function returned waits for the removal
    and gives what the audit trail says was done before it, and what alice did after it."""
    done = getattr(exchange, step)
    removal: list[threading.Thread] = []

    def remove_alice() -> None:
        with app.app_context(), db_session(app) as session:
            alice = staff_service.get_account(session, "alice")
            staff_service.remove_account(session, "root", alice)

    def removed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = done(*args, **kwargs)
        if not removal:
            removal.append(threading.Thread(target=remove_alice))
            removal[0].start()
            removal[0].join(timeout=2)
        return result

    def trail() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        removal[0].join(timeout=40)
        found = audit_trail(app)
        removed = found.index(("root", "staff-removed", {"username": "alice"}))
        before = [(actor, action) for actor, action, _ in found[:removed]]
        after = [(actor, action) for actor, action, _ in found[removed + 1 :] if actor == "alice"]
        return before, after

    monkeypatch.setattr(exchange, step, removed_meanwhile)
    return trail


def cut_short(response: TestResponse) -> bool:
    """Whether a download's connection dropped before the size its headers gave (`export`)."""
    return getattr(response, "cut", False)


def test_an_export_whose_account_is_removed_while_it_is_written_is_not_handed_out(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    staff: FlaskClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Removed as the bundle is written, a colleague gets no bundle a workstation reads (its
    last piece is held back until the export commits) and marks nothing exported."""
    make_staff(app, "root", role="admin")
    report(visitor, "The SHO released the agent for money")
    removal = _removed_during(app, monkeypatch, "write_export")
    response = export(staff)

    before, after = removal()
    assert after == [], f"a removed colleague exported after the removal: {after}"
    assert response.status_code == 200  # streamed: its headers went before the removal
    if not cut_short(response):  # the export came first: the removal waited for it
        assert ("alice", "export") in before
        return
    with pytest.raises(CryptoError):
        read(app, instance, response.get_data(), tmp_path / "items")
    with db_session(app) as session:
        assert not any(session.execute(select(Item.exported)).scalars())


def test_an_export_settling_as_its_account_is_removed_does_not_deadlock(
    app: Flask,
    visitor: Visitor,
    staff: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The export and a removal of its account take the same two locks, the account's row
    and the audit head, in one order: taken the other way round, each held what the other
    waited for, and on PostgreSQL one was killed as a deadlock.

    Under load the removal may end her login before the bundle's first piece: the download
    is then cut, as any whose login ends (CI, once: a broken pipe at the request); cut, not
    stopped by an error, which is what a deadlock's victim would be."""
    make_staff(app, "root", role="admin")
    report(visitor, "The SHO released the agent for money")
    holding = staff_service.hold_staff
    removal: list[threading.Thread] = []
    failed: list[BaseException] = []

    def remove_alice() -> None:
        try:
            with app.app_context(), db_session(app) as session:
                alice = staff_service.get_account(session, "alice")
                staff_service.remove_account(session, "root", alice)
        except BaseException as exc:
            failed.append(exc)

    def removed_as_it_settles(*args: Any, **kwargs: Any) -> None:
        if not removal:
            removal.append(threading.Thread(target=remove_alice))
            removal[0].start()
            removal[0].join(timeout=1)  # as far as it gets before the export goes on
        holding(*args, **kwargs)

    monkeypatch.setattr(staff_service, "hold_staff", removed_as_it_settles)
    try:
        status = export(staff).status_code
    except BrokenPipeError:  # cut before its first piece: the status went with it
        status = 200
    removal[0].join(timeout=40)
    assert not failed, f"the removal failed: {failed}"
    assert status in (200, 403), status
    stopped = [m for r in caplog.records if "stopped before its last" in (m := r.getMessage())]
    assert all(m.endswith("(NoneType)") for m in stopped), f"an error stopped it: {stopped}"
    trail = audit_trail(app)
    assert ("root", "staff-removed", {"username": "alice"}) in trail


@pytest.mark.parametrize("expired", [False, True], ids=["loaded", "expired"])
@pytest.mark.parametrize("change", ["reset", "removed"])
def test_an_export_whose_account_changes_as_it_settles_is_refused(
    app: Flask,
    visitor: Visitor,
    staff: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
    expired: bool,
    database_url: str,
) -> None:
    """A colleague resets or removes the account while its export is being written.

    Expired: a rollback earlier in the request (`sessions.regrant` rolls back when
    another request re-sealed the login row, or a removal deleted it, between its read
    and its write) had expired the account the request loaded. Before: the export's
    last check read the row again as it was by then. Reset, the new epoch was taken
    for the one the request began with, and the bundle went out, every report marked
    exported, in the name of an account whose sessions had all ended. Removed, the
    reload raised ObjectDeletedError: a 500, and the error page failed on the same
    account (CI saw this one, under load).

    SQLite lets one transaction write at a time: there the change waits for the export
    to commit, and comes after it."""
    make_staff(app, "root", role="admin")
    report(visitor, "The SHO released the agent for money")
    writing = exchange.export_bundle
    changed: list[str] = []
    workers: list[threading.Thread] = []
    serial = database_url.startswith("sqlite")

    def change_alice() -> None:
        with app.app_context(), db_session(app) as session:
            alice = staff_service.get_account(session, "alice")
            if change == "reset":
                staff_service.reset_password(session, "root", alice)
            else:
                staff_service.remove_account(session, "root", alice)
            changed.append(change)

    def changed_as_it_settles(*args: Any, before_commit: Any, **kwargs: Any) -> Any:
        def settle(session: Any, summary: Any) -> None:
            # Written on a thread of its own (`BundleStream`), the export reads nothing of the
            # request's session; expired there, the account must still not be read again.
            account = getattr(flask.g, "staff_account", None)
            owner = object_session(account) if account is not None else None
            if expired and owner is not None:
                owner.expire(account)
            workers.append(threading.Thread(target=change_alice))
            workers[0].start()
            if not serial:  # the export's transaction holds nothing the change waits for
                workers[0].join(timeout=30)
                assert changed, "the change did not go through"
            before_commit(session, summary)

        return writing(*args, before_commit=settle, **kwargs)

    monkeypatch.setattr(dashboard_service, "export_bundle", changed_as_it_settles)
    response = export(staff)
    workers[0].join(timeout=30)
    assert changed, "the change did not go through"
    actions = [action for _, action, _ in audit_trail(app)]
    # Streamed: its headers went before the change; what says it is its body, cut short.
    assert response.status_code == 200, response.status_code
    if serial:
        assert not cut_short(response)
        assert actions[-1] != "export", actions
        return
    assert cut_short(response), "a changed account got its whole bundle"
    with app.app_context(), db_session(app) as session:
        exported = session.scalars(select(Item.exported)).all()
    assert exported == [False], "the export marked its items exported"
    assert "export" not in actions


def test_an_export_whose_session_ends_as_it_is_confirmed_does_nothing(
    app: Flask, visitor: Visitor, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account's owner ends her other sessions ("end my other sessions", on her own
    laptop) just as a copied cookie's export is confirmed with her password and code.

    Before: the confirmation could not be noted in the ended session's row, and the
    export went ahead anyway: every new report in one bundle, marked exported."""
    report(visitor, "The SHO released the agent for money")
    confirming = staff_service.reauthenticate

    def ended_as_it_is_confirmed(*args: Any, **kwargs: Any) -> bool:
        confirmed = confirming(*args, **kwargs)

        def end_it() -> None:
            with app.app_context(), db_session(app) as session:
                sessions.end_staff_logins(session, staff_service.get_account(session, "alice").id)
                session.commit()

        worker = threading.Thread(target=end_it)
        worker.start()
        worker.join(timeout=30)
        return confirmed

    monkeypatch.setattr(staff_service, "reauthenticate", ended_as_it_is_confirmed)
    response = export(staff)
    assert response.status_code == 403, response.status_code
    with app.app_context(), db_session(app) as session:
        assert session.scalars(select(Item.exported)).all() == [False]
    assert "export" not in {action for _, action, _ in audit_trail(app)}


def test_export_with_nothing_new_downloads_nothing(
    app: Flask, visitor: Visitor, staff: FlaskClient
) -> None:
    response = export(staff)
    assert response.status_code == 303
    page = staff.get("/staff/").get_data(as_text=True)
    assert "Nothing to export" in page
    assert "export" not in {action for _, action, _ in audit_trail(app)}


def test_export_since_a_day_includes_items_already_exported(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "first")
    assert export(staff).status_code == 200
    assert export(staff).status_code == 303
    again = export(staff, since=today().isoformat())
    assert again.status_code == 200
    manifest, _ = read(app, instance, again.get_data(), tmp_path / "again")
    assert len(manifest.entries) == 1
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    assert export(staff, since=tomorrow).status_code == 303
    exports = [detail for _, action, detail in audit_trail(app) if action == "export"]
    assert exports[-1]["since"] == today().isoformat()
    # The press that found nothing is counted; the next sweep audits the count.
    assert "export-nothing" not in {action for _, action, _ in audit_trail(app)}


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "' OR 1=1 --"])
def test_export_with_a_bad_day_says_so(staff: FlaskClient, since: str) -> None:
    response = export(staff, since=since)
    assert response.status_code == 400
    assert "Not a valid date" in response.get_data(as_text=True)
    assert_clean_page(response)


def test_export_needs_the_csrf_token(visitor: Visitor, staff: FlaskClient) -> None:
    report(visitor, "a report")
    assert export(staff, token="").status_code == 400
    assert staff.post("/staff/export").status_code == 400


def test_export_without_a_keyring_is_refused_clearly(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient
) -> None:
    report(visitor, "a report")
    remove_keyring(instance)
    response = export(staff)
    assert response.status_code == 303
    assert "No keyring is in force" in staff.get("/staff/").get_data(as_text=True)
    with db_session(app) as session:
        assert not any(session.execute(select(Item.exported)).scalars())


# Reply uploads.


def test_reply_upload_is_applied_and_accounted_for(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "The SHO took money", b"\xff\xd8 photo")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    response = upload(staff, reply_bundle(app, instance, manifest, "Which police station?"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Reply bundle applied" in page
    assert "1 reply posted" in page
    assert "2 acknowledged items deleted" in page
    assert "Nothing in the bundle was refused" in page
    assert row_counts(app, Item, Reply) == {"items": 0, "replies": 1}
    assert "Which police station?" in visitor.get("/account")
    actor, action, detail = audit_trail(app)[-1]
    assert (actor, action) == ("alice", "reply-bundle-applied")
    assert detail["replies"] == 1
    assert detail["deleted"] == 2
    assert detail["refused"] == 0


def test_a_reply_upload_says_what_it_kept_and_what_it_left_unset(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    # Before the server holds the workspace's key, a bundle it did not seal deletes
    # nothing: staff must see that its items were kept, not read "nothing refused".
    report(visitor, "The SHO took money", b"\xff\xd8 photo")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    unsealed = reply_bundle(app, instance, manifest, "Which police station?", sealed=False)
    page = upload(staff, unsealed).get_data(as_text=True)
    assert "Reply bundle applied" in page
    assert "2 acknowledged items kept on the server, not deleted" in page, (
        "the staff page after an upload does not show the 2 item(s) the server kept"
    )
    assert "did not seal" in page
    assert "Nothing in the bundle was refused" not in page
    assert row_counts(app, Item, Reply) == {"items": 2, "replies": 1}
    # Once the server holds the key, such a bundle is refused whole, and says why.
    (tmp_path / "again").mkdir()
    manifest, _ = exported_manifest(app, instance, staff, tmp_path / "again")
    assert upload(staff, reply_bundle(app, instance, manifest, "hi", acks=())).status_code == 200
    response = upload(staff, reply_bundle(app, instance, manifest, "trap", sealed=False))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "did not seal this bundle whole" in page
    assert "raazdar-review exchange take-back" in page
    assert row_counts(app, Reply) == {"replies": 2}


def test_a_reply_upload_whose_account_is_removed_as_it_is_checked_applies_nothing(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    staff: FlaskClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Removed while the bundle is checked, a colleague posts no reply and deletes no item."""
    make_staff(app, "root", role="admin")
    report(visitor, "The SHO took money", b"\xff\xd8 photo")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    bundle = reply_bundle(app, instance, manifest, "Which police station?")
    removal = _removed_during(app, monkeypatch, "read_replies")
    response = upload(staff, bundle)

    before, after = removal()
    assert after == [], f"a removed colleague applied a reply bundle after the removal: {after}"
    if response.status_code == 200:  # the upload came first: the removal waited for it
        assert ("alice", "reply-bundle-applied") in before
    else:
        assert response.status_code == 403
        assert row_counts(app, Item, Reply) == {"items": 2, "replies": 0}


def test_a_reply_upload_whose_login_ends_as_it_is_checked_applies_nothing(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    alice: StaffUser,
    staff: FlaskClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A login ended while the bundle is checked (its owner, at another desk, pressed "Log out
    every other device" against a copied cookie) posts no reply and deletes no item, as an
    export so ended hands out nothing."""
    report(visitor, "The SHO took money", b"\xff\xd8 photo")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    bundle = reply_bundle(app, instance, manifest, "Which police station?")
    step = "read_replies"  # as `_removed_during` takes it: the module names it, not exports it
    done = getattr(exchange, step)
    ended: list[threading.Thread] = []

    def end_the_login() -> None:
        with app.app_context(), db_session(app) as session:
            sessions.end_staff_logins(session, alice.id)
            session.commit()

    def ended_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = done(*args, **kwargs)
        if not ended:
            ended.append(threading.Thread(target=end_the_login))
            ended[0].start()
            ended[0].join(timeout=2)
        return result

    monkeypatch.setattr(exchange, step, ended_meanwhile)
    response = upload(staff, bundle)
    ended[0].join(timeout=40)
    assert row_counts(app, Item, Reply) == {"items": 2, "replies": 0}, (
        f"a login ended as its upload was checked applied the bundle ({response.status_code})"
    )
    assert response.status_code == 403
    assert ("alice", "reply-bundle-applied") not in [(a, b) for a, b, _ in audit_trail(app)]


def test_a_refused_reply_leaves_the_whole_upload_unapplied_and_lists_why(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "a report")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    stranger = SigningKey.generate()
    bundle = reply_bundle(app, instance, manifest, "hello", envelope_signer=stranger)
    response = upload(staff, bundle)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Reply bundle refused" in page
    assert "none of it was applied" in page
    assert "not a signed envelope from the bundle&#39;s reviewer" in page
    # Its acknowledgements deleted nothing.
    assert row_counts(app, Item, Reply) == {"items": 1, "replies": 0}
    _actor, action, detail = audit_trail(app)[-1]
    assert (action, detail["refused"]) == ("reply-bundle-refused", 1)


def _another_instance(app: Flask, instance: Path, manifest: ExportManifest) -> bytes:
    return reply_bundle(app, instance, manifest, "x", instance_id="f" * 32)


def _stranger(app: Flask, instance: Path, manifest: ExportManifest) -> bytes:
    return reply_bundle(app, instance, manifest, "x", signer=SigningKey.generate())


def _truncated(app: Flask, instance: Path, manifest: ExportManifest) -> bytes:
    return reply_bundle(app, instance, manifest, "x")[:-100]


def _flipped(app: Flask, instance: Path, manifest: ExportManifest) -> bytes:
    data = bytearray(reply_bundle(app, instance, manifest, "x"))
    data[len(data) // 2] ^= 0x01
    return bytes(data)


def _garbage(app: Flask, instance: Path, manifest: ExportManifest) -> bytes:
    return b"this is not a bundle\n" * 10


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_another_instance, "another Raazdar instance"),
        (_stranger, "not signed by a reviewer"),
        (_truncated, "not a complete"),
        (_flipped, ""),
        (_garbage, "not a complete"),
    ],
)
def test_refused_reply_bundle_applies_nothing_and_says_why(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    staff: FlaskClient,
    tmp_path: Path,
    make: Callable[[Flask, Path, ExportManifest], bytes],
    says: str,
) -> None:
    report(visitor, "a report")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    response = upload(staff, make(app, instance, manifest))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Reply bundle refused" in page
    assert "Nothing in it was applied" in page
    assert says in page
    assert_clean_page(response)
    assert row_counts(app, Item, Reply) == {"items": 1, "replies": 0}
    actor, action, _ = audit_trail(app)[-1]
    assert (actor, action) == ("alice", "reply-bundle-refused")


def test_replayed_reply_bundle_is_refused(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "a report")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    bundle = reply_bundle(app, instance, manifest, "once", acks=())
    assert upload(staff, bundle).status_code == 200
    again = upload(staff, bundle)
    assert again.status_code == 422
    assert "applied before" in again.get_data(as_text=True)
    assert row_counts(app, Reply) == {"replies": 1}


def test_reply_upload_of_several_mebibytes_works(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "a report")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    bundle = reply_bundle(app, instance, manifest, "a long answer " * 400_000)
    assert len(bundle) > 4 * 1024 * 1024
    response = upload(staff, bundle)
    assert response.status_code == 200, response.status_code
    assert "1 reply posted" in response.get_data(as_text=True)


def test_large_upload_without_a_session_is_refused_unread(app: Flask, visitor: Visitor) -> None:
    token = form(visitor.get("/login"), "/login").fields["csrf_token"]
    response = upload(staff_client(app), b"\x00" * (2 * 1024 * 1024), token=token)
    assert response.status_code == 413


def test_reply_upload_without_a_file_says_so(staff: FlaskClient) -> None:
    response = upload(staff, None)
    assert response.status_code == 400
    assert "Choose a reply bundle." in response.get_data(as_text=True)


def test_reply_upload_needs_the_csrf_token(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "a report")
    manifest, _ = exported_manifest(app, instance, staff, tmp_path)
    bundle = reply_bundle(app, instance, manifest, "hello")
    response = upload(staff, bundle, token="")
    assert response.status_code == 400
    assert row_counts(app, Item, Reply) == {"items": 1, "replies": 0}


def test_pages_show_no_source_content(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient, tmp_path: Path
) -> None:
    report(visitor, "CANARY-4b1d the inspector's name")
    html = staff.get("/staff/").get_data(as_text=True)
    assert "CANARY-4b1d" not in html
    with db_session(app) as session:
        designation = session.execute(select(Source.designation)).scalar_one()
    assert designation not in html
    assert page_token(staff)


def test_a_session_open_for_long_exports_nothing_without_the_password_and_a_code(
    app: Flask, visitor: Visitor
) -> None:
    """A copy of a staff member's cookie (or her laptop left logged in) took every new
    report in one request: marked exported, they were missing from her next bundle, and the
    review side heard of them only when a later bundle's number showed the gap."""
    report(visitor, "The SHO released the agent for money")
    copy = staff_browser(app).log_in(add_account(app, "clerk"), authenticated_ago=60 * 60)
    asked = copy.post("/staff/export", {"since": ""})
    asked.get_data()
    with db_session(app) as session:
        exported = list(session.execute(select(Item.exported)).scalars())
    assert not any(exported), "the copy of the cookie exported every new report"
    assert asked.status_code == 401, asked.status_code
    assert "a copy of your session" in copy.text(asked)
    assert "export" not in [action for _, action, _ in audit_trail(app)]
    # Its owner, with her password and a code, downloads the bundle as before.
    done = copy.confirm("/staff/export", asked)
    assert done.status_code == 200, done.status_code
    assert done.mimetype == "application/octet-stream"
    done.get_data()
    done.close()
    assert audit_trail(app)[-1][:2] == ("clerk", "export")


def test_a_copy_of_the_cookie_within_the_window_takes_no_export_from_its_owner(
    app: Flask, instance: Path, visitor: Visitor, alice: StaffUser, tmp_path: Path
) -> None:
    """Malware copies the cookie while its owner sits on the dashboard, minutes after her
    login: within the ten-minute window the copy downloaded every new report, and marked
    them exported, so her own next bundle went without them (the workstation heard of
    them only by a resend, once a bundle's number showed the gap)."""
    report(visitor, "The SHO released the agent for money")
    owner = staff_client(app)
    login(owner, app, alice)
    owner.get("/staff/")  # she sits on the dashboard: the login's redirect, followed
    thief = staff_client(app)
    cookie = owner.get_cookie("rz")
    assert cookie is not None
    thief.set_cookie("rz", cookie.value)
    token = form(thief.get("/staff/").get_data(as_text=True), "/staff/export").fields
    taken = thief.post("/staff/export", data={"csrf_token": token["csrf_token"], "since": ""})
    taken_body = taken.get_data()
    taken.close()
    # Her next export, with her password and a code.
    mine = export(owner)
    carried = (
        read(app, instance, mine.get_data(), tmp_path / "mine")[0].entries
        if mine.status_code == 200
        else ()  # "Nothing to export"
    )
    assert taken.status_code == 401, (
        f"a copy of the cookie within the window downloaded the export ({taken.status_code}, "
        f"{len(taken_body)} bytes); its owner's next bundle then carried "
        f"{len(carried)} of the 1 report(s)"
    )
    assert b"reauth_code" in taken_body, "the copy was not asked the password and a code"
    assert len(carried) == 1, "the report missed its owner's next bundle"
    assert [a for _, a, _ in audit_trail(app)].count("export") == 1


def test_an_export_its_owner_did_not_make_is_named_on_her_dashboard(
    app: Flask, visitor: Visitor, alice: StaffUser
) -> None:
    """Whoever holds a copy of the cookie and saw the password and a code typed (malware
    reading the keys too) still exports: the reports it took were out of its owner's next
    bundle ("Nothing to export"), and nothing on her dashboard said an export had been made,
    by whom, or which bundle the workstation must ask for again (only an administrator's
    audit page had it)."""
    report(visitor, "The SHO released the agent for money")
    owner = staff_client(app)
    login(owner, app, alice)
    owner.get("/staff/")
    thief = staff_client(app)
    cookie = owner.get_cookie("rz")
    assert cookie is not None
    thief.set_cookie("rz", cookie.value)
    assert export(thief).status_code == 200
    assert export(owner).status_code == 303  # "Nothing to export": the report went with it
    page = owner.get("/staff/").get_data(as_text=True)
    named = re.findall(r'<ul id="exports">\s*<li>([^<]*)</li>', page)
    day = today().isoformat()
    assert named == [f"Bundle 1, {day}, by alice"], (
        "the owner's dashboard did not name the export she did not make"
    )
    assert "raazdar export --resend" in page


def test_two_exports_in_a_day_leave_no_count_that_says_which_source_came_between(
    app: Flask, visitor: Visitor, staff: FlaskClient
) -> None:
    """Each export's audit entry counted its items and sources, so a seizer split a day's
    arrivals at each export: a source whose items match the first count came before it,
    the rest after (the items keep only their day, and no list of what went in which
    bundle). Reading the database as a seizer does: the audit log and the items table."""
    report(visitor, "The SHO took money", b"\xff\xd8 photo")  # two items
    assert export(staff).status_code == 200
    report(_another(app), "The clerk sold the file")  # one item
    assert export(staff).status_code == 200
    with db_session(app) as session:
        per_source = Counter(session.scalars(select(Item.source_id)))
        assert len({i.exported_day for i in session.scalars(select(Item))}) == 1
    first = next(detail for _, action, detail in audit_trail(app) if action == "export")
    counted = [first.get(k) for k in ("items", "sources")]
    before = [s for s, n in per_source.items() if counted == [n, 1]]
    assert before == [], (
        f"the first export's audit entry counted {counted[0]} item(s) of {counted[1]} "
        f"source(s): {len(before)} of the day's {len(per_source)} sources came before it"
    )


def test_the_day_an_item_was_exported_says_not_whether_it_came_before_that_days_export(
    app: Flask, visitor: Visitor, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each item kept the day it first went out (`exported_day`): a report that came the
    day of an export and before it kept that day, one that came after it the next
    export's, so a seizer split the day's arrivals at the export (which the audit log
    dates) and knew which source came first, until the workstation acknowledged them.
    Reading the database as a seizer does: each item's days."""
    report(visitor, "The SHO took money")
    assert export(staff).status_code == 200
    report(_another(app), "The clerk sold the file")
    tomorrow = today() + dt.timedelta(days=1)
    monkeypatch.setattr(exchange, "today", lambda: tomorrow)
    assert export(staff).status_code == 200
    with db_session(app) as session:
        items = session.scalars(select(Item)).all()
        assert {i.received_day for i in items} == {today()}
        assert all(i.exported for i in items)
        days = {i.source_id: i.exported_day for i in items}
    assert len(set(days.values())) == 1, (
        f"the day's {len(days)} sources' items went out on {sorted(map(str, days.values()))}: "
        "the one dated the export's day came before it"
    )


def _another(app: Flask) -> Visitor:
    """Another source's browser, in English."""
    client = app.test_client()
    client.get("/lang/en")
    return Visitor(client)


def _dir(path: Path) -> Path:
    """A new directory (each export read in its own)."""
    path.mkdir()
    return path


def test_an_export_the_workstation_never_confirmed_is_carried_again_in_the_owners_next(
    app: Flask, instance: Path, visitor: Visitor, alice: StaffUser, tmp_path: Path
) -> None:
    """Whoever holds the cookie, the password and a live code still exports, and the reports
    it took went to their bundle only: the owner's next export said "Nothing to export", and
    only `raazdar export --resend` at the console brought them back. Until the workstation's
    seal confirms a bundle arrived, every export carries every item still here again."""
    report(visitor, "The SHO released the agent for money")
    owner = staff_client(app)
    login(owner, app, alice)
    first, _ = exported_manifest(app, instance, owner, _dir(tmp_path / "one"))
    # The workstation imported bundle 1, and its sealed reply bundle says so.
    answer = reply_bundle(app, instance, first, "Which police station?", imported=1)
    assert upload(owner, answer).status_code in (200, 303)
    report(_another(app), "The DSP takes a cut from the brick kiln")
    thief = staff_client(app)
    cookie = owner.get_cookie("rz")
    assert cookie is not None
    thief.set_cookie("rz", cookie.value)
    taken_response = export(thief)
    assert taken_response.status_code == 200
    taken, _ = read(app, instance, taken_response.get_data(), tmp_path / "taken")
    assert len(taken.entries) == 1
    response = export(owner)
    assert response.status_code == 200, (
        f"{len(taken.entries)} of {len(taken.entries)} report items went to the thief's "
        "bundle only: the owner's next export had nothing"
    )
    again, _ = read(app, instance, response.get_data(), tmp_path / "again")
    assert {e.id for e in taken.entries} <= {e.id for e in again.entries}
    assert again.chain is not None
    assert (again.chain.sequence, again.chain.resend) == (3, True)
    # Confirmed (the resend fills bundle 2's gap): the next export carries only what is new.
    sealed = reply_bundle(app, instance, again, "Thank you", imported=3)
    assert upload(owner, sealed).status_code in (200, 303)
    report(_another(app), "A third report")
    last, _ = exported_manifest(app, instance, owner, _dir(tmp_path / "last"))
    assert last.chain is not None
    assert not last.chain.resend
    assert len(last.entries) == 1


def test_a_confirmation_not_under_the_workspaces_seal_stops_no_carrying_again(
    app: Flask, instance: Path, visitor: Visitor, alice: StaffUser, tmp_path: Path
) -> None:
    """A colleague about to be revoked, with a reviewer's key file and the thief's stick,
    cannot say the stolen bundle arrived: only the seal of the workspace key held here
    confirms, and another key's seal is ignored."""
    report(visitor, "The SHO released the agent for money")
    owner = staff_client(app)
    login(owner, app, alice)
    first, _ = exported_manifest(app, instance, owner, _dir(tmp_path / "one"))
    assert upload(owner, reply_bundle(app, instance, first, "x", imported=1)).status_code in (
        200,
        303,
    )
    report(_another(app), "The DSP takes a cut from the brick kiln")
    taken, _ = exported_manifest(app, instance, owner, _dir(tmp_path / "taken"))  # bundle 2, stolen
    signer = reviewer_keys(instance).signing
    assert signer is not None
    bundle_id, instance_id = new_bundle_id(), app.config["INSTANCE_ID"]
    unsealed = ReplyManifest(
        bundle_id=bundle_id,
        instance_id=instance_id,
        created=today(),
        acks=(),
        replies=(),
        notices=(),
    )
    forged = seal_replies(unsealed, [], signer.verify_key, SigningKey.generate(), imported=2)
    out = io.BytesIO()
    write_replies(out, forged, [], signer)
    # Refused whole (the server holds the workspace's key: PROTOCOL §13.6), so it says nothing.
    assert upload(owner, out.getvalue()).status_code == 422
    response = export(owner)
    assert response.status_code == 200
    again, _ = read(app, instance, response.get_data(), tmp_path / "again")
    assert {e.id for e in taken.entries} <= {e.id for e in again.entries}


def _sweep(app: Flask) -> None:
    """Run the arrival sweep now, as its timer does once a period."""
    with app.app_context(), db_session(app) as session:
        sweep(session.get_bind().engine, services().store, force=True)


def test_reloading_the_dashboard_dates_nothing_a_source_did_finer_than_the_sweep(
    app: Flask, instance: Path, visitor: Visitor, staff: FlaskClient
) -> None:
    """The server keeps the day a report came and which came since the last sweep, no more:
    the dashboard's live counts told whoever held a staff cookie, reloading it, the minute
    a report came, and the "replies waiting" count the minute a source read and deleted
    her reply (her visit)."""
    page = visitor.get("/submit")
    codename = shown_codename(page)
    assert codename is not None
    visitor.filed(visitor.send(form(page, "/submit"), "The SHO took money"))
    signer = reviewer_keys(instance).signing
    assert signer is not None
    reply = reply_to(app, codename, "Which police station?", signer)
    _sweep(app)
    before = counts(staff)
    assert before["new"] == 1
    report(Visitor(app.test_client()), "A second source, an hour later")
    with app.app_context(), db_session(app) as session:
        assert delete_own_reply(session, source_id(app, codename), reply)
    assert counts(staff) == before, "a reload dated what a source did to the minute"
    page = staff.get("/staff/").get_data(as_text=True)
    assert "Counted at the last sweep" in page
    # The next sweep counts the new report (and urgent work can set the period to an hour).
    _sweep(app)
    assert counts(staff) == {"new": 2, "items": 2, "sources": 2}


def test_polling_the_export_is_counted_at_the_sweep_and_dates_no_arrival(
    app: Flask, visitor: Visitor, staff: FlaskClient
) -> None:
    """With the dashboard's counts the last sweep's, a colleague polls the export instead:
    "Nothing to export" until the minute a report comes. Each empty press was audited at
    once (`export-nothing`), so the log, read off a seized disk, put the press and the
    export that found the report in order on one day: the report came between them. The
    presses are now counted, per account, and audited by the next sweep."""
    for _ in range(3):
        assert export(staff).status_code == 303
    report(visitor, "The SHO took money")
    assert export(staff).status_code == 200
    seized = [(actor, action) for actor, action, _ in audit_trail(app)]
    last_export = max(n for n, (_, action) in enumerate(seized) if action == "export")
    before = seized[:last_export]
    pressed = [n for n, (_, action) in enumerate(before) if action == "export-nothing"]
    assert not pressed, (
        f"the log puts {len(pressed)} press(es) that found nothing before the export that "
        f"found the report, on its day: it came after entry {pressed[-1]} of {len(seized)}"
    )
    _sweep(app)
    presses = [(action, detail) for _, action, detail in audit_trail(app)]
    assert presses.count(("export-nothing", {"presses": 3})) == 1, "the presses left no trace"
    assert [action for action, _ in presses].count("export") == 1
    _sweep(app)
    assert [action for _, action, _ in audit_trail(app)].count("export-nothing") == 1


def test_a_report_that_comes_as_the_dashboard_counts_is_not_counted_before_the_sweep(
    app: Flask, visitor: Visitor, staff: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The envelopes waiting for the sweep were listed, then the rows counted: a report whose
    file went into holding and row committed in between was counted at once, dated."""
    _sweep(app)
    report(visitor, "The SHO took money")  # its file waits in holding, its row is there
    looks: list[int] = []
    listing = EnvelopeStore.held

    def listed_before_it_came(store: EnvelopeStore) -> list[str]:
        looks.append(1)
        return [] if len(looks) == 1 else listing(store)

    monkeypatch.setattr(EnvelopeStore, "held", listed_before_it_came)
    assert counts(staff) == {"new": 0, "items": 0, "sources": 0}, "a report counted unswept"
