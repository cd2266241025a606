"""Tests of the use-cases the views and the CLI call, `app/services/`."""
