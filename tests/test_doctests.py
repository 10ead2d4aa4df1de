"""The runnable examples in docstrings are tests too."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "bench.pipeline",
    "config.policy",
    "config.report_partitions",
    "config.topics",
    "dispatch.deadletters.places",
    "dispatch.merging",
    "dispatch.notices.rules",
    "dispatch.replay.service_times",
    "dispatch.scope",
    "dispatch.search.lookup",
    "dispatch.search.phones",
    "dispatch.sla.policy_book",
    "dispatch.volunteers.policy",
    "geo.coords",
    "geo.maplinks",
    "geo.lattice",
    "geo.index",
    "geo.gazetteer",
    "geo.city",
    "geo.service",
    "geo.reference",
    "geo.reference.layout",
    "producers.adapters.points",
    "producers.district_partitions",
    "schemas.text",
    "streams.read_ahead",
    "streams.lanes",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.attempted > 0, f"{name} has no example"
    assert result.failed == 0
