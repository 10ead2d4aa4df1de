"""`generate(seed, count, …)`: exactly `count` native payloads, one record each, in time order.

Times follow the feeds' daily rhythms plus a rainstorm burst (numpy's multinomial spreads
`count` over the window's minutes by intensity). Each new event picks a feed by its share
and rhythm, a category from that feed's own code table, and a building; some events are
reported again by other feeds a few minutes later, a few tens of metres away (the stream
stage merges them). App feeds write GCJ-02 or BD-09, 12345 and 网信 mostly an address only.
A small share of payloads is broken on purpose; `Simulated.expected` says which and what
field the rejection names, so callers can reconcile counts exactly. Same seed, same output.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from config.policy import Taxonomy, load_taxonomy
from geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from producers.simulator import malform, scenario
from producers.simulator.addresses import city_prefix, variant
from producers.simulator.district import load_district
from producers.simulator.model import Draft, Event, Expected, Place, SimDistrict, Simulated
from producers.simulator.native import RENDER, local_day_hour
from producers.sources import SourceConfig, load_sources
from schemas.report import Source

M_PER_DEG = 111_320.0
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
DETAILS = (
    "请尽快处置。",
    "市民多次反映，影响通行。",
    "现场已拍照。",
    "情况持续约半小时。",
    "周边居民较多，请关注。",
    "",
)
POINT_SHARE = {
    Source.POLICE: 0.7, Source.CITYMGMT: 0.9, Source.FIRE: 0.6, Source.PATROL: 1.0,
    Source.HOTLINE: 0.25, Source.CYBERSPACE: 0.0, Source.EMERGENCY: 1.0, Source.RESIDENT: 0.8,
}  # fmt: skip
REF_PREFIX = {
    Source.POLICE: "110", Source.CITYMGMT: "SZCG", Source.EMERGENCY: "CAP", Source.FIRE: "119",
    Source.CYBERSPACE: "WX", Source.HOTLINE: "12345", Source.PATROL: "XC", Source.RESIDENT: "R",
}  # fmt: skip


def _inverse(cfg: SourceConfig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for native, code in cfg.categories.items():
        out.setdefault(code, []).append(native)
    return out


@dataclass
class _World:
    seed: int
    rng: random.Random
    district: SimDistrict
    taxonomy: Taxonomy
    sources: dict[Source, SourceConfig]
    codes: dict[Source, dict[str, list[str]]] = field(default_factory=dict)
    seq: int = 0

    def __post_init__(self) -> None:
        self.codes = {s: _inverse(cfg) for s, cfg in self.sources.items()}

    def next_ref(self, source: Source, at: datetime) -> str:
        self.seq += 1
        return f"{REF_PREFIX[source]}-SIM{self.seed}-{at:%Y%m%d}-{self.seq:07d}"


def _weighted(rng: random.Random, items: dict[str, float]) -> str:
    keys = sorted(items)
    return rng.choices(keys, weights=[items[k] for k in keys])[0]


def _native_code(world: _World, source: Source, category: str) -> str:
    native = world.rng.choice(world.codes[source][category])
    if source is Source.HOTLINE:
        return f"投诉|{native}" if "/" in native else f"{native}|"
    if source is Source.EMERGENCY:
        if native[:1].isdigit():
            return ("Geo:" if native in ("11B17", "11C01") else "Met:") + native
        return f"{native}:"
    return native


def _jitter(place: Place, rng: random.Random, metres: float) -> tuple[float, float]:
    r, a = metres * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat = place.lat + r * math.sin(a) / M_PER_DEG
    lon = place.lon + r * math.cos(a) / (M_PER_DEG * math.cos(math.radians(place.lat)))
    return lon, lat


def _draft(
    world: _World, source: Source, event: Event, at: datetime, spread_m: float
) -> tuple[Draft, Expected]:
    rng = world.rng
    cfg = world.sources[source]
    category = world.taxonomy.categories[event.category]
    address = variant(event.place, rng)
    where = event.place.street_name + address.removeprefix(city_prefix(event.place.address))
    description = f"{category.zh}：{where}附近，{rng.choice(DETAILS)}"
    level = rng.choice(sorted(cfg.priorities)) if cfg.priorities and rng.random() < 0.6 else None
    if source is Source.PATROL:
        level = "true" if category.priority.rank <= 1 else None
    draft = Draft(
        source,
        world.next_ref(source, at),
        at,
        _native_code(world, source, event.category),
        level,
        None,
        None,
        "",
        address,
        description,
    )
    if rng.random() < 0.8 and source is not Source.EMERGENCY:
        draft.reporter = (
            f"{rng.choice(SURNAMES)}某",
            f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
        )
    crs: str | None = None
    if rng.random() < POINT_SHARE[source]:
        lon, lat = _jitter(event.place, rng, spread_m)
        crs, draft.crs = "cgcs2000", "CGCS2000"
        if source is Source.PATROL:
            crs = draft.crs = "gcj02" if rng.random() < 0.8 else "bd09"
            lon, lat = wgs84_to_gcj02(lon, lat) if crs == "gcj02" else wgs84_to_bd09(lon, lat)
            draft.accuracy = round(rng.uniform(3, 15), 1)
            draft.photos = [
                f"oss://yiwang-patrol/{at:%Y/%m/%d}/{draft.ref}-{i}.jpg" for i in range(rng.randint(1, 3))
            ]
            draft.address = address if rng.random() < 0.5 else None
            draft.reporter = (f"W{rng.randint(0, 9_999_999):07d}", f"{rng.choice(SURNAMES)}某")
        elif source is Source.HOTLINE:
            crs, draft.crs = "bd09", "BD09"
            lon, lat = wgs84_to_bd09(lon, lat)
        elif source is Source.RESIDENT:  # the browser's geolocation
            crs, draft.crs, draft.accuracy = "wgs84", "WGS84", round(rng.uniform(5, 60), 1)
        elif source is Source.EMERGENCY:
            crs, draft.crs, draft.radius_km = "wgs84", "WGS84", round(rng.uniform(0.2, 2.0), 2)
        draft.lon, draft.lat = round(lon, 6), round(lat, 6)
    expected = Expected(True, event.event_id, draft.ref, address_only=crs is None, crs=crs)
    return draft, expected


def _spawn(world: _World, at: datetime, rain: scenario.Rainstorm | None) -> tuple[Event, Source, bool]:
    rng = world.rng
    if rain is not None and rain.covers(at) and rng.random() < rain.boost / (1 + rain.boost):
        category = _weighted(rng, scenario.RAIN_CATEGORIES)
        able = {s: w for s, w in scenario.RAIN_SOURCES.items() if category in world.codes[s]}
        source = Source(_weighted(rng, {s.value: w for s, w in able.items()}))
        places = world.district.low_lying or world.district.places
        return Event(f"E{world.seq + 1}", category, rng.choice(places), at), source, True
    hour = local_day_hour(at)
    source = Source(_weighted(rng, {s.value: scenario.SHARE[s] * scenario.rhythm(s, hour) for s in Source}))
    category = _weighted(rng, {c: scenario.WEIGHTS.get(c, 1.0) for c in world.codes[source]})
    return Event(f"E{world.seq + 1}", category, rng.choice(world.district.places), at), source, False


def _render(
    world: _World, source: Source, draft: Draft, expected: Expected, malformed_share: float
) -> Simulated:
    if world.rng.random() >= malformed_share:
        return Simulated(source, RENDER[source](draft), expected)
    kind, field_name = malform.choose(source, world.rng)
    if kind in malform.DRAFT_LEVEL:
        malform.DRAFT_LEVEL[kind](draft, world.rng)
    payload = RENDER[source](draft)
    if kind in malform.BYTE_LEVEL:
        payload = malform.break_bytes(kind, payload, draft)
    broken = replace(expected, ok=False, source_ref=draft.ref, field=field_name, malformation=kind)
    return Simulated(source, payload, broken)


def _intensity(start: datetime, span: timedelta, bins: int, rain: scenario.Rainstorm | None) -> list[float]:
    width = span / bins
    out: list[float] = [0.0] * bins
    for b in range(bins):
        at = start + width * (b + 0.5)
        hour = local_day_hour(at)
        out[b] = sum(scenario.SHARE[s] * scenario.rhythm(s, hour) for s in Source)
        if rain is not None and rain.covers(at):
            out[b] *= 1 + rain.boost
    total = sum(out)
    return [x / total for x in out]


def generate(
    seed: int,
    count: int,
    *,
    start: datetime | None = None,
    span: timedelta = timedelta(days=1),
    district: SimDistrict | None = None,
    malformed_share: float = scenario.MALFORMED_SHARE,
    rain: scenario.Rainstorm | bool | None = True,
) -> Iterator[Simulated]:
    """`count` payloads over [start, start + span) (start defaults to now); `rain=True` puts the
    default rainstorm in the window, False none, or pass a `Rainstorm`."""
    begin = (start or datetime.now(UTC)).astimezone(UTC)
    storm = scenario.default_rainstorm(begin, span) if rain is True else (rain or None)
    world = _World(
        seed,
        random.Random(seed),  # noqa: S311 - a reproducible simulation, not a secret
        district or load_district(),
        load_taxonomy(),
        dict(load_sources()),
    )
    bins = max(1, min(int(span.total_seconds() // 60), 200_000))
    per_bin = np.random.default_rng(seed).multinomial(count, _intensity(begin, span, bins, storm))
    width = span / bins
    followups: list[tuple[datetime, int, Source, Event, bool]] = []
    made = 0
    for b, n in enumerate(per_bin):
        slots = sorted(begin + width * (b + world.rng.random()) for _ in range(int(n)))
        for at in slots:
            if followups and followups[0][0] <= at:
                when, _, source, event, burst = heapq.heappop(followups)
                draft, expected = _draft(world, source, event, when, spread_m=30)
            else:
                event, source, burst = _spawn(world, at, storm)
                draft, expected = _draft(world, source, event, at, spread_m=10)
                others = [
                    s
                    for s in scenario.MULTI_AGENCY.get(event.category, ())
                    if s != source and event.category in world.codes[s]
                ]
                if others and world.rng.random() < scenario.MULTI_AGENCY_SHARE:
                    for other in world.rng.sample(others, k=world.rng.randint(1, len(others))):
                        later = at + timedelta(seconds=world.rng.uniform(30, 600))
                        heapq.heappush(followups, (later, world.seq + len(followups), other, event, burst))
            if burst:
                expected = replace(expected, burst=True)
            yield _render(world, source, draft, expected, malformed_share)
            made += 1
    assert made == count
