"""Tests of what an operator runs, `app/operations/`."""
