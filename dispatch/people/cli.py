"""`yiwang people import|export|reset-pin` and `yiwang shifts swap|take|leave|list|remove|on-duty`.

PINs of new people are printed once on stdout (`worker_id<TAB>PIN`) or written to
`--pins-file` (created readable by its owner only); they are never stored in plain text.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from config.console import say
from config.settings import Settings
from dispatch.directory import Directory
from dispatch.intake.rules import IntakeRules
from dispatch.people.imports import import_rows, on_duty_in
from dispatch.people.sheet import SheetError, read_roster, write_roster
from dispatch.people.sql import (
    PeopleError,
    add_exception,
    export_rows,
    list_exceptions,
    remove_exception,
    reset_pin,
)
from dispatch.routing.rosters import ExceptionKind, RosterException
from geo.cli import geo_engine, parse_when


def _write_pins(pins: dict[str, str], target: Path | None) -> None:
    lines = "".join(f"{w}\t{pin}\n" for w, pin in sorted(pins.items()))
    if target is None:
        print(lines, end="", flush=True)
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("worker_id\tpin\n" + lines)
    say(f"{len(pins)} PIN(s) written to {target} (hand them out, then delete the file)")


def _import(settings: Settings, args: argparse.Namespace) -> int:
    try:
        rows = read_roster(Path(args.file))
    except (OSError, SheetError) as exc:
        say(f"refused: {exc}")
        return 2
    engine = geo_engine(settings)
    try:
        with engine.begin() as conn:
            outcome = import_rows(conn, rows, write=not args.check)
    except PeopleError as exc:
        say(f"refused: {exc}")
        return 1
    finally:
        engine.dispose()
    for line in outcome.lines():
        say(line)
    if outcome.problems:
        return 1
    if outcome.result is not None and outcome.result.pins:
        _write_pins(outcome.result.pins, Path(args.pins_file) if args.pins_file else None)
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn:
            rows = export_rows(conn, scope=args.scope)
    finally:
        engine.dispose()
    Path(args.file).write_bytes(write_roster(args.file, rows))
    say(f"{len(rows)} active people written to {args.file}")
    return 0


def _reset_pin(settings: Settings, args: argparse.Namespace) -> int:
    engine = geo_engine(settings)
    try:
        with engine.begin() as conn:
            pin = reset_pin(conn, args.worker_id)
    except PeopleError as exc:
        say(f"refused: {exc}")
        return 1
    finally:
        engine.dispose()
    _write_pins({args.worker_id: pin}, Path(args.pins_file) if args.pins_file else None)
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _exception(settings: Settings, args: argparse.Namespace) -> int:
    kind = ExceptionKind(args.kind)
    first = args.on if kind is not ExceptionKind.LEAVE else args.first
    last = args.to or first
    try:
        exc = RosterException(kind, args.worker_id, first, last, getattr(args, "other_id", None))
    except ValueError as err:
        say(f"refused: {err}")
        return 2
    engine = geo_engine(settings)
    try:
        with engine.begin() as conn:
            ident = add_exception(conn, exc, by=args.by, note=args.note)
    except PeopleError as err:
        say(f"refused: {err}")
        return 1
    finally:
        engine.dispose()
    say(
        f"recorded {kind} #{ident}: {', '.join(exc.people)} {first}..{last}; routing follows within 2 minutes"
    )
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn:
            rows = list_exceptions(conn, since=args.since or datetime.now(UTC).date() - timedelta(days=1))
    finally:
        engine.dispose()
    for r in rows:
        print(f"#{r.id}\t{r.kind}\t{r.worker_id}\t{r.other_id or '-'}\t{r.first_day}\t{r.last_day}\t{r.note}")
    return 0


def _remove(settings: Settings, args: argparse.Namespace) -> int:
    engine = geo_engine(settings)
    try:
        with engine.begin() as conn:
            gone = remove_exception(conn, args.id)
    finally:
        engine.dispose()
    say(f"removed #{args.id}" if gone else f"no exception #{args.id}")
    return 0 if gone else 1


def _on_duty(settings: Settings, args: argparse.Namespace) -> int:
    at = args.at or datetime.now(UTC)
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn:
            directory = Directory.load(conn)
    finally:
        engine.dispose()
    calendar = IntakeRules.load().tk.working
    people = on_duty_in(directory, at, calendar, grid=args.grid, community=args.community)
    for c in people:
        print(f"{c.worker_id}\t{c.role}\t{c.roster}")
    say(f"{len(people)} on duty at {at.isoformat()} in {args.grid or args.community}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("people", help="the workforce: import a roster sheet, export it, reset a PIN")
    psub = p.add_subparsers(dest="people_command", required=True, metavar="ACTION")
    i = psub.add_parser("import", help="check every row of FILE.xlsx|FILE.csv, then write them in one go")
    i.add_argument("file")
    i.add_argument("--pins-file", help="write new people's PINs here (default: print them)")
    i.add_argument("--check", action="store_true", help="only check the sheet; write nothing")
    i.set_defaults(func=_import)
    e = psub.add_parser("export", help="the active roster as FILE.xlsx|FILE.csv (the import's format)")
    e.add_argument("file")
    e.add_argument("--scope", help="one community's (or street's) people only")
    e.set_defaults(func=_export)
    r = psub.add_parser("reset-pin", help="issue a new PIN to a person (printed once)")
    r.add_argument("worker_id")
    r.add_argument("--pins-file", help="write the PIN here instead of printing it")
    r.set_defaults(func=_reset_pin)

    s = sub.add_parser("shifts", help="dated shift exceptions (swap, take, leave) and who is on duty")
    ssub = s.add_subparsers(dest="shifts_command", required=True, metavar="ACTION")
    for kind, text in (
        (ExceptionKind.SWAP, "two people exchange their shifts of the day(s)"),
        (ExceptionKind.TAKE, "WORKER_ID takes OTHER_ID's shift of the day(s); OTHER_ID is off"),
    ):
        x = ssub.add_parser(kind.value, help=text)
        x.add_argument("worker_id")
        x.add_argument("other_id")
        x.add_argument("--on", type=_day, required=True, help="the (first) day, YYYY-MM-DD")
        x.add_argument("--to", type=_day, help="the last day (default: --on)")
        x.set_defaults(func=_exception, kind=kind.value)
    lv = ssub.add_parser("leave", help="a person is off every shift from --from to --to")
    lv.add_argument("worker_id")
    lv.add_argument("--from", dest="first", type=_day, required=True)
    lv.add_argument("--to", type=_day)
    lv.set_defaults(func=_exception, kind=ExceptionKind.LEAVE.value)
    for x in (*ssub.choices.values(),):
        x.add_argument("--note", default="", help="why (shown on the board)")
        x.add_argument("--by", default="district", help="who records it (an operator's login)")
    ls = ssub.add_parser("list", help="exceptions that end on or after --since (default: yesterday)")
    ls.add_argument("--since", type=_day)
    ls.set_defaults(func=_list)
    rm = ssub.add_parser("remove", help="delete an exception by its #id")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=_remove)
    od = ssub.add_parser("on-duty", help="who is on duty in a grid or a community (now or --at)")
    where = od.add_mutually_exclusive_group(required=True)
    where.add_argument("--grid")
    where.add_argument("--community")
    od.add_argument("--at", type=parse_when, help="an ISO date-time (default: now)")
    od.set_defaults(func=_on_duty)
