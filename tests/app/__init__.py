"""Tests of the server, `app/`: in the test client, and behind gunicorn (browser, load)."""
