"""The host's journal: kept in memory and for two days at most (deploy/README.md §1.1).

Every journal line carries its time to the microsecond, and a fault a source's
request meets (a full disk, the database down) is logged as it happens, as is
a line tor logs for an event a visitor causes: on disk, or kept for months,
the journal dates those visits long after the sweep has blurred the store.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from app.operations.doctor.verdict import Check, Status

# What deploy/README.md §1.1 asks for: at most two days.
MAX_RETENTION: Final = 2 * 86400
# Where journald reads its settings, lowest precedence first (systemd.unit(5) order:
# a drop-in in /etc hides one of the same name in /run or /usr/lib).
_MAIN: Final = "etc/systemd/journald.conf"
_DROP_IN_DIRS: Final = (
    "usr/lib/systemd/journald.conf.d",
    "run/systemd/journald.conf.d",
    "etc/systemd/journald.conf.d",
)
_PERSISTENT_DIR: Final = "var/log/journal"
# Syslog daemons that copy what the journal receives to files under /var/log.
_SYSLOG_DAEMONS: Final = ("etc/rsyslog.conf", "etc/syslog-ng/syslog-ng.conf")
# systemd.time(7): the units of a time span, in seconds.
_UNITS: Final = {
    "us": 1e-6,
    "usec": 1e-6,
    "ms": 1e-3,
    "msec": 1e-3,
    "": 1,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "M": 2629800,
    "month": 2629800,
    "months": 2629800,
    "y": 31557600,
    "year": 31557600,
    "years": 31557600,
}
_SPAN_PART: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)")


def journal_check(system: Path) -> Check:
    """Warn when the journal is kept on disk, or in memory for longer than two days."""
    settings = _settings(system)
    storage = settings.get("Storage", "auto").lower()
    if storage == "none":
        return Check("journal", Status.OK, "journald keeps no log (Storage=none)")
    on_disk = storage == "persistent" or (storage == "auto" and (system / _PERSISTENT_DIR).is_dir())
    if on_disk:
        return Check(
            "journal",
            Status.WARN,
            f"journald keeps the log on disk (Storage={storage}"
            f"{', and /var/log/journal exists' if storage == 'auto' else ''}): each line's "
            "time (a fault a source's request met, a line tor logged for a visitor) stays "
            "there; set Storage=volatile and MaxRetentionSec=2day (deploy/README.md §1.1)",
        )
    daemons = [name for name in _SYSLOG_DAEMONS if (system / name).exists()]
    if daemons:
        return Check(
            "journal",
            Status.WARN,
            f"a syslog daemon is installed (/{daemons[0]}): it writes each line the journal "
            "gets to /var/log, on disk with its time, whatever journald keeps; remove it "
            "(Debian 12 needs none)",
        )
    retention = _seconds(settings.get("MaxRetentionSec", "0"))
    if retention is None or retention == 0 or retention > MAX_RETENTION:
        kept = "until the next reboot" if not retention else "longer than two days"
        return Check(
            "journal",
            Status.WARN,
            f"journald keeps the log in memory {kept} (MaxRetentionSec="
            f"{settings.get('MaxRetentionSec', 'unset')}): set MaxRetentionSec=2day "
            "(deploy/README.md §1.1)",
        )
    return Check("journal", Status.OK, "journald keeps the log in memory, for two days at most")


def _settings(system: Path) -> dict[str, str]:
    """journald's [Journal] settings as it reads them: the main file, then drop-ins by name."""
    drop_ins: dict[str, Path] = {}
    for directory in _DROP_IN_DIRS:
        try:
            for path in (system / directory).glob("*.conf"):
                drop_ins[path.name] = path
        except OSError:
            continue
    settings: dict[str, str] = {}
    for path in [system / _MAIN, *(drop_ins[name] for name in sorted(drop_ins))]:
        try:
            lines = path.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        section = ""
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif section == "Journal" and "=" in line:
                key, _, value = line.partition("=")
                settings[key.strip()] = value.strip()
    return settings


def _seconds(span: str) -> float | None:
    """A systemd time span ("2day", "1d 12h", "172800") in seconds; None if unreadable."""
    text = span.strip()
    total = 0.0
    at = 0
    while at < len(text):
        part = _SPAN_PART.match(text, at)
        if part is None or part.end() == at or part.group(2) not in _UNITS:
            return None
        total += float(part.group(1)) * _UNITS[part.group(2)]
        at = part.end()
        while at < len(text) and text[at].isspace():
            at += 1
    return total
