"""Redrawn grids reach open cases: `yiwang geo import --dry-run` counts the open cases a new
grid layer would move (nothing loaded), and the re-homing flow moves a dispatched case to the
grid now covering its point, with an event, and re-routes it away from a holder who no longer
covers it (real PostGIS and broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import mapping
from sqlalchemy import Engine, text

from config.settings import Settings
from deploy.cli import main
from dispatch.regrid.flows import RegridFlows
from geo.index import GridIndex
from geo.records import GridRecord, StreetRecord
from geo.reference import ReferenceDistrict
from tests.casework import harness, later, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
GRID = 777


def renamed(district: ReferenceDistrict) -> tuple[str, str]:
    old = district.grids[GRID].code
    return old, old[:12] + "987"


def redrawn_index(district: ReferenceDistrict, version: int) -> GridIndex:
    old, new = renamed(district)
    communities = {c.code: c.name for c in district.communities}
    streets = {s.code: s.name for s in district.streets}
    grids = [
        GridRecord(
            new if g.code == old else g.code,
            g.name,
            g.parent_code,
            communities[g.parent_code],
            g.street_code,
            streets[g.street_code],
            g.geometry,
        )
        for g in district.grids
    ]
    return GridIndex(
        grids,
        district_code=district.code,
        layer_version=version,
        streets=[StreetRecord(s.code, s.name, s.geometry) for s in district.streets],
        outline=district.outline,
    )


async def test_a_redraw_dry_run_counts_and_the_flow_rehomes_and_reroutes(
    *,
    kafka: Settings,
    engine: Engine,
    district: ReferenceDistrict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = renamed(district)
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, GRID)])
        cur = await h.conn.execute("SELECT state, assignee_id FROM incidents WHERE incident_id = %s", (iid,))
        state, holder = await cur.fetchone() or (None, None)
        assert state == "dispatched" and holder

        features = [
            {
                "type": "Feature",
                "id": f"g{i}",
                "properties": {"layer": "grid", "code": new if g.code == old else g.code, "name": g.name},
                "geometry": mapping(g.geometry),
            }
            for i, g in enumerate(district.grids)
        ]
        path = tmp_path / "redrawn.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        monkeypatch.setenv("YIWANG_PG_DATABASE", kafka.pg_database)
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT count(*) FROM geo_layer_version")).scalar_one()
        code = main(["geo", "import", str(path), "--effective-from", "2031-01-01", "--dry-run"])
        err = capsys.readouterr().err
        assert code == 0 and "dry run, nothing loaded" in err, err
        (line,) = [x for x in err.splitlines() if f"{old} → {new}:" in x]
        assert int(line.rsplit(":", 1)[1]) >= 1
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM geo_layer_version")).scalar_one() == versions

        later(h, minutes=2)
        regrid = RegridFlows(h.flows)
        moved = await regrid.rehome(h.conn, redrawn_index(district, 424242))
        assert iid in {m.point.incident_id for m in moved}
        assert await regrid.rehome(h.conn, redrawn_index(district, 424242)) == []  # done for this version
        cur = await h.conn.execute(
            "SELECT grid_code, layer_version, assignee_id FROM incidents WHERE incident_id = %s", (iid,)
        )
        assert (await cur.fetchone())[:2] == (new, 424242)  # type: ignore[index]
        cur = await h.conn.execute(
            "SELECT action, data FROM events WHERE incident_id = %s ORDER BY sequence", (iid,)
        )
        events = await cur.fetchall()
        assert [a for a, _ in events][-2:] == [
            "rehome",
            "reassign",
        ]  # the old grid's worker does not cover it
        rehome = events[-2][1]["rehome"]
        assert (rehome["from"]["grid_code"], rehome["to"]["grid_code"]) == (old, new)
        cur = await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (iid,))
        assert (await cur.fetchone())[0] != holder  # type: ignore[index]
