"""The xdist work units: a grouped module goes with its group, any other module alone, and
the long units lead the collection in their listed order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.scheduling import LONG_FIRST, ModuleScheduling, long_first, unit_of


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
