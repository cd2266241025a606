"""Known devices' cookies: given only by a full login, for one account's epoch, naming nothing.

What they buy (a place in the staff's slot no flood without one takes) is tested
with the flood itself, in tests/app/test_kdf_pool.py.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import kdf_pool
from app.services import staff as staff_service
from app.services import staff_devices
from tests.app.staff_support import (
    PASSWORD,
    GuessesHere,
    StaffUser,
    fresh_code,
    login,
    make_staff,
    next_code,
    page_token,
    staff_client,
    submit_login,
)
from tests.app.support import db_session, form

# A page's CSRF token, which differs from one session to another.
_TOKEN = re.compile(r'name="csrf_token"[^>]*')


def device_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(staff_devices.COOKIE, path=staff_devices.PATH)
    return None if cookie is None else cookie.value


def place_for(app: Flask, cookie: str | None, username: str) -> int | None:
    """What a login under `username` carrying `cookie` gets: a kept place's key, or None."""
    with app.app_context(), db_session(app) as session:
        account = staff_service.find_account(session, username)
        return staff_devices.place_key(cookie, account)


def test_a_full_login_gives_a_known_devices_cookie_for_staff_pages_only(
    app: Flask, alice: StaffUser
) -> None:
    browser = staff_client(app)
    response = login(browser, app, alice)
    (header,) = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(staff_devices.COOKIE)
    ]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")}
    assert "httponly" in flags
    assert flags["samesite"] == "SameSite=Strict"
    assert flags["path"] == "Path=/staff"
    assert flags["max-age"] == f"Max-Age={90 * 24 * 60 * 60}"
    assert "secure" not in flags  # the onion is plain HTTP, as for the session cookie
    value = device_cookie(browser)
    assert value is not None
    assert alice.username not in value
    assert alice.id.replace("-", "") not in value.replace("-", "")
    assert place_for(app, value, "alice") is not None


@pytest.mark.parametrize("code", ["000000", ""])
def test_a_password_without_its_code_gets_no_known_devices_cookie(
    app: Flask, alice: StaffUser, code: str
) -> None:
    browser = staff_client(app)
    assert submit_login(browser, "alice", PASSWORD, code).status_code == 401
    assert device_cookie(browser) is None


def test_an_enrolment_gets_its_cookie_only_with_its_first_code(app: Flask) -> None:
    make_staff(app, "carol", enrolled=False)
    browser = staff_client(app)
    response = submit_login(browser, "carol", PASSWORD)
    assert response.headers["Location"] == "/staff/enrol"
    assert device_cookie(browser) is None  # the password alone
    html = browser.get("/staff/enrol").get_data(as_text=True)
    match = re.search(r'<p class="fp">([A-Z2-7 ]+)</p>', html)
    assert match, "no secret on the enrolment page"
    token = form(html, "/staff/enrol").fields["csrf_token"]
    code = pyotp.TOTP(match.group(1).replace(" ", "")).now()
    confirmed = browser.post("/staff/enrol", data={"csrf_token": token, "code": code})
    assert confirmed.status_code == 303, confirmed.status_code
    assert place_for(app, device_cookie(browser), "carol") is not None


def _reset(app: Flask, username: str) -> None:
    with app.app_context(), db_session(app) as session:
        staff_service.reset_password(session, "test", staff_service.get_account(session, username))


def _remove(app: Flask, username: str) -> None:
    with app.app_context(), db_session(app) as session:
        staff_service.remove_account(session, "test", staff_service.get_account(session, username))


def _new_password(app: Flask, user: StaffUser) -> None:
    with app.app_context(), db_session(app) as session:
        account = staff_service.get_account(session, user.username)
        code = fresh_code(app, user)
        new = "a new and longer passphrase"
        staff_service.change_own_password(
            session, account, PASSWORD, new, code, GuessesHere(session)
        )


def test_an_accounts_cookies_share_its_places_tag_and_another_accounts_do_not(
    app: Flask, alice: StaffUser
) -> None:
    """Every full login makes a new cookie, each a place of its own: one account's are counted
    together (`kdf_pool.KEPT_PER_ACCOUNT`), or one colleague's cookies held every kept place."""
    mallory = make_staff(app, "mallory")
    keys = []
    for user in (alice, alice, mallory):
        browser = staff_client(app)
        assert (
            submit_login(browser, user.username, PASSWORD, next_code(app, user)).status_code == 303
        )
        keys.append(place_for(app, device_cookie(browser), user.username))
    assert None not in keys
    own, again, other = (key >> kdf_pool.DEVICE_ID_BITS for key in keys if key is not None)
    assert own == again, "one account's cookies have different tags"
    assert own != other, "two accounts' cookies have one tag"
    assert len(set(keys)) == len(keys), "two cookies have one place"


@pytest.mark.parametrize("change", ["reset", "new password", "removed"])
def test_a_known_devices_cookie_dies_with_its_accounts_epoch(
    app: Flask, alice: StaffUser, change: str
) -> None:
    """Removed, reset or given a new password, an account's devices are no longer known: a
    laptop stolen, or a colleague removed, keeps no place in the staff's slot."""
    browser = staff_client(app)
    login(browser, app, alice)
    cookie = device_cookie(browser)
    assert place_for(app, cookie, "alice") is not None
    if change == "reset":
        _reset(app, "alice")
    elif change == "new password":
        _new_password(app, alice)
    else:
        make_staff(app, "root", role="admin")
        _remove(app, "alice")
    assert place_for(app, cookie, "alice") is None


def test_the_browser_that_changed_the_password_stays_a_known_device(
    app: Flask, alice: StaffUser
) -> None:
    """A new password voids every cookie of the account, but the browser that gave the
    current password and a code for it gets a new one; another device's is void."""
    browser, other = staff_client(app), staff_client(app)
    login(browser, app, alice)
    login(other, app, alice)
    old, others = device_cookie(browser), device_cookie(other)
    changed = browser.post(
        "/staff/account/password",
        data={
            "csrf_token": page_token(browser, "/staff/account/password", "/staff/account/password"),
            "current": PASSWORD,
            "new": "a new and longer passphrase",
            "repeated": "a new and longer passphrase",
            "code": next_code(app, alice),
        },
    )
    assert changed.status_code == 303, changed.status_code
    assert device_cookie(browser) != old
    assert place_for(app, device_cookie(browser), "alice") is not None
    assert place_for(app, others, "alice") is None


def _flipped(cookie: str) -> str:
    last = cookie[-1]
    return cookie[:-1] + ("0" if last != "0" else "1")


@pytest.mark.parametrize(
    "forge",
    [
        "another account's",
        "an unknown name's",
        "altered",
        "expired",
        "garbage",
        "after a rotation of the secret key",
    ],
)
def test_a_cookie_not_live_for_the_name_given_is_as_none(
    app: Flask, alice: StaffUser, forge: str
) -> None:
    browser = staff_client(app)
    login(browser, app, alice)
    cookie = device_cookie(browser)
    assert cookie is not None
    name = "alice"
    if forge == "another account's":
        make_staff(app, "bob")
        name = "bob"
    elif forge == "an unknown name's":
        name = "nobody-at-all"
    elif forge == "altered":
        cookie = _flipped(cookie)
    elif forge == "expired":
        version, ident, until, mac = cookie.split(".")
        cookie = ".".join([version, ident, str(int(until) - 91), mac])
    elif forge == "garbage":
        cookie = "d1." + "x" * 100
    else:
        app.config["SECRET_KEY"] = bytes(reversed(app.config["SECRET_KEY"]))
        app.extensions.pop("raazdar.device_key", None)
    assert place_for(app, cookie, name) is None


@pytest.mark.parametrize("username", ["alice", "nobody-at-all"])
def test_a_known_devices_cookie_changes_no_refusal(
    app: Flask, alice: StaffUser, username: str
) -> None:
    """A wrong password, or a name that does not exist, is refused alike with the cookie or
    without: it buys a place in the queue, and says nothing of the password or the name."""
    browser = staff_client(app)
    login(browser, app, alice)
    browser.post("/staff/logout", data={"csrf_token": page_token(browser)})
    assert device_cookie(browser) is not None  # a logout keeps the device known
    pages = []
    for client in (browser, staff_client(app)):
        refused = submit_login(client, username, "not the password at all", "000000")
        assert refused.status_code == 401
        assert "Set-Cookie" not in refused.headers or staff_devices.COOKIE not in str(
            refused.headers.getlist("Set-Cookie")
        )
        pages.append(_TOKEN.sub("", refused.get_data(as_text=True)))
    assert pages[0] == pages[1]


def test_a_known_device_is_bound_to_no_address_nor_user_agent(app: Flask, alice: StaffUser) -> None:
    """The cookie is the device: another address or browser string changes nothing."""
    browser = staff_client(app)
    browser.environ_base.update({"REMOTE_ADDR": "127.0.0.9", "HTTP_USER_AGENT": "one"})
    login(browser, app, alice)
    cookie = device_cookie(browser)
    elsewhere = staff_client(app)
    elsewhere.environ_base.update({"REMOTE_ADDR": "127.0.0.7", "HTTP_USER_AGENT": "two"})
    with app.test_request_context(environ_base=elsewhere.environ_base):
        assert place_for(app, cookie, "alice") is not None


def _linked(app: Flask, username: str) -> str:
    with app.test_request_context(), db_session(app) as session:
        return staff_devices.link(staff_service.get_account(session, username))


def test_an_administrators_link_gives_a_new_browser_its_cookie_and_leaves_the_address(
    app: Flask, alice: StaffUser
) -> None:
    """Opened, it is answered with the login page's plain address and the cookie it carries;
    a login from that browser is then a known device's, and gets one for 90 days."""
    link = _linked(app, "alice")
    browser = staff_client(app)
    opened = browser.get(link)
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/staff/login"
    assert device_cookie(browser) == link.split("device=", 1)[1]
    assert place_for(app, device_cookie(browser), "alice") is not None
    login(browser, app, alice)
    assert device_cookie(browser) != link.split("device=", 1)[1]


@pytest.mark.parametrize("void", ["altered", "another account's, removed since", "garbage"])
def test_a_void_link_gives_no_cookie_and_the_page_says_so(
    app: Flask, alice: StaffUser, void: str
) -> None:
    """Before, a void link led to the plain login page: its holder learnt it held nothing only
    by being told busy through the next flood, as a browser never linked is."""
    link = _linked(app, "alice")
    if void == "altered":
        parts = link.split(".")
        parts[1] = _flipped(parts[1])  # its id: the head's MAC no longer holds
        link = ".".join(parts)
    elif void == "garbage":
        link = "/staff/login?device=d2.zz"
    else:
        make_staff(app, "mallory")
        link = _linked(app, "mallory")
        with app.app_context(), db_session(app) as session:
            staff_service.remove_account(
                session, "test", staff_service.get_account(session, "mallory")
            )
    browser = staff_client(app)
    opened = browser.get(link)
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/staff/login?link=void"
    assert device_cookie(browser) is None
    page = browser.get(opened.headers["Location"]).get_data(as_text=True)
    assert "This login link no longer holds" in page


def test_a_good_link_and_the_plain_login_page_say_nothing_of_links(
    app: Flask, alice: StaffUser
) -> None:
    browser = staff_client(app)
    opened = browser.get(_linked(app, "alice"))
    for address in (opened.headers["Location"], "/staff/login", "/staff/login?link=other"):
        assert "login link" not in browser.get(address).get_data(as_text=True), address


def test_after_a_new_password_only_the_browser_that_changed_it_is_known_at_the_head(
    app: Flask, alice: StaffUser
) -> None:
    """The new cookie carries the account's tag in its new epoch (`live_tags`), the other
    device's the old one's, which the head no longer takes."""
    browser, other = staff_client(app), staff_client(app)
    login(browser, app, alice)
    login(other, app, alice)
    changed = browser.post(
        "/staff/account/password",
        data={
            "csrf_token": page_token(browser, "/staff/account/password", "/staff/account/password"),
            "current": PASSWORD,
            "new": "a new and longer passphrase",
            "repeated": "a new and longer passphrase",
            "code": next_code(app, alice),
        },
    )
    assert changed.status_code == 303, changed.status_code
    live = staff_devices.live_tags(app)
    assert staff_devices.head_place(app, device_cookie(browser), live) is not None
    assert staff_devices.head_place(app, device_cookie(other), live) is None
