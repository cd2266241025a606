"""The web app's use-cases: one function per thing a user does, called by the views.

The CLI calls some of them too (staff accounts, settings, audit). What an operator runs
(init, serve, tor, doctor, retention, sweep, bundle exchange, keyrings, rotation) lives
in `app.operations`: views may call it, and of the use-cases here only the staff
dashboard does (its export and reply upload, and retention's unacknowledged count).
"""
