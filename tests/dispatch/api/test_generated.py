"""Generated requests (schemathesis, from the API's own /openapi.json) against the running API
with cases in it, for every operation and every kind of caller: no answer is a 5xx, every
status is one the document lists for the operation, every body matches the schema it
declares.

The API runs under uvicorn on a port of its own (the real pool, producer and lifespan; the
live feed off), over the session's world of cases (conftest). Each operation gets `EXAMPLES`
generated cases (derandomised: the same cases every run), sent as every caller its tag says it
is for (`MEANT_FOR`; an operation of any other tag is for all), the first `OTHERS` of them as
every other caller too. `--soak` adds schemathesis's coverage phase (the boundaries and types
each schema implies) and `SOAK_EXAMPLES` random cases per operation.

A new endpoint joins by being in the document: nothing here lists operations. One for a
role gets that role's tag (or a new entry in `MEANT_FOR`), and a line in the authorisation
matrix (test_authorisation.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.settings import Settings
from deploy.processes.api import create_api
from tests.conftest import GENERATED
from tests.dispatch.api.conftest import STREET_A, Crew, Notices, Tokens, World
from tests.dispatch.web.conftest import free_port

pytestmark = [pytest.mark.db, pytest.mark.kafka]

EXAMPLES = 25
OTHERS = 3  # of those, how many go to the callers the operation is not for (403, or 404 for agencies)
SOAK_EXAMPLES = 400
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATORS = ("city operator", "district operator", "street operator")
MEANT_FOR = {  # role tags: who an operation so tagged is for
    "operator": OPERATORS,
    "grid worker": ("grid worker",),
    "agency": ("agency",),
    "volunteer": ("volunteer",),
    "partner": ("partner",),
    "desk": ("desk",),
}
CALLERS: dict[str, Callable[[Tokens, World, Crew, Notices], dict[str, str]]] = {
    "city operator": lambda tokens, world, crew, notices: tokens.city(),
    "district operator": lambda tokens, world, crew, notices: tokens.operator(None),
    "street operator": lambda tokens, world, crew, notices: tokens.operator(STREET_A),
    "grid worker": lambda tokens, world, crew, notices: tokens.worker(world.a1.assignee),
    "agency": lambda tokens, world, crew, notices: tokens.agency("hotline"),
    "volunteer": lambda tokens, world, crew, notices: tokens.volunteer(crew.a, crew.a_community),
    "partner": lambda tokens, world, crew, notices: tokens.partner("p-grocer"),
    "desk": lambda tokens, world, crew, notices: tokens.desk(notices.desk_a),
}


@pytest.fixture(scope="module")
def base_url(kafka: Settings, world: World) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_api(kafka, live=False), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def callers(tokens: Tokens, world: World, crew: Crew, world_notices: Notices) -> dict[str, dict[str, str]]:
    """Each kind of caller's headers (a real volunteer of the world's crew, the desk of a1's
    community with its notices)."""
    return {name: credentials(tokens, world, crew, world_notices) for name, credentials in CALLERS.items()}


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


DOCUMENT = create_api(Settings(), live=False).openapi()  # built, not started: no I/O
# `/live` and `/worker/live` are endless event streams, not one answer to check: test_live.py
# and tests/dispatch/web (the worker page's live feed)
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path=["/live", "/worker/live"])


def test_the_running_api_serves_the_document_tested(base_url: str, session: requests.Session) -> None:
    assert session.get(f"{base_url}/openapi.json", timeout=10).json() == DOCUMENT


def meant_for(tags: list[str]) -> set[str]:
    """The callers an operation is for, by its role tags; an operation without one is for all."""
    named = {caller for tag in tags for caller in MEANT_FOR.get(tag, ())}
    return named or set(CALLERS)


SENT: Counter[str] = Counter()  # generated cases per operation


def _run(
    case: Any, run: str, *, base_url: str, callers: dict[str, dict[str, str]], session: requests.Session
) -> None:
    """The generated request from each caller the operation is for, and its first `OTHERS`
    from every other caller too."""
    operation = f"{run} {case.operation.label}"
    SENT[operation] += 1
    wanted = meant_for(case.operation.definition.raw.get("tags", []))
    for caller, headers in callers.items():
        if caller not in wanted and SENT[operation] > OTHERS:
            continue
        GENERATED[caller] += 1
        try:
            case.call_and_validate(base_url=base_url, session=session, checks=CHECKS, headers=headers)
        except Exception as exc:
            exc.add_note(f"as the {caller}")
            raise


LEAN = settings(
    max_examples=EXAMPLES,
    phases=[Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@LEAN
def test_generated_requests(
    case: Any, base_url: str, callers: dict[str, dict[str, str]], session: requests.Session
) -> None:
    _run(case, "lean", base_url=base_url, callers=callers, session=session)


@pytest.mark.slow
@schema.parametrize()
@settings(LEAN, max_examples=SOAK_EXAMPLES, phases=[Phase.explicit, Phase.generate], derandomize=False)
def test_generated_requests_soak(
    case: Any, base_url: str, callers: dict[str, dict[str, str]], session: requests.Session
) -> None:
    _run(case, "soak", base_url=base_url, callers=callers, session=session)
