"""Reference data the pages draw with: the layers in force (district, streets, communities,
grids as GeoJSON) and the category vocabulary (Chinese and English names, priorities).

Rings are wound clockwise (`ST_ForcePolygonCW`), the order spherical renderers such as
d3-geo read as "this area" rather than "everything but it". Scoped like every operator
query: a street operator gets their street, its communities and its grids, nothing else.
Coordinates are rounded to 5 decimals (about 1 m), plenty for a board.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from config.policy import Taxonomy

Row = dict[str, Any]
Conn = AsyncConnection[Any]
PRECISION = 5

IN_FORCE = """
SELECT id, district_code, effective_from FROM geo_layer_version
WHERE effective_from <= now() AND (effective_to IS NULL OR effective_to > now())
ORDER BY effective_from DESC, id DESC LIMIT 1
"""

_LAYERS = {  # layer -> (table, parent column, the column a street scope applies to)
    "streets": ("geo_street", "district_code", "code"),
    "communities": ("geo_community", "street_code", "street_code"),
    "grids": ("geo_grid", "community_code", "street_code"),
}


async def layers(conn: Conn, scope: str | None, *, geometry: bool = True) -> Row | None:
    """The layer version in force with its areas as FeatureCollections (`geometry=False`: the
    names and codes only, geometries null); None if no layer is loaded."""
    cur = await conn.execute(IN_FORCE)
    version = await cur.fetchone()
    if version is None:
        return None
    version_id, district_code, effective_from = version
    out: Row = {
        "version": {"id": version_id, "effective_from": effective_from.isoformat()},
        "scope": scope,
    }
    cur = await conn.execute(
        "SELECT code, name FROM geo_district WHERE version_id = %s AND code = %s", (version_id, district_code)
    )
    district = await cur.fetchone()
    out["district"] = {"code": district_code, "name": district[1] if district else district_code}
    for layer, (table, parent, scoped) in _LAYERS.items():
        query = sql.SQL(
            "SELECT code, name, {parent}, "
            "CASE WHEN %s THEN ST_AsGeoJSON(ST_ForcePolygonCW(geom), %s)::jsonb END "
            "FROM {table} WHERE version_id = %s AND ({scoped} = %s OR %s::text IS NULL) ORDER BY code"
        ).format(parent=sql.Identifier(parent), table=sql.Identifier(table), scoped=sql.Identifier(scoped))
        cur = await conn.execute(query, (geometry, PRECISION, version_id, scope, scope))
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
