"""A reply to a source whose reply key another designation holds: the reviewer is told first.

Two codenames never share a reply key, and one codename is one account. A server in
the wrong hands can still export a report of its own under a new designation, from
"the browser form" (no binding), carrying a real source's reply key: reviewers who
answer it seal their reply to that source, and the server posts it to their account,
where it opens and verifies as a genuine reply to something they never wrote.
"""

from __future__ import annotations

from pathlib import Path

from app.demo import DEMO_PASSPHRASE
from crypto import KdfParams, derive_source_keys, generate_codename
from review import workspace as ws
from review.intake.importer import import_bundle
from tests.review.casework.test_prekeys import _digest
from tests.review.intake.test_binding import DESIGNATION, _bundle
from tests.review.support import Server, review

FORGED = "Bright Lantern"


def test_a_reply_to_a_source_sharing_its_reply_key_warns_before_it_is_written(
    server: Server, workspace: Path, tmp_path: Path
) -> None:
    key = derive_source_keys(generate_codename(), bytes(16), KdfParams.TESTING).public_key
    first = _bundle(server, tmp_path, key, None)
    forged = _bundle(
        server, tmp_path, key, None, sequence=2, previous=_digest(first, server), designation=FORGED
    )
    u = ws.Workspace.open(workspace).unlock("demo-reviewer", lambda _label: DEMO_PASSPHRASE)
    try:
        import_bundle(u, first)
        import_bundle(u, forged)
    finally:
        u.workspace.close()
    text = tmp_path / "reply.txt"
    text.write_text("Come to our office on Friday.\n")

    result = review(workspace, "reply", "2", "--file", str(text))
    assert result.exit_code == 0, result.output
    assert DESIGNATION in result.output, "the reviewer was not told who else reads the reply"
    assert "warning" in result.output
    # The genuine source's own report says it too: either may be the server's.
    result = review(workspace, "reply", "1", "--file", str(text))
    assert FORGED in result.output
