"""`raazdar-review`: the offline review tool's command line, a thin layer over review/."""

from review.cli import admin, casework, conflicts, escalate, exchange, keys, viewing
from review.cli import corroborate as corroborate
from review.cli import tui as tui
from review.cli.base import PROG, cli, main

# Importing the command modules registers their commands on `cli`.
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
