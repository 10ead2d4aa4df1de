"""A grid worker's task in full, for the phone page's detail view: the case and its deadlines,
every report the case covers (its own and those merged into it; reporters left out), their
photos and attachments, the place (the grid's outline, the point, links that open the phone's
map app in GCJ-02 / BD-09) and who to call on the desk above (the community lead, the street
center). Only the worker's own task; another worker's answers 404 like a missing one."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter
from pydantic import BaseModel

from dispatch.api import board
from dispatch.api.answers import ERRORS
from dispatch.api.errors import NotFound
from dispatch.api.state import State, Worker
from dispatch.api.views import deadlines, next_deadline
from geo.maplinks import map_links

router = APIRouter(prefix="/worker", tags=["grid worker"], responses=ERRORS)


class CaseReport(BaseModel):
    source: str
    received_at: datetime
    description: str
    address: str | None = None
    attachments: list[str] = []


class Contact(BaseModel):
    role: str
    name: str
    phone: str


class Place(BaseModel):
    lon: float
    lat: float
    address: str | None = None
    amap: str
    baidu: str
    grid_outline: dict[str, Any] | None = None  # GeoJSON geometry of the grid (WGS84)


class TaskDetail(BaseModel):
    task: dict[str, Any]
    incident: dict[str, Any]
    deadlines: dict[str, Any]
    due: str | None
    due_provisional: bool = False  # the deadline lies past the published holiday notice
    reports: list[CaseReport]
    place: Place | None
    contacts: list[Contact]


@router.get("/tasks/{task_id}/detail", response_model=TaskDetail)
async def task_detail(task_id: UUID, caller: Worker, state: State) -> TaskDetail:
    async with state.pool.connection() as conn:
        found = await board.worker_tasks(conn, caller.subject, str(task_id))
        if not found:
            raise NotFound()
        task = dict(found[0])
        incident = dict(task.pop("incident"))
        clocks = incident.pop("clocks", None)
        iid = incident["incident_id"]
        cur = await conn.execute(
            "SELECT source, received_at, description, address, "
            "coalesce(body->'attachments', '[]'::jsonb) FROM reports WHERE incident_id = %s "
            "OR incident_id IN (SELECT incident_id FROM incidents WHERE merged_into = %s) "
            "ORDER BY received_at",
            (iid, iid),
        )
        reports = [
            CaseReport(
                source=r[0],
                received_at=r[1],
                description=r[2],
                address=r[3],
                attachments=[str(a) for a in (r[4] or [])],
            )
            for r in await cur.fetchall()
        ]
        outline = None
        if incident.get("grid_code"):
            cur = await conn.execute(
                "SELECT ST_AsGeoJSON(geom, 6) FROM geo_grid WHERE code = %s ORDER BY version_id DESC LIMIT 1",
                (incident["grid_code"],),
            )
            row = await cur.fetchone()
            outline = orjson.loads(row[0]) if row and row[0] else None
        cur = await conn.execute(
            "SELECT force, name, phone FROM workers WHERE (force = 'community_lead' AND community_code = %s) "
            "OR (force = 'street_center' AND street_code = %s) ORDER BY force, worker_id",
            (incident.get("community_code"), incident.get("street_code")),
        )
        contacts = [Contact(role=r[0], name=r[1], phone=r[2]) for r in await cur.fetchall()]
    place = None
    if incident.get("lon") is not None and incident.get("lat") is not None:
        links = map_links(
            incident["lon"], incident["lat"], incident.get("address") or incident["description"]
        )
        place = Place(
            lon=incident["lon"],
            lat=incident["lat"],
            address=incident.get("address"),
            amap=links.amap,
            baidu=links.baidu,
            grid_outline=outline,
        )
    tk = state.flows.rules.tk
    due, provisional = next_deadline(clocks, tk)
    return TaskDetail(
        task=task,
        incident=incident,
        deadlines=deadlines(clocks, tk),
        due=due,
        due_provisional=provisional,
        reports=reports,
        place=place,
        contacts=contacts,
    )
