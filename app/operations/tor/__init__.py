"""Tor, through stem: start or attach to tor, publish onion services, report health.

`private_network` is a Tor network on loopback for the demonstration and the tests only.
"""
