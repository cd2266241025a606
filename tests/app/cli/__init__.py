"""Tests of the `raazdar` command line, `app/cli/`."""
