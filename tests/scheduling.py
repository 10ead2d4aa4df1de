"""How `yiwang test` shares the suite between its pytest-xdist workers.

A work unit is one test module, so its module fixtures (a worker process, an API, a browser)
are set up once, on one worker; modules marked with the same `xdist_group` form one unit
(the fault tests: a broker and a PostgreSQL cluster of their own on fixed ports). Units are
handed out longest first (LONG_FIRST, measured), so what is left for the end is short and
neither worker idles while the other finishes a long scenario.
"""

from __future__ import annotations

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

LONG_FIRST: tuple[str, ...] = ("faults",)
"""Units (a group's name or a module's path) to hand out first, longest first."""


def unit_of(item: pytest.Item) -> str:
    """The item's work unit: its xdist group, else its module's path (as in a node id)."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return item.nodeid.split("::", 1)[0]


def long_first(items: list[pytest.Item]) -> None:
    """Reorder the collection (in place, the same on every worker) so the LONG_FIRST units
    come first, in their order, and the rest keep theirs."""
    rank = {unit: i for i, unit in enumerate(LONG_FIRST)}
    order = {id(item): (rank.get(unit_of(item), len(LONG_FIRST)), i) for i, item in enumerate(items)}
    items.sort(key=lambda item: order[id(item)])


class ModuleScheduling(LoadScopeScheduling):
    """xdist's `loadscope`, with a module (not a class) or an `xdist_group` as the unit, and
    the collection's order kept (long_first has put the long units at its head)."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False  # xdist would sort the units by their test count

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.rfind("@") > nodeid.rfind("]"):  # `--dist loadgroup` suffixed the group's name
            return nodeid.rsplit("@", 1)[-1]
        return nodeid.split("::", 1)[0]
