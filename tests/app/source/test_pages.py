"""Page weight: every source page with its stylesheet under 30 KB, for slow Tor links on phones.

The sizes are printed (run with -s) and written to tests/artifacts/page-sizes.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from werkzeug.test import TestResponse

from app.instance import InstancePaths
from app.settings import set_setting
from crypto import generate_codename
from tests.app.support import (
    Visitor,
    db_session,
    form,
    remove_keyring,
    reply_to,
    reviewer_keys,
)

BUDGET = 30 * 1024
ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "page-sizes.json"


def visit(app: Flask, instance: Path, lang: str) -> dict[str, TestResponse]:
    """Every page a source can reach, in one language, as a source reaches it."""
    client = app.test_client()
    client.get(f"/lang/{lang}")
    visitor = Visitor(client)
    pages: dict[str, TestResponse] = {}

    def keep(name: str, response: TestResponse) -> None:
        assert response.status_code != 500, name
        pages[name] = response

    keep("landing", client.get("/"))
    keep("submit", client.get("/submit"))
    page = form(pages["submit"].get_data(as_text=True), "/submit")
    keep("submit (refused: empty)", visitor.send(page))
    keep("submitted", visitor.send(page, "The SHO took money."))  # confirmed in place
    signer = reviewer_keys(instance).signing
    assert signer is not None
    for i in range(3):
        reply_to(app, page.fields["codename"], f"Reply {i}: which police station? " * 5, signer)
    keep("account (3 replies)", client.get("/account"))
    token = visitor.action_token()
    keep("logged out", client.post("/logout", data={"csrf_token": token}, follow_redirects=True))
    keep("login", client.get("/login"))
    mistyped = visitor.log_in(page.fields["codename"].rsplit(" ", 1)[0])  # as a wrong one
    keep("login (mistyped codename)", client.get(mistyped.headers["Location"]))
    failed = visitor.log_in(generate_codename())  # answered as a right one: a redirect
    keep("login (unknown codename)", client.get(failed.headers["Location"]))
    keep("resources", client.get("/resources"))
    keep("keys", client.get("/keys"))
    keep("not found (404)", client.get("/no-such-page"))
    keep("form expired (400)", client.post("/login", data={}))
    with db_session(app) as session:
        set_setting(session, "upload_limit_mib", 1)
        session.commit()
        big = [("files", "big.bin", bytes(2 * 1024 * 1024), "application/octet-stream")]
        keep("too large (413)", visitor.send(visitor.start(), files=big))
        set_setting(session, "upload_limit_mib", 500)
        session.commit()
    manifests = {p: p.read_bytes() for p in InstancePaths(instance).manifests.glob("*.json")}
    remove_keyring(instance)
    keep("unavailable (503)", visitor.send(visitor.start(), "x"))
    keep("keys (no keyring)", client.get("/keys"))
    for path, data in manifests.items():
        path.write_bytes(data)
    return pages


def test_every_source_page_with_its_stylesheet_is_under_30_kb(
    make_app: Callable[..., Flask], instance: Path
) -> None:
    sizes: dict[str, dict[str, int]] = {}
    for lang in ("ur", "en"):
        app = make_app()
        with app.test_client().get("/static/style.css") as stylesheet:
            css = len(stylesheet.get_data())
        for name, response in visit(app, instance, lang).items():
            html = response.get_data()
            assert response.mimetype == "text/html", name
            assert len(re.findall(rb'<link rel="stylesheet"', html)) == 1, name
            assert b"<script" not in html, name
            assert b"<img" not in html, name
            sizes.setdefault(name, {})[lang] = len(html) + css
        sizes["stylesheet alone"] = {"ur": css, "en": css}
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps({"budget": BUDGET, "bytes": sizes}, indent=2) + "\n")
    print(f"\npage + stylesheet, bytes (budget {BUDGET}):")
    for name, by_lang in sizes.items():
        print(f"  {name:<26} ur {by_lang['ur']:>6}  en {by_lang['en']:>6}")
    over = {name: s for name, s in sizes.items() if max(s.values()) >= BUDGET}
    assert over == {}
