"""The xdist work units: a grouped module goes with its group, any other module alone, and
the long units lead the collection in their listed order; every item has an id of its own, a
scheduled run runs each once, and a run that reports fewer tests than it collected is named."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from _pytest.nodeid import NodeId

from tests.scheduling import LONG_FIRST, ModuleScheduling, incomplete, long_first, own_ids, unit_of


@pytest.mark.parametrize(
    ("nodeid", "unit"),
    [
        ("tests/reliability/test_faults.py::test_restart_postgresql", "faults"),
        ("tests/reliability/test_cluster_faults.py::test_kill_9_the_active_controller", "faults"),
        (
            "tests/reliability/test_hostile_input.py::test_open311_post_never_fails_with_a_5xx",
            ("tests/reliability/test_hostile_input.py"),
        ),
        ("tests/dispatch/web/test_board.py::test_x[a::b]", "pages"),
        ("tests/dispatch/api/test_edge.py::TestX::test_y", "api"),
        ("tests/geo/test_city.py::test_z[p@q]", "tests/geo/test_city.py"),
    ],
)
def test_a_test_belongs_to_its_group_or_its_module(nodeid: str, unit: str) -> None:
    assert unit_of(nodeid) == unit
    assert ModuleScheduling._split_scope(None, nodeid) == unit  # type: ignore[arg-type]


@dataclass
class _Item:
    nodeid: str


def test_the_long_units_come_first_and_the_rest_keep_their_order() -> None:
    items = [
        _Item("tests/config/test_policy.py::a"),
        _Item("tests/dispatch/api/test_edge.py::b"),
        _Item("tests/config/test_settings.py::c"),
        _Item("tests/reliability/test_faults.py::d"),
        _Item("tests/dispatch/api/test_commands.py::e"),
        _Item("tests/reliability/test_cluster_faults.py::f"),
    ]
    long_first(items)  # type: ignore[arg-type]
    assert [i.nodeid[-1] for i in items] == ["d", "f", "b", "e", "a", "c"]
    assert LONG_FIRST.index("faults") < LONG_FIRST.index("api")


class _Named:
    """What own_ids reads of an item: its name, its parent's id, its own (as pytest 9.2 keeps it)."""

    def __init__(self, parent: str, name: str, nodeid: str) -> None:
        self.name, self.parent, self._id = name, SimpleNamespace(nodeid=parent), NodeId.parse(nodeid)

    @property
    def nodeid(self) -> str:
        return str(self._id)


def test_an_item_whose_id_lost_its_parameters_gets_the_id_its_name_says() -> None:
    module = "tests/dispatch/api/test_generated.py"
    items = [  # as schemathesis 4 makes them on pytest 9.2: one id for every operation
        _Named(module, "test_generated_requests[GET /cases]", f"{module}::test_generated_requests"),
        _Named(module, "test_generated_requests[POST /cases]", f"{module}::test_generated_requests"),
        _Named(f"{module}::TestX", "test_y[1-a::b]", f"{module}::TestX::test_y[1-a::b]"),
    ]
    own_ids(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [
        f"{module}::test_generated_requests[GET /cases]",
        f"{module}::test_generated_requests[POST /cases]",
        f"{module}::TestX::test_y[1-a::b]",
    ]
    assert items[0]._id.params == "GET /cases"


def test_a_run_names_the_tests_it_never_reported_and_the_ids_tests_share() -> None:
    collected = ["a.py::t", "a.py::u[x]", "a.py::u[x]", "b.py::v", "b.py::w"]
    assert incomplete(collected, {"a.py::t", "a.py::u[x]", "b.py::v", "b.py::w"}) == [
        "a.py::u[x]: 2 tests share this id"
    ]
    assert incomplete(collected, {"a.py::u[x]", "b.py::v"}) == [
        "a.py::u[x]: 2 tests share this id",
        "a.py::t: never reported",
        "b.py::w: never reported",
    ]
    assert incomplete(["a.py::t"], {"a.py::t"}) == []


@dataclass(eq=False)
class _Worker:
    """An xdist worker as the scheduler sees it: it runs the indices it is sent in order, and
    (as xdist's does) finishes a test only once it has the next one or is told to stop."""

    name: str
    queue: deque[int | None] = field(default_factory=deque)
    ran: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> SimpleNamespace:
        return SimpleNamespace(id=self.name)

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        if not self.shutting_down:
            self.shutting_down = True
            self.queue.append(None)


def _run(collection: list[str]) -> tuple[list[_Worker], list[tuple[str, int]]]:
    """The collection through ModuleScheduling on two workers, as xdist's controller drives it:
    the workers, and (worker, index) in the order the tests finished."""
    config: Any = SimpleNamespace(getvalue=lambda name: ["2*popen"], option=SimpleNamespace())
    scheduler = ModuleScheduling(config)
    workers = [_Worker("gw0"), _Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    finished: list[tuple[str, int]] = []
    while any(w.queue for w in workers):
        worker = next(w for w in workers if len(w.queue) > 1 or (w.queue and w.queue[0] is None))
        index = worker.queue.popleft()
        if index is None:
            continue
        worker.ran.append(index)
        finished.append((worker.name, index))
        scheduler.mark_test_complete(worker, index)
        if scheduler.tests_finished:
            for w in workers:
                w.shutdown()
    return workers, finished


def test_two_workers_run_every_test_once_and_the_fault_tests_alone() -> None:
    api = "tests/dispatch/api/test_generated.py::test_generated_requests"
    collection = [
        *(f"tests/reliability/test_faults.py::test_{n}" for n in range(4)),
        *(f"{api}[GET /x{n}]" for n in range(6)),
        "tests/dispatch/api/test_edge.py::test_a",
        *(f"tests/geo/test_city.py::test_{n}" for n in range(5)),
        "tests/config/test_policy.py::test_a",
    ]
    workers, finished = _run(collection)
    assert sorted(i for w in workers for i in w.ran) == list(range(len(collection)))
    faults = [n for n, (_, i) in enumerate(finished) if unit_of(collection[i]) == "faults"]
    during = {worker for worker, _ in finished[faults[0] : faults[-1] + 1]}
    assert len(during) == 1, finished  # nothing else finished while the faults ran
    assert all(w.ran for w in workers)  # and then both worked
