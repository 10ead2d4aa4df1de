"""Which partitions of every report topic carry which district's reports
(config/districts.toml `[report_partitions]`): the data the producers' publisher partitions by.

>>> shares = load_report_partitions()
>>> shares.range_of("500107"), shares.range_of("500199"), shares.range_of("city")
(range(2, 4), range(4, 6), range(4, 6))
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from config.districts import DISTRICTS_FILE
from config.policy import PolicyError
from config.topics import TopicSpec, load_topics

CITY = "city"
"""The city desk's share: what lies outside every district, or has no point."""
REPORT_TOPIC_PREFIX = "reports."


@dataclass(frozen=True, slots=True)
class ReportPartitions:
    ranges: dict[str, range]
    """District code (or `city`) → its partitions of each report topic."""

    @property
    def districts(self) -> tuple[str, ...]:
        return tuple(code for code in self.ranges if code != CITY)

    def range_of(self, district_code: str) -> range:
        """A district's partitions; an unlisted district shares the city's."""
        return self.ranges.get(district_code, self.ranges[CITY])

    @property
    def needed(self) -> int:
        """The partitions a report topic needs for every range to exist."""
        return max(r.stop for r in self.ranges.values())


def load_report_partitions(
    path: Path = DISTRICTS_FILE, topics: tuple[TopicSpec, ...] | None = None
) -> ReportPartitions:
    """The `[report_partitions]` table, checked against the report topics' partition counts."""
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    return parse_report_partitions(
        doc.get("report_partitions"), topics if topics is not None else load_topics(), origin=path.name
    )


def parse_report_partitions(
    table: object, topics: tuple[TopicSpec, ...], *, origin: str = "districts.toml"
) -> ReportPartitions:
    where = f"{origin} [report_partitions]"
    if not isinstance(table, dict):
        raise PolicyError(f"{where}: a table of district code = [first, last] is required")
    ranges: dict[str, range] = {}
    for code, value in table.items():
        if not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 0 <= value[0] <= value[1]
        ):
            raise PolicyError(f"{where} {code}: expected [first, last] partitions, 0 <= first <= last")
        ranges[str(code)] = range(value[0], value[1] + 1)
    if CITY not in ranges:
        raise PolicyError(f"{where}: `{CITY}` is required (what lies outside every district)")
    taken: dict[int, str] = {}
    for code, share in ranges.items():
        for p in share:
            if p in taken:
                raise PolicyError(f"{where} {code}: partition {p} is {taken[p]}'s too")
            taken[p] = code
    shares = ReportPartitions(ranges)
    for spec in topics:
        if (
            spec.name.startswith(REPORT_TOPIC_PREFIX)
            and spec.name != "reports.dlq"
            and spec.partitions < shares.needed
        ):
            raise PolicyError(
                f"{where}: topic {spec.name} has {spec.partitions} partitions; "
                f"the ranges need {shares.needed}"
            )
    return shares
