"""Analysis: the entities reports name, links between reports, corroboration across sources."""
