"""Keys: ceremonies held offline, reviewers' keys enrolled, the keyring, rewrapping."""
