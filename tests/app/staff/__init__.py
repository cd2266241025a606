"""Tests of the staff and admin interface, `app/staff/`."""
