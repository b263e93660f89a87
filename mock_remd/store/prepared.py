"""Statements of the request path compiled once per dialect and run on the DBAPI cursor.

Every accepted registration runs a duplicate read and three inserts. Through SQLAlchemy's
``Connection.execute`` each of them pays for the statement cache lookup, parameter processing and
result set-up: about 0.1 ms of CPU apiece, more than the database's own work. A :class:`Prepared`
statement is rendered by SQLAlchemy once for the dialect (same SQL, same paramstyle, same type
conversions as ``execute`` would apply), then each call only converts the parameters and runs the
cursor of the connection's own transaction. A database error is raised as SQLAlchemy's exception
(``OperationalError`` …), as ``execute`` would raise it, with the parameters hidden.
"""

from __future__ import annotations

import datetime as dt
import operator
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

from mock_remd.store import json_text


class _Compiled:
    """One statement rendered for one dialect."""

    __slots__ = ("sql", "positional", "order", "index", "constants", "processors", "plan", "columns", "results",
                 "_take", "_convert")

    def __init__(self, statement: ClauseElement, dialect: Dialect, variables: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        #: bind names (in the order of a positional paramstyle)
        self.order: tuple[str, ...] = tuple(compiled.positiontup if compiled.positional
                                            else dict.fromkeys(compiled.bind_names.values()))
        #: where each bind is among the positional parameters
        self.index = {k: i for i, k in enumerate(self.order)}
        #: values of the binds the statement fixes itself (LIMIT 1 …)
        self.constants = {k: v for k, v in compiled.construct_params({v: None for v in variables}).items()
                          if k not in variables}
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for bind, name in compiled.bind_names.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.processors[name] = _faster(bind.type, dialect, proc)
        #: (bind name, its conversion or None) in the order of :attr:`order`
        self.plan: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
            (k, self.processors.get(k)) for k in self.order)
        #: the positional values in :attr:`order` at once (in C), then the few conversions by position: a
        #: registration's insert binds 23 values of which 8 are converted
        self._take: Callable[[dict[str, Any]], tuple[Any, ...]] = _taker(self.order)
        self._convert = tuple((i, proc) for i, (_, proc) in enumerate(self.plan) if proc is not None)
        #: the result columns (a SELECT or a RETURNING) and the conversions of their values
        entries = list(getattr(compiled, "_result_columns", None) or [])
        self.columns: tuple[str, ...] = tuple(e.keyname for e in entries)
        self.results: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, proc) for i, e in enumerate(entries)
            if (proc := e.type.dialect_impl(dialect).result_processor(dialect, None)) is not None)

    def parameters(self, values: dict[str, Any]) -> Any:
        params = {**self.constants, **values} if self.constants else values
        if self.positional:
            out = list(self._take(params))
            for i, proc in self._convert:
                out[i] = proc(out[i])
            return out
        return {k: (params[k] if proc is None else proc(params[k])) for k, proc in self.plan}


def _taker(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function giving the values of ``names`` in a dict as a tuple (KeyError for a missing one)."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    if names:
        name = names[0]
        return lambda params: (params[name],)
    return lambda params: ()


#: the last naive datetime a statement bound and its text, shared by every datetime column's conversion:
#: a row binds the same instant to several columns (received, updated, due), and isoformat costs ~7,000
#: instructions. One (value, text) pair, replaced whole (a thread reads either pair, never a mix).
_LAST_DATETIME: list[tuple[Any, str]] = [(None, "")]


def _faster(type_: Any, dialect: Dialect, proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``proc``, SQLAlchemy's conversion of a bound value, or on SQLite one that gives the same value
    for less CPU where the request path binds many (each accepted registration binds five datetimes
    and seven JSON values): a naive datetime (SQLAlchemy fills a ``%`` format of seven fields, 2.8
    against 1.2 µs), a JSON value (SQLAlchemy looks for its NULL markers first). Any other value goes
    through ``proc`` itself; so does every value when the faster one disagrees with ``proc`` on samples."""
    if dialect.name != "sqlite":
        return proc
    fast: Callable[[Any], Any] | None = None
    samples: tuple[Any, ...] = ()
    if isinstance(type_, DateTime):
        datetime = dt.datetime
        last = _LAST_DATETIME

        def naive_datetime(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is datetime and value.tzinfo is None:
                seen, text = last[0]
                if seen is value or (seen is not None and seen == value):  # equal naive datetimes: equal text
                    return text
                text = value.isoformat(" ", "microseconds")
                last[0] = (value, text)
                return text
            return proc(value)

        fast = naive_datetime
        samples = (dt.datetime(2026, 12, 7, 1, 2, 3, 456789), dt.datetime(2026, 1, 1), dt.datetime(999, 9, 9, 9, 9, 9, 9),
                   None)
    elif isinstance(type_, JSON) and not type_.none_as_null and dialect._json_serializer is not None:  # type: ignore[attr-defined]
        serializer = dialect._json_serializer  # type: ignore[attr-defined]
        plain = (dict, list, str, int, float, bool, type(None))

        def json_value(value: Any) -> Any:
            return serializer(value) if type(value) in plain else proc(value)

        fast = json_value
        samples = (None, [], {"a": [1, "б", None]}, "x", 1, 1.5, True)
    elif isinstance(type_, Boolean):

        def boolean(value: Any) -> Any:
            return int(value) if type(value) is bool else proc(value)

        fast = boolean
        samples = (True, False, None)
    if fast is None:
        return proc
    try:
        same = all(fast(v) == proc(v) and type(fast(v)) is type(proc(v)) for v in samples)
    except Exception:  # noqa: BLE001 - a type whose conversion differs: SQLAlchemy's own then
        same = False
    return fast if same else proc


def _utf8_json(value: Any) -> Any:
    """A JSON value's text for ``CAST(? AS TEXT)`` (:class:`Utf8Json`): a str when it is ASCII (its UTF-8 is
    itself), else the UTF-8 bytes orjson made (the cast makes them the same TEXT the str would be)."""
    if value is None or value is JSON.NULL:
        return "null"
    if type(value) is list and not value:  # errors, layers: most rows bind these two
        return "[]"
    data = json_text.dumps_utf8(value)
    return data.decode("ascii") if data.isascii() else data


class Utf8Json(TypeDecorator):
    """How :class:`PreparedInsert` binds a JSON column on SQLite: as its UTF-8 text, made TEXT by the
    statement (``CAST(? AS TEXT)``). A str bound to the driver is encoded to UTF-8 again, which for a
    non-ASCII text (the request metadata every accepted registration stores, 5 KB with Cyrillic names)
    undoes orjson's decoding: ~90,000 instructions per registration for nothing."""

    impl = Text
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return cast(bindvalue, Text)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return _utf8_json


def _bind_type(column: Any) -> Any:
    """``column``'s type for :class:`PreparedInsert`'s bind: on SQLite a JSON column takes its UTF-8 text
    (:class:`Utf8Json`; the store serializes JSON with :mod:`json_text` on every backend)."""
    type_ = column.type
    if isinstance(type_, JSON) and not type_.none_as_null:
        return type_.with_variant(Utf8Json(), "sqlite")
    return type_


class BoundRow:
    """One row of a statement's parameters, converted for the driver ahead of its transaction
    (:meth:`Prepared.bind`): the JSON, dates and the like are made before the write lock is taken,
    so that inside it only the statement runs. :meth:`set` changes a value afterwards (one known
    only inside the transaction, like a number drawn there)."""

    __slots__ = ("compiled", "params")

    def __init__(self, compiled: _Compiled, params: Any) -> None:
        self.compiled = compiled
        self.params = params

    def set(self, name: str, value: Any) -> None:
        """Give the variable ``name`` the value ``value`` (converted as :meth:`Prepared.bind` converts)."""
        compiled = self.compiled
        proc = compiled.processors.get(name)
        if proc is not None:
            value = proc(value)
        if compiled.positional:
            self.params[compiled.index[name]] = value
        else:
            self.params[name] = value


def run_bound(c: Connection, row: BoundRow) -> Any:
    """Run the statement of ``row`` (bound for ``c``'s dialect) on ``c``'s transaction; the DBAPI cursor."""
    return _run(c, row.compiled.sql, row.params)


def run_many(c: Connection, rows: Sequence[BoundRow]) -> int:
    """Run the statement of ``rows`` (all bound by one :class:`Prepared` for ``c``'s dialect) once per
    row as one ``executemany``; the number of rows changed."""
    if not rows:
        return 0
    cursor = _run(c, rows[0].compiled.sql, [r.params for r in rows], many=True)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _run(c: Connection, sql: str, params: Any, *, many: bool = False) -> Any:
    """``sql`` with ``params`` on the DBAPI cursor of ``c``'s transaction (``executemany`` when ``many``),
    a database error raised as SQLAlchemy's exception with the parameters hidden; the cursor."""
    cursor = c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except c.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(sql, None, exc, c.dialect.loaded_dbapi.Error, hide_parameters=True,
                                  dialect=c.dialect) from exc
    return cursor


class Prepared:
    """A statement with named variables (``bindparam``), run on the DBAPI cursor of a connection."""

    def __init__(self, statement: ClauseElement, variables: Sequence[str]) -> None:
        self.statement = statement
        self.variables = tuple(variables)
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"
        found = self._compiled.get(key)
        if found is None:
            with self._lock:
                found = self._compiled.get(key) or _Compiled(self.statement, dialect, self.variables)
                self._compiled[key] = found
        return found

    def execute(self, c: Connection, values: dict[str, Any]) -> Any:
        """Run with ``values`` (every variable) on ``c``'s transaction; the DBAPI cursor."""
        compiled = self._for(c.dialect)
        return _run(c, compiled.sql, compiled.parameters(values))

    def execute_many(self, c: Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Run once per row of ``rows`` (each with every variable) as one ``executemany`` on ``c``'s
        transaction; the number of rows changed."""
        if not rows:
            return 0
        compiled = self._for(c.dialect)
        cursor = _run(c, compiled.sql, [compiled.parameters(values) for values in rows], many=True)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def bind(self, dialect: Dialect, values: dict[str, Any]) -> BoundRow:
        """``values`` (every variable) converted for ``dialect``'s driver, to run later on a connection
        of that dialect (:func:`run_many`, :func:`run_bound`)."""
        compiled = self._for(dialect)
        params = compiled.parameters(values)
        return BoundRow(compiled, list(params) if compiled.positional else params)

    def all(self, c: Connection, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row as a dict of column names, the values converted as ``execute`` converts them."""
        compiled = self._for(c.dialect)
        cursor = self.execute(c, values)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        columns, results = compiled.columns, compiled.results
        out = []
        for row in rows:
            if results:
                row = list(row)
                for i, proc in results:
                    row[i] = proc(row[i])
            out.append(dict(zip(columns, row, strict=True)))
        return out

    def first(self, c: Connection, values: dict[str, Any]) -> dict[str, Any] | None:
        """The first row as a dict of column names (None when there is none)."""
        cursor = self.execute(c, values)
        try:
            row = cursor.fetchone()
            return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))
        finally:
            cursor.close()

    def scalar(self, c: Connection, values: dict[str, Any]) -> Any:
        """The first column of the first row (None when there is none)."""
        cursor = self.execute(c, values)
        try:
            row = cursor.fetchone()
            return None if row is None else row[0]
        finally:
            cursor.close()


class PreparedIn:
    """A statement with a list of values (``column IN (…)``): ``build`` makes it from the list of bind
    parameters; one :class:`Prepared` is rendered per length of the list (claims and batches are a few
    sizes), so a list costs no expanding parameter set-up on each call."""

    def __init__(self, build: Callable[[list[Any]], ClauseElement], variables: Sequence[str], *,
                 type_: Any = None) -> None:
        self._build = build
        self.variables = tuple(variables)
        self._type = type_
        self._sized: dict[int, Prepared] = {}

    def _of(self, n: int) -> Prepared:
        found = self._sized.get(n)
        if found is None:
            names = [f"in_{i}" for i in range(n)]
            found = Prepared(self._build([bindparam(k, type_=self._type) for k in names]), [*self.variables, *names])
            self._sized[n] = found
        return found

    @staticmethod
    def _values(items: Sequence[Any], values: dict[str, Any]) -> dict[str, Any]:
        return {**values, **{f"in_{i}": v for i, v in enumerate(items)}}

    def all(self, c: Connection, items: Sequence[Any], values: dict[str, Any]) -> list[dict[str, Any]]:
        """:meth:`Prepared.all` with ``items`` as the list (none: no rows, nothing run)."""
        if not items:
            return []
        return self._of(len(items)).all(c, self._values(items, values))


class PreparedInsert(Prepared):
    """``INSERT`` of one row into ``table``: every column but the autoincrement key, the columns'
    own defaults for the values not given (as SQLAlchemy fills them), ``returning`` a column.

    ``unless``: a condition on the rows already in ``table`` (made from ``table`` and the row's bind
    parameters by name) under which nothing is inserted (:meth:`insert_unless`, SQLite only: one
    ``INSERT … SELECT … WHERE NOT EXISTS`` where a read and an insert took two statements).

    On SQLite, when ``returning`` is the table's integer key (the rowid), the insert runs without
    ``RETURNING`` and the key is the cursor's ``lastrowid``: one ``sqlite3_step`` instead of two (each
    lets the GIL go, and under load each is a thread hand-off for the writer)."""

    def __init__(self, table: Table, *, returning: str | None = None,
                 unless: Callable[[Table, dict[str, Any]], Any] | None = None) -> None:
        self.table = table
        self.columns = [c for c in table.c if not (c.primary_key and c.autoincrement is True)]
        binds = {c.name: bindparam(c.name, type_=_bind_type(c)) for c in self.columns}
        names = [c.name for c in self.columns]
        statement = insert(table).values(binds)
        key = table.c[returning] if returning is not None else None
        #: the insert without RETURNING, its key read from lastrowid (SQLite; None: not the rowid)
        self._rowid: Prepared | None = None
        if key is not None and key.primary_key and key.autoincrement is True and len(table.primary_key.columns) == 1:
            self._rowid = Prepared(statement, names)
        #: the insert unless a row satisfies ``unless`` (SQLite)
        self._unless: Prepared | None = None
        self._unless_condition = unless
        if unless is not None:
            self._unless = Prepared(insert(table).from_select(
                names, select(*binds.values()).where(~exists().where(unless(table, binds)))), names)
        if key is not None:
            statement = statement.returning(key)
        super().__init__(statement, names)
        self._key = key
        #: (form, rows, …) -> the insert of that many rows in one statement
        self._many: dict[tuple[Any, ...], Prepared] = {}
        self._many_lock = threading.Lock()
        #: multi-row statements whose positional binds were checked to be the rows' one after another
        self._checked: set[str] = set()
        # keyed by plain str: a column's name is SQLAlchemy's quoted_name (a str subclass), and one such key
        # makes every row completed with these defaults a dict whose lookups go the slow, general way
        self._defaults: dict[str, Any] = {}
        self._callables: dict[str, Callable[[Any], Any]] = {}
        for col in self.columns:
            default, name = col.default, str(col.name)
            if default is None:
                self._defaults[name] = None
            elif default.is_callable:
                self._callables[name] = default.arg  # type: ignore[union-attr]  # wrapped to take a context
            elif default.is_scalar:
                self._defaults[name] = default.arg  # type: ignore[union-attr]
            else:
                raise ValueError(f"column {col.name}: only scalar or callable defaults are supported")

    def row(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` completed with the defaults of the columns they leave out."""
        row = {**self._defaults, **values}
        for name, make in self._callables.items():
            if name not in values:
                row[name] = make(None)
        return row

    def insert(self, c: Connection, values: dict[str, Any]) -> Any:
        """Insert one row; the ``returning`` column's value (None without one)."""
        if self._rowid is not None and c.dialect.name == "sqlite":
            cursor = self._rowid.execute(c, self.row(values))
            try:
                return cursor.lastrowid
            finally:
                cursor.close()
        cursor = self.execute(c, self.row(values))
        try:
            if cursor.description is None:
                return None
            row = cursor.fetchone()
            return None if row is None else row[0]
        finally:
            cursor.close()

    def insert_many(self, c: Connection, rows: Sequence[dict[str, Any]], *, match: str | None = None) -> list[Any]:
        """Insert ``rows`` with one multi-row ``INSERT … VALUES (…), (…)`` (several when they bind more
        values than the database takes in one statement); the ``returning`` column's values (none
        without one). One statement for the lot, where :meth:`insert` ran one per row (Python 3.11's
        sqlite3 lets the GIL go five times per statement: under load, thread hand-offs).

        On SQLite, when ``returning`` is the rowid, the keys are the ``lastrowid`` and the ones before
        it: the rows of one statement get consecutive rowids, the largest plus one each (the write
        transaction is exclusive, and no key is given). Elsewhere the keys come back by ``RETURNING``;
        ``match``, a column whose values tell the rows apart, puts them in the order of ``rows``
        (without it they come in the database's order)."""
        by_rowid = c.dialect.name == "sqlite" and self._rowid is not None
        keys: list[Any] = []
        for chunk, cursor in self._each_chunk(c, rows, lambda n: self._many_of(
                n, None if by_rowid or self._key is None else match, rowid=by_rowid)):
            n = len(chunk)
            if by_rowid:
                if cursor.rowcount != n:
                    raise RuntimeError(f"{n} rows inserted in one statement, {cursor.rowcount} counted")
                last = cursor.lastrowid
                keys.extend(range(last - n + 1, last + 1))
            elif self._key is not None:
                returned = cursor.fetchall()
                if match is None:
                    keys.extend(r[0] for r in returned)
                else:
                    found = {r[1]: r[0] for r in returned}
                    keys.extend(found[row[match]] for row in chunk)
        return keys

    def insert_many_unless(self, c: Connection, rows: Sequence[dict[str, Any]], *, match: str) -> list[int | None]:
        """SQLite: :meth:`insert_unless` of each of ``rows`` in one statement (``INSERT … SELECT`` of the
        rows, in their order, that no row already there refuses); each row's new key (rowid), None for
        one refused. ``match``: a column whose values tell the rows apart (none refuses another: the
        statement's reads see the table as it was before it). All inserted: the keys are the
        ``lastrowid`` and the ones before it (see :meth:`insert_many`); some refused: one read of the
        rows with the new keys (every new rowid is above every older one) tells which."""
        if self._unless is None or self._rowid is None or c.dialect.name != "sqlite":
            raise TypeError("insert_many_unless needs an ``unless`` condition, a rowid key and SQLite")
        keys: list[int | None] = []
        for chunk, cursor in self._each_chunk(c, rows, self._many_unless_of, most=_SQLITE_COMPOUND_ROWS):
            n, inserted = len(chunk), cursor.rowcount
            last = cursor.lastrowid
            if inserted == n:
                keys.extend(range(last - n + 1, last + 1))
            elif inserted == 0:
                keys.extend([None] * n)
            else:
                new = dict(_run(c, self._new_rows_sql(match), (last - inserted,)).fetchall())
                by_value = {value: key for key, value in new.items()}
                keys.extend(by_value.get(row[match]) for row in chunk)
        return keys

    def _new_rows_sql(self, match: str) -> str:
        key = self._key.name  # type: ignore[union-attr]
        return f"SELECT {key}, {match} FROM {self.table.name} WHERE {key} > ?"

    def _each_chunk(self, c: Connection, rows: Sequence[dict[str, Any]], statement_of: Callable[[int], Prepared], *,
                    most: int = 0) -> Any:
        """For each chunk of ``rows`` (each binding no more values than the database takes in one
        statement; at most ``most`` rows when given): (the chunk completed with defaults, the cursor of
        ``statement_of(rows in it)`` run with them); the cursor is closed when the next is asked for."""
        if not rows:
            return
        dialect = c.dialect
        if dialect.name == "sqlite":
            limit = c.connection.dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
            single = (self._rowid or self)._for(dialect)
        else:
            limit = _POSTGRESQL_BIND_LIMIT
            single = self._for(dialect)
        per = max(1, limit // len(self.columns))
        if most:
            per = min(per, most)
        for start in range(0, len(rows), per):
            chunk = [self.row(values) for values in rows[start:start + per]]
            n = len(chunk)
            many = statement_of(n)._for(dialect)
            if many.positional and many.sql not in self._checked:
                if many.order != tuple(f"{k}__m{i}" for i in range(n) for k in single.order):
                    raise RuntimeError(f"the {n}-row insert into {self.table.name} binds in another order")
                self._checked.add(many.sql)
            if many.positional:
                params: Any = []
                for row in chunk:
                    params += single.parameters(row)
            else:
                params = {}
                for i, row in enumerate(chunk):
                    params.update({f"{k}__m{i}": v for k, v in single.parameters(row).items()})
            cursor = _run(c, many.sql, params)
            try:
                yield chunk, cursor
            finally:
                cursor.close()

    def _many_of(self, n: int, match: str | None, *, rowid: bool) -> Prepared:
        """The insert of ``n`` rows (binds named ``<column>__m<row>``), built once per shape."""
        return self._built(("values", n, match, rowid), lambda: self._values_statement(n, match, rowid))

    def _values_statement(self, n: int, match: str | None, rowid: bool) -> Any:
        statement = insert(self.table).values(
            [{col.name: bindparam(f"{col.name}__m{i}", type_=_bind_type(col)) for col in self.columns}
             for i in range(n)])
        if self._key is not None and not rowid:
            statement = statement.returning(self._key, *([self.table.c[match]] if match else []))
        return statement

    def _many_unless_of(self, n: int) -> Prepared:
        """The insert of those of ``n`` rows that ``unless`` does not refuse, in their order."""
        return self._built(("unless", n), lambda: self._unless_statement(n))

    def _unless_statement(self, n: int) -> Any:
        assert self._unless_condition is not None
        terms = [select(*[bindparam(f"{col.name}__m{i}", type_=_bind_type(col)).label(col.name) for col in self.columns],
                        literal_column(str(i)).label("row__")) for i in range(n)]
        rows = (union_all(*terms) if n > 1 else terms[0]).subquery("v")
        names = [col.name for col in self.columns]
        return insert(self.table).from_select(
            names, select(*[rows.c[name] for name in names]).where(~exists().where(self._unless_condition(self.table, rows.c)))
            .order_by(rows.c.row__))

    def _built(self, shape: tuple[Any, ...], build: Callable[[], Any]) -> Prepared:
        found = self._many.get(shape)
        if found is None:
            with self._many_lock:
                found = self._many.get(shape)
                if found is None:
                    n = shape[1]
                    found = Prepared(build(), [f"{col.name}__m{i}" for i in range(n) for col in self.columns])
                    self._many[shape] = found
        return found

    def insert_unless(self, c: Connection, values: dict[str, Any]) -> int | None:
        """SQLite: insert one row unless a row already there satisfies the ``unless`` condition; the new
        row's key (its rowid), None when nothing was inserted."""
        if self._unless is None or c.dialect.name != "sqlite":
            raise TypeError("insert_unless needs an ``unless`` condition and SQLite")
        cursor = self._unless.execute(c, self.row(values))
        try:
            return cursor.lastrowid if cursor.rowcount == 1 else None
        finally:
            cursor.close()


#: most rows in one compound SELECT of SQLite's (its SQLITE_MAX_COMPOUND_SELECT is 500 by default)
_SQLITE_COMPOUND_ROWS = 250
#: most values one PostgreSQL statement binds (the protocol counts them in 16 bits)
_POSTGRESQL_BIND_LIMIT = 65535

#: blobs above this size are written into SQLite in place (see :class:`SqliteBlob`)
LARGE_BLOB_BYTES = 1024 * 1024


class SqliteBlob:
    """Writes a large value into a row's blob column of SQLite by incremental blob I/O.

    Python's sqlite3 binds a blob as a copy that its cached statement keeps until the statement is
    bound again: every pooled connection that once inserted a 44 MB document kept 44 MB more (the
    worker grew by 46 MB for each such request a new connection took). Here the row gets a
    ``zeroblob`` of the size and the bytes are written into its pages, with no copy left behind.
    """

    def __init__(self, table: Table, column: str, key: str) -> None:
        self.table, self.column = table, column
        self._size = Prepared(
            update(table).where(table.c[key] == bindparam("key")).values({column: func.zeroblob(bindparam("size"))})
            .returning(literal_column("rowid")), ["key", "size"])

    def write(self, c: Connection, key: Any, data: bytes) -> None:
        """``data`` into the row whose key column is ``key`` (the row exists)."""
        rowid = self._size.scalar(c, {"key": key, "size": len(data)})
        with c.connection.dbapi_connection.blobopen(self.table.name, self.column, rowid) as blob:  # type: ignore[union-attr]
            blob.write(data)
