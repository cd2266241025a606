"""A report's triage state: the one sealed record of its row, and how it is sealed and read.

Kept apart from `review.casework.triage` (which changes states) so that the modules that
only read or rewrite a state, `review.casework.conflicts` among them, depend on this and
not on triage, which itself asks conflicts before it shows a state.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from review.errors import NotFound

if TYPE_CHECKING:
    # Only for annotations: the workspace package loads `marks`, which reads report states.
    from review.workspace import Unlocked


@dataclass(frozen=True)
class State:
    """A report's triage fields, as sealed in its row."""

    status: str = "new"
    reason: str | None = None
    assignee: str | None = None
    category: str | None = None
    agency: str | None = None
    district: str | None = None
    severity: str | None = None
    danger: bool = False
    tags: tuple[str, ...] = ()
    links: tuple[int, ...] = ()
    # The fields (of taxonomy.SOURCE_FIELDS) still holding what the source chose on the form.
    from_source: tuple[str, ...] = ()

    def shown(self, name: str) -> str | None:
        """A field's value, marked "(source)" while it is what the source chose."""
        value: str | None = getattr(self, name)
        return f"{value} (source)" if value and name in self.from_source else value

    def encode(self) -> bytes:
        """Serialise for sealing."""
        # Each field is a string, a flag or a tuple of them: no deep copy (`asdict`) needed.
        fields = {name: getattr(self, name) for name in _FIELDS}
        return json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> State:
        """Parse what `encode` wrote."""
        obj: dict[str, Any] = json.loads(data)
        obj["tags"] = tuple(obj.get("tags", ()))
        obj["links"] = tuple(obj.get("links", ()))
        obj["from_source"] = tuple(obj.get("from_source", ()))
        return cls(**obj)


_FIELDS: Final = tuple(f.name for f in dataclasses.fields(State))


def state_context(num: int) -> bytes:
    """The context report `num`'s state is sealed under (for `review.keys.rewrap` too)."""
    return f"report:{num}".encode("ascii")


def seal_state(u: Unlocked, num: int, state: State) -> bytes:
    """Seal a state for report `num`'s row."""
    return u.key.seal_record(state.encode(), state_context(num))


def read_state(u: Unlocked, num: int) -> State:
    """Unseal one report's state for the workspace's own bookkeeping: nobody is shown it."""
    row = u.conn.execute("SELECT state FROM reports WHERE num = ?", (num,)).fetchone()
    if row is None:
        raise NotFound(f"no report {num}", hint="`raazdar-review list --all` shows every report")
    return State.decode(u.key.open_record(row[0], state_context(num)))
