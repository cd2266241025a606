"""Installing a successor keyring: through the admin page and `raazdar keyring install` alike.

A valid successor takes effect for the very next report; every manifest the
`crypto` rules refuse is refused by both doors, and leaves no file behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import io
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, text

from app.cli import main
from app.instance import InstancePaths
from app.keyring import manifest_path
from app.models import Item, today
from app.operations import keyring_admin, sweep
from app.services.audit import entries
from crypto import (
    AuthorityKey,
    DecryptionError,
    KeyPair,
    Recipient,
    SignedManifest,
    SigningKey,
    open_bytes,
    read_header,
)
from tests.app.api_support import ApiClient
from tests.app.seizure import seize
from tests.app.staff.test_staff_admin import (
    Staff,
    add_account,
    audit_actions,
    audit_count,
    staff_browser,
)
from tests.app.support import (
    Visitor,
    db_session,
    demo_authorities,
    envelope_files,
    install_subkeys,
    install_successor,
    new_reviewer,
    reviewer_keys,
    reviewer_openers,
)

# The most the kernel's coarse clock (file stamps) lags time.time_ns(): one tick at HZ=100.
CLOCK_TICK = 10_000_000

# A manifest's bytes, made for an instance (whose newest manifest it may refer to).
Maker = Callable[[Path], bytes]


def newest(instance: Path) -> SignedManifest:
    """The newest manifest on disk."""
    path = sorted(InstancePaths(instance).manifests.glob("*.json"))[-1]
    return SignedManifest.from_bytes(path.read_bytes())


def successor(
    instance: Path,
    recipients: Sequence[Recipient] | None = None,
    *,
    signers: Sequence[SigningKey] | None = None,
    version: int | None = None,
    previous: bytes | None = None,
    issued: dt.date | None = None,
    expires: dt.date | None = None,
    authorities: Sequence[AuthorityKey] | None = None,
) -> SignedManifest:
    """Sign (but do not install) the next manifest, by two demo authorities unless told."""
    current = newest(instance).manifest
    manifest = dataclasses.replace(
        current,
        version=version if version is not None else current.version + 1,
        previous=previous if previous is not None else current.digest(),
        issued=issued or today(),
        expires=expires or today() + dt.timedelta(days=365),
        recipients=tuple(recipients) if recipients is not None else current.recipients,
        authorities=tuple(authorities) if authorities is not None else current.authorities,
    )
    signed = SignedManifest(manifest)
    for key in signers if signers is not None else demo_authorities(instance)[:2]:
        signed = signed.sign(key)
    return signed


def snapshot(instance: Path) -> dict[str, bytes]:
    """Every file in the manifests folder, dot files too."""
    folder = InstancePaths(instance).manifests
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def sealed_recipients(path: Path) -> set[bytes]:
    """The key ids an envelope is sealed to, from its header alone."""
    with path.open("rb") as src:
        return {stanza.key_id for stanza in read_header(src).stanzas}


@pytest.fixture
def admin(app: Flask) -> Staff:
    """An administrator, logged in on the staff listener."""
    return staff_browser(app).log_in(add_account(app, "root", "admin"))


# The two doors.


def install_by_web(admin: Staff, data: bytes) -> tuple[int, str]:
    """Paste a manifest into the admin page; return the status and the page shown."""
    response = admin.post("/staff/admin/keyring/install", {"manifest": data.decode("utf-8")})
    if response.status_code == 303:
        return 303, admin.get(response.location)
    return response.status_code, admin.text(response)


def install_by_upload(admin: Staff, data: bytes) -> tuple[int, str]:
    """Upload a manifest file to the admin page; return the status and the page shown."""
    response = admin.client.post(
        "/staff/admin/keyring/install",
        data={"csrf_token": admin.token(), "file": (io.BytesIO(data), "manifest.json")},
        content_type="multipart/form-data",
    )
    if response.status_code == 303:
        return 303, admin.get(response.location)
    return response.status_code, admin.text(response)


def install_by_cli(runner: CliRunner, instance: Path, data: bytes) -> tuple[int, str]:
    """Run `raazdar keyring install FILE`; return the exit code and everything it printed."""
    path = instance.parent / "successor.json"
    path.write_bytes(data)
    result = runner.invoke(main, ["--instance", str(instance), "keyring", "install", str(path)])
    return result.exit_code, result.output


Door = Callable[[Staff, CliRunner, Path, bytes], tuple[int, str]]


def _web(admin: Staff, runner: CliRunner, instance: Path, data: bytes) -> tuple[int, str]:
    return install_by_web(admin, data)


def _upload(admin: Staff, runner: CliRunner, instance: Path, data: bytes) -> tuple[int, str]:
    return install_by_upload(admin, data)


def _cli(admin: Staff, runner: CliRunner, instance: Path, data: bytes) -> tuple[int, str]:
    return install_by_cli(runner, instance, data)


DOORS = pytest.mark.parametrize("door", [_web, _upload, _cli], ids=["web", "upload", "cli"])
ACCEPTED: dict[Door, int] = {_web: 303, _upload: 303, _cli: 0}
REFUSED: dict[Door, int] = {_web: 400, _upload: 400, _cli: 1}


# A valid successor.


@DOORS
def test_a_valid_successor_seals_the_next_report_to_the_new_reviewers(
    app: Flask,
    instance: Path,
    admin: Staff,
    runner: CliRunner,
    visitor: Visitor,
    door: Door,
) -> None:
    keys, reviewer = new_reviewer()
    old = reviewer_keys(instance)
    signed = successor(instance, [reviewer])
    status, said = door(admin, runner, instance, signed.to_bytes())
    assert status == ACCEPTED[door], said
    assert "version 2" in said or "v2" in said
    assert manifest_path(InstancePaths(instance), 2).read_bytes() == signed.to_bytes()
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2

    # Under format 3 the new reviewer's subkey list goes in next (checked against this keyring).
    subkey = install_subkeys(instance, keys)
    visitor.filed(visitor.send(visitor.start(), "for the new reviewer"))
    (path,) = envelope_files(instance)
    assert sealed_recipients(path) == {subkey.public_key.fingerprint.key_id}
    plaintext, _ = open_bytes(path.read_bytes(), [subkey])
    assert b"for the new reviewer" in plaintext
    with pytest.raises(DecryptionError):
        open_bytes(path.read_bytes(), [*old.decryption_keys, *reviewer_openers(instance)])


def test_an_install_that_keeps_the_reviewers_splits_no_day_of_arrivals(
    app: Flask, instance: Path, runner: CliRunner, device: ApiClient
) -> None:
    """A seizer reads the items' rows and headers: reports sealed to the same keys before an
    install and after it (the install's day is in the audit log) say nothing of which came first."""

    def report(visitor: Visitor) -> None:
        visitor.filed(visitor.send(visitor.start(), "the same words"))
        device.keyring()  # as the end-to-end client does before each submission
        device.submit("the same words")

    report(Visitor(app.test_client()))
    with db_session(app) as session:
        before = set(session.execute(select(Item.id)).scalars())
    status, said = install_by_cli(runner, instance, successor(instance).to_bytes())
    assert status == 0, said
    report(Visitor(app.test_client()))

    # What a seizer sees of each item but its random ids: every column, and its header.
    random = {"id", "source_id", "submission_id"}
    headers = {p.stem: sealed_recipients(p) for p in envelope_files(instance)}
    with db_session(app) as session:
        rows = session.execute(text("SELECT * FROM items")).mappings().all()
    seen: dict[bool, set[tuple[object, ...]]] = {True: set(), False: set()}
    for row in rows:
        columns = sorted((k, v) for k, v in row.items() if k not in random)
        seen[row["id"] in before].add((*columns, *sorted(headers[row["id"]])))
    assert len(rows) == 4  # a report from a browser and one from a device, twice
    assert seen[True] == seen[False]


def test_after_the_sweep_no_keyring_file_dates_an_install(
    instance: Path, runner: CliRunner
) -> None:
    """The stamps of the keyring's files: the install's, to the nanosecond, dated the day's
    reports whose headers name a new keyring's keys apart from the others (see above)."""
    keyring = InstancePaths(instance).keyring
    signed = successor(instance).to_bytes()  # read before: the test's reads set access times
    time.sleep(0.05)  # the instance was made just before, a coarse tick before `start`
    start = time.time_ns() - CLOCK_TICK
    status, said = install_by_cli(runner, instance, signed)
    assert status == 0, said
    end = time.time_ns()
    time.sleep(0.05)  # the sweep's own stamps come after the install's
    result = runner.invoke(main, ["--instance", str(instance), "sweep", "--force"])
    assert result.exit_code == 0, result.output
    seized = seize(instance)
    dated = {
        f"{path.relative_to(instance)} {name}": value
        for path, stamps in seized.stamps.items()
        if path.is_relative_to(keyring)
        for name, value in stamps.times().items()
        if start <= value <= end
    }
    assert len([p for p in seized.stamps if p.is_relative_to(keyring)]) > 3
    assert dated == {}
    # Made anew, not changed: the keyring in force is the one installed.
    assert manifest_path(InstancePaths(instance), 2).read_bytes() == signed
    assert newest(instance).to_bytes() == signed


def test_a_manifest_being_read_is_read_whole_while_the_sweep_makes_it_anew(
    instance: Path, runner: CliRunner
) -> None:
    path = manifest_path(InstancePaths(instance), 1)
    whole, inode = path.read_bytes(), path.stat().st_ino
    with path.open("rb") as reading:  # as a request loading the keyring may hold it
        result = runner.invoke(main, ["--instance", str(instance), "sweep", "--force"])
        assert result.exit_code == 0, result.output
        assert path.stat().st_ino != inode  # made anew: no sweep had run
        assert reading.read() == whole
    assert path.read_bytes() == whole


def test_a_manifest_a_full_disk_kept_from_being_made_anew_is_made_anew_by_the_next_sweep(
    instance: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = manifest_path(InstancePaths(instance), 1)
    inode = path.stat().st_ino

    def full(target: Path, data: bytes, place: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    sweep_now = ["--instance", str(instance), "sweep", "--force"]
    with monkeypatch.context() as patch:
        patch.setattr(sweep, "write_whole", full)
        result = runner.invoke(main, sweep_now)
    assert result.exit_code == 0, result.output  # the rest of the sweep is done
    assert path.stat().st_ino == inode
    assert runner.invoke(main, sweep_now).exit_code == 0
    assert path.stat().st_ino != inode
    assert path.stat().st_mtime_ns == 0


@DOORS
def test_an_install_is_audited_with_its_actor(
    app: Flask, instance: Path, admin: Staff, runner: CliRunner, door: Door
) -> None:
    _keys, reviewer = new_reviewer()
    status, said = door(admin, runner, instance, successor(instance, [reviewer]).to_bytes())
    assert status == ACCEPTED[door], said
    assert audit_actions(app)[-1] == "keyring-installed"
    with db_session(app) as session:
        entry = entries(session, limit=1)[0]
        assert entry.actor == ("console" if door is _cli else "root")
        detail = json.loads(entry.detail)
        assert detail["version"] == 2
        assert detail["reviewers"] == [str(reviewer.encryption_key.fingerprint)]


def test_a_rotation_signed_by_the_old_and_the_new_authorities_is_accepted(
    instance: Path, admin: Staff
) -> None:
    new_keys = [SigningKey.generate() for _ in range(3)]
    rotated = successor(
        instance,
        authorities=[AuthorityKey(f"new {i}", k.verify_key) for i, k in enumerate(new_keys)],
        signers=[*demo_authorities(instance)[:2], *new_keys[:2]],
    )
    status, said = install_by_web(admin, rotated.to_bytes())
    assert status == 303, said
    # The next one needs the new set: the old authorities alone no longer count.
    assert install_by_web(admin, successor(instance).to_bytes())[0] == 400
    assert install_by_web(admin, successor(instance, signers=new_keys[1:]).to_bytes())[0] == 303


def test_a_successor_can_replace_an_expired_keyring(
    instance: Path, admin: Staff, visitor: Visitor
) -> None:
    # Version 2 was valid once and has now expired: no report is taken.
    expired = successor(
        instance, issued=today() - dt.timedelta(days=40), expires=today() - dt.timedelta(days=1)
    )
    manifest_path(InstancePaths(instance), 2).write_bytes(expired.to_bytes())
    assert visitor.send(visitor.start(), "refused").status_code == 503
    status, said = install_by_web(admin, successor(instance).to_bytes())
    assert status == 303, said
    visitor.filed(visitor.send(visitor.start(), "taken again"))


def test_a_pasted_manifest_may_be_reformatted(instance: Path, admin: Staff) -> None:
    """What is signed is the content, not the whitespace: line breaks and indents are fine."""
    pretty = json.dumps(json.loads(successor(instance).to_bytes()), indent=2).replace("\n", "\r\n")
    status, said = install_by_web(admin, pretty.encode())
    assert status == 303, said


# Refusals.


def _strangers(instance: Path) -> bytes:
    return successor(instance, signers=[SigningKey.generate(), SigningKey.generate()]).to_bytes()


def _one_signature(instance: Path) -> bytes:
    return successor(instance, signers=demo_authorities(instance)[:1]).to_bytes()


def _unsigned(instance: Path) -> bytes:
    return successor(instance, signers=[]).to_bytes()


def _reviewer_signed(instance: Path) -> bytes:
    signing = reviewer_keys(instance).signing
    assert signing is not None
    return successor(instance, signers=[signing, demo_authorities(instance)[0]]).to_bytes()


def _same_version(instance: Path) -> bytes:
    current = newest(instance).manifest
    # Another version 2, chained to version 1 as the installed version 2 is.
    return successor(
        instance, version=current.version, previous=current.previous, recipients=[new_reviewer()[1]]
    ).to_bytes()


def _rollback(instance: Path) -> bytes:
    return manifest_path(InstancePaths(instance), 1).read_bytes()


def _not_chained(instance: Path) -> bytes:
    # Version 3, but naming version 1 as its predecessor: it skips the one in force.
    first = SignedManifest.from_bytes(_rollback(instance)).manifest
    return successor(instance, previous=first.digest()).to_bytes()


def _expired(instance: Path) -> bytes:
    return successor(
        instance, issued=today() - dt.timedelta(days=30), expires=today() - dt.timedelta(days=1)
    ).to_bytes()


def _future(instance: Path) -> bytes:
    return successor(
        instance, issued=today() + dt.timedelta(days=10), expires=today() + dt.timedelta(days=400)
    ).to_bytes()


def _ten_years(instance: Path) -> bytes:
    # Valid until 2036: expiry no longer bounds a freeze, nor how long a timestamp key's
    # holder and the server can keep this keyring alive once it is superseded (§8.8).
    return successor(instance, expires=today() + dt.timedelta(days=3650)).to_bytes()


def _rotation_without_new_keys(instance: Path) -> bytes:
    strangers = [AuthorityKey(f"s{i}", SigningKey.generate().verify_key) for i in range(3)]
    return successor(instance, authorities=strangers).to_bytes()


def _reviewer_swapped(instance: Path) -> bytes:
    doc = json.loads(successor(instance).to_bytes())
    keys = KeyPair.generate()
    assert keys.encryption_public is not None
    doc["manifest"]["recipients"][0]["encryption_key"] = keys.encryption_public.to_text()
    return json.dumps(doc).encode()


def _version_bumped(instance: Path) -> bytes:
    doc = json.loads(successor(instance).to_bytes())
    doc["manifest"]["version"] += 1
    return json.dumps(doc).encode()


def _byte_flipped(instance: Path) -> bytes:
    data = bytearray(successor(instance).to_bytes())
    # A character inside the first signature's base64.
    at = data.index(b'"signature":"') + len(b'"signature":"') + 5
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    return bytes(data)


def _extra_field(instance: Path) -> bytes:
    doc = json.loads(successor(instance).to_bytes())
    doc["manifest"]["note"] = "trust me"
    return json.dumps(doc).encode()


def _truncated(instance: Path) -> bytes:
    data = successor(instance).to_bytes()
    return data[: len(data) // 2]


def _garbage(instance: Path) -> bytes:
    return b"this is not a manifest"


def _empty_object(instance: Path) -> bytes:
    return b"{}"


def _oversized(instance: Path) -> bytes:
    return b" " * (keyring_admin.MAX_BYTES + 1) + successor(instance).to_bytes()


INVALID: dict[str, tuple[Maker, str]] = {
    "strangers": (_strangers, "threshold"),
    "one-signature": (_one_signature, "threshold"),
    "unsigned": (_unsigned, "threshold"),
    "reviewer-signed": (_reviewer_signed, "threshold"),
    "same-version": (_same_version, "version"),
    "rollback": (_rollback, "version"),
    "not-chained": (_not_chained, "chain"),
    "expired": (_expired, "expired"),
    "dated-in-the-future": (_future, "issued"),
    "ten-years": (_ten_years, "lifetime"),
    "rotation-without-new-keys": (_rotation_without_new_keys, "rotation"),
    "reviewer-swapped": (_reviewer_swapped, "threshold"),
    "version-bumped": (_version_bumped, "threshold"),
    "byte-flipped": (_byte_flipped, "threshold"),
    "extra-field": (_extra_field, "not a keyring manifest"),
    "truncated": (_truncated, "not a keyring manifest"),
    "garbage": (_garbage, "not a keyring manifest"),
    "empty-object": (_empty_object, "not a keyring manifest"),
    "oversized": (_oversized, "not a keyring manifest"),
}


@pytest.fixture
def at_version_2(instance: Path) -> Path:
    """The instance with a valid version 2 in force, so that rollbacks have somewhere to go."""
    install_successor(instance, [*newest(instance).manifest.recipients, new_reviewer()[1]])
    return instance


@DOORS
@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_an_invalid_manifest_is_refused_and_nothing_is_written(
    app: Flask,
    at_version_2: Path,
    admin: Staff,
    runner: CliRunner,
    visitor: Visitor,
    door: Door,
    case: str,
) -> None:
    make, reason = INVALID[case]
    data = make(at_version_2)
    before = snapshot(at_version_2)
    audits = audit_count(app)
    status, said = door(admin, runner, at_version_2, data)
    assert status == REFUSED[door], said
    assert reason in said
    assert "nothing changed" in said
    if door is _cli:
        assert said.startswith("raazdar: error: ")
        assert "raazdar: hint: " in said
        assert "Traceback" not in said
    assert snapshot(at_version_2) == before
    assert audit_count(app) == audits
    assert json.loads(visitor.get("/keys.json"))["in_force"] == 2


def test_a_manifest_made_for_another_instance_is_refused(
    tmp_path: Path, instance: Path, admin: Staff, offline_manifest: SignedManifest
) -> None:
    """A first manifest signed offline for another server: not a successor of this one."""
    before = snapshot(instance)
    status, said = install_by_web(admin, offline_manifest.to_bytes())
    assert status == 400
    assert "manifest refused" in said
    assert snapshot(instance) == before


def test_an_empty_form_is_refused(admin: Staff, instance: Path) -> None:
    before = snapshot(instance)
    status, said = install_by_web(admin, b"")
    assert status == 400
    assert "Choose the manifest file, or paste" in said
    assert snapshot(instance) == before


# The file appears whole or not at all.


def test_the_keyring_cache_never_sees_a_partial_file(
    app: Flask, instance: Path, admin: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    link = os.link

    def watched(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        folder = InstancePaths(instance).manifests
        # What the keyring cache would read now: the complete bytes are not visible yet.
        seen.append(sorted(p.name for p in folder.glob("*.json")))
        assert Path(src).read_bytes() == signed.to_bytes()
        link(src, dst)

    monkeypatch.setattr(os, "link", watched)
    signed = successor(instance)
    status, said = install_by_web(admin, signed.to_bytes())
    assert status == 303, said
    assert seen == [["000001.json"]]
    assert sorted(p.name for p in InstancePaths(instance).manifests.iterdir()) == [
        "000001.json",
        "000002.json",
    ]


def test_a_failed_write_leaves_nothing_behind(
    app: Flask, instance: Path, admin: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", broken)
    before = snapshot(instance)
    audits = audit_count(app)
    status, said = install_by_web(admin, successor(instance).to_bytes())
    assert status == 500
    assert "could not be written, so nothing was installed: No space left on device" in said
    assert snapshot(instance) == before
    assert audit_count(app) == audits


def test_two_successors_of_one_version_cannot_both_land(instance: Path, admin: Staff) -> None:
    first = successor(instance, [new_reviewer("first")[1]])
    second = successor(instance, [new_reviewer("second")[1]])
    assert install_by_web(admin, first.to_bytes())[0] == 303
    status, said = install_by_web(admin, second.to_bytes())
    assert status == 400
    assert "version" in said
    assert newest(instance) == first


# Showing the keyring.


def test_the_keyring_page_shows_the_chain_reviewers_and_fingerprints(
    instance: Path, admin: Staff
) -> None:
    _keys, reviewer = new_reviewer()
    install_successor(instance, [reviewer])
    page = admin.get("/staff/admin/keyring")
    assert "In force: version 2" in page
    assert "Version 1" in page
    assert str(reviewer.encryption_key.fingerprint) in page
    assert str(reviewer.signing_key.fingerprint) in page
    for key in demo_authorities(instance):
        assert str(key.verify_key.fingerprint) in page
    assert "expires in" not in page


def test_the_keyring_page_warns_when_expiry_is_near(instance: Path, admin: Staff) -> None:
    install_successor(instance, [new_reviewer()[1]], expires=today() + dt.timedelta(days=29))
    assert "expires on" in admin.get("/staff/admin/keyring")
    assert "in 29 day(s)" in admin.get("/staff/admin/keyring")


def test_the_keyring_page_says_when_no_keyring_is_in_force(instance: Path, admin: Staff) -> None:
    install_successor(instance, [new_reviewer()[1]], signers=[])
    assert "No valid keyring is in force" in admin.get("/staff/admin/keyring")


def test_keyring_show_prints_the_manifest_in_force(instance: Path, runner: CliRunner) -> None:
    keys, reviewer = new_reviewer()
    install_successor(instance, [reviewer])
    install_subkeys(instance, keys)
    result = runner.invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert result.exit_code == 0, result.output
    assert "version           2" in result.output
    assert "threshold         2 of 3" in result.output
    assert str(reviewer.encryption_key.fingerprint) in result.output
    for key in demo_authorities(instance):
        assert str(key.verify_key.fingerprint) in result.output
    assert "chain             v2 <- v1" in result.output
    assert "warning" not in result.output


def test_keyring_show_warns_when_expiry_is_near(instance: Path, runner: CliRunner) -> None:
    install_successor(instance, [new_reviewer()[1]], expires=today() + dt.timedelta(days=10))
    result = runner.invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert result.exit_code == 0
    assert "raazdar: warning: the keyring expires in 10 day(s)" in result.output


def test_keyring_show_fails_when_no_keyring_is_in_force(instance: Path, runner: CliRunner) -> None:
    install_successor(instance, [new_reviewer()[1]], signers=[])
    result = runner.invoke(main, ["--instance", str(instance), "keyring", "show"])
    assert result.exit_code == 1
    assert "raazdar: error: no valid keyring is in force" in result.output


def test_keyring_install_of_a_missing_file_is_a_usage_error(
    instance: Path, runner: CliRunner
) -> None:
    result = runner.invoke(
        main, ["--instance", str(instance), "keyring", "install", str(instance / "nope.json")]
    )
    assert result.exit_code == 2


def test_a_file_and_pasted_text_together_are_refused(instance: Path, admin: Staff) -> None:
    before = snapshot(instance)
    data = successor(instance).to_bytes()
    response = admin.client.post(
        "/staff/admin/keyring/install",
        data={
            "csrf_token": admin.token(),
            "file": (io.BytesIO(data), "manifest.json"),
            "manifest": data.decode("utf-8"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "not both" in admin.text(response)
    assert snapshot(instance) == before
