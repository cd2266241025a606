"""Tests of what comes in from the server, `review/intake/`."""
