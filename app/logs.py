"""The one logging configuration of the server: no request data, no values, no times.

Every record from the app, Flask, SQLAlchemy and gunicorn passes one filter,
`Scrub`: a record carrying an exception keeps its event's first words, the
exception's type and its innermost place, never its message or traceback (an
SQLAlchemy error quotes its statement's parameters; Flask's "Exception on"
quotes the path), and every IP address is replaced. No format has a time of
day: under journald a dated line says when a source was active. gunicorn's
"Listening at: http://127.0.0.1:8080" names our own loopback socket, never a
client: it is said in words ("listening on the loopback port 8080") rather than
redacted into something that reads like a template left unfilled.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import traceback
from typing import Final

FORMAT: Final = "[%(process)d] [%(levelname)s] %(name)s: %(message)s"
# The loggers whose records reach the operator; each gets the one scrubbed handler.
LOGGERS: Final = ("app", "sqlalchemy", "flask", "werkzeug")
# gunicorn's per-request events: their arguments and tracebacks can quote the request.
REQUEST_EVENTS: Final = (
    "Invalid request",
    "Error handling request",
    "Socket error processing request",
    "Exception in post_request hook",
    "Error handling HTTP/2 request",
    "HTTP/2 socket error",
    "HTTP/2 connection error",
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
# gunicorn's start-up (and reload) line: every socket it binds, comma-separated.
_LISTENING = re.compile(r"Listening at: (?P<sockets>[^ ]+)(?: \((?P<pid>[0-9]+)\))?")
_LOOPBACK_SOCKET = re.compile(r"http://(?P<host>[^,]+):(?P<port>[0-9]+)")


def redact_addresses(text: str) -> str:
    """Replace every IPv4 and IPv6 literal in `text`."""
    text = _IPV4.sub("<address>", text)

    def ipv6(match: re.Match[str]) -> str:
        try:
            ipaddress.IPv6Address(match.group(0))
        except ValueError:
            return match.group(0)
        return "<address>"

    return _IPV6_CANDIDATE.sub(ipv6, text)


def listening(message: str) -> str:
    """Say gunicorn's "Listening at: http://IP:PORT,… (PID)" in words, for loopback sockets."""
    match = _LISTENING.fullmatch(message)
    if match is None:
        return message
    ports = []
    for socket in match["sockets"].split(","):
        bound = _LOOPBACK_SOCKET.fullmatch(socket)
        if bound is None or not _is_loopback(bound["host"]):
            return message  # a unix socket, or what `on_starting` refuses: left as it was
        ports.append(bound["port"])
    where = (
        f"the loopback port {ports[0]}"
        if len(ports) == 1
        else (f"the loopback ports {', '.join(ports[:-1])} and {ports[-1]}")
    )
    who = f"gunicorn (pid {match['pid']})" if match["pid"] else "gunicorn"
    return f"{who} listening on {where} only"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def where(exc: BaseException) -> str:
    """An exception's type and innermost frame, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


def _first_words(message: str) -> str:
    """The event a message names, before anything it quotes (a path, a value)."""
    event = next((e for e in REQUEST_EVENTS if message.startswith(e)), None)
    if event is not None:
        return event
    return re.split(r"[:/\[(=]", message, maxsplit=1)[0].strip() or "error"


class Scrub(logging.Filter):
    """Keep client addresses, request contents and SQL values out of a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `record` in place; never drop it (an operator needs to see faults)."""
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        exc = record.exc_info[1] if record.exc_info else None
        quoting = not record.name.startswith("app.") or exc is not None
        if quoting and (exc is not None or _first_words(message) in REQUEST_EVENTS):
            message = _first_words(message)
            if exc is not None:
                message = f"{message}: {where(exc)}"
        elif not record.name.startswith("app.") and record.name != "gunicorn.error":
            # SQLAlchemy and Flask messages can quote statements and their values.
            message = _first_words(message)
        elif record.name == "gunicorn.error":
            message = listening(message)
        record.msg = redact_addresses(message)
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


SCRUB: Final = Scrub()


def configure() -> None:
    """Send the app's, Flask's and SQLAlchemy's problems to stderr through `Scrub` (idempotent)."""
    handler = next(
        (h for h in logging.getLogger("app").handlers if SCRUB in h.filters),
        None,
    )
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(SCRUB)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        # Flask's own default handler, or any other, would print records unscrubbed.
        for other in list(logger.handlers):
            if other is not handler:
                logger.removeHandler(other)
        if handler not in logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
    # Werkzeug's logger prints client addresses; it must never run in front of sources.
    logging.getLogger("werkzeug").disabled = True
