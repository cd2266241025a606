"""Tor, through stem: start or attach to tor, publish onion services, report health."""
