"""The keyring in force: without a valid one no report is taken; a change mid-upload is caught."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.demo import DEMO_PASSPHRASE, DEMO_REVIEWER, TIMESTAMP_KEY_NAME
from app.instance import InstancePaths
from app.keyring import manifest_path, read_timestamp
from app.models import today
from app.services import context
from crypto import (
    DecryptionError,
    KeyFile,
    Period,
    SignedManifest,
    SigningKey,
    make_timestamp,
    open_bytes,
)
from tests.app.subkeys_support import publish, without_lists
from tests.app.support import (
    Visitor,
    assert_clean_page,
    assert_form_given_back,
    assert_nothing_stored,
    envelope_files,
    form,
    install_subkeys,
    install_successor,
    multipart,
    new_reviewer,
    opened_envelopes,
    remove_keyring,
    reviewer_openers,
    staging_files,
)

MIB = 1024 * 1024


class Tripwire(io.BytesIO):
    """A request body that runs `action` once `at` bytes of it have been read."""

    def __init__(self, data: bytes, at: int, action: Callable[[], None]) -> None:
        super().__init__(data)
        self.at = at
        self.action: Callable[[], None] | None = action
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        if self.action is not None and self.bytes_read >= self.at:
            action, self.action = self.action, None
            action()
        return data


class Clock:
    """The day the server thinks it is, for `app.services.context.today`."""

    def __init__(self) -> None:
        self.day = today()

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Control the day the keyring is checked against."""
    fake = Clock()
    monkeypatch.setattr(context, "today", fake)
    return fake


def expiry(instance: Path) -> dt.date:
    """The day the demo keyring expires."""
    data = sorted((instance / "keyring" / "manifests").glob("*.json"))[-1].read_bytes()
    return SignedManifest.from_bytes(data).manifest.expires


def large_report(visitor: Visitor) -> tuple[bytes, str]:
    """A first report with a 3 MiB file: read in several blocks, so a change can fall between."""
    page = visitor.start()
    return multipart(
        [*page.fields.items(), ("message", "the SHO")],
        [("files", "video.mp4", b"\x01" * (3 * MIB), "video/mp4")],
    )


def test_without_a_keyring_a_report_is_refused_before_its_body_is_read(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    body, content_type = large_report(visitor)
    remove_keyring(instance)
    stream = Tripwire(body, len(body) + 1, lambda: None)
    response = visitor.client.post(
        "/submit", input_stream=stream, content_length=len(body), content_type=content_type
    )
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)
    assert_clean_page(response, "the SHO")
    assert stream.bytes_read == 0
    assert_nothing_stored(app, instance)


@pytest.mark.parametrize("path", ["/", "/submit", "/login", "/resources", "/keys", "/logged-out"])
def test_without_a_keyring_the_pages_still_work(
    instance: Path, visitor: Visitor, path: str
) -> None:
    remove_keyring(instance)
    visitor.get(path)


def test_without_a_keyring_the_keys_page_says_reports_cannot_be_taken(
    instance: Path, visitor: Visitor
) -> None:
    remove_keyring(instance)
    assert "No valid keyring is in force" in visitor.get("/keys")
    keys = json.loads(visitor.get("/keys.json"))
    assert keys["in_force"] is None
    assert keys["manifests"] == []
    assert len(keys["pinned_authorities"]) == 3


def test_without_a_keyring_a_source_can_still_log_in_but_not_send(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    page = visitor.start()
    visitor.filed(visitor.send(page, "first"))
    visitor.log_out()
    remove_keyring(instance)
    assert visitor.log_in(page.fields["codename"]).status_code == 303
    more = form(visitor.get("/account"), "/account")
    before = envelope_files(instance)
    response = visitor.send(more, "more")
    assert response.status_code == 503
    assert envelope_files(instance) == before
    assert staging_files(instance) == []


def test_an_expired_keyring_refuses_reports(
    app: Flask, instance: Path, visitor: Visitor, clock: Clock
) -> None:
    page = visitor.start()
    clock.day = expiry(instance) + dt.timedelta(days=1)
    response = visitor.send(page, "the SHO")
    assert response.status_code == 503
    assert_clean_page(response, "the SHO")
    assert_nothing_stored(app, instance)
    assert "No valid keyring is in force" in visitor.get("/keys")


def test_the_last_day_of_a_keyring_still_takes_reports(
    instance: Path, visitor: Visitor, clock: Clock
) -> None:
    page = visitor.start()
    clock.day = expiry(instance) - dt.timedelta(days=1)
    # A subkey list covering that day (the demo's covers 8 weeks from today).
    publish(CliRunner(), without_lists(instance), Period.of(clock.day), count=1)
    visitor.filed(visitor.send(page, "the SHO"))


def _expire(instance: Path, clock: Clock) -> None:
    clock.day = expiry(instance) + dt.timedelta(days=1)


def _remove(instance: Path, clock: Clock) -> None:
    remove_keyring(instance)


def _rotate(instance: Path, clock: Clock) -> None:
    # The only reviewer is replaced (say, their key was lost): new reports must not reach them.
    install_successor(instance, [new_reviewer()[1]])


@pytest.mark.parametrize(
    "change", [_expire, _remove, _rotate], ids=["expired", "removed", "rotated"]
)
def test_a_keyring_change_during_an_upload_refuses_it_and_stores_nothing(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    clock: Clock,
    change: Callable[[Path, Clock], None],
) -> None:
    body, content_type = large_report(visitor)
    stream = Tripwire(body, len(body) // 2, lambda: change(instance, clock))
    response = visitor.client.post(
        "/submit", input_stream=stream, content_length=len(body), content_type=content_type
    )
    assert stream.action is None, "the keyring did not change mid-upload"
    # Nothing is stored, and the source is given their words back to send again.
    assert_form_given_back(response, "the SHO", "video.mp4")
    assert_nothing_stored(app, instance)


def test_a_newer_keyring_seals_new_reports_to_its_reviewers(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    keys, reviewer = new_reviewer()
    install_successor(instance, [reviewer])
    subkey = install_subkeys(instance, keys)
    visitor.filed(visitor.send(visitor.start(), "for the new reviewer"))
    (path,) = envelope_files(instance)
    plaintext, _ = open_bytes(path.read_bytes(), [subkey])
    assert b"for the new reviewer" in plaintext
    with pytest.raises(DecryptionError):
        open_bytes(path.read_bytes(), reviewer_openers(instance))
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2


@pytest.mark.parametrize(
    "signers",
    [lambda: [SigningKey.generate(), SigningKey.generate()], lambda: []],
    ids=["strangers", "unsigned"],
)
def test_a_keyring_the_authorities_did_not_sign_takes_nothing(
    app: Flask, instance: Path, visitor: Visitor, signers: Callable[[], list[SigningKey]]
) -> None:
    install_successor(instance, [new_reviewer()[1]], signers=signers())
    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503
    assert_nothing_stored(app, instance)
    assert json.loads(visitor.get("/keys.json"))["in_force"] is None


def test_each_report_is_sealed_to_every_reviewer_in_force(instance: Path, visitor: Visitor) -> None:
    second_keys, second = new_reviewer("second-reviewer")
    first = SignedManifest.from_bytes(
        sorted((instance / "keyring" / "manifests").glob("*.json"))[0].read_bytes()
    ).manifest.recipients
    install_successor(instance, [*first, second])
    subkey = install_subkeys(instance, second_keys)
    visitor.send(visitor.start(), "for both", [("files", "a.txt", b"file for both", "text/plain")])
    for path in envelope_files(instance):
        open_bytes(path.read_bytes(), [subkey])
    assert len(opened_envelopes(instance)) == 2


@pytest.mark.parametrize("returning", [False, True], ids=["new-source", "returning-source"])
def test_a_report_with_a_file_looks_at_the_keyring_once_before_its_body_and_once_after(
    app: Flask,
    instance: Path,
    visitor: Visitor,
    monkeypatch: pytest.MonkeyPatch,
    returning: bool,
) -> None:
    # Before the body, to know what to seal the files to; after it, to seal the report and
    # check the files': each look lists the manifests and the subkey lists, which are
    # syscalls on every report (docs/benchmarks.md, the uploads' tenth pass).
    page = visitor.start()
    if returning:
        visitor.filed(visitor.send(page, "first"))
        page = form(visitor.get("/account"), "/account")
    with app.app_context():
        context.services().recipients()  # as a worker's are: read once, at its first report
    keyring = instance / "keyring"
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: Any = ".") -> Any:
        if Path(os.fsdecode(path)).parent == keyring:
            listed.append(Path(os.fsdecode(path)).name)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    response = visitor.send(page, "the SHO", [("files", "a.txt", b"a file", "text/plain")])
    visitor.filed(response)
    assert dict(Counter(listed)) == {"manifests": 2, "subkeys": 2}


def test_a_keyring_whose_timestamp_lapsed_takes_no_browser_report(
    app: Flask, instance: Path, visitor: Visitor, clock: Clock
) -> None:
    # The administrators withhold keyring v2 (which drops a revoked reviewer) and stop
    # renewing v1's timestamp: `raazdar-submit` devices refuse v1 once the timestamp
    # lapses (docs/PROTOCOL.md §8.8). Before, the server went on sealing browser reports
    # to v1's reviewers until v1 itself expired, up to a year later.
    paths = InstancePaths(instance)
    manifest = SignedManifest.from_bytes(manifest_path(paths, 1).read_bytes()).manifest
    key = _demo_timestamp_key(paths)
    (paths.demo_keys / TIMESTAMP_KEY_NAME).unlink()  # a real instance holds no timestamp key
    stamp = make_timestamp(manifest, key, issued=clock.day, days=7)
    (paths.keyring / "timestamp.json").write_bytes(stamp.to_bytes())
    clock.day = stamp.timestamp.expires + dt.timedelta(days=1)
    publish(CliRunner(), without_lists(instance), Period.of(clock.day), count=1)
    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503, "a browser report was sealed under a lapsed timestamp"
    assert_clean_page(response, "the SHO")
    assert_nothing_stored(app, instance)
    # The next timestamp the administrators sign and install is the way back.
    renewed = make_timestamp(manifest, key, issued=clock.day, days=7)
    (paths.keyring / "timestamp.json").write_bytes(renewed.to_bytes())
    visitor.filed(visitor.send(visitor.start(), "the SHO"))


def _demo_timestamp_key(paths: InstancePaths) -> SigningKey:
    held = paths.demo_keys / TIMESTAMP_KEY_NAME
    key = KeyFile.from_bytes(held.read_bytes()).unlock(DEMO_PASSPHRASE).signing
    assert key is not None
    return key


def test_a_timestamp_older_than_the_one_installed_is_refused(
    instance: Path, tmp_path: Path
) -> None:
    # A corrupt carrier (or a swapped file) hands the administrator last week's timestamp,
    # still fresh, after this week's: installed, it replaced the one that named the
    # reviewer's re-keyed subkey list, and devices without state took the leaked list again
    # (docs/PROTOCOL.md §5A.8) until it lapsed. The server keeps the newer one.
    paths = InstancePaths(instance)
    manifest = SignedManifest.from_bytes(manifest_path(paths, 1).read_bytes()).manifest
    key = _demo_timestamp_key(paths)
    day = today()
    newer = make_timestamp(manifest, key, issued=day, days=7, subkeys={DEMO_REVIEWER: 1})
    replays = {
        "issued earlier": make_timestamp(manifest, key, issued=day - dt.timedelta(days=2), days=7),
        "naming no list": make_timestamp(manifest, key, issued=day, days=7),
    }
    installed = tmp_path / "newer.json"
    installed.write_bytes(newer.to_bytes())
    command = ["--instance", str(instance), "keyring", "timestamp"]
    done = CliRunner().invoke(main, [*command, str(installed)])
    assert done.exit_code == 0, done.output
    for name, stamp in replays.items():
        carried = tmp_path / "older.json"
        carried.write_bytes(stamp.to_bytes())
        result = CliRunner().invoke(main, [*command, str(carried)])
        kept = read_timestamp(paths)
        assert kept is not None
        assert kept.to_bytes() == newer.to_bytes(), f"a timestamp {name} replaced the newer one"
        assert result.exit_code == 1, result.output
        assert "older than the one installed" in result.output, result.output


def test_a_keyring_rolled_back_under_its_timestamp_takes_nothing(
    app: Flask, instance: Path, visitor: Visitor
) -> None:
    # Whoever can write the instance directory removes keyring v2 (which may drop a
    # revoked reviewer): the chain to v1 verifies as well as ever. Before, the server
    # sealed the next browser report to v1's reviewers; the timestamp it keeps says
    # v2 was in force, so now it takes nothing until v2 is installed again.
    v1 = SignedManifest.from_bytes(manifest_path(InstancePaths(instance), 1).read_bytes())
    v2 = install_successor(instance, v1.manifest.recipients)
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2  # its timestamp is made
    stamp = read_timestamp(InstancePaths(instance))
    assert stamp is not None
    assert stamp.timestamp.version == 2
    manifest_path(InstancePaths(instance), 2).unlink()
    response = visitor.send(visitor.start(), "the SHO")
    assert response.status_code == 503
    assert_clean_page(response, "the SHO")
    assert_nothing_stored(app, instance)
    keys = json.loads(visitor.get("/keys.json"))
    assert keys["in_force"] is None
    shown = CliRunner().invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert "the later keyrings' files were removed" in shown.output, shown.output
    # Installing v2 again is the way back.
    carried = instance.parent / "keyring-v2.json"
    carried.write_bytes(v2.to_bytes())
    command = ["--instance", str(instance), "keyring", "install", str(carried)]
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0, again.output
    visitor.filed(visitor.send(visitor.start(), "the SHO"))
