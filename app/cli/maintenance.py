"""`raazdar purge` and `raazdar doctor`: retention, and a check of the instance's health."""
