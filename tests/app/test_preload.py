"""No request reads a file of the code: its access time would date the request.

The code (/opt/raazdar, its virtualenv, the system's Python) sits on a mount
that records access times, and the service user cannot open root's files with
O_NOATIME. Whatever a request read first from there (a template, the codename
word list, a catalog, a stylesheet, a module imported on first use) would keep
the time of the first source after each start, or each day under `relatime`.
So the attacker here does not rely on this machine's mount options: it watches
every open, listing, import and exec of a fresh process after `create_app`
(tests/app/request_reads.py) while it serves every page, in both languages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

from tests.app.staff_support import make_staff
from tests.app.support import compile_catalogs

ROOT = Path(__file__).resolve().parents[2]


def _reads_of_requests(instance: Path, secret: str) -> list[tuple[str, str, str]]:
    """What a fresh process read while serving requests, after building the app."""
    compile_catalogs()  # without them Urdu pages would read no catalog, and show English
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "tests.app.request_reads", str(instance), secret],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [(event, path, where) for event, path, where in json.loads(done.stdout)]


def _inside(path: str, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root.resolve())


def test_requests_read_no_file_but_the_instance(app: Flask, instance: Path) -> None:
    admin = make_staff(app, "admin", role="admin")
    reads = _reads_of_requests(instance, admin.secret)
    outside = [r for r in reads if r[0] == "import" or not _inside(r[1], instance)]
    assert outside == [], "\n".join(f"{event} {path}\n    at {at}" for event, path, at in outside)


def test_requests_do_read_the_instance(app: Flask, instance: Path) -> None:
    """The watch sees reads at all: the database and the store are read and written."""
    admin = make_staff(app, "admin", role="admin")
    reads = _reads_of_requests(instance, admin.secret)
    assert any(_inside(path, instance) for _event, path, _where in reads)
