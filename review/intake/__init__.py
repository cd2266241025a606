"""Intake: export bundles carried over by USB, checked whole, opened and filed."""
