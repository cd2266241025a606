"""`raazdar-review`: the offline review tool's command line, a thin layer over review/."""

from review.cli import admin, casework, exchange, keys
from review.cli.base import PROG, cli, main

# Importing the command modules registers their commands on `cli`.
__all__ = ["PROG", "admin", "casework", "cli", "exchange", "keys", "main"]
