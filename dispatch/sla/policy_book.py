"""The policy book: the shared SLA limits and escalation ladder, and each district's overrides.

One deployment serves several districts; a district may treat a few things otherwise (a
category's time limit, a priority's accept limit, a ladder with one more step) while everything
it does not name stays the shared policy of config/sla.toml and config/escalation.toml.
`PolicyBook.of(district_code)` is the one answer to "under which policy does this case run": the
intake opens a case under it (its limits, and the fingerprint of the ladder frozen with it), the
case flows and the SLA tracker start later clocks under it, the replay and the forecast ask it
too. The city desk (`city`) is looked up like any district.

Why the overrides are sections of config/districts.toml (`[district.<code>.sla]`,
`[[district.<code>.escalation.ladder]]`), not files of their own: the file that says which
districts the deployment serves is where their differences are read, it deploys as one more key
of the policy ConfigMap (`yiwang k8s render`), and a replay's `--policy` folder takes it like any
other policy file.

How an override is merged:
- `sla`: key by key in the shape of config/sla.toml (`priority.<P>.<limit>`, `verify.<area>`,
  `extension.<field>`, `category.<code>.resolve`); a district writes only what differs.
- `escalation`: ladders by name. A district's ladder replaces the shared ladder of that name
  whole (a ladder is an ordered list of steps: merging step by step would be ambiguous), or adds
  a ladder for clocks no shared ladder watches.
- Not per district: `working_time` (one working calendar per deployment: the imported years of
  the State Council's notice are the deployment's) and the escalation's `returns` (the router's
  rule, shared by every district's routing).

>>> from config.policy import load_taxonomy
>>> book = load_policy_book(taxonomy=load_taxonomy())
>>> str(book.of("500107").sla.categories["exposed_garbage"]), book.of("500106") is book.shared
('2h', True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, PolicyError, Priority, Taxonomy, load_taxonomy, read_toml
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.deadlines import HOLIDAYS_FILE, Deadlines, timekeeper_for
from dispatch.sla.ladder import EscalationPolicy, parse_escalation
from dispatch.sla.policy import Area, SlaPolicy, parse_sla

SLA_FILE = CONFIG_DIR / "sla.toml"
ESCALATION_FILE = CONFIG_DIR / "escalation.toml"
DISTRICTS_FILE = CONFIG_DIR / "districts.toml"

DISTRICT_CODE = re.compile(r"\d{6}|city")
"""A district's 行政区划代码 (6 digits), or the city desk's `city`."""
_DISTRICT_FIELDS = frozenset({"name", "sla", "escalation"})
_PRIORITY_FIELDS = frozenset({"clock", "register", "accept", "on_site", "resolve"})
_SLA_TABLES: Mapping[str, frozenset[str] | None] = {
    "priority": frozenset(p.value for p in Priority),
    "verify": frozenset(a.value for a in Area),
    "extension": frozenset({"max_count", "max"}),
    "category": None,  # any category code: checked against the taxonomy when the policy is built
}
_NOT_PER_DISTRICT = {
    "sla.working_time": "one working calendar serves the whole deployment",
    "escalation.returns": "the rule for returned cases is the router's, shared by every district",
}


@dataclass(frozen=True, slots=True)
class DistrictPolicy:
    """The policy one district's cases run under: limits, ladder, and the limits bound to the
    taxonomy and the deployment's time scales (`deadlines`)."""

    sla: SlaPolicy
    escalation: EscalationPolicy
    deadlines: Deadlines
    overrides: tuple[str, ...] = ()
    """What differs from the shared policy, as dotted fields ("sla.priority.P1.accept")."""


class PolicyBook:
    """The shared policy and every district's own, looked up by district code."""

    def __init__(
        self, shared: DistrictPolicy, districts: Mapping[str, DistrictPolicy], tk: Timekeeper
    ) -> None:
        self.shared = shared
        self.districts = dict(districts)
        self.tk = tk

    def of(self, district_code: str | None) -> DistrictPolicy:
        """The policy of a case of `district_code` (the shared one for a district without
        overrides, or a case with no district)."""
        if district_code is None:
            return self.shared
        return self.districts.get(district_code, self.shared)

    def escalations(self) -> tuple[EscalationPolicy, ...]:
        """Every distinct ladder a case may be opened under (each is stored by fingerprint)."""
        seen: dict[str, EscalationPolicy] = {self.shared.escalation.fingerprint: self.shared.escalation}
        for policy in self.districts.values():
            seen.setdefault(policy.escalation.fingerprint, policy.escalation)
        return tuple(seen.values())


# --- merging ---------------------------------------------------------------------------------
def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a table")
    return value


def merged_sla(
    shared: Mapping[str, Any], override: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], list[str]]:
    """The shared sla.toml document with a district's `sla` section over it, key by key, and
    the dotted fields the section changes. An unknown table or field is refused, naming it."""
    out: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in shared.items()}
    changed: list[str] = []
    for table, body in override.items():
        here = f"{where}.{table}"
        if f"sla.{table}" in _NOT_PER_DISTRICT:
            raise PolicyError(f"{here}: not per district ({_NOT_PER_DISTRICT[f'sla.{table}']})")
        if table not in _SLA_TABLES:
            raise PolicyError(f"{here}: unknown table (one of {', '.join(_SLA_TABLES)})")
        known = _SLA_TABLES[table]
        merged = out.setdefault(table, {})
        for key, value in _table(body, here).items():
            if known is not None and key not in known:
                raise PolicyError(f"{here}.{key}: unknown field (one of {', '.join(sorted(known))})")
            if table in ("priority", "category"):
                row = _table(value, f"{here}.{key}")
                fields = _PRIORITY_FIELDS if table == "priority" else frozenset({"resolve"})
                bad = sorted(set(row) - fields)
                if bad:
                    raise PolicyError(
                        f"{here}.{key}.{bad[0]}: unknown field (one of {', '.join(sorted(fields))})"
                    )
                merged[key] = {**merged.get(key, {}), **row}
                changed += [f"sla.{table}.{key}.{f}" for f in row]
            else:
                merged[key] = value
                changed.append(f"sla.{table}.{key}")
    return out, changed


def merged_escalation(
    shared: Mapping[str, Any], override: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], list[str]]:
    """The shared escalation.toml document with a district's ladders replacing the shared ones
    of the same name (or added), and the ladders changed."""
    for table in override:
        if f"escalation.{table}" in _NOT_PER_DISTRICT:
            raise PolicyError(
                f"{where}.{table}: not per district ({_NOT_PER_DISTRICT[f'escalation.{table}']})"
            )
        if table != "ladder":
            raise PolicyError(
                f"{where}.{table}: unknown table (a district names whole ladders: [[...ladder]])"
            )
    ladders = override.get("ladder", [])
    if not isinstance(ladders, list) or not ladders:
        raise PolicyError(f"{where}.ladder: expected one or more [[ladder]] tables")
    out = dict(shared)
    merged: list[dict[str, Any]] = list(shared.get("ladder", []))
    changed: list[str] = []
    for i, ladder in enumerate(ladders):
        name = _table(ladder, f"{where}.ladder[{i}]").get("name")
        if not isinstance(name, str) or not name:
            raise PolicyError(
                f"{where}.ladder[{i}].name: a district's ladder needs the name "
                "of the shared one it replaces (or a new one)"
            )
        at = next((j for j, held in enumerate(merged) if held.get("name") == name), None)
        if at is None:
            merged.append(ladder)
        else:
            merged[at] = ladder
        changed.append(f"escalation.ladder.{name}")
    out["ladder"] = merged
    return out, changed


# --- building --------------------------------------------------------------------------------
def district_overrides(doc: Mapping[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    """The `[district.<code>]` sections of a districts.toml document, their codes and fields checked."""
    table = doc.get("district", {})
    if not isinstance(table, dict):
        raise PolicyError(f"{origin}: district: expected [district.<code>] tables")
    out: dict[str, dict[str, Any]] = {}
    for code, body in table.items():
        where = f"{origin}: district.{code}"
        if not DISTRICT_CODE.fullmatch(code):
            raise PolicyError(f"{where}: a district is named by its 6-digit code (500107) or `city`")
        section = _table(body, where)
        bad = sorted(set(section) - _DISTRICT_FIELDS)
        if bad:
            raise PolicyError(
                f"{where}.{bad[0]}: unknown field (one of {', '.join(sorted(_DISTRICT_FIELDS))})"
            )
        out[code] = section
    return out


def build_policy_book(
    *,
    sla: Mapping[str, Any],
    escalation: Mapping[str, Any],
    districts: Mapping[str, Any],
    taxonomy: Taxonomy,
    origins: tuple[str, str, str] = ("sla.toml", "escalation.toml", "districts.toml"),
    tk: Timekeeper | None = None,
    holidays: Path = HOLIDAYS_FILE,
) -> PolicyBook:
    """The book from the three documents; every district's merged policy is parsed and checked
    as a whole policy file would be, its errors naming the district's section."""
    sla_origin, escalation_origin, districts_origin = origins
    shared_sla = parse_sla(dict(sla), origin=sla_origin)
    _checked(shared_sla, taxonomy, sla_origin)
    tk = tk or timekeeper_for(shared_sla, holidays)
    shared_escalation = parse_escalation(dict(escalation), origin=escalation_origin)
    shared = DistrictPolicy(shared_sla, shared_escalation, Deadlines(shared_sla, taxonomy, tk))
    out: dict[str, DistrictPolicy] = {}
    for code, section in district_overrides(districts, districts_origin).items():
        where = f"{districts_origin}: district.{code}"
        changed: list[str] = []
        policy_sla, policy_escalation = shared_sla, shared_escalation
        if "sla" in section:
            doc, fields = merged_sla(sla, _table(section["sla"], f"{where}.sla"), f"{where}.sla")
            policy_sla = _checked(parse_sla(doc, origin=f"{where}.sla"), taxonomy, f"{where}.sla")
            changed += fields
        if "escalation" in section:
            doc, fields = merged_escalation(
                escalation, _table(section["escalation"], f"{where}.escalation"), f"{where}.escalation"
            )
            try:
                policy_escalation = parse_escalation(doc, origin=f"{where}.escalation")
            except PolicyError as exc:  # the ladders' own check ("clock X is on two ladders") names no file
                raise PolicyError(str(exc) if str(exc).startswith(where) else f"{where}.{exc}") from None
            changed += fields
        if changed:
            deadlines = shared.deadlines if policy_sla is shared_sla else Deadlines(policy_sla, taxonomy, tk)
            out[code] = DistrictPolicy(policy_sla, policy_escalation, deadlines, tuple(changed))
    return PolicyBook(shared, out, tk)


def _checked(policy: SlaPolicy, taxonomy: Taxonomy, origin: str) -> SlaPolicy:
    """`SlaPolicy.check`, its refusal naming where the policy was read."""
    try:
        policy.check(taxonomy)
    except PolicyError as exc:
        raise PolicyError(f"{origin}: {str(exc).removeprefix('sla: ')}") from None
    return policy


def load_policy_book(
    *,
    taxonomy: Taxonomy | None = None,
    sla: Path = SLA_FILE,
    escalation: Path = ESCALATION_FILE,
    districts: Path = DISTRICTS_FILE,
    holidays: Path = HOLIDAYS_FILE,
    tk: Timekeeper | None = None,
) -> PolicyBook:
    """The book of config/ (or of the given files): what every process computes cases with."""
    return build_policy_book(
        sla=read_toml(sla),
        escalation=read_toml(escalation),
        districts=read_toml(districts) if districts.exists() else {},
        taxonomy=taxonomy or load_taxonomy(),
        origins=(str(sla), str(escalation), str(districts)),
        tk=tk,
        holidays=holidays,
    )
