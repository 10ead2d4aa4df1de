"""`INCIDENT_JSON`, the incident document every reader and the intake's merge UPDATE return,
is the whole row with its point as EWKT: the same document `to_jsonb(i.*)` with the geometry
replaced gave before it was listed column by column (0025_write_cost's round, issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.queries import INCIDENT_JSON
from geo.reference import ReferenceDistrict
from tests.casework import harness, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]

WHOLE_ROW = sql.SQL(
    "to_jsonb(i.*) - 'geom' || jsonb_build_object("
    "'geom', CASE WHEN i.geom IS NULL THEN NULL ELSE 'SRID=4326;' || ST_AsText(i.geom, 17) END)"
)


async def _documents(conn: Any, incident_ids: list[str]) -> list[tuple[Any, Any]]:
    cur = await conn.execute(
        sql.SQL("SELECT {}, {} FROM incidents i WHERE incident_id = ANY(%s::uuid[])").format(
            INCIDENT_JSON, WHOLE_ROW
        ),
        (incident_ids,),
    )
    return list(await cur.fetchall())


async def test_the_listed_document_is_the_whole_row_with_its_point_as_ewkt(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        first = report_in(district, 120)
        (iid,) = await h.report([first])
        # a second report on the same spot merges: the merge UPDATE returns the listed document
        (merged,) = await h.report([report_in(district, 120, source="police", offset_m=3.0)])
        assert merged == iid
        ((listed, whole),) = await _documents(h.conn, [iid])
        assert listed == whole
        assert listed["report_count"] == 2 and listed["sources"] == ["hotline", "police"]
        assert listed["geom"].startswith("SRID=4326;POINT(")
        assert set(listed) == set(whole) and "case" in listed and "clocks" in listed
