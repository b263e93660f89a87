"""Which store failures are the server's (database down, locked, connection lost) rather than a document's."""

from __future__ import annotations

from sqlalchemy.exc import DataError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


def is_server_fault(exc: BaseException) -> bool:
    """True for failures of the database or its connection: retrying later may succeed, and the
    document being written is not to blame (a value that cannot be stored is not one of these)."""
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout))


def is_conflict(exc: BaseException) -> bool:
    """True when a write broke a uniqueness rule (a row with that key exists already)."""
    return isinstance(exc, IntegrityError)


def is_bad_value(exc: BaseException) -> bool:
    """True when the database refused a value itself (too long, out of range, a NUL character)."""
    return isinstance(exc, DataError) or isinstance(exc, OverflowError)


def is_store_error(exc: BaseException) -> bool:
    """True for any failure the database layer raised (unreachable, refused, misconfigured)."""
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)
