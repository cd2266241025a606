"""Raazdar's offline review tool: import, decrypt, triage and answer reports, air-gapped.

It speaks to the server only through bundles carried by hand, imports `crypto/`
and never `app/`.
"""
