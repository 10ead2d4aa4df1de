"""`yiwang dlq list|show|replay|discard|counts`: the dead-letter desk at the terminal.

Without `--district` it is the city operator's desk (城市运行管理中心: every letter, also those no
district holds); with `--district CODE` a district operator's: only the letters of that district,
by the same rule and the same scope as the API (`dispatch.deadletters.places`, `dispatch.scope`),
so a letter of another district is "no dead letter" here too. Every action says which it is.

`list` prints one line per open letter (id prefix, time, source, stage, field, reason, district);
`replay` and `discard` take ids (or prefixes) or, with `--matching`, every letter the filter
options select, so a day's letters of one reason are cleared with one command after the fix.
The topic reader and the producers' side come from the command's root (`deploy/registry.py`
passes `deploy.processes.desk.command_ports`).
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from config.console import say
from config.settings import Settings
from dispatch.deadletters.desk import Decided, DeskFilter, Entry, counts_by_reason, find, select_letters
from dispatch.deadletters.flows import (
    DeskError,
    decisions,
    districts_in_force,
    read_entries,
    record,
    replay,
    scoped,
)
from dispatch.deadletters.models import Decision
from dispatch.deadletters.places import LetterPlace
from dispatch.deadletters.ports import DeskPorts
from dispatch.scope import CITY, Scope
from geo.cli import geo_engine, parse_when

Wiring = Callable[[Settings], DeskPorts]
Command = Callable[[Settings, DeskPorts, "DeskView", argparse.Namespace], int]


def _desk(args: argparse.Namespace) -> DeskFilter:
    return DeskFilter(
        source=args.source,
        reason=args.reason,
        since=args.since,
        until=args.until,
        include_decided=getattr(args, "all", False),
    )


class UnknownDistrict(LookupError):
    """`--district` names no district loaded here (the message names the flag and the known ones)."""


@dataclass(frozen=True, slots=True)
class DeskView:
    """What one operator's desk holds: the letters of its scope, where each was placed, the
    decisions, and how many letters the topic holds in all."""

    scope: Scope
    label: str  # "district 500107 (九龙坡区)" or "the city (…)"
    entries: dict[uuid.UUID, Entry]
    places: dict[uuid.UUID, LetterPlace]
    decided: dict[uuid.UUID, Decided]
    on_topic: int


def _state(settings: Settings, ports: DeskPorts, args: argparse.Namespace) -> DeskView:
    """The desk of `--district` (a district operator's) or, without it, the city operator's."""
    code: str | None = args.district
    entries = read_entries(settings, ports.read_to_end)
    engine = geo_engine(settings)
    try:
        with engine.connect() as conn:
            known = {d.code: d.name for d in districts_in_force(conn)}
            if code is not None and code not in known:
                listed = ", ".join(f"{c} ({n})" for c, n in sorted(known.items())) or "none loaded"
                raise UnknownDistrict(f"--district: {code!r} is not a district here; known: {listed}")
            scope = CITY if code is None else Scope(district=code)
            mine, places = scoped(conn, entries, scope, ports.point_of_record, ports.address_of_record)
            decided = decisions(conn)
    finally:
        engine.dispose()
    label = (
        "the city (城市运行管理中心): every district's letters and those no district holds"
        if code is None
        else f"district {code} ({known[code]}): its letters only"
    )
    return DeskView(scope, label, mine, places, decided, len(entries))


def _line(e: Entry, place: LetterPlace | None) -> str:
    x = e.letter
    seen = f" ×{e.times}" if e.times > 1 else ""
    at = x.received_at.isoformat(timespec="seconds")
    district = place.district if place and place.district else "city"
    fields = (str(x.dlq_id)[:8], at, x.source, x.stage.value, x.field, x.reason + seen, district)
    return "\t".join(fields)


def _list(settings: Settings, ports: DeskPorts, view: DeskView, args: argparse.Namespace) -> int:
    chosen = select_letters(view.entries, view.decided, _desk(args))
    for e in chosen[: args.limit]:
        d = view.decided.get(e.letter.dlq_id)
        print(_line(e, view.places.get(e.letter.dlq_id)) + (f"\t[{d.decision} by {d.actor}]" if d else ""))
    say(
        f"{len(chosen)} letter(s) selected of {len(view.entries)} on this desk "
        f"({view.on_topic} on the topic)"
        + (f", first {args.limit} shown" if len(chosen) > args.limit else "")
    )
    return 0


def _counts(settings: Settings, ports: DeskPorts, view: DeskView, args: argparse.Namespace) -> int:
    for c in counts_by_reason(view.entries, view.decided):
        print(f"{c.open}\t{c.source}\t{c.field}\te.g. {c.example}")
    return 0


def _show(settings: Settings, ports: DeskPorts, view: DeskView, args: argparse.Namespace) -> int:
    entries, decided = view.entries, view.decided
    try:
        e = find(entries, args.id)
    except LookupError as exc:
        say(str(exc))
        return 1
    doc = e.letter.model_dump(mode="json")
    for key in ("dlq_id", "source", "stage", "field", "reason", "received_at", "source_ref", "raw_encoding"):
        print(f"{key}: {doc.get(key)}")
    print(f"origin: {e.letter.origin.model_dump(exclude_none=True)}")
    print(f"seen: {e.times} time(s), last {e.last_seen.isoformat(timespec='seconds')}")
    place = view.places.get(e.letter.dlq_id)
    if place is not None:
        print(f"district: {place.district or 'city'} ({place.why})")
    d = decided.get(e.letter.dlq_id)
    if d:
        print(
            f"decision: {d.decision} by {d.actor} at {d.at.isoformat(timespec='seconds')}: "
            f"{d.reason} {d.outcome}"
        )
    print("raw:")
    print(e.letter.raw)
    return 0


def _targets(
    entries: Mapping[uuid.UUID, Entry], decided: Mapping[uuid.UUID, Decided], args: argparse.Namespace
) -> list[Entry]:
    if args.matching:
        return select_letters(entries, decided, _desk(args))
    return [find(entries, i) for i in args.ids]


def _replay(settings: Settings, ports: DeskPorts, view: DeskView, args: argparse.Namespace) -> int:
    try:
        targets = _targets(view.entries, view.decided, args)
    except LookupError as exc:
        say(str(exc))
        return 1
    engine = geo_engine(settings)
    failed = 0
    try:
        with ports.open_replay() as replaying:
            for e in targets:
                try:
                    result = replay(e, replaying)
                except DeskError as exc:
                    say(f"{str(e.letter.dlq_id)[:8]}: {exc}")
                    failed += 1
                    continue
                say(f"{str(e.letter.dlq_id)[:8]}: {result.outcome}")
                if result.ok:
                    with engine.begin() as conn:
                        record(
                            conn,
                            e.letter.dlq_id,
                            Decision.REPLAYED,
                            reason=args.note,
                            actor=args.by,
                            outcome=result.outcome,
                        )
                else:
                    failed += 1
    except DeskError as exc:  # the producers' side could not be opened
        say(f"replay: {exc}")
        return 1
    finally:
        engine.dispose()
    say(f"replayed {len(targets) - failed} of {len(targets)}")
    return 0 if not failed else 1


def _discard(settings: Settings, ports: DeskPorts, view: DeskView, args: argparse.Namespace) -> int:
    try:
        targets = _targets(view.entries, view.decided, args)
    except LookupError as exc:
        say(str(exc))
        return 1
    engine = geo_engine(settings)
    try:
        with engine.begin() as conn:
            for e in targets:
                record(conn, e.letter.dlq_id, Decision.DISCARDED, reason=args.why, actor=args.by)
    except DeskError as exc:
        say(f"refused: {exc}")
        return 2
    finally:
        engine.dispose()
    say(f"discarded {len(targets)} letter(s): {args.why}")
    return 0


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", help="one feed (police, hotline, …)")
    p.add_argument("--reason", help="part of the reason text, or the field it names")
    p.add_argument("--since", type=parse_when, help="received at or after (ISO; local time if no offset)")
    p.add_argument("--until", type=parse_when, help="received before")


def _wired(command: Command, wiring: Wiring) -> Callable[[Settings, argparse.Namespace], int]:
    """The action on the desk of `--district` (or the city's), saying whose desk it is first; an
    unknown `--district` is refused (exit 2)."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        ports = wiring(settings)
        try:
            view = _state(settings, ports, args)
        except UnknownDistrict as exc:
            say(str(exc))
            return 2
        say(f"dead letters of {view.label}")
        return command(settings, ports, view, args)

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], *, wiring: Wiring) -> None:
    """`yiwang dlq`; `wiring` builds the desk's ports from the settings (the command's root)."""
    p = sub.add_parser("dlq", help="the dead-letter desk: list, show, replay, discard, counts")
    dsub = p.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    ls = dsub.add_parser("list", help="open dead letters, newest first")
    _filters(ls)
    ls.add_argument("--all", action="store_true", help="decided ones too")
    ls.add_argument(
        "--limit", type=int, default=200, help="at most this many letters, newest first (default: 200)"
    )
    ls.set_defaults(func=_wired(_list, wiring))
    c = dsub.add_parser("counts", help="open dead letters by source and field (the board's panel)")
    c.set_defaults(func=_wired(_counts, wiring))
    sh = dsub.add_parser("show", help="one letter whole, with its raw record")
    sh.add_argument("id", help="the dlq_id or a prefix of it")
    sh.set_defaults(func=_wired(_show, wiring))
    rp = dsub.add_parser("replay", help="send letters through their adapter (or the intake) again")
    rp.add_argument("ids", nargs="*", help="dlq_ids or prefixes")
    rp.add_argument("--matching", action="store_true", help="every open letter the filters select")
    rp.add_argument("--note", default="replayed after a configuration fix", help="recorded with the replay")
    _filters(rp)
    rp.set_defaults(func=_wired(_replay, wiring))
    dc = dsub.add_parser("discard", help="drop letters for good, with a reason (recorded)")
    dc.add_argument("ids", nargs="*", help="dlq_ids or prefixes")
    dc.add_argument("--why", required=True, help="the reason, recorded with your name")
    dc.add_argument("--matching", action="store_true", help="every open letter the filters select")
    _filters(dc)
    for x in (rp, dc):
        x.add_argument("--by", default="district", help="who decides (an operator's login)")
    dc.set_defaults(func=_wired(_discard, wiring))
    rp.set_defaults(all=False)
    dc.set_defaults(all=False)
    for x in (ls, c, sh, rp, dc):
        x.add_argument(
            "--district",
            metavar="CODE",
            help="a district operator's desk: only that district's letters (its 6-digit code); "
            "without it, the city operator's (every letter)",
        )
