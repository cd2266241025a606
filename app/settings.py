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

DEFAULTS: Final[dict[str, Any]] = {
    "organisation": "Raazdar",
    "resources_en": RESOURCES_PLACEHOLDER_EN,
    "resources_ur": RESOURCES_PLACEHOLDER_UR,
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
    return json.loads(row.value) if row is not None else DEFAULTS[key]


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
