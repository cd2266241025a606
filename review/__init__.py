"""Raazdar's offline review tool: import, decrypt, triage and answer reports, air-gapped.

It speaks to the server only through bundles carried by hand, imports `crypto/`
and never `app/`. Its rooms are named for what reviewers do:

- `review.workspace`: the encrypted workspace itself, its schema and
  migrations, sealed blobs and states, the audit log, the search index;
- `review.keys`: key ceremonies, enrolling reviewers' keys, the keyring,
  rewrapping the workspace;
- `review.intake`: export bundles checked, opened and filed, and their chain;
- `review.casework`: reading, triaging and answering reports, conflicts of
  interest, the names of agencies and places;
- `review.analysis`: entities, links between reports, corroboration;
- `review.escalation`: packets for oversight bodies, redacted and scrubbed;
- `review.cli` and `review.tui`: the two ways in, over the same rooms.
"""
