"""The command groups, named for what a reviewer does; `review.cli` puts them in order on `cli`.

The command modules hang their commands on these groups. The old top-level
names (`entity-add`, `export-replies`, …) are `ALIASES` here: hidden, kept for
one release, each the very command it names in the new tree.
"""

from __future__ import annotations

from typing import Final

from review.cli.base import Group


def _group(name: str, help_text: str) -> Group:
    """An empty group with the tool's error frame, its help listed whole (not cut at 45)."""
    return Group(name, help=help_text, short_help=help_text)


workspace: Final = _group("workspace", "Set up this workstation: create the workspace, enrol keys.")
keys: Final = _group("keys", "Key ceremonies: authority and reviewer keys, keyrings, rotation.")
audit: Final = _group("audit", "Read and verify the signed, hash-chained audit log.")
exchange: Final = _group("exchange", "Cross the air gap: import bundles, export replies.")
report: Final = _group("report", "Read reports: list, show, search; view or open attachments.")
triage: Final = _group("triage", "Sort reports: status, assignee, fields, severity, tags, notes.")
names: Final = _group("names", "The entities reports name (people, offices, places).")
links: Final = _group("links", "Reports that go together: show, add, confirm or reject links.")
conflicts: Final = _group("conflicts", "Declare agencies or districts you must not see.")
escalation: Final = _group("escalation", "Send reports to an oversight body and follow them up.")
bodies: Final = _group("bodies", "Oversight bodies: register them; for a body, open a packet.")
subkeys: Final = _group("subkeys", "Weekly forward-secret subkeys: issue a list, show, destroy.")
keys.add_command(subkeys)

# Old top-level name -> its command's path in the new tree. Hidden from --help,
# same command and options; kept for one release (see `base.Root`).
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "init": ("workspace", "init"),
    "enrol": ("workspace", "enrol"),
    "import": ("exchange", "import"),
    "export-replies": ("exchange", "export"),
    "reply-bundle-refused": ("exchange", "take-back"),
    "open": ("report", "open"),
    "view": ("report", "view"),
    "search": ("report", "search"),
    "status": ("triage", "status"),
    "assign": ("triage", "assign"),
    "category": ("triage", "category"),
    "agency": ("triage", "agency"),
    "district": ("triage", "district"),
    "severity": ("triage", "severity"),
    "tag": ("triage", "tag"),
    "note": ("triage", "note"),
    "entities": ("names", "list"),
    "entity": ("names", "show"),
    "entity-add": ("names", "add"),
    "entity-correct": ("names", "correct"),
    "entity-confirm": ("names", "confirm"),
    "entity-reject": ("names", "reject"),
    "entities-extract": ("names", "extract"),
    "related": ("links", "show"),
    "link": ("links", "add"),
    "link-confirm": ("links", "confirm"),
    "link-reject": ("links", "reject"),
    "escalate": ("escalation", "new"),
    "open-packet": ("bodies", "open"),
}

# Shown at the top level as well: what a reviewer runs every session.
SHORTCUTS: Final[dict[str, tuple[str, ...]]] = {
    "list": ("report", "list"),
    "show": ("report", "show"),
}
