"""Changing instance settings and the taxonomy: every value checked, every change audited.

A change is checked whole before anything is written, so a refused change
leaves every setting as it was. The audit entry names what changed (keys,
numbers, taxonomy codes), never the free text: of that, the SHA-256 before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.models import TaxonomyTerm, today
from app.services import audit
from app.settings import (
    DELAYED,
    SOURCE_EXPIRY_DELAY_DAYS,
    get_setting,
    in_force,
    set_setting,
    taxonomy,
)
from app.taxonomy import GROUPS

ORGANISATION_MAX: Final = 100
RESOURCES_MAX: Final = 20_000
LABEL_MAX: Final = 200
# The largest upload a source may send; bounded so that one report cannot fill the store.
UPLOAD_LIMIT_MIB: Final = (1, 2048)
# Retention is counted in days; ten years is the longest anything is kept.
RETENTION_DAYS: Final = (1, 3650)
# The settings changes the settings page reads back to say who last changed each text.
CHANGES_READ: Final = 500
_CODE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class SettingsError(AppError):
    """A setting was refused; `field` names it and the message is safe to show."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _text(limit: int, *, one_line: bool) -> Callable[[str, Any], Any]:
    def check(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise SettingsError(key, "This must be text.")
        text = value.replace("\r\n", "\n").strip()
        if not text:
            raise SettingsError(key, "This cannot be empty.")
        if len(text) > limit:
            raise SettingsError(key, f"This can have at most {limit} characters.")
        allowed = "" if one_line else "\n\t"
        if any(not ch.isprintable() and ch not in allowed for ch in text):
            which = "line breaks or control" if one_line else "control"
            raise SettingsError(key, f"This cannot contain {which} characters.")
        return text

    return check


def _number(bounds: tuple[int, int], unit: str) -> Callable[[str, Any], Any]:
    low, high = bounds

    def check(key: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise SettingsError(key, "This must be a whole number.")
        if not low <= value <= high:
            raise SettingsError(key, f"This must be between {low} and {high} {unit}.")
        return value

    return check


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(key, "This must be yes or no.")
    return value


_RULES: Final[dict[str, Callable[[str, Any], Any]]] = {
    "organisation": _text(ORGANISATION_MAX, one_line=True),
    "resources_en": _text(RESOURCES_MAX, one_line=False),
    "resources_ur": _text(RESOURCES_MAX, one_line=False),
    "resources_reviewed": _flag,
    "upload_limit_mib": _number(UPLOAD_LIMIT_MIB, "MiB"),
    "retention_days": _number(RETENTION_DAYS, "days"),
    "source_expiry_days": _number(RETENTION_DAYS, "days"),
    # Arrivals are dated no finer than this (app.operations.sweep): an hour at the least.
    "sweep_hours": _number((1, 24), "hours"),
}
# Free text is recorded as changed, not quoted: the log is for who did what.
_QUOTED: Final = frozenset(
    {
        "upload_limit_mib",
        "retention_days",
        "source_expiry_days",
        "sweep_hours",
        "resources_reviewed",
    }
)


def current(session: Session) -> dict[str, Any]:
    """Return every editable setting's value."""
    return {key: get_setting(session, key) for key in _RULES}


def update(session: Session, changes: Mapping[str, Any], *, actor: str) -> list[str]:
    """Check `changes` whole, then apply and audit them; return the keys that changed."""
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        rule = _RULES.get(key)
        if rule is None:
            raise SettingsError(key, "This setting cannot be changed here.")
        checked[key] = rule(key, value)
    changed = {k: v for k, v in checked.items() if v != get_setting(session, k)}
    if not changed:
        return []
    # Free text is named by its digest, before and after: the log shows what was replaced
    # (a legal-aid page rewritten) and can be matched against a copy, without quoting it.
    digests = {
        k: {"from": digest(get_setting(session, k)), "to": digest(v)}
        for k, v in changed.items()
        if k not in _QUOTED
    }
    delayed: dict[str, Any] = {}
    for key in DELAYED:
        if key in changed:
            delayed.update(_delay(session, key, changed[key]))
    for key, value in changed.items():
        set_setting(session, key, value)
    audit.record(
        session,
        actor,
        "settings-changed",
        changed=sorted(changed),
        values={k: v for k, v in changed.items() if k in _QUOTED},
        **({"digests": digests} if digests else {}),
        **({"delayed": delayed} if delayed else {}),
    )
    return sorted(changed)


def digest(text: str) -> str:
    """The SHA-256 of a free text setting, as the audit log and the settings page give it."""
    return hashlib.sha256(text.encode()).hexdigest()


def text_changes(session: Session, keys: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Who last changed each of `keys` (free text) and when, with its text's digest now."""
    found: dict[str, dict[str, str]] = {}
    for entry in audit.entries(session, action="settings-changed", limit=CHANGES_READ):
        for key in json.loads(entry.detail).get("changed", ()):
            if key in keys and key not in found:
                now = digest(get_setting(session, key))
                found[key] = {"actor": entry.actor, "day": entry.day.isoformat(), "digest": now}
    return found


def removed_terms(session: Session) -> dict[str, list[dict[str, str]]]:
    """The terms removed from each group and not added back, with who removed them and when.

    A removed term is simply gone from the form: sources can no longer name the agency
    it was. Every administrator sees that one was removed, and by whom, as a relabelling.
    """
    current = {(group, t.code) for group, listed in taxonomy(session).items() for t in listed}
    found: dict[str, list[dict[str, str]]] = {}
    seen: set[tuple[str, str]] = set()
    for entry in audit.entries(session, action="taxonomy-term-removed", limit=CHANGES_READ):
        detail = json.loads(entry.detail)
        key = (str(detail.get("group", "")), str(detail.get("code", "")))
        if key in seen or key in current:
            continue
        seen.add(key)
        found.setdefault(key[0], []).append(
            {"code": key[1], "actor": entry.actor, "day": entry.day.isoformat()}
        )
    return found


def label_changes(session: Session) -> dict[tuple[str, str], dict[str, str]]:
    """Who last set each term's labels (added or relabelled) and when, by (group, code).

    Sources choose the agency they accuse by its label: every administrator sees that
    one changed it, and the digests of the labels now, to match against the log.
    """
    found: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
    for action in ("taxonomy-term-added", "taxonomy-term-relabelled"):
        for entry in audit.entries(session, action=action, limit=CHANGES_READ):
            detail = json.loads(entry.detail)
            key = (str(detail.get("group", "")), str(detail.get("code", "")))
            if key not in found or found[key][0] < entry.seq:
                found[key] = (entry.seq, {"actor": entry.actor, "day": entry.day.isoformat()})
    terms = {(group, t.code): t for group, listed in taxonomy(session).items() for t in listed}
    return {
        key: {**seen, "en": digest(terms[key].label_en), "ur": digest(terms[key].label_ur)}
        for key, (_seq, seen) in found.items()
        if key in terms
    }


def _delay(session: Session, key: str, value: int) -> dict[str, Any]:
    """Keep a `DELAYED` setting in force for `SOURCE_EXPIRY_DELAY_DAYS` if `value` harms.

    A change back to at least as safe a value as the one in force ends a delay; a
    harmful one during a delay counts its delay again from today, from the value in
    force. Returns what the audit entry says.
    """
    record, kept = DELAYED[key]
    day = today()
    now = in_force(session, key, day)
    if kept(value, now) == value:
        set_setting(session, record, None)
        return {}
    from_day = (day + dt.timedelta(days=SOURCE_EXPIRY_DELAY_DAYS)).isoformat()
    set_setting(session, record, {"from": now, "from_day": from_day})
    return {key: {"from": now, "to": value, "from_day": from_day}}


def _terms(session: Session, group: str) -> list[TaxonomyTerm]:
    if group not in GROUPS:
        raise SettingsError("group", f"There is no taxonomy group {group!r}.")
    query = (
        select(TaxonomyTerm)
        .where(TaxonomyTerm.group == group)
        .order_by(TaxonomyTerm.position, TaxonomyTerm.code)
    )
    return list(session.execute(query).scalars())


def _term(terms: list[TaxonomyTerm], code: str) -> TaxonomyTerm:
    for term in terms:
        if term.code == code:
            return term
    raise SettingsError("code", f"There is no term {code!r} in this group.")


def _labels(label_en: str, label_ur: str) -> tuple[str, str]:
    check = _text(LABEL_MAX, one_line=True)
    return check("label_en", label_en), check("label_ur", label_ur)


def _renumber(terms: list[TaxonomyTerm]) -> None:
    for position, term in enumerate(terms):
        term.position = position


def add_term(
    session: Session, group: str, code: str, label_en: str, label_ur: str, *, actor: str
) -> None:
    """Add a term at the end of `group`."""
    terms = _terms(session, group)
    code = code.strip()
    if not _CODE.fullmatch(code):
        raise SettingsError(
            "code", "A code is 1-64 lowercase letters, digits and dashes, not starting with a dash."
        )
    if any(t.code == code for t in terms):
        raise SettingsError("code", f"This group already has a term {code!r}.")
    en, ur = _labels(label_en, label_ur)
    session.add(TaxonomyTerm(group=group, code=code, label_en=en, label_ur=ur, position=len(terms)))
    _renumber(terms)
    audit.record(session, actor, "taxonomy-term-added", group=group, code=code)


def relabel_term(
    session: Session, group: str, code: str, label_en: str, label_ur: str, *, actor: str
) -> None:
    """Change a term's labels; its code, which reports carry, stays."""
    term = _term(_terms(session, group), code)
    en, ur = _labels(label_en, label_ur)
    if (term.label_en, term.label_ur) == (en, ur):
        return
    # Sources choose the agency they accuse by its label: the log shows what it said before.
    digests = {
        key: {"from": digest(old), "to": digest(label)}
        for key, old, label in (("label_en", term.label_en, en), ("label_ur", term.label_ur, ur))
        if old != label
    }
    term.label_en, term.label_ur = en, ur
    audit.record(
        session, actor, "taxonomy-term-relabelled", group=group, code=code, digests=digests
    )


def remove_term(session: Session, group: str, code: str, *, actor: str) -> None:
    """Remove a term (reports already sent keep its code and label inside them)."""
    terms = _terms(session, group)
    term = _term(terms, code)
    session.delete(term)
    _renumber([t for t in terms if t is not term])
    audit.record(session, actor, "taxonomy-term-removed", group=group, code=code)


def move_term(session: Session, group: str, code: str, direction: str, *, actor: str) -> None:
    """Move a term one place up or down within its group (at an end it stays)."""
    if direction not in ("up", "down"):
        raise SettingsError("direction", "A term moves up or down.")
    terms = _terms(session, group)
    index = terms.index(_term(terms, code))
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(terms):
        return
    terms[index], terms[other] = terms[other], terms[index]
    _renumber(terms)
    audit.record(session, actor, "taxonomy-term-moved", group=group, code=code, direction=direction)
