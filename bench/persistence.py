"""Batched, idempotent writes of dispatch rows: rows/s of `dispatch.store.upsert` per table
(binary COPY into a staging table, then one INSERT … ON CONFLICT), beside PostgreSQL's own bulk
path (COPY into an unlogged, unindexed copy of the table) on the same rows in the same run,
beside the other write path (one INSERT … SELECT FROM unnest), and beside the target
(docs/architecture.md: >= 50,000 rows/s, never one
commit per row).

    .venv/bin/python -m bench.persistence [--rows 20000] [--batch 1000]

Rows come from the real intake rules (opened cases for reports spread over the district).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb
from sqlalchemy import create_engine

from bench.harness import isolated
from bench.sla_recovery import _located, _report_stub
from config.settings import Settings
from dispatch import store
from dispatch.directory import Directory
from dispatch.intake.rules import IntakeRules, Opened
from dispatch.rows import event_row, incident_row, task_row
from streams.runtime import connect

TARGET = 50_000
TARGETS = {"incidents": 30_000}  # the incident upsert's own target (docs/architecture.md)


def _rows(settings: Settings, n: int) -> dict[str, list[dict[str, Any]]]:
    rules = IntakeRules.load()
    engine = create_engine(settings.db_url)
    with engine.connect() as c:
        directory = Directory.load(c)
    engine.dispose()
    now = datetime.now(UTC)
    reports = _located(n, 9)
    out: dict[str, list[dict[str, Any]]] = {"incidents": [], "tasks": [], "events": []}
    for start in range(0, n, 2000):
        batch = reports[start : start + 2000]
        candidates = directory.for_batch(batch, {}, at=now, calendar=rules.tk.working)
        for d in rules.decide(batch, nearby=[[] for _ in batch], candidates=candidates, now=now):
            if not isinstance(d, Opened):
                continue
            out["incidents"].append(incident_row(d, _report_stub(d), now=now, policy_id="bench"))
            task = task_row(d, now=now)
            if task:
                out["tasks"].append(task)
            out["events"] += [
                event_row(e, grid_code=d.report.grid_code, district_code=d.report.district_code, task_id=None)
                for e in d.events
            ]
    return out


async def _upsert_rate(
    conn: AsyncConnection[Any], spec: store.Upsert, rows: list[dict[str, Any]], batch: int
) -> tuple[float, float]:
    """Rows/s of `store.upsert` (staged by binary COPY at these batch sizes), and the writer's
    own CPU per row in µs (what the worker pays, beside the server)."""
    t, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(rows), batch):
        async with conn.transaction():
            await store.upsert(conn, spec, rows[start : start + batch])
    return len(rows) / (time.perf_counter() - t), (time.process_time() - cpu) / len(rows) * 1e6


async def _unnest_rate(
    conn: AsyncConnection[Any], spec: store.Upsert, rows: list[dict[str, Any]], batch: int
) -> float:
    """Rows/s of the other write path, one `INSERT … SELECT FROM unnest` per batch (`store.send`),
    on a fresh copy of the table with the same indexes."""
    await conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.Identifier(spec.table.name)))
    t = time.perf_counter()
    for start in range(0, len(rows), batch):
        async with conn.transaction():
            await store.send(conn, spec, rows[start : start + batch])
    return len(rows) / (time.perf_counter() - t)


async def _copy_rate(
    conn: AsyncConnection[Any], spec: store.Upsert, rows: list[dict[str, Any]], batch: int
) -> float:
    table = sql.Identifier(f"bench_copy_{spec.table.name}")
    await conn.execute(
        sql.SQL("CREATE UNLOGGED TABLE {} (LIKE {})").format(table, sql.Identifier(spec.table.name))
    )
    names = [c.name for c in spec.columns]
    json_cols = {c.name for c in spec.columns if c.kind == "json"}
    t = time.perf_counter()
    for start in range(0, len(rows), batch):
        async with conn.transaction(), conn.cursor() as cur:
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                table, sql.SQL(", ").join(map(sql.Identifier, names))
            )
            async with cur.copy(copy_sql) as copy:
                for row in rows[start : start + batch]:
                    await copy.write_row(
                        [Jsonb(row[c]) if c in json_cols and row[c] is not None else row[c] for c in names]
                    )
    return len(rows) / (time.perf_counter() - t)


async def _run(settings: Settings, rows: dict[str, list[dict[str, Any]]], batch: int) -> None:
    conn = await connect(settings)
    specs = {"incidents": store.INCIDENTS, "tasks": store.TASKS, "events": store.EVENTS}
    print(
        f"\n{'table':<12}{'rows':>9}{'upsert rows/s':>16}{'COPY rows/s':>14}{'x COPY':>9}{'x target':>10}"
        f"{'client µs/row':>15}"
    )
    for name, spec in specs.items():
        upsert, client_us = await _upsert_rate(conn, spec, rows[name], batch)
        copy = await _copy_rate(conn, spec, rows[name], batch)
        target = TARGETS.get(name, TARGET)
        print(
            f"{name:<12}{len(rows[name]):>9,}{upsert:>16,.0f}{copy:>14,.0f}"
            f"{upsert / copy:>9.2f}{upsert / target:>10.2f}{client_us:>15.1f}"
        )
    print("the other write path, one INSERT … SELECT FROM unnest per batch (rows/s):")
    for name, spec in specs.items():
        print(f"{name + ' (unnest)':<21}{await _unnest_rate(conn, spec, rows[name], batch):>16,.0f}")
    replay, _ = await _upsert_rate(conn, store.EVENTS, rows["events"], batch)
    print(
        f"{'events again':<12}{len(rows['events']):>9,}{replay:>16,.0f}{'':>23}{replay / TARGET:>10.2f}"
        "   (a replay: every row a conflict, nothing written)"
    )
    await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000, help="reports whose cases are written")
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    with isolated(Settings(), "persist") as settings:
        rows = _rows(settings, args.rows)
        asyncio.run(_run(settings, rows, args.batch))


if __name__ == "__main__":
    main()
