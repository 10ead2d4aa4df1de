"""Placement without a point, and alerts outside the district, through the real intake: the
CAP specification's own examples are recorded as out of area and never dispatched; a geocode or
an address naming a street or community goes to that desk."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.kpi.queries import out_of_area
from geo.reference import ReferenceDistrict
from schemas.report import Location, Raw, RawFormat, Report, report_id_for
from tests.casework import harness
from tests.dispatch.cases.test_alerts_flow import adapted
from tests.producers.test_adapters import CAP_THUNDERSTORM

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]

CAP_HSAS = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>43b080713727</identifier>
  <sender>hsas@dhs.gov</sender>
  <sent>2003-04-02T14:39:01-05:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Security</category>
    <event>Homeland Security Advisory System Update</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <senderName>U.S. Government, Department of Homeland Security</senderName>
    <headline>Homeland Security Sets Code ORANGE</headline>
    <description>The Department of Homeland Security has elevated the Homeland Security Advisory System
      threat level to ORANGE / High in response to intelligence which may indicate a heightened threat
      of terrorism.</description>
    <parameter><valueName>HSAS</valueName><value>ORANGE</value></parameter>
    <area>
      <areaDesc>U.S. nationwide and interests worldwide</areaDesc>
    </area>
  </info>
</alert>"""


def geocoded(identifier: str, code: str, now: datetime) -> bytes:
    return f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>500106@12379.cn</sender>
  <sent>{now.isoformat()}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>zh-CN</language><category>Met</category><event>暴雨</event>
    <urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>
    <headline>暴雨黄色预警</headline>
    <area><geocode><valueName>行政区划代码</valueName><value>{code}</value></geocode></area>
  </info></alert>""".encode()


async def placed(conn: Any, incident_id: str) -> dict[str, Any]:
    cur = await conn.execute(
        "SELECT jsonb_build_object('state', i.state, 'street', i.street_code, 'community', i.community_code, "
        "'grid', i.grid_code, 'reason', i.placement_reason, 'placement', r.placement, "
        "'tasks', (SELECT count(*) FROM tasks t WHERE t.incident_id = i.incident_id)) "
        "FROM incidents i JOIN reports r USING (incident_id) WHERE i.incident_id = %s",
        (incident_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return dict(row[0])


async def test_the_cap_specification_examples_are_out_of_area_and_never_dispatched(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (storm,), _ = adapted(CAP_THUNDERSTORM, h.now[0])
        (hsas,), _ = adapted(CAP_HSAS, h.now[0])
        for incident_id in await h.report([storm, hsas]):
            where = await placed(h.conn, incident_id)
            assert (where["state"], where["placement"], where["tasks"], where["street"]) == (
                "reported",
                "outside",
                0,
                None,
            ), where
            assert "wholly outside the district (500106)" in where["reason"]
        around = {"since": h.now[0] - timedelta(hours=1), "until": h.now[0] + timedelta(hours=1)}
        assert await out_of_area(h.conn, **around) == 2  # counted (the KPI answer and the gauge)
        metrics = DispatchMetrics.create(registry := CollectorRegistry())
        await metrics.refresh(h.conn, h.now[0] + timedelta(minutes=1))
        assert registry.get_sample_value("yiwang_reports_out_of_area") == 2.0


async def test_a_geocode_or_a_named_street_or_community_goes_to_that_desk(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        street = district.streets[3]
        (alert,), _ = adapted(geocoded(f"G-{uuid.uuid4().hex[:8]}", street.code, h.now[0]), h.now[0])
        ref = f"H-{uuid.uuid4().hex[:10]}"
        hotline = Report(
            report_id=report_id_for("hotline", ref),
            source="hotline",
            source_ref=ref,
            reported_at=h.now[0],
            received_at=h.now[0],
            category="streetlight_out",
            priority="P3",
            location=Location(address="沙坪坝区歌乐山街道高店子社区 路灯不亮"),
            description="路灯不亮",
            raw=Raw(format=RawFormat.JSON, text="{}"),
        )
        by_code, by_name = await h.report([alert, hotline])
        coded = await placed(h.conn, by_code)
        assert (coded["placement"], coded["street"], coded["grid"]) == ("desk", street.code, None)
        assert coded["state"] == "dispatched" and coded["tasks"] == 1
        assert f"administrative code {street.code}" in coded["reason"]
        named = await placed(h.conn, by_name)
        assert (named["placement"], named["grid"], named["state"]) == ("desk", None, "dispatched")
        assert named["community"] is not None and named["community"].startswith("500106009")
        assert "names community 高店子社区" in named["reason"]
