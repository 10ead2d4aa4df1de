"""Shared inputs of the replay tests: simulated reports of the reference district (made by the
real simulator and adapters), a worker model, and today's configuration without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import pytest

from config.policy import load_taxonomy
from dispatch.replay.configuration import Configuration, load_rules, reference_configuration
from dispatch.replay.service_times import Sample, ServiceTimes
from geo.reference import ReferenceDistrict
from producers.adapters.registry import ADAPTERS
from producers.outcome import Context
from producers.simulator import generate
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report
from schemas.report_struct import ReportStruct, decode_report

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def simulated_reports(seed: int, count: int, *, start: datetime, span: timedelta) -> list[ReportStruct]:
    """Canonical reports as the intake decodes them, received 20 s after they were reported."""
    sources, taxonomy = load_sources(), load_taxonomy()
    ctx_at = start + span + timedelta(hours=1)
    out: list[ReportStruct] = []
    for item in generate(seed, count, start=start, span=span, malformed_share=0.0):
        ctx = Context(sources[item.source], taxonomy, ctx_at, Origin())
        for report in ADAPTERS[item.source](item.payload, ctx):
            if not isinstance(report, Report):  # rejections, and CAP life-cycle records
                continue
            decoded, _ = decode_report(report.model_dump_json().encode())
            out.append(
                msgspec.structs.replace(decoded, received_at=decoded.reported_at + timedelta(seconds=20))
            )
    return out


def synthetic_steps(n: int, *, seed: int = 1, accept_s: float = 600.0) -> list[Sample]:
    """Measured-looking steps: lognormal delays around `accept_s` to accept, hours to resolve."""
    rng = np.random.default_rng(seed)
    out: list[Sample] = []
    for i in range(n):
        t = 1.0e9
        case = f"case-{i}"
        out.append((case, "dispatch", t, "P3"))
        t += float(rng.lognormal(np.log(accept_s), 0.6))
        out.append((case, "accept", t, "P3"))
        t += float(rng.lognormal(np.log(3 * 3600), 0.8))
        out.append((case, "resolve", t, "P3"))
        t += float(rng.lognormal(np.log(1800), 0.5))
        out.append((case, "verify", t, "P3"))
        out.append((case, "close", t + 60, "P3"))
    return out


@pytest.fixture(scope="session")
def week_reports() -> list[ReportStruct]:
    return simulated_reports(11, 600, start=MONDAY, span=timedelta(days=2))


@pytest.fixture(scope="session")
def times() -> ServiceTimes:
    return ServiceTimes.fit(synthetic_steps(300))


@pytest.fixture(scope="session")
def today(reference: ReferenceDistrict) -> Configuration:
    return reference_configuration("today", reference, load_rules())
