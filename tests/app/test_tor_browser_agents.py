"""Tor Browser on every platform it ships for sees no warning; other browsers are warned.

The user agents are those Tor Browser 14.x (Firefox ESR 128) sends: since Tor
Browser 13.5 the desktop HTTP header names the platform family (Windows, Linux
or macOS), uniform within each; Android sends Firefox's spoofed "Android 10".
Sources: github.com/lexiforest/curl-impersonate/issues/142 (Tor Browser 14.5's
Windows, Linux and macOS strings), github.com/medama-io/go-useragent/issues/44
(Gecko's "Android 10; Mobile" form).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

ONION = "http://raazdar3kq7bd4ndxhn6y7gkvyqjgskobeeyzkpnnuvk4nqdexample.onion"

TOR_BROWSER = {
    "windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "linux": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "macos": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0",
    "android": "Mozilla/5.0 (Android 10; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0",
    "windows-esr115": "Mozilla/5.0 (Windows NT 10.0; rv:115.0) Gecko/20100101 Firefox/115.0",
    "linux-esr140": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
}
NOT_TOR_BROWSER = {
    "chrome": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    ),
    "chrome-android": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
    "firefox-real-android": "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0",
    "firefox-linux-i686": "Mozilla/5.0 (X11; Linux i686; rv:128.0) Gecko/20100101 Firefox/128.0",
    "firefox-minor": "Mozilla/5.0 (X11; Linux x86_64; rv:128.5) Gecko/20100101 Firefox/128.5",
    "safari": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Safari/605.1.15"
    ),
}


def warning(app: Flask, agent: str) -> str | None:
    """The warning the landing page shows this browser (in English), if any."""
    client = app.test_client()
    client.get("/lang/en", base_url=ONION)
    html = client.get("/", base_url=ONION, headers={"User-Agent": agent}).get_data(as_text=True)
    match = re.search(r'<p class="note warn">([^<]*)</p>', html)
    return match.group(1) if match else None


@pytest.mark.parametrize("agent", TOR_BROWSER.values(), ids=TOR_BROWSER.keys())
def test_tor_browser_on_every_platform_sees_no_warning(app: Flask, agent: str) -> None:
    assert warning(app, agent) is None


@pytest.mark.parametrize("agent", NOT_TOR_BROWSER.values(), ids=NOT_TOR_BROWSER.keys())
def test_other_browsers_are_told_they_do_not_look_like_tor_browser(app: Flask, agent: str) -> None:
    shown = warning(app, agent)
    assert shown is not None
    assert "does not look like Tor Browser" in shown
