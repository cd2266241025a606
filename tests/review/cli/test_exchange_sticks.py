"""The sticks that carried bundles: what stays readable on them, and the tool saying so.

The attack: the workstation is seized with its IN and OUT sticks beside it. An
export bundle stays on the IN stick after its import (mounted read-only, the
tool cannot remove it), and names its sources and the day of each item; a
reply bundle stays on the OUT stick after the server applied it, names the
sources answered and the status each is shown, and its replies sealed to a
codename key open for whoever learns that codename. A new filesystem on the
stick hides none of it from someone who reads the stick's blocks. The tool
cannot wipe either stick; it must say, each time, what is left and what to do.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from crypto import VerifyKey, derive_source_keys
from crypto.bundle import BundleReader
from review.workspace import DB_NAME
from tests.review.support import Server, reply_text, review

REPLY = "Which police station? کون سا تھانہ؟"


def _clear(workspace: Path, query: str) -> list[str]:
    """What a seizer reads in the clear in the workspace's database."""
    conn = sqlite3.connect(workspace / DB_NAME)
    try:
        return [row[0] for row in conn.execute(query)]
    finally:
        conn.close()


def _said(output: str, path: Path) -> bool:
    """Say whether the tool named the file left on the stick, and told to overwrite the stick."""
    flat = re.sub(r"\s+", " ", output)
    return f"{path} stays on its stick" in flat and "overwrite the whole stick" in flat


def test_an_import_says_the_bundle_stays_readable_on_its_stick(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    server.submit("The SHO sold the girls to the agent.")
    stick = tmp_path / "in"
    stick.mkdir()
    bundle = server.export(stick / "export.rzb")
    imported = review(workspace, "exchange", "import", str(bundle))
    assert imported.exit_code == 0, imported.output
    # Without any key: the bundle names its source.
    (designation,) = _clear(workspace, "SELECT designation FROM sources")
    assert designation.encode() in bundle.read_bytes()
    assert _said(imported.output, bundle), imported.output


def test_an_export_says_the_reply_bundle_opens_with_a_codename_until_the_stick_is_wiped(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    source = server.submit("The SHO sold the girls to the agent.")
    assert review(workspace, "import", str(server.export(tmp_path / "e.rzb"))).exit_code == 0
    text = tmp_path / "reply.txt"
    text.write_text(REPLY, "utf-8")
    assert review(workspace, "reply", "1", "--file", str(text)).exit_code == 0
    stick = tmp_path / "out"
    stick.mkdir()
    out = stick / "replies.rzr"
    exported = review(workspace, "exchange", "export", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    # The seizer who learns the codename reads the reply from the stick.
    config = server.app.config
    key = derive_source_keys(source.codename, config["CODENAME_SALT"], config["CODENAME_KDF"])
    signers = [
        VerifyKey.from_text(k) for k in _clear(workspace, "SELECT signing_key FROM reviewer_keys")
    ]
    with out.open("rb") as src:
        (item,) = [b"".join(blocks) for _, blocks in BundleReader(src, signers).iter_items()]
    assert reply_text(item, [key.private_key]).text == REPLY
    assert _said(exported.output, out), exported.output
