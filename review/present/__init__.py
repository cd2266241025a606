"""Presentation shared by the CLI and the terminal UI: one way to draw each thing."""
