"""Grid lookup speed: the in-memory index beside PostGIS, on the same points, in one run.

    .venv/bin/python -m bench.geo_lookup [--points 1000000] [--single 100000] [--pg-points 100000]

Needs `yiwang up`; loads the reference district into the configured database if no
layer version is there yet. Prints each number beside PostGIS on the same points and
beside the target
(docs/architecture.md; geolocation: >= 1,000,000 points/s batched and
>= 100,000 points/s one at a time, per core, identical to PostGIS), as ratios.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import numpy as np
import shapely
from sqlalchemy import Connection, create_engine, text

from config.settings import Settings
from geo import service
from geo.gazetteer import Gazetteer
from geo.index import GridIndex, load_indexes
from geo.reference import load_reference

T = TypeVar("T")
TARGET_BATCHED = 1_000_000
TARGET_SINGLE = 100_000
COLUMNS = "{:<24}{:>14}{:>20}{:>11}{:>12}{:>9}"
_ONE_POINT = text(
    "SELECT code FROM geo_grid WHERE version_id = :v "
    "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) ORDER BY code LIMIT 1"
)


def rate(n: int, fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    out = fn()
    return n / (time.perf_counter() - start), out


def postgis_batched(conn: Connection, version: int, xs: np.ndarray, ys: np.ndarray) -> list[str | None]:
    out: list[str | None] = []
    for start in range(0, len(xs), 25_000):
        out += service.locate_in_postgis(
            conn, version, xs[start : start + 25_000].tolist(), ys[start : start + 25_000].tolist()
        )
    return out


def postgis_single(conn: Connection, version: int, xs: np.ndarray, ys: np.ndarray) -> list[str | None]:
    return [
        conn.execute(_ONE_POINT, {"v": version, "x": x, "y": y}).scalar()
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True)
    ]


def codes(index: GridIndex, found: np.ndarray) -> list[str | None]:
    return [index.grids[i].code if i >= 0 else None for i in found.tolist()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=100_000)
    parser.add_argument("--pg-points", type=int, default=100_000)
    parser.add_argument("--pg-single", type=int, default=5_000)
    args = parser.parse_args(argv)

    settings = Settings()
    engine = create_engine(settings.db_url, hide_parameters=True)
    reference = load_reference()
    with engine.begin() as conn:
        if not service.list_versions(conn, reference.code):
            print("loading the reference district:", "; ".join(service.load_reference_set(conn, reference)))
    start = time.perf_counter()
    indexes = load_indexes(engine)
    index = indexes.at(datetime.now(UTC))
    build_s = time.perf_counter() - start
    version = index.layer_version

    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = reference.outline.bounds
    xs, ys = rng.uniform(x0, x1, args.points), rng.uniform(y0, y1, args.points)
    index.locate_many(xs[:1000], ys[:1000])  # warm up

    batched, found = rate(args.points, lambda: index.locate_many(xs, ys))
    single_x, single_y = xs[: args.single].tolist(), ys[: args.single].tolist()
    single, _ = rate(
        args.single, lambda: [index.locate(x, y) for x, y in zip(single_x, single_y, strict=True)]
    )
    tree = shapely.STRtree([g.geometry for g in index.grids])
    plain, _ = rate(args.points, lambda: tree.query(shapely.points(xs, ys), predicate="intersects"))

    px, py = xs[: args.pg_points], ys[: args.pg_points]
    sx, sy = xs[: args.pg_single], ys[: args.pg_single]
    with engine.connect() as conn:
        pg_batched, pg_codes = rate(len(px), lambda: postgis_batched(conn, version, px, py))
        pg_single, pg_single_codes = rate(len(sx), lambda: postgis_single(conn, version, sx, sy))
    mismatches = sum(a != b for a, b in zip(codes(index, found[: len(px)]), pg_codes, strict=True))
    mismatches += sum(a != b for a, b in zip(codes(index, found[: len(sx)]), pg_single_codes, strict=True))

    gazetteer = Gazetteer.from_reference(reference)
    addresses = [b.address for b in reference.buildings] * 3
    gaz_rate, _ = rate(len(addresses), lambda: [gazetteer.lookup(a) for a in addresses])
    engine.dispose()

    inside = float(np.mean(found >= 0))
    print(
        f"district {reference.code}: {len(index.grids)} grids, layer version {version}; index built in "
        f"{build_s:.2f} s; {inside:.0%} of the random points fall inside a grid"
    )
    print(COLUMNS.format("lookup", "points/s", "PostGIS, same pts", "x PostGIS", "target", "x target"))
    rows = [
        ("batched (locate_many)", batched, pg_batched, TARGET_BATCHED),
        ("one at a time (locate)", single, pg_single, TARGET_SINGLE),
        ("plain STRtree query", plain, pg_batched, TARGET_BATCHED),
    ]
    for name, mine, theirs, target in rows:
        print(
            COLUMNS.format(
                name,
                f"{mine:,.0f}",
                f"{theirs:,.0f}",
                f"{mine / theirs:.1f}",
                f"{target:,}",
                f"{mine / target:.2f}",
            )
        )
    print(COLUMNS.format("gazetteer lookups", f"{gaz_rate:,.0f}", "", "", "", ""))
    print(
        f"PostGIS points: {len(px):,} batched (one query per 25,000 over unnest), "
        f"{len(sx):,} one query each; mismatches against the index: {mismatches}"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
