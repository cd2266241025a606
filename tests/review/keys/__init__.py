"""Tests of key ceremonies and the keyring, `review/keys/`."""
