"""Instance settings administrators edit (organisation name, resources, limits)."""

from __future__ import annotations

import json
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Setting, TaxonomyTerm
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
    # New envelopes are re-created in the store, in a random order, once per this many hours.
    "sweep_hours": 24,
}


def get_setting(session: Session, key: str) -> Any:
    """Return a setting's value, or its default."""
    row = session.get(Setting, key)
    if row is None:
        return DEFAULTS[key]
    value = json.loads(row.value)
    if isinstance(value, str):
        return _SUPERSEDED.get((key, value), value)
    return value


def set_setting(session: Session, key: str, value: Any) -> None:
    """Change a setting (the caller commits)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    session.merge(Setting(key=key, value=json.dumps(value, ensure_ascii=False)))


def seed(session: Session) -> None:
    """Write the default settings and the seed taxonomy into a new database."""
    for key, value in DEFAULTS.items():
        if session.get(Setting, key) is None:
            set_setting(session, key, value)
    for group, terms in SEED.items():
        for position, (code, label_en, label_ur) in enumerate(terms):
            if session.get(TaxonomyTerm, (group, code)) is None:
                session.add(
                    TaxonomyTerm(
                        group=group,
                        code=code,
                        label_en=label_en,
                        label_ur=label_ur,
                        position=position,
                    )
                )


def taxonomy(session: Session) -> dict[str, list[TaxonomyTerm]]:
    """Return the taxonomy by group, in display order."""
    result: dict[str, list[TaxonomyTerm]] = {}
    rows = session.execute(select(TaxonomyTerm).order_by(TaxonomyTerm.position)).scalars()
    for term in rows:
        result.setdefault(term.group, []).append(term)
    return result
