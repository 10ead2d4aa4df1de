"""Generated requests against the running Open311 intake, from its own /openapi.json: no 5xx,
every status one the document lists, every JSON body as described. POSTs carry the
hotline's development key, so the mapping (and its dead-lettering) sees every generated form.
`EXAMPLES` cases per operation (derandomised), `SOAK_EXAMPLES` with `--soak`."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from producers.open311.serve import PREFIX
from tests.conftest import GENERATED
from tests.producers.test_open311 import KEY, server

__all__ = ["server"]
pytestmark = pytest.mark.kafka
EXAMPLES = 40
SOAK_EXAMPLES = 400
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _generated_run(server: str, run: settings) -> None:
    root = server.removesuffix(PREFIX)
    schema = schemathesis.openapi.from_url(f"{root}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6, [op.label for op in operations]
    with requests.Session() as session:
        for operation in operations:

            @given(case=operation.as_strategy())
            @run
            def check(case: Any) -> None:
                GENERATED["open311 agency"] += 1
                if isinstance(case.body, dict):
                    case.body["api_key"] = KEY
                case.call_and_validate(base_url=root, session=session, checks=CHECKS)

            check()


LEAN = settings(
    max_examples=EXAMPLES,
    phases=[Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def test_generated_open311_requests(server: str) -> None:
    _generated_run(server, LEAN)


@pytest.mark.slow
def test_generated_open311_requests_soak(server: str) -> None:
    _generated_run(server, settings(LEAN, max_examples=SOAK_EXAMPLES))
