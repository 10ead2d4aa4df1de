"""`yiwang produce`, `yiwang simulate` and `yiwang open311 serve`: the producers' commands.

Thin edges: they build the publisher and ledger from the settings, hand inputs to the
`Feeder`, print progress on stderr and the summary on stdout, and exit non-zero when any
record was rejected or could not be published.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

from config.console import say as note
from config.policy import Duration
from config.settings import Settings
from geo.reference import CITY_DISTRICTS, reference_names
from producers.adapters.registry import LINE_ORIENTED
from producers.feed import Feeder, Summary
from producers.inputs import read_file, read_stream, watch
from producers.ledger import Ledger
from producers.open311.agencies import new_key
from producers.open311.serve import PREFIX, serve
from producers.paths import ledger_path
from producers.publisher import open_publisher
from producers.simulator.district import load_districts
from producers.simulator.run import SimulationResult, simulate
from schemas.dead_letter import Origin
from schemas.report import Source


def _per_file(path: Path, summary: Summary) -> None:
    note(
        f"{path.name}: published {summary.published}, rejected {len(summary.rejected)}, "
        f"duplicates {summary.duplicates}"
    )


def _produce(settings: Settings, args: argparse.Namespace) -> int:
    source = Source(args.source)
    target = Path(args.path)
    if args.path != "-" and not target.exists():
        note(f"{target}: no such file or directory")
        return 2
    publisher = open_publisher(settings, [source])
    if publisher is None:
        return 1
    ledger = Ledger(None if args.no_ledger else ledger_path(settings))
    feeder = Feeder(publisher, ledger)
    try:
        if args.path == "-":
            for chunk in read_stream(sys.stdin.buffer, by_line=source in LINE_ORIENTED):
                feeder.feed(source, chunk.data, Origin(file=chunk.file, line=chunk.line))
        elif target.is_dir():
            note(
                f"reading {target} "
                + ("once" if args.once else "and watching it for new files; Ctrl-C stops")
            )
            for path in watch(target, once=args.once, poll_s=args.poll):
                _per_file(path, feeder.feed(source, path.read_bytes(), Origin(file=str(path))))
        else:
            chunk = read_file(target)
            feeder.feed(source, chunk.data, Origin(file=chunk.file))
    except KeyboardInterrupt:
        note("interrupted; finishing what was sent")
    finally:
        summary = feeder.finish()
        publisher.close()
        ledger.close()
    for line in summary.lines():
        print(line, flush=True)
    return 0 if summary.clean else 1


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    if args.rate <= 0 or args.duration <= 0:
        note("--rate and --duration must be positive")
        return 2
    seed = args.seed if args.seed is not None else int(time.time())
    publisher = open_publisher(settings, list(Source))
    if publisher is None:
        return 1
    feeder = Feeder(publisher, Ledger(None))
    note(
        f"simulate: seed {seed}, {args.rate:g}/s for {args.duration:g}s"
        + (f", replaying {args.span}" if args.span else "")
    )
    try:
        result = simulate(
            feeder,
            rate=args.rate,
            duration=args.duration,
            seed=seed,
            span=_span(args.span),
            malformed_share=args.malformed,
            progress=note,
            district=load_districts(tuple(args.district or CITY_DISTRICTS)),
        )
    except KeyboardInterrupt:
        note("interrupted")
        result = SimulationResult(-1, -1, feeder.finish())
    finally:
        publisher.close()
    for line in result.summary.lines(limit=5):
        print(line, flush=True)
    print(f"planned malformed {result.planned_rejections} of {result.count} (seed {seed})", flush=True)
    return 0 if result.clean else 1


def _span(text: str | None) -> timedelta | None:
    if not text:
        return None
    value = Duration.parse(text)
    return timedelta(minutes=value.value) * {"min": 1, "h": 60, "d": 1440}[value.unit]


def _open311_serve(settings: Settings, args: argparse.Namespace) -> int:
    publisher = open_publisher(settings, list(Source), linger_ms=5)
    if publisher is None:
        return 1
    note(f"Open311 GeoReport v2 on http://{args.host}:{args.port}{PREFIX}/discovery.json; Ctrl-C stops")
    try:
        serve(settings, publisher, host=args.host, port=args.port, agencies=args.agencies)
    finally:
        publisher.close()
    return 0


def _open311_key(settings: Settings, args: argparse.Namespace) -> int:
    key, digest = new_key()
    print(f"api key for {args.source} (give it to the agency; it is not stored): {key}")
    print("add to config/agencies.toml:")
    print(
        f'[[agency]]\nname = "{args.name or args.source}"\nsource = "{args.source}"\nkey_sha256 = "{digest}"'
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "produce",
        help="publish an agency export onto reports.<source> (bad records go to reports.dlq)",
        description="Adapt SOURCE's own export format into canonical reports and publish them. "
        "PATH is a file, - for standard input, or a directory watched for new files.",
    )
    p.add_argument(
        "source", choices=[s.value for s in Source], help="which agency system the input comes from"
    )
    p.add_argument("path", metavar="FILE|-|DIR")
    p.add_argument(
        "--once", action="store_true", help="with a directory: read the files there now, then exit"
    )
    p.add_argument(
        "--poll", type=float, default=1.0, help="with a directory: seconds between looks (default 1)"
    )
    p.add_argument(
        "--no-ledger",
        action="store_true",
        help="remember published report ids for this run only, not under YIWANG_HOME",
    )
    p.set_defaults(func=_produce)

    m = sub.add_parser(
        "simulate", help="publish realistic simulated agency feeds (through the same adapters)"
    )
    m.add_argument("--rate", type=float, required=True, help="payloads per second")
    m.add_argument("--duration", type=float, required=True, help="seconds to run")
    m.add_argument("--seed", type=int, default=None, help="reproduce a run (default: from the clock)")
    m.add_argument("--span", default=None, help="replay a longer past window, e.g. 24h (default: real time)")
    m.add_argument("--malformed", type=float, default=0.02, help="share of broken payloads (default 0.02)")
    m.add_argument(
        "--district",
        action="append",
        choices=reference_names(),
        help=f"a reference district to report from (repeat; default: {' and '.join(CITY_DISTRICTS)})",
    )
    m.set_defaults(func=_simulate)

    o = sub.add_parser("open311", help="the Open311 GeoReport v2 HTTP intake (serve, key)")
    osub = o.add_subparsers(dest="open311_command", required=True, metavar="ACTION")
    s = osub.add_parser(
        "serve", help=f"serve Open311 at {PREFIX} (publishes onto the agency's reports.<source>)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8311)
    s.add_argument("--agencies", type=Path, default=None, help="API keys file (default config/agencies.toml)")
    s.set_defaults(func=_open311_serve)
    k = osub.add_parser(
        "key", help="make a new API key for an agency and print its config/agencies.toml entry"
    )
    k.add_argument("source", choices=[x.value for x in Source])
    k.add_argument("--name", default=None, help="the agency's name for people")
    k.set_defaults(func=_open311_key)
