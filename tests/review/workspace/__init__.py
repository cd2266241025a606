"""Tests of the encrypted workspace, `review/workspace/`."""
