"""Tests of the `raazdar-review` command line, `review/cli/`."""
