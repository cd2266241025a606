"""`raazdar keyring show|install FILE`: the manifest in force, and installing a successor."""
