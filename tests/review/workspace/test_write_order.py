"""A seized workspace's database: does the order its rows were written in date the casework?

The attack: whoever holds the disk, without a passphrase, reads `blob_data` in rowid
order. SQLite numbered its rows in the order they were written, and the table holds every
small blob, whatever it is for: a report's items, a reply, an escalated packet. Each
blob's name is clear in the table naming it (`items.blob`, with its import in
`items.bundle`; `replies.envelope`; `escalations.blob`), and each import's time is clear
in `bundles.imported`: so a reply's row, between two imports' rows, said in which
interval it was written, though everything about the reply is sealed.
"""

from __future__ import annotations

import os

from review import workspace as ws
from review.workspace.blobs import put_inline, put_inline_many
from review.workspace.schema import transaction


def test_a_seizer_cannot_tell_between_which_imports_a_reply_was_written(
    unlocked: ws.Unlocked,
) -> None:
    first = [f"first-{n}.rze" for n in range(6)]
    second = [f"second-{n}.rze" for n in range(6)]
    with transaction(unlocked.conn):  # an import
        put_inline_many(unlocked.workspace, [(name, os.urandom(900)) for name in first])
    with transaction(unlocked.conn):  # a reply written the next day
        put_inline(unlocked.workspace, "reply.rze", os.urandom(900))
    with transaction(unlocked.conn):  # the next import
        put_inline_many(unlocked.workspace, [(name, os.urandom(900)) for name in second])
    written = [*first, "reply.rze", *second]

    rows = unlocked.conn.execute("SELECT name FROM blob_data ORDER BY rowid").fetchall()
    seen = [name for (name,) in rows if name in written]

    assert sorted(seen) == sorted(written)
    # In rowid order, before: exactly the order of writing, the reply 7th of 13, between the
    # two imports. (Random rowids put 13 rows in write order once in 13! runs.)
    assert seen != written, "the rows, in rowid order, are in the order they were written"
