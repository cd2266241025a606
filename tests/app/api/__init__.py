"""Tests of the JSON API for the end-to-end client, `app/api/`."""
