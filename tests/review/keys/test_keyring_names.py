"""Names in a keyring: people know holders and reviewers by them, so none may read as another."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from app.operations.keyring_admin import KeyringInstallError
from crypto import AuthorityKey, KeyFile, PrivateKey, SignedManifest, SigningKey
from tests.review.keys import test_keys
from tests.review.keys.test_keys import ALICE, BOB, HOLDER_PASS, Ceremony, run

ceremony = test_keys.ceremony

# "Holder Two" with a Cyrillic capital Te: on any screen, the name of the second holder.
LOOKALIKE_TWO = "Holder \u0422wo"


def _holder(c: Ceremony, i: int) -> SigningKey:
    pair = KeyFile.from_bytes(c.holder(i).read_bytes()).unlock(HOLDER_PASS[i - 1])
    assert pair.signing is not None
    return pair.signing


def _second_vote(c: Ceremony, tmp_path: Path, name: str = LOOKALIKE_TWO) -> tuple[Path, SigningKey]:
    """Holder One's draft: a key of hers added as "Holder Two", the threshold kept at 2.

    The holders read "+ authority … Holder Two" beside Holder Two's unchanged key: a
    second key of hers, they take it. Signed, it gives Holder One two votes of 2.
    """
    current = SignedManifest.from_bytes((c.dir / "keyring-v1.json").read_bytes()).manifest
    hers = SigningKey.generate()
    today = dt.date.today()
    new = current.successor(
        issued=today,
        expires=today + dt.timedelta(days=90),
        authorities=(*current.authorities, AuthorityKey(name, hers.verify_key)),
    )
    draft = tmp_path / "draft-v2.json"
    draft.write_bytes(SignedManifest(new).to_bytes())
    return draft, hers


def test_a_holder_is_not_asked_to_sign_a_second_authority_under_a_name_read_as_a_holders(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    c = ceremony
    draft, _hers = _second_vote(c, tmp_path)
    signed = run("keys", "sign-manifest", str(draft), "--key-file", str(c.holder(3)),
                 answers=f"{test_keys._first_group(draft)}\n{HOLDER_PASS[2]}\n",
                 workspace=c.workspace)  # fmt: skip
    assert signed.exit_code == 1, (
        f"a holder signed a second authority named like Holder Two: {signed.output}"
    )
    assert "read alike" in signed.output
    assert "\\u0422" in signed.output  # the letter that is not what it seems, spelt out
    assert "Traceback" not in signed.output
    assert SignedManifest.from_bytes(draft.read_bytes()).signatures == ()


def test_a_holder_is_not_asked_to_sign_a_second_authority_named_in_armenian_letters(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Armenian's small oh is the Latin o on any screen, as Cyrillic's capital Te is a T."""
    c = ceremony
    draft, _hers = _second_vote(c, tmp_path, "Holder Tw\u0585")
    signed = run("keys", "sign-manifest", str(draft), "--key-file", str(c.holder(3)),
                 answers=f"{test_keys._first_group(draft)}\n{HOLDER_PASS[2]}\n",
                 workspace=c.workspace)  # fmt: skip
    assert signed.exit_code == 1, (
        f"a holder signed a second authority named like Holder Two: {signed.output}"
    )
    assert "read alike" in signed.output
    assert "\\u0585" in signed.output
    assert SignedManifest.from_bytes(draft.read_bytes()).signatures == ()


def test_a_keyring_with_two_authorities_named_alike_is_installed_nowhere(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """Signed all the same (by hand, say), neither the server nor the workstation takes it:
    once in force, Holder One alone would meet the threshold and swap any reviewer's key."""
    c = ceremony
    draft, hers = _second_vote(c, tmp_path)
    whole = SignedManifest.from_bytes(draft.read_bytes())
    for key in (_holder(c, 1), _holder(c, 3), hers):
        whole = whole.sign(key)
    draft.write_bytes(whole.to_bytes())
    with c.server.app.app_context(), pytest.raises(KeyringInstallError, match="read alike"):
        c.install_on_server(draft)
    here = run("--as", "alice", "keys", "install", str(draft), answers=f"{ALICE}\n",
               workspace=c.workspace)  # fmt: skip
    assert here.exit_code == 1, f"the workstation installed it: {here.output}"
    assert "read alike" in here.output
    assert "Traceback" not in here.output


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Alice", "\u0410lice"),  # Cyrillic capital A
        ("Alice", "alice"),
        ("Alice Khan", "Alice  Khan."),
    ],
)
def test_a_reviewer_added_under_a_name_read_as_another_reviewers_is_refused(
    ceremony: Ceremony, tmp_path: Path, one: str, other: str
) -> None:
    """A reviewer's name is how colleagues tell whose replies, notes and subkeys are whose."""
    c = ceremony
    current = SignedManifest.from_bytes((c.dir / "keyring-v1.json").read_bytes()).manifest
    first = replace(current.recipients[0], name=one)
    second = replace(
        first,
        id="alice2",
        name=other,
        encryption_key=PrivateKey.generate().public_key,
        signing_key=SigningKey.generate().verify_key,
    )
    today = dt.date.today()
    new = current.successor(
        issued=today, expires=today + dt.timedelta(days=90), recipients=(first, second)
    )
    draft = tmp_path / "draft-v2.json"
    draft.write_bytes(SignedManifest(new).to_bytes())
    signed = run("keys", "sign-manifest", str(draft), "--key-file", str(c.holder(1)),
                 answers=f"{test_keys._first_group(draft)}\n{HOLDER_PASS[0]}\n",
                 workspace=c.workspace)  # fmt: skip
    assert signed.exit_code == 1, f"a holder signed reviewers {one!r} and {other!r}"
    assert "read alike" in signed.output


def test_no_draft_adds_a_reviewer_whose_key_file_is_labelled_as_another_reviewer(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    """The drafting command names the reviewer after their key file's label: "Alice" in
    Cyrillic letters beside Alice is refused there, before any holder is asked."""
    c = ceremony
    theirs = test_keys.new_key(tmp_path / "lookalike.key", "\u0410lice", BOB)
    draft = tmp_path / "add.json"
    added = run("keys", "reviewer-add", "--key-file", str(theirs), "--reviewer", "alice2",
                "--draft", str(draft), answers=f"{ALICE}\n", workspace=c.workspace)  # fmt: skip
    assert added.exit_code == 1, f"a draft added a second Alice: {added.output}"
    assert "read alike" in added.output
    assert "Traceback" not in added.output
    assert not draft.exists()
