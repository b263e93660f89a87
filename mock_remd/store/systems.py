"""Systems (РМИС) that may call the registry: one row per mnemonic, found by clientEntityId."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select

from mock_remd.store import schema as t
from mock_remd.store.clock import utcnow
from mock_remd.store.engine import SYSTEMS_LOCK_KEY
from mock_remd.store.record import Record
from mock_remd.store.session import Session

#: the fields an admin or the config file sets
SYSTEM_FIELDS = (
    "mnemonic",
    "client_entity_id",
    "callback_url",
    "document_url",
    "organizations",
    "enabled",
    "send_to_fremd",
    "require_system",
    "callback_soap_version",
)

_BY_CLIENT = select(t.systems).where(func.lower(t.systems.c.client_entity_id) == bindparam("key"))
_BY_MNEMONIC = select(t.systems).where(t.systems.c.mnemonic == bindparam("mnemonic"))


@dataclass
class System(Record):
    """One calling system and its settings."""

    mnemonic: str
    client_entity_id: str
    callback_url: str = ""
    document_url: str = ""
    organizations: list[str] = field(default_factory=list)
    enabled: bool = True
    send_to_fremd: bool = False
    require_system: bool = False
    callback_soap_version: str = "1.1"
    source: str = "admin"
    updated_at: dt.datetime | None = None


class Systems:
    """Reads and writes of ``systems``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def upsert(self, system: System, source: str = "admin") -> System:
        """Create or replace a system by mnemonic (a system with its clientEntityId is replaced too)."""
        values = {k: getattr(system, k) for k in SYSTEM_FIELDS}
        values["source"] = source
        values["updated_at"] = utcnow()
        with self.s.write() as c:
            self.s.db.advisory_lock(c, SYSTEMS_LOCK_KEY)  # two instances seeding the same config at once
            c.execute(delete(t.systems).where(t.systems.c.mnemonic == values["mnemonic"]))
            c.execute(delete(t.systems).where(t.systems.c.client_entity_id == values["client_entity_id"]))
            c.execute(insert(t.systems).values(**values))
            row = System.of(c.execute(select(t.systems).where(t.systems.c.mnemonic == values["mnemonic"])).first())
        self.s.settings_changed()
        return row  # type: ignore[return-value]

    def get(self, mnemonic: str) -> System | None:
        """The system ``mnemonic`` (read once per processed batch: one statement, built once)."""
        rows = self.s.rows(_BY_MNEMONIC, {"mnemonic": mnemonic})
        return System.of(rows[0]) if rows else None

    def by_client_id(self, client_entity_id: str) -> System | None:
        """The system with this clientEntityId (case-insensitive)."""
        rows = self.s.rows(_BY_CLIENT, {"key": client_entity_id.lower()})
        return System.of(rows[0]) if rows else None

    def list(self) -> list[System]:
        """Every system, by mnemonic."""
        with self.s.read() as c:
            return System.all(c.execute(select(t.systems).order_by(t.systems.c.mnemonic)))

    def mnemonics(self) -> list[str]:
        """The mnemonics of every system, sorted."""
        with self.s.read() as c:
            return [r[0] for r in c.execute(select(t.systems.c.mnemonic).order_by(t.systems.c.mnemonic))]

    def delete(self, mnemonic: str) -> bool:
        """Delete a system; False when there was none."""
        with self.s.write() as c:
            deleted = c.execute(delete(t.systems).where(t.systems.c.mnemonic == mnemonic)).rowcount > 0
        self.s.settings_changed()
        return deleted

    def stamp(self) -> Any:
        """A value that changes whenever a system is written in any process of this store, so that
        reads of systems can be kept until it changes; None when no such value can be had (read again)."""
        return self.s.settings_stamp()
