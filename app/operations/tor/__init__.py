"""Tor, through stem: start or attach to tor, publish onion services, report health.

The private Tor network on loopback, for the demonstration and the tests only, is
no part of this package: a source checkout has it (`devnet/`, found by `private`).
"""
