"""Small leaks: a bad Host, staff URLs on the source listener, static stamps, Tor2web."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.app.test_security import assert_strict_headers

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BAD_HOSTS = ["a" * 64 + ".onion", "a..b", "a" * 300, "exa mple.onion", "-x.onion", "x.onion:abc"]
# Headers that differ between any two responses, or with the path's length (the
# page links back to the path it was asked for, compared apart).
_VOLATILE = {"Set-Cookie", "Vary", "Content-Length"}


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_malformed_host_gets_a_plain_400_and_logs_nothing(
    client: FlaskClient, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="app"):
        response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)
    assert_strict_headers(response)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


@pytest.mark.parametrize("host", ["example.onion", "127.0.0.1:8000", "[::1]:8000", "localhost"])
def test_a_well_formed_host_is_served(client: FlaskClient, host: str) -> None:
    assert client.get("/", headers={"Host": host}).status_code == 200


def _staff_paths(app: Flask) -> list[str]:
    """Every staff URL (variables filled in), and the prefix without its slash."""
    paths = {"/staff", "/staff/", "/staff/nothing-here"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff."):
            paths.add(re.sub(r"<[^>]+>", "0" * 32, rule.rule))
    return sorted(paths)


def _shape(response: TestResponse, path: str) -> tuple[int, list[str], str]:
    """What a visitor can compare: status, header names and values, the page without its path."""
    headers = sorted(f"{k}: {v}" for k, v in response.headers.items() if k not in _VOLATILE)
    # Without the padding's trailing spaces, which make up for the path's length.
    body = response.get_data(as_text=True).rstrip(" ").replace(path, "PATH")
    return response.status_code, headers, body


@pytest.mark.parametrize("method", METHODS)
def test_every_staff_url_on_the_source_listener_looks_like_nothing_is_there(
    app: Flask, method: str
) -> None:
    client = app.test_client()
    unknown = "/no-such-page-at-all"
    expected = _shape(client.open(unknown, method=method), unknown)
    assert expected[0] == 404
    for path in _staff_paths(app):
        assert _shape(client.open(path, method=method), path) == expected, (method, path)


def test_static_files_say_nothing_about_when_they_were_installed(client: FlaskClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    for header in ("ETag", "Last-Modified"):
        assert header not in response.headers
    # A conditional request cannot bisect the file's time either.
    for since in ("Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"):
        assert (
            client.get("/static/style.css", headers={"If-Modified-Since": since}).status_code == 200
        )
    assert client.get("/static/../config.json").status_code == 404
    assert client.get("/static/no-such.css").status_code == 404


def test_a_tor2web_request_is_refused(client: FlaskClient) -> None:
    client.get("/lang/en")
    response = client.get("/", headers={"X-Tor2web": "encrypted"})
    assert response.status_code == 403
    assert "Tor2web" in response.get_data(as_text=True)
    assert_strict_headers(response)
