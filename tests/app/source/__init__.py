"""Tests of the source interface, `app/source/`."""
