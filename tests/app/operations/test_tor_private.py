"""`raazdar serve --tor private` finds the private Tor network in a source checkout, only there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.operations.tor import private
from app.operations.tor.private import PrivateNetworkUnavailable
from devnet import private_network


def test_serve_loads_the_checkout_s_private_network() -> None:
    # mypy checks here that the network has every call `serve` makes of it.
    loaded: Callable[..., private.PrivateNetwork] = private.load()
    assert loaded is private_network.PrivateNetwork
    assert Path(private_network.__file__).parent == private.CHECKOUT / "devnet"


def test_a_directory_that_is_no_checkout_has_no_private_network(tmp_path: Path) -> None:
    (tmp_path / "devnet").mkdir()
    (tmp_path / "devnet" / "__init__.py").write_text("raise AssertionError('loaded')\n")
    with pytest.raises(
        PrivateNetworkUnavailable, match=f"only a source checkout has, and {tmp_path} is none"
    ):
        private.load(tmp_path)


def test_a_checkout_without_the_development_tools_has_no_private_network(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    with pytest.raises(PrivateNetworkUnavailable) as refused:
        private.load(tmp_path)
    assert refused.value.hint is not None
    assert "--tor launch, attach or off" in refused.value.hint


def test_another_devnet_package_is_never_taken_for_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "devnet").mkdir()
    (tmp_path / "devnet" / "__init__.py").write_text("raise AssertionError('loaded')\n")
    with pytest.raises(PrivateNetworkUnavailable, match="a `devnet` package other than"):
        private.load(tmp_path)
