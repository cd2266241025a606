"""Instance settings administrators edit (organisation name, resources, limits).

Every request reads them (the upload limit, the organisation's name, the
taxonomy of the form), and they change only when an administrator edits them.
So each worker keeps a copy, and a request reads one row instead: a random
revision that every flush changing a setting or a taxonomy term rewrites in
the same transaction. A copy under another revision than the database's is
read again whole, so an edit made through any worker, on any host sharing the
database, is seen by the next request everywhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from flask import g, has_request_context
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, UOWTransaction

from app.models import Setting, TaxonomyTerm, today
from app.taxonomy import SEED

RESOURCES_PLACEHOLDER_EN: Final = (
    "[Placeholder] The administrators of this instance have not yet added legal-aid and "
    "victim-support contacts. Until they do, please do not rely on this page for help."
)
RESOURCES_PLACEHOLDER_UR: Final = (
    "[عارضی متن] اس سروس کے منتظمین نے ابھی قانونی امداد اور متاثرین کی مدد کرنے والے اداروں "
    "کے رابطے شامل نہیں کیے۔ جب تک وہ ایسا نہ کریں، مدد کے لیے اس صفحے پر انحصار نہ کریں۔"
)

# Generic guidance true anywhere in Pakistan, with no number or address: an
# instance adds its own contacts, and marks the page reviewed (`resources_reviewed`).
RESOURCES_EN: Final = """What legal aid is
Legal aid is help from a lawyer for people who cannot pay for one: advice on your \
rights, help to make a complaint or bring a case, and someone to speak for you in court.

It is free for victims
Pakistan's Prevention of Trafficking in Persons Act 2018 and Prevention of Smuggling \
of Migrants Act 2018 protect the victims of these crimes. If you are one of them, \
legal aid is free for you: you should not have to pay for it.

Who provides it
- District Legal Empowerment Committees, in every district, headed by the District \
and Sessions Judge: they appoint a lawyer for people who cannot afford one.
- The free legal aid committees of the Pakistan Bar Council, of each provincial bar \
council and of the district bar associations.
- Non-governmental organisations that help victims of trafficking, migrants and \
women: many give legal advice and can put you in touch with a lawyer.

To ask for it, go to the district courts and ask for free legal aid at the office \
of the District and Sessions Judge or at the bar association. You do not need to \
mention this website, and never tell anyone your codename.

This service does not provide lawyers and is not an emergency service."""
RESOURCES_UR: Final = """قانونی امداد کیا ہے
قانونی امداد ان لوگوں کے لیے وکیل کی مدد ہے جو اس کا خرچ نہیں اٹھا سکتے: آپ کے حقوق \
کے بارے میں مشورہ، شکایت درج کرانے یا مقدمہ کرنے میں مدد، اور عدالت میں آپ کی طرف سے بات کرنے والا۔

متاثرین کے لیے یہ مفت ہے
پاکستان کا انسدادِ انسانی اسمگلنگ ایکٹ 2018 \
اور تارکینِ وطن کی اسمگلنگ کی روک تھام کا ایکٹ 2018 \
ان جرائم کے متاثرین کو تحفظ دیتے ہیں۔ اگر آپ ان میں سے ہیں تو قانونی \
امداد آپ کے لیے مفت ہے: آپ کو اس کے پیسے نہیں دینے چاہییں۔

یہ مدد کون دیتا ہے
- ضلعی قانونی بااختیاری کمیٹیاں، ہر ضلع میں، \
جن کے سربراہ ڈسٹرکٹ اینڈ سیشن جج ہوتے ہیں: یہ ان لوگوں کے لیے وکیل مقرر کرتی ہیں جو \
وکیل کا خرچ نہیں اٹھا سکتے۔
- پاکستان بار کونسل، صوبائی بار کونسلوں اور ضلعی بار ایسوسی ایشنوں کی مفت قانونی امداد کی کمیٹیاں۔
- غیر سرکاری تنظیمیں (این جی اوز) جو انسانی اسمگلنگ کے متاثرین، تارکینِ وطن اور \
خواتین کی مدد کرتی ہیں: ان میں سے بہت سی قانونی مشورہ دیتی ہیں اور وکیل سے رابطہ کروا سکتی ہیں۔

یہ مدد مانگنے کے لیے ضلع کچہری جائیں اور ڈسٹرکٹ اینڈ سیشن جج کے دفتر یا بار ایسوسی ایشن \
میں مفت قانونی امداد کے بارے میں پوچھیں۔ اس ویب سائٹ کا ذکر کرنا ضروری نہیں، اور اپنا \
کوڈ نیم کبھی کسی کو نہ بتائیں۔

یہ سروس وکیل فراہم نہیں کرتی اور ہنگامی مدد کی سروس نہیں ہے۔"""
# What instances seeded before the guidance hold; shown as the guidance instead.
_SUPERSEDED: Final = {
    ("resources_en", RESOURCES_PLACEHOLDER_EN): RESOURCES_EN,
    ("resources_ur", RESOURCES_PLACEHOLDER_UR): RESOURCES_UR,
}

DEFAULTS: Final[dict[str, Any]] = {
    "organisation": "Raazdar",
    "resources_en": RESOURCES_EN,
    "resources_ur": RESOURCES_UR,
    # Whether an administrator has reviewed the legal-aid page for this instance.
    "resources_reviewed": False,
    "upload_limit_mib": 500,
    # Items not yet acknowledged are deleted this many days after they arrived.
    "retention_days": 90,
    # A source with no activity for this many days expires, once nothing they sent remains.
    "source_expiry_days": 365,
    # A lowered `source_expiry_days` is in force only from a later day; until then the
    # value it replaced holds: {"from": days, "from_day": "YYYY-MM-DD"}, or None.
    "source_expiry_lowered": None,
    # So too a lowered `upload_limit_mib`, and a raised `retention_days` (`DELAYED`).
    "upload_limit_lowered": None,
    "retention_raised": None,
    # New envelopes are re-created in the store, in a random order, once per this many hours.
    "sweep_hours": 24,
}


# Days before a lowered `source_expiry_days` is in force: one administrator alone could
# otherwise expire every source idle since yesterday, with the replies waiting for them, at
# the next purge. Two weeks in which every other administrator sees it on the settings page.
SOURCE_EXPIRY_DELAY_DAYS: Final = 14
# The settings whose change one way waits as long, each with the setting that records it
# and which of the two values holds meanwhile. A lowered upload limit refuses every
# source's documents from the next request; a raised retention silences the warnings of
# reports left on a seizable server, and keeps them that long.
DELAYED: Final[dict[str, tuple[str, Callable[[int, int], int]]]] = {
    "source_expiry_days": ("source_expiry_lowered", max),
    "upload_limit_mib": ("upload_limit_lowered", max),
    "retention_days": ("retention_raised", min),
}

# The row whose value changes with every change of a setting or a term (not a setting).
REVISION_KEY: Final = "_revision"
# Where a request keeps the revision it read (`flask.g`).
_SEEN: Final = "raazdar_settings_revision"
# Set there once the request's own transaction gave the settings a new revision.
_OWN: Final = "raazdar_settings_revision_own"
_NOTHING: Final = object()


@dataclass(frozen=True)
class Term:
    """A taxonomy term as pages and forms show it: a copy, not a row."""

    group: str
    code: str
    label_en: str
    label_ur: str
    position: int


@dataclass(frozen=True)
class _Copy:
    """The settings and the taxonomy as they stood at one revision."""

    revision: str | None
    values: dict[str, Any]
    taxonomy: dict[str, list[Term]]


# One copy per database (an app's engine): tests and tools hold several.
_copies: weakref.WeakKeyDictionary[Engine, _Copy] = weakref.WeakKeyDictionary()
_copies_lock = threading.Lock()


def get_setting(session: Session, key: str) -> Any:
    """Return a setting's value, or its default."""
    if key not in DEFAULTS:
        raise KeyError(key)
    value = _current(session).values.get(key, DEFAULTS[key])
    if isinstance(value, str):
        return _SUPERSEDED.get((key, value), value)
    return value


def source_expiry_days(session: Session, day: dt.date) -> int:
    """Return the source expiry in force on `day`: a lowered one only once its delay is over."""
    return in_force(session, "source_expiry_days", day)


def in_force(session: Session, key: str, day: dt.date | None = None) -> int:
    """Return a `DELAYED` setting's value in force on `day` (today): a harmful change waits."""
    record, kept = DELAYED[key]
    value = int(get_setting(session, key))
    pending = get_setting(session, record)
    if pending and (day or today()) < dt.date.fromisoformat(pending["from_day"]):
        return kept(value, int(pending["from"]))
    return value


def delayed_changes(session: Session, day: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """The harmful changes not yet in force on `day` (today), by setting: for staff and doctor."""
    day = day or today()
    found = {}
    for key, (record, _kept) in DELAYED.items():
        pending = get_setting(session, record)
        if pending and day < dt.date.fromisoformat(pending["from_day"]):
            found[key] = {**pending, "to": get_setting(session, key)}
    return found


def set_setting(session: Session, key: str, value: Any) -> None:
    """Change a setting (the caller commits)."""
    session.merge(_row(key, value))


def _row(key: str, value: Any) -> Setting:
    """A setting's row, for a key the app knows."""
    if key not in DEFAULTS:
        raise KeyError(key)
    return Setting(key=key, value=json.dumps(value, ensure_ascii=False))


def seed(session: Session) -> None:
    """Write the default settings and the seed taxonomy into a new database.

    What is there already is read once and kept; the rest is added in one flush (one
    revision), not a flush per row.
    """
    with session.no_autoflush:
        settings = set(session.scalars(select(Setting.key)))
        terms = {(g, c) for g, c in session.execute(select(TaxonomyTerm.group, TaxonomyTerm.code))}
        session.add_all(_row(k, v) for k, v in DEFAULTS.items() if k not in settings)
        session.add_all(
            TaxonomyTerm(
                group=group, code=code, label_en=label_en, label_ur=label_ur, position=position
            )
            for group, seeded in SEED.items()
            for position, (code, label_en, label_ur) in enumerate(seeded)
            if (group, code) not in terms
        )


def taxonomy(session: Session) -> dict[str, list[Term]]:
    """Return the taxonomy by group, in display order (copies: do not change them)."""
    return _current(session).taxonomy


def _current(session: Session) -> _Copy:
    """This worker's copy, read again if the database's revision is not the copy's."""
    revision = _revision(session)
    engine = session.get_bind().engine
    with _copies_lock:
        copy = _copies.get(engine)
    if copy is not None and copy.revision == revision:
        return copy
    # Read after the revision: values as new as it or newer, never older.
    values = {
        key: json.loads(text)
        for key, text in session.execute(select(Setting.key, Setting.value))
        if key != REVISION_KEY
    }
    terms: dict[str, list[Term]] = {}
    rows = session.execute(select(TaxonomyTerm).order_by(TaxonomyTerm.position)).scalars()
    for t in rows:
        terms.setdefault(t.group, []).append(
            Term(t.group, t.code, t.label_en, t.label_ur, t.position)
        )
    copy = _Copy(revision, values, terms)
    with _copies_lock:
        _copies[engine] = copy
    return copy


# Built once: a statement is immutable, and building it costs more than running it.
_READ_REVISION: Final = select(Setting.value).where(Setting.key == REVISION_KEY)


def _revision(session: Session) -> str | None:
    """The database's settings revision, read once per request."""
    in_request = has_request_context()
    if in_request and _SEEN in g:
        seen: str | None = g.get(_SEEN)
        return seen
    if session.autoflush:
        session.flush()  # this transaction's own edits give it their revision
    # A statement on the session's connection: the ORM's handling of results is not needed.
    revision = session.connection().execute(_READ_REVISION).scalar_one_or_none()
    if in_request:
        setattr(g, _SEEN, revision)
    return revision


@event.listens_for(Session, "before_flush")
def _new_revision(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    """Give a flush that changes a setting or a term a new revision, in the same transaction."""
    changed = any(
        isinstance(o, TaxonomyTerm) or (isinstance(o, Setting) and o.key != REVISION_KEY)
        for o in (*session.new, *session.dirty, *session.deleted)
    )
    if not changed:
        return
    session.merge(Setting(key=REVISION_KEY, value=json.dumps(secrets.token_hex(16))))
    _forget_seen()
    if has_request_context():
        setattr(g, _OWN, True)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(_session: Session, _previous: object) -> None:
    """A revision this request read may have been its own, now undone."""
    _forget_seen()


@contextlib.contextmanager
def revision_kept() -> Iterator[None]:
    """Keep the revision this request read through a rollback inside the block.

    A rollback makes the request forget it (`_rolled_back`), for it may undo the
    request's own change and so its revision. One that ends a transaction of reads
    undoes none: the revision read stands, as it would have had the transaction gone
    on, and reading it again was a statement for nothing on every report's POST.
    """
    kept = g.get(_SEEN, _NOTHING) if has_request_context() and not g.get(_OWN) else _NOTHING
    try:
        yield
    finally:
        if kept is not _NOTHING and not g.get(_OWN):
            setattr(g, _SEEN, kept)


def _forget_seen() -> None:
    if has_request_context():
        g.pop(_SEEN, None)
