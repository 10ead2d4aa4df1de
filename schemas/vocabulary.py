"""The words the contract is written in: priorities and coordinate systems.

They belong to the wire contract (every canonical report carries both), so they live here,
in the leaf package; `config.policy` and `geo.coords` use these same enums.
"""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    P0 = "P0"  # life safety: fire, violent crime, gas leak
    P1 = "P1"  # urgent: missing manhole cover, waterlogging, road blocked
    P2 = "P2"  # utilities / urgent need
    P3 = "P3"  # general
    P4 = "P4"  # complex

    @property
    def rank(self) -> int:
        """0 is the most urgent."""
        return int(self.value[1])


class Crs(StrEnum):
    """The coordinate system a feed declares; intake converts, adapters never do."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"
