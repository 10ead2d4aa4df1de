"""Batched, idempotent writes of dispatch rows: COPY into staging, then one upsert per table.

One commit per row caps PostgreSQL at a few thousand rows a second; COPY of a whole batch
into a per-connection temporary table and a single INSERT … SELECT … ON CONFLICT keeps the
write path at tens of thousands. Every upsert is idempotent: replaying the same rows (a
redelivered Kafka batch, `yiwang rebuild`) changes nothing, and for incidents and tasks an
older `revision` never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB

from dispatch.models import EventRow, IncidentRow, MergeWindowRow, ReportRow, TaskRow

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Upsert:
    """How rows of one table are written: their key, and what a conflict does."""

    table: Table
    key: tuple[str, ...]
    on_conflict: str  # "nothing" | "newer" | an explicit DO UPDATE clause

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.columns)

    @property
    def json_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.table.columns if isinstance(c.type, JSONB))

    @property
    def stage(self) -> str:
        return f"stage_{self.table.name}"

    def sql(self) -> sql.Composed:
        """The upsert, composed from the model's own table and column names (no outside text)."""
        table, stage = sql.Identifier(self.table.name), sql.Identifier(self.stage)
        cols = sql.SQL(", ").join(map(sql.Identifier, self.columns))
        key = sql.SQL(", ").join(map(sql.Identifier, self.key))
        head = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) ").format(
            table, cols, cols, stage, key
        )
        if self.on_conflict == "nothing":
            return head + sql.SQL("DO NOTHING")
        if self.on_conflict == "newer":
            sets = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in self.columns
                if c not in self.key
            )
            return head + sql.SQL("DO UPDATE SET {} WHERE {}.revision < EXCLUDED.revision").format(
                sets, table
            )
        return head + sql.SQL(self.on_conflict)  # a constant of this module, not outside text


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
ALL = (REPORTS, INCIDENTS, TASKS, EVENTS, MERGE_WINDOW)


async def prepare(conn: AsyncConnection[Any]) -> None:
    """Create this connection's staging tables (emptied at every commit)."""
    for spec in ALL:
        await conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            ).format(sql.Identifier(spec.stage), sql.Identifier(spec.table.name))
        )
    await conn.commit()


def newest(rows: Iterable[Row], key: Sequence[str]) -> list[Row]:
    """One row per key, the highest revision (a statement may not touch a row twice)."""
    best: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        held = best.get(k)
        if held is None or row.get("revision", 0) >= held.get("revision", 0):
            best[k] = row
    return list(best.values())


async def upsert(conn: AsyncConnection[Any], spec: Upsert, rows: Sequence[Row]) -> int:
    """COPY `rows` into the staging table and upsert them; returns rows inserted or updated.

    One call per table per transaction: the staging tables empty themselves at commit.
    """
    if not rows:
        return 0
    columns, json_cols = spec.columns, spec.json_columns
    unique = newest(rows, spec.key)
    async with conn.cursor() as cur:
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(spec.stage), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        async with cur.copy(copy_sql) as copy:
            for row in unique:
                await copy.write_row(
                    tuple(Jsonb(row[c]) if c in json_cols and row[c] is not None else row[c] for c in columns)
                )
        await cur.execute(spec.sql())
        return cur.rowcount
