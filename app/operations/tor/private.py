"""The private Tor network of `raazdar serve --tor private`, found in a source checkout.

The network itself (`devnet.private_network`) is a development and test tool: it
sits beside the packages in a source checkout and no wheel carries it, so an
installed server cannot start one. This module is all `serve` knows of it: the
calls it makes (`PrivateNetwork`), and `load`, which imports it from the checkout
the running `app` package was loaded from, by path, so that no other `devnet`
found on sys.path is ever taken for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Protocol

from app.operations.tor.control import Tor, TorError

PACKAGE = "devnet"
MODULE = f"{PACKAGE}.private_network"
# The directory holding the `app` package; a source checkout has pyproject.toml there.
CHECKOUT = Path(__file__).resolve().parents[3]


class PrivateNetworkUnavailable(TorError):
    """This installation has no private Tor network: it comes with a source checkout only."""

    hint = (
        "run it from a source checkout (`bash deploy/demo.sh`), "
        "or serve with --tor launch, attach or off (a demonstration instance: off only)"
    )


class PrivateNetwork(Protocol):
    """What `serve` asks of a private Tor network (`devnet.private_network.PrivateNetwork`)."""

    @property
    def socks_port(self) -> int:
        """The SOCKS port into the network, on 127.0.0.1."""

    def start(self, timeout: float = ..., cancelled: Callable[[], bool] | None = ...) -> object:
        """Start the network; `cancelled` is polled while waiting."""

    def join_config(self) -> Mapping[str, str | list[str]]:
        """The torrc options a tor needs to join the network."""

    def wait_published(
        self,
        tor: Tor,
        address: str,
        timeout: float = ...,
        cancelled: Callable[[], bool] | None = ...,
    ) -> None:
        """Wait until `tor` has uploaded the descriptor of `address`."""

    def stop(self) -> None:
        """Stop every tor of the network."""


def load(checkout: Path = CHECKOUT) -> Callable[..., PrivateNetwork]:
    """The private network's class, from `checkout`'s `devnet` package.

    Raises `PrivateNetworkUnavailable` when `checkout` is no source checkout with
    one (an installed wheel), or when another `devnet` package is already loaded.
    """
    folder = checkout / PACKAGE
    if not (checkout / "pyproject.toml").is_file() or not (folder / "__init__.py").is_file():
        raise PrivateNetworkUnavailable(
            f"the private Tor network is a development tool that only a source checkout has, "
            f"and {checkout} is none"
        )
    _package(folder)
    network: Callable[..., PrivateNetwork] = importlib.import_module(MODULE).PrivateNetwork
    return network


def _package(folder: Path) -> ModuleType:
    """The `devnet` package of `folder`, loaded by path unless it is loaded already."""
    loaded = sys.modules.get(PACKAGE)
    if loaded is not None:
        if Path(loaded.__file__ or "").resolve().parent != folder.resolve():
            raise PrivateNetworkUnavailable(
                f"a `{PACKAGE}` package other than {folder} is loaded: {loaded.__file__}"
            )
        return loaded
    spec = importlib.util.spec_from_file_location(
        PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise PrivateNetworkUnavailable(f"cannot load {folder}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    return package
