"""`raazdar serve --tor private` finds the private Tor network in a source checkout, only there."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from app.operations.tor import private
from app.operations.tor.control import Tor
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


@pytest.mark.skipif(shutil.which("tor") is None, reason="tor is not installed")
def test_a_tor_of_our_own_starts_for_an_instance_deep_in_the_tree(tmp_path: Path) -> None:
    """A unix socket's path holds 107 bytes: under a deep instance directory tor could bind
    no control socket ("Failed to bind one of the listener ports"), and serve never started."""
    data = tmp_path.joinpath(*["a-directory-deep-in-the-tree"] * 4, "tor", "private-data")
    assert len(str(data / "control.sock")) > 107
    tor = Tor.launch(data, extra={"DisableNetwork": "1"})
    try:
        assert tor.controller.get_version() is not None
        link = data / "control.sock"
        assert link.is_symlink()
        assert link.resolve().is_socket()
        assert tor.socket_dir is not None
        assert tor.socket_dir.stat().st_mode & 0o777 == 0o700
    finally:
        tor.close()
    assert tor.socket_dir is not None
    assert not tor.socket_dir.exists()
