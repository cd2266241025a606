"""Whose each staff device is, so that the device goes with that account.

`raazdar staff-onion add-client NAME --for USERNAME` writes the account into the
device's audit entry (`staff-onion-client-added`, `owner`), and the log's last
such entry for a name says whose the device is. Removing the account, or an
install that locks it because the keyring no longer lists its reviewer, revokes
its devices in the same commit: each key file is first set aside under a name
the staff onion never reads, then deleted once the commit is made, or put back if
it is not. Tor learns of it when `raazdar serve` re-publishes the staff onion,
which it does by itself once a device it published is gone (`StaffOnion.lost_devices`).

A device added before owners were recorded, or without `--for`, is nobody's: it
is named after a removal, as before, and revoked by hand.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.operations.tor.clients import StaffClients
from app.services import audit
from app.services.context import services


def instance_clients() -> StaffClients:
    """The staff onion's devices of the instance in use."""
    return StaffClients(services().paths.root / "tor")


def owned_by(session: Session, clients: StaffClients, username: str) -> list[str]:
    """The devices authorised now that were added for `username`, sorted."""
    owners = audit.device_owners(session)
    return [d for d in clients.names() if owners.get(d) == username]


def unowned_named_for(session: Session, clients: StaffClients, username: str) -> list[str]:
    """The devices called after `username` (`NAME`, `NAME-…`) that were added for nobody."""
    owners = audit.device_owners(session)
    return [d for d in clients.named_for(username) if owners.get(d) is None]


def still_reaching(session: Session, clients: StaffClients, username: str) -> list[str]:
    """After `username` was removed or locked, the devices that still reach the staff onion
    and look like hers: those added for her that could not be revoked (`revoke`), and
    those called after her that were added for nobody. Sorted, each once."""
    return sorted(
        {*owned_by(session, clients, username), *unowned_named_for(session, clients, username)}
    )


def revoke(session: Session, clients: StaffClients, username: str) -> list[str]:
    """Revoke the devices added for `username` with the session's commit; return their names.

    Set aside now, deleted after the commit, put back if the transaction ends
    without one: a removal that fails loses nobody's device, and one that commits
    leaves none of hers. A device whose key cannot be set aside (a file the
    server's user may not move) stays, and is named after the commit by
    `still_reaching`: the removal or the install goes through all the same, since
    refusing it would leave her the account as well as the device.
    """
    names: list[str] = []
    for name in owned_by(session, clients, username):
        try:
            clients.set_aside(name)
        except OSError:
            continue
        names.append(name)
    if names:
        _settle_with(session, clients, names)
    return names


def _settle_with(session: Session, clients: StaffClients, names: list[str]) -> None:
    """Delete the set-aside files once the transaction commits; put them back if not."""
    ending = session.get_transaction()
    outcome = {"committed": False, "settled": False}

    def after_commit(_session: Session) -> None:
        outcome["committed"] = True

    def after_transaction_end(_session: Session, transaction: SessionTransaction) -> None:
        # A savepoint's end, or a later transaction's, is not this one's.
        if transaction is not ending or outcome["settled"]:
            return
        outcome["settled"] = True
        for name in names:
            if outcome["committed"]:
                clients.forget(name)
            else:
                clients.put_back(name)

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)
