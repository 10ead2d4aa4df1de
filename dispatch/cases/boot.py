"""Building the case flows of a process: rules, people, a database connection.

Blocking loads (policies from config/, the workforce directory from PostgreSQL) are plain
functions the caller runs in a thread; nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import psycopg
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from config.policy import Taxonomy
from config.settings import Settings
from dispatch.cases.people import People
from dispatch.directory import Directory
from dispatch.intake.rules import IntakeRules
from dispatch.sla.ladder import EscalationPolicy
from dispatch.sla.policy_book import PolicyBook


def libpq_url(db_url: str) -> str:
    """The SQLAlchemy URL as a plain libpq URL for psycopg."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_people(engine: Engine, taxonomy: Taxonomy) -> People:
    with engine.connect() as conn:
        directory = Directory.load(conn)
    return People(directory, {c.code: c.lead_department for c in taxonomy.categories.values()})


async def rules_and_people(db_url: str) -> tuple[IntakeRules, People]:
    """The intake's rules (config/) and the people (PostgreSQL), each loaded in a thread: what a
    process without an engine of its own (a small agent, a command) writes cases from."""
    rules = await asyncio.to_thread(IntakeRules.load)
    engine = create_engine(db_url, pool_size=1)
    try:
        people = await asyncio.to_thread(load_people, engine, rules.taxonomy)
    finally:
        engine.dispose()
    return rules, people


async def prepare(conn: AsyncConnection[Any]) -> None:
    """A connection for the flows: JSONB written through orjson (aware datetimes native) and
    read through it (the SLA tracker reads every claimed case as one document: the standard
    library's parser was a tenth of a pass)."""
    set_json_dumps(_orjson_text, conn)
    set_json_loads(orjson.loads, conn)


def _orjson_text(obj: Any) -> str:
    return orjson.dumps(obj).decode()


async def connect(settings: Settings, *, application_name: str) -> AsyncConnection[Any]:
    """An autocommit connection: every unit of work opens its own `conn.transaction()`."""
    conn = await psycopg.AsyncConnection.connect(
        libpq_url(settings.db_url),
        options="-c TimeZone=UTC",
        application_name=application_name,
        autocommit=True,
    )
    await prepare(conn)
    return conn


async def store_policy(conn: AsyncConnection[Any], policy: EscalationPolicy) -> None:
    """The escalation policy in force, stored once by fingerprint (cases point at it)."""
    await conn.execute(
        "INSERT INTO sla_policies (policy_id, body) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (policy.fingerprint, Jsonb(policy.to_document())),
    )


async def store_policies(conn: AsyncConnection[Any], book: PolicyBook) -> None:
    """Every ladder of the policy book (the shared one and each district's), stored once each."""
    for policy in book.escalations():
        await store_policy(conn, policy)
