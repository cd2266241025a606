"""Start-up output: gunicorn's listening line reads as meant, and client addresses stay out."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from app.logs import SCRUB
from tests.app.live import demo_instance, live_server


def scrubbed(message: str, *args: object, name: str = "gunicorn.error") -> str:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    SCRUB.filter(record)
    return record.getMessage()


@pytest.mark.parametrize(
    ("sockets", "said"),
    [
        ("http://127.0.0.1:8080", "gunicorn (pid 4242) listening on the loopback port 8080 only"),
        (
            "http://127.0.0.1:8080,http://127.0.0.1:8081",
            "gunicorn (pid 4242) listening on the loopback ports 8080 and 8081 only",
        ),
        ("http://[::1]:8080", "gunicorn (pid 4242) listening on the loopback port 8080 only"),
    ],
)
def test_the_listening_line_names_the_loopback_port_in_words(sockets: str, said: str) -> None:
    assert scrubbed("Listening at: %s (%s)", sockets, 4242) == said


def test_the_reload_line_without_a_pid_is_said_in_words_too() -> None:
    assert (
        scrubbed("Listening at: %s", "http://127.0.0.1:8080")
        == "gunicorn listening on the loopback port 8080 only"
    )


@pytest.mark.parametrize(
    "message",
    [
        "Listening at: http://203.0.113.7:8080 (12)",
        "Invalid request from ip=203.0.113.7: bad header",
        "Worker exiting; last peer 2001:db8::7",
    ],
)
def test_any_other_address_is_still_redacted(message: str) -> None:
    said = scrubbed(message)
    assert "203.0.113.7" not in said
    assert "2001:db8::7" not in said
    assert "loopback" not in said


def test_gunicorns_start_up_output_says_where_it_listens_and_no_placeholder(
    tmp_path: Path,
) -> None:
    log = tmp_path / "gunicorn.log"
    with live_server(demo_instance(tmp_path / "instance"), workers=1, log=log) as url:
        port = url.rsplit(":", 1)[1]
    text = log.read_text("utf-8")
    assert "<address>" not in text
    assert re.search(
        rf"^\[(\d+)\] \[INFO\] gunicorn \(pid \1\) listening on the loopback port {port} only$",
        text,
        flags=re.MULTILINE,
    ), text
