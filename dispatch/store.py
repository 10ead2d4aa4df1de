"""Batched, idempotent writes of dispatch rows: one INSERT … SELECT FROM unnest(…) per table.

One commit per row caps PostgreSQL at a few thousand rows a second. Here a whole batch of a
table goes as one statement whose parameters are column arrays (dumped by psycopg's C code),
so a batch costs a handful of statements — and inside a psycopg pipeline, a single round trip
for all of them. Every upsert is idempotent: replaying the same rows (a redelivered Kafka
batch, `yiwang rebuild`) changes nothing, and for incidents and tasks an older `revision`
never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2 import Geometry
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg.types.json import Jsonb
from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from dispatch.models import EventRow, IncidentRow, MergeWindowRow, ReportRow, TaskRow

Row = dict[str, Any]
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class _Column:
    """How one column travels: the array type of its parameter and how to read it back."""

    name: str
    kind: str  # "plain" | "json" | "array" | "geometry"
    param_type: str
    select: sql.Composable

    @classmethod
    def of(cls, column: Column[Any]) -> _Column:
        ident = sql.Identifier("u", column.name)
        compiled = column.type.compile(dialect=_PG)
        if isinstance(column.type, ARRAY):
            # unnest flattens arrays of arrays: array values travel as JSON lists
            expr = sql.SQL("ARRAY(SELECT jsonb_array_elements_text(NULLIF({}, 'null'::jsonb)))::{}").format(
                ident, sql.SQL(compiled)
            )
            return cls(column.name, "array", "jsonb", expr)
        if isinstance(column.type, Geometry):
            return cls(column.name, "geometry", "text[]", sql.SQL("{}::geometry").format(ident))
        if isinstance(column.type, JSONB):
            return cls(column.name, "json", "jsonb", sql.SQL("NULLIF({}, 'null'::jsonb)").format(ident))
        return cls(column.name, "plain", f"{compiled}[]", ident)

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(_Column.of(c) for c in self.table.columns))
        object.__setattr__(self, "statement", self._sql())

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
        if self.on_conflict == "nothing":
            return head + sql.SQL("DO NOTHING")
        if self.on_conflict == "newer":
            sets = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in names
                if c not in self.key
            )
            return head + sql.SQL("DO UPDATE SET {} WHERE {}.revision < EXCLUDED.revision").format(
                sets, table
            )
        return head + sql.SQL(self.on_conflict)  # a constant of this module, not outside text

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


def newest(rows: Iterable[Row], key: Sequence[str]) -> list[Row]:
    """One row per key, the highest revision (a statement may not touch a row twice)."""
    best: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        held = best.get(k)
        if held is None or row.get("revision", 0) >= held.get("revision", 0):
            best[k] = row
    return list(best.values())


async def send(conn: AsyncConnection[Any], spec: Upsert, rows: Sequence[Row]) -> AsyncCursor[Any] | None:
    """Queue the upsert (in a pipeline it is sent with the others); None when there are no rows."""
    if not rows:
        return None
    cur = conn.cursor()
    await cur.execute(spec.statement, spec.params(newest(rows, spec.key)))
    return cur


async def upsert(conn: AsyncConnection[Any], spec: Upsert, rows: Sequence[Row]) -> int:
    """Write `rows` now; returns the rows inserted or updated."""
    cur = await send(conn, spec, rows)
    return 0 if cur is None else cur.rowcount
