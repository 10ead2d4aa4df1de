"""`yiwang geo …` and `yiwang locate …` end to end against the session database."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from shapely.geometry import mapping

from config.settings import Settings
from deploy.cli import main
from geo.coords import wgs84_to_gcj02
from geo.reference import ReferenceDistrict

pytestmark = pytest.mark.db


@pytest.fixture
def cli_env(services: Settings, loaded: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's own Settings() at the session's test database."""
    monkeypatch.setenv("YIWANG_PG_DATABASE", services.pg_database)
    if services.database_url:
        monkeypatch.setenv("DATABASE_URL", services.database_url)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_locate_point_in_each_crs(
    cli_env: None, reference: ReferenceDistrict, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = reference.grids[300]
    p = grid.geometry.representative_point()
    code, out, _ = run(capsys, "locate", str(p.x), str(p.y))
    assert code == 0
    answer = json.loads(out)
    assert (answer["grid_code"], answer["community_code"], answer["street_code"]) == (
        grid.code,
        grid.parent_code,
        grid.street_code,
    )
    assert (
        answer["street_name"] == reference.street(grid.street_code).name and answer["fallback_reason"] is None
    )
    glon, glat = wgs84_to_gcj02(p.x, p.y)
    code, out, _ = run(capsys, "locate", str(glon), str(glat), "--crs", "gcj02")
    assert json.loads(out)["grid_code"] == grid.code


def test_locate_outside_and_by_address(
    cli_env: None, reference: ReferenceDistrict, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "locate", "106.0", "29.0")
    answer = json.loads(out)
    assert code == 0 and answer["grid_code"] is None and "属地兜底" in answer["fallback_reason"]
    b = reference.buildings[4321]
    code, out, _ = run(capsys, "locate", "--address", b.address.replace("重庆市", "重庆市 ") + "2单元301")
    answer = json.loads(out)
    assert answer["grid_code"] == b.grid_code and answer["address_match"]["building_id"] == b.building_id
    code, out, _ = run(capsys, "locate", "--address", "火星路1号")
    assert json.loads(out)["fallback_reason"].startswith("address not found in the gazetteer")
    code, out, err = run(capsys, "locate", "106.4", "29.6", "--at", "2001-01-01")
    assert code == 1 and "no layer version in force" in err


def test_geo_load_and_import(
    cli_env: None, reference: ReferenceDistrict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "geo", "load")
    assert code == 0 and "nothing changed" in err
    g = reference.grids[0]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "mine-1",
                "properties": {"layer": "grid", "code": g.code, "name": "x"},
                "geometry": mapping(g.geometry.buffer(0.01)),
            }
        ],
    }
    path = tmp_path / "grids.geojson.gz"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    code, _, err = run(capsys, "geo", "import", str(path), "--effective-from", "2030-01-01")
    assert code == 1 and "nothing was loaded" in err and "feature mine-1" in err
