"""`raazdar staff-onion add-client|remove-client|list`: who may reach the staff onion."""
