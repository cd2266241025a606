"""What a holder reads before signing marks every key a draft swaps or adds, the instance's too.

A colleague about to be revoked drafts the next keyring and puts a key of hers in it:
the timestamp key (which keeps a superseded keyring alive, PROTOCOL §8.8) or a second
server key (which signs export bundles the workstation takes as the server's). A
reviewer's key swapped that way reads "CHANGED TO" in the difference, and an
authority added "+"; the instance's keys were listed as they stand, without saying
which were new or what they replaced, so a holder read a description, not a change.
"""

from __future__ import annotations

import dataclasses

from crypto import InstanceListing, SigningKey, TimestampPolicy, VerifyKey
from review.keys import ceremony
from tests.review.keys.test_keys_hybrid import LISTING, POLICY, keyring

# A key of the drafter's own.
_HERS = SigningKey(b"\x21" * 32).verify_key


def _next(instance: InstanceListing = LISTING, timestamp: TimestampPolicy = POLICY) -> list[str]:
    current = keyring()
    drafted = dataclasses.replace(
        current, version=2, previous=bytes(32), instance=instance, timestamp=timestamp
    )
    return ceremony.changes(current, drafted)


def _line_of(lines: list[str], key: VerifyKey) -> str:
    found = [line for line in lines if str(key.fingerprint) in line]
    assert len(found) == 1, lines
    return found[0]


def test_a_timestamp_key_swapped_in_a_draft_reads_as_changed_from_the_one_in_force() -> None:
    lines = _next(timestamp=TimestampPolicy(_HERS, POLICY.max_days))
    assert "CHANGED TO" in _line_of(lines, _HERS), f"the swap read as a description: {lines}"
    assert str(POLICY.key.fingerprint) in "\n".join(lines), "the key it replaces is not named"


def test_a_server_key_added_in_a_draft_reads_as_added_beside_the_one_in_force() -> None:
    listing = InstanceListing(LISTING.id, LISTING.onions, (*LISTING.server_keys, _HERS))
    lines = _next(instance=listing)
    added = _line_of(lines, _HERS)
    assert added.lstrip().startswith("+"), f"the key added read as one in force: {lines}"
    kept = _line_of(lines, LISTING.server_keys[0])
    assert "unchanged" in kept, lines


def test_a_draft_that_keeps_the_instance_lists_it_unchanged() -> None:
    lines = "\n".join(_next())
    assert "timestamp key" not in lines
    assert "server key" not in lines
