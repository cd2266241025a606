"""Development and test tools that are not the product: in a source checkout only, never in a wheel.

`devnet.private_network` is a private Tor network on loopback, for the tests and
for `raazdar serve --tor private` (the demonstration, `deploy/demo.sh`). It may
import `app`; nothing in `app`, `crypto`, `review` or `submit` imports it (the one
way in is `app.operations.tor.private`, which loads it from the checkout by path).
"""
