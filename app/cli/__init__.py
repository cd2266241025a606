"""`raazdar`: the server's admin command line. Logic lives in services; this only talks.

Each module adds its commands to the one `main` group when imported here.
"""

from app.cli import (
    backup,
    exchange,
    instance,
    keyring,
    maintenance,
    onion,
    rotate,
    server_info,
    staff,
    subkeys,
)
from app.cli.base import main

__all__ = [
    "backup",
    "exchange",
    "instance",
    "keyring",
    "main",
    "maintenance",
    "onion",
    "rotate",
    "server_info",
    "staff",
    "subkeys",
]
