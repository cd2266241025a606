"""Tests of escalation packets, `review/escalation/`."""
