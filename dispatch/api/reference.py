"""Reference data the pages draw with: the layers in force (district, streets, communities,
grids as GeoJSON) and the category vocabulary (Chinese and English names, priorities).

Rings are wound clockwise (`ST_ForcePolygonCW`), the order spherical renderers such as
d3-geo read as "this area" rather than "everything but it". Scoped like every operator
query (`dispatch.scope`): a street operator gets their street, its communities and its grids,
a district operator their district's layers, the city operator every district's.
Coordinates are rounded to 5 decimals (about 1 m), plenty for a board.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from config.policy import Taxonomy
from dispatch.scope import Level, Scope

Row = dict[str, Any]
Conn = AsyncConnection[Any]
PRECISION = 5

IN_FORCE = """
SELECT DISTINCT ON (district_code) id, district_code, effective_from FROM geo_layer_version
WHERE effective_from <= now() AND (effective_to IS NULL OR effective_to > now())
ORDER BY district_code, effective_from DESC, id DESC
"""
"""The layer version in force of each district (one deployment may serve several)."""

_LAYERS = {  # layer -> (table, parent column, its area columns for the scope's clause)
    "streets": ("geo_street", "district_code", {Level.DISTRICT: "district_code", Level.STREET: "code"}),
    "communities": ("geo_community", "street_code", {Level.STREET: "street_code", Level.COMMUNITY: "code"}),
    "grids": (
        "geo_grid",
        "community_code",
        {Level.STREET: "street_code", Level.COMMUNITY: "community_code", Level.GRID: "code"},
    ),
}
CITY_AREA = {"code": "city", "name": "城市运行管理中心"}
"""What a city operator's layers name as their area (every district's layers follow)."""


async def layers(conn: Conn, scope: Scope, *, geometry: bool = True) -> Row | None:
    """The layer versions in force in the scope (its district's, or every district's for the
    city) with their areas as FeatureCollections (`geometry=False`: the names and codes only,
    geometries null); None if no layer of the scope is loaded."""
    cur = await conn.execute(IN_FORCE)
    versions = [v for v in await cur.fetchall() if scope.district in (None, v[1])]
    if not versions:
        return None
    version_id, _, effective_from = max(versions, key=lambda v: (v[2], v[0]))
    ids = [v[0] for v in versions]
    out: Row = {
        "version": {"id": version_id, "effective_from": effective_from.isoformat()},
        "scope": scope.street,
    }
    cur = await conn.execute(
        "SELECT code, name FROM geo_district WHERE version_id = ANY(%s) ORDER BY code", (ids,)
    )
    districts = dict(await cur.fetchall())
    if scope.whole_city:
        out["district"] = CITY_AREA
    else:
        code = str(scope.district)
        out["district"] = {"code": code, "name": districts.get(code, code)}
    out["districts"] = [{"code": code, "name": name} for code, name in districts.items()]
    for layer, (table, parent, columns) in _LAYERS.items():
        query = sql.SQL(
            "SELECT code, name, {parent}, "
            "CASE WHEN %s THEN ST_AsGeoJSON(ST_ForcePolygonCW(geom), %s)::jsonb END "
            "FROM {table} a WHERE version_id = ANY(%s) AND {scoped} ORDER BY code"
        ).format(parent=sql.Identifier(parent), table=sql.Identifier(table), scoped=scope.where("a", columns))
        cur = await conn.execute(query, (geometry, PRECISION, ids))
        out[layer] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": code,
                    "geometry": geometry,
                    "properties": {"code": code, "name": name, "parent": parent_code},
                }
                for code, name, parent_code, geometry in await cur.fetchall()
            ],
        }
    return out


def categories(taxonomy: Taxonomy) -> Row:
    """Every category's names, family and default priority, by code."""
    return {
        code: {"zh": c.zh, "en": c.en, "family": c.family, "priority": c.priority.value}
        for code, c in sorted(taxonomy.categories.items())
    }
