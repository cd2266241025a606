"""The staff dashboard shows what `raazdar server-info` prints, and no private key."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.instance import InstancePaths
from crypto import SigningKey
from tests.app.staff_support import login, make_staff, staff_client


def test_the_dashboard_shows_the_server_key_fingerprint_not_the_private_key(
    app: Flask, instance: Path
) -> None:
    client = staff_client(app)
    login(client, app, make_staff(app, "alice"))
    page = client.get("/staff/").get_data(as_text=True)
    private = InstancePaths(instance).signing_key.read_text().strip()
    public = SigningKey.from_text(private).verify_key
    assert f'id="server-fingerprint">{public.fingerprint}<' in page
    assert public.to_text() in page
    assert private not in page
    assert "raazdar server-info --out FILE" in page
