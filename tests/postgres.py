"""The PostgreSQL server the PostgreSQL tier uses: where it is, or why the tier cannot run."""

from __future__ import annotations

import os

import pytest

POSTGRES_ENV = "RAAZDAR_TEST_POSTGRES_URL"


def postgres_admin_url() -> str:
    """The URL of a role that may create databases; fail in CI, skip elsewhere, if unset."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but {POSTGRES_ENV} is not set: the PostgreSQL tier must run "
            "(tests/run.sh starts PostgreSQL and sets it)"
        )
    pytest.skip(f"{POSTGRES_ENV} is not set (tests/run.sh starts PostgreSQL and sets it)")
