"""Tests of a reviewer's work on reports, `review/casework/`."""
