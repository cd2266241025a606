"""The Tor tier: a real onion service on a private Tor network on loopback."""
