"""`yiwang geo load|import` and `yiwang locate`: thin commands over geo.service and geo.index.

    yiwang geo load                                   # the shipped Shapingba reference set
    yiwang geo import my-grids.geojson --effective-from 2025-07-01
    yiwang geo import my-grids.geojson --dry-run      # checks it, counts the open cases it moves
    yiwang locate 106.4507 29.5532 --crs gcj02
    yiwang locate --address "重庆市沙坪坝区汉渝路12号3栋2单元"

Dates without a time mean 00:00 in Asia/Shanghai; times without an offset are read in
Asia/Shanghai too (the district's own clock).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, create_engine

from config.console import say
from config.settings import Settings
from geo import service
from geo.city import add_city_desk, load_city
from geo.coords import CoordinateError, Crs, to_wgs84
from geo.index import GridIndex, NoLayerInForce
from geo.layers import LayerError, parse_features
from geo.moves import OpenPoint, moves, summary
from geo.reference import load_reference, reference_names

SHANGHAI = ZoneInfo("Asia/Shanghai")
OpenPoints = Callable[[Connection], list[OpenPoint]]
"""Where the open cases are (the dispatch projection's, given by the composition root: geo
knows places, not cases)."""


def parse_when(text: str) -> datetime:
    """'2025-07-01' -> 2025-07-01 00:00+08:00; an offset in the text is kept."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or date-time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=SHANGHAI)


def geo_engine(settings: Settings) -> Engine:
    """An engine that never shows bound parameters (worker phones) in logs or errors,
    even with SQL echo switched on."""
    return create_engine(settings.db_url, pool_size=1, hide_parameters=True)


def _refused(exc: LayerError) -> int:
    say(f"refused: {len(exc.problems)} problem(s), nothing was loaded")
    for problem in exc.problems:
        say(f"  {problem}")
    return 1


def _load(settings: Settings, args: argparse.Namespace) -> int:
    engine = geo_engine(settings)
    try:
        lines: list[str] = []
        with engine.begin() as conn:
            for name in args.district or ["shapingba"]:
                d = load_reference(name)
                lines += [
                    f"{d.name} ({d.code}): {line}"
                    for line in service.load_reference_set(conn, d, effective_from=args.effective_from)
                ]
            desk = add_city_desk(conn)
            lines += [desk] if desk else []
    except LayerError as exc:
        return _refused(exc)
    finally:
        engine.dispose()
    for line in lines:
        say(line)
    return 0


def read_layer_file(path: Path) -> dict[str, object]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    doc = json.loads(data)
    if not isinstance(doc, dict):
        raise LayerError([f"{path}: not a GeoJSON object"])
    return doc


def _import(settings: Settings, args: argparse.Namespace, *, open_points: OpenPoints | None = None) -> int:
    path: Path = args.file
    try:
        layers = parse_features(read_layer_file(path))
    except (OSError, ValueError) as exc:
        if isinstance(exc, LayerError):
            return _refused(exc)
        say(f"error: cannot read {path}: {exc}")
        return 1
    source = f"file:{path.name}:sha256-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            result = service.import_layers(
                conn,
                layers,
                effective_from=args.effective_from or datetime.now(SHANGHAI),
                source=source,
                tolerance_m2=args.tolerance_m2,
            )
            moving = _moving(conn, result.version_id, open_points) if result.created else None
            if args.dry_run:
                transaction.rollback()
            else:
                transaction.commit()
    except LayerError as exc:
        return _refused(exc)
    finally:
        engine.dispose()
    say(("dry run, nothing loaded: " if args.dry_run else "") + result.message)
    for line in moving or []:
        say(line)
    return 0


def _moving(conn: Connection, version_id: int, open_points: OpenPoints | None) -> list[str] | None:
    """What the new version does to the open cases (when the process knows where they are)."""
    if open_points is None:
        return None
    inputs = service.read_index_inputs(conn, version_id)
    (district,) = {v.district_code for v in service.list_versions(conn) if v.id == version_id}
    index = GridIndex(
        inputs.grids,
        district_code=district,
        layer_version=version_id,
        streets=inputs.streets,
        outline=inputs.outline,
    )
    found = moves(index, open_points(conn))
    lines = summary(found)
    lines[0] += (
        " when it takes effect (each re-homed with an event, re-routed where its holder no longer covers it)"
    )
    return lines


def _locate(settings: Settings, args: argparse.Namespace) -> int:
    when: datetime = args.at or datetime.now(SHANGHAI)
    if (args.address is None) == (args.lon is None or args.lat is None):
        say("error: give either LON LAT or --address TEXT")
        return 2
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn:
            indexes = load_city(conn)
        index = indexes.at(when)
        out: dict[str, object] = {"at": when.isoformat()}
        if args.address is not None:
            with engine.connect() as conn:
                versions = [d.layer_version for c in index.district_codes if (d := index.district_of(c))]
                match = service.gazetteer_from_db(conn, *versions).lookup(args.address)
            out["address"] = args.address
            if match is None:
                placement = index.fallback_for("address not found in the gazetteer")
            else:
                out["address_match"] = {
                    "building_id": match.building_id,
                    "address": match.address,
                    "how": match.how,
                }
                out["wgs84"] = [match.lon, match.lat]
                placement = index.locate(match.lon, match.lat)
        else:
            lon, lat = to_wgs84(args.lon, args.lat, args.crs)
            out["input"] = {"lon": args.lon, "lat": args.lat, "crs": args.crs}
            out["wgs84"] = [lon, lat]
            placement = index.locate(lon, lat)
    except NoLayerInForce as exc:
        say(f"error: {exc}; load layers first: yiwang geo load")
        return 1
    except CoordinateError as exc:
        say(f"error: {exc}")
        return 2
    finally:
        engine.dispose()
    print(json.dumps({**placement.to_dict(), **out}, ensure_ascii=False, indent=2))
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], *, open_points: OpenPoints | None = None
) -> None:
    geo = sub.add_parser("geo", help="load the reference district or your own layers into PostGIS")
    geo_sub = geo.add_subparsers(dest="geo_command", required=True, metavar="GEO_COMMAND")
    p = geo_sub.add_parser(
        "load", help="load the shipped Shapingba reference set (layers, buildings, workers)"
    )
    p.add_argument("--effective-from", type=parse_when, default=None, help="default: the data set's own date")
    p.add_argument(
        "--district",
        action="append",
        choices=reference_names(),
        help="a shipped reference district (repeat for several; default: shapingba)",
    )
    p.set_defaults(func=_load)
    p = geo_sub.add_parser("import", help="load your own layers (GeoJSON) as a new layer version")
    p.add_argument("file", type=Path, help="FeatureCollection (.geojson or .geojson.gz)")
    p.add_argument("--effective-from", type=parse_when, default=None, help="default: now")
    p.add_argument(
        "--tolerance-m2", type=float, default=1.0, help="overlaps/gaps up to this area are ignored"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file and count the open cases it would move; load nothing",
    )
    p.set_defaults(func=partial(_import, open_points=open_points))

    p = sub.add_parser("locate", help="which grid is this point or address in (JSON)")
    p.add_argument("lon", nargs="?", type=float)
    p.add_argument("lat", nargs="?", type=float)
    p.add_argument("--crs", choices=[c.value for c in Crs], default=Crs.WGS84.value)
    p.add_argument("--address", default=None, help="an address instead of coordinates")
    p.add_argument("--at", type=parse_when, default=None, help="report time (default: now)")
    p.set_defaults(func=_locate)
