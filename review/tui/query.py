"""The inbox's filter bar: `key:value` words narrow the list, the other words search.

    status:new,in-review severity:high danger agency:"Sindh Police" tag:kiln all munshi

`status`, `category`, `agency`, `district`, `severity`, `assignee` and `tag`
are the filters of `raazdar-review list`; `danger` keeps reports flagged as
imminent danger to life, `all` keeps closed ones, `sort:` picks the order after
danger to life. Any other words are searched for in content and notes, as
`raazdar-review report search` does (closed reports included).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Final

from review.casework import triage
from review.errors import InvalidValue

KEYS: Final = ("status", "category", "agency", "district", "severity", "assignee", "tag", "sort")
FLAGS: Final = ("danger", "all")
DEFAULT_SORT: Final = "severity"
HELP: Final = (
    "status:new,in-review  severity:high  danger  agency:'Sindh Police'  district:…  "
    "category:…  assignee:…  tag:…  all  sort:day  — other words search the text"
)


@dataclass(frozen=True)
class Query:
    """What the filter bar asks for: the filters, the words to search for, and the order."""

    filters: triage.Filters = field(default_factory=triage.Filters)
    text: str = ""
    sort: str = DEFAULT_SORT


def parse(line: str) -> Query:
    """Read the filter bar; an unknown key or value is refused with a hint."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise InvalidValue("the filter has an unbalanced quote") from exc
    filters = triage.Filters()
    sort = DEFAULT_SORT
    text: list[str] = []
    for word in words:
        key, sep, value = word.partition(":")
        key = key.casefold()
        if not sep:
            if key == "danger":
                filters.danger = True
            elif key == "all":
                filters.include_closed = True
            else:
                text.append(word)
            continue
        if not key.isascii() or not key.isalpha():
            text.append(word)  # a colon inside searched text, such as a time
            continue
        if key not in KEYS:
            raise InvalidValue(f"unknown filter {key!r}", hint=f"use one of {', '.join(KEYS)}")
        if not value:
            raise InvalidValue(f"the filter {key!r} needs a value", hint=f"{key}:VALUE")
        if key == "status":
            statuses = {s.strip() for s in value.split(",") if s.strip()}
            for status in statuses:
                _choice(status, triage.STATUSES, "status")
            filters.statuses = statuses
        elif key == "severity":
            _choice(value, triage.SEVERITIES, "severity")
            filters.severity = value
        elif key == "sort":
            _choice(value, triage.SORTS, "sort")
            sort = value
        elif key == "tag":
            filters.tag = value.casefold()
        else:
            setattr(filters, key, value)
    return Query(filters, " ".join(text), sort)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise InvalidValue(f"unknown {what} {value!r}", hint=f"choose one of {', '.join(allowed)}")
