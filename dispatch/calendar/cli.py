"""`yiwang calendar import FILE`, `yiwang calendar show [--year Y]`, `yiwang sla deadline`.

The import is the yearly chore of a district (README, "SLA tracking and escalation"): the State
Council's notice comes out around November; an operator types it into a file in the shape
config/holidays.toml documents and imports it before the package update arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from config.policy import PolicyError, Priority
from config.settings import Settings
from dispatch.calendar.imported_years import ImportedYears, build_calendar, read_imported
from dispatch.calendar.revisions import import_years
from dispatch.cases import queries as q
from dispatch.cases.boot import connect, rules_and_people, store_policies
from dispatch.cases.flows import CaseFlows
from dispatch.intake.rules import IntakeRules, area_of
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.sla.calendar import WorkingCalendar, package_last_year, rule_based_year
from dispatch.sla.deadlines import HOLIDAYS_FILE, read_schedules
from dispatch.sla.errors import SlaError
from dispatch.sla.forecast import forecast
from dispatch.sla.policy import Area
from dispatch.sla.policy_book import load_policy_book


def _refuse(message: str) -> int:
    print(f"refused: {message}", file=sys.stderr)
    return 2


async def _import(settings: Settings, path: Path) -> int:
    schedules = read_schedules(path)  # refused whole before anything is touched
    text = path.read_text(encoding="utf-8")
    rules, people = await rules_and_people(settings.db_url)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, enable_idempotence=True, acks="all"
    )
    await producer.start()

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        return await producer.send(topic, value, key=key, headers=headers)

    conn = await connect(settings, application_name="yiwang-calendar-import")
    try:
        flows = CaseFlows(
            settings,
            rules,
            people,
            send,
            metrics=DispatchMetrics.create(CollectorRegistry()),
            clock=settings.clock(),
        )
        await store_policies(conn, rules.book)
        result = await import_years(conn, flows, schedules, now=flows.clock(), origin=str(path), text=text)
    finally:
        await conn.close()
        await producer.stop()
    print(
        f"imported {', '.join(map(str, result.years))} (calendar revision {result.revision}); "
        f"authoritative until {result.authoritative_until.isoformat()}"
    )
    print(
        f"{len(result.changes)} open case(s) got new deadlines (deadline_revised events)"
        + ("" if result.published else "; publishing failed, the outbox relay will publish them")
    )
    return 0


def _calendar_import(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_import(settings, Path(args.file)))
    except PolicyError as exc:
        return _refuse(f"{exc} (nothing was changed)")


async def _imported(settings: Settings) -> ImportedYears:
    conn = await connect(settings, application_name="yiwang-calendar")
    try:
        return await read_imported(conn)
    finally:
        await conn.close()


def calendar_now(settings: Settings) -> tuple[WorkingCalendar, ImportedYears]:
    """The calendar every process computes with right now (config/holidays.toml + imports)."""
    imported = asyncio.run(_imported(settings))
    return build_calendar(load_policy_book().shared.sla, imported), imported


def _year_doc(calendar: WorkingCalendar, imported: ImportedYears, year: int) -> dict[str, Any]:
    by_year = {y.year: y for y in imported.years}
    if year <= package_last_year():
        origin = "chinese-calendar package"
    elif year in by_year:
        origin = f"imported ({by_year[year].source or 'no source given'})"
    elif year <= calendar.authoritative_last.year:
        origin = f"config ({HOLIDAYS_FILE.name})"
    else:
        origin = "provisional: weekdays minus rule-based statutory holidays (holidays package), no 调休"
    days = [
        date(year, 1, 1).fromordinal(o)
        for o in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())
    ]
    known = [d for d in days if calendar.first <= d <= calendar.last]
    holidays = [d.isoformat() for d in known if d.weekday() < 5 and not calendar.is_workday(d)]
    workdays = [d.isoformat() for d in known if d.weekday() >= 5 and calendar.is_workday(d)]
    if year > calendar.authoritative_last.year:
        holidays = sorted(d.isoformat() for d in rule_based_year(year).holidays)
    return {"year": year, "origin": origin, "holidays": holidays, "workdays": workdays}


def _calendar_show(settings: Settings, args: argparse.Namespace) -> int:
    calendar, imported = calendar_now(settings)
    doc: dict[str, Any] = {
        "authoritative_until": calendar.authoritative_until.isoformat(),
        "provisional_until": calendar.horizon.isoformat(),
        "revision": imported.revision,
        "imported_years": [y.year for y in imported.years],
    }
    if args.year is not None:
        if not calendar.first.year <= args.year <= calendar.last.year:
            return _refuse(
                f"--year {args.year}: the calendar covers {calendar.first.year}..{calendar.last.year}"
            )
        doc["year"] = _year_doc(calendar, imported, args.year)
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    print(f"authoritative until {doc['authoritative_until']} (calendar revision {imported.revision})")
    print(f"provisional until   {doc['provisional_until']}")
    if "year" in doc:
        y = doc["year"]
        print(f"{y['year']}: {y['origin']}")
        print("  days off on weekdays: " + (", ".join(y["holidays"]) or "none"))
        print("  make-up working days: " + (", ".join(y["workdays"]) or "none"))
    return 0


async def _street_area(settings: Settings, street: str) -> Area:
    conn = await connect(settings, application_name="yiwang-sla-deadline")
    try:
        name = await q.street_name(conn, street)
    finally:
        await conn.close()
    if name is None:
        raise PolicyError(f"--street: no street {street!r} in the loaded district")
    return area_of(name)


def _question(args: argparse.Namespace) -> tuple[datetime, Priority]:
    """--from and --priority, each refused by name."""
    try:
        start = datetime.fromisoformat(args.start)
    except ValueError:
        raise PolicyError(f"--from: {args.start!r} is not an ISO-8601 instant") from None
    if start.tzinfo is None:
        raise PolicyError(f"--from: {args.start!r} has no UTC offset (e.g. 2026-12-31T16:00:00+08:00)")
    try:
        return start, Priority(args.priority)
    except ValueError:
        raise PolicyError(
            f"--priority: {args.priority!r} is not one of {', '.join(p.value for p in Priority)}"
        ) from None


def _sla_deadline(settings: Settings, args: argparse.Namespace) -> int:
    try:
        start, priority = _question(args)
    except PolicyError as exc:
        return _refuse(str(exc))
    rules = IntakeRules.load()
    if args.category not in rules.taxonomy.categories:
        return _refuse(f"--category: no category {args.category!r} in config/taxonomy.toml")
    try:
        area = asyncio.run(_street_area(settings, args.street)) if args.street else Area.CITY
        calendar, _ = calendar_now(settings)
        rules.tk.working.adopt(calendar)
        district = args.district or (args.street[:6] if args.street else None)
        policy = rules.policy_of(district)  # the district's own limits and ladder (the policy book)
        plan = forecast(
            policy.deadlines,
            policy.escalation,
            category=args.category,
            priority=priority,
            start=start,
            area=area,
        )
    except (PolicyError, SlaError) as exc:
        return _refuse(str(exc))
    if args.json:
        print(json.dumps({c.value: f.doc() for c, f in plan.items()}, indent=2, ensure_ascii=False))
        return 0
    mark = {True: "provisional", False: "authoritative"}
    print(f"{args.category} {priority.value} opened {start.isoformat()} ({area.value}):")
    for name, f in plan.items():
        print(f"  {name.value:9} due {f.deadline.isoformat()}  {mark[f.provisional]}  ({f.kind.value} time)")
        for s in f.steps:
            print(f"    {s.step:9} {s.at.isoformat()}  {s.action} {s.target}  {mark[s.provisional]}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cal = sub.add_parser(
        "calendar", help="the working calendar: import the State Council's notice, show years"
    )
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    p = cal_sub.add_parser(
        "import", help="import published years (TOML or JSON, as config/holidays.toml shows)"
    )
    p.add_argument("file", help="the schedule file (.toml or .json)")
    p.set_defaults(func=_calendar_import)
    p = cal_sub.add_parser("show", help="until when the calendar is authoritative; one year's days")
    p.add_argument("--year", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_calendar_show)
    sla = sub.add_parser("sla", help="SLA questions")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True, metavar="ACTION")
    p = sla_sub.add_parser(
        "deadline", help="every deadline and escalation step a case opened at --from would get"
    )
    p.add_argument("--category", required=True)
    p.add_argument("--priority", required=True)
    p.add_argument("--from", dest="start", required=True, help="ISO-8601 with offset")
    p.add_argument("--street", default=None, help="street code (towns have the rural verification limit)")
    p.add_argument(
        "--district",
        default=None,
        help="district code whose policy applies (default: the --street's district, else the shared policy)",
    )
    p.add_argument("--json", action="store_true", help="clock names as keys")
    p.set_defaults(func=_sla_deadline)
