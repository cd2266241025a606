"""A reviewer about to be revoked prepares: nothing they made before speaks for them after."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result

from app.operations.keyring_admin import KeyringInstallError
from crypto import KeyFile, KeyPair, SignedManifest
from crypto.packet import open_packet
from review import workspace as ws
from review.escalation import bodies
from review.workspace import head
from review.workspace.schema import transaction
from tests.review.keys import test_keys
from tests.review.keys.test_keys import (
    ALICE,
    BOB,
    HOLDER_PASS,
    Ceremony,
    _bob_second_admin,
    _bring_in_bob,
    ok,
    run,
)

ceremony = test_keys.ceremony

REPORT = "The duty officer took money at night to release the truck."


def _as(c: Ceremony, who: str, *args: str) -> Result:
    return run("--as", who, *args, answers=f"{ALICE if who == 'alice' else BOB}\n",
               workspace=c.workspace)  # fmt: skip


def _body(c: Ceremony, who: str, name: str) -> KeyPair:
    """Register a body under `name`, with a new key pair whoever registers it holds."""
    body = KeyPair.generate()
    assert body.encryption_public is not None
    ok(_as(c, who, "bodies", "add", "--name", name, "--jurisdiction", "PK", "--contact",
           "by hand", "--encryption-key", body.encryption_public.to_text()))  # fmt: skip
    return body


def _bob_revoked(c: Ceremony, tmp_path: Path) -> None:
    """Alice revokes Bob at the ceremony (two administrators: he is the second)."""
    ok(run("--as", "alice", "keys", "reviewer-revoke", "bob", "--draft",
           str(tmp_path / "revoke-bob.json"), "--second-admin", str(tmp_path / "bob.key"),
           answers=f"{ALICE}\n{BOB}\n", workspace=c.workspace))  # fmt: skip


def _in_review(c: Ceremony, tmp_path: Path) -> None:
    """One report, imported here and under review as report 1."""
    c.server.submit(REPORT)
    ok(_as(c, "alice", "import", str(c.server.export(tmp_path / "one.rzb"))))
    ok(_as(c, "alice", "status", "1", "in-review"))


def _draft(c: Ceremony, who: str, to: str) -> Result:
    return _as(c, who, "escalate", "1", "--to", to, "--summary", "Money taken for a release.")


def test_a_body_a_revoked_administrator_registered_gets_nothing_until_one_in_service_confirms(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Bob, an administrator about to be revoked, registers a "Federal Ombudsman" whose key
    he holds. After his revocation his colleagues' packets to it were sealed to him: they
    read what he may no longer read."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    _bob_second_admin(c, tmp_path)
    _in_review(c, tmp_path)
    _body(c, "bob", "Federal Ombudsman")
    _bob_revoked(c, tmp_path)

    out = tmp_path / "packet.rzp"
    sent = _as(c, "alice", "escalate", "1", "--to", "Federal Ombudsman", "--summary",
               "Money taken for a release.", "--out", str(out))  # fmt: skip
    assert sent.exit_code == 1, f"a packet went to the revoked bob's body: {sent.output}"
    assert "registered by bob, whose keys are retired" in sent.output
    assert "bodies confirm" in sent.output
    assert not out.exists()
    assert "unconfirmed" in _as(c, "alice", "bodies", "list").output

    # An administrator in service checks the key with the body itself and confirms it.
    ok(_as(c, "alice", "bodies", "confirm", "Federal Ombudsman"))
    ok(_as(c, "alice", "escalate", "1", "--to", "Federal Ombudsman", "--summary",
           "Money taken for a release.", "--out", str(out)))  # fmt: skip
    assert out.exists()


def test_a_body_registered_by_an_administrator_in_service_is_unchanged(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    _bring_in_bob(c, tmp_path)
    _bob_second_admin(c, tmp_path)
    _in_review(c, tmp_path)
    body = _body(c, "alice", "Federal Ombudsman")
    _bob_revoked(c, tmp_path)
    out = tmp_path / "packet.rzp"
    ok(_as(c, "alice", "escalate", "1", "--to", "Federal Ombudsman", "--summary",
           "Money taken for a release.", "--out", str(out)))  # fmt: skip
    assert body.encryption is not None
    assert open_packet(out.read_bytes(), body.encryption).content.document["reports"]
    confirmed = _as(c, "bob", "bodies", "confirm", "1")
    assert confirmed.exit_code == 1  # nobody unlocks as a revoked reviewer


def test_a_revoked_reviewers_signature_sends_no_packet_after_the_revocation(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Bob, about to be revoked, countersigns Alice's draft and has one of his own
    countersigned: after his revocation both went out, his signature as good as a
    colleague's in service, the two-person rule met by someone no longer trusted."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    _in_review(c, tmp_path)
    _body(c, "alice", "Anti-Trafficking Cell")
    ok(_as(c, "alice", "escalation", "rule", "1"))
    ok(_draft(c, "alice", "Anti-Trafficking Cell"))  # escalation 1, Alice's
    ok(_as(c, "bob", "escalation", "countersign", "1", "--yes"))
    ok(_draft(c, "bob", "Anti-Trafficking Cell"))  # escalation 2, Bob's
    ok(_as(c, "alice", "escalation", "countersign", "2", "--yes"))
    listed = _as(c, "alice", "escalation", "list").output
    assert listed.count("ready") == 2, listed
    _bob_second_admin(c, tmp_path)
    _bob_revoked(c, tmp_path)

    for esc in ("1", "2"):
        out = tmp_path / f"packet-{esc}.rzp"
        sent = _as(c, "alice", "escalation", "export", esc, "--out", str(out))
        assert sent.exit_code == 1, f"escalation {esc} went out on bob's word: {sent.output}"
        assert "signed by bob, whose keys are retired" in sent.output
        assert not out.exists()


def _renumbered(draft: Path, version: int) -> None:
    """The draft as its drafter hands it round: the same change, under another version."""
    signed = SignedManifest.from_bytes(draft.read_bytes())
    draft.write_bytes(SignedManifest(replace(signed.manifest, version=version)).to_bytes())


def test_a_keyring_that_skips_versions_is_neither_signed_nor_installed(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Alice, an administrator about to be revoked, drafts the next keyring (adding Bob, as
    agreed) numbered 2**53: any higher version follows (PROTOCOL §8.5), one line of the
    difference says so, the holders sign, and it installs. No keyring can follow it (canonical
    JSON's integers end there), so none ever drops her."""
    c = ceremony
    draft = test_keys._add_bob(c, tmp_path)
    _renumbered(draft, 2**53)

    signed = run("keys", "sign-manifest", str(draft), "--key-file", str(c.holder(2)),
                 answers=f"{test_keys._first_group(draft)}\n{HOLDER_PASS[1]}\n",
                 workspace=c.workspace)  # fmt: skip
    assert signed.exit_code == 1, f"a holder signed version 2**53 after v1: {signed.output}"
    assert "version 2" in signed.output

    # Signed all the same (by hand, say), it installs nowhere.
    whole = SignedManifest.from_bytes(draft.read_bytes())
    for i in (2, 3):
        holder = KeyFile.from_bytes(c.holder(i).read_bytes()).unlock(HOLDER_PASS[i - 1])
        assert holder.signing is not None
        whole = whole.sign(holder.signing)
    draft.write_bytes(whole.to_bytes())
    with c.server.app.app_context(), pytest.raises(KeyringInstallError, match="step"):
        c.install_on_server(draft)
    here = run("--as", "alice", "keys", "install", str(draft), answers=f"{ALICE}\n",
               workspace=c.workspace)  # fmt: skip
    assert here.exit_code == 1, here.output
    assert "version 2" in here.output
    assert "Traceback" not in here.output


def test_a_body_registered_before_records_named_who_vouched_goes_by_the_audit_log(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """A record written before this rule names nobody: whoever the log says added it counts."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    _bob_second_admin(c, tmp_path)
    _in_review(c, tmp_path)
    _body(c, "bob", "Federal Ombudsman")
    _body(c, "alice", "Anti-Trafficking Cell")
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    try:
        with transaction(u.conn):  # as the tool wrote them then, under the head's tag
            for body in bodies.list_bodies(u):
                older = replace(body, vouched=()).encode()
                sealed = u.key.seal_record(older, bodies.body_context(body.id))
                u.conn.execute("UPDATE bodies SET sealed = ? WHERE id = ?", (sealed, body.id))
            head.put(u.conn, u.key)
    finally:
        u.workspace.close()
    _bob_revoked(c, tmp_path)

    sent = _draft(c, "alice", "Federal Ombudsman")
    assert sent.exit_code == 1, sent.output
    assert "registered by bob, whose keys are retired" in sent.output
    ok(_draft(c, "alice", "Anti-Trafficking Cell"))


def test_a_keyring_that_needs_every_holder_says_any_one_can_then_block_the_next(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Holder One, about to be removed, has the others raise the threshold from 2 of 3 to
    3 of 3, "to be safe": the difference said only `threshold 2 -> 3`, and from then on
    the keyring that removes him needs his own signature."""
    c = ceremony
    current = SignedManifest.from_bytes((c.dir / "keyring-v1.json").read_bytes()).manifest
    day = dt.date.today()
    raised = replace(
        current.successor(issued=day, expires=day + dt.timedelta(days=300)), threshold=3
    )
    draft = tmp_path / "raise.json"
    draft.write_bytes(SignedManifest(raised).to_bytes())

    shown = run("keys", "sign-manifest", str(draft), "--key-file", str(c.holder(2)),
                answers=f"{test_keys._first_group(draft)}\n{HOLDER_PASS[1]}\n",
                workspace=c.workspace)  # fmt: skip

    assert "threshold 2 -> 3" in shown.output, shown.output
    assert "any one of them can refuse the keyring that removes them" in shown.output
