"""`raazdar staff add|remove|reset-password|reset-2fa|list`: the staff accounts."""
