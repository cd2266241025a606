"""The staff onion and the devices allowed to reach it, kept in the instance directory.

`<instance>/tor/staff-onion.key` is the staff onion's key (so its address is
known before the first `serve`, and survives restarts);
`<instance>/tor/staff-clients/NAME.pub` holds one device's public x25519 key as
`descriptor:x25519:<base32>`. The private half is shown once, when the device is
added, and never stored on the server. The staff onion is published only while
at least one device is authorised: a staff onion without client authorisation
would be open to anyone who learns its address.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from app.errors import AppError
from app.operations.tor.control import Tor
from crypto import CryptoError
from crypto.onion import ClientAuthKey, OnionServiceKey, parse_client_public

log = logging.getLogger(__name__)

STAFF_KEY_NAME: Final = "staff-onion.key"
CLIENTS_DIR_NAME: Final = "staff-clients"
SUFFIX: Final = ".pub"
# Short, lowercase, safe as a file name and in a log line; "alice-laptop".
NAME_RULE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")


class ClientError(AppError):
    """A staff-onion client name or key file is not acceptable."""


def check_name(name: str) -> str:
    """Return the device name in its stored form (lowercase), or refuse it."""
    folded = name.strip().lower()
    if not NAME_RULE.fullmatch(folded):
        raise ClientError(
            f"bad device name {name!r}: use 1-32 letters, digits and inner hyphens, "
            "e.g. alice-laptop"
        )
    return folded


@dataclass(frozen=True)
class NewClient:
    """A device just authorised: what its user must import (shown once, then forgotten)."""

    name: str
    address: str
    key: ClientAuthKey

    @property
    def private_line(self) -> str:
        """The `NAME.auth_private` line for a tor's ClientOnionAuthDir. Secret."""
        return self.key.private_line(self.address)


class StaffClients:
    """The staff onion's key and its authorised devices, under `<instance>/tor/`."""

    def __init__(self, tor_dir: Path) -> None:
        self.tor_dir = tor_dir
        self.directory = tor_dir / CLIENTS_DIR_NAME
        self.key_file = tor_dir / STAFF_KEY_NAME

    def address(self, *, create: bool = False) -> str | None:
        """The staff onion's address; with `create`, make its key if there is none."""
        if not self.key_file.exists():
            if not create:
                return None
            self._private_dir(self.tor_dir)
            _write_private(self.key_file, OnionServiceKey.generate().to_tor() + "\n")
        try:
            return OnionServiceKey.from_tor(self.key_file.read_text("ascii")).address
        except (CryptoError, UnicodeDecodeError) as exc:
            raise ClientError(f"the staff onion key {self.key_file} is damaged: {exc}") from exc

    def add(self, name: str) -> NewClient:
        """Authorise a new device: store its public key and return its key pair."""
        name = check_name(name)
        address = self.address(create=True)
        assert address is not None  # noqa: S101 - created above
        self._private_dir(self.directory)
        path = self.directory / f"{name}{SUFFIX}"
        if path.exists():
            raise ClientError(
                f"a device named {name!r} is already authorised; remove it first or pick "
                "another name"
            )
        key = ClientAuthKey.generate()
        _write_private(path, key.public_line + "\n")
        return NewClient(name, address, key)

    def remove(self, name: str) -> str:
        """Revoke one device (effective once the staff onion is re-published); return its name."""
        name = check_name(name)
        path = self.directory / f"{name}{SUFFIX}"
        try:
            path.unlink()
        except FileNotFoundError:
            raise ClientError(f"no device named {name!r} is authorised") from None
        return name

    def set_aside(self, name: str) -> None:
        """Take a device out of the staff onion's list, keeping its key until `forget`."""
        os.rename(self.directory / f"{name}{SUFFIX}", self._aside(name))

    def put_back(self, name: str) -> None:
        """Give a device set aside its place again, unless one of that name was added since."""
        aside = self._aside(name)
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.link(aside, self.directory / f"{name}{SUFFIX}")
        aside.unlink(missing_ok=True)

    def forget(self, name: str) -> None:
        """Delete a device's key set aside: its revocation is committed."""
        self._aside(name).unlink(missing_ok=True)

    def _aside(self, name: str) -> Path:
        # A leading dot and another suffix: never a name `names` lists.
        return self.directory / f".{name}{SUFFIX}.revoked"

    def names(self) -> list[str]:
        """The authorised devices' names, sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(
            p.name.removesuffix(SUFFIX)
            for p in self.directory.iterdir()
            if p.name.endswith(SUFFIX) and NAME_RULE.fullmatch(p.name.removesuffix(SUFFIX))
        )

    def named_for(self, username: str) -> list[str]:
        """The devices named after a staff account (`NAME` or `NAME-…`), sorted."""
        return [d for d in self.names() if d == username or d.startswith(f"{username}-")]

    def public_keys(self) -> tuple[dict[str, str], list[str]]:
        """Each device's base32 public key by name, and the files that could not be read.

        A damaged file is left out, never guessed at: fewer devices can get in,
        never more.
        """
        keys: dict[str, str] = {}
        problems: list[str] = []
        for name in self.names():
            path = self.directory / f"{name}{SUFFIX}"
            try:
                keys[name] = parse_client_public(path.read_text("ascii"))
            except (OSError, UnicodeDecodeError, CryptoError) as exc:
                problems.append(f"{path}: {exc}")
        return keys, problems

    @staticmethod
    def _private_dir(path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)


def _write_private(path: Path, text: str) -> None:
    """Write a new 0600 file whole (a temporary name, then rename), refusing to overwrite."""
    temporary = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # link() fails if `path` appeared meanwhile, where rename() would replace it.
        os.link(temporary, path)
    finally:
        temporary.unlink()


class StaffOnion:
    """Publish the staff onion with exactly the authorised devices, or not at all."""

    def __init__(self, tor: Tor, clients: StaffClients, target: str) -> None:
        self.tor = tor
        self.clients = clients
        self.target = target
        self.address: str | None = None
        self.published_for: tuple[str, ...] = ()
        self.problems: list[str] = []

    def refresh(self) -> bool:
        """Bring the published service in line with the key files; say whether it changed.

        tor cannot change an onion's clients in place, so the service is taken
        down and added again under the same key (same address). A removed device
        is shut out from then on: tor closes the service's circuits on removal.
        """
        keys, unreadable = self.clients.public_keys()
        self.problems = [f"left out an unreadable client key file: {p}" for p in unreadable]
        for problem in self.problems:
            log.warning("staff onion: %s", problem)
        wanted = tuple(sorted(keys))
        if wanted == self.published_for:
            return False
        if self.address is not None:
            self.tor.withdraw(self.address)
            self.address = None
            self.published_for = ()
        if not wanted:
            return True
        self.clients.address(create=True)
        self.address = self.tor.publish(
            self.clients.key_file,
            self.target,
            client_keys=[keys[name] for name in wanted],
            # Whoever holds one device's key reads the introduction points, and could
            # send each staff login on a new circuit, which the staff's slot serves
            # first come, first served: under such a flood tor makes each pay in work.
            pow_defence=True,
        )
        self.published_for = wanted
        return True

    def lost_devices(self) -> bool:
        """Whether a device the staff onion was published for is no longer authorised.

        `raazdar serve` asks every few seconds and re-publishes at once: a removal
        on the admin pages revokes the account's devices but cannot send it a
        SIGHUP. A device added waits for one, as before.
        """
        if not self.published_for:
            return False
        keys, _ = self.clients.public_keys()
        return any(name not in keys for name in self.published_for)
