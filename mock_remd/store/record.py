"""The base of the store's records: dataclasses built straight from a result row."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Self


class Record:
    """A row of the store as a dataclass (subclasses are ``@dataclass``; their fields are the columns)."""

    @classmethod
    def of(cls, row: Any) -> Self | None:
        """The record of a SQLAlchemy row (None for None)."""
        return cls(**row._mapping) if row is not None else None

    @classmethod
    def all(cls, rows: Any) -> list[Self]:
        """Records of several rows."""
        return [cls(**r._mapping) for r in rows]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (no deep copy)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
