"""The staff tests' common people: alice, a staff member, and her browser logged in."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.app.staff_support import StaffUser, login, make_staff, staff_client


@pytest.fixture
def alice(app: Flask) -> StaffUser:
    return make_staff(app, "alice")


@pytest.fixture
def staff(app: Flask, alice: StaffUser) -> FlaskClient:
    """Alice's browser, logged in (or whoever holds a copy of its cookie)."""
    client = staff_client(app)
    login(client, app, alice)
    return client
