"""Business logic the views call: one function per thing a user does."""
