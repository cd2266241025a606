"""Revoking a reviewer who will not come back: nothing they left unread holds them in service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import Result

from crypto import KeyFile, PrivateKey
from crypto.errors import DecryptionError
from crypto.names import skeleton
from crypto.workspace import WorkspaceKey
from review import workspace as ws
from review.workspace import audit
from tests.review.keys import test_keys
from tests.review.keys.test_keys import (
    ALICE,
    BOB,
    HOLDER_PASS,
    Ceremony,
    _bring_in_bob,
    ok,
    run,
)
from tests.review.subkey_bundles import Chain, seal_report

ceremony = test_keys.ceremony


def _revoke_bob(c: Ceremony, draft: Path, *extra: str, second: Path | None = None) -> str:
    """Alice revokes Bob; with `second`, that administrator's key file is there too (Bob's)."""
    present = ("--second-admin", str(second)) if second is not None else ()
    result = run(
        "--as",
        "alice",
        "keys",
        "reviewer-revoke",
        "bob",
        "--draft",
        str(draft),
        *extra,
        *present,
        answers=f"{ALICE}\n" + (f"{BOB}\n" if second is not None else ""),
        workspace=c.workspace,
    )
    return f"{result.exit_code}\n{result.output}"


def test_an_item_only_the_revoked_reviewer_opens_does_not_keep_them_in_service(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Bob leaves (or his key leaks) and never imports again; whoever holds the server's key
    puts in an export one item sealed to Bob alone, which he alone could open."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    bob = KeyFile.from_bytes((tmp_path / "bob.key").read_bytes())
    assert bob.encryption_public is not None
    bundle = Chain(c.server, tmp_path).bundle(
        [seal_report("for bob alone", bob.encryption_public)], dt.date.today()
    )
    run("--as", "alice", "import", str(bundle), answers=f"{ALICE}\n", workspace=c.workspace)
    draft = tmp_path / "revoke-bob.json"
    # Two administrators revoke a reviewer the keyring lists: here Bob consents, as one.
    ok(_grant(c, "bob", 1, 3))
    bob_file = tmp_path / "bob.key"

    held = _revoke_bob(c, draft, second=bob_file)
    assert held.startswith("1\n"), held
    assert "sealed only to a key being retired" in held
    assert "--abandon-unread" in held
    assert not draft.exists()

    done = _revoke_bob(c, draft, "--abandon-unread", second=bob_file)
    assert done.startswith("0\n"), done
    assert "1 item(s) that only bob's keys open are given up" in done
    assert draft.exists()
    # Bob's own copy of his key file no longer opens the workspace key.
    workspace = ws.Workspace.open(c.workspace)
    wrapped = workspace.conn.execute(
        "SELECT wrapped FROM reviewer_keys WHERE reviewer = 'bob'"
    ).fetchall()
    public = workspace.public_key
    workspace.close()
    assert public.to_text().startswith("rz-xwing-public:")  # wrapped to X-Wing keys
    for bob_key in bob.unlock(BOB).decryption_keys:
        for (blob,) in wrapped:
            try:
                WorkspaceKey.unwrap(blob, bob_key, public)
            except DecryptionError:
                continue
            raise AssertionError("Bob's key still opens the workspace key")
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    rewraps = [e.detail for e in audit.entries(u) if e.action == "rewrap"]
    u.workspace.close()
    assert rewraps[-1] is not None
    assert rewraps[-1]["abandoned"] == 1


def _drop_alice(c: Ceremony, tmp_path: Path) -> None:
    """Bob drafts the keyring without Alice, two holders sign it, and it is installed here."""
    _bring_in_bob(c, tmp_path)
    draft = tmp_path / "without-alice.json"
    drafted = run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(draft),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    assert drafted.exit_code == 0, drafted.output
    assert "- reviewer alice" in drafted.output
    # Bob alone retires nothing while the keyring in force lists her.
    assert ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE).is_admin
    c.sign(draft, 1, 2)
    installed = run("--as", "bob", "keys", "install", str(draft), answers=f"{BOB}\n",
                    workspace=c.workspace)  # fmt: skip
    assert installed.exit_code == 0, installed.output


def _grant(c: Ceremony, reviewer: str, *holders: int) -> Result:
    files = [a for i in holders for a in ("--key-file", str(c.holder(i)))]
    typed = "".join(f"{HOLDER_PASS[i - 1]}\n" for i in holders)
    return run("--as", "bob", "keys", "admin-grant", reviewer, *files,
               answers=f"{BOB}\n{typed}", workspace=c.workspace)  # fmt: skip


def test_the_only_administrator_is_revoked_once_the_authorities_drop_her(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Alice, the workspace's only administrator, leaves or her key leaks. Only an
    administrator revoked, and nobody revokes themselves: nothing could shut her out."""
    c = ceremony
    _drop_alice(c, tmp_path)
    revoked = run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(tmp_path / "x.json"),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert "nobody administers this workspace" in revoked.output
    assert "keys admin-grant" in revoked.output
    locked = run("--as", "alice", "list", answers=f"{ALICE}\n", workspace=c.workspace)
    assert locked.exit_code == 1


def test_revoking_the_only_administrator_first_gives_nobody_her_role(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """The keyring dropping Alice, the only administrator, is installed. Whichever reviewer
    retired her keys first took her role: a colleague about to be revoked himself, racing the
    others, would hold it, and could retire every listed colleague's keys and keep the
    workspace to himself."""
    c = ceremony
    _drop_alice(c, tmp_path)
    revoked = run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(tmp_path / "x.json"),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    u = ws.Workspace.open(c.workspace).unlock("bob", lambda _label: BOB)
    roles = [e.detail for e in audit.entries(u) if e.action == "admin"]
    assert not u.is_admin, "bob took the only administrator's role by revoking her first"
    assert roles == []
    u.workspace.close()


def test_the_authorities_in_force_give_the_role_and_nobody_else_does(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    _drop_alice(c, tmp_path)
    ok(run("--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(tmp_path / "x.json"),
           answers=f"{BOB}\n", workspace=c.workspace))  # fmt: skip

    alone = _grant(c, "bob", 1)  # one holder of a 2-of-3 set
    assert alone.exit_code == 1
    assert "1 of the 2 authority signatures" in alone.output
    twice = _grant(c, "bob", 1, 1)  # the same holder's key file given twice counts once
    assert twice.exit_code == 1
    assert "1 of the 2 authority signatures" in twice.output
    itself = run("--as", "bob", "keys", "admin-grant", "bob", answers=f"{BOB}\n",
                 workspace=c.workspace)  # fmt: skip
    assert itself.exit_code == 1
    assert "only two administrators together, or the keyring's authorities," in itself.output
    dropped = _grant(c, "alice", 1, 3)
    assert dropped.exit_code == 1
    assert "the keyring in force does not list alice" in dropped.output
    u = ws.Workspace.open(c.workspace).unlock("bob", lambda _label: BOB)
    assert not u.is_admin
    u.workspace.close()

    granted = _grant(c, "bob", 1, 3)
    assert granted.exit_code == 0, granted.output
    assert "bob now administers this workspace" in granted.output
    u = ws.Workspace.open(c.workspace).unlock("bob", lambda _label: BOB)
    assert u.is_admin
    roles = [e.detail for e in audit.entries(u) if e.action == "admin"]
    u.workspace.close()
    assert len(roles) == 1
    assert roles[0] is not None
    assert roles[0]["reviewer"] == "bob"
    assert len(roles[0]["authorities"]) == 2


def test_a_reviewer_alone_cannot_shut_out_one_the_keyring_lists(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    _bring_in_bob(c, tmp_path)
    before = ws.Workspace.open(c.workspace)
    wrapped = before.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall()
    before.close()
    run(
        "--as", "bob", "keys", "reviewer-revoke", "alice", "--draft", str(tmp_path / "d.json"),
        answers=f"{BOB}\n", workspace=c.workspace,
    )  # fmt: skip
    after = ws.Workspace.open(c.workspace)
    assert after.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall() == wrapped
    after.close()


def test_an_administrator_the_keyring_dropped_shuts_nobody_out(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """The keyring dropping Alice, the only administrator, is installed, and she races her
    colleagues: before anyone retires her keys she retires Bob's, whom the keyring lists, and
    keeps the workspace to herself, since the role she held outlived the authorities' word."""
    c = ceremony
    _drop_alice(c, tmp_path)
    before = ws.Workspace.open(c.workspace)
    wrapped = before.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall()
    before.close()
    (bobs,) = [str(seq) for seq, _ in wrapped if seq != 1]
    raced = run("--as", "alice", "keys", "rewrap", "--retire", bobs, answers=f"{ALICE}\n",
                workspace=c.workspace)  # fmt: skip
    after = ws.Workspace.open(c.workspace)
    kept = after.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall()
    after.close()
    assert kept == wrapped, raced.output
    assert raced.exit_code == 1, raced.output
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    assert not u.is_admin
    u.workspace.close()


def _key_rows(c: Ceremony) -> list[tuple[int, bytes]]:
    workspace = ws.Workspace.open(c.workspace)
    try:
        return workspace.conn.execute("SELECT seq, wrapped FROM reviewer_keys").fetchall()
    finally:
        workspace.close()


def test_one_administrator_alone_neither_gives_the_role_nor_retires_a_listed_colleague(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Alice, an administrator, turns: alone she makes an accomplice an administrator, or
    retires the keys of every colleague the authorities' keyring lists."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    wrapped = _key_rows(c)
    (bobs,) = [str(seq) for seq, _ in wrapped if seq != 1]

    granted = run("--as", "alice", "keys", "admin-grant", "bob", answers=f"{ALICE}\n",
                  workspace=c.workspace)  # fmt: skip
    assert granted.exit_code == 1, f"one administrator gave the role alone: {granted.output}"
    assert "only two administrators together, or the keyring's authorities" in granted.output
    retired = run("--as", "alice", "keys", "rewrap", "--retire", bobs, answers=f"{ALICE}\n",
                  workspace=c.workspace)  # fmt: skip
    assert retired.exit_code == 1, f"one administrator retired a colleague: {retired.output}"
    assert "one administrator alone may not retire" in retired.output
    draft = tmp_path / "revoke-bob.json"
    revoked = _revoke_bob(c, draft)
    assert revoked.startswith("1\n"), revoked
    assert not draft.exists()
    assert _key_rows(c) == wrapped
    u = ws.Workspace.open(c.workspace).unlock("bob", lambda _label: BOB)
    assert not u.is_admin
    u.workspace.close()


def test_a_second_administrator_present_lets_it_through_and_is_recorded(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    _bring_in_bob(c, tmp_path)
    bob_key = str(tmp_path / "bob.key")
    # Bob is no administrator yet: his key is no second one.
    early = run("--as", "alice", "keys", "admin-grant", "bob", "--second-admin", bob_key,
                answers=f"{ALICE}\n{BOB}\n", workspace=c.workspace)  # fmt: skip
    assert early.exit_code == 1
    assert "bob is no administrator here" in early.output
    ok(_grant(c, "bob", 1, 3))  # the authorities in force make him one
    wrong = run("--as", "alice", "keys", "rewrap", "--retire", "2", "--second-admin", bob_key,
                answers=f"{ALICE}\nnot bob's passphrase\n", workspace=c.workspace)  # fmt: skip
    assert wrong.exit_code == 1
    assert "does not open with that passphrase" in wrong.output

    done = _revoke_bob(c, tmp_path / "revoke-bob.json", second=tmp_path / "bob.key")
    assert done.startswith("0\n"), done
    u = ws.Workspace.open(c.workspace).unlock("alice", lambda _label: ALICE)
    rewraps = [e.detail for e in audit.entries(u) if e.action == "rewrap"]
    u.workspace.close()
    assert rewraps[-1] is not None
    assert rewraps[-1]["second"] == "bob"


def test_one_administrator_alone_cannot_lift_the_two_person_rule(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Alice, an administrator, sets the escalation rule back to 0 alone, then escalates
    alone: the two-person rule her colleagues count on held only while she agreed."""
    c = ceremony
    _bring_in_bob(c, tmp_path)

    def rule(n: str, *extra: str, answers: str = f"{ALICE}\n") -> Result:
        return run("--as", "alice", "escalation", "rule", n, *extra, answers=answers,
                   workspace=c.workspace)  # fmt: skip

    ok(rule("1"))  # stricter: one alone may
    lifted = rule("0")
    assert lifted.exit_code == 1, f"one administrator lifted the two-person rule: {lifted.output}"
    assert "one administrator alone may not weaken the escalation rule" in lifted.output
    ok(_grant(c, "bob", 1, 3))
    ok(rule("0", "--second-admin", str(tmp_path / "bob.key"), answers=f"{ALICE}\n{BOB}\n"))


def test_one_administrator_alone_cannot_give_a_retired_bodys_name_to_her_own_key(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Alice retires the commission colleagues escalate to and registers its name again
    with a key she holds: their next packets to "NCHR" are sealed to her."""
    c = ceremony
    _bring_in_bob(c, tmp_path)

    def add(key: str, *extra: str, answers: str = f"{ALICE}\n") -> Result:
        return run("--as", "alice", "bodies", "add", "--name", "NCHR", "--jurisdiction", "PK",
                   "--contact", "by hand", "--encryption-key", key, *extra, answers=answers,
                   workspace=c.workspace)  # fmt: skip

    ok(add(PrivateKey.generate().public_key.to_text()))
    ok(run("--as", "alice", "bodies", "retire", "1", answers=f"{ALICE}\n", workspace=c.workspace))
    hers = PrivateKey.generate().public_key.to_text()
    taken = add(hers)
    assert taken.exit_code == 1, (
        f"one administrator gave the body's name to her key: {taken.output}"
    )
    assert "one administrator alone may not give a retired body's name" in taken.output
    ok(_grant(c, "bob", 1, 3))
    ok(add(hers, "--second-admin", str(tmp_path / "bob.key"), answers=f"{ALICE}\n{BOB}\n"))


NAB_URDU = (
    "\u0642\u0648\u0645\u06cc \u0627\u062d\u062a\u0633\u0627\u0628 \u0628\u06cc\u0648\u0631\u0648"
)
# Names a reviewer reads as "NCHR" (or as the NAB's Urdu name): Cyrillic and Greek letters,
# full-width ones, dots, spaces, Arabic letters where Urdu has its own, a digit for a letter.
LOOKALIKES = [
    ("NCHR", "N\u0421HR"),
    ("NCHR", "\u039dCHR"),
    ("NCHR", "\uff2e\uff23\uff28\uff32"),
    ("NCHR", "N.C.H.R."),
    ("NCHR", "N C H R"),
    ("NAB Lahore", "NAB Lah0re"),
    # قومی احتساب بیورو, with the Arabic yeh (U+064A) for Urdu's (U+06CC).
    (NAB_URDU, NAB_URDU.replace("\u06cc", "\u064a")),
]  # fmt: skip


def _add_named(
    c: Ceremony, name: str, key: str, *extra: str, answers: str = f"{ALICE}\n"
) -> Result:
    return run("--as", "alice", "bodies", "add", "--name", name, "--jurisdiction", "PK",
               "--contact", "by hand", "--encryption-key", key, *extra, answers=answers,
               workspace=c.workspace)  # fmt: skip


@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES)
def test_a_name_read_as_another_has_its_skeleton(real: str, lookalike: str) -> None:
    assert skeleton(lookalike) == skeleton(real)


@pytest.mark.parametrize(
    ("one", "other"),
    [("NCHR", "NCHR Sindh"), ("NAB", "FIA"), (NAB_URDU, "NAB"), ("NAB 1", "NAB 2")],
)
def test_names_read_apart_have_skeletons_apart(one: str, other: str) -> None:
    assert skeleton(one) != skeleton(other)


# Each takes a workspace's ceremony: two look-alikes through the command, the rest above.
@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES[::3])
def test_one_administrator_alone_cannot_give_a_name_like_a_retired_bodys_to_her_key(
    ceremony: Ceremony, tmp_path: Path, real: str, lookalike: str
) -> None:
    """Alice retires the body colleagues escalate to and registers, alone, a key of hers
    under a name that reads as its name: their packets to it were sealed to her."""
    c = ceremony
    _bring_in_bob(c, tmp_path)
    ok(_add_named(c, real, PrivateKey.generate().public_key.to_text()))
    ok(run("--as", "alice", "bodies", "retire", "1", answers=f"{ALICE}\n", workspace=c.workspace))
    hers = PrivateKey.generate().public_key.to_text()
    taken = _add_named(c, lookalike, hers)
    assert taken.exit_code == 1, f"one administrator registered {lookalike!r}: {taken.output}"
    assert "one administrator alone may not" in taken.output
    ok(_grant(c, "bob", 1, 3))
    ok(_add_named(c, lookalike, hers, "--second-admin", str(tmp_path / "bob.key"),
                  answers=f"{ALICE}\n{BOB}\n"))  # fmt: skip


@pytest.mark.parametrize(("real", "lookalike"), LOOKALIKES[:1])
def test_no_body_is_added_beside_one_in_use_under_a_name_like_its_own(
    ceremony: Ceremony, real: str, lookalike: str
) -> None:
    """Beside the NCHR in use, Alice adds her key as "NCHR" in Cyrillic letters: a list, or
    a reviewer choosing by what they read, cannot tell which is the commission."""
    c = ceremony
    ok(_add_named(c, real, PrivateKey.generate().public_key.to_text()))
    taken = _add_named(c, lookalike, PrivateKey.generate().public_key.to_text())
    assert taken.exit_code == 1, f"a body {lookalike!r} was added beside {real!r}"
    assert "looks like" in taken.output
