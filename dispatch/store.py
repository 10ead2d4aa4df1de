"""Batched, idempotent writes of dispatch rows: one statement per table per batch.

One commit per row caps PostgreSQL at a few thousand rows a second. Here a whole batch of a
table goes in one of two ways, both ending in the same `INSERT … ON CONFLICT`:

- a binary COPY into a per-session staging table, then `INSERT … SELECT` from it (the batch's
  rows: `upsert` takes this path from `COPY_FROM` rows on; `bench.persistence` measures it
  ~1.5 × faster than unnest for incidents, because JSONB documents travel as one binary value
  each instead of one big JSON array the server has to split);
- one `INSERT … SELECT FROM unnest(…)` whose parameters are column arrays (`send`: a single
  statement, so it can join a psycopg pipeline; small batches and the API's single rows).

Every upsert is idempotent: replaying the same rows (a redelivered Kafka batch, `yiwang
rebuild`) changes nothing, and for incidents and tasks an older `revision` never overwrites a
newer one.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import orjson
from geoalchemy2 import Geometry
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb, JsonbBinaryDumper
from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from dispatch.models import EventRow, IncidentRow, MergeWindowRow, ReportRow, TaskRow

Row = dict[str, Any]
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
COPY_FROM = 32
"""Batches from this many rows on are staged by COPY (below it, one unnest statement is cheaper)."""

# The staging column's type by the model column's SQL type: what psycopg dumps in binary from
# the values rows hold (ids and points as text, cast by the INSERT; times as datetimes).
_STAGE_TYPES = {
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "BIGINT": "int8",
    "BOOLEAN": "bool",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSONB": "jsonb",
}


def _as_time(value: Any) -> Any:
    """Rows read back from the database (or a topic) hold times as ISO strings."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class _Column:
    """How one column travels: the array type of its parameter and how to read it back."""

    name: str
    kind: str  # "plain" | "json" | "array" | "geometry"
    param_type: str
    select: sql.Composable
    sql_type: str
    stage_type: str
    """The staging table's column type (binary COPY); the INSERT casts it to `sql_type`."""

    @classmethod
    def of(cls, column: Column[Any]) -> _Column:
        ident = sql.Identifier("u", column.name)
        compiled = column.type.compile(dialect=_PG)
        if isinstance(column.type, ARRAY):
            # unnest flattens arrays of arrays: array values travel as JSON lists
            expr = sql.SQL("ARRAY(SELECT jsonb_array_elements_text(NULLIF({}, 'null'::jsonb)))::{}").format(
                ident, sql.SQL(compiled)
            )
            return cls(column.name, "array", "jsonb", expr, compiled, "text[]")
        if isinstance(column.type, Geometry):
            geometry = sql.SQL("{}::geometry").format(ident)
            return cls(column.name, "geometry", "text[]", geometry, "geometry", "text")
        if isinstance(column.type, JSONB):
            null = sql.SQL("NULLIF({}, 'null'::jsonb)").format(ident)
            return cls(column.name, "json", "jsonb", null, "jsonb", "jsonb")
        return cls(column.name, "plain", f"{compiled}[]", ident, compiled, _STAGE_TYPES.get(compiled, "text"))

    @property
    def staged(self) -> sql.Composable:
        """The column read from the staging table, cast to its own type."""
        ident = sql.Identifier(self.name)
        if self.stage_type in ("text", "text[]") and self.sql_type not in ("TEXT", "TEXT[]"):
            return sql.SQL("{}::{}").format(ident, sql.SQL(self.sql_type))
        return ident

    @property
    def to_stage(self) -> Callable[[Any], Any] | None:
        """What a row's value needs before its binary dump (None: nothing)."""
        return _as_time if self.stage_type == "timestamptz" else None

    @property
    def param(self) -> sql.Composable:
        """A JSON column's values travel as one JSON array (one orjson call for the whole
        column instead of a Python dumper per value); the statement unpacks it in order."""
        if self.kind in ("json", "array"):
            return sql.SQL(
                "ARRAY(SELECT e FROM jsonb_array_elements(%b::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n)"
            )
        return sql.SQL("%b::" + self.param_type)

    def values(self, rows: Sequence[Row]) -> Any:
        name = self.name
        if self.kind in ("json", "array"):
            return Jsonb([r[name] for r in rows])
        return [r[name] for r in rows]


@dataclass(frozen=True)
class Upsert:
    """How rows of one table are written: their key, and what a conflict does."""

    table: Table
    key: tuple[str, ...]
    on_conflict: str  # "nothing" | "newer" | an explicit DO UPDATE clause
    columns: tuple[_Column, ...] = field(init=False, repr=False, compare=False)
    statement: sql.Composed = field(init=False, repr=False, compare=False)
    staged: sql.Composed = field(init=False, repr=False, compare=False)
    """The same upsert from the staging table (emptied by it: a transaction may stage twice)."""
    row_values: Callable[[Row], tuple[Any, ...]] = field(init=False, repr=False, compare=False)
    """A row's values in column order (an `itemgetter`: one C call per row)."""
    key_values: Callable[[Row], Any] = field(init=False, repr=False, compare=False)
    converts: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False, compare=False)
    """The columns whose values may need converting before their binary dump, by position."""

    def __post_init__(self) -> None:
        columns = tuple(_Column.of(c) for c in self.table.columns)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "row_values", itemgetter(*(c.name for c in columns)))
        object.__setattr__(self, "key_values", itemgetter(*self.key))
        converts = tuple((i, c.to_stage) for i, c in enumerate(columns) if c.to_stage is not None)
        object.__setattr__(self, "converts", converts)
        object.__setattr__(self, "statement", self._sql())
        object.__setattr__(self, "staged", self._staged_sql())

    @property
    def stage(self) -> sql.Identifier:
        return sql.Identifier(f"stage_{self.table.name}")

    @property
    def stage_ddl(self) -> sql.Composed:
        """A temporary table per session; ON COMMIT DELETE ROWS empties it by truncation (no
        dead rows pile up in a table autovacuum never visits)."""
        cols = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.stage_type)) for c in self.columns
        )
        return sql.SQL("CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
            self.stage, cols
        )

    @property
    def copy_sql(self) -> sql.Composed:
        cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns)
        return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(self.stage, cols)

    def __hash__(self) -> int:
        return hash(self.table.name)

    def _sql(self) -> sql.Composed:
        """Composed from the model's own table and column names (no outside text)."""
        table = sql.Identifier(self.table.name)
        names = [c.name for c in self.columns]
        cols = sql.SQL(", ").join(map(sql.Identifier, names))
        params = sql.SQL(", ").join(c.param for c in self.columns)
        selects = sql.SQL(", ").join(c.select for c in self.columns)
        key = sql.SQL(", ").join(map(sql.Identifier, self.key))
        head = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS u({}) ON CONFLICT ({}) ").format(
            table, cols, selects, params, cols, key
        )
        return head + self._conflict(names)

    def _staged_sql(self) -> sql.Composed:
        """`statement` with the staging table's rows (deleted as they are read) for unnest's."""
        table = sql.Identifier(self.table.name)
        names = [c.name for c in self.columns]
        cols = sql.SQL(", ").join(map(sql.Identifier, names))
        selects = sql.SQL(", ").join(c.staged for c in self.columns)
        key = sql.SQL(", ").join(map(sql.Identifier, self.key))
        body = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) ").format(
            table, cols, selects, self.stage, key
        )
        return body + self._conflict(names)

    def _conflict(self, names: list[str]) -> sql.Composable:
        table = sql.Identifier(self.table.name)
        if self.on_conflict == "nothing":
            return sql.SQL("DO NOTHING")
        if self.on_conflict == "newer":
            sets = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in names
                if c not in self.key
            )
            return sql.SQL("DO UPDATE SET {} WHERE {}.revision < EXCLUDED.revision").format(sets, table)
        return sql.SQL(self.on_conflict)  # a constant of this module, not outside text

    def stage_rows(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        """The rows as COPY takes them: one C-level `itemgetter` call per row; a time column is
        converted only when some row of the batch holds it as text (rows read back)."""
        get = self.row_values
        out = [get(r) for r in rows]
        for i, convert in self.converts:
            if any(isinstance(t[i], str) for t in out):
                out = [(*t[:i], convert(t[i]), *t[i + 1 :]) for t in out]
        return out

    def params(self, rows: Sequence[Row]) -> list[Any]:
        return [c.values(rows) for c in self.columns]


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


REPORTS = Upsert(_table(ReportRow), ("report_id",), "nothing")
INCIDENTS = Upsert(_table(IncidentRow), ("incident_id",), "newer")
TASKS = Upsert(_table(TaskRow), ("task_id",), "newer")
EVENTS = Upsert(_table(EventRow), ("incident_id", "sequence"), "nothing")
MERGE_WINDOW = Upsert(
    _table(MergeWindowRow),
    ("incident_id",),
    "DO UPDATE SET last_at = GREATEST(merge_window.last_at, EXCLUDED.last_at)",
)


def newest(rows: Iterable[Row], key: Sequence[str] | Callable[[Row], Any]) -> list[Row]:
    """One row per key, the highest revision (a statement may not touch a row twice). `key`:
    the key's column names, or a function of the row giving it (`Upsert.key_values`)."""
    best: dict[Any, Row] = {}
    get = key if callable(key) else itemgetter(*key)
    for row in rows:
        k = get(row)
        held = best.get(k)
        if held is None or row.get("revision", 0) >= held.get("revision", 0):
            best[k] = row
    return list(best.values())


async def send(conn: AsyncConnection[Any], spec: Upsert, rows: Sequence[Row]) -> AsyncCursor[Any] | None:
    """Queue the upsert by unnest (in a pipeline it is sent with the others); None when there
    are no rows."""
    if not rows:
        return None
    cur = conn.cursor()
    await cur.execute(spec.statement, spec.params(newest(rows, spec.key_values)))
    return cur


class _JsonbBytes(JsonbBinaryDumper):
    """A JSONB value of a staging COPY straight from orjson's bytes (the connection's JSON
    dumper returns text, which psycopg encodes again); orjson writes the rows' datetimes."""

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + orjson.dumps(obj)


_STAGED: weakref.WeakKeyDictionary[AsyncConnection[Any], set[str]] = weakref.WeakKeyDictionary()


async def stage(conn: AsyncConnection[Any], spec: Upsert, rows: Sequence[Row]) -> bool:
    """COPY the batch into the session's staging table of `spec` (not inside a pipeline: COPY
    cannot join one); `send_staged` then upserts it. False when there are no rows."""
    if not rows:
        return False
    made = _STAGED.setdefault(conn, set())
    if spec.table.name not in made:
        await conn.execute(spec.stage_ddl)
        made.add(spec.table.name)
    async with conn.cursor() as cur:
        cur.adapters.register_dumper(None, _JsonbBytes)  # by type name only: this COPY's JSONB
        async with cur.copy(spec.copy_sql) as copy:
            copy.set_types([c.stage_type for c in spec.columns])
            for row in spec.stage_rows(newest(rows, spec.key_values)):
                await copy.write_row(row)
    return True


async def send_staged(conn: AsyncConnection[Any], spec: Upsert) -> AsyncCursor[Any]:
    """Queue the upsert of what `stage` copied (it can join a pipeline)."""
    cur = conn.cursor()
    await cur.execute(spec.staged)
    await conn.execute(sql.SQL("TRUNCATE {}").format(spec.stage))
    return cur


async def upsert(conn: AsyncConnection[Any], spec: Upsert, rows: Sequence[Row]) -> int:
    """Write `rows` now (by COPY from `COPY_FROM` rows on); returns the rows inserted or updated."""
    if len(rows) < COPY_FROM:
        cur = await send(conn, spec, rows)
        return 0 if cur is None else cur.rowcount
    if conn.info.transaction_status == TransactionStatus.IDLE:
        async with conn.transaction():  # the staged rows live until the commit
            return await upsert(conn, spec, rows)
    await stage(conn, spec, rows)
    return (await send_staged(conn, spec)).rowcount
