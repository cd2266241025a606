"""Servers share an instance, `raazdar migrate` takes it alone: neither starts under the other."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.serving import MigrationRunning, ServerRunning, alone, hold_serving


def test_servers_share_the_instance_and_a_migration_waits_for_none(tmp_path: Path) -> None:
    first, second = hold_serving(tmp_path), hold_serving(tmp_path)
    try:
        with (
            pytest.raises(ServerRunning, match="a server is running on this instance"),
            alone(tmp_path),
        ):
            pass
    finally:
        os.close(first)
    with pytest.raises(ServerRunning), alone(tmp_path):  # the second server still holds it
        pass
    os.close(second)
    with alone(tmp_path):
        pass


def test_a_server_starting_during_a_migration_is_refused(tmp_path: Path) -> None:
    with alone(tmp_path), pytest.raises(MigrationRunning, match="`raazdar migrate` is changing"):
        hold_serving(tmp_path)
    os.close(hold_serving(tmp_path))
