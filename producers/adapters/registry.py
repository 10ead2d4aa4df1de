"""The adapter registry: one pure adapter per agency system (see producers/adapters/<source>.py).

`ADAPTERS` is what the CLI, the simulator and the tests use; `LINE_ORIENTED` names
the feeds whose records are single lines, which `yiwang produce SOURCE -` streams line by line.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from producers.adapters import citymgmt, cyberspace, emergency, fire, hotline, patrol, police, resident
from producers.outcome import Adapter
from schemas.report import Source

ADAPTERS: Mapping[Source, Adapter] = MappingProxyType(
    {
        Source.POLICE: police.adapt,
        Source.CITYMGMT: citymgmt.adapt,
        Source.EMERGENCY: emergency.adapt,
        Source.FIRE: fire.adapt,
        Source.CYBERSPACE: cyberspace.adapt,
        Source.HOTLINE: hotline.adapt,
        Source.PATROL: patrol.adapt,
        Source.RESIDENT: resident.adapt,
    }
)

LINE_ORIENTED: frozenset[Source] = frozenset({Source.POLICE, Source.PATROL})
