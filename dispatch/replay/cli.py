"""`yiwang replay`: what a redrawn layout, a revised policy or another roster would have done.

    yiwang replay --from 2026-11-01 --to 2026-12-01 --layers redrawn.geojson
    yiwang replay --from 2026-11-23 --to 2026-11-30 --policy my-policy/ --people roster.xlsx \\
        --out replay-2026-11

Reads the window's stored reports, the measured step delays and today's configuration in one
read-only transaction, replays twice in memory (`dispatch.replay.runner`), prints the
comparison, and writes `<out>.csv` and `<out>.html`. Dates without a time are 00:00 in
Asia/Shanghai; `--to` is exclusive.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from config.console import say
from config.policy import load_workforce
from config.settings import Settings
from dispatch.replay import page
from dispatch.replay.comparison import compare, table, to_csv
from dispatch.replay.configuration import (
    ReplayError,
    areas_of,
    configuration,
    index_of,
    load_rules,
    people_rosters,
    policy_paths,
    read_layers,
    read_people,
)
from dispatch.replay.runner import run_both
from dispatch.replay.service_times import ServiceTimes, Step
from dispatch.replay.sources import measured_steps, read_only, stored_reports, today
from geo.cli import geo_engine, parse_when

BAR = 28


class Bar:
    """A progress bar per run on stderr, redrawn in place (plain lines when not a terminal)."""

    def __init__(self, labels: tuple[str, str]) -> None:
        self.labels = labels
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, state: list[tuple[int, int]]) -> None:
        parts = []
        for label, (done, total) in zip(self.labels, state, strict=True):
            share = done / total if total else 1.0
            filled = round(share * BAR)
            parts.append(f"{label} [{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%} {done:,}/{total:,}")
        line = "  ".join(parts)
        if line == self.last:
            return
        self.last = line
        if self.tty:
            sys.stderr.write("\r" + line)
            sys.stderr.flush()
        elif all(d == t for d, t in state):
            sys.stderr.write(line + "\n")

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    start, end = args.start, args.end
    if end <= start:
        say("refused: --to must be after --from")
        return 2
    if args.layers is None and args.policy is None and args.people is None:
        say("refused: nothing to compare: give --layers, --policy or --people (or several)")
        return 2
    began = time.perf_counter()
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn, conn.begin():
            read_only(conn)
            reports = stored_reports(conn, start, end)
            steps = measured_steps(conn, start, end)
            now = datetime.now(UTC)
            current = today(conn, now)
        times = ServiceTimes.fit(steps)
        missing = times.missing()
        if missing:
            raise ReplayError(
                f"events: no measured {' or '.join(missing)} delays between {start.isoformat()} and "
                f"{end.isoformat()}: the worker model needs people's steps of the same window"
            )
        if not reports:
            raise ReplayError(f"no stored reports received between {start.isoformat()} and {end.isoformat()}")
        rules = load_rules()
        alt_rules = load_rules(args.policy) if args.policy else rules
        layers = read_layers(args.layers, current.layers) if args.layers else current.layers
        index = index_of(layers, layer_version=-1) if args.layers else current.index
        directory = current.directory
        if args.people:
            directory = read_people(
                args.people,
                areas=areas_of(layers),
                workforce=load_workforce(policy_paths(args.policy)["forces.toml"]),
                rosters=people_rosters(args.policy),
            )
        configs = (
            configuration("today", rules=rules, index=current.index, gazetteer=current.gazetteer,
                          directory=current.directory),
            configuration("alternative", rules=alt_rules, index=index, gazetteer=current.gazetteer,
                          directory=directory),
        )  # fmt: skip
    except ReplayError as exc:
        say(f"refused: {exc}")
        return 2
    finally:
        engine.dispose()
    say(
        f"replay: {len(reports):,} reports received {start.isoformat()} – {end.isoformat()}; "
        "worker model from "
        f"{times.count(Step.ACCEPT):,} accepts (median {times.median(Step.ACCEPT) / 60:.1f} min) and "
        f"{times.count(Step.RESOLVE):,} resolves (median {times.median(Step.RESOLVE) / 3600:.1f} h)"
    )
    bar = Bar(("today", "alternative"))
    a, b = run_both(configs, times, reports, progress=bar, parallel=not args.serial)
    bar.end()
    rows = compare(a, b)
    print(table(rows))
    out: Path = args.out or Path(f"replay-{start.date()}-{end.date()}")
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out.with_suffix(".csv"), out.with_suffix(".html")
    csv_path.write_text(to_csv(rows), encoding="utf-8")
    given = [f"{name} {value}" for name, value in (("--layers", args.layers), ("--policy", args.policy),
             ("--people", args.people)) if value]  # fmt: skip
    notes = [
        f"reports received {start.isoformat()} – {end.isoformat()} ({len(reports):,})",
        f"alternative: {', '.join(given)}",
        f"worker model: {times.count(Step.ACCEPT):,} measured accepts, "
        f"{times.count(Step.RESOLVE):,} resolves",
        "replayed in memory: nothing was written or published",
    ]
    html_path.write_text(
        page.render(rows, a, b, title="What-if replay", notes=notes, script=page.chart_js()), encoding="utf-8"
    )
    say(f"wrote {csv_path} and {html_path} ({time.perf_counter() - began:.1f} s)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="replay stored reports against another layout, policy or roster")
    p.add_argument("--from", dest="start", type=parse_when, required=True, help="first day (inclusive)")
    p.add_argument("--to", dest="end", type=parse_when, required=True, help="last day (exclusive)")
    p.add_argument("--layers", type=Path, help="a GeoJSON layer file (all layers, or only those that change)")
    p.add_argument("--policy", type=Path, help="a folder of policy files replacing today's (config/*.toml)")
    p.add_argument("--people", type=Path, help="a roster sheet (.xlsx or .csv, as `yiwang people import`)")
    p.add_argument(
        "--out", type=Path, help="where to write <out>.csv and <out>.html (default replay-FROM-TO)"
    )
    p.add_argument("--serial", action="store_true", help="run the two replays one after the other")
    p.set_defaults(func=_replay)
