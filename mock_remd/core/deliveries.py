"""What an operator does to a callback delivery, whichever front asks (admin API or dashboard)."""

from __future__ import annotations

from typing import Any, Protocol


class Outbox(Protocol):
    """The part of the store this needs: putting a delivery back in the queue."""

    def redeliver(self, delivery_id: int) -> Any: ...


class Wakeable(Protocol):
    """A background loop that can be told there is work now (the callback sender)."""

    def wake(self) -> None: ...


def redeliver(store: Outbox, sender: Wakeable, delivery_id: int) -> Any:
    """Queue delivery ``delivery_id`` again, due now with a fresh retry budget (its attempt log is
    kept), and wake the sender; the delivery as it is now, or None when there is no such delivery."""
    row = store.redeliver(delivery_id)
    if row is not None:
        sender.wake()
    return row
