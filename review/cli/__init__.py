"""`raazdar-review`: the offline review tool's command line, a thin layer over review/.

Here is its tree, in the order `--help` lists it: the groups a reviewer works
through, then the commands run every session. The command modules hang their
commands on the groups (`review.cli.groups`); the old names are hidden aliases.
"""

from review.cli import admin, casework, conflicts, escalate, exchange, groups, keys, viewing
from review.cli import corroborate as corroborate
from review.cli import subkeys as subkeys
from review.cli import tui as tui
from review.cli.base import PROG, cli, main

for _group in (
    groups.workspace,
    groups.keys,
    groups.audit,
    groups.exchange,
    groups.report,
    groups.triage,
    groups.names,
    groups.links,
    groups.conflicts,
    groups.escalation,
    groups.bodies,
):
    cli.add_command(_group)
cli.add_command(exchange.reply)
cli.add_command(tui.tui)
for _name, _path in groups.SHORTCUTS.items():
    cli.add_shortcut(_name, _path)
cli.aliases.update(groups.ALIASES)

__all__ = [
    "PROG",
    "admin",
    "casework",
    "cli",
    "conflicts",
    "escalate",
    "exchange",
    "keys",
    "main",
    "viewing",
]
