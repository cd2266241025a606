"""Under a keyring of hybrid reviewers the server seals to this week's subkeys, or takes nothing.

The attacks: a missing, expired or rogue list, where a server might fall back
to the reviewers' long-term keys; a week that turns during an upload; an API
upload sealed to long-term keys or to a week already closed (rule D2). Each
must store nothing and show the 503 page (or the API's error), never a trace.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from app.cli import main
from app.instance import InstancePaths
from app.models import today
from app.operations import exchange
from app.services import context
from app.subkeys import list_path, subkeys_dir
from crypto import (
    DecryptionError,
    Manifest,
    Metadata,
    SigningKey,
    open_bytes,
    read_header,
    seal_bytes,
)
from crypto.envelope.version import V2
from crypto.exchange import read_export
from crypto.subkeys import (
    Period,
    SignedSubkeyList,
    SubkeyList,
    closed_through,
    open_with_subkeys,
    sign_subkeys,
)
from tests.app.api_support import ApiClient
from tests.app.operations.test_exchange import Review, cli
from tests.app.subkeys_support import install, long_term, publish, signed_list, without_lists
from tests.app.support import (
    Visitor,
    assert_clean_page,
    assert_form_given_back,
    assert_nothing_stored,
    envelope_files,
    reviewer_keys,
    staging_files,
)
from tests.app.test_keyring import Clock, Tripwire, large_report

THIS_WEEK = Period.of(today())


@pytest.fixture
def hybrid(instance: Path) -> Path:
    """The demo instance, its keyring of hybrid reviewers (format 3), without a subkey list."""
    return without_lists(instance)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Control the day the server seals on."""
    fake = Clock()
    monkeypatch.setattr(context, "today", fake)
    return fake


def send_report(visitor: Visitor, message: str = "the SHO") -> int:
    """Send a first report with one file; the status code."""
    page = visitor.start()
    return visitor.send(page, message, [("files", "list.txt", b"names", "text/plain")]).status_code


def test_a_browser_report_is_sealed_v2_to_this_weeks_subkey_only(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor
) -> None:
    secrets = publish(runner, hybrid, THIS_WEEK)
    assert send_report(visitor) == 200
    stored = envelope_files(hybrid)
    assert len(stored) == 2
    x25519 = reviewer_keys(hybrid).encryption
    assert x25519 is not None
    for path in stored:
        data = path.read_bytes()
        assert read_header(io.BytesIO(data)).version is V2
        week, _ = open_with_subkeys(io.BytesIO(data), io.BytesIO(), secrets)
        assert week == THIS_WEEK
        # Neither long-term key opens it: the week's secret is the only way in.
        with pytest.raises(DecryptionError):
            open_bytes(data, [x25519, long_term(hybrid)])


def test_without_a_list_a_report_gets_the_busy_page_before_its_body_is_read(
    hybrid: Path, app: Flask, visitor: Visitor
) -> None:
    body, content_type = large_report(visitor)
    stream = Tripwire(body, len(body) + 1, lambda: None)
    response = visitor.client.post(
        "/submit", input_stream=stream, content_length=len(body), content_type=content_type
    )
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)
    assert_clean_page(response, "the SHO")
    assert stream.bytes_read == 0
    assert_nothing_stored(app, hybrid)


def test_an_expired_list_stops_reports_and_never_falls_back(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor, clock: Clock
) -> None:
    publish(runner, hybrid, THIS_WEEK, count=1)
    clock.day = THIS_WEEK.after().first_day
    assert send_report(visitor) == 503
    assert_nothing_stored(app, hybrid)


def test_a_list_of_long_term_keys_put_on_disk_by_hand_stops_reports(
    hybrid: Path, app: Flask, visitor: Visitor
) -> None:
    signing = reviewer_keys(hybrid).signing
    assert signing is not None
    rogue = SubkeyList(signing.verify_key, today(), ((THIS_WEEK, long_term(hybrid).public_key),))
    paths = InstancePaths(hybrid)
    subkeys_dir(paths).mkdir(mode=0o700)
    (recipient,) = context_manifest(app).recipients
    list_path(paths, recipient.id).write_bytes(sign_subkeys(rogue, signing).to_bytes())
    assert send_report(visitor) == 503
    assert_nothing_stored(app, hybrid)


def bound_list(instance: Path, instance_id: str, version: int = 1) -> SignedSubkeyList:
    """The demo reviewer's list of this week and the next three, bound to `instance_id`."""
    _, signed = signed_list(instance, THIS_WEEK, 4)
    signing = reviewer_keys(instance).signing
    assert signing is not None
    bound = dataclasses.replace(signed.subkeys, instance=instance_id, keyring=version)
    return sign_subkeys(bound, signing)


def test_a_list_the_reviewer_signed_for_another_instance_is_not_installed(
    hybrid: Path, runner: CliRunner
) -> None:
    # A consultant reviewer with one key for two organisations: B's list is not A's.
    result = install(runner, hybrid, bound_list(hybrid, "f" * 32))
    assert result.exit_code == 1
    assert "raazdar: error: subkey list refused: instance" in result.output
    assert "Traceback" not in result.output
    assert not subkeys_dir(InstancePaths(hybrid)).exists()


def _another_instances_list_put_by_hand(app: Flask, hybrid: Path) -> None:
    """The reviewer's list signed for another instance, laid where installed lists lie."""
    paths = InstancePaths(hybrid)
    subkeys_dir(paths).mkdir(mode=0o700)
    (recipient,) = context_manifest(app).recipients
    list_path(paths, recipient.id).write_bytes(bound_list(hybrid, "f" * 32).to_bytes())


def test_a_list_for_another_instance_put_on_disk_by_hand_stops_reports(
    hybrid: Path, app: Flask, visitor: Visitor
) -> None:
    _another_instances_list_put_by_hand(app, hybrid)
    assert send_report(visitor) == 503
    assert_nothing_stored(app, hybrid)


def test_a_list_bound_to_this_instance_installs_and_seals(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor
) -> None:
    manifest = context_manifest(app)
    assert manifest.instance is not None
    result = install(runner, hybrid, bound_list(hybrid, manifest.instance.id, manifest.version))
    assert result.exit_code == 0, result.output
    assert send_report(visitor) == 200
    later = bound_list(hybrid, manifest.instance.id, manifest.version + 1)
    result = install(runner, hybrid, later)
    assert result.exit_code == 1
    assert "raazdar: error: subkey list refused: keyring" in result.output


def test_a_list_replaced_by_hand_after_a_report_stops_the_next_one(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor
) -> None:
    # The keys found for one report are kept for the next: never past a change of list.
    publish(runner, hybrid, THIS_WEEK)
    assert send_report(visitor) == 200
    stored = set(envelope_files(hybrid))
    signing = reviewer_keys(hybrid).signing
    assert signing is not None
    rogue = SubkeyList(signing.verify_key, today(), ((THIS_WEEK, long_term(hybrid).public_key),))
    (recipient,) = context_manifest(app).recipients
    list_path(InstancePaths(hybrid), recipient.id).write_bytes(
        sign_subkeys(rogue, signing).to_bytes()
    )
    assert send_report(Visitor(app.test_client())) == 503
    assert set(envelope_files(hybrid)) == stored


def test_the_keys_of_a_report_are_not_kept_past_their_week(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor, clock: Clock
) -> None:
    publish(runner, hybrid, THIS_WEEK, count=1)
    assert send_report(visitor) == 200
    stored = set(envelope_files(hybrid))
    clock.day = THIS_WEEK.after().first_day
    assert send_report(Visitor(app.test_client())) == 503
    assert set(envelope_files(hybrid)) == stored


def test_a_week_that_turns_during_an_upload_refuses_it_and_stores_nothing(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor, clock: Clock
) -> None:
    publish(runner, hybrid, THIS_WEEK)

    def next_week() -> None:
        clock.day = THIS_WEEK.after().first_day

    body, content_type = large_report(visitor)
    stream = Tripwire(body, len(body) // 2, next_week)
    response = visitor.client.post(
        "/submit", input_stream=stream, content_length=len(body), content_type=content_type
    )
    assert stream.action is None
    # Nothing is stored, and the source is given their words back to send again.
    assert_form_given_back(response, "the SHO", "video.mp4")
    assert_nothing_stored(app, hybrid)


@pytest.mark.keyring_format(2)
def test_a_keyring_without_hybrid_reviewers_still_seals_v1_to_long_term_keys(
    instance: Path, runner: CliRunner, visitor: Visitor
) -> None:
    assert send_report(visitor) == 200
    x25519 = reviewer_keys(instance).encryption
    assert x25519 is not None
    for path in envelope_files(instance):
        open_bytes(path.read_bytes(), [x25519])


# Installing lists.


def test_an_installed_list_is_private_and_replaced_whole(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    secrets = publish(runner, hybrid, THIS_WEEK, count=4)
    publish(runner, hybrid, THIS_WEEK.after(2), count=6, secrets=secrets)
    paths = InstancePaths(hybrid)
    (recipient,) = context_manifest(app).recipients
    path = list_path(paths, recipient.id)
    assert stat.S_IMODE(subkeys_dir(paths).stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in subkeys_dir(paths).iterdir()) == [path.name]


def test_a_list_that_disagrees_with_the_installed_one_is_refused(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    publish(runner, hybrid, THIS_WEEK)
    _, other = signed_list(hybrid, THIS_WEEK)
    result = install(runner, hybrid, other)
    assert result.exit_code == 1
    assert "raazdar: error: subkey list refused: disagrees" in result.output


def test_a_list_by_someone_not_in_the_keyring_is_refused(
    hybrid: Path, runner: CliRunner, tmp_path: Path
) -> None:
    from crypto import SigningKey
    from crypto.subkeys import generate

    stranger = SigningKey.generate()
    listed = generate(THIS_WEEK, 2).public_list(stranger.verify_key, today())
    result = install(runner, hybrid, sign_subkeys(listed, stranger))
    assert result.exit_code == 1
    assert "signer" in result.output
    assert not subkeys_dir(InstancePaths(hybrid)).exists()


def test_keyring_show_lists_days_left_and_warns_when_short(hybrid: Path, runner: CliRunner) -> None:
    publish(runner, hybrid, THIS_WEEK, count=1)
    result = runner.invoke(main, ["--instance", str(hybrid), "keyring", "show"])
    assert result.exit_code == 0, result.output
    left = (THIS_WEEK.last_day - today()).days + 1
    assert f"subkeys           {THIS_WEEK} to {THIS_WEEK} ({left} day(s) left)" in result.output
    assert "raazdar: warning: no report can be taken once" in result.output


def test_keyring_show_does_not_count_days_on_a_list_for_another_instance(
    hybrid: Path, app: Flask, runner: CliRunner
) -> None:
    _another_instances_list_put_by_hand(app, hybrid)
    result = runner.invoke(main, ["--instance", str(hybrid), "keyring", "show"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("subkeys ")]
    assert "day(s) left" not in line, f"keyring show counted days on a list it refuses: {line}"
    assert "another instance" in line
    assert "raazdar: warning: no report can be taken once" in result.output


# The API: lists served to raazdar-submit, and rule D2 on what it uploads.


def test_the_keyring_document_serves_the_lists(
    hybrid: Path, app: Flask, runner: CliRunner, client: FlaskClient
) -> None:
    publish(runner, hybrid, THIS_WEEK)
    (recipient,) = context_manifest(app).recipients
    doc = client.get("/api/v1/keyring").get_json()
    served = doc["subkeys"][recipient.id]
    assert json.dumps(served, sort_keys=True) == json.dumps(
        json.loads(list_path(InstancePaths(hybrid), recipient.id).read_bytes()), sort_keys=True
    )


def test_an_api_upload_sealed_to_this_weeks_subkey_is_stored(
    hybrid: Path, runner: CliRunner, device: ApiClient
) -> None:
    secrets = publish(runner, hybrid, THIS_WEEK)
    key = secrets.get(THIS_WEEK)
    assert key is not None
    device.upload(seal_bytes(b"report", [key.public_key], Metadata("report")))
    assert len(envelope_files(hybrid)) == 1


@pytest.mark.parametrize("sealed_to", ["long-term", "closed-week"])
def test_d2_refuses_an_api_upload_not_sealed_to_an_open_week(
    hybrid: Path, runner: CliRunner, device: ApiClient, clock: Clock, sealed_to: str
) -> None:
    secrets = publish(runner, hybrid, THIS_WEEK)
    key = long_term(hybrid) if sealed_to == "long-term" else secrets.get(THIS_WEEK)
    assert key is not None
    if sealed_to == "closed-week":
        clock.day = THIS_WEEK.after().first_day + dt.timedelta(days=1)
    envelope = seal_bytes(b"report", [key.public_key], Metadata("report"))
    started = device.start_upload(envelope)
    assert started.status_code == 201, started.get_data(as_text=True)
    upload = started.get_json()["upload"]
    response = device.patch(upload, 0, envelope)
    assert response.status_code == 422
    assert response.get_json()["error"] == "wrong-recipients"
    assert envelope_files(hybrid) == []
    assert staging_files(hybrid) == []


def test_without_a_list_an_api_upload_is_refused_at_the_start(
    hybrid: Path, device: ApiClient
) -> None:
    envelope = seal_bytes(b"report", [long_term(hybrid).public_key], Metadata("report"))
    response = device.start_upload(envelope)
    assert response.status_code == 503
    assert response.get_json()["error"] == "keyring-unavailable"


def context_manifest(app: Flask) -> Manifest:
    """The keyring in force as the app sees it."""
    with app.app_context():
        return context.services().manifest()


def export_ahead(
    instance: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dt.date:
    """Export with the server's clock two weeks ahead, then set it right; the bundle's day."""
    monkeypatch.setattr(exchange, "today", clock)
    clock.day = today() + dt.timedelta(days=14)
    assert cli(instance, "export", "--out", str(tmp_path / "ahead.rzb"))[0] == 0
    review = Review(instance, reviewer_keys(instance))
    server = SigningKey.from_text(review.paths.signing_key.read_text()).verify_key
    with (tmp_path / "ahead.rzb").open("rb") as src:
        _, manifest = read_export(src, [server], review.instance_id)
    clock.day = today()
    return manifest.created


def test_after_an_export_dated_ahead_no_report_is_sealed_to_a_week_that_export_closed(
    hybrid: Path,
    app: Flask,
    runner: CliRunner,
    visitor: Visitor,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The server's clock ran two weeks ahead for an export, then was set right (NTP).

    Rule D1 lets the workstation destroy every week that export's day closes, once
    its own clock says they closed; a report sealed to one of them after that
    export reaches it only in a later bundle, when no key opens it any more.
    """
    secrets = publish(runner, hybrid, THIS_WEEK)
    created = export_ahead(hybrid, clock, monkeypatch, tmp_path)
    closed = closed_through(created)
    send_report(visitor)
    for path in envelope_files(hybrid):
        week, _ = open_with_subkeys(io.BytesIO(path.read_bytes()), io.BytesIO(), secrets)
        assert week > closed, (
            f"a report was sealed to {week}, which the newest export (dated "
            f"{created}) lets the workstation destroy before the report is exported"
        )


def test_after_an_export_dated_ahead_an_api_upload_to_a_week_it_closed_is_refused(
    hybrid: Path,
    runner: CliRunner,
    device: ApiClient,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    secrets = publish(runner, hybrid, THIS_WEEK)
    export_ahead(hybrid, clock, monkeypatch, tmp_path)
    key = secrets.get(THIS_WEEK)
    assert key is not None
    envelope = seal_bytes(b"report", [key.public_key], Metadata("report"))
    upload = device.start_upload(envelope).get_json()["upload"]
    response = device.patch(upload, 0, envelope)
    assert response.status_code == 422, "an upload to a week the newest export closed was stored"
    assert envelope_files(hybrid) == []


def test_a_report_reads_the_latest_export_day_once(
    hybrid: Path,
    runner: CliRunner,
    visitor: Visitor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The latest export's day is read on a connection of its own: a report asked it as it
    sealed and again as it filed, two connections and statements on every upload's path
    for one answer. Once per request now (the clock is still read at each ask: a week
    turning during an upload is refused, above), and the report is still sealed."""
    publish(runner, hybrid, THIS_WEEK)
    reads = []
    real = context.Services._latest_export_day

    def counted(self: context.Services) -> dt.date | None:
        reads.append(1)
        return real(self)

    monkeypatch.setattr(context.Services, "_latest_export_day", counted)
    send_report(visitor)
    assert len(reads) == 1, f"one report read the latest export's day {len(reads)} times"
    assert envelope_files(hybrid)


def test_a_report_takes_no_connection_of_its_own_for_the_latest_export_day(
    hybrid: Path, app: Flask, runner: CliRunner, visitor: Visitor
) -> None:
    """The latest export's day was read on a connection of its own, a second checkout from
    the pool on every report's path for one row, where the request's own connection reads
    the settings' revision at the same moment. It is read on the request's connection now,
    and the report is still sealed to this week's subkey (above). The first report of a
    worker also reads, once per change of the files, what the audit log says of keyrings
    and replaced subkeys: another source's report sent first leaves those read."""
    publish(runner, hybrid, THIS_WEEK)
    first = Visitor(app.test_client())
    first.client.get("/lang/en")
    assert send_report(first) == 200
    page = visitor.start()
    engine = app.extensions["raazdar.db"].engine
    checkouts: list[int] = []

    def counted(*_args: object) -> None:
        checkouts.append(1)

    event.listen(engine, "checkout", counted)
    try:
        response = visitor.send(page, "the SHO", [("files", "list.txt", b"names", "text/plain")])
    finally:
        event.remove(engine, "checkout", counted)
    visitor.filed(response)
    assert len(envelope_files(hybrid)) == 4
    # The request's session before its body and again after it (none is held while the
    # body comes: `app.limits`), and on SQLite the connection that empties the WAL as it ends.
    wanted = 3 if engine.dialect.name == "sqlite" else 2
    assert len(checkouts) <= wanted, f"one report took {len(checkouts)} connections from the pool"
