"""Helpers for the review tool's tests: a demo server to submit to, and the CLI to drive."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from app.db import db_session
from app.demo import DEMO_PASSPHRASE, DEMO_REVIEWER, subkeys_paths
from app.instance import InstancePaths
from app.keyring import manifest_path
from app.operations.exchange import ApplySummary, apply_reply_bundle, export_bundle
from crypto import (
    CryptoError,
    HybridPrivateKey,
    KdfParams,
    KeyFile,
    KeyPair,
    PrivateKey,
    SigningKey,
    open_bytes,
)
from crypto.reply import ReplyText, read_reply
from crypto.workspace import WorkspaceKey
from review.cli import base, cli, idle
from review.keys.enrolment import enrol_key
from review.workspace import DB_NAME, Unlocked
from tests.app.support import FilePart, Visitor, holds_login


@dataclass
class Source:
    """A source who submitted once: their browser and codename."""

    visitor: Visitor
    codename: str

    def account_page(self) -> str:
        """The source's account page, logging in with the codename if the session ended."""
        response = self.visitor.client.get("/account")
        if not holds_login(response):
            assert self.visitor.log_in(self.codename).status_code in (200, 302, 303)
            return self.visitor.get("/account")
        return response.get_data(as_text=True)


@dataclass
class Server:
    """The demo instance the review workstation exchanges bundles with."""

    app: Flask
    instance: Path

    @property
    def paths(self) -> InstancePaths:
        return InstancePaths(self.instance)

    @property
    def instance_id(self) -> str:
        return str(json.loads(self.paths.config.read_text())["instance_id"])

    @property
    def signing_key_text(self) -> str:
        return SigningKey.from_text(self.paths.signing_key.read_text()).verify_key.to_text()

    @property
    def reviewer_key_file(self) -> Path:
        return self.paths.demo_keys / "reviewer.key"

    def submit(
        self,
        message: str,
        files: list[FilePart] | None = None,
        choices: dict[str, str | list[str]] | None = None,
    ) -> Source:
        """A new source submits a report through the browser form."""
        visitor = Visitor(self.app.test_client())
        visitor.client.get("/lang/en")
        page = visitor.start()
        codename = page.fields["codename"]
        visitor.filed(visitor.send(page, message, files or [], choices))
        return Source(visitor, codename)

    def export(self, out: Path, *, resend: bool = False, since: dt.date | None = None) -> Path:
        """Export every new item (or, resending, every item not acknowledged, or every item
        received since a day), as staff do."""
        with self.app.app_context(), out.open("wb") as dst:
            export_bundle(db_session(), dst, resend=resend, since=since)
        return out

    def apply(self, bundle: Path) -> ApplySummary:
        """Apply a reply bundle, as staff do."""
        with self.app.app_context(), bundle.open("rb") as src:
            return apply_reply_bundle(db_session(), io.BytesIO(src.read()))

    def backup(self, into: Path) -> None:
        """Copy the database and envelopes (`raazdar backup` sweeps first; this one copies)."""
        into.mkdir()
        with (
            closing(sqlite3.connect(self.paths.database)) as src,
            closing(sqlite3.connect(into / "raazdar.db")) as dst,
        ):
            src.backup(dst)
        shutil.copytree(self.paths.store, into / "store")

    def restore(self, backup: Path) -> None:
        """Put a backup back over the live instance, as the deploy guide's restore does."""
        with (
            closing(sqlite3.connect(backup / "raazdar.db")) as src,
            closing(sqlite3.connect(self.paths.database)) as dst,
        ):
            src.backup(dst)
        shutil.copytree(backup / "store", self.paths.store, dirs_exist_ok=True)

    def finish_restore(self) -> None:
        """Draw the restore's new id, as the purge that finishes a restore does."""
        with (
            closing(sqlite3.connect(self.paths.database)) as conn,
            conn,
        ):
            conn.execute(
                "INSERT INTO restore_mark (id, count, epoch) VALUES (1, 1, ?) ON CONFLICT (id)"
                " DO UPDATE SET count = count + 1, epoch = excluded.epoch",
                (os.urandom(16).hex(),),
            )


def init_workspace(server: Server, root: Path) -> Path:
    """Create a workspace pinned to the demo server, with the demo reviewer enrolled.

    Under the demo's keyring of hybrid reviewers (format 3) the demo reviewer
    also adopts the weekly subkey secrets `init --demo` made, whose list the
    server seals to (`keys subkeys adopt`).
    """
    result = review(
        root,
        "init",
        "--instance-id",
        server.instance_id,
        "--server-key",
        server.signing_key_text,
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert result.exit_code == 0, result.output
    listed, sealed = subkeys_paths(server.paths.demo_keys, DEMO_REVIEWER)
    if sealed.exists():
        result = review(root, "keys", "subkeys", "adopt", str(sealed), str(listed))
        assert result.exit_code == 0, result.output
    return root


def review(workspace: Path, *args: str, passphrase: str = DEMO_PASSPHRASE) -> Result:
    """Run `raazdar-review` against a workspace, answering the passphrase prompt."""
    return CliRunner().invoke(cli, ["--workspace", str(workspace), *args], input=f"{passphrase}\n")


def init_on_first_keyring(server: Server, tmp_path: Path) -> Path:
    """A workspace made on a copy of `server`'s keyring v1 (as the stick carried it), for a
    test that installs a successor afterwards; its root."""
    root = tmp_path / "workspace"
    first = tmp_path / "keyring-v1.json"
    first.write_bytes(manifest_path(server.paths, 1).read_bytes())
    made = review(
        root,
        "init",
        "--keyring",
        str(first),
        "--key-file",
        str(server.reviewer_key_file),
        "--reviewer",
        "demo-reviewer",
    )
    assert made.exit_code == 0, made.output
    return root


# The tool as its entry point runs it, from this tree (the installed script may be another's).
_TOOL: Final = (sys.executable, "-c", "from review.cli import main; main()")
_TREE: Final = Path(__file__).parents[2]


def start_review(
    workspace: Path,
    *args: str,
    cwd: Path,
    preexec_fn: Callable[[], None] | None = None,
    passphrase: str = DEMO_PASSPHRASE,
    terminal: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start `raazdar-review` as a process of its own, its passphrase in a file, stdout piped
    (or every stream on `terminal`, a pty's follower end)."""
    secret = cwd / ".passphrase"
    secret.write_text(f"{passphrase}\n")
    on_terminal = terminal is not None
    return subprocess.Popen(  # noqa: S603 - our own tool, fixed arguments
        [*_TOOL, "--workspace", str(workspace), "--passphrase-file", str(secret), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(_TREE), "TERM": "xterm-256color"},
        preexec_fn=preexec_fn,
        stdin=terminal if on_terminal else subprocess.DEVNULL,
        stdout=terminal if on_terminal else subprocess.PIPE,
        stderr=terminal if on_terminal else subprocess.DEVNULL,
        start_new_session=on_terminal,  # the terminal is its own, as a terminal window's is
    )


def reaped_peak(proc: subprocess.Popen[bytes], bounded: float, what: str) -> tuple[int, int]:
    """Wait for `proc` (at most `bounded` seconds, else kill it and fail the test): its exit
    code, and its peak memory in bytes beyond what a process started so inherits.

    The kernel counts a process's peak from its fork: the copy of the test's own process it
    was until its exec is in it (hundreds of MiB in a worker that ran many tests), so a
    process started the same way that does nothing (`--help`) is taken from the figure."""

    def reaped(p: subprocess.Popen[bytes]) -> tuple[int, int]:
        give_up = time.monotonic() + bounded
        while not (done := os.wait4(p.pid, os.WNOHANG))[0]:
            if time.monotonic() > give_up:
                p.kill()
                p.communicate()
                pytest.fail(f"{what} still ran after {bounded} s")
            time.sleep(0.05)
        _, status, usage = done
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        p.communicate()
        return p.returncode, usage.ru_maxrss * 1024

    code, peak = reaped(proc)
    idle = Path(tempfile.mkdtemp(prefix="idle-"))
    try:
        _, inherited = reaped(start_review(idle / "none", "--help", cwd=idle))
    finally:
        shutil.rmtree(idle, ignore_errors=True)
    return code, max(0, peak - inherited)


def all_bytes(root: Path) -> list[tuple[Path, bytes]]:
    """Every file under a directory, with its bytes."""
    return [(p, p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]


def reply_text(envelope: bytes, keys: Sequence[PrivateKey | HybridPrivateKey]) -> ReplyText:
    """What a source's keys read of a reply envelope: its text and the day sealed with it."""
    plaintext, opened = open_bytes(envelope, keys)
    return read_reply(plaintext, opened.metadata)


@contextmanager
def on_the_disk(root: Path) -> Iterator[sqlite3.Connection]:
    """The workspace's database as whoever holds the disk opens it: no tool, no key.

    What the block writes is committed when it ends (rolled back if it raises).
    """
    conn = sqlite3.connect(root / DB_NAME)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def opens_with(
    root: Path, keys: Sequence[PrivateKey | HybridPrivateKey]
) -> list[tuple[str, bytes]]:
    """What `keys` open of a seized workspace: every file, and every bytes value of its database.

    Each is (where, plaintext); a seizer with a source's keys and no passphrase should get [].
    """
    found = [(str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()]
    conn = sqlite3.connect(root / DB_NAME)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):  # noqa: S608 - names from the schema
                found += [(table, v) for v in row if isinstance(v, bytes)]
    finally:
        conn.close()
    opened = []
    for where, data in found:
        with suppress(CryptoError):
            opened.append((where, open_bytes(data, keys)[0]))
    return opened


def snapshot(root: Path) -> dict[str, bytes]:
    """A workspace's files by relative path, to compare before and after."""
    return {str(p.relative_to(root)): data for p, data in all_bytes(root)}


SECOND_REVIEWER_PW: Final = "second-pw"


def enrol_second_reviewer(u: Unlocked) -> KeyPair:
    """Enrol a reviewer "second" (passphrase `SECOND_REVIEWER_PW`, test-grade KDF); their keys."""
    pair = KeyPair.generate()
    key_file = KeyFile.create(
        pair, SECOND_REVIEWER_PW, kind="reviewer", label="second", params=KdfParams.TESTING
    )
    enrol_key(
        u,
        reviewer="second",
        name="Second",
        key_file=key_file.to_bytes(),
        ask=lambda _: SECOND_REVIEWER_PW,
    )
    return pair


@contextmanager
def as_the_tool_before_x_wing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within, a workspace key is made, and kept, as the tool before X-Wing did: X25519."""
    with monkeypatch.context() as old_tool:
        old_tool.setattr(WorkspaceKey, "generate", WorkspaceKey.generate_classical)
        old_tool.setattr(base, "upgrade_key", lambda u: u)
        yield


def kept_in_scrollback(drawn: bytes, secret: str) -> bool:
    """Whether `secret` was drawn on the terminal's normal screen and never erased after.

    What is drawn on the alternate screen never enters the scrollback; what is drawn on
    the normal screen stays there until the screen and the scrollback are erased.
    """
    tokens = re.compile(
        b"|".join(
            re.escape(t)
            for t in (
                b"\x1b[?1049h",
                b"\x1b[?1049l",
                idle.ERASE_SCREEN.encode(),
                secret.encode(),
            )
        )
    )
    alternate = kept = False
    for found in tokens.finditer(drawn):
        token = found.group()
        if token == b"\x1b[?1049h":
            alternate = True
        elif token == b"\x1b[?1049l":
            alternate = False
        elif token == idle.ERASE_SCREEN.encode():
            kept = kept and alternate
        elif not alternate:
            kept = True
    return kept
