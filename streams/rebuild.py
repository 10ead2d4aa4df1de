"""`yiwang rebuild`: the dispatch tables again, from the topics they are a projection of.

Every row the pipeline writes is also published (`incidents` with the reports it absorbed,
`dispatch.tasks`, `dispatch.events`), so reading those topics from the beginning and
upserting with the same idempotent store code gives the same tables: for each incident and
task the newest revision wins, reports and events are insert-once, and a report split out of a
case follows its `split` event to the case it opened. The escalation policies the cases are
frozen on come back from `sla.policies` (dispatch/sla/published.py); a case whose policy is on
neither the topic nor the table is reported. The merge window is then derived from the open
incidents, and the CAP messages' rows (`cap_messages`) from `alerts.cap` and the rebuilt cases
(dispatch/alerts/restore.py). Run it with the workers stopped: it refuses while the intake
group has members.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaAdminClient
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from config.policy import load_taxonomy
from config.settings import Settings
from dispatch import store
from dispatch.alerts.flows import decode_record
from dispatch.alerts.restore import restore as restore_cap
from dispatch.alerts.rules import life_policy
from dispatch.merging import MergePolicy
from dispatch.search.phones import stamp_reports
from dispatch.sla.published import POLICY_TOPIC, read_policy_message
from schemas.cap_record import CAP_TOPIC, CapRecord
from streams.read import records_to_end
from streams.runtime import connect

log = logging.getLogger(__name__)
TABLES = ("merge_window", "events", "tasks", "reports", "incidents", "cap_messages")
BATCH = 5000


class RebuildRefused(RuntimeError):
    pass


@dataclass
class RebuildResult:
    messages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    missing_policies: list[str] = field(default_factory=list)
    """Policy ids that cases point at but that neither the topic nor the table holds."""

    def count(self, spec: store.Upsert, n: int) -> None:
        self.rows[spec.table.name] = self.rows.get(spec.table.name, 0) + n


def _read(settings: Settings, topic: str) -> Iterator[dict[str, Any]]:
    for record in records_to_end(settings.bootstrap_servers, settings.topic(topic)):
        yield orjson.loads(record.value)


def active_members(settings: Settings, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="yiwang-rebuild")
    try:
        described = admin.describe_groups([group])
    finally:
        admin.close()
    return sum(len(g.get("members") or []) for g in described.values())


async def _flush(conn: AsyncConnection[Any], spec: store.Upsert, rows: list[dict[str, Any]]) -> int:
    async with conn.transaction():
        return await store.upsert(conn, spec, rows)


async def rebuild(settings: Settings, *, force: bool = False) -> RebuildResult:
    group = settings.topic("yiwang-intake")
    if not force and active_members(settings, group):
        raise RebuildRefused(
            f"consumer group {group} has running members: stop the workers first (or pass --force)"
        )
    result = RebuildResult()
    conn = await connect(settings)
    try:
        async with conn.transaction():
            await conn.execute("TRUNCATE " + ", ".join(TABLES))
        plan: dict[str, list[tuple[store.Upsert, str]]] = {
            "incidents": [(store.INCIDENTS, "incident"), (store.REPORTS, "reports")],
            "dispatch.tasks": [(store.TASKS, "task")],
            "dispatch.events": [(store.EVENTS, "event")],
        }
        await _restore_policies(settings, conn, result)
        for topic, targets in plan.items():
            pending: dict[store.Upsert, list[dict[str, Any]]] = {spec: [] for spec, _ in targets}
            for doc in _read(settings, topic):
                result.messages += 1
                for spec, key in targets:
                    value = doc.get(key)
                    rows = value if isinstance(value, list) else [value] if value else []
                    if spec is store.REPORTS:
                        stamp_reports(rows, settings.search_key)  # older documents carry no hash
                    if spec is store.EVENTS:
                        for row in rows:  # older events name no district: their case's, below
                            row.setdefault("district_code", None)
                    pending[spec].extend(rows)
                    if len(pending[spec]) >= BATCH:
                        result.count(spec, await _flush(conn, spec, pending[spec]))
                        pending[spec] = []
            for spec, rows in pending.items():
                result.count(spec, await _flush(conn, spec, rows))
            log.info("rebuild: %s read; rows so far %s", topic, result.rows)
        async with conn.transaction():
            # a report split out of a case (a `split` event) belongs to the case it opened
            await conn.execute(
                "UPDATE reports r SET incident_id = (e.data->'split'->>'into')::uuid, merged = false "
                "FROM events e "
                "WHERE e.action = 'split' AND r.report_id = (e.data->'split'->>'report_id')::uuid"
            )
            await conn.execute(
                "UPDATE events e SET district_code = i.district_code FROM incidents i "
                "WHERE e.district_code IS NULL AND i.incident_id = e.incident_id"
            )
        taxonomy = load_taxonomy()
        policy = MergePolicy.load(taxonomy=taxonomy)
        codes = sorted(taxonomy.categories)
        async with conn.transaction():
            cur = await conn.execute(
                "INSERT INTO merge_window (incident_id, family, problem, priority, lead_department, "
                "street_code, geom, first_at, last_at) "
                "SELECT i.incident_id, i.family, c.problem, i.priority, c.lead, i.street_code, i.geom, "
                "i.first_reported_at, i.last_reported_at "
                "FROM incidents i JOIN unnest(%s::text[], %s::text[], %s::text[]) AS c(code, problem, lead) "
                "ON c.code = i.category "
                "WHERE i.geom IS NOT NULL AND i.state NOT IN ('closed', 'merged', 'rejected') "
                "AND i.last_reported_at >= now() - 2 * %s::interval",
                (
                    codes,
                    [policy.problem_of(c) for c in codes],
                    [taxonomy.categories[c].lead_department for c in codes],
                    policy.window,
                ),
            )
            result.rows["merge_window"] = cur.rowcount
        await _restore_cap_messages(settings, conn, result)
        cur = await conn.execute(
            "SELECT DISTINCT policy_id FROM incidents i WHERE NOT EXISTS "
            "(SELECT 1 FROM sla_policies p WHERE p.policy_id = i.policy_id) ORDER BY 1"
        )
        result.missing_policies = [row[0] for row in await cur.fetchall()]
    finally:
        await conn.close()
    return result


async def _restore_policies(settings: Settings, conn: AsyncConnection[Any], result: RebuildResult) -> None:
    """Insert-once by fingerprint: policies already in the table stay as they are."""
    rows = []
    for record in records_to_end(settings.bootstrap_servers, settings.topic(POLICY_TOPIC)):
        result.messages += 1
        policy = read_policy_message(record.value)
        rows.append((policy.policy_id, Jsonb(policy.body)))
    async with conn.transaction(), conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO sla_policies (policy_id, body) VALUES (%s, %s) ON CONFLICT DO NOTHING", rows
        )
    result.rows["sla_policies"] = len({policy_id for policy_id, _ in rows})


async def _restore_cap_messages(
    settings: Settings, conn: AsyncConnection[Any], result: RebuildResult
) -> None:
    """The CAP messages' rows, once the cases they lead to are back; unreadable records were
    dead-lettered by the agent when they came and are skipped here too."""
    records: list[CapRecord] = []
    for record in records_to_end(settings.bootstrap_servers, settings.topic(CAP_TOPIC)):
        result.messages += 1
        decoded = decode_record(record.value)
        if isinstance(decoded, CapRecord):
            records.append(decoded)
    result.rows["cap_messages"] = await restore_cap(conn, records, settings.clock()(), life_policy())


def run_rebuild(settings: Settings, *, force: bool = False) -> RebuildResult:
    return asyncio.run(rebuild(settings, force=force))
