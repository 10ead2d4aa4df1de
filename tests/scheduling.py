"""How `yiwang test` shares the suite between its pytest-xdist workers.

A work unit is one test module, so its module fixtures (a worker process, an API, a browser)
are set up once, on one worker; the modules under a GROUPS prefix form one unit: the fault
tests (a broker and a PostgreSQL cluster of their own on fixed ports, and the machine's CPU
while their load runs), and the page and API tests (session fixtures that start a stack or
build a world of cases, set up once rather than on each worker). Units are handed out
longest first (LONG_FIRST, measured), so what is left for the end is short and neither worker
idles while the other finishes a long scenario.

(xdist's own `xdist_group` mark cannot carry this: on pytest 9 the group suffix it writes
into the node id no longer reaches the scheduler, so the groups are named here by path.)

xdist knows a test by its node id alone: the scheduler's work units map ids to their state and
a worker is sent the first index of an id. Ids that several items share would run once, and
silently, so `own_ids` gives each item the id its name says, and `incomplete` names what a run
collected but never reported (the session fails on it, on one process or several).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import pytest
from _pytest.nodeid import NodeId
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

GROUPS: dict[str, str] = {
    "tests/reliability/test_faults.py": "faults",
    "tests/reliability/test_cluster_faults.py": "faults",
    "tests/dispatch/web/": "pages",
    "tests/dispatch/api/": "api",
}
"""Node-id prefix -> the unit its modules belong to."""

LONG_FIRST: tuple[str, ...] = (
    "faults",
    "pages",
    "api",
    "tests/streams/sla/test_calendar_worker.py",
    "tests/dispatch/search/test_xlsx_stream.py",
    "tests/streams/sla/test_sla_recovery.py",
    "tests/deploy/test_run_command.py",
    "tests/streams/test_pipeline.py",
    "tests/dispatch/people/test_roster_import.py",
    "tests/dispatch/cases/test_alerts_flow.py",
    "tests/test_code_quality.py",
    "tests/streams/test_districts.py",
    "tests/streams/test_urgency.py",
    "tests/geo/test_city.py",
    "tests/dispatch/cases/test_sla_pass.py",
    "tests/dispatch/cases/test_flows.py",
    "tests/dispatch/volunteers/test_flows.py",
    "tests/dispatch/notices/test_deliveries.py",
    "tests/dispatch/replay/test_replay_cli.py",
    "tests/test_layers.py",
)
"""Units to hand out first, longest first (from the suite's --durations on the reference
machine); the rest follow in collection order."""


def unit_of(nodeid: str) -> str:
    """The work unit of a test: its group, else its module's path."""
    module = nodeid.split("::", 1)[0]
    for prefix, group in GROUPS.items():
        if module.startswith(prefix):
            return group
    return module


def long_first(items: list[pytest.Item]) -> None:
    """Reorder the collection (in place, the same on every worker) so the LONG_FIRST units
    come first, in their order, and the rest keep theirs."""
    rank = {unit: i for i, unit in enumerate(LONG_FIRST)}
    order = {id(item): (rank.get(unit_of(item.nodeid), len(LONG_FIRST)), i) for i, item in enumerate(items)}
    items.sort(key=lambda item: order[id(item)])


def own_ids(items: Iterable[pytest.Item]) -> None:
    """Give an item whose node id lacks its name's parameters the id its name says.

    schemathesis 4 makes one item per API operation, named `test_x[GET /a]`, with
    `originalname="test_x"` and no callspec; pytest 9.2 builds a Function's id from
    `originalname` and the callspec, so every operation's item had the id `…::test_x`. On one
    process each still ran; on two, xdist ran one item per id and dropped the other 168."""
    for item in items:
        if item.parent is not None and not item.nodeid.endswith(item.name):
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")


def incomplete(collected: Sequence[str], reported: Iterable[str]) -> list[str]:
    """What is wrong with a run that collected `collected` and reported on `reported` (node ids;
    a test is reported once any phase of it is): ids that several items share (xdist would run
    one of them), then the tests never reported, each named."""
    seen = set(reported)
    shared = [f"{nodeid}: {n} tests share this id" for nodeid, n in Counter(collected).items() if n > 1]
    missing = [f"{nodeid}: never reported" for nodeid in dict.fromkeys(collected) if nodeid not in seen]
    return shared + missing


ALONE: frozenset[str] = frozenset({"faults"})
"""Units that have the machine to themselves: the other workers wait while one runs. The
fault scenarios hold 500 reports/s from the test process while workers, a broker (three, for
the cluster) and PostgreSQL take that load on two cores; with the page tests beside them the
simulator sent 190-356/s (measured; alone, 500/s in the single-broker worker and database
faults), so the load they claim would not be the load they ran. LONG_FIRST puts them first,
before any other unit is handed out."""


class ModuleScheduling(LoadScopeScheduling):
    """xdist's `loadscope` with unit_of as the unit, the collection's order kept (long_first
    has put the long units at its head), and the ALONE units run with the others idle."""

    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False  # xdist would sort the units by their test count
        self._held: list[WorkerController] = []

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)

    def _alone_on(self) -> WorkerController | None:
        """The worker running an ALONE unit now, if one is."""
        for node, work in self.assigned_work.items():
            if any(unit in ALONE and not all(tests.values()) for unit, tests in work.items()):
                return node
        return None

    def _assign_work_unit(self, node: WorkerController) -> None:
        owner = self._alone_on()
        if owner is not None and owner is not node:  # its own worker may queue the next unit:
            if node not in self._held:  # a worker holds its last test until it has the next one
                self._held.append(node)
            return
        super()._assign_work_unit(node)

    def mark_test_complete(self, node: WorkerController, item_index: int, duration: float = 0) -> None:
        super().mark_test_complete(node, item_index, duration)
        if self._held and self._alone_on() is None:
            held, self._held = self._held, []
            for waiting in held:
                self._reschedule(waiting)
