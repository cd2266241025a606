"""A disk that stops taking writes (ext4 remounts itself read-only after an error) is a
fault of the machine: the report is refused for a while with its form given back, as on
a full disk, and nothing is staged or logged of it."""

from __future__ import annotations

import logging
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.instance import InstancePaths
from tests.app.support import Visitor, assert_form_given_back

CANARY = "canary-" + secrets.token_hex(8)


@pytest.fixture
def read_only_disk(instance: Path) -> Iterator[Path]:
    """Staging on a filesystem of its own, mounted read-only."""
    staging = InstancePaths(instance).staging
    mount = "/usr/bin/mount"
    mounted = subprocess.run(  # noqa: S603 - a fixed argument list
        [mount, "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(staging)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a filesystem needs root")
    try:
        subprocess.run([mount, "-o", "remount,ro", str(staging)], check=True)  # noqa: S603
        yield staging
    finally:
        subprocess.run(["/usr/bin/umount", str(staging)], check=True)  # noqa: S603


@pytest.mark.parametrize("with_file", [False, True], ids=["words", "words-and-a-file"])
def test_a_report_on_a_read_only_disk_is_given_back(
    read_only_disk: Path,
    visitor: Visitor,
    caplog: pytest.LogCaptureFixture,
    with_file: bool,
) -> None:
    """Sealing met EROFS: the app's 500 page answered, and what the source wrote was lost
    (Back refills no form), though nothing of it was stored and a minute later it would be."""
    caplog.set_level(logging.DEBUG)
    page = visitor.start()
    files = [("files", "evidence.bin", bytes(20_000), "application/octet-stream")]
    response = visitor.send(page, message=CANARY, files=files if with_file else ())
    assert_form_given_back(response, CANARY, *(["evidence.bin"] if with_file else []))
    assert page.fields["codename"] in response.get_data(as_text=True)
    assert "storage-unavailable" in caplog.text
    assert CANARY not in caplog.text
    assert "Traceback" not in caplog.text
    assert list(read_only_disk.iterdir()) == []
