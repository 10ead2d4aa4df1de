"""The stream worker's Prometheus metrics: the intake flow's, plus what only the Kafka edge knows.

The consumer lag is measured from the group's committed offsets (`streams.lag.group_lag`),
which the intake flow never sees; everything else is `dispatch.intake.metrics.IntakeMetrics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from kafka import TopicPartition
from prometheus_client import CollectorRegistry, Gauge

from dispatch.intake.metrics import IntakeMetrics


@dataclass(frozen=True)
class PipelineMetrics(IntakeMetrics):
    consumer_lag: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PipelineMetrics:
        intake = IntakeMetrics.create(registry)
        return cls(
            **{f.name: getattr(intake, f.name) for f in fields(intake)},
            consumer_lag=Gauge(
                "yiwang_consumer_lag",
                "Records behind the end of each input partition",
                ["topic", "partition"],
                registry=registry,
            ),
        )

    def record_lag(self, lags: Mapping[TopicPartition, int]) -> int:
        """Set the lag gauge of every input partition (from `streams.lag.group_lag`); the total."""
        for tp, behind in lags.items():
            self.consumer_lag.labels(tp.topic, str(tp.partition)).set(behind)
        return sum(lags.values())
