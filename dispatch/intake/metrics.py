"""The intake flow's Prometheus metrics, grouped in one object built on a given registry.

Tests build it on a fresh `CollectorRegistry`; the worker process builds it (through
`streams.metrics.PipelineMetrics`, which adds the consumer lag) on the default registry and
serves it over HTTP. Labels never carry personal data or free text: sources, categories,
reasons and levels are closed vocabularies.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


@dataclass(frozen=True)
class IntakeMetrics:
    reports_in: Counter
    dead_letters: Counter
    incidents_created: Counter
    reports_merged: Counter
    tasks_created: Counter
    duplicates_replayed: Counter
    batch_size: Histogram
    stage_seconds: Histogram
    report_to_task_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IntakeMetrics:
        return IntakeMetrics(
            reports_in=Counter(
                "yiwang_reports_in_total", "Reports consumed, by source", ["source"], registry=registry
            ),
            dead_letters=Counter(
                "yiwang_dead_letters_total",
                "Records sent to the DLQ, by stage and reason",
                ["stage", "reason"],
                registry=registry,
            ),
            incidents_created=Counter(
                "yiwang_incidents_created_total",
                "New incidents, by priority",
                ["priority"],
                registry=registry,
            ),
            reports_merged=Counter(
                "yiwang_reports_merged_total", "Reports merged into an existing incident", registry=registry
            ),
            tasks_created=Counter(
                "yiwang_tasks_created_total",
                "Tasks created, by kind and assignee level",
                ["kind", "level"],
                registry=registry,
            ),
            duplicates_replayed=Counter(
                "yiwang_reports_replayed_total",
                "Reports seen again after a restart or redelivery (idempotently skipped)",
                registry=registry,
            ),
            batch_size=Histogram(
                "yiwang_intake_batch_size",
                "Reports per intake batch",
                buckets=(1, 10, 50, 100, 250, 500, 1000, 2000),
                registry=registry,
            ),
            stage_seconds=Histogram(
                "yiwang_stage_seconds",
                "Time per batch in each pipeline stage",
                ["stage"],
                buckets=STAGE_BUCKETS,
                registry=registry,
            ),
            report_to_task_seconds=Histogram(
                "yiwang_report_to_task_seconds",
                "From the report entering Kafka to its task being committed in PostgreSQL",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
        )
