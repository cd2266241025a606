"""Business logic: one function per thing a user does, called by the views and by the CLI.

Some of it only the CLI calls: doctor, retention, exchange, keyring administration.
"""
