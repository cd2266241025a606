"""The web app's use-cases: one function per thing a user does, called by the views.

The CLI calls some of them too (staff accounts, settings, audit). What only an operator
runs (doctor, retention, sweep, bundle exchange, keyring installation, serve, tor)
lives in `app.operations`; of it, the staff dashboard alone calls exchange and retention.
"""
