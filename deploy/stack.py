"""`yiwang up`, `down` and `status`: the services, topics and schema, idempotently."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from config.topics import load_topics
from deploy import migrate, running
from deploy.cluster_health import cluster_view
from deploy.services.common import ServiceError, say
from deploy.services.kafka import LocalKafka, broker_reachable, pinned_version
from deploy.services.postgres import LocalPostgres
from deploy.topics import admin_client, ensure_topics, partition_counts
from dispatch.calendar.cli import calendar_now
from dispatch.sla.policy_book import load_policy_book
from streams.lag import total_lag
from streams.worker import INTAKE_APP_ID, report_topics

CALENDAR_WARNING_DAYS = 30
"""Warn this long before working-time deadlines become provisional (the alert rule's margin)."""


@dataclass
class UpReport:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def up(settings: Settings, *, migrate_database: bool = True) -> UpReport:
    """Services, topics and (unless told not to) the schema of the configured database."""
    report = UpReport()
    _kafka_up(settings, report)
    _postgres_up(settings, report)
    _topics_up(settings, report)
    if migrate_database:
        before, after = migrate.upgrade(settings.db_url, search_key=settings.search_key)
        if before != after:
            report.changes.append(f"migrated database {before or 'empty'} -> {after}")
        else:
            report.notes.append(f"database schema at head ({after})")
    return report


def _kafka_up(settings: Settings, report: UpReport) -> None:
    if settings.uses_local_kafka:
        outcome = LocalKafka(settings).start()
        shape = (
            ""
            if settings.kafka_brokers == 1
            else f" ({settings.kafka_brokers} KRaft nodes, replication factor "
            f"{settings.replication_factor}, min.insync.replicas {settings.min_insync_replicas})"
        )
        (report.changes if outcome == "started" else report.notes).append(
            f"Kafka {pinned_version()} {outcome} at {settings.bootstrap_servers}{shape}"
        )
        return
    if not broker_reachable(settings.bootstrap_servers):
        raise ServiceError(
            f"KAFKA_BOOTSTRAP_SERVERS={settings.bootstrap_servers} does not answer: "
            "check the address, or unset it to use the local broker"
        )
    report.notes.append(f"Kafka: using existing broker at {settings.bootstrap_servers}")


def _postgres_up(settings: Settings, report: UpReport) -> None:
    if not settings.uses_local_db:
        check_database(settings)
        report.notes.append(f"PostgreSQL: using existing database {masked_url(settings.db_url)}")
        return
    pg = LocalPostgres(settings)
    outcome = pg.start()
    (report.changes if outcome == "started" else report.notes).append(
        f"PostgreSQL {outcome} on 127.0.0.1:{settings.pg_port}"
    )
    if pg.ensure_database():
        report.changes.append(f"created database {settings.pg_database} with PostGIS")


def _topics_up(settings: Settings, report: UpReport) -> None:
    admin = admin_client(settings)
    try:
        topics = ensure_topics(admin, load_topics(), settings)
    finally:
        admin.close()
    if topics.created:
        report.changes.append(f"created {len(topics.created)} topics: {', '.join(topics.created)}")
    else:
        report.notes.append(f"all {len(topics.existing)} declared topics present")
    for line in topics.mismatched:
        report.notes.append(f"WARNING topic {line}")


def down(settings: Settings) -> list[str]:
    """Stop the local services that `up` manages; never an external one."""
    stopped = []
    if settings.uses_local_kafka and LocalKafka(settings).stop():
        stopped.append("Kafka")
    if settings.uses_local_db and LocalPostgres(settings).stop():
        stopped.append("PostgreSQL")
    return stopped


def check_database(settings: Settings) -> None:
    try:
        engine = create_engine(settings.db_url, poolclass=pool.NullPool, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except SQLAlchemyError as exc:
        raise ServiceError(
            f"DATABASE_URL {masked_url(settings.db_url)} does not answer: "
            f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}"
        ) from exc


def masked_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def quiet_kafka_client() -> Iterator[None]:
    """kafka-python logs every refused connection (ERROR/WARNING, ~20 lines while a broker is
    down); `status` says "DOWN" once instead."""
    logger = logging.getLogger("kafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def status(settings: Settings) -> dict[str, Any]:
    """Everything a person needs first when something is wrong, as plain data."""
    with quiet_kafka_client():
        return _status(settings)


def pipeline_status(settings: Settings, *, kafka_reachable: bool) -> dict[str, Any]:
    """The runs of this home (their stages' pids, ports, health), the intake's consumer lag,
    and whether the configured API port answers at all (an API started by hand)."""
    runs: list[dict[str, Any]] = [
        {
            "supervisor": record.supervisor,
            "started_at": record.started_at,
            "record": str(path),
            "stages": [running.stage_health(stage, record.api_host) for stage in record.stages],
        }
        for path, record in running.live_runs(settings)
    ]
    lag = (
        total_lag(settings.bootstrap_servers, settings.topic(INTAKE_APP_ID), report_topics(settings))
        if kafka_reachable
        else None
    )
    port = settings.api_port
    return {
        "runs": runs,
        "intake_group": settings.topic(INTAKE_APP_ID),
        "intake_lag": lag,
        "api": {"port": port, "answers": running.answers(f"http://{settings.api_host}:{port}/health")},
        "ok": all(s["healthy"] for r in runs for s in r["stages"]),
    }


def _status(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kafka: dict[str, Any] = {
        "mode": "local" if settings.uses_local_kafka else "external",
        "bootstrap_servers": settings.bootstrap_servers,
    }
    if settings.uses_local_kafka:
        local = LocalKafka(settings)
        kafka |= {
            "version": local.version,
            "pid": local.pid(),
            "pids": local.pids(),
            "expected_brokers": settings.kafka_brokers,
            "log": str(local.log_file),
        }
    kafka["reachable"] = broker_reachable(settings.bootstrap_servers, timeout_ms=3000)
    topics: list[dict[str, Any]] = []
    if kafka["reachable"]:
        admin = admin_client(settings)
        try:
            kafka["broker_api_version"] = ".".join(map(str, admin._client.check_version()))
            declared = load_topics()
            view = cluster_view(admin, [settings.topic(s.name) for s in declared])
            kafka["brokers"] = [
                {"node_id": b.node_id, "address": b.address, "fenced": b.fenced} for b in view.brokers
            ]
            kafka["controller"] = view.controller
            kafka["under_replicated"] = [
                {"topic": p.topic, "partition": p.partition, "replicas": list(p.replicas), "isr": list(p.isr)}
                for p in view.under_replicated
            ]
            counts = partition_counts(admin, [settings.topic(s.name) for s in declared])
            for spec in declared:
                actual = counts.get(settings.topic(spec.name))
                topics.append(
                    {
                        "name": settings.topic(spec.name),
                        "declared": spec.partitions,
                        "actual": actual,
                        "ok": actual == spec.partitions,
                    }
                )
        finally:
            admin.close()
    out["kafka"] = kafka
    out["topics"] = topics

    db: dict[str, Any] = {
        "mode": "local" if settings.uses_local_db else "external",
        "url": masked_url(settings.db_url),
    }
    if settings.uses_local_db:
        pg = LocalPostgres(settings)
        state = pg.state()
        db |= {
            "installed": state.installed,
            "cluster": state.cluster_exists,
            "running": state.running,
            "log": str(pg.log_file),
        }
    try:
        engine = create_engine(settings.db_url, poolclass=pool.NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            db["postgresql"] = conn.execute(text("SHOW server_version")).scalar_one()
            db["postgis"] = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            ).scalar_one_or_none()
        engine.dispose()
        db["reachable"] = True
        db["migration_current"] = migrate.current_revision(settings.db_url)
    except SQLAlchemyError as exc:
        db["reachable"] = False
        db["error"] = str(getattr(exc, "orig", exc)).splitlines()[0]
    db["migration_head"] = migrate.head_revision()
    out["database"] = db
    migrated = db["reachable"] and db.get("migration_current") == db["migration_head"]
    calendar = calendar_now(settings)[0] if migrated else load_policy_book().tk.working
    days_left = (calendar.authoritative_until - datetime.now(calendar.tz)).days
    out["calendar"] = {
        "authoritative_until": calendar.authoritative_until.isoformat(),
        "provisional_until": calendar.horizon.isoformat(),
        "revision": calendar.revision,
        "days_left": days_left,
        "ok": days_left >= CALENDAR_WARNING_DAYS,
    }
    out["pipeline"] = pipeline_status(settings, kafka_reachable=kafka["reachable"])
    out["healthy"] = bool(
        out["pipeline"]["ok"]
        and kafka["reachable"]
        and not kafka.get("under_replicated")
        and len(kafka.get("brokers", [])) >= kafka.get("expected_brokers", 1)
        and db["reachable"]
        and all(t["ok"] for t in topics)
        and db.get("migration_current") == db["migration_head"]
    )
    return out


def print_status(data: dict[str, Any]) -> None:
    k, d = data["kafka"], data["database"]
    mark = {True: "up", False: "DOWN"}
    lines = [
        f"Kafka      {mark[k['reachable']]:4}  {k['mode']} {k['bootstrap_servers']}"
        + (f"  jars {k['version']}" if "version" in k else "")
        + (f"  broker API {k['broker_api_version']}" if "broker_api_version" in k else "")
        + (f"  pid {k['pid']}" if k.get("pid") else ""),
    ]
    if "log" in k:
        lines.append(f"           log {k['log']}")
    if k.get("brokers"):
        controller = k.get("controller")
        for b in k["brokers"]:
            role = "  active controller" if b["node_id"] == controller else ""
            fenced = "  FENCED" if b["fenced"] else ""
            lines.append(f"           broker {b['node_id']} {b['address']}{role}{fenced}")
        if k.get("expected_brokers", 1) > len(k["brokers"]):
            missing = k["expected_brokers"] - len(k["brokers"])
            lines.append(f"           DOWN: {missing} of our brokers missing")
        if controller is None:
            lines.append("           no active controller (an election is running)")
        under = k.get("under_replicated", [])
        lines.append(
            f"Replicas   {'ok' if not under else 'UNDER':4}  {len(under)} under-replicated partitions"
        )
        for u in under[:20]:
            lines.append(f"           {u['topic']}[{u['partition']}] in sync {u['isr']} of {u['replicas']}")
    lines.append(
        f"PostGIS    {mark[d['reachable']]:4}  {d['mode']} {d['url']}"
        + (
            f"  PostgreSQL {d['postgresql']}, PostGIS {d['postgis']}"
            if d["reachable"]
            else f"  ({d.get('error', 'unreachable')})"
        )
    )
    if "log" in d:
        lines.append(f"           log {d['log']}")
    current = d.get("migration_current")
    lines.append(
        f"Schema     {'ok' if current == d['migration_head'] else 'BEHIND':4}  "
        f"database at {current or '-'}, code head {d['migration_head']}"
    )
    cal = data["calendar"]
    lines.append(
        f"Calendar   {'ok' if cal['ok'] else 'SOON':4}  authoritative until {cal['authoritative_until']} "
        f"({cal['days_left']} days left), provisional until {cal['provisional_until']}"
        + ("" if cal["ok"] else ": import the State Council's notice (yiwang calendar import FILE)")
    )
    topics = data["topics"]
    bad = [t for t in topics if not t["ok"]]
    lines.append(
        f"Topics     {'ok' if topics and not bad else 'CHECK':4}  "
        f"{len(topics) - len(bad)}/{len(topics)} as declared"
    )
    for t in topics:
        actual = "missing" if t["actual"] is None else f"{t['actual']} partitions"
        flag = "" if t["ok"] else f"   <- declared {t['declared']}"
        lines.append(f"           {t['name']:28} {actual}{flag}")
    lines += pipeline_lines(data["pipeline"])
    print("\n".join(lines))
    say("healthy" if data["healthy"] else "NOT healthy: see the lines marked above")


def pipeline_lines(p: dict[str, Any]) -> list[str]:
    """`yiwang run`'s stages (pid, port, health), the intake's lag, the API port."""
    lag = p["intake_lag"]
    lag_text = (
        "lag unknown (Kafka down or the group moving)" if lag is None else f"consumer lag {lag} records"
    )
    lines = []
    if not p["runs"]:
        lines.append(f"Pipeline   {'-':4}  no `yiwang run` of this home is running")
    for run in p["runs"]:
        ok = all(s["healthy"] for s in run["stages"])
        lines.append(
            f"Pipeline   {'ok' if ok else 'CHECK':4}  `yiwang run` pid {run['supervisor']} "
            f"since {run['started_at']}"
        )
        for st in run["stages"]:
            state = "up" if st["healthy"] else ("no answer" if st["alive"] else "DOWN")
            port = f":{st['port']}" if st["port"] else "-"
            lines.append(
                f"           {st['name']:12} {state:9} pid {st['pid']:<8} port {port:6} log {st['log']}"
            )
    lines.append(f"Intake     {'ok' if lag is not None else '?':4}  group {p['intake_group']}, {lag_text}")
    api = p["api"]
    lines.append(
        f"API port   {'up' if api['answers'] else '-':4}  :{api['port']} "
        + ("answers /health" if api["answers"] else "nothing answers /health")
    )
    return lines
