"""What an operator runs on the server: serve, doctor, sweep, purge, exchange, keyrings.

The `raazdar` CLI (`app.cli`) is the way in; a few staff views call these too (the
health box, the keyring page, the dashboard's export and reply upload). Nothing here
imports a blueprint (`app.source`, `app.staff`, `app.api`) or the CLI.
"""
