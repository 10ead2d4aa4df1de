"""Canonical reports built for tests (schemas/report.py): one builder, so that the case tests'
reports in a grid and the producers' tests' reports at a place are made the same way (the id
derived from the source and its reference, both times the same, the raw payload an empty JSON
object)."""

from __future__ import annotations

from datetime import datetime

from schemas.report import Location, Priority, Raw, RawFormat, Report, Reporter, Source, report_id_for


def canonical_report(
    location: Location,
    *,
    ref: str,
    at: datetime,
    source: Source | str = Source.HOTLINE,
    category: str = "city_appearance",
    priority: Priority = Priority.P2,
    description: str = "",
    reporter: Reporter | None = None,
) -> Report:
    """A report of `source` with the agency's reference `ref`, reported and received at `at`."""
    return Report(
        report_id=report_id_for(Source(source), ref),
        source=Source(source),
        source_ref=ref,
        reported_at=at,
        received_at=at,
        category=category,
        priority=priority,
        location=location,
        description=description,
        reporter=reporter,
        raw=Raw(format=RawFormat.JSON, text="{}"),
    )
