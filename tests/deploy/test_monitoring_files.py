"""The shipped monitoring files: promtool accepts the Prometheus configuration and the alert
rules, the rules' unit tests pass (each alert fires on a series that should trigger it and
not on one that should not), and the rules and the Grafana dashboard only use metrics that
the processes really export."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client import CollectorRegistry

from config.settings import Settings
from deploy.services.prometheus import MONITORING, ensure_prometheus, promtool
from dispatch.kpi.metrics import DispatchMetrics
from streams.metrics import PipelineMetrics

SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


@pytest.fixture(scope="module")
def prometheus(base_settings: Settings) -> None:
    ensure_prometheus(base_settings)


def exported() -> set[str]:
    registry = CollectorRegistry()
    PipelineMetrics.create(registry)
    DispatchMetrics.create(registry)
    return {m.name for m in registry.collect()}


def used(text: str) -> set[str]:
    """Metric names in PromQL text, with the sample suffixes of counters and histograms removed."""
    known = exported()
    names = set()
    for found in re.findall(r"\byiwang_[a-z_]+", text):
        bare = next((found.removesuffix(s) for s in SUFFIXES if found.removesuffix(s) in known), found)
        names.add(bare)
    return names


def test_promtool_accepts_the_config_and_the_rules(prometheus: None) -> None:
    assert "SUCCESS" in promtool("check", "config", str(MONITORING / "prometheus.yml"))
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", str(MONITORING / "alerts.yml"))


def test_alert_rules_fire_when_they_should(prometheus: None) -> None:
    assert "SUCCESS" in promtool("test", "rules", str(MONITORING / "alerts.test.yml"))


def test_rules_and_dashboard_use_exported_metrics_only() -> None:
    rules = used((MONITORING / "alerts.yml").read_text())
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    panels = used("\n".join(exprs))
    assert rules - exported() == set()
    assert panels - exported() == set()
    assert {"yiwang_consumer_lag", "yiwang_dead_letters", "yiwang_sla_escalations"} <= rules
    assert {
        "yiwang_reports_in",
        "yiwang_stage_seconds",
        "yiwang_report_to_task_seconds",
        "yiwang_open_tasks",
        "yiwang_consumer_lag",
    } <= panels
