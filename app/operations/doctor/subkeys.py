"""Weekly subkeys: under a keyring of hybrid reviewers, can reports be sealed, and how long for."""

from __future__ import annotations

import datetime as dt

from app.instance import InstancePaths
from app.keyring import fresh_timestamp, load_keyring
from app.operations.doctor.verdict import Check, Status
from app.subkeys import below_floor, read_lists, sealing_day, statuses
from crypto.constants import SUBKEYS_WARN_DAYS
from crypto.subkeys import SubkeyError, requires_subkeys, sealing_keys

_RENEW = (
    "`raazdar-review keys subkeys new` on the workstation, "
    "then `raazdar keyring subkeys install FILE…` here"
)


def subkeys_check(
    paths: InstancePaths,
    today: dt.date,
    latest_export: dt.date | None = None,
    installed: int | None = None,
) -> Check:
    """Fail when some reviewer has no subkey for the week sealed to; warn when a list runs out
    within 14 days.

    The week is the sealing day's, as the server's (`app.subkeys.sealing_day`): today's, or
    that of the latest day an export was dated while the clock is behind it.
    """
    day = sealing_day(today, latest_export)
    behind = (
        f" (the week of {day.isoformat()}, the latest export's day: the clock is behind it)"
        if day != today
        else ""
    )
    state = load_keyring(paths, today, installed)
    manifest = state.manifest
    if manifest is None:
        return Check("subkeys", Status.FAIL, "no keyring in force (see the keyring check)")
    if not requires_subkeys(manifest):
        return Check(
            "subkeys",
            Status.OK,
            "the keyring has no hybrid reviewers: reports are sealed to long-term keys "
            "(envelope v1), not forward-secret",
        )
    lists = read_lists(paths)
    try:
        sealing_keys(manifest, lists, day)
    except SubkeyError as exc:
        return Check(
            "subkeys",
            Status.FAIL,
            f"no report can be taken: a reviewer has no valid subkey for the week sealed to"
            f"{behind or ' (this week)'} ({exc}); " + _RENEW,
        )
    stamp = fresh_timestamp(state, today)
    older = below_floor(manifest, lists, dict(stamp.subkeys)) if stamp is not None else None
    if older is not None:
        return Check("subkeys", Status.FAIL, f"no report can be taken: {older}")
    found = statuses(manifest, lists, day)
    left = min(s.days_left for s in found if s.days_left is not None)
    short = [
        s.recipient.id for s in found if s.days_left is not None and s.days_left < SUBKEYS_WARN_DAYS
    ]
    if short:
        return Check(
            "subkeys",
            Status.WARN,
            f"the subkeys of {', '.join(short)} run out in {left} day(s), and then no report "
            "can be taken" + behind + ": " + _RENEW,
        )
    return Check("subkeys", Status.OK, f"every reviewer has subkeys for {left} more day(s){behind}")
