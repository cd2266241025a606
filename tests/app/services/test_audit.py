"""The audit log: one entry per admin action, shown newest first, and tampering found.

Run on SQLite and on PostgreSQL (the `database_url` fixture), since the chain's
order and the head row's lock must hold on both.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.models import AuditEntry, StaffAccount, today
from app.services import audit
from tests.app.operations.test_keyring_install import successor
from tests.app.staff.test_staff_admin import (
    GENERAL,
    Staff,
    add_account,
    audit_actions,
    staff_browser,
)
from tests.app.support import db_session, new_reviewer


@pytest.fixture
def admin(app: Flask) -> Staff:
    """An administrator, logged in on the staff listener."""
    return staff_browser(app).log_in(add_account(app, "root", "admin"))


def _target(app: Flask) -> str:
    """The account an action on one is made on (made once)."""
    with db_session(app) as session:
        query = select(StaffAccount.id).where(StaffAccount.username == "target")
        made = session.scalar(query)
    return made if made is not None else add_account(app, "target")


# The actions that ask the password and a code each time, whose confirmation is audited first.
CONFIRMED_EACH_TIME = frozenset(
    {
        "create",
        "remove",
        "reset-password",
        "reset-2fa",
        "settings",
        "resources",
        "term-add",
        "term-relabel",
        "term-move",
        "term-remove",
        "role",
    }
)

# Each admin action, as (what to post, given the app) and the action it records.
Action = Callable[[Flask, Staff], tuple[str, dict[str, str]]]
ACTIONS: dict[str, tuple[Action, str]] = {
    "create": (
        lambda app, _a: ("/staff/admin/accounts/new", {"username": "new", "role": "staff"}),
        "staff-added",
    ),
    "remove": (
        lambda app, _a: (f"/staff/admin/accounts/{_target(app)}/remove", {"confirm": "y"}),
        "staff-removed",
    ),
    "role": (
        lambda app, _a: (f"/staff/admin/accounts/{_target(app)}/role", {"role": "admin"}),
        "staff-role-changed",
    ),
    "reset-password": (
        lambda app, _a: (f"/staff/admin/accounts/{_target(app)}/reset-password", {}),
        "staff-password-reset",
    ),
    "reset-2fa": (
        lambda app, _a: (f"/staff/admin/accounts/{_target(app)}/reset-2fa", {}),
        "staff-2fa-reset",
    ),
    "settings": (
        lambda app, _a: ("/staff/admin/settings/general", GENERAL),
        "settings-changed",
    ),
    "resources": (
        lambda app, _a: (
            "/staff/admin/settings/resources",
            {"resources_en": "Call us", "resources_ur": "ہمیں کال کریں"},
        ),
        "settings-changed",
    ),
    "term-add": (
        lambda app, _a: (
            "/staff/admin/taxonomy/agency/add",
            {"code": "anf", "label_en": "ANF", "label_ur": "اے این ایف"},
        ),
        "taxonomy-term-added",
    ),
    "term-relabel": (
        lambda app, _a: (
            "/staff/admin/taxonomy/agency/fia/labels",
            {"label_en": "FIA", "label_ur": "ایف آئی اے"},
        ),
        "taxonomy-term-relabelled",
    ),
    "term-remove": (
        lambda app, _a: ("/staff/admin/taxonomy/agency/fia/remove", {}),
        "taxonomy-term-removed",
    ),
    "term-move": (
        lambda app, _a: ("/staff/admin/taxonomy/agency/fia/move", {"direction": "up"}),
        "taxonomy-term-moved",
    ),
    "keyring": (
        lambda app, _a: (
            "/staff/admin/keyring/install",
            {
                "manifest": successor(app.config["INSTANCE_DIR"], [new_reviewer()[1]])
                .to_bytes()
                .decode()
            },
        ),
        "keyring-installed",
    ),
}


@pytest.mark.parametrize("name", ACTIONS, ids=list(ACTIONS))
def test_each_admin_action_appends_one_entry_naming_the_admin(
    app: Flask, admin: Staff, name: str
) -> None:
    make, action = ACTIONS[name]
    path, data = make(app, admin)
    before = audit_actions(app)
    response = admin.post(path, data)
    assert response.status_code in (200, 303), admin.text(response)
    # These ask the password and a code each time (`app.staff.reauth.EACH_TIME`), audited too.
    confirmed = ["staff-reauthenticated"] if name in CONFIRMED_EACH_TIME else []
    assert audit_actions(app) == [*before, *confirmed, action]
    with db_session(app) as session:
        (entry,) = audit.entries(session, limit=1)
        assert entry.actor == "root"
        assert audit.verify(session).ok


def test_an_entry_names_ids_and_keys_not_free_text(app: Flask, admin: Staff) -> None:
    admin.post(
        "/staff/admin/settings/resources",
        {"resources_en": "Call the secret number", "resources_ur": "خفیہ نمبر"},
    )
    with db_session(app) as session:
        (entry,) = audit.entries(session, limit=1)
    assert json.loads(entry.detail)["changed"] == ["resources_en", "resources_ur"]
    assert "secret number" not in entry.detail


def test_the_audit_page_shows_newest_first_in_pages(app: Flask, admin: Staff) -> None:
    with db_session(app) as session:
        for n in range(1, 121):
            audit.record(session, "console", f"test-{n}")
        session.commit()
    first = admin.get("/staff/admin/audit")
    assert "all 120 entries is intact" in first
    assert first.index("test-120<") < first.index("test-71<")
    assert "test-70<" not in first
    assert "?page=2" in first
    second = admin.get("/staff/admin/audit?page=2")
    assert "test-70<" in second
    assert "test-21<" in second
    assert "test-120<" not in second
    third = admin.get("/staff/admin/audit?page=3")
    assert "test-1<" in third
    assert "?page=4" not in third
    assert "?page=2" in third


def _bury(app: Flask) -> None:
    """One entry worth reading, then a staff member's flood of refused uploads over it."""
    with db_session(app) as session:
        audit.record(session, "root", "staff-removed", username="witness")
        for _ in range(120):
            audit.record(session, "clerk", "reply-bundle-refused", reason="signer")
        session.commit()


@pytest.mark.parametrize("query", ["action=staff-removed", "actor=root"])
def test_an_entry_buried_under_a_flood_is_found_by_its_action_or_actor(
    app: Flask, admin: Staff, query: str
) -> None:
    _bury(app)
    assert "staff-removed<" not in admin.get("/staff/admin/audit")
    page = admin.get(f"/staff/admin/audit?{query}")
    assert "staff-removed<" in page
    assert "reply-bundle-refused<" not in page
    # The check still covers the whole chain, not the entries shown.
    assert "all 121 entries is intact" in page


def test_a_filtered_page_keeps_its_filter_in_its_links(app: Flask, admin: Staff) -> None:
    _bury(app)
    first = admin.get("/staff/admin/audit?actor=clerk")
    assert "staff-removed<" not in first
    older = re.search(r'href="([^"]*)">Older<', first)
    assert older is not None
    query = parse_qs(urlsplit(html.unescape(older.group(1))).query)
    assert query == {"page": ["2"], "actor": ["clerk"]}
    third = admin.get("/staff/admin/audit?actor=clerk&page=3")
    assert third.count("reply-bundle-refused<") == 20
    assert "staff-removed<" not in third


def test_a_filter_matching_nothing_says_so(app: Flask, admin: Staff) -> None:
    _bury(app)
    page = admin.get("/staff/admin/audit?action=staff-added")
    assert "Nothing matches." in page
    assert "reply-bundle-refused<" not in page


def test_an_empty_audit_log_is_intact(admin: Staff) -> None:
    page = admin.get("/staff/admin/audit")
    assert "all 0 entries is intact" in page
    assert "Nothing yet." in page


def test_a_bad_page_number_shows_the_first_page(admin: Staff) -> None:
    assert "Audit log" in admin.get("/staff/admin/audit?page=-3")
    assert "Audit log" in admin.get("/staff/admin/audit?page=x")


# Tampering.


def _edit_detail(session: Session) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(detail="{}"))


def _edit_actor(session: Session) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone"))


def _edit_action(session: Session) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(action="nothing"))


def _edit_day(session: Session) -> None:
    entry = session.get(AuditEntry, 2)
    assert entry is not None
    entry.day = entry.day.replace(year=entry.day.year - 1)


def _delete_middle(session: Session) -> None:
    session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))


def _delete_newest(session: Session) -> None:
    session.execute(delete(AuditEntry).where(AuditEntry.seq == 4))


def _delete_and_renumber(session: Session) -> None:
    session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    for seq in (3, 4):
        session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq - 1))


def _swap(session: Session) -> None:
    # Entries 2 and 3 trade places, links and all: only the chain can tell.
    session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(seq=-1))
    session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=2))
    session.execute(update(AuditEntry).where(AuditEntry.seq == -1).values(seq=3))


def _swap_contents(session: Session) -> None:
    # The rows stay; what they say trades places.
    a, b = session.get(AuditEntry, 2), session.get(AuditEntry, 3)
    assert a is not None
    assert b is not None
    (a.actor, a.action, a.detail), (b.actor, b.action, b.detail) = (
        (b.actor, b.action, b.detail),
        (a.actor, a.action, a.detail),
    )


TAMPERING = {
    "edit-detail": (_edit_detail, "entry 2 was altered"),
    "edit-actor": (_edit_actor, "entry 3 was altered"),
    "edit-action": (_edit_action, "entry 1 was altered"),
    "edit-day": (_edit_day, "entry 2 was altered"),
    "delete-middle": (_delete_middle, "entry 2 is missing"),
    "delete-newest": (_delete_newest, "newest entries were removed"),
    "delete-and-renumber": (_delete_and_renumber, "entry 2 was altered"),
    "swap-rows": (_swap, "entry 2 was altered"),
    "swap-contents": (_swap_contents, "entry 2 was altered"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_tampering_with_the_log_is_found_and_shown(
    app: Flask, admin: Staff, database_url: str, case: str
) -> None:
    # Four entries as the admin pages write them (each of these changes also audits the
    # password and code it asks: `app.staff.reauth.EACH_TIME`; the chain is what is tested).
    with db_session(app) as session:
        for action, detail in [
            ("taxonomy-term-moved", {"group": "agency", "code": "police-sindh"}),
            ("staff-role-changed", {"username": "target", "role": "admin"}),
            ("taxonomy-term-moved", {"group": "province", "code": "sindh"}),
            ("taxonomy-term-moved", {"group": "agency", "code": "fia"}),
        ]:
            audit.record(session, "root", action, **detail)
        session.commit()
    with db_session(app) as session:
        assert audit.verify(session).ok
        assert audit.verify(session).entries == 4
        tamper, problem = TAMPERING[case]
        tamper(session)
        session.commit()
    with db_session(app) as session:
        check = audit.verify(session)
    assert not check.ok
    assert problem in (check.problem or "")
    page = admin.get("/staff/admin/audit")
    assert "The audit log was tampered with" in page
    assert problem in page


def test_a_refused_action_records_nothing(app: Flask, admin: Staff) -> None:
    before = audit_actions(app)
    assert admin.account_id is not None
    response = admin.post(f"/staff/admin/accounts/{admin.account_id}/remove", {"confirm": "y"})
    assert response.status_code == 400
    with db_session(app) as session:
        assert session.get(StaffAccount, admin.account_id) is not None
        # The password and code the removal asked first are audited; nothing else is.
        actions = list(session.execute(select(AuditEntry.action)).scalars())
        assert actions == [*before, "staff-reauthenticated"]


# What an export vouches for (PROTOCOL §13.5).


def test_the_proof_an_export_carries_is_worked_out_from_the_records(app: Flask) -> None:
    with db_session(app) as session:
        for n in range(1, 6):
            audit.record(session, "console", f"test-{n}")
        session.commit()
        links = [e.link for e in audit.entries(session, newest_first=False)]
        proof = audit.proof(session, 2)
        assert (proof.entries, proof.head, proof.since, proof.link) == (5, links[4], 2, links[1])
        # A link column written to match an old export's head changes nothing it vouches for.
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(link=bytes(32)))
        session.commit()
        assert audit.proof(session, 2) == proof


def test_a_proof_past_the_end_of_the_chain_has_no_link_there(app: Flask) -> None:
    with db_session(app) as session:
        audit.record(session, "console", "test-1")
        session.commit()
        proof = audit.proof(session, 3)
        assert (proof.entries, proof.since, proof.link) == (1, 3, bytes(32))
        assert audit.proof(session, 0).link == bytes(32)


def _visible_text(page: str) -> str:
    """A page's words without its markup, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _area_page(path: str) -> str:
    """The admin page of the area a POST changes: `/staff/admin/<area>`."""
    return "/".join(path.split("/")[:4])


def test_the_admin_actions_here_cover_every_admin_post(app: Flask, admin: Staff) -> None:
    """The table below is enumerated, not remembered: a new admin POST needs a row."""
    posted = {path for make, _action in ACTIONS.values() for path, _data in [make(app, admin)]}
    rules = [
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("staff.admin_") and "POST" in (r.methods or ())
    ]
    assert rules
    for rule in rules:
        pattern = re.sub(r"<[^>]+>", "[^/]+", rule)
        assert any(re.fullmatch(pattern, p) for p in posted), f"no row for {rule}"


@pytest.mark.parametrize("name", ACTIONS, ids=list(ACTIONS))
def test_each_admin_change_is_shown_to_the_other_admins_on_its_page(
    app: Flask, admin: Staff, name: str
) -> None:
    """A change one administrator makes is named, by whom and when, on the page of what it
    changed, where the other administrators look: not only in the audit log, where a flood
    of other entries pages it away. Moving a form term was not (removing one was)."""
    other = staff_browser(app).log_in(add_account(app, "second", "admin"))
    make, action = ACTIONS[name]
    path, data = make(app, admin)
    response = admin.post(path, data)
    assert response.status_code in (200, 303), admin.text(response)
    with db_session(app) as session:
        for _ in range(120):  # a staff member's flood of refusals pages the log
            audit.record(session, "clerk", "reply-bundle-refused", reason="signer")
        session.commit()
    page = _visible_text(other.get(_area_page(path)))
    assert f"{today().isoformat()} root {action}" in page, f"no word of {action} on its page"
