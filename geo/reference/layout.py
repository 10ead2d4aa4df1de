"""Who is in the district before any geometry: streets, communities, grids per community.

Streets/towns are the first `counts.streets` of the official 2023 list in code order (for
Shapingba: the 21 街道, then 青木关镇). Communities take their real names and codes from
the same list, shared among the streets in proportion to each street's real count; a
street asked for more communities than it really has gets numbered extra ones. Grids per
community follow a weight (a village, 村, gets fewer and larger grids than a 社区).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from geo.reference.params import Params, ParamsError


@dataclass(frozen=True, slots=True)
class CommunityPlan:
    code: str  # 12 digits: 6 district + 3 street + 3 community
    name: str
    street_code: str
    is_village: bool
    grids: int


@dataclass(frozen=True, slots=True)
class StreetPlan:
    code: str  # 9 digits: 6 district + 3 street
    name: str
    anchor: tuple[float, float]
    low_lying: bool
    communities: tuple[CommunityPlan, ...]


def allocate(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split `total` into integers proportional to weights (largest remainder); then any
    part below `minimum` is topped up from the largest parts.

    >>> allocate(10, [1, 1, 2])
    [3, 2, 5]
    >>> allocate(5, [100, 1, 1], minimum=1)
    [3, 1, 1]
    """
    n = len(weights)
    if total < minimum * n:
        raise ParamsError(f"cannot give {n} parts at least {minimum} each out of {total}")
    wsum = float(sum(weights))
    exact = [total * w / wsum for w in weights]
    out = [int(e) for e in exact]
    order = sorted(range(n), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    for i in range(n):
        while out[i] < minimum:
            donor = max(range(n), key=lambda j: (out[j], -j))
            out[donor] -= 1
            out[i] += 1
    return out


_SUFFIXES = (("居民委员会", ""), ("村民委员会", ""), ("居委会", ""), ("村委会", ""))


def community_name(official: str) -> str:
    """'龙泉路社区居民委员会' -> '龙泉路社区', '金刚村村民委员会' -> '金刚村'."""
    for suffix, repl in _SUFFIXES:
        if official.endswith(suffix):
            return official[: -len(suffix)] + repl
    return official


def street_stem(name: str) -> str:
    return re.sub(r"(街道|镇|乡)$", "", name)


def plan_district(params: Params, divisions: dict[str, Any]) -> tuple[StreetPlan, ...]:
    official = {s["code"]: s["name"] for s in divisions["streets"]}
    anchors = {s.code: s for s in params.streets}
    codes = [c for c in sorted(official) if c in anchors][: params.n_streets]
    if len(codes) < params.n_streets:
        raise ParamsError(f"counts.streets: only {len(codes)} official streets have an anchor")
    villages: dict[str, list[dict[str, str]]] = {c: [] for c in codes}
    for v in sorted(divisions["villages"], key=lambda v: v["code"]):
        if v["street"] in villages:
            villages[v["street"]].append(v)
    per_street = allocate(params.n_communities, [max(1, len(villages[c])) for c in codes], minimum=1)
    plans = []
    for code, n_comm in zip(codes, per_street, strict=True):
        real = villages[code][:n_comm]
        names = [(v["code"], community_name(v["name"])) for v in real]
        used = {int(c[-3:]) for c, _ in names}
        extra = (n for n in range(1, 1000) if n not in used)
        while len(names) < n_comm:
            n = next(extra)
            names.append((f"{code}{n:03d}", f"{street_stem(official[code])}第{len(names) + 1}社区"))
        plans.append((code, names))
    all_comms = [(code, c, n) for code, names in plans for c, n in names]
    weights = [params.village_grid_weight if n.endswith("村") else 1.0 for _, _, n in all_comms]
    grids = allocate(params.n_grids, weights, minimum=params.min_grids_per_community)
    out = []
    k = 0
    for code, names in plans:
        comms = []
        for ccode, cname in names:
            comms.append(CommunityPlan(ccode, cname, code, cname.endswith("村"), grids[k]))
            k += 1
        anchor = anchors[code]
        out.append(StreetPlan(code, official[code], anchor.anchor, anchor.low_lying, tuple(comms)))
    return tuple(out)
