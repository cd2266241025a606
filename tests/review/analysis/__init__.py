"""Tests of entities, links and corroboration, `review/analysis/`."""
