"""Tests of the terminal UI, `review/tui/`."""
