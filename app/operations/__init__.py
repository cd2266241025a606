"""What an operator runs on the server: init, serve, doctor, sweep, purge, exchange, rotate.

The `raazdar` CLI (`app.cli`) is the way in; a few staff views call these too (the
health box, the keyring page, the dashboard's export and reply upload). Nothing here
imports a blueprint (`app.source`, `app.staff`, `app.api`) or the CLI.
"""
