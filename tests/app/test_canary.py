"""A canary in a report and a large file: nowhere on disk or in the logs, yet in the envelopes."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.app.support import (
    Visitor,
    all_rows,
    envelope_files,
    form,
    multipart,
    opened_envelopes,
    staging_files,
)

MIB = 1024 * 1024
# Beyond the instance and the temporary directory: anywhere else a temporary file may go.
OTHER_TEMP_DIRS = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]


def encodings(canary: bytes) -> dict[str, bytes]:
    """The canary as it might appear if it leaked: raw, re-encoded, escaped, base64'd."""
    text = canary.decode("utf-8")
    forms = {
        "raw": canary,
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
        "hex": canary.hex().encode(),
        "HEX": canary.hex().upper().encode(),
        "url": urllib.parse.quote(text).encode(),
        "url-plus": urllib.parse.quote_plus(text).encode(),
        "json-ascii": json.dumps(text).encode()[1:-1],
    }
    # base64 of a stream holding the canary at any of the three alignments: the middle
    # of each encoding does not depend on the bytes around it.
    for shift in range(3):
        for name, encode in [("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)]:
            encoded = encode(bytes(shift) + canary)
            skip = (shift * 4 + 2) // 3 + 1
            forms[f"{name}-{shift}"] = encoded[skip:-4]
    return forms


# Left out of the walk of the temporary directories: pytest's own (every earlier test's
# instances; this test's own directory is searched apart) and the checkout under test, when
# either is in one. No temporary file of the app's goes there, and walking them (a suite's
# worth of instances, a virtual environment) was most of each test's minute.
CHECKOUT = Path(__file__).resolve().parents[2]


def files_under(root: Path, skip: frozenset[Path] = frozenset()) -> Iterator[Path]:
    """Every regular file below `root` that this process may read, but below `skip`."""
    for path, _ in _entries_under(root, skip):
        yield path


def snapshot(roots: list[Path], skip: frozenset[Path]) -> dict[Path, tuple[int, int]]:
    """What files the temporary directories hold now, with their sizes and change times."""
    seen = {}
    for root in roots:
        for path, entry in _entries_under(root, skip):
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            seen[path] = (info.st_size, info.st_mtime_ns)
    return seen


def _entries_under(root: Path, skip: frozenset[Path]) -> Iterator[tuple[Path, os.DirEntry[str]]]:
    """The regular files below `root` (symbolic links not followed), but below `skip`.

    A file's kind comes from its directory entry, and `snapshot` makes one lstat of
    it: the walk of a shared /tmp (every other process's files) took most of a
    detector test's half minute at three system calls a file.
    """
    below = [root]
    while below:
        try:
            with os.scandir(below.pop()) as entries:
                for entry in entries:
                    path = Path(entry.path)
                    with contextlib.suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            if path not in skip:
                                below.append(path)
                        elif entry.is_file(follow_symlinks=False):
                            yield path, entry
        except OSError:
            continue


def find(path: Path, needles: dict[str, bytes]) -> list[str]:
    """Which of the needles a file contains, read in overlapping blocks."""
    overlap = max(len(n) for n in needles.values())
    found, tail = set(), b""
    try:
        with path.open("rb") as src:
            while block := src.read(4 * MIB):
                window = tail + block
                found |= {name for name, needle in needles.items() if needle in window}
                tail = window[-overlap:]
    except OSError:
        return []
    return sorted(found)


@pytest.fixture
def skip(tmp_path_factory: pytest.TempPathFactory) -> frozenset[Path]:
    """Where the walk of the temporary directories need not go (see `CHECKOUT`)."""
    return frozenset((tmp_path_factory.getbasetemp().resolve().parent, CHECKOUT))


@pytest.fixture
def canary() -> bytes:
    """A string no file could hold by chance, with Urdu in it (so URL-escaping changes it)."""
    return f"CANARY-{secrets.token_hex(12)}-راز-{secrets.token_hex(4)}".encode()


def test_a_canary_reaches_only_the_envelopes(
    app: Flask,
    client: FlaskClient,
    instance: Path,
    canary: bytes,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    skip: frozenset[Path],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="app")
    temp_roots = sorted({Path(tempfile.gettempdir()), *OTHER_TEMP_DIRS} - {instance})
    temp_roots = [r for r in temp_roots if r.is_dir()]
    # This test's own directory (beside the instance) is searched, though pytest's are not.
    temp_roots.append(tmp_path)
    before = snapshot(temp_roots, skip)
    text = canary.decode()

    # The file: 5 MiB of noise with the canary at a chunk boundary, in the middle and at the end.
    noise = bytearray(secrets.token_bytes(5 * MIB))
    for offset in (64 * 1024 - 7, len(noise) // 2, len(noise) - len(canary)):
        noise[offset : offset + len(canary)] = canary
    visitor = Visitor(client)
    page = visitor.start()
    body, content_type = multipart(
        [*page.fields.items(), ("message", f"The SHO's name is {text}."), ("district", text)],
        [("files", f"{text}.bin", bytes(noise), "application/octet-stream")],
    )
    response = client.post("/submit", data=body, content_type=content_type)
    # Confirmed in place: the confirmation is its answer.
    assert canary not in visitor.filed(response).encode()
    assert canary not in visitor.get("/submitted").encode()
    # A refused report too: its file was staged, then destroyed.
    more = form(visitor.get("/account"), "/account")
    body, content_type = multipart(
        [("csrf_token", "wrong"), *[(k, v) for k, v in more.fields.items() if k != "csrf_token"]],
        [("files", "again.bin", bytes(noise), "application/octet-stream")],
    )
    # (Its form given back to send again: app.source.views.gives_back.)
    assert client.post("/account", data=body, content_type=content_type).status_code == 401
    assert staging_files(instance) == []

    needles = encodings(canary)
    leaks = {}
    after = snapshot(temp_roots, skip)
    new_or_changed = [p for p, stamp in after.items() if before.get(p) != stamp]
    for path in [*files_under(instance), *new_or_changed]:
        if found := find(path, needles):
            leaks[str(path)] = found
    logged = (caplog.text + "".join(capfd.readouterr())).encode("utf-8", "surrogateescape")
    leaks["logs"] = [name for name, needle in needles.items() if needle in logged]
    rows = json.dumps(all_rows(app), default=repr, ensure_ascii=False).encode()
    leaks["database rows"] = [name for name, needle in needles.items() if needle in rows]
    assert {where: found for where, found in leaks.items() if found} == {}

    # And yet the reviewer reads it all.
    opened = opened_envelopes(instance)
    assert len(opened) == len(envelope_files(instance)) == 2
    kinds = {meta.kind: (meta, plaintext) for meta, plaintext in opened.values()}
    report = json.loads(kinds["report"][1])
    assert text in report["message"]
    assert report["fields"]["district"] == text
    meta, content = kinds["file"]
    assert content == bytes(noise)
    assert meta.filename == f"{text}.bin"


@pytest.mark.parametrize("shift", range(3))
def test_the_search_would_find_each_encoding_of_a_leak(
    canary: bytes, shift: int, tmp_path: Path, skip: frozenset[Path]
) -> None:
    """The detector itself: a leak in any of the encodings, at any offset, in a new temp file
    or in the test's own directory (walked, though pytest's other directories are not)."""
    roots = [Path(tempfile.gettempdir()), tmp_path]
    before = snapshot(roots, skip)
    needles = encodings(canary)
    text = canary.decode()
    leaked = {
        "raw": canary,
        "utf-16-le": text.encode("utf-16-le"),
        "hex": canary.hex().encode(),
        "url": urllib.parse.quote(text).encode(),
        "json-ascii": json.dumps(text).encode(),
        "base64": base64.b64encode(bytes(shift) + canary + bytes(shift)),
        "base64url": base64.urlsafe_b64encode(secrets.token_bytes(shift) + canary),
    }
    with tempfile.NamedTemporaryFile() as leak:
        # The first leak straddles the search's 4 MiB block boundary.
        leak.write(secrets.token_bytes(4 * MIB - 10 - shift))
        for content in leaked.values():
            leak.write(content + secrets.token_bytes(1000 + shift))
        leak.flush()
        own = tmp_path / "leak.bin"
        own.write_bytes(canary)
        new = [p for p, stamp in snapshot(roots, skip).items() if before.get(p) != stamp]
        assert Path(leak.name) in new
        assert own in new
        assert find(own, needles) == ["raw"]
        found = find(Path(leak.name), needles)
    for name in leaked:
        assert any(f == name or f.startswith(f"{name}-") for f in found), name
