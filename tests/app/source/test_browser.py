"""A source's whole visit in a real browser with JavaScript off, in Urdu and in English.

Headless Chromium stands in for Tor Browser at Safest: scripts disabled, Tor
Browser's user agent, and an .onion host name mapped to the loopback server, so
the pages look as they do to a source (no "not Tor Browser" warnings). Every step
is saved as a screenshot in tests/artifacts/screenshots/ for people to look at.
The staff pages are visited too, in both languages, through the staff listener
(a second .onion name mapped to it).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import (
    Browser,
    FilePayload,
    Page,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from app import create_app
from app.config import config_for
from app.instance import InstancePaths
from crypto import TokenKey
from crypto.constants import PERSON_SESSION_KEY, TOKEN_CONTEXT_SESSION
from tests.app.live import (
    ROOT,
    Envelope,
    demo_instance,
    live_server,
    stored_envelopes,
)
from tests.app.staff_support import StaffUser, make_staff
from tests.ports import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
ONION = "raazdarbrowsertestaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad.onion"  # v3: 56 characters
STAFF_ONION = "raazdarstafftestaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad.onion"
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE_UA = "Mozilla/5.0 (Android 10; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)
CHROMIUM_ARGS = [
    # Tor Browser (dom.securecontext.allowlist_onions) and Brave count http .onion origins
    # as potentially trustworthy, so they send fetch metadata (Sec-Fetch-Site) there.
    f"--unsafely-treat-insecure-origin-as-secure=http://{ONION},http://{STAFF_ONION}",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo instance shared by both languages' visits."""
    return demo_instance(tmp_path_factory.mktemp("browser") / "instance")


@pytest.fixture(scope="module")
def staff_port() -> int:
    """The loopback port of the staff listener."""
    return free_port()


@pytest.fixture(scope="module")
def server(instance: Path, staff_port: int) -> Iterator[str]:
    """gunicorn serving the instance, as deployed: a source listener and a staff listener."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAAZDAR_STAFF_BIND", f"127.0.0.1:{staff_port}")
        with live_server(instance) as url:
            yield url


@pytest.fixture(scope="module")
def browser(server: str, staff_port: int) -> Iterator[Browser]:
    """Headless Chromium that resolves every .onion name to the test server (staff's to staff)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing: the browser tier must run")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    port = server.rsplit(":", 1)[1]
    rules = f"MAP {STAFF_ONION} 127.0.0.1:{staff_port}, MAP *.onion 127.0.0.1:{port}"
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """An empty directory for this run's screenshots."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@contextlib.contextmanager
def _tor_browser(browser: Browser, *, phone: bool) -> Iterator[Page]:
    """A tab of a Safest-level Tor Browser stand-in: no JavaScript, Tor Browser's user agent."""
    context = browser.new_context(
        java_script_enabled=False,
        user_agent=PHONE_UA if phone else DESKTOP_UA,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        base_url=f"http://{ONION}",
    )
    try:
        context.set_default_timeout(STEP_TIMEOUT_MS)
        yield context.new_page()
    finally:
        context.close()


def _check_language(page: Page, lang: str) -> None:
    """The page is in `lang`, and laid out right to left if that is Urdu."""
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ur" else "ltr")


def _direction(page: Page, selector: str) -> str:
    """The computed CSS direction (Playwright reads it even with page scripts off)."""
    return str(page.locator(selector).evaluate("e => getComputedStyle(e).direction"))


def _shot(page: Page, directory: Path, name: str) -> None:
    """Save the whole page, scrolled length included."""
    page.screenshot(path=directory / f"{name}.png", full_page=True)


def _fits_width(page: Page) -> bool:
    """Say whether nothing sticks out sideways (no horizontal scrolling)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_javascript_is_off(browser: Browser) -> None:
    with _tor_browser(browser, phone=False) as page:
        page.set_content(
            '<p id="x">no</p><script>document.getElementById("x").textContent = "yes"</script>'
        )
        assert page.text_content("#x") == "no"


@pytest.mark.parametrize("lang", ["ur", "en"])
def test_phone_pages_fit_the_screen(browser: Browser, screenshots: Path, lang: str) -> None:
    with _tor_browser(browser, phone=True) as page:
        page.goto(f"/lang/{lang}?next=/")
        _check_language(page, lang)
        _shot(page, screenshots, f"{lang}-02-landing-phone")
        assert _fits_width(page)
        page.click("a.button[href$='/submit']")
        page.wait_for_url("**/submit")
        page.click("details > summary")
        _shot(page, screenshots, f"{lang}-03-submit-phone")
        assert _fits_width(page)
        assert _direction(page, ".codename") == "ltr"


@pytest.mark.parametrize("lang", ["ur", "en"])
def test_a_source_reports_logs_out_and_comes_back(
    browser: Browser, instance: Path, screenshots: Path, lang: str
) -> None:
    other = "en" if lang == "ur" else "ur"
    marker = f"marker-{secrets.token_hex(8)}"
    message = f"تھانے کا ایس ایچ او بھٹے کے مالک سے پیسے لیتا ہے۔ {marker}\nSecond line."
    files = [
        FilePayload(name="ثبوت.txt", mimeType="text/plain", buffer=f"{marker} one".encode()),
        FilePayload(name="photo.jpg", mimeType="image/jpeg", buffer=f"{marker} two".encode()),
    ]
    with _tor_browser(browser, phone=False) as page:

        def shot(step: str) -> None:
            _shot(page, screenshots, f"{lang}-{step}")

        # Landing in the other language, then the switch in the header.
        page.goto(f"/lang/{other}?next=/")
        _check_language(page, other)
        shot("01-start")
        page.click("header a.lang")
        page.wait_for_url("**/")
        _check_language(page, lang)
        shot("02-landing")

        # The first report: a codename shown once, and the form.
        page.click("a.button[href$='/submit']")
        page.wait_for_url("**/submit")
        _check_language(page, lang)
        codename = page.locator(".codename").inner_text().strip()
        assert codename == page.locator("input[name=codename]").get_attribute("value")
        assert len(codename.split()) >= 6
        assert _direction(page, ".codename") == "ltr"
        shot("03-submit")

        page.fill("#message", message)
        page.set_input_files("#files", files)
        page.click("details > summary")  # opens without JavaScript
        assert page.locator("details").get_attribute("open") is not None
        page.select_option("#agency", index=1)
        page.locator("ul.checks input[type=checkbox]").first.check()
        shot("04-filled")
        page.click("form[action$='/submit'] button[type=submit]")
        page.wait_for_selector("h1.filed")  # confirmed in place
        _check_language(page, lang)
        shot("05-submitted")

        page.click("form[action$='/logout'] button[type=submit]")
        page.wait_for_url("**/logout")  # shown in place
        _check_language(page, lang)
        assert page.locator("main .note.warn").count() == 1
        shot("06-logged-out")

        # Coming back with the codename.
        page.click("header a.brand")
        page.click("main a[href$='/login']")
        page.wait_for_url("**/login")
        page.fill("#codename", codename)
        assert _direction(page, "#codename") == "ltr"
        _check_language(page, lang)
        shot("07-login")
        page.click("form[action$='/login'] button[type=submit]")
        page.wait_for_url("**/account")
        _check_language(page, lang)
        assert page.locator("form[action$='/account'] #message").count() == 1
        shot("08-account")

    _check_stored(instance, marker, message, lang)


def _check_stored(instance: Path, marker: str, message: str, lang: str) -> None:
    """The reviewer opens exactly what the browser sent: the message, the fields, both files."""
    mine: list[Envelope] = [e for e in stored_envelopes(instance) if marker.encode() in e.plaintext]
    reports = [json.loads(e.plaintext) for e in mine if e.metadata.kind == "report"]
    files = {e.metadata.filename: e for e in mine if e.metadata.kind == "file"}
    assert len(reports) == 1
    report = reports[0]
    assert report["message"] == message
    assert report["language"] == lang
    assert report["fields"]["agency"] is not None
    assert len(report["fields"]["complicity"]) == 1
    assert set(files) == {"ثبوت.txt", "photo.jpg"}
    assert files["ثبوت.txt"].plaintext == f"{marker} one".encode()
    assert files["ثبوت.txt"].metadata.content_type == "text/plain"
    assert files["photo.jpg"].plaintext == f"{marker} two".encode()
    assert files["photo.jpg"].metadata.content_type == "image/jpeg"


# --- What a signed-in source sees (issue 15) ----------------------------------------

_STATUS_SHOWN = {
    "en": "The reviewers need more information",
    "ur": "جائزہ لینے والوں کو مزید معلومات درکار ہیں",
}


def _set_notice(instance: Path, status: str) -> None:
    """Set every source's status notice, as a reply bundle would (each sees only its own)."""
    with sqlite3.connect(InstancePaths(instance).database) as conn:
        conn.execute("UPDATE sources SET notice = ?", (status,))


def test_the_language_switch_mid_report_keeps_what_was_typed(
    browser: Browser, tmp_path: Path
) -> None:
    """Half a report typed and a file chosen, then the header's switch: nothing is lost."""
    photo = tmp_path / "IMG_20261203_0915.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(4096))
    message = f"switch-test {secrets.token_hex(4)}\nThe SHO lets the vans through."
    with _tor_browser(browser, phone=True) as page:
        page.goto("/lang/en?next=/submit")
        page.wait_for_url("**/submit")
        codename = page.locator(".codename").inner_text().strip()
        page.fill("#message", message)
        page.set_input_files("#files", str(photo))
        page.click("header button.lang")
        page.wait_for_load_state()
        _check_language(page, "ur")
        assert page.input_value("#message") == message, "the switch lost what was typed"
        assert page.locator(".codename").inner_text().strip() == codename
        assert photo.name in page.locator("#refusal").inner_text()


@pytest.mark.parametrize("lang", ["ur", "en"])
def test_back_after_sending_never_shows_a_new_codename_and_the_status_shows(
    browser: Browser, instance: Path, screenshots: Path, lang: str
) -> None:
    with _tor_browser(browser, phone=False) as page:
        page.goto(f"/lang/{lang}?next=/submit")
        page.wait_for_url("**/submit")
        codename = page.locator(".codename").inner_text().strip()
        page.fill("#message", f"back-test {secrets.token_hex(4)}")
        page.click("form[action$='/submit'] button[type=submit]")
        page.wait_for_selector("h1.filed")  # confirmed in place
        # Back: the submit page is fetched again, and shows a signed-in source her account.
        page.go_back()
        page.wait_for_load_state()
        _shot(page, screenshots, f"{lang}-20-back-after-sending")
        shown = [t.strip() for t in page.locator(".codename").all_inner_texts()]
        assert shown in ([], [codename]), shown
        assert page.locator("form[action$='/logout']").count() == 1
        # The status the reviewers set, in the source's language.
        _set_notice(instance, "needs-info")
        page.goto("/account")
        _check_language(page, lang)
        status = page.locator("main .note.status")
        assert status.count() == 1
        assert _STATUS_SHOWN[lang] in status.inner_text()
        _shot(page, screenshots, f"{lang}-21-account-status")


_AGENTS = {
    "tor-windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
        False,
    ),
    "tor-linux": ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", False),
    "tor-macos": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0",
        False,
    ),
    "tor-android": (PHONE_UA, False),
    "chrome": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        True,
    ),
}


@pytest.mark.parametrize("name", list(_AGENTS))
def test_only_a_browser_that_is_not_tor_browser_is_warned(
    browser: Browser, screenshots: Path, name: str
) -> None:
    agent, warned = _AGENTS[name]
    context = browser.new_context(
        java_script_enabled=False, user_agent=agent, base_url=f"http://{ONION}"
    )
    try:
        context.set_default_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()
        page.goto("/lang/en?next=/")
        assert ("does not look like Tor Browser" in page.content()) == warned
        if name in ("tor-linux", "chrome"):
            _shot(page, screenshots, f"en-22-agent-{name}")
    finally:
        context.close()


def _lapse_session(instance: Path, page: Page) -> None:
    """Age the browser's session cookie past its idle deadline, as 30 idle minutes would."""
    secret = (InstancePaths(instance).secret_key).read_bytes()
    key = TokenKey(secret[:32]).derive(PERSON_SESSION_KEY)
    (held,) = [c for c in page.context.cookies() if c.get("name") == "rz"]
    payload = json.loads(key.open(str(held.get("value")), TOKEN_CONTEXT_SESSION))
    payload["exp"] = int(time.time()) - 1
    aged = key.seal(json.dumps(payload).encode(), TOKEN_CONTEXT_SESSION)
    page.context.add_cookies([{"name": "rz", "value": aged, "url": f"http://{ONION}/"}])


@pytest.mark.parametrize("lang", ["ur", "en"])
def test_back_after_the_session_lapsed_never_shows_a_new_codename(
    browser: Browser, instance: Path, screenshots: Path, lang: str
) -> None:
    with _tor_browser(browser, phone=False) as page:
        page.goto(f"/lang/{lang}?next=/submit")
        page.wait_for_url("**/submit")
        page.fill("#message", f"lapse-test {secrets.token_hex(4)}")
        page.click("form[action$='/submit'] button[type=submit]")
        page.wait_for_selector("h1.filed")  # confirmed in place
        _lapse_session(instance, page)
        page.go_back()
        page.wait_for_load_state()
        _check_language(page, lang)
        _shot(page, screenshots, f"{lang}-23-back-after-lapse")
        assert page.locator(".codename").count() == 0
        assert page.locator("main a[href$='/login']").count() == 1


@contextlib.contextmanager
def _other_site(target: str) -> Iterator[str]:
    """Another web site (its own loopback address) whose page goes on to `target` by itself."""
    page = f'<meta http-equiv="refresh" content="0;url={target}">'.encode()

    class _Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_args: object) -> None:
            pass

    site = http.server.HTTPServer(("127.0.0.2", free_port()), _Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.2:{site.server_port}/"
    finally:
        site.shutdown()
        site.server_close()


def test_a_link_from_another_site_leaves_the_source_signed_in(
    browser: Browser, screenshots: Path
) -> None:
    # SameSite=Strict: the link arrives without the cookie, and must not get a new one.
    with (
        _other_site(f"http://{ONION}/submit") as elsewhere,
        _tor_browser(browser, phone=False) as page,
    ):
        page.goto("/lang/en?next=/submit")
        page.fill("#message", f"cross-site-test {secrets.token_hex(4)}")
        page.click("form[action$='/submit'] button[type=submit]")
        page.wait_for_selector("h1.filed")  # confirmed in place
        page.goto(elsewhere)
        # The page that answers sends the browser on, from this site, with its cookie:
        # signed in, /submit shows the account page in place, and no new codename.
        page.wait_for_url("**/submit?from=elsewhere")
        page.wait_for_load_state()
        _shot(page, screenshots, "en-24-after-a-link-from-elsewhere")
        assert page.locator("form[action$='/logout']").count() == 1


# --- the staff pages ---------------------------------------------------------------------


def _staff_admin(instance: Path, username: str) -> StaffUser:
    """An administrator of the served instance, second factor set up."""
    return make_staff(create_app(config_for(instance)), username, role="admin")


def _box_width(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["width"])


@pytest.mark.usefixtures("_close_engines")
@pytest.mark.parametrize("lang", ["en", "ur"])
def test_staff_pages_are_styled_in_both_languages(
    browser: Browser, instance: Path, screenshots: Path, lang: str
) -> None:
    user = _staff_admin(instance, f"admin-{lang}")
    staff = f"http://{STAFF_ONION}/staff"
    with _tor_browser(browser, phone=False) as page:

        def shot(step: str) -> None:
            _shot(page, screenshots, f"staff-{lang}-{step}")
            assert _fits_width(page), step

        page.goto(f"{staff}/login")
        _check_language(page, "en")  # staff pages start in English
        if lang == "ur":
            with page.expect_navigation():  # back to the same address: wait for the new page
                page.click("header a.lang")
        _check_language(page, lang)
        # The password box is as wide as the username box, not the browser's default.
        assert _box_width(page, "#password") == _box_width(page, "#username") >= 300
        shot("01-login")

        page.fill("#username", user.username)
        page.fill("#password", user.password)
        page.fill("#code", pyotp.TOTP(user.secret).now())
        page.click("form[action*='/staff/login'] button[type=submit]")
        page.wait_for_url("**/staff/")
        _check_language(page, lang)
        assert page.locator("nav.staff-nav a[aria-current=page]").count() == 1
        assert page.locator("nav.staff-nav a").count() == 5
        shot("02-dashboard")

        page.goto(f"{staff}/account/password")
        page.fill("#current", "not my password at all")
        page.fill("#new", "a long new passphrase of words")
        page.fill("#repeated", "a long new passphrase of words")
        page.fill("#code", "123456")
        with page.expect_navigation():
            page.click("form[action$='/account/password'] button[type=submit]")
        assert page.locator("p.error").count() == 1
        assert _box_width(page, "#new") >= 300
        shot("03-password-refused")

        for step, path in [
            ("04-accounts", "admin/accounts"),
            ("05-settings", "admin/settings"),
            ("06-keyring", "admin/keyring"),
            ("07-audit", "admin/audit"),
            ("08-taxonomy", "admin/taxonomy"),
        ]:
            page.goto(f"{staff}/{path}")
            _check_language(page, lang)
            shot(step)

        page.goto(f"{staff}/")
        bundle = FilePayload(name="replies.rzr", mimeType="application/octet-stream", buffer=b"x")
        page.set_input_files("#bundle", bundle)
        page.click("form[action$='/staff/replies'] button[type=submit]")
        page.wait_for_url("**/staff/replies")
        assert page.locator("main .note.warn").count() == 1
        shot("09-bundle-refused")

        page.set_viewport_size(PHONE)
        page.goto(f"{staff}/")
        shot("10-dashboard-phone")
        page.goto(f"{staff}/admin/accounts")
        shot("11-accounts-phone")


def test_back_after_sending_more_brings_no_report_text_back(browser: Browser) -> None:
    # The attack: a phone taken with Tor Browser still open. Back from the
    # confirmation, and from the page after logging out, shows the form again:
    # the browser must not fill it with what the source wrote there.
    first, more = f"first {secrets.token_hex(6)}", f"more {secrets.token_hex(6)}"
    with _tor_browser(browser, phone=True) as page:
        page.goto("/lang/en?next=/submit")
        page.wait_for_url("**/submit")
        page.fill("#message", first)
        page.click("form[action$='/submit'] button[type=submit]")
        page.wait_for_selector("h1.filed")  # confirmed in place
        page.goto("/account")
        page.fill("#message", more)
        page.click("form[action$='/account'] details > summary")
        page.fill("#district", "Gujrat-" + more)
        page.click("form[action$='/account'] button[type=submit]")
        page.wait_for_selector("h1.filed")  # confirmed in place
        page.go_back()
        page.wait_for_url("**/account")
        restored = page.locator("#message").input_value(), page.locator("#district").input_value()
        assert restored == ("", ""), restored
        # Logged out: Back walks the tab's history, and no form there holds either text.
        page.click("form[action$='/logout'] button[type=submit]")
        page.wait_for_url("**/logout")  # shown in place
        for _ in range(3):
            try:
                page.go_back()
            except PlaywrightError as error:
                # A report confirmed in place is a POST in the history: the browser shows
                # its own page offering to send it again, and no field (and, sent again, a
                # filed form gives no words back: test_source_resubmit.py). Chromium walks
                # no further from it reliably; the pages before it were read above.
                if "ERR_CACHE_MISS" not in str(error):
                    raise
                break
            page.wait_for_load_state()
            for field in page.locator("textarea, input:not([type=hidden])").all():
                value = field.input_value()
                assert first not in value, (page.url, value)
                assert more not in value, (page.url, value)
