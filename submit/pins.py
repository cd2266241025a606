"""The pins file: what the organisation (or `raazdar-submit pins`) vouches for, one line each.

`instance URL` once, `authority FINGERPRINT` for each key, `threshold K` once,
`keyring VERSION DIGEST` once (the keyring in force must be it or follow from
it), `subkeys bound` once (the reviewers' subkey lists name the instance:
an unbound, format 1 list is a replay), and `subkeys REVIEWER NUMBER` once per
reviewer (a list of theirs numbered lower is a replay). docs/submit.md says
what each gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import click

from crypto import CryptoError
from submit.noatime import read_text_quietly
from submit.trust import KeyringPin

BOUND: Final = "bound"
_EXPECTED: Final = (
    "expected `instance URL` (once), `authority FINGERPRINT`, `threshold K` (once, K from 1 "
    "to 99), `keyring VERSION DIGEST` (once), `subkeys bound` (once) or `subkeys REVIEWER "
    "NUMBER` (once per reviewer)"
)
_FLOOR: Final = re.compile(r"([a-z0-9][a-z0-9._-]{0,63})\s+([1-9][0-9]{0,15})")


@dataclass
class Pins:
    """A pins file, read: nothing in it is checked against the instance yet."""

    instance: str | None = None
    authorities: list[str] = field(default_factory=list)
    threshold: int | None = None
    keyring: KeyringPin | None = None
    bound_subkeys: bool = False
    # By reviewer id: the lowest subkey list number to take (a device that saw it says so).
    subkey_floors: dict[str, int] = field(default_factory=dict)


def read_pins(path: Path) -> Pins:
    """Read a pins file strictly: an unknown or repeated line is a usage error."""
    try:
        lines = read_text_quietly(path).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter("cannot read it as UTF-8 text", param_hint="--pins-file") from exc
    pins = Pins()
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split(None, 1)
        if words and not _take(pins, words[0], words[1].strip() if len(words) == 2 else None):
            raise click.BadParameter(f"line {number}: {_EXPECTED}", param_hint="--pins-file")
    return pins


def _take(pins: Pins, name: str, value: str | None) -> bool:
    """Record one line's value in `pins`; False if it is not a line a pins file may hold."""
    if value is None:
        return False
    if name == "instance" and pins.instance is None:
        pins.instance = value
    elif name == "authority":
        pins.authorities.append(value)
    elif name == "threshold" and pins.threshold is None and re.fullmatch(r"[1-9][0-9]?", value):
        pins.threshold = int(value)
    elif name == "keyring" and pins.keyring is None:
        try:
            pins.keyring = KeyringPin.parse(value)
        except CryptoError:
            return False
    elif name == "subkeys" and not pins.bound_subkeys and value == BOUND:
        pins.bound_subkeys = True
    elif name == "subkeys" and (found := _FLOOR.fullmatch(value)) is not None:
        if found[1] in pins.subkey_floors:
            return False
        pins.subkey_floors[found[1]] = int(found[2])
    else:
        return False
    return True
