"""Admin pages: staff accounts, instance settings, keyring installs, the audit log."""
