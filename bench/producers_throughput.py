"""Producer throughput: adapters per source, and publishing beside the raw client's rate.

Run: `.venv/bin/python -m bench.producers_throughput [--count 20000]` (needs `yiwang up`).

Inputs are simulator payloads (seed 1, one record each, realistic mix). Printed, each beside
a limit measured in the same run:
- adapting (bytes -> validated canonical report) per source, beside parsing the same bytes
  with the format's bare parser only (orjson / defusedxml / csv / str.decode): the price of
  mapping and validation;
- `Feeder` (adapt + ledger + idempotent producer, acks=all) end to end, beside the same
  kafka-python producer sending the already-encoded report bytes with no work at all.
Topics live under a throwaway prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
from defusedxml.ElementTree import fromstring

from config.policy import load_taxonomy
from config.settings import Settings
from config.topics import load_topics
from deploy.topics import admin_client, ensure_topics
from producers.adapters.registry import ADAPTERS
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.outcome import Context
from producers.publisher import REPORT_HEADERS, Publisher
from producers.simulator import generate
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report, Source, encode

START = datetime(2025, 6, 1, tzinfo=UTC)
BARE: dict[Source, Callable[[bytes], object]] = {
    Source.POLICE: orjson.loads,
    Source.HOTLINE: orjson.loads,
    Source.PATROL: orjson.loads,
    Source.CITYMGMT: fromstring,
    Source.EMERGENCY: fromstring,
    Source.FIRE: lambda b: list(csv.reader(io.StringIO(b.decode("utf-8")))),
    Source.CYBERSPACE: lambda b: b.decode("utf-8").splitlines(),
}


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>10,.0f}/s"


def adapters(items: list[tuple[Source, bytes]]) -> list[Report]:
    sources, taxonomy = load_sources(), load_taxonomy()
    by_source: dict[Source, list[bytes]] = defaultdict(list)
    for source, payload in items:
        by_source[source].append(payload)
    reports: list[Report] = []
    print(f"{'source':<11}{'records':>8}  {'adapt':>12}  {'bare parse':>12}  ratio")
    for source in Source:
        payloads = by_source[source]
        ctx = Context(sources[source], taxonomy, START + timedelta(days=2), Origin(file="bench"))
        t0 = time.perf_counter()
        for p in payloads:
            reports.extend(o for o in ADAPTERS[source](p, ctx) if isinstance(o, Report))
        adapt_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for p in payloads:
            with contextlib.suppress(Exception):  # the malformed share fails here too: still parsed
                BARE[source](p)
        bare_s = time.perf_counter() - t0
        adapt, bare = _rate(len(payloads), adapt_s), _rate(len(payloads), bare_s)
        print(f"{source.value:<11}{len(payloads):>8}  {adapt}  {bare}  {bare_s / adapt_s:.2f}")
    return reports


def publishing(settings: Settings, items: list[tuple[Source, bytes]], reports: list[Report]) -> None:
    publisher = Publisher(settings)
    feeder = Feeder(publisher, Ledger(None))
    t0 = time.perf_counter()
    for i, (source, payload) in enumerate(items):
        feeder.feed(source, payload, Origin(file="bench", record=str(i)))
    summary = feeder.finish()
    feed_s = time.perf_counter() - t0
    encoded = [(publisher.topic_for(r.source), r.source_ref.encode(), encode(r)) for r in reports]
    t0 = time.perf_counter()  # the same client and configuration, doing nothing else
    for topic, key, value in encoded:
        publisher.send(topic, value, key=key, headers=REPORT_HEADERS)
    publisher.flush()
    raw_s = time.perf_counter() - t0
    publisher.close()
    counts = f"published {summary.published}, rejected {len(summary.rejected)}"
    print(f"feeder (adapt+publish, acks=all)  {_rate(len(items), feed_s)}  {counts}")
    print(f"limit: raw send of encoded bytes  {_rate(len(encoded), raw_s)}")
    print(f"ratio feeder/limit                {(len(items) / feed_s) / (len(encoded) / raw_s):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    items = [(i.source, i.payload) for i in generate(1, args.count, start=START)]
    print(f"simulator: {args.count} payloads {_rate(args.count, time.perf_counter() - t0)}")
    reports = adapters(items)
    settings = Settings().model_copy(update={"topic_prefix": f"bench-{uuid.uuid4().hex[:6]}."})
    admin = admin_client(settings)
    created = ensure_topics(admin, load_topics(), settings).created
    try:
        publishing(settings, items, reports)
    finally:
        admin.delete_topics(created, raise_errors=False)
        admin.close()


if __name__ == "__main__":
    main()
